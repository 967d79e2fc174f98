/**
 * Records a Pulumi program the way the engine sees it, without the Pulumi CLI or a cloud: the program
 * runs under Pulumi's mocked runtime (`pulumi.runtime.setMocks`,
 * https://www.pulumi.com/docs/iac/concepts/testing/unit/) and every resource registration is kept with its
 * type, name, URN, inputs, parent, dependencies, property dependencies and aliases (the latter four come
 * from the mock monitor's `registerResource` request, which `MockResourceArgs` does not carry).
 *
 * Outputs of new resources are made realistic (ARNs, queue URLs, autonamed names) so that documents
 * rendered from them can be checked; in preview they stay unknown, as in `pulumi preview`. The result is
 * what `runPolicies` (runner.ts) judges. Part of the library's `callback-workflow/policy` entry;
 * nothing here runs on import.
 */
import * as pulumi from "@pulumi/pulumi";

/** The account and region the mocks answer with (getCallerIdentity, getRegion) and put in ARNs. */
export const ACCOUNT_ID = "123456789012";
export const REGION = "eu-west-1";

export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly custom: boolean;
    readonly inputs: Record<string, unknown>;
    /** The mocked outputs (empty in preview). */
    readonly outputs: Record<string, unknown>;
    readonly parent: string | undefined;
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /**
     * The URNs this resource answers to besides its own, as the engine resolves them: its `aliases`, and
     * for each alias of its parent the URN it had under that parent (a name starting with the parent's
     * name follows the parent's old name). A live resource at one of these URNs is kept, not replaced.
     */
    readonly aliases: readonly string[];
}

export interface ProgramRun {
    readonly resources: readonly Registration[];
    /** What the program returned (a module's exports), Outputs resolved (unknowns in preview are `undefined`). */
    readonly exports: Record<string, unknown>;
    /** Function invocations made (data sources), by token. */
    readonly invokes: readonly string[];
    /** Whether it ran as `pulumi preview` does: computed outputs unknown. */
    readonly preview: boolean;
    readonly stack: string;
    readonly project: string;
}

export interface RecordOptions {
    /** The stack's name (default `test`). */
    readonly stack?: string;
    /** The project's name (default `project`). */
    readonly project?: string;
    /**
     * Stack configuration by `namespace:key`, as `pulumi config` holds it: strings as they are, other
     * values JSON-encoded (the object config type). Read by the program through `new pulumi.Config()`.
     */
    readonly config?: Readonly<Record<string, unknown>>;
    /** Run as `pulumi preview` does: computed outputs unknown (default false: as after `pulumi up`). */
    readonly preview?: boolean;
    /**
     * Answers to function invocations (data sources) by token, besides the three the mocks know
     * (aws:index/getPartition, getRegion, getCallerIdentity). An invocation with no answer fails the run.
     */
    readonly calls?: Readonly<Record<string, Record<string, unknown>>>;
}

const SERVICE_OF: Record<string, string> = {
    "aws:sqs/queue:Queue": "sqs",
    "aws:sns/topic:Topic": "sns",
    "aws:iam/role:Role": "iam",
    "aws:lambda/function:Function": "lambda",
    "aws:sfn/stateMachine:StateMachine": "states",
    "aws:cloudwatch/logGroup:LogGroup": "logs",
    "aws:kms/key:Key": "kms",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "cloudwatch",
    "aws:sns/topicSubscription:TopicSubscription": "sns",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "lambda",
};

/** The last segment of an ARN or a name (`arn:aws:lambda:…:function:orders` → `orders`). */
function lastSegment(value: unknown, separator = ":"): string | undefined {
    if (typeof value !== "string" || value === "") {
        return undefined;
    }
    return value.split(separator).pop();
}

/** A Lambda function's name from a name, a function ARN or a qualified function ARN (`…:function:fn:live`). */
function functionNameOf(value: unknown): string | undefined {
    if (typeof value !== "string") {
        return undefined;
    }
    const match = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(value);
    return match?.[1] ?? value;
}

