import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import aslValidator from "asl-validator";
import { bundleWorker } from "../components/bundle";
import { CALLBACK_WORKFLOW_TYPE, CallbackWorkflow } from "../components/callback-workflow";
import { CALLBACK_CHANNEL_TYPE } from "../components/channel";
import { WORKFLOW_TYPE } from "../components/workflow";
import { LOG_DELIVERY_ACTIONS, SEND_TASK_ACTIONS, XRAY_ACTIONS, type PolicyDocument } from "../components/iam";
import { DEFAULT_MESSAGE_TITLE, visibilityTimeoutFor } from "../components/settings";
import { expectedDefinition } from "./fixtures/expected-definition";
import { jsonInput, rolePolicy, rows } from "./harness/documents";
import { ACCOUNT_ID, ofType, REGION, resource, runProgram, type ProgramRun } from "../local/pulumi-program";
import { stackConfig } from "../local/stack-config";
import { onDay } from "./fixtures/today";

const arn = (service: string, resourcePart: string): string =>
    `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resourcePart}`;
const QUEUE_ARN = arn("sqs", "callback-queue-0a1b2c3");
const DLQ_ARN = arn("sqs", "callback-dlq-0a1b2c3");
const TOPIC_ARN = arn("sns", "callback-topic-0a1b2c3");
const STATE_MACHINE_ARN = arn("states", "stateMachine:callback-state-machine-0a1b2c3");
const WORKER_LOG_GROUP_ARN = arn("logs", "log-group:/aws/lambda/callback-worker-0a1b2c3");
const KEY_ARN = arn("kms", "key/0a1b2c3d-callback-key");

const TYPES = {
    queue: "aws:sqs/queue:Queue",
    queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
    redriveAllow: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
    topic: "aws:sns/topic:Topic",
    topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
    subscription: "aws:sns/topicSubscription:TopicSubscription",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    fn: "aws:lambda/function:Function",
    trigger: "aws:lambda/eventSourceMapping:EventSourceMapping",
    stateMachine: "aws:sfn/stateMachine:StateMachine",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    key: "aws:kms/key:Key",
} as const;

