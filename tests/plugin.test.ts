/**
 * The plugin every Pulumi language uses (plugin/, docs/plugin.md): the schema that Pulumi's own analyzer
 * (`@pulumi/pulumi/provider/experimental`, through the provider's `getSchema`) infers from its TypeScript,
 * and `construct` of each hosted component in process under the mocked runtime, as the engine calls it for a
 * Python, Go, C#, Java or YAML program. Then the YAML example (examples/yaml/) against that schema.
 */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { parse } from "yaml";
import { REPO_ROOT } from "../components/bundle";
import {
    CALLBACK_WORKFLOW_ARG_KEYS,
    CALLBACK_WORKFLOW_TYPE,
    CallbackWorkflow as LibraryCallbackWorkflow,
} from "../components/callback-workflow";
import {
    CALLBACK_CHANNEL_TYPE,
    CHANNEL_ARG_KEYS,
    type CallbackChannel as LibraryCallbackChannel,
} from "../components/channel";
import { SEND_TASK_ACTIONS, type PolicyDocument } from "../components/iam";
import { NODE_RUNTIME_TARGETS } from "../components/limits";
import { BOOLEAN_ARGS, ENUM_ARGS, INTEGER_ARGS } from "../components/settings";
import { WORKFLOW_TYPE } from "../components/workflow";
import { projectConfigDeclarations } from "../local/cli-config";
import { resource, runProgram, type ProgramRun } from "../local/pulumi-program";
import * as plugin from "../plugin/index";
import {
    yamlProgramProblems,
    type ComponentPackageSchema,
    type PropertySpec,
    type YamlProgram,
} from "./harness/yaml-program";

const PLUGIN_DIR = path.join(REPO_ROOT, "plugin");
const EXAMPLE = path.join(REPO_ROOT, "examples", "yaml", "Pulumi.yaml");
/** Where the user's text about other languages is: its README section, drafted in docs/ first. */
const LANGUAGE_DOCS = [path.join(REPO_ROOT, "README.md"), path.join(REPO_ROOT, "docs", "readme-languages.md")];

// Compile-time: every output a hosted class declares is a property of the library's component, of its type.
type Declared<C> = Omit<C, keyof pulumi.ComponentResource>;
const workflowOutputs = (c: LibraryCallbackWorkflow): Declared<plugin.CallbackWorkflow> => c;
const channelOutputs = (c: LibraryCallbackChannel): Declared<plugin.CallbackChannel> => c;
void workflowOutputs;
void channelOutputs;

/** The provider run-plugin makes of the plugin: the components its entry exports, named by its package.json. */
function pluginProvider(): ComponentProvider {
    const manifest = JSON.parse(readFileSync(path.join(PLUGIN_DIR, "package.json"), "utf8")) as { name: string };
    return new ComponentProvider({ name: manifest.name, dirname: PLUGIN_DIR, components: getPulumiComponents(plugin) });
}

let analyzed: Promise<{ provider: ComponentProvider; schema: ComponentPackageSchema }> | undefined;
/** One provider for the file: its getSchema runs the analyzer, which type-checks the plugin (seconds). */
function analyzedPlugin(): Promise<{ provider: ComponentProvider; schema: ComponentPackageSchema }> {
    analyzed ??= (async () => {
        const provider = pluginProvider();
        return { provider, schema: JSON.parse(await provider.getSchema()) as ComponentPackageSchema };
    })();
    return analyzed;
}

const NUMBER = { type: "number", plain: true } as const;
const STRING = { type: "string", plain: true } as const;
const BOOLEAN = { type: "boolean", plain: true } as const;
/** `pulumi.Input<string>`: an output of another resource may be given. */
const INPUT_STRING = { type: "string" } as const;
const ref = (name: string) => ({ $ref: `#/types/callback:index:${name}`, plain: true });
const list = (items: PropertySpec) => ({ type: "array", items, plain: true });