/** The URI API Gateway invokes a function (or alias) by. */
function invokeArnOf(functionArn: string): string {
    return `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${functionArn}/invocations`;
}

/**
 * Computed outputs a real deployment would return, derived from the inputs like AWS derives them. ARN
 * formats: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 * (each service's "Resource types defined by ..." table).
 */
function mockOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const physical =
        typeof inputs["name"] === "string"
            ? inputs["name"]
            : typeof inputs["namePrefix"] === "string"
              ? `${inputs["namePrefix"]}0a1b2c3`
              : `${name}-0a1b2c3`;
    const service = SERVICE_OF[type];
    const outputs: Record<string, unknown> = { ...inputs, name: physical };
    const arn = (svc: string, resource: string, region = REGION, account = ACCOUNT_ID): string =>
        `arn:aws:${svc}:${region}:${account}:${resource}`;
    switch (type) {
        case "aws:sqs/queue:Queue":
            outputs["arn"] = `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${physical}`;
            outputs["url"] = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${physical}`;
            break;
        case "aws:sns/topic:Topic":
            outputs["arn"] = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:${physical}`;
            break;
        case "aws:iam/role:Role":
            outputs["arn"] = `arn:aws:iam::${ACCOUNT_ID}:role/${physical}`;
            break;
        case "aws:iam/policy:Policy":
            outputs["arn"] = `arn:aws:iam::${ACCOUNT_ID}:policy/${physical}`;
            break;
        case "aws:iam/instanceProfile:InstanceProfile":
            outputs["arn"] = `arn:aws:iam::${ACCOUNT_ID}:instance-profile/${physical}`;
            break;
        case "aws:lambda/function:Function": {
            const functionArn = arn("lambda", `function:${physical}`);
            const version = inputs["publish"] === true ? "1" : "$LATEST";
            outputs["arn"] = functionArn;
            outputs["version"] = version;
            outputs["qualifiedArn"] = `${functionArn}:${version}`;
            // https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html
            outputs["invokeArn"] = invokeArnOf(functionArn);
            break;
        }
        case "aws:lambda/alias:Alias": {
            // An alias ARN is its function's ARN qualified by the alias name (functionName: a name or an ARN).
            // https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
            const fn = functionNameOf(inputs["functionName"]) ?? `${name}-function`;
            const aliasArn = arn("lambda", `function:${fn}:${physical}`);
            outputs["arn"] = aliasArn;
            outputs["invokeArn"] = invokeArnOf(aliasArn);
            break;
        }
        case "aws:sfn/stateMachine:StateMachine":
            outputs["arn"] = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:${physical}`;
            break;
        case "aws:sfn/activity:Activity":
            // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-activities.html
            outputs["arn"] = arn("states", `activity:${physical}`);
            break;
        case "aws:cloudwatch/logGroup:LogGroup":
            outputs["arn"] = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:${physical}`;
            break;
        case "aws:kms/key:Key":
            outputs["arn"] = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/0a1b2c3d-${name}`;
            break;
        case "aws:kms/alias:Alias":
            outputs["arn"] = arn("kms", physical); // its name is alias/<name>
            break;
        case "aws:cloudwatch/eventBus:EventBus":
            outputs["arn"] = arn("events", `event-bus/${physical}`);
            break;
        case "aws:cloudwatch/eventRule:EventRule": {
            // A rule on a custom bus has the bus in its ARN: rule/<bus>/<name>.
            const bus = lastSegment(inputs["eventBusName"], "/");
            outputs["arn"] = arn(
                "events",
                bus === undefined || bus === "default" ? `rule/${physical}` : `rule/${bus}/${physical}`,
            );
            break;
        }
        case "aws:scheduler/scheduleGroup:ScheduleGroup":
            outputs["arn"] = arn("scheduler", `schedule-group/${physical}`);
            break;
        case "aws:scheduler/schedule:Schedule":
            outputs["arn"] = arn(
                "scheduler",
                `schedule/${typeof inputs["groupName"] === "string" ? inputs["groupName"] : "default"}/${physical}`,
            );
            break;
        case "aws:pipes/pipe:Pipe":
            outputs["arn"] = arn("pipes", `pipe/${physical}`);
            break;
        case "aws:dynamodb/table:Table": {
            const tableArn = arn("dynamodb", `table/${physical}`);
            outputs["arn"] = tableArn;
            if (inputs["streamEnabled"] === true) {
                // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
                outputs["streamLabel"] = "2026-01-01T00:00:00.000";
                outputs["streamArn"] = `${tableArn}/stream/2026-01-01T00:00:00.000`;
            }
            break;
        }
        case "aws:secretsmanager/secret:Secret":
            // Secrets Manager appends a hyphen and six random characters to a secret's ARN.
            outputs["arn"] = arn("secretsmanager", `secret:${physical}-AbC123`);
            break;
        case "aws:kinesis/stream:Stream":
            outputs["arn"] = arn("kinesis", `stream/${physical}`);
            break;
        case "aws:ecs/cluster:Cluster":
            outputs["arn"] = arn("ecs", `cluster/${physical}`);
            break;
        case "aws:ecs/taskDefinition:TaskDefinition": {
            // Named by its family; every registration is a new revision (the first is 1).
            const family = typeof inputs["family"] === "string" ? inputs["family"] : physical;
            outputs["revision"] = 1;
            const withoutRevision = arn("ecs", `task-definition/${family}`);
            outputs["arnWithoutRevision"] = withoutRevision;
            outputs["arn"] = `${withoutRevision}:1`;
            break;
        }
        case "aws:ecs/service:Service": {
            const cluster = lastSegment(inputs["cluster"], "/") ?? "default";
            outputs["arn"] = arn("ecs", `service/${cluster}/${physical}`);
            break;
        }
        case "aws:apigatewayv2/api:Api": {
            // https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
            const id = `${name}-id`; // the mocks' id of every resource
            outputs["apiEndpoint"] = `https://${id}.execute-api.${REGION}.amazonaws.com`;
            outputs["arn"] = `arn:aws:apigateway:${REGION}::/apis/${id}`;
            outputs["executionArn"] = arn("execute-api", id);
            break;
        }
        case "aws:apigatewayv2/stage:Stage": {
            const apiId = typeof inputs["apiId"] === "string" ? inputs["apiId"] : "api-id";
            outputs["arn"] = `arn:aws:apigateway:${REGION}::/apis/${apiId}/stages/${physical}`;
            outputs["executionArn"] = `${arn("execute-api", apiId)}/${physical}`;
            outputs["invokeUrl"] =
                `https://${apiId}.execute-api.${REGION}.amazonaws.com/${physical === "$default" ? "" : physical}`;
            break;
        }
        case "aws:ec2/vpc:Vpc":
            outputs["arn"] = arn("ec2", `vpc/${name}-id`);
            break;
        case "aws:ec2/subnet:Subnet":
            outputs["arn"] = arn("ec2", `subnet/${name}-id`);
            break;
        case "aws:ec2/securityGroup:SecurityGroup":
            outputs["arn"] = arn("ec2", `security-group/${name}-id`);
            break;
        default:
            if (service !== undefined) {
                outputs["arn"] = `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${physical}`;
            }
    }
    return outputs;
}

