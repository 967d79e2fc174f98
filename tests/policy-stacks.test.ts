/**
 * The policy pack on whole programs: the shipped stacks (dev and prod, deployed and in preview) pass;
 * small programs with one defect each get exactly the expected violations and nothing else.
 */
import { strict as assert } from "node:assert";
import * as iam from "@pulumi/aws/iam";
import * as sqs from "@pulumi/aws/sqs";
import type * as pulumi from "@pulumi/pulumi";
import { policies, POLICY_FAILURE } from "../policy/policies";
import { ACCOUNT, callbackStack, tlsPolicy, type StackOptions } from "./fixtures/policy-stacks";
import { runPolicies, type RunPoliciesOptions } from "../policy/runner";
import { REGION, runProgram } from "../local/pulumi-program";
import { stackConfig } from "../local/stack-config";

const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:machine-0a1b2c3`;
const SEND_TASK = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"];
const ALLOWED = SEND_TASK.join(", ");

/** Replaces the worker's AnswerTaskTokens statement. */
const answerWith =
    (
        change: Partial<{ Action: string | string[]; Resource: pulumi.Input<string> | pulumi.Input<string>[] }>,
    ): StackOptions["workerStatements"] =>
    (statements) =>
        statements.map((s) => (s.Sid === "AnswerTaskTokens" ? { ...s, ...change } : s));

/** Changes the callback task of the definition. */
const callbackTask =
    (change: (task: Record<string, unknown>) => Record<string, unknown>): StackOptions["definition"] =>
    (asl) => ({
        ...asl,
        States: {
            ...asl.States,
            "Start Task And Wait For Callback": change({ ...asl.States["Start Task And Wait For Callback"] }),
        },
    });

interface BadStack {
    readonly what: string;
    readonly options: StackOptions;
    readonly config?: RunPoliciesOptions["config"];
    /** [policy, message] of every violation expected, and no other. */
    readonly expected: ReadonlyArray<readonly [string, string]>;
    /**
     * The policies whose violation here depends on a value only known after deployment (an ARN in a
     * rendered document): in preview they say they cannot decide instead of reporting it.
     */
    readonly previewWaitsFor?: readonly string[];
}

const BAD_STACKS: BadStack[] = [
    {
        what: "a queue without a DLQ",
        options: {
            extra: () => {
                const orphan = new sqs.Queue("orphan", { sqsManagedSseEnabled: true });
                tlsPolicy("orphan-policy", orphan);
            },
        },
        expected: [
            [
                "sqs-queue-has-dlq",
                'Queue "orphan" has no dead-letter queue: set redrivePolicy (or add an aws.sqs.RedrivePolicy) with deadLetterTargetArn and maxReceiveCount from 2 to 20, so a message no consumer can process is kept and seen, not retried forever or lost.',
            ],
        ],
    },
    {
        what: "a maxReceiveCount out of range",
        options: {
            extra: () => undefined,
            queue: {
                redrivePolicy: JSON.stringify({
                    deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:dlq-0a1b2c3`,
                    maxReceiveCount: 100,
                }),
            },
        },
        expected: [
            [
                "sqs-queue-has-dlq",
                'Queue "work": maxReceiveCount in its redrivePolicy must be an integer from 2 to 20 (got 100).',
            ],
        ],
    },
    {
        what: "a DLQ that keeps messages no longer than its queue",
        options: { dlq: { messageRetentionSeconds: 345_600 } },
        expected: [
            [
                "sqs-queue-has-dlq",
                'Queue "work" keeps messages 345600 s but its dead-letter queue Queue "dlq" only 345600 s: a message of a standard queue keeps its original enqueue time in the DLQ, so the DLQ\'s messageRetentionSeconds must be greater than 345600 (or 1209600, SQS\'s maximum).',
            ],
        ],
    },
    {
        what: "states:* granted to the worker",
        options: { workerStatements: answerWith({ Action: "states:*" }) },
        expected: [
            [
                "sendtask-least-privilege",
                `RolePolicy "worker-policy" statement "AnswerTaskTokens" grants ${ALLOWED} through "states:*": name the actions (${ALLOWED}) instead of a wildcard, which also grants whatever AWS adds to it.`,
            ],
            [
                "iam-no-wildcards",
                'RolePolicy "worker-policy" statement "AnswerTaskTokens" allows wildcard actions "states:*": list the actions it needs.',
            ],
        ],
    },
    {
        what: "states:Send* granted to the worker",
        options: { workerStatements: answerWith({ Action: ["states:Send*"] }) },
        expected: [
            [
                "sendtask-least-privilege",
                `RolePolicy "worker-policy" statement "AnswerTaskTokens" grants ${ALLOWED} through "states:Send*": name the actions (${ALLOWED}) instead of a wildcard, which also grants whatever AWS adds to it.`,
            ],
            [
                "iam-no-wildcards",
                'RolePolicy "worker-policy" statement "AnswerTaskTokens" allows wildcard actions "states:Send*": list the actions it needs.',
            ],
        ],
    },
    {
        what: "SendTask granted on *",
        options: { workerStatements: answerWith({ Resource: "*" }) },
        expected: [
            [
                "sendtask-least-privilege",
                `RolePolicy "worker-policy" statement "AnswerTaskTokens" grants ${ALLOWED} on "*": the resources must be exact ARNs of state machines (arn:<partition>:states:<region>:<account>:stateMachine:<name>) or activities (…:activity:<name>), no wildcard.`,
            ],
            // iam-no-wildcards says nothing: AWS's Service Authorization Reference lists no resource
            // types for the SendTask actions; sendtask-least-privilege is the one that asks for ARNs.
        ],
    },
    {
        what: "SendTask on a wildcard state machine name",
        options: { workerStatements: answerWith({ Resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:*` }) },
        expected: [
            [
                "sendtask-least-privilege",
                `RolePolicy "worker-policy" statement "AnswerTaskTokens" grants ${ALLOWED} on "arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:*": the resources must be exact ARNs of state machines (arn:<partition>:states:<region>:<account>:stateMachine:<name>) or activities (…:activity:<name>), no wildcard.`,
            ],
        ],
    },
    {
        what: "SendTask held by the state machine's own role",
        options: {
            stateMachineStatements: (statements) => [
                ...statements,
                {
                    Sid: "SelfAnswer",
                    Effect: "Allow",
                    Action: SEND_TASK,
                    Resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:machine-0a1b2c3`,
                },
            ],
        },
        expected: [
            [
                "sendtask-least-privilege",
                'RolePolicy "machine-policy" gives SendTask permissions to Role "machine-role", the role of a state machine: a state machine must not answer its own tokens; grant them to the role of whatever does the work.',
            ],
        ],
    },
    {
        what: "the managed AWSStepFunctionsFullAccess policy attached to the worker",
        options: {
            extra: ({ workerRole }) => {
                new iam.RolePolicyAttachment("full-access", {
                    role: workerRole.name,
                    policyArn: "arn:aws:iam::aws:policy/AWSStepFunctionsFullAccess",
                });
            },
        },
        expected: [
            [
                "sendtask-least-privilege",
                `RolePolicyAttachment "full-access" attaches the AWS managed policy AWSStepFunctionsFullAccess, which grants "states:*" on "*" and so ${ALLOWED} on every state machine: grant only those actions, on your state machine's ARN.`,
            ],
        ],
    },
    {
        what: "a standalone policy with states:* attached to the worker",
        options: {
            extra: ({ workerRole }) => {
                const policy = new iam.Policy("broad", {
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Sid: "All", Effect: "Allow", Action: "states:*", Resource: MACHINE_ARN }],
                    }),
                });
                new iam.RolePolicyAttachment("broad-attach", { role: workerRole.name, policyArn: policy.arn });
            },
        },
        expected: [
            [
                "sendtask-least-privilege",
                `Policy "broad" attached by RolePolicyAttachment "broad-attach" statement "All" grants ${ALLOWED} through "states:*": name the actions (${ALLOWED}) instead of a wildcard, which also grants whatever AWS adds to it.`,
            ],
            [
                "iam-no-wildcards",
                'Policy "broad" statement "All" allows wildcard actions "states:*": list the actions it needs.',
            ],
        ],
    },
    {
        what: "SendTask on a state machine of another stack, not allow-listed",
        options: {
            workerStatements: answerWith({ Resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:elsewhere` }),
        },
        expected: [
            [
                "sendtask-least-privilege",
                `RolePolicy "worker-policy" statement "AnswerTaskTokens" grants ${ALLOWED} on arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:elsewhere, which is not a state machine or activity of this stack: add it to this policy's allowedStateMachineArns if a principal here answers another stack's tokens.`,
            ],
        ],
    },
    {
        what: "an EXPRESS state machine with a callback task",
        // The definition holds the queue URL and topic ARN: unknown as a whole in preview.
        previewWaitsFor: ["callback-needs-standard-workflow"],
        options: { stateMachine: { type: "EXPRESS" } },
        expected: [
            [
                "callback-needs-standard-workflow",
                'StateMachine "machine" is EXPRESS but waits for task tokens in "Start Task And Wait For Callback": .waitForTaskToken needs type STANDARD (https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html).',
            ],
        ],
    },
    {
        what: "a callback task without a timeout",
        // The definition holds the queue URL and topic ARN: unknown as a whole in preview.
        previewWaitsFor: ["callback-task-has-timeout"],
        options: { definition: callbackTask(({ TimeoutSeconds: _t, HeartbeatSeconds: _h, ...task }) => task) },
        expected: [
            [
                "callback-task-has-timeout",
                'StateMachine "machine": callback task "Start Task And Wait For Callback" has no TimeoutSeconds or TimeoutSecondsPath, so a lost task token leaves the execution waiting for up to a year. Set TimeoutSeconds (and catch States.Timeout).',
            ],
        ],
    },
    {
        what: "a heartbeat not below the timeout",
        // The definition holds the queue URL and topic ARN: unknown as a whole in preview.
        previewWaitsFor: ["callback-task-has-timeout"],
        options: { definition: callbackTask((task) => ({ ...task, HeartbeatSeconds: 3600 })) },
        expected: [
            [
                "callback-task-has-timeout",
                'StateMachine "machine": callback task "Start Task And Wait For Callback" has HeartbeatSeconds 3600, which must be less than its TimeoutSeconds 3600.',
            ],
        ],
    },
    {
        what: "a callback task without a timeout nested in a Parallel branch",
        // The definition holds the queue URL and topic ARN: unknown as a whole in preview.
        previewWaitsFor: ["callback-task-has-timeout"],
        options: {
            definition: (asl) => {
                const {
                    TimeoutSeconds: _t,
                    HeartbeatSeconds: _h,
                    Next: _n,
                    Catch: _c,
                    ...task
                } = asl.States["Start Task And Wait For Callback"] as Record<string, unknown>;
                return {
                    ...asl,
                    StartAt: "Fan out",
                    States: {
                        ...asl.States,
                        "Fan out": {
                            Type: "Parallel",
                            Branches: [{ StartAt: "Nested wait", States: { "Nested wait": { ...task, End: true } } }],
                            Next: "Prepare Task Input",
                        },
                    },
                };
            },
        },
        expected: [
            [
                "callback-task-has-timeout",
                'StateMachine "machine": callback task "Fan out/branch 0/Nested wait" has no TimeoutSeconds or TimeoutSecondsPath, so a lost task token leaves the execution waiting for up to a year. Set TimeoutSeconds (and catch States.Timeout).',
            ],
        ],
    },
    {
        what: "a definition with a transition to a missing state",
        // The definition holds the queue URL and topic ARN: unknown as a whole in preview.
        previewWaitsFor: ["state-machine-definition-valid"],
        options: { definition: callbackTask((task) => ({ ...task, Next: "Nowhere" })) },
        expected: [
            [
                "state-machine-definition-valid",
                "StateMachine \"machine\": the definition is not valid ASL (2 errors): MISSING_TRANSITION_TARGET: State Notify Success is not reachable; MISSING_TRANSITION_TARGET: Missing 'StartAt'|'Next'|'Default' target: Nowhere.",
            ],
        ],
    },
    {
        what: "a queue whose visibility timeout is shorter than 6 worker timeouts",
        options: { queue: { visibilityTimeoutSeconds: 60 } },
        expected: [
            [
                "sqs-visibility-covers-worker",
                'Queue "work" has a visibility timeout of 60 s, but its worker Function "worker" may run 30 s after a batching window of 0 s: set visibilityTimeoutSeconds to at least 180 (6 × 30 + 0), or messages are delivered twice while still being processed.',
            ],
        ],
    },
    {
        what: "a trigger without ReportBatchItemFailures",
        options: { trigger: { functionResponseTypes: [] } },
        expected: [
            [
                "sqs-visibility-covers-worker",
                'EventSourceMapping "trigger" takes batches of up to 10 messages but does not report batch item failures: set functionResponseTypes: ["ReportBatchItemFailures"], or one failing message makes the whole batch redeliver (or set batchSize: 1).',
            ],
        ],
    },
    {
        what: "an unencrypted queue",
        options: { dlq: { sqsManagedSseEnabled: false } },
        expected: [
            [
                "sqs-encrypted",
                'Queue "dlq" turns encryption at rest off (sqsManagedSseEnabled: false, no kmsMasterKeyId): remove sqsManagedSseEnabled: false or set kmsMasterKeyId (remediation turns SQS-managed SSE back on).',
            ],
        ],
    },
    {
        what: "queues without a TLS-only policy",
        options: { queuePolicies: false },
        expected: ["dlq", "work"].map(
            (name) =>
                [
                    "sqs-tls-only",
                    `Queue "${name}" accepts requests without TLS: add a queue policy statement {Effect: Deny, Principal: "*", Action: "sqs:*", Condition: {Bool: {"aws:SecureTransport": "false"}}}.`,
                ] as const,
        ),
    },
    {
        what: "a topic neither encrypted nor TLS only",
        options: { topic: { kmsMasterKeyId: undefined }, topicPolicy: false },
        expected: [
            [
                "sns-encrypted-or-tls-only",
                'Topic "notify" is neither encrypted nor TLS only: set kmsMasterKeyId (e.g. "alias/aws/sns"), or a topic policy statement {Effect: Deny, Principal: "*", Action: "sns:Publish", Condition: {Bool: {"aws:SecureTransport": "false"}}}.',
            ],
        ],
    },
    {
        what: "a state machine that does not log",
        options: { stateMachine: { loggingConfiguration: { level: "OFF" } } },
        expected: [
            [
                "state-machine-logging",
                'StateMachine "machine" does not log (level "OFF", no logDestination): set loggingConfiguration with level ALL, ERROR, FATAL and a logDestination.',
            ],
            [
                "state-machine-logs-all-events",
                'StateMachine "machine" logs level "OFF", not "ALL": CloudWatch Logs gets no events of the executions that succeed. Set loggingConfiguration.level "ALL" (with includeExecutionData false: state-machine-logging).',
            ],
        ],
    },
    {
        what: "a state machine that is not traced",
        options: { stateMachine: { tracingConfiguration: { enabled: false } } },
        expected: [
            [
                "state-machine-tracing",
                'StateMachine "machine" is not traced: set tracingConfiguration: { enabled: true }.',
            ],
        ],
    },
    {
        what: "a worker on nodejs20.x",
        options: { worker: { runtime: "nodejs20.x" } },
        config: { "lambda-runtime-supported": { asOf: "2026-12-01" } },
        expected: [
            [
                "lambda-runtime-supported",
                'Function "worker" uses runtime "nodejs20.x", which AWS deprecated on 2026-04-30: use one of nodejs24.x, nodejs22.x, python3.14, python3.13, python3.12, java25, java21, java17, java11, java8.al2, dotnet10, ruby3.4, ruby3.3, provided.al2023.',
            ],
        ],
    },
    {
        what: "a log group that keeps logs forever",
        options: { logGroup: { retentionInDays: undefined } },
        expected: [
            ["log-group-retention", 'LogGroup "worker-logs" keeps logs forever: set retentionInDays from 1 to 3653.'],
        ],
    },
];

const GOOD_VARIANTS: Array<{ what: string; options: StackOptions; config?: RunPoliciesOptions["config"] }> = [
    { what: "the redrive given as a separate aws.sqs.RedrivePolicy", options: { redriveSeparately: true } },
    {
        what: "SendTask on another stack's state machine that the config allow-lists",
        options: {
            workerStatements: answerWith({ Resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:elsewhere` }),
        },
        config: {
            "sendtask-least-privilege": {
                allowedStateMachineArns: [`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:elsewhere`],
            },
        },
    },
    {
        what: "SendTask next to another action on the exact state machine ARN",
        options: { workerStatements: answerWith({ Action: [...SEND_TASK, "states:StartExecution"] }) },
    },
    {
        what: "SendTask given to an IAM user (an operator answering by hand)",
        options: {
            extra: () => {
                new iam.UserPolicy("operator-policy", {
                    user: "operator",
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Action: SEND_TASK, Resource: MACHINE_ARN }],
                    }),
                });
            },
        },
    },
    {
        what: "SendTask given to a Lambda role that no queue triggers (an HTTP answerer)",
        options: {
            extra: () => {
                const role = new iam.Role("cron-role", {
                    assumeRolePolicy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Service: "lambda.amazonaws.com" },
                                Action: "sts:AssumeRole",
                            },
                        ],
                    }),
                });
                new iam.RolePolicy("cron-policy", {
                    role: role.id,
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Action: SEND_TASK, Resource: MACHINE_ARN }],
                    }),
                });
            },
        },
    },
    {
        what: "SendTask held by a role that EC2 assumes (an answerer on EC2)",
        options: {
            extra: () => undefined,
            workerRoleTrust: "ec2.amazonaws.com",
        },
    },
];

