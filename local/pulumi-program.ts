/**
 * Runs a Pulumi program under the mocked runtime and records every resource registration as the engine
 * sees it: type, name, URN, inputs, parent, dependencies, property dependencies and aliases (the latter
 * four come from the mock monitor's `registerResource` request, which `MockResourceArgs` does not carry).
 *
 * Outputs of new resources are made realistic (ARNs, queue URLs, autonamed names) so that documents
 * rendered from them can be checked; in preview mode they stay unknown, as in `pulumi preview`.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { REPO_ROOT } from "../components/bundle";

export const ACCOUNT_ID = "123456789012";
export const REGION = "eu-west-1";
export const PROJECT = "callback-workflow";

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
    /** The program module's exports, resolved (unknowns in preview are `undefined`). */
    readonly exports: Record<string, unknown>;
    /** Function invocations made (data sources), by token. */
    readonly invokes: readonly string[];
}

export interface RunOptions {
    readonly stack?: string;
    /** Stack configuration, `namespace:key` → string (objects JSON-encoded), as PULUMI_CONFIG carries it. */
    readonly config?: Record<string, string>;
    readonly preview?: boolean;
    /** The project name the mocks report. Default {@link PROJECT}. */
    readonly project?: string;
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

/** Computed outputs a real deployment would return, derived from the inputs like AWS derives them. */
function mockOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const physical =
        typeof inputs["name"] === "string"
            ? inputs["name"]
            : typeof inputs["namePrefix"] === "string"
              ? `${inputs["namePrefix"]}0a1b2c3`
              : `${name}-0a1b2c3`;
    const service = SERVICE_OF[type];
    const outputs: Record<string, unknown> = { ...inputs, name: physical };
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
        case "aws:lambda/function:Function":
            outputs["arn"] = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${physical}`;
            break;
        case "aws:sfn/stateMachine:StateMachine":
            outputs["arn"] = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:${physical}`;
            break;
        case "aws:cloudwatch/logGroup:LogGroup":
            outputs["arn"] = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:${physical}`;
            break;
        case "aws:kms/key:Key":
            outputs["arn"] = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/0a1b2c3d-${name}`;
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

/**
 * Evaluates `program` (a function creating resources, or a module path to require afresh) under mocks
 * and returns what it registered, once every registration has been made.
 */
export async function runProgram(program: string | (() => unknown), options: RunOptions = {}): Promise<ProgramRun> {
    const stack = options.stack ?? "test";
    const preview = options.preview ?? false;
    const resources: Registration[] = [];
    const invokes: string[] = [];
    const byName = new Map<string, Partial<Registration>>();
    const aliasesByUrn = new Map<string, readonly string[]>();
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
                const result = INVOKES[args.token];
                if (result === undefined) {
                    throw new Error(`The program invoked ${args.token}, which these mocks do not answer.`);
                }
                return result;
            },
        },
        options.project ?? PROJECT,
        stack,
        preview,
    );
    pulumi.runtime.setAllConfig(options.config ?? {});

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
        const project = options.project ?? PROJECT;
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

    let programExports: Record<string, unknown>;
    if (typeof program === "string") {
        const file = path.resolve(REPO_ROOT, program);
        forgetProgramModules();
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- require.cache lets each run evaluate the program afresh
        programExports = require(file) as Record<string, unknown>;
    } else {
        const result = await program();
        programExports = typeof result === "object" && result !== null ? (result as Record<string, unknown>) : {};
    }
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(programExports)) {
        resolved[key] = pulumi.Output.isInstance(value) ? await promiseOf(value) : value;
    }
    await waitForRegistrations();
    return { resources, exports: resolved, invokes };
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

/** Drops the project's own compiled modules (not bundle.js: it caches bundles) so a program runs afresh. */
function forgetProgramModules(): void {
    const build = path.join(REPO_ROOT, "build");
    for (const key of Object.keys(require.cache)) {
        if (
            key.startsWith(build) &&
            !key.includes(`${path.sep}tests${path.sep}`) &&
            !key.endsWith(`${path.sep}bundle.js`)
        ) {
            delete require.cache[key];
        }
    }
}

/** Resources of one type token. */
export function ofType(run: ProgramRun, type: string): Registration[] {
    return run.resources.filter((r) => r.type === type);
}

/** The one resource of a type with a logical name; throws when there is not exactly one. */
export function resource(run: ProgramRun, type: string, name: string): Registration {
    const found = run.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
        throw new Error(`Expected one ${type} named ${name}, found ${found.length}.`);
    }
    return found[0] as Registration;
}
