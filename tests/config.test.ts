import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { CALLBACK_WORKFLOW_ARG_KEYS, CallbackWorkflow } from "../components/callback-workflow";
import { CONFIG_DECLARATIONS, CONFIG_KEYS, CONFIG_NAMESPACE, type StackConfigError } from "../components/config";
import { BOOLEAN_ARGS, DEFAULT_MESSAGE_TITLE, ENUM_ARGS, INTEGER_ARGS } from "../components/settings";
import { PROJECT, runProgram } from "../local/pulumi-program";
import { projectFile, stackConfig } from "../local/stack-config";

/**
 * Runs the program with `config` (keys without namespace) and returns the error it stops with. The
 * program's modules are loaded afresh per run, so the error is matched by name, not by class.
 */
async function configError(config: Record<string, string>): Promise<StackConfigError> {
    const namespaced = Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, value]));
    try {
        await runProgram("build/index.js", { stack: "bad", config: namespaced });
    } catch (error) {
        assert.equal((error as Error).name, "StackConfigError", `expected a StackConfigError, got ${String(error)}`);
        assert.ok(error instanceof pulumi.RunError, "reported by Pulumi without a stack trace");
        return error as StackConfigError;
    }
    assert.fail("the program accepted the configuration");
}

describe("stack configuration", function () {
    this.timeout(20_000);

    const cases: Array<[string, Record<string, string>, string]> = [
        [
            "a number that is not an integer",
            { workerTimeoutSeconds: "2.5" },
            `${PROJECT}:workerTimeoutSeconds must be an integer from 3 to 900 (got "2.5").`,
        ],
        [
            "a number out of range",
            { workerTimeoutSeconds: "1000" },
            `${PROJECT}:workerTimeoutSeconds must be an integer from 3 to 900 (got 1000).`,
        ],
        [
            "text for a number",
            { maxReceiveCount: "five" },
            `${PROJECT}:maxReceiveCount must be an integer from 2 to 20 (got "five").`,
        ],
        [
            "a boolean that is not true or false",
            { alarms: "yes" },
            `${PROJECT}:alarms must be true or false (got "yes").`,
        ],
        [
            "an unknown runtime",
            { runtime: "nodejs20.x" },
            `${PROJECT}:runtime must be one of nodejs22.x, nodejs24.x (got "nodejs20.x").`,
        ],
        [
            "a heartbeat below its range (0 means none)",
            { heartbeatSeconds: "2" },
            `${PROJECT}:heartbeatSeconds must be an integer from 22 to 31535979 (got 2).`,
        ],
        [
            "an unknown log level",
            { stateMachineLogLevel: "DEBUG" },
            `${PROJECT}:stateMachineLogLevel must be one of ALL, ERROR, FATAL, OFF (got "DEBUG").`,
        ],
        [
            "a retention CloudWatch does not accept",
            { logRetentionDays: "10" },
            `${PROJECT}:logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 10).`,
        ],
        [
            "a heartbeat not below the timeout",
            { taskTimeoutSeconds: "900", heartbeatSeconds: "900" },
            `${PROJECT}:heartbeatSeconds must be less than taskTimeoutSeconds (got 900 >= 900).`,
        ],
        [
            "a DLQ that keeps messages no longer than its queue",
            { queueRetentionSeconds: "86400", dlqRetentionSeconds: "86400" },
            `${PROJECT}:dlqRetentionSeconds must be greater than queueRetentionSeconds (or 1209600, SQS's maximum), since a message keeps its enqueue time in the DLQ (got 86400 <= 86400).`,
        ],
        [
            "a batch over 10 without a batching window",
            { batchSize: "100" },
            `${PROJECT}:batchingWindowSeconds must be at least 1 when batchSize is over 10 (got 0 with batchSize 100).`,
        ],
        [
            "a key that is neither create nor a KMS ARN",
            { kmsKey: "my-key" },
            `${PROJECT}:kmsKey must be "create" or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) (got "my-key").`,
        ],
        [
            "an alias ARN for the key, which IAM statements cannot name",
            { kmsKey: "arn:aws:kms:eu-west-1:123456789012:alias/callbacks" },
            `${PROJECT}:kmsKey must be the key's ARN, not an alias's: KMS authorises IAM statements against the key's ARN, so the grants would allow nothing and sends and receives would be denied. Find it with \`aws kms describe-key --key-id alias/callbacks --query KeyMetadata.Arn\` (got "arn:aws:kms:eu-west-1:123456789012:alias/callbacks").`,
        ],
        [
            "an alarm topic that is not an SNS ARN",
            { alarmTopicArn: "ops" },
            `${PROJECT}:alarmTopicArn must be an SNS topic ARN (got "ops").`,
        ],
        [
            "an alarm email that is not an address",
            { alarmEmails: '["oncall"]' },
            `${PROJECT}:alarmEmails[0] must be an email address (got "oncall").`,
        ],
        [
            "a subscription with an unknown protocol",
            { subscriptions: '[{"protocol":"sms","endpoint":"+1555"}]' },
            `${PROJECT}:subscriptions[0] must be {protocol: "email", endpoint: <address>} or {protocol: "https", endpoint: "https://..."} (got {"protocol":"sms","endpoint":"+1555"}).`,
        ],
        [
            "an SQS subscription, which no queue policy would let the topic deliver to",
            {
                subscriptions: JSON.stringify([
                    { protocol: "sqs", endpoint: "arn:aws:sqs:eu-west-1:123456789012:inbox" },
                ]),
            },
            `${PROJECT}:subscriptions[0] cannot be an SQS queue: SNS delivers nothing to it until the queue's policy allows this topic, and this component cannot set another queue's policy without replacing it. Subscribe it beside the workflow: an aws.sns.TopicSubscription on the topicArn output, and on the queue a policy statement {Effect: "Allow", Principal: {Service: "sns.amazonaws.com"}, Action: "sqs:SendMessage", Resource: <queue ARN>, Condition: {ArnEquals: {"aws:SourceArn": <topicArn>}}} (got {"protocol":"sqs","endpoint":"arn:aws:sqs:eu-west-1:123456789012:inbox"}).`,
        ],
        [
            "subscriptions that are not a list",
            { subscriptions: '{"protocol":"email"}' },
            `${PROJECT}:subscriptions must be a list (got {"protocol":"email"}).`,
        ],
        [
            "tags that are not strings",
            { tags: '{"team":42}' },
            `${PROJECT}:tags must map tag names to strings (got {"team":42}).`,
        ],
        [
            "a key the program does not read",
            { workerTimeout: "30" },
            `${PROJECT}:workerTimeout is not a setting of this program; the settings are: ${CONFIG_KEYS.join(", ")}.`,
        ],
    ];
    for (const [what, config, message] of cases) {
        it(`must refuse ${what}, naming the key, the value and what is allowed`, async () => {
            const error = await configError(config);
            assert.deepEqual(error.problems, [message]);
        });
    }

    it("must report every bad key together, before creating anything", async () => {
        const error = await configError({ workerTimeoutSeconds: "0", alarms: "maybe", typo: "1" });
        assert.equal(
            error.message,
            [
                'Invalid configuration for stack "bad":',
                `- ${PROJECT}:alarms must be true or false (got "maybe").`,
                `- ${PROJECT}:typo is not a setting of this program; the settings are: ${CONFIG_KEYS.join(", ")}.`,
                `- ${PROJECT}:workerTimeoutSeconds must be an integer from 3 to 900 (got 0).`,
            ].join("\n"),
        );
    });

    it("must read its settings under the callback-workflow namespace whatever the running project is called", async () => {
        const run = await runProgram("build/index.js", {
            project: "renamed-project",
            config: { [`${CONFIG_NAMESPACE}:workerMemoryMb`]: "1024" },
        });
        const worker = run.resources.find((r) => r.type === "aws:lambda/function:Function");
        assert.equal(worker?.inputs["memorySize"], 1024);
    });

    it("must differ between dev and prod where environments should", () => {
        const dev = stackConfig("dev");
        const prod = stackConfig("prod");
        for (const key of [
            "logRetentionDays",
            "maxConcurrency",
            "alarms",
            "stateMachineLogLevel",
            "workerLogLevel",
            "queueRetentionSeconds",
        ]) {
            assert.notEqual(dev[`${PROJECT}:${key}`], prod[`${PROJECT}:${key}`], key);
        }
        assert.equal(dev[`${PROJECT}:kmsKey`], "", "the declared default: no customer key");
        assert.equal(prod[`${PROJECT}:kmsKey`], "create");
    });

    it("must declare every setting in Pulumi.yaml with the program's type and default, and a description", () => {
        const project = projectFile();
        assert.equal(project.name, CONFIG_NAMESPACE, "the config namespace is the project name");
        const declared = project.config ?? {};
        assert.deepEqual(
            Object.keys(declared).sort(),
            [...CONFIG_KEYS].sort(),
            "Pulumi.yaml declares exactly the program's keys",
        );
        for (const [key, spec] of Object.entries(declared)) {
            const expected = CONFIG_DECLARATIONS[key];
            assert.ok(expected, key);
            assert.deepEqual(
                { type: spec.type, items: spec.items, default: spec.default },
                { type: expected.type, items: expected.items, default: expected.default },
                `declaration of ${key}`,
            );
            assert.ok((spec.description ?? "").length > 20, `${key} has no description`);
        }
        // The defaults the program applies are the ones the project file declares.
        const defaults: Record<string, unknown> = {
            ...Object.fromEntries(Object.entries(INTEGER_ARGS).map(([k, v]) => [k, v.default ?? 0])),
            ...Object.fromEntries(Object.entries(ENUM_ARGS).map(([k, v]) => [k, v.default])),
            ...Object.fromEntries(Object.entries(BOOLEAN_ARGS).map(([k, v]) => [k, v.default])),
            messageTitle: DEFAULT_MESSAGE_TITLE,
        };
        for (const [key, value] of Object.entries(defaults)) {
            assert.deepEqual(declared[key]?.default, value, `default of ${key}`);
        }
    });

    it("must read the declared defaults of optional settings as unset", async () => {
        const run = await runProgram("build/index.js", { stack: "bare", config: stackConfig("bare") });
        const fn = run.resources.find((r) => r.type === "aws:lambda/function:Function");
        const env = (fn?.inputs["environment"] as { variables: Record<string, string> }).variables;
        assert.equal(env["CALLBACK_HEARTBEAT_SECONDS"], "0", "heartbeatSeconds 0: no heartbeat");
        assert.ok(!run.resources.some((r) => r.type === "aws:kms/key:Key"), 'kmsKey "": no customer key');
        const queue = run.resources.find((r) => r.type === "aws:sqs/queue:Queue");
        assert.equal(queue?.inputs["sqsManagedSseEnabled"], true);
        assert.ok(
            run.resources.some((r) => r.name === "callback-alarms"),
            'alarmTopicArn "": a topic is created',
        );
        assert.equal(fn?.inputs["runtime"], "nodejs24.x");
    });
});