describe("CallbackWorkflow on the mocked runtime", function () {
    this.timeout(20_000);
    let dev: ProgramRun;
    let prod: ProgramRun;

    before(async () => {
        dev = await runProgram("build/index.js", { stack: "dev", config: stackConfig("dev") });
        prod = await runProgram("build/index.js", { stack: "prod", config: stackConfig("prod") });
    });

    it("must create the dev stack's resources: a channel and a workflow in the component, and its topic", () => {
        assert.deepEqual(dev.resources.map((r) => `${r.type} ${r.name}`).sort(), [
            "aws:cloudwatch/logGroup:LogGroup callback-sfn-logs",
            "aws:cloudwatch/logGroup:LogGroup callback-worker-logs",
            "aws:iam/role:Role callback-sfn-role",
            "aws:iam/role:Role callback-worker-role",
            "aws:iam/rolePolicy:RolePolicy callback-answer",
            "aws:iam/rolePolicy:RolePolicy callback-sfn-policy",
            "aws:iam/rolePolicy:RolePolicy callback-worker-policy",
            "aws:lambda/eventSourceMapping:EventSourceMapping callback-trigger",
            "aws:lambda/function:Function callback-worker",
            "aws:sfn/stateMachine:StateMachine callback-state-machine",
            "aws:sns/topic:Topic callback-topic",
            "aws:sns/topicPolicy:TopicPolicy callback-topic-policy",
            "aws:sqs/queue:Queue callback-dlq",
            "aws:sqs/queue:Queue callback-queue",
            "aws:sqs/queuePolicy:QueuePolicy callback-dlq-policy",
            "aws:sqs/queuePolicy:QueuePolicy callback-queue-policy",
            "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy callback-dlq-redrive-allow",
            `${CALLBACK_CHANNEL_TYPE} callback`,
            `${CALLBACK_WORKFLOW_TYPE} callback`,
            `${WORKFLOW_TYPE} callback`,
        ]);
        const component = resource(dev, CALLBACK_WORKFLOW_TYPE, "callback");
        const channel = resource(dev, CALLBACK_CHANNEL_TYPE, "callback");
        const workflow = resource(dev, WORKFLOW_TYPE, "callback");
        const parentOf = (r: (typeof dev.resources)[number]): string | undefined => r.parent;
        const where = (types: readonly string[]) =>
            dev.resources.filter((r) => types.some((t) => r.type.startsWith(t))).map(parentOf);
        assert.deepEqual(new Set(where(["aws:sqs/", "aws:lambda/"])), new Set([channel.urn]));
        for (const child of dev.resources.filter((r) => r !== component)) {
            assert.ok(
                [component.urn, channel.urn, workflow.urn].includes(child.parent ?? ""),
                `${child.name} is not in the component`,
            );
        }
        assert.equal(channel.parent, component.urn);
        assert.equal(workflow.parent, component.urn);
        assert.equal(resource(dev, TYPES.stateMachine, "callback-state-machine").parent, workflow.urn);
        assert.equal(resource(dev, TYPES.rolePolicy, "callback-answer").parent, workflow.urn);
        assert.equal(resource(dev, "aws:sns/topic:Topic", "callback-topic").parent, component.urn);
    });

    it("must export every output the README lists", () => {
        assert.deepEqual(dev.exports, {
            stateMachineArn: STATE_MACHINE_ARN,
            stateMachineName: "callback-state-machine-0a1b2c3",
            queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/callback-queue-0a1b2c3`,
            queueArn: QUEUE_ARN,
            dlqUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/callback-dlq-0a1b2c3`,
            dlqArn: DLQ_ARN,
            topicArn: TOPIC_ARN,
            workerName: "callback-worker-0a1b2c3",
            workerArn: arn("lambda", "function:callback-worker-0a1b2c3"),
            workerLogGroupName: "/aws/lambda/callback-worker-0a1b2c3",
            stateMachineLogGroupName: "/aws/vendedlogs/states/callback-0a1b2c3",
            alarmTopicArn: undefined,
            kmsKeyArn: undefined,
            approvalPageUrl: undefined,
            approvalTopicArn: undefined,
        });
    });

    describe("queues", () => {
        it("must encrypt both queues with SQS-managed SSE by default and with the customer key in prod", () => {
            for (const name of ["callback-queue", "callback-dlq"]) {
                const devQueue = resource(dev, TYPES.queue, name).inputs;
                assert.equal(devQueue["sqsManagedSseEnabled"], true);
                assert.equal(devQueue["kmsMasterKeyId"], undefined);
                const prodQueue = resource(prod, TYPES.queue, name).inputs;
                assert.equal(prodQueue["kmsMasterKeyId"], KEY_ARN);
                assert.equal(prodQueue["sqsManagedSseEnabled"], undefined);
            }
        });

        it("must redrive to the DLQ after maxReceiveCount receives", () => {
            assert.deepEqual(jsonInput(resource(dev, TYPES.queue, "callback-queue"), "redrivePolicy"), {
                deadLetterTargetArn: DLQ_ARN,
                maxReceiveCount: 5,
            });
        });

        it("must keep DLQ messages longer than work queue messages", () => {
            for (const run of [dev, prod]) {
                const queue = resource(run, TYPES.queue, "callback-queue").inputs["messageRetentionSeconds"] as number;
                const dlq = resource(run, TYPES.queue, "callback-dlq").inputs["messageRetentionSeconds"] as number;
                assert.ok(dlq > queue, `${dlq} <= ${queue}`);
            }
            assert.equal(resource(prod, TYPES.queue, "callback-dlq").inputs["messageRetentionSeconds"], 1_209_600);
        });

        it("must let only the work queue redrive into the DLQ", () => {
            const allow = resource(dev, TYPES.redriveAllow, "callback-dlq-redrive-allow");
            assert.equal(allow.inputs["queueUrl"], dev.exports["dlqUrl"]);
            assert.deepEqual(jsonInput(allow, "redriveAllowPolicy"), {
                redrivePermission: "byQueue",
                sourceQueueArns: [QUEUE_ARN],
            });
        });

        it("must deny non-TLS access to both queues", () => {
            for (const [name, queueArn] of [
                ["callback-queue-policy", QUEUE_ARN],
                ["callback-dlq-policy", DLQ_ARN],
            ] as const) {
                assert.deepEqual(jsonInput(resource(dev, TYPES.queuePolicy, name), "policy"), {
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "sqs:*",
                            Resource: queueArn,
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ],
                });
            }
        });

        it("must derive the visibility timeout from the worker timeout: 6× plus the batching window", () => {
            assert.equal(resource(dev, TYPES.queue, "callback-queue").inputs["visibilityTimeoutSeconds"], 180);
            assert.equal(resource(prod, TYPES.queue, "callback-queue").inputs["visibilityTimeoutSeconds"], 360);
        });
    });

    describe("visibility timeout for other worker timeouts and batching windows", () => {
        for (const [workerTimeoutSeconds, batchingWindowSeconds] of [
            [3, 0],
            [30, 5],
            [300, 60],
            [900, 300],
        ] as const) {
            it(`must set ${visibilityTimeoutFor(workerTimeoutSeconds, batchingWindowSeconds)} s for a ${workerTimeoutSeconds} s worker and a ${batchingWindowSeconds} s window`, async () => {
                const run = await runProgram(() => {
                    new CallbackWorkflow("v", {
                        workerTimeoutSeconds,
                        batchingWindowSeconds,
                        taskTimeoutSeconds: 86_400,
                        alarms: false,
                    });
                });
                const visibility = resource(run, TYPES.queue, "v-queue").inputs["visibilityTimeoutSeconds"] as number;
                assert.equal(visibility, 6 * workerTimeoutSeconds + batchingWindowSeconds);
                assert.ok(visibility <= 43_200, "within SQS's 12-hour maximum");
                assert.equal(
                    resource(run, TYPES.trigger, "v-trigger").inputs["maximumBatchingWindowInSeconds"],
                    batchingWindowSeconds,
                );
                assert.equal(resource(run, TYPES.fn, "v-worker").inputs["timeout"], workerTimeoutSeconds);
            });
        }
    });

    describe("topic", () => {
        it("must encrypt the notification topic (AWS-managed key by default, the customer key in prod)", () => {
            assert.equal(resource(dev, TYPES.topic, "callback-topic").inputs["kmsMasterKeyId"], "alias/aws/sns");
            assert.equal(resource(prod, TYPES.topic, "callback-topic").inputs["kmsMasterKeyId"], KEY_ARN);
        });

        it("must deny publishing without TLS", () => {
            const policy = jsonInput<PolicyDocument>(
                resource(dev, TYPES.topicPolicy, "callback-topic-policy"),
                "policy",
            );
            assert.deepEqual(policy.Statement, [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "sns:Publish",
                    Resource: TOPIC_ARN,
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
            ]);
        });

        it("must subscribe what the configuration lists", async () => {
            const run = await runProgram(() => {
                new CallbackWorkflow("s", {
                    alarms: false,
                    subscriptions: [
                        { protocol: "email", endpoint: "team@example.com" },
                        { protocol: "https", endpoint: "https://hooks.example.com/callback" },
                    ],
                });
            });
            assert.deepEqual(
                ofType(run, TYPES.subscription).map((s) => [s.name, s.inputs["protocol"], s.inputs["endpoint"]]),
                [
                    ["s-subscription-0", "email", "team@example.com"],
                    ["s-subscription-1", "https", "https://hooks.example.com/callback"],
                ],
            );
        });
    });

    describe("worker", () => {
        it("must turn source maps on where they are free (nodejs24.x), not on nodejs22.x", async () => {
            const run = await onDay("2026-12-01", () =>
                runProgram(() => void new CallbackWorkflow("w", { runtime: "nodejs22.x", alarms: false })),
            );
            const env = (
                resource(run, TYPES.fn, "w-worker").inputs["environment"] as { variables: Record<string, string> }
            ).variables;
            assert.equal(env["NODE_OPTIONS"], undefined);
        });

        it("must run the bundled worker on nodejs24.x (the default), arm64, with its settings in the environment", () => {
            const fn = resource(dev, TYPES.fn, "callback-worker").inputs;
            assert.equal(fn["runtime"], "nodejs24.x");
            assert.deepEqual(fn["architectures"], ["arm64"]);
            assert.equal(fn["handler"], "index.handler");
            assert.equal(fn["memorySize"], 256);
            assert.equal(fn["timeout"], 30);
            assert.equal(fn["role"], arn("iam", "role/callback-worker-role-0a1b2c3").replace(`:${REGION}:`, "::"));
            assert.deepEqual(fn["loggingConfig"], {
                logFormat: "Text",
                logGroup: "/aws/lambda/callback-worker-0a1b2c3",
            });
            assert.deepEqual((fn["environment"] as { variables: unknown }).variables, {
                NODE_OPTIONS: "--enable-source-maps",
                POWERTOOLS_SERVICE_NAME: "callback",
                POWERTOOLS_LOG_LEVEL: "DEBUG",
                CALLBACK_CONCURRENCY: "10",
                // A third of dev's 300 s heartbeat, short enough for two beats in a 30 s invocation
                // (24.5 s before its start margin): 12 s.
                CALLBACK_HEARTBEAT_SECONDS: "12",
                CALLBACK_CALL_TIMEOUT_MS: "5000",
                CALLBACK_MAX_RECEIVE_COUNT: "5",
            });
        });

        it("must ship exactly the bundle of the worker's sources (deterministic, so previews show no diff)", async () => {
            // An AssetArchive holds its assets, and a StringAsset its text, as promises.
            const code = resource(dev, TYPES.fn, "callback-worker").inputs["code"] as pulumi.asset.AssetArchive;
            const assets = (await code.assets) as Record<string, pulumi.asset.StringAsset>;
            const bundle = await bundleWorker();
            assert.deepEqual(Object.keys(assets).sort(), [...bundle.files.keys()].sort());
            for (const [name, text] of bundle.files) {
                assert.ok((await assets[name]?.text) === text, `${name} differs from a fresh bundle`);
            }
        });

        it("must give the worker its own log group with the stack's retention", () => {
            assert.equal(resource(dev, TYPES.logGroup, "callback-worker-logs").inputs["retentionInDays"], 7);
            assert.equal(resource(prod, TYPES.logGroup, "callback-worker-logs").inputs["retentionInDays"], 365);
        });

        it("must trigger the worker from the queue with partial batch failures and bounded concurrency", () => {
            const trigger = resource(dev, TYPES.trigger, "callback-trigger");
            assert.deepEqual(trigger.inputs["functionResponseTypes"], ["ReportBatchItemFailures"]);
            assert.equal(trigger.inputs["eventSourceArn"], QUEUE_ARN);
            assert.equal(trigger.inputs["batchSize"], 10);
            assert.deepEqual(trigger.inputs["scalingConfig"], { maximumConcurrency: 2 });
            assert.deepEqual(resource(prod, TYPES.trigger, "callback-trigger").inputs["scalingConfig"], {
                maximumConcurrency: 20,
            });
            const workerPolicy = resource(dev, TYPES.rolePolicy, "callback-worker-policy");
            assert.ok(
                trigger.dependencies.includes(workerPolicy.urn),
                "the trigger waits for the worker's permissions",
            );
        });
    });

    describe("state machine", () => {
        it("must be STANDARD, traced, and log without execution data", () => {
            const sm = resource(dev, TYPES.stateMachine, "callback-state-machine").inputs;
            assert.equal(sm["type"], "STANDARD");
            assert.deepEqual(sm["tracingConfiguration"], { enabled: true });
            assert.deepEqual(sm["loggingConfiguration"], {
                level: "ALL",
                includeExecutionData: false,
                logDestination: `${arn("logs", "log-group:/aws/vendedlogs/states/callback-0a1b2c3")}:*`,
            });
            assert.equal(
                (
                    resource(prod, TYPES.stateMachine, "callback-state-machine").inputs["loggingConfiguration"] as {
                        level: string;
                    }
                ).level,
                "ERROR",
            );
        });

        it("must render the whole definition with the stack's queue, topic, timeout and heartbeat, valid for asl-validator", () => {
            for (const [run, timeoutSeconds, heartbeatSeconds] of [
                [dev, 1200, 300],
                [prod, 86_400, 900],
            ] as const) {
                const definition = jsonInput(resource(run, TYPES.stateMachine, "callback-state-machine"), "definition");
                assert.deepStrictEqual(
                    definition,
                    expectedDefinition({
                        queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/callback-queue-0a1b2c3`,
                        topicArn: TOPIC_ARN,
                        messageTitle: DEFAULT_MESSAGE_TITLE,
                        timeoutSeconds,
                        heartbeatSeconds,
                    }),
                );
                assert.deepEqual(aslValidator(definition).errors, []);
            }
        });

        it("must be created only after its role may deliver logs", () => {
            const sm = resource(dev, TYPES.stateMachine, "callback-state-machine");
            assert.ok(sm.dependencies.includes(resource(dev, TYPES.rolePolicy, "callback-sfn-policy").urn));
        });
    });

    describe("IAM", () => {
        it("must let the worker consume its queue, answer its own state machine's tokens and write its own logs, nothing more", () => {
            // The channel's own policy, and the workflow's grant to answer its state machine.
            const answer = resource(dev, TYPES.rolePolicy, "callback-answer");
            assert.equal(answer.inputs["role"], resource(dev, TYPES.role, "callback-worker-role").outputs["name"]);
            assert.deepEqual(rows(rolePolicy(dev, "callback-answer").Statement), [
                ["AnswerTaskTokens", [...SEND_TASK_ACTIONS], [STATE_MACHINE_ARN]],
            ]);
            assert.deepEqual(rows(rolePolicy(dev, "callback-worker-policy").Statement), [
                [
                    "ConsumeWorkQueue",
                    [
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    [QUEUE_ARN],
                ],
                ["WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${WORKER_LOG_GROUP_ARN}:*`]],
            ]);
        });

        it("must let the worker decrypt its queue and answer its encrypted state machine with the customer key", () => {
            const statements = [
                ...rolePolicy(prod, "callback-worker-policy").Statement,
                ...rolePolicy(prod, "callback-answer").Statement,
            ].filter((st) => st.Sid === "DecryptWorkQueue" || st.Sid === "AnswerEncryptedStateMachine");
            assert.deepEqual(rows(statements), [
                ["DecryptWorkQueue", ["kms:Decrypt"], [KEY_ARN]],
                ["AnswerEncryptedStateMachine", ["kms:Decrypt", "kms:GenerateDataKey"], [KEY_ARN]],
            ]);
            assert.deepEqual(statements[1]?.Condition, {
                StringEquals: { "kms:EncryptionContext:aws:states:stateMachineArn": STATE_MACHINE_ARN },
            });
            assert.deepEqual(statements[0]?.Condition, {
                StringEquals: { "kms:EncryptionContext:aws:sqs:arn": QUEUE_ARN },
            });
            const devStatements = rows([
                ...rolePolicy(dev, "callback-worker-policy").Statement,
                ...rolePolicy(dev, "callback-answer").Statement,
            ]);
            assert.ok(
                !devStatements.some(([, actions]) => actions.some((a) => a.startsWith("kms:"))),
                "no key, no KMS",
            );
        });

        it("must let the state machine use its key only for its own executions and its log delivery", () => {
            const own = rolePolicy(prod, "callback-sfn-key-policy").Statement;
            assert.deepEqual(rows(own), [
                ["EncryptOwnExecutionData", ["kms:Decrypt", "kms:GenerateDataKey"], [KEY_ARN]],
            ]);
            assert.deepEqual(own[0]?.Condition, {
                StringEquals: { "kms:EncryptionContext:aws:states:stateMachineArn": STATE_MACHINE_ARN },
            });
            const delivery = rolePolicy(prod, "callback-sfn-policy").Statement.find(
                (st) => st.Sid === "LogDeliveryToEncryptedLogGroup",
            );
            assert.deepEqual(delivery?.Condition, {
                ArnLike: { "kms:EncryptionContext:SourceArn": `arn:aws:logs:*:${ACCOUNT_ID}:*` },
            });
            assert.ok(!ofType(dev, TYPES.rolePolicy).some((p) => p.name === "callback-sfn-key-policy"));
        });

        it("must give the state machine exactly what its tasks declared, plus log delivery and X-Ray on *", () => {
            assert.deepEqual(rows(rolePolicy(dev, "callback-sfn-policy").Statement), [
                ["SendToWorkQueue", ["sqs:SendMessage"], [QUEUE_ARN]],
                ["PublishNotifications", ["sns:Publish"], [TOPIC_ARN]],
                ["LogDelivery", [...LOG_DELIVERY_ACTIONS], ["*"]],
                ["XRayTracing", [...XRAY_ACTIONS], ["*"]],
            ]);
            assert.deepEqual(rows(rolePolicy(prod, "callback-sfn-policy").Statement), [
                ["SendToWorkQueue", ["sqs:SendMessage"], [QUEUE_ARN]],
                ["EncryptForWorkQueue", ["kms:GenerateDataKey", "kms:Decrypt"], [KEY_ARN]],
                ["PublishNotifications", ["sns:Publish"], [TOPIC_ARN]],
                ["EncryptForTopic", ["kms:GenerateDataKey", "kms:Decrypt"], [KEY_ARN]],
                ["LogDelivery", [...LOG_DELIVERY_ACTIONS], ["*"]],
                ["XRayTracing", [...XRAY_ACTIONS], ["*"]],
                ["LogDeliveryToEncryptedLogGroup", ["kms:GenerateDataKey"], [KEY_ARN]],
            ]);
            // Each use of the key is scoped to one resource by the encryption context its service sets.
            const statements = rolePolicy(prod, "callback-sfn-policy").Statement;
            const condition = (sid: string): unknown => statements.find((st) => st.Sid === sid)?.Condition;
            assert.deepEqual(condition("EncryptForWorkQueue"), {
                StringEquals: { "kms:EncryptionContext:aws:sqs:arn": QUEUE_ARN },
            });
            assert.deepEqual(condition("EncryptForTopic"), {
                StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN },
            });
        });

        it("must scope every use of the customer key: no KMS statement without a condition", () => {
            for (const policy of ofType(prod, TYPES.rolePolicy)) {
                for (const statement of jsonInput<PolicyDocument>(policy, "policy").Statement) {
                    const actions = typeof statement.Action === "string" ? [statement.Action] : statement.Action;
                    if (actions.some((a) => a.startsWith("kms:"))) {
                        assert.ok(statement.Condition, `${policy.name} ${String(statement.Sid)} is unscoped`);
                    }
                }
            }
        });

        it("must grant SendTask* to the worker role only, and no wildcard but log delivery and X-Ray", () => {
            for (const run of [dev, prod]) {
                for (const policy of ofType(run, TYPES.rolePolicy)) {
                    for (const [sid, actions, resources] of rows(
                        jsonInput<PolicyDocument>(policy, "policy").Statement,
                    )) {
                        const sendTask = actions.some((a) => a.startsWith("states:SendTask"));
                        assert.ok(
                            !sendTask ||
                                (policy.name === "callback-answer" &&
                                    policy.inputs["role"] ===
                                        resource(run, TYPES.role, "callback-worker-role").outputs["name"]),
                            `${policy.name} grants ${actions.join(",")}`,
                        );
                        assert.ok(
                            actions.every((a) => !a.includes("*")),
                            `${policy.name} ${sid} has a wildcard action`,
                        );
                        if (resources.includes("*")) {
                            assert.ok(
                                sid === "LogDelivery" || sid === "XRayTracing",
                                `${policy.name} ${sid} grants on *`,
                            );
                        }
                    }
                }
                assert.deepEqual(
                    run.resources.filter(
                        (r) => r.type.startsWith("aws:iam/") && /Attachment|Policy:Policy/.test(r.type),
                    ),
                    [],
                    "no managed or standalone policies",
                );
                for (const role of ofType(run, TYPES.role)) {
                    assert.equal(role.inputs["managedPolicyArns"], undefined);
                }
            }
        });

        it("must trust only the service, from this account", () => {
            for (const [name, service] of [
                ["callback-worker-role", "lambda.amazonaws.com"],
                ["callback-sfn-role", "states.amazonaws.com"],
            ] as const) {
                assert.deepEqual(jsonInput(resource(dev, TYPES.role, name), "assumeRolePolicy"), {
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: service },
                            Action: "sts:AssumeRole",
                            Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } },
                        },
                    ],
                });
            }
        });
    });

    describe("prod: key and alarms", () => {
        it("must create a rotating customer key that IAM administers and the services holding task data may use", () => {
            const key = resource(prod, TYPES.key, "callback-key");
            assert.equal(key.inputs["enableKeyRotation"], true);
            const statements = jsonInput<PolicyDocument>(key, "policy").Statement;
            assert.deepEqual(
                statements.map((st) => [st.Sid, st.Principal, st.Condition]),
                [
                    ["AccountAdministersThroughIam", { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, undefined],
                    [
                        "CloudWatchLogsEncryptWorkflowLogGroups",
                        { Service: `logs.${REGION}.amazonaws.com` },
                        {
                            ArnLike: {
                                "kms:EncryptionContext:aws:logs:arn": [
                                    `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/vendedlogs/states/callback-*`,
                                    `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/callback-worker-*`,
                                ],
                            },
                        },
                    ],
                    [
                        "CloudWatchLogsDeliveryDecrypts",
                        { Service: "delivery.logs.amazonaws.com" },
                        {
                            StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
                            ArnLike: { "aws:SourceArn": `arn:aws:logs:${REGION}:${ACCOUNT_ID}:*` },
                        },
                    ],
                    [
                        "CloudWatchAlarmsPublishToEncryptedTopic",
                        { Service: "cloudwatch.amazonaws.com" },
                        {
                            StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
                            ArnLike: {
                                "kms:EncryptionContext:aws:sns:topicArn": `arn:aws:sns:${REGION}:${ACCOUNT_ID}:callback-alarms-*`,
                            },
                        },
                    ],
                ],
            );
        });

        it("must encrypt every data store with a key given by ARN too, the alarm topic included", async () => {
            const given = "arn:aws:kms:eu-west-1:123456789012:key/11112222-3333-4444-5555-666677778888";
            const run = await runProgram("build/index.js", {
                stack: "prod",
                config: { ...stackConfig("prod"), "callback-workflow:kmsKey": given },
            });
            assert.ok(!ofType(run, TYPES.key).length, "no key created");
            const stores = run.resources.filter((r) =>
                ([TYPES.queue, TYPES.topic, TYPES.logGroup, TYPES.stateMachine] as string[]).includes(r.type),
            );
            assert.equal(stores.length, 7, "two queues, two topics, two log groups, the state machine");
            for (const r of stores) {
                const keyOf =
                    r.type === TYPES.stateMachine
                        ? (r.inputs["encryptionConfiguration"] as { kmsKeyId?: string } | undefined)?.kmsKeyId
                        : (r.inputs["kmsMasterKeyId"] ?? r.inputs["kmsKeyId"]);
                assert.equal(keyOf, given, `${r.name} is encrypted with the given key`);
            }
        });

        it("must encrypt every resource of prod that holds task data with the customer key, and know every type", () => {
            /**
             * Every resource type the component creates: where it keeps data with the key, or why it holds no
             * task data. A new type fails this test until it is classified here.
             */
            const KEYED: Record<string, ((inputs: Record<string, unknown>) => unknown) | string> = {
                [TYPES.queue]: (i) => i["kmsMasterKeyId"],
                [TYPES.topic]: (i) => i["kmsMasterKeyId"],
                [TYPES.logGroup]: (i) => i["kmsKeyId"],
                [TYPES.stateMachine]: (i) =>
                    (i["encryptionConfiguration"] as { type: string; kmsKeyId: string } | undefined)?.type ===
                    "CUSTOMER_MANAGED_KMS_KEY"
                        ? (i["encryptionConfiguration"] as { kmsKeyId: string }).kmsKeyId
                        : undefined,
                [TYPES.key]: "the key itself",
                [TYPES.queuePolicy]: "an access policy",
                [TYPES.redriveAllow]: "an access policy",
                [TYPES.topicPolicy]: "an access policy",
                [TYPES.subscription]: "a delivery setting",
                [TYPES.role]: "an IAM role",
                [TYPES.rolePolicy]: "an IAM policy",
                [TYPES.fn]: "code and settings (environment variables hold no task data)",
                [TYPES.trigger]: "a mapping with no filter criteria",
                [TYPES.alarm]: "metric thresholds",
            };
            for (const r of prod.resources) {
                if (!r.custom) {
                    continue;
                }
                const rule = KEYED[r.type];
                assert.ok(rule !== undefined, `${r.type} (${r.name}) is not classified: does it hold task data?`);
                if (typeof rule === "function") {
                    assert.equal(rule(r.inputs), KEY_ARN, `${r.name} is encrypted with the customer key`);
                }
            }
            const stateMachine = resource(prod, TYPES.stateMachine, "callback-state-machine").inputs;
            assert.deepEqual(stateMachine["encryptionConfiguration"], {
                type: "CUSTOMER_MANAGED_KMS_KEY",
                kmsKeyId: KEY_ARN,
                kmsDataKeyReusePeriodSeconds: 300,
            });
            assert.equal(
                resource(dev, TYPES.stateMachine, "callback-state-machine").inputs["encryptionConfiguration"],
                undefined,
            );
        });

        it("must alarm on a non-empty DLQ, waiting work, and failed, stuck and aborted executions, after the topic may receive them", () => {
            const alarms = ofType(prod, TYPES.alarm);
            const alarmTopic = arn("sns", "callback-alarms-0a1b2c3");
            assert.deepEqual(
                alarms.map((a) => [a.name, a.inputs["namespace"], a.inputs["metricName"], a.inputs["dimensions"]]),
                [
                    [
                        "callback-dlq-not-empty",
                        "AWS/SQS",
                        "ApproximateNumberOfMessagesVisible",
                        { QueueName: "callback-dlq-0a1b2c3" },
                    ],
                    [
                        "callback-queue-oldest-message",
                        "AWS/SQS",
                        "ApproximateAgeOfOldestMessage",
                        { QueueName: "callback-queue-0a1b2c3" },
                    ],
                    [
                        "callback-executions-failed",
                        "AWS/States",
                        "ExecutionsFailed",
                        { StateMachineArn: STATE_MACHINE_ARN },
                    ],
                    [
                        "callback-executions-timed-out",
                        "AWS/States",
                        "ExecutionsTimedOut",
                        { StateMachineArn: STATE_MACHINE_ARN },
                    ],
                    [
                        "callback-executions-aborted",
                        "AWS/States",
                        "ExecutionsAborted",
                        { StateMachineArn: STATE_MACHINE_ARN },
                    ],
                ],
            );
            const policyUrn = resource(prod, TYPES.topicPolicy, "callback-alarms-policy").urn;
            for (const alarm of alarms) {
                assert.equal(alarm.inputs["comparisonOperator"], "GreaterThanThreshold");
                // Half of prod's 900 s heartbeat for waiting work; any count for the others.
                assert.equal(alarm.inputs["threshold"], alarm.name === "callback-queue-oldest-message" ? 450 : 0);
                assert.deepEqual(alarm.inputs["alarmActions"], [alarmTopic]);
                assert.ok(alarm.dependencies.includes(policyUrn), `${alarm.name} waits for the topic's policy`);
            }
            // The execution's own timeout, which ExecutionsTimedOut counts: the task's and five minutes.
            const definition = JSON.parse(
                resource(prod, TYPES.stateMachine, "callback-state-machine").inputs["definition"] as string,
            ) as { TimeoutSeconds: number };
            assert.equal(definition.TimeoutSeconds, 86_400 + 300);
            assert.equal(prod.exports["alarmTopicArn"], alarmTopic);
            const topicPolicy = jsonInput<PolicyDocument>(
                resource(prod, TYPES.topicPolicy, "callback-alarms-policy"),
                "policy",
            );
            assert.deepEqual(
                topicPolicy.Statement.map((s) => [s.Sid, s.Effect, s.Principal]),
                [
                    ["CloudWatchAlarmsPublish", "Allow", { Service: "cloudwatch.amazonaws.com" }],
                    ["DenyInsecureTransport", "Deny", "*"],
                ],
            );
        });

        it("must send alarms to an existing topic when one is given, creating none", async () => {
            const existing = arn("sns", "ops-alarms");
            const run = await runProgram(() => {
                new CallbackWorkflow("a", { alarmTopicArn: existing });
            });
            assert.equal(ofType(run, TYPES.topic).length, 1, "only the notification topic");
            for (const alarm of ofType(run, TYPES.alarm)) {
                assert.deepEqual(alarm.inputs["alarmActions"], [existing]);
            }
        });
    });

    it("must let two workflows live in one stack without colliding", async () => {
        const run = await runProgram(() => {
            new CallbackWorkflow("orders", { alarms: false });
            new CallbackWorkflow("refunds", { alarms: false });
        });
        const urns = run.resources.map((r) => r.urn);
        assert.equal(new Set(urns).size, urns.length, "URNs are unique");
        for (const name of ["orders", "refunds"]) {
            const policy = rolePolicy(run, `${name}-answer`);
            const answer = policy.Statement.find((s) => s.Sid === "AnswerTaskTokens");
            assert.equal(answer?.Resource, arn("states", `stateMachine:${name}-state-machine-0a1b2c3`));
        }
        const logPrefixes = ofType(run, TYPES.logGroup).map((g) => g.inputs["namePrefix"]);
        assert.equal(new Set(logPrefixes).size, 4);
    });

    it("must build the whole stack in preview, with every ARN unknown, without throwing", async () => {
        for (const stack of ["dev", "prod"]) {
            const run = await runProgram("build/index.js", { stack, config: stackConfig(stack), preview: true });
            const full = stack === "dev" ? dev : prod;
            assert.deepEqual(
                run.resources.map((r) => `${r.type} ${r.name}`).sort(),
                full.resources.map((r) => `${r.type} ${r.name}`).sort(),
            );
            const sm = resource(run, TYPES.stateMachine, "callback-state-machine");
            assert.ok(pulumi.Output.isInstance(sm.inputs["definition"]) || isUnknown(sm.inputs["definition"]));
        }
    });
});

function isUnknown(value: unknown): boolean {
    return (
        typeof value === "object" && value !== null && (value as { __pulumiUnknown?: boolean }).__pulumiUnknown === true
    );
}