/** The inputs both components take, and their schema types. */
const SHARED_INPUTS: Record<string, PropertySpec> = {
    heartbeatSeconds: NUMBER,
    maxReceiveCount: NUMBER,
    workerTimeoutSeconds: NUMBER,
    workerMemoryMb: NUMBER,
    workerConcurrency: NUMBER,
    batchSize: NUMBER,
    batchingWindowSeconds: NUMBER,
    maxConcurrency: NUMBER,
    queueRetentionSeconds: NUMBER,
    dlqRetentionSeconds: NUMBER,
    logRetentionDays: NUMBER,
    runtime: ref("LambdaRuntime"),
    workerLogLevel: ref("WorkerLogLevel"),
    kmsKey: INPUT_STRING,
    alarms: BOOLEAN,
    alarmTopicArn: INPUT_STRING,
    alarmEmails: list(STRING),
    workerEntry: STRING,
    tags: { type: "object", additionalProperties: STRING, plain: true },
};

const EXPECTED_INPUTS: Record<string, Record<string, PropertySpec>> = {
    [CALLBACK_WORKFLOW_TYPE]: {
        ...SHARED_INPUTS,
        taskTimeoutSeconds: NUMBER,
        stateMachineLogLevel: ref("StateMachineLogLevel"),
        includeExecutionData: BOOLEAN,
        tracing: BOOLEAN,
        subscriptions: list(ref("TopicSubscription")),
        messageTitle: STRING,
        approvers: list(STRING),
    },
    [CALLBACK_CHANNEL_TYPE]: {
        ...SHARED_INPUTS,
        queueAgeAlarmSeconds: NUMBER,
        workerActions: list(ref("SendTaskAction")),
        workerEnvironment: { type: "object", additionalProperties: { type: "string" }, plain: true },
        answerers: list(ref("ChannelAnswerer")),
        stateMachineArns: list({ type: "string" }),
        stateMachineKmsKeyArn: INPUT_STRING,
    },
};

const QUEUE_OUTPUTS = ["queueUrl", "queueArn", "dlqUrl", "dlqArn", "workerName", "workerArn", "workerLogGroupName"];
const EXPECTED_OUTPUTS: Record<string, { required: string[]; optional: string[] }> = {
    [CALLBACK_WORKFLOW_TYPE]: {
        required: [...QUEUE_OUTPUTS, "stateMachineArn", "stateMachineName", "topicArn", "stateMachineLogGroupName"],
        optional: ["alarmTopicArn", "kmsKeyArn"],
    },
    [CALLBACK_CHANNEL_TYPE]: {
        required: [...QUEUE_OUTPUTS, "workerRoleName", "workerRoleArn"],
        optional: ["alarmTopicArn", "kmsKeyArn"],
    },
};

/** The property without what the check compares apart (its description, its optional flag). */
function shape(spec: PropertySpec | undefined): unknown {
    if (spec === undefined) {
        return undefined;
    }
    const {
        description: _description,
        optional: _optional,
        items,
        additionalProperties,
        ...rest
    } = spec as PropertySpec & { optional?: boolean };
    return {
        ...rest,
        ...(items !== undefined ? { items: shape(items) } : {}),
        ...(additionalProperties !== undefined ? { additionalProperties: shape(additionalProperties) } : {}),
    };
}

/** A construct as the engine makes it for another language's program, on the mocked runtime. */
async function construct(
    provider: ComponentProvider,
    type: string,
    name: string,
    inputs: pulumi.Inputs,
): Promise<ProgramRun> {
    return runProgram(async () => {
        const result = await provider.construct(name, type, inputs, {});
        return { urn: result.urn, ...result.state };
    });
}

/**
 * A value with every promise inside replaced by what it resolves to (an asset's text is one): two runs'
 * promises are different objects, and carry async-hook ids when a hook is on in the process.
 */
async function settled(value: unknown): Promise<unknown> {
    if (value instanceof Promise) {
        return settled(await value);
    }
    if (Array.isArray(value)) {
        return Promise.all(value.map(settled));
    }
    if (typeof value === "object" && value !== null) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await settled(v)] as const));
        return Object.assign(
            Object.create(Object.getPrototypeOf(value) as object) as object,
            Object.fromEntries(entries),
        );
    }
    return value;
}

/** The registrations of a run, comparable across runs: URN, parent and inputs. */
async function registrations(run: ProgramRun): Promise<[string, { parent: string | undefined; inputs: unknown }][]> {
    const all = await Promise.all(
        run.resources.map(
            async (r) =>
                [r.urn, { parent: r.parent, inputs: await settled(r.inputs) }] as [
                    string,
                    { parent: string | undefined; inputs: unknown },
                ],
        ),
    );
    return all.sort(([a], [b]) => a.localeCompare(b));
}