describe("component arguments", function () {
    it("must take as arguments exactly the keys a stack configures", () => {
        assert.deepEqual([...CALLBACK_WORKFLOW_ARG_KEYS].sort(), [...CONFIG_KEYS].sort());
    });

    this.timeout(20_000);

    it("must refuse a name its resources' names cannot be built from, before registering anything", async () => {
        const errors: unknown[] = [];
        const run = await runProgram(() => {
            for (const name of ["a".repeat(45), "bad name", "dotted.name"]) {
                try {
                    new CallbackWorkflow(name, {});
                } catch (e) {
                    errors.push(e);
                }
            }
            new CallbackWorkflow("a".repeat(44), {});
        });
        assert.equal(errors.length, 3);
        for (const error of errors) {
            assert.ok(pulumi.InputPropertiesError.isInstance(error));
            assert.deepEqual(
                error.errors.map((e) => e.propertyPath),
                ["name"],
            );
            assert.match(error.message, /must be 1 to 44 letters, digits, hyphens or underscores/);
        }
        const role = run.resources.find((r) => r.name === `${"a".repeat(44)}-worker-role`);
        assert.ok(role, "a 44-character name works");
        assert.ok(`${role.name}-0123456`.length <= 64);
    });

    it("must refuse bad arguments with one InputPropertiesError that names each of them, registering nothing", async () => {
        let error: unknown;
        const run = await runProgram(() => {
            try {
                new CallbackWorkflow("bad", {
                    workerMemoryMb: 64,
                    heartbeatSeconds: 7200,
                    kmsKey: "arn:aws:s3:::bucket",
                });
            } catch (e) {
                error = e;
            }
        });
        assert.deepEqual(run.resources, [], "validated before the component registers");
        assert.ok(pulumi.InputPropertiesError.isInstance(error));
        assert.deepEqual(
            error.errors.map((e) => e.propertyPath),
            ["workerMemoryMb", "heartbeatSeconds", "kmsKey"],
        );
        assert.equal(
            error.message,
            [
                'Invalid arguments for CallbackWorkflow "bad":',
                "- `workerMemoryMb` must be an integer from 128 to 10240 (got 64).",
                "- `heartbeatSeconds` must be less than taskTimeoutSeconds (got 7200 >= 3600).",
                '- `kmsKey` must be "create" or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) (got "arn:aws:s3:::bucket").',
            ].join("\n"),
        );
    });
});