const INVOKES: Record<string, Record<string, unknown>> = {
    "aws:index/getPartition:getPartition": {
        id: "aws",
        partition: "aws",
        dnsSuffix: "amazonaws.com",
        reverseDnsPrefix: "com.amazonaws",
    },
    "aws:index/getRegion:getRegion": {
        id: REGION,
        region: REGION,
        name: REGION,
        endpoint: `ec2.${REGION}.amazonaws.com`,
        description: "Europe (Ireland)",
    },
    "aws:index/getCallerIdentity:getCallerIdentity": {
        id: ACCOUNT_ID,
        accountId: ACCOUNT_ID,
        arn: `arn:aws:iam::${ACCOUNT_ID}:user/test`,
        userId: "AIDATEST",
    },
};

interface AliasSpec {
    getName(): string;
    getType(): string;
    getStack(): string;
    getProject(): string;
    getParenturn(): string;
    getNoparent(): boolean;
}

interface MonitorRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getAliasesList(): { getUrn(): string; hasSpec(): boolean; getSpec(): AliasSpec }[];
    getDependenciesList(): string[];
    getPropertydependenciesMap(): {
        forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void;
    };
}

/** The recording in progress: the mocked runtime is one per process, so recordings run one after another. */
let recording: Promise<unknown> = Promise.resolve();