/**
 * The advisories the shipped stacks get by a documented choice (README, "Deploying per environment"):
 * prod logs its state machine at ERROR (stateMachineLogLevel in Pulumi.prod.yaml), not ALL.
 */
const DOCUMENTED_ADVISORIES: Readonly<Record<string, readonly string[]>> = {
    dev: [],
    prod: ["state-machine-logs-all-events"],
};

describe("policy pack on whole programs", function () {
    this.timeout(30_000);

    for (const stack of ["dev", "prod"]) {
        for (const preview of [false, true]) {
            it(`must find no violation in the shipped ${stack} stack${preview ? " in preview, and only say what it cannot decide yet" : ""}`, async () => {
                const run = await runProgram("build/index.js", { stack, config: stackConfig(stack), preview });
                const result = await runPolicies(run);
                assert.deepEqual(
                    result.violations.map((v) => [v.policy, v.level]),
                    (DOCUMENTED_ADVISORIES[stack] ?? []).map((policy) => [policy, "advisory"]),
                );
                if (!preview) {
                    assert.deepEqual(result.undecided, []);
                } else {
                    assert.ok(result.undecided.length > 0, "preview has values it cannot know");
                    for (const finding of result.undecided) {
                        assert.equal(finding.level, "advisory");
                        assert.match(
                            finding.message,
                            /^can't run policy '[a-z-]+' during preview: .* can't be known during preview$/,
                        );
                    }
                }
            });
        }
    }

    it("must decide in preview what does not depend on unknown values", async () => {
        const run = await runProgram("build/index.js", { stack: "prod", config: stackConfig("prod"), preview: true });
        const result = await runPolicies(run);
        const undecided = new Set(result.undecided.map((f) => f.policy));
        for (const decided of [
            "sqs-visibility-covers-worker",
            "sqs-encrypted",
            "state-machine-logging",
            "state-machine-tracing",
            "lambda-runtime-supported",
            "log-group-retention",
            "kms-key-rotation",
            "state-machine-logs-all-events",
        ]) {
            assert.ok(!undecided.has(decided), `${decided} gave up in preview`);
        }
    });

    it("must find no violation in the baseline of the bad stacks, deployed or in preview", async () => {
        for (const preview of [false, true]) {
            const result = await runPolicies(await runProgram(() => void callbackStack(), { preview }));
            assert.deepEqual(result.violations, []);
        }
    });

    for (const { what, options, config } of GOOD_VARIANTS) {
        it(`must accept ${what}`, async () => {
            const result = await runPolicies(await runProgram(() => void callbackStack(options)), { config });
            assert.deepEqual(result.violations, []);
        });
    }

    for (const { what, options, config, expected } of BAD_STACKS) {
        it(`must report ${what}, and nothing else`, async () => {
            const result = await runPolicies(await runProgram(() => void callbackStack(options)), { config });
            assert.deepEqual(
                result.violations.map((v) => [v.policy, v.message]),
                expected.map(([policy, message]) => [policy, message]),
            );
            for (const violation of result.violations) {
                const level = policies.find((p) => p.name === violation.policy)?.enforcementLevel;
                assert.equal(violation.level, level);
                assert.ok(violation.urn, "a violation names its resource");
            }
        });
    }

    it("must report in preview every violation of the bad stacks that does not wait on an output, and nothing false", async () => {
        const wrong: string[] = [];
        for (const { what, options, config, expected, previewWaitsFor = [] } of BAD_STACKS) {
            const result = await runPolicies(await runProgram(() => void callbackStack(options), { preview: true }), {
                config,
            });
            const reported = result.violations.map((v) => `${v.policy}: ${v.message}`);
            const allowed = expected.map(([policy, message]) => `${policy}: ${message}`);
            wrong.push(
                ...reported.filter((v) => !allowed.includes(v)).map((v) => `${what}: unexpected in preview: ${v}`),
            );
            for (const [policy, message] of expected) {
                if (!previewWaitsFor.includes(policy)) {
                    if (!reported.includes(`${policy}: ${message}`)) {
                        wrong.push(`${what}: missing in preview: ${policy}: ${message}`);
                    }
                } else if (!result.undecided.some((f) => f.policy === policy)) {
                    wrong.push(`${what}: ${policy} neither reports nor says it cannot decide in preview`);
                }
            }
        }
        assert.deepEqual(wrong, []);
    });

    describe("in preview, one unknown value hides no other violation", () => {
        const violationsInPreview = async (program: () => void): Promise<string[]> =>
            (await runPolicies(await runProgram(program, { preview: true }))).violations.map(
                (v) => `${v.policy} ${v.urn?.split("::").pop() ?? ""}`,
            );

        it("a queue redriving to another stack's DLQ by a literal ARN, next to a queue with no DLQ at all", async () => {
            const found = await violationsInPreview(() => {
                const elsewhere = `arn:aws:sqs:${REGION}:${ACCOUNT}:shared-dlq`;
                const fed = new sqs.Queue("fed", {
                    redrivePolicy: JSON.stringify({ deadLetterTargetArn: elsewhere, maxReceiveCount: 5 }),
                });
                tlsPolicy("fed-policy", fed);
                tlsPolicy("lonely-policy", new sqs.Queue("lonely", {}));
            });
            assert.deepEqual(found, ["sqs-queue-has-dlq lonely"]);
        });

        it("an IAM policy given as an object with an Output inside, next to a grant of states:*", async () => {
            const found = await violationsInPreview(() => {
                const { stateMachine, workerRole } = callbackStack();
                new iam.RolePolicy("object-grant", {
                    role: workerRole.id,
                    policy: {
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Action: SEND_TASK, Resource: stateMachine.arn }],
                    },
                });
                new iam.RolePolicy("broad-grant", {
                    role: workerRole.id,
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Action: "states:SendTask*", Resource: MACHINE_ARN }],
                    }),
                });
            });
            assert.ok(found.includes("sendtask-least-privilege broad-grant"), found.join("\n"));
        });

        it("a queue policy given as an object with an Output inside, next to a queue without a TLS-only policy", async () => {
            const found = await violationsInPreview(() => {
                const { queue } = callbackStack({ queuePolicies: false });
                new sqs.QueuePolicy("object-policy", {
                    queueUrl: queue.url,
                    policy: {
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Deny",
                                Principal: "*",
                                Action: "sqs:*",
                                Resource: queue.arn,
                                Condition: { Bool: { "aws:SecureTransport": "false" } },
                            },
                        ],
                    },
                });
            });
            assert.deepEqual(
                found.filter((f) => f.startsWith("sqs-tls-only")),
                ["sqs-tls-only dlq"],
            );
        });
    });

    describe("what an outside review found", () => {
        const judged = async (program: () => void, preview = false) =>
            runPolicies(await runProgram(program, { preview }));
        const named = (v: { policy: string; urn?: string | undefined }) =>
            `${v.policy} ${v.urn?.split("::").pop() ?? ""}`;

        it("a policy of the stack attached through a role's managedPolicyArns is held by that role", async () => {
            for (const preview of [false, true]) {
                const { violations } = await judged(() => {
                    const grant = new iam.Policy("self-answer", {
                        policy: JSON.stringify({
                            Version: "2012-10-17",
                            Statement: [{ Effect: "Allow", Action: SEND_TASK, Resource: MACHINE_ARN }],
                        }),
                    });
                    callbackStack({ stateMachineRoleManagedPolicies: [grant.arn] });
                }, preview);
                assert.ok(
                    violations.some(
                        (v) => v.policy === "sendtask-least-privilege" && /the role of a state machine/.test(v.message),
                    ),
                    `${preview ? "preview" : "deployed"}: ${violations.map(named).join(", ")}`,
                );
            }
        });

        it("a definition nested deeper than the validator judges is refused at once, by name", async () => {
            // 1,500 Parallel states inside each other (about 100 KB), written out as text: JSON.stringify and the
            // SDK's serialisation of nested values would overflow the stack first.
            let definition = '{"StartAt":"L","States":{"L":{"Type":"Pass","End":true}}}';
            for (let i = 0; i < 1500; i++) {
                definition = `{"StartAt":"P${i}","States":{"P${i}":{"Type":"Parallel","Branches":[${definition}],"End":true}}}`;
            }
            const { violations } = await judged(() => void callbackStack({ stateMachine: { definition } }));
            assert.ok(
                violations.some(
                    (v) => v.policy === "state-machine-definition-valid" && v.message.includes("NESTING_TOO_DEEP"),
                ),
                violations.map((v) => v.message).join("\n"),
            );
            assert.deepEqual(
                violations.filter((v) => v.message.includes(POLICY_FAILURE)),
                [],
            );
        });

        it("an activity task without a timeout, or in an EXPRESS machine, is caught like a callback task", async () => {
            const activity = `arn:aws:states:${REGION}:${ACCOUNT}:activity:label-printer`;
            const { violations } = await judged(
                () =>
                    void callbackStack({
                        stateMachine: { type: "EXPRESS" },
                        definition: () => ({
                            StartAt: "Print",
                            States: { Print: { Type: "Task", Resource: activity, End: true } },
                        }),
                    }),
            );
            assert.deepEqual(
                violations
                    .map((v) => v.policy)
                    .filter((p) => p.startsWith("callback"))
                    .sort(),
                ["callback-needs-standard-workflow", "callback-task-has-timeout"],
            );
        });

        it("in preview, a literal ARN ending in a named queue's name may be another account's: undecided, not hidden", async () => {
            const program = () => {
                const { worker } = callbackStack();
                tlsPolicy("named-policy", new sqs.Queue("named", { name: "jobs-dlq" }));
                void worker;
                new sqs.Queue("consumer", {
                    redrivePolicy: JSON.stringify({
                        deadLetterTargetArn: "arn:aws:sqs:us-east-1:999999999999:jobs-dlq",
                        maxReceiveCount: 5,
                    }),
                });
            };
            const deployed = await judged(program);
            assert.ok(deployed.violations.some((v) => named(v) === "sqs-queue-has-dlq named"));
            const preview = await judged(program, true);
            assert.ok(
                preview.undecided.some((f) => f.policy === "sqs-queue-has-dlq"),
                "says it cannot decide",
            );
        });

        it("a managed policy ARN named like an object property is not taken for one", async () => {
            const { violations } = await judged(() => {
                const { workerRole } = callbackStack();
                new iam.RolePolicyAttachment("odd", {
                    role: workerRole.name,
                    policyArn: "arn:aws:iam::aws:policy/constructor",
                });
            });
            assert.deepEqual(
                violations.filter((v) => v.policy === "sendtask-least-privilege"),
                [],
            );
        });
    });

    it("has at least 15 bad stacks", () => {
        assert.ok(BAD_STACKS.length >= 15);
    });
});