describe("the plugin for every Pulumi language: schema and construct", function () {
    // The analyzer type-checks the plugin's TypeScript once (several seconds on a busy machine).
    this.timeout(120_000);
    let provider: ComponentProvider;
    let schema: ComponentPackageSchema;

    before(async () => {
        ({ provider, schema } = await analyzedPlugin());
    });

    it("must host exactly CallbackWorkflow and CallbackChannel, under the library's own type tokens", () => {
        assert.deepEqual(
            getPulumiComponents(plugin).map((c) => c.name),
            ["CallbackWorkflow", "CallbackChannel"],
        );
        assert.equal(schema.name, "callback");
        assert.deepEqual(Object.keys(schema.resources).sort(), [CALLBACK_CHANNEL_TYPE, CALLBACK_WORKFLOW_TYPE].sort());
        const manifest = JSON.parse(readFileSync(path.join(PLUGIN_DIR, "package.json"), "utf8")) as { version: string };
        const library = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
        assert.equal(schema.version, library.version, "the plugin's version is the library's");
        assert.equal(manifest.version, library.version);
        for (const spec of Object.values(schema.resources)) {
            assert.equal((spec as { isComponent?: boolean }).isComponent, true);
            assert.ok((spec as { description?: string }).description, "every component is described");
        }
    });

    it("must offer every argument the library takes, each documented and typed, none required", () => {
        const libraryKeys: Record<string, readonly string[]> = {
            [CALLBACK_WORKFLOW_TYPE]: CALLBACK_WORKFLOW_ARG_KEYS,
            [CALLBACK_CHANNEL_TYPE]: CHANNEL_ARG_KEYS,
        };
        for (const [type, expected] of Object.entries(EXPECTED_INPUTS)) {
            const spec = schema.resources[type];
            assert.ok(spec !== undefined);
            assert.deepEqual(Object.keys(spec.inputProperties).sort(), [...(libraryKeys[type] ?? [])].sort(), type);
            assert.deepEqual(Object.keys(spec.inputProperties).sort(), Object.keys(expected).sort(), type);
            for (const [key, property] of Object.entries(spec.inputProperties)) {
                assert.deepEqual(shape(property), expected[key], `${type} ${key}`);
                assert.ok((property.description ?? "").length > 20, `${type} ${key} is documented`);
            }
            assert.deepEqual(spec.requiredInputs, [], `${type}: every argument has a default`);
        }
    });

    it("must state each default the library applies in the argument's description", () => {
        const defaults: [string, string[]][] = [
            ...Object.entries(INTEGER_ARGS).flatMap(([key, spec]): [string, string[]][] =>
                spec.default === undefined
                    ? []
                    : [[key, [`Default ${spec.default}`, `Default ${spec.default.toLocaleString("en-US")}`]]],
            ),
            ...Object.entries(ENUM_ARGS).map(([key, spec]): [string, string[]] => [
                key,
                [`Default \`${spec.default}\``],
            ]),
            ...Object.entries(BOOLEAN_ARGS).map(([key, spec]): [string, string[]] => [
                key,
                [`Default ${spec.default}`],
            ]),
        ];
        for (const [type, spec] of Object.entries(schema.resources)) {
            for (const [key, forms] of defaults) {
                const description = spec.inputProperties[key]?.description;
                if (description !== undefined) {
                    assert.ok(
                        forms.some((form) =>
                            new RegExp(`${form.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\d,])`).test(description),
                        ),
                        `${type} ${key}: "${description}" states ${forms.join(" or ")}`,
                    );
                }
            }
        }
    });

    it("must offer exactly the values the library accepts as enums, and its object types with their required fields", () => {
        const values = (name: string): unknown[] =>
            (schema.types[`callback:index:${name}`]?.enum ?? []).map((m) => m.value);
        assert.deepEqual(values("LambdaRuntime").sort(), Object.keys(NODE_RUNTIME_TARGETS).sort());
        assert.deepEqual(values("StateMachineLogLevel").sort(), [...ENUM_ARGS.stateMachineLogLevel.allowed].sort());
        assert.deepEqual(values("WorkerLogLevel").sort(), [...ENUM_ARGS.workerLogLevel.allowed].sort());
        assert.deepEqual(values("SendTaskAction").sort(), [...SEND_TASK_ACTIONS].sort());
        // sqs is refused by the library (SNS cannot deliver without the queue's own policy): not offered.
        assert.deepEqual(values("SubscriptionProtocol").sort(), ["email", "https"]);

        const subscription = schema.types["callback:index:TopicSubscription"];
        assert.deepEqual(subscription?.required, ["endpoint", "protocol"]);
        assert.deepEqual(shape(subscription?.properties?.["protocol"]), ref("SubscriptionProtocol"));
        assert.deepEqual(shape(subscription?.properties?.["endpoint"]), STRING);
        const answerer = schema.types["callback:index:ChannelAnswerer"];
        assert.deepEqual(answerer?.required, ["roleName"]);
        assert.deepEqual(shape(answerer?.properties?.["roleName"]), INPUT_STRING);
        assert.deepEqual(shape(answerer?.properties?.["actions"]), list(ref("SendTaskAction")));
        assert.deepEqual(
            Object.keys(schema.types).sort(),
            [
                "ChannelAnswerer",
                "LambdaRuntime",
                "SendTaskAction",
                "StateMachineLogLevel",
                "SubscriptionProtocol",
                "TopicSubscription",
                "WorkerLogLevel",
            ].map((name) => `callback:index:${name}`),
        );
        for (const [name, type] of Object.entries(schema.types)) {
            for (const [key, property] of Object.entries(type.properties ?? {})) {
                assert.ok(property.description, `${name}.${key} is documented`);
            }
        }
    });

    it("must report each component's Output properties, described, the optional ones only when unset can be", () => {
        for (const [type, expected] of Object.entries(EXPECTED_OUTPUTS)) {
            const spec = schema.resources[type];
            assert.ok(spec !== undefined);
            assert.deepEqual(Object.keys(spec.properties).sort(), [...expected.required, ...expected.optional].sort());
            assert.deepEqual((spec as { required?: string[] }).required, [...expected.required].sort(), type);
            for (const [key, property] of Object.entries(spec.properties)) {
                assert.deepEqual(shape(property), { type: "string" }, `${type} ${key}`);
                assert.ok(property.description, `${type} ${key} is described`);
            }
        }
    });

    it("must construct callback:index:CallbackWorkflow as the library's component: the same children, URNs and inputs", async () => {
        const args = {
            taskTimeoutSeconds: 7200,
            heartbeatSeconds: 600,
            subscriptions: [{ protocol: "email", endpoint: "orders-team@example.com" }],
            tags: { team: "orders" },
        } satisfies plugin.CallbackWorkflowArgs;
        const hosted = await construct(provider, CALLBACK_WORKFLOW_TYPE, "orders", args);
        const direct = await runProgram(() => {
            new LibraryCallbackWorkflow("orders", args);
        });
        assert.deepEqual(await registrations(hosted), await registrations(direct));

        const component = resource(hosted, CALLBACK_WORKFLOW_TYPE, "orders");
        const children = (parent: string): string[] =>
            hosted.resources
                .filter((r) => r.parent === parent)
                .map((r) => `${r.type} ${r.name}`)
                .sort();
        assert.deepEqual(children(component.urn), [
            "aws:sns/topic:Topic orders-alarms",
            "aws:sns/topic:Topic orders-topic",
            "aws:sns/topicPolicy:TopicPolicy orders-alarms-policy",
            "aws:sns/topicPolicy:TopicPolicy orders-topic-policy",
            "aws:sns/topicSubscription:TopicSubscription orders-subscription-0",
            `${CALLBACK_CHANNEL_TYPE} orders`,
            `${WORKFLOW_TYPE} orders`,
        ]);
        const channel = resource(hosted, CALLBACK_CHANNEL_TYPE, "orders");
        const workflow = resource(hosted, WORKFLOW_TYPE, "orders");
        for (const child of [
            "aws:lambda/function:Function orders-worker",
            "aws:sqs/queue:Queue orders-queue",
            "aws:sqs/queue:Queue orders-dlq",
            "aws:cloudwatch/metricAlarm:MetricAlarm orders-dlq-not-empty",
            "aws:cloudwatch/metricAlarm:MetricAlarm orders-queue-oldest-message",
        ]) {
            assert.ok(children(channel.urn).includes(child), `the channel holds ${child}`);
        }
        for (const child of [
            "aws:sfn/stateMachine:StateMachine orders-state-machine",
            "aws:iam/rolePolicy:RolePolicy orders-answer",
            "aws:cloudwatch/metricAlarm:MetricAlarm orders-executions-failed",
        ]) {
            assert.ok(children(workflow.urn).includes(child), `the workflow holds ${child}`);
        }
        assert.equal(
            resource(hosted, "aws:sns/topicSubscription:TopicSubscription", "orders-subscription-0").inputs["endpoint"],
            "orders-team@example.com",
        );

        // The state the engine gets back: the component's URN and every output of the schema.
        assert.equal(hosted.exports["urn"], component.urn);
        for (const key of [...(EXPECTED_OUTPUTS[CALLBACK_WORKFLOW_TYPE]?.required ?? []), "alarmTopicArn"]) {
            assert.equal(typeof hosted.exports[key], "string", `${key} is returned`);
        }
        assert.match(
            String(hosted.exports["stateMachineArn"]),
            /^arn:aws:states:[^:]+:\d{12}:stateMachine:orders-state-machine-/,
        );
        assert.equal(hosted.exports["kmsKeyArn"], undefined, "no customer key unless kmsKey is set");
    });

    it("must construct callback:index:CallbackChannel answering a state machine of another language by its ARN", async () => {
        const machineArn = "arn:aws:states:eu-west-1:123456789012:stateMachine:approvals";
        const run = await construct(provider, CALLBACK_CHANNEL_TYPE, "approvals", {
            heartbeatSeconds: 900,
            // As the engine passes another resource's output: an Output inside the list.
            stateMachineArns: [pulumi.output(machineArn)],
            answerers: [{ roleName: "approval-page", actions: ["states:SendTaskSuccess", "states:SendTaskFailure"] }],
        } satisfies plugin.CallbackChannelArgs);
        const channel = resource(run, CALLBACK_CHANNEL_TYPE, "approvals");
        assert.equal(channel.parent, undefined, "a top-level resource of the program that constructs it");
        const grant = (name: string) =>
            JSON.parse(String(resource(run, "aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])) as PolicyDocument;
        const worker = grant("approvals-external-answer");
        const page = grant("approvals-external-answer-1");
        for (const document of [worker, page]) {
            assert.deepEqual(
                document.Statement.flatMap((s) => [s.Resource].flat()),
                [machineArn],
                "answers are granted on exactly that state machine",
            );
        }
        assert.deepEqual(
            worker.Statement.flatMap((s) => [s.Action].flat()),
            [...SEND_TASK_ACTIONS],
        );
        assert.deepEqual(
            page.Statement.flatMap((s) => [s.Action].flat()),
            ["states:SendTaskSuccess", "states:SendTaskFailure"],
        );
        assert.equal(
            resource(run, "aws:iam/rolePolicy:RolePolicy", "approvals-external-answer-1").inputs["role"],
            "approval-page",
        );
        assert.match(String(run.exports["queueUrl"]), /^https:\/\/sqs\./);
        assert.match(String(run.exports["workerRoleName"]), /^approvals-worker-role/);
    });

    it("must refuse, through construct, an argument the library refuses, before registering anything", async () => {
        await assert.rejects(
            construct(provider, CALLBACK_WORKFLOW_TYPE, "orders", { taskTimeoutSecond: 3600 }),
            (error: unknown) =>
                pulumi.InputPropertiesError.isInstance(error) &&
                error.errors.some(
                    (e) => e.propertyPath === "taskTimeoutSecond" && /did you mean `taskTimeoutSeconds`/.test(e.reason),
                ),
        );
        await assert.rejects(
            provider.construct("flow", WORKFLOW_TYPE, {}, {}),
            /Component class not found for 'Workflow'/,
            "Workflow takes a typed ASL definition: it is not hosted",
        );
    });
});

describe("the YAML example against the plugin's schema", function () {
    this.timeout(120_000);
    let schema: ComponentPackageSchema;
    let provider: ComponentProvider;
    const text = readFileSync(EXAMPLE, "utf8");
    const program = parse(text) as YamlProgram;

    before(async () => {
        ({ provider, schema } = await analyzedPlugin());
    });

    it("must declare the plugin as `pulumi package add` records it and use both components correctly", () => {
        assert.equal(program.runtime, "yaml");
        assert.deepEqual(projectConfigDeclarations(program).problems, [], "the CLI's rules for a project file");
        const source = program.packages?.["callback"];
        assert.equal(typeof source, "string");
        assert.equal(path.resolve(path.dirname(EXAMPLE), String(source)), PLUGIN_DIR);
        assert.deepEqual(
            Object.values(program.resources ?? {})
                .map((r) => r.type)
                .sort(),
            [CALLBACK_CHANNEL_TYPE, CALLBACK_WORKFLOW_TYPE].sort(),
        );
        assert.deepEqual(yamlProgramProblems(program, schema), []);
    });

    it("must hold the documentation's YAML examples to the schema too", () => {
        const blocks = LANGUAGE_DOCS.filter((file) => existsSync(file)).flatMap((file) =>
            [...readFileSync(file, "utf8").matchAll(/^```yaml\n([\s\S]*?)^```$/gm)]
                .map((match) => match[1] ?? "")
                .filter((block) => block.includes("type: callback:index:"))
                .map((block) => [path.relative(REPO_ROOT, file), block] as const),
        );
        assert.ok(blocks.length > 0, "the documentation shows the components in YAML");
        for (const [file, block] of blocks) {
            assert.deepEqual(yamlProgramProblems(parse(block) as YamlProgram, schema), [], file);
        }
    });

    it("must reject a copy with a misspelt property, a value outside an enum, a missing required field, an unknown output", () => {
        const broken = (from: string, to: string): string[] => {
            assert.ok(text.includes(from), `the example has ${from}`);
            return yamlProgramProblems(parse(text.replace(from, to)) as YamlProgram, schema);
        };
        assert.deepEqual(broken("taskTimeoutSeconds: 7200", "taskTimeoutSecond: 7200"), [
            "resources.orders.properties.taskTimeoutSecond: is not a property: did you mean `taskTimeoutSeconds`?",
        ]);
        assert.deepEqual(broken("runtime: nodejs24.x", "runtime: nodejs20.x"), [
            'resources.orders.properties.runtime: must be one of "nodejs22.x", "nodejs24.x" (got "nodejs20.x").',
        ]);
        assert.deepEqual(broken("          endpoint: orders-team@example.com\n", ""), [
            "resources.orders.properties.subscriptions[0].endpoint: is required.",
        ]);
        assert.deepEqual(broken("maxReceiveCount: 3", "maxReceiveCount: three"), [
            'resources.approvals.properties.maxReceiveCount: must be a number (got "three").',
        ]);
        assert.deepEqual(broken("${approvals.queueUrl}", "${approvals.queueURL}"), [
            "outputs.approvalsQueueUrl: ${approvals.queueURL}: queueURL is not an output of approvals: did you mean `queueUrl`?",
        ]);
        assert.deepEqual(broken("type: callback:index:CallbackChannel", "type: callback:index:CallbackChanel"), [
            "resources.approvals.type: callback:index:CallbackChanel is not a resource of the package: did you mean `callback:index:CallbackChannel`?",
        ]);
    });

    it("must construct each resource of the example with its properties, the library accepting them", async () => {
        const approvalMachineArn = "arn:aws:states:eu-west-1:123456789012:stateMachine:approvals";
        const resolve = (value: unknown): unknown =>
            value === "${approvalMachineArn}"
                ? approvalMachineArn
                : Array.isArray(value)
                  ? value.map(resolve)
                  : typeof value === "object" && value !== null
                    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]))
                    : value;
        for (const [name, declaration] of Object.entries(program.resources ?? {})) {
            const run = await construct(
                provider,
                String(declaration.type),
                name,
                resolve(declaration.properties ?? {}) as pulumi.Inputs,
            );
            assert.ok(resource(run, String(declaration.type), name));
            for (const [output, reference] of Object.entries(program.outputs ?? {})) {
                const match = /^\$\{([^.]+)\.(.+)\}$/.exec(String(reference));
                if (match?.[1] === name) {
                    assert.equal(typeof run.exports[match[2] ?? ""], "string", `${output} resolves`);
                }
            }
        }
    });
});