/**
 * Runs `program` (a function that creates resources, such as `() => { new MyStack("app") }`; what it
 * returns, or resolves to, becomes the run's exports) under Pulumi's mocked runtime and returns every
 * registration once all have been made. The mocked runtime is the process's: a program that runs under
 * mocks of its own should not run beside this, and calls made at once run one after another.
 */
export function recordProgram(program: () => unknown, options: RecordOptions = {}): Promise<ProgramRun> {
    const run = recording.then(() => record(program, options));
    recording = run.catch(() => undefined);
    return run;
}

async function record(program: () => unknown, options: RecordOptions): Promise<ProgramRun> {
    const stack = options.stack ?? "test";
    const project = options.project ?? "project";
    const preview = options.preview ?? false;
    const resources: Registration[] = [];
    const invokes: string[] = [];
    const byName = new Map<string, Partial<Registration>>();
    const aliasesByUrn = new Map<string, readonly string[]>();
    const answers = { ...INVOKES, ...options.calls };
    // The mock monitor's URNs keep only the parent's own type; the engine's carry the parent's whole type
    // chain (a resource in a component in a component). Parents are named by the mock's URN in requests.
    const engineUrns = new Map<string, string>();
    const engineUrn = (mockUrn: string | undefined): string | undefined =>
        mockUrn === undefined ? undefined : (engineUrns.get(mockUrn) ?? mockUrn);

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                const outputs = preview
                    ? {}
                    : mockOutputs(args.type, args.name, args.inputs as Record<string, unknown>);
                const entry = byName.get(`${args.type}::${args.name}`) ?? {};
                resources.push({
                    type: args.type,
                    name: args.name,
                    urn: entry.urn ?? "",
                    custom: args.custom ?? true,
                    inputs: args.inputs as Record<string, unknown>,
                    outputs,
                    parent: entry.parent,
                    dependencies: entry.dependencies ?? [],
                    propertyDependencies: entry.propertyDependencies ?? {},
                    aliases: entry.aliases ?? [],
                });
                return { id: preview ? undefined : `${args.name}-id`, state: outputs };
            },
            call: (args) => {
                invokes.push(args.token);
                const result = answers[args.token];
                if (result === undefined) {
                    const message = `The program invoked ${args.token}, which these mocks do not answer: give its result in recordProgram's calls option.`;
                    // The SDK rethrows a failed invoke as `new Error(error.details)`, as it would a gRPC error.
                    throw Object.assign(new Error(message), { details: message });
                }
                return result;
            },
        },
        project,
        stack,
        preview,
    );
    pulumi.runtime.setAllConfig(
        Object.fromEntries(
            Object.entries(options.config ?? {}).map(([key, value]) => [
                key,
                typeof value === "string" ? value : JSON.stringify(value),
            ]),
        ),
    );

    // The mock monitor sees parent and dependencies; MockResourceArgs does not. Record them first.
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(request: MonitorRequest, callback: unknown): void;
        newUrn(parent: string, type: string, name: string): string;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) => {
        const parent = engineUrn(request.getParent() || undefined);
        const propertyDependencies: Record<string, string[]> = {};
        request.getPropertydependenciesMap().forEach((value, key) => {
            propertyDependencies[key] = value.getUrnsList().map((u) => engineUrn(u) ?? u);
        });
        const urn = urnOf(request.getName(), request.getType(), parent, stack, project);
        engineUrns.set(monitor.newUrn(request.getParent(), request.getType(), request.getName()), urn);
        const aliases = resolveAliases(
            request,
            { stack, project },
            (parentUrn) => aliasesByUrn.get(parentUrn),
            (mockUrn) => engineUrn(mockUrn),
        );
        aliasesByUrn.set(urn, aliases);
        byName.set(`${request.getType()}::${request.getName()}`, {
            urn,
            parent,
            dependencies: request.getDependenciesList().map((u) => engineUrn(u) ?? u),
            propertyDependencies,
            aliases,
        });
        register(request, callback);
    };

    const result = await program();
    const programExports = typeof result === "object" && result !== null ? (result as Record<string, unknown>) : {};
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(programExports)) {
        resolved[key] = pulumi.Output.isInstance(value) ? await promiseOf(value) : value;
    }
    await waitForRegistrations();
    return { resources, exports: resolved, invokes, preview, stack, project };
}

/** A URN as the engine builds it: the parent's type chain, then this resource's type and name. */
function urnOf(name: string, type: string, parentUrn: string | undefined, stack: string, project: string): string {
    const parentTypes = parentUrn === undefined ? "" : `${parentUrn.split("::")[2] ?? ""}$`;
    return `urn:pulumi:${stack}::${project}::${parentTypes}${type}::${name}`;
}

/**
 * The alias URNs of a registration, resolved the way the engine resolves alias specs: each spec's
 * unset fields default to the resource's own name, type, parent, stack and project; and every alias of
 * the parent yields one more, the resource under the parent's old URN, its name's parent-name prefix
 * replaced by the parent's old name (Pulumi's convention for children named `<parent>-<suffix>`). A
 * child renamed in the same change as its parent (the engine's combined aliases) is not resolved: it
 * shows as removed, the safe side for a check of what an update would delete.
 */
function resolveAliases(
    request: MonitorRequest,
    defaults: { stack: string; project: string },
    aliasesOf: (parentUrn: string) => readonly string[] | undefined,
    toEngineUrn: (mockUrn: string | undefined) => string | undefined,
): string[] {
    const name = request.getName();
    const type = request.getType();
    const parent = toEngineUrn(request.getParent() || undefined);
    const own = request.getAliasesList().map((alias) => {
        if (!alias.hasSpec()) {
            return alias.getUrn();
        }
        const spec = alias.getSpec();
        return urnOf(
            spec.getName() || name,
            spec.getType() || type,
            spec.getNoparent() ? undefined : (toEngineUrn(spec.getParenturn() || undefined) ?? parent),
            spec.getStack() || defaults.stack,
            spec.getProject() || defaults.project,
        );
    });
    if (parent === undefined) {
        return own;
    }
    const parentName = parent.slice(parent.lastIndexOf("::") + 2);
    const inherited = (aliasesOf(parent) ?? []).map((parentAlias) => {
        const oldParentName = parentAlias.slice(parentAlias.lastIndexOf("::") + 2);
        const oldName = name.startsWith(parentName) ? oldParentName + name.slice(parentName.length) : name;
        return urnOf(oldName, type, parentAlias, defaults.stack, defaults.project);
    });
    return [...new Set([...own, ...inherited])];
}

/** Resolves an Output under mocks: its value, or `undefined` when it is unknown (preview). */
export async function promiseOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
    // `isKnown` and `promise()` are the Output's own (internal) resolution; `apply` never calls back on unknowns.
    const internal = output as unknown as { isKnown: Promise<boolean>; promise(): Promise<T> };
    return (await internal.isKnown) ? internal.promise() : undefined;
}

/** Waits until the runtime has no registration or invoke in flight. */
async function waitForRegistrations(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal of @pulumi/pulumi, not in its typed API
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}
