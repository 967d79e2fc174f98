import { strict as assert } from "node:assert";
import aslValidator from "asl-validator";
import {
    AslValidationError,
    integration,
    integrationArn,
    statementsOf,
    toAsl,
    validateDefinition,
    type NamedState,
    type StateMachineDefinition,
    type TaskState,
} from "../components/asl";
import { callbackDefinition, STATE_NAMES } from "../components/definition";
import { expectedDefinition } from "./fixtures/expected-definition";

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/work";
const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:work";
const TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:notify";

function definitionWith(overrides: { heartbeatSeconds?: number; kmsKeyArn?: string } = {}) {
    return callbackDefinition({
        queueUrl: QUEUE_URL,
        queueArn: QUEUE_ARN,
        topicArn: TOPIC_ARN,
        taskTimeoutSeconds: 3600,
        messageTitle: "Approve order",
        ...overrides,
    });
}

/** Runs asl-validator on a copy (it mutates its input). */
function independentlyValid(asl: unknown): { isValid: boolean; errors: unknown[] } {
    return aslValidator(structuredClone(asl));
}

/** A definition with one state replaced or added, for one-defect-per-test checks. */
function withStates(states: NamedState[], startAt = states[0]?.name ?? ""): StateMachineDefinition {
    return { StartAt: startAt, States: states };
}

const callbackTask = (overrides: Partial<Record<keyof TaskState, unknown>> = {}): TaskState =>
    ({
        Type: "Task",
        Resource: integration("sqs", "sendMessage", "waitForTaskToken"),
        Parameters: { QueueUrl: QUEUE_URL, MessageBody: { "TaskToken.$": "$$.Task.Token" } },
        TimeoutSeconds: 60,
        End: true,
        ...overrides,
    }) as TaskState;

function problemsOf(definition: StateMachineDefinition, type: "STANDARD" | "EXPRESS" = "STANDARD"): readonly string[] {
    try {
        validateDefinition(definition, type);
        return [];
    } catch (error) {
        assert.ok(error instanceof AslValidationError);
        return error.problems;
    }
}

describe("callback definition (typed ASL)", () => {
    it("must render the whole definition exactly", () => {
        const { definition } = definitionWith({ heartbeatSeconds: 300 });
        assert.deepStrictEqual(
            toAsl(definition, "aws"),
            expectedDefinition({
                queueUrl: QUEUE_URL,
                topicArn: TOPIC_ARN,
                messageTitle: "Approve order",
                timeoutSeconds: 3600,
                heartbeatSeconds: 300,
            }),
        );
    });

    it("must pass asl-validator, with and without heartbeats", () => {
        for (const overrides of [{}, { heartbeatSeconds: 300 }]) {
            const result = independentlyValid(toAsl(definitionWith(overrides).definition, "aws"));
            assert.deepEqual(result.errors, []);
            assert.equal(result.isValid, true);
        }
    });

    it("must end a failed callback in a Fail state, so the execution is FAILED (not SUCCEEDED, as in the common examples)", () => {
        const { definition } = definitionWith();
        const failure = definition.States.find((s) => s.name === STATE_NAMES.notifyFailure)?.state;
        assert.equal(failure?.Type === "Task" && failure.Next, STATE_NAMES.failed);
        assert.equal(definition.States.find((s) => s.name === STATE_NAMES.failed)?.state.Type, "Fail");
    });

    for (const partition of ["aws", "aws-cn", "aws-us-gov"]) {
        it(`must build integration ARNs in the ${partition} partition`, () => {
            assert.equal(
                integrationArn(partition, integration("sqs", "sendMessage", "waitForTaskToken")),
                `arn:${partition}:states:::sqs:sendMessage.waitForTaskToken`,
            );
            assert.equal(
                integrationArn(partition, integration("sns", "publish")),
                `arn:${partition}:states:::sns:publish`,
            );
        });
    }

    it("must declare exactly the permissions its tasks need, each once", () => {
        assert.deepEqual(definitionWith().statements, [
            { Sid: "SendToWorkQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: QUEUE_ARN },
            { Sid: "PublishNotifications", Effect: "Allow", Action: ["sns:Publish"], Resource: TOPIC_ARN },
        ]);
    });

    it("must add KMS permissions on the customer key when there is one, one per resource that uses it", () => {
        const key = "arn:aws:kms:eu-west-1:123456789012:key/abcd";
        const kms = definitionWith({ kmsKeyArn: key }).statements.filter((s) => String(s.Action).includes("kms"));
        assert.deepEqual(
            kms.map((s) => [s.Sid, s.Action, s.Resource, Object.keys(s.Condition?.["StringEquals"] ?? {})]),
            [
                [
                    "EncryptForWorkQueue",
                    ["kms:GenerateDataKey", "kms:Decrypt"],
                    key,
                    ["kms:EncryptionContext:aws:sqs:arn"],
                ],
                [
                    "EncryptForTopic",
                    ["kms:GenerateDataKey", "kms:Decrypt"],
                    key,
                    ["kms:EncryptionContext:aws:sns:topicArn"],
                ],
            ],
        );
    });

    it("must keep statements that differ only by their condition apart", () => {
        const grant = (arn: string) => ({
            Effect: "Allow" as const,
            Action: ["kms:Decrypt"],
            Resource: "key",
            Condition: { StringEquals: { "kms:EncryptionContext:aws:sqs:arn": arn } },
        });
        const task = (statement: ReturnType<typeof grant>) => ({ state: callbackTask(), statements: [statement] });
        const [a, b] = [grant("arn:1"), grant("arn:2")];
        assert.deepEqual(statementsOf([task(a), task(b), task(grant("arn:1"))]), [a, b]);
    });

    it("must keep statements that differ only by resource identity apart", () => {
        const a = { Effect: "Allow" as const, Action: ["sns:Publish"], Resource: "arn:1" };
        const b = { Effect: "Allow" as const, Action: ["sns:Publish"], Resource: "arn:2" };
        const task = (statement: typeof a) => ({ state: callbackTask(), statements: [statement] });
        assert.deepEqual(statementsOf([task(a), task(b), task(a)]), [a, b]);
    });
});

describe("ASL validation at program time", () => {
    const end = { Type: "Succeed" } as const;

    it("must accept the callback definition", () => {
        assert.deepEqual(problemsOf(definitionWith({ heartbeatSeconds: 10 }).definition), []);
    });

    const cases: Array<[string, StateMachineDefinition, string[], ("STANDARD" | "EXPRESS")?]> = [
        [
            "a duplicate state",
            withStates([
                { name: "A", state: { Type: "Pass", Next: "B" } },
                { name: "B", state: end },
                { name: "B", state: end },
            ]),
            ['State "B" is defined more than once.'],
        ],
        [
            "a StartAt that is not a state",
            withStates([{ name: "A", state: end }], "Start"),
            ['StartAt names "Start", which is not a state.'],
        ],
        [
            "a Next that does not exist",
            withStates([{ name: "A", state: { Type: "Pass", Next: "Nowhere" } }]),
            ['State "A" goes to "Nowhere", which is not a state.'],
        ],
        [
            "Next and End both",
            withStates([
                { name: "A", state: { Type: "Pass", Next: "B", End: true } as never },
                { name: "B", state: end },
            ]),
            ['State "A" must have exactly one of Next and End (got both).'],
        ],
        [
            "neither Next nor End",
            withStates([{ name: "A", state: { Type: "Pass" } as never }]),
            ['State "A" must have exactly one of Next and End (got neither).'],
        ],
        [
            "States.ALL next to other errors",
            withStates([
                {
                    name: "A",
                    state: callbackTask({ Catch: [{ ErrorEquals: ["States.ALL", "States.Timeout"], Next: "B" }] }),
                },
                { name: "B", state: end },
            ]),
            [
                'State "A" Catch[0]: "States.ALL" must appear alone in ErrorEquals (got ["States.ALL","States.Timeout"]).',
            ],
        ],
        [
            "States.ALL before another rule",
            withStates([
                {
                    name: "A",
                    state: callbackTask({
                        Retry: [{ ErrorEquals: ["States.ALL"] }, { ErrorEquals: ["States.Timeout"] }],
                    }),
                },
            ]),
            ['State "A" Retry[0]: the rule with "States.ALL" must be the last one.'],
        ],
        [
            "a waitForTaskToken body without the token",
            withStates([
                {
                    name: "A",
                    state: callbackTask({ Parameters: { QueueUrl: QUEUE_URL, MessageBody: { "Input.$": "$" } } }),
                },
            ]),
            ['State "A" waits for a task token but its Parameters never pass "$$.Task.Token" to the worker.'],
        ],
        [
            "a waitForTaskToken task without a timeout",
            withStates([{ name: "A", state: callbackTask({ TimeoutSeconds: undefined }) }]),
            [
                'State "A" waits for a task token without TimeoutSeconds: a lost token would hang the execution for a year.',
            ],
        ],
        [
            "HeartbeatSeconds not below TimeoutSeconds",
            withStates([{ name: "A", state: callbackTask({ HeartbeatSeconds: 60 }) }]),
            ['State "A" HeartbeatSeconds must be less than TimeoutSeconds (got 60 >= 60).'],
        ],
        [
            "a callback task in an EXPRESS machine",
            withStates([{ name: "A", state: callbackTask() }]),
            ['State "A" waits for a task token, which EXPRESS state machines do not support: use STANDARD.'],
            "EXPRESS",
        ],
        [
            "an unreachable state",
            withStates([
                { name: "A", state: end },
                { name: "Orphan", state: end },
            ]),
            ['State "Orphan" cannot be reached from StartAt "A".'],
        ],
        [
            "a path that does not start with $",
            withStates([{ name: "A", state: { Type: "Pass", ResultPath: "result" as never, End: true } }]),
            ['State "A" ResultPath must start with "$" (got "result").'],
        ],
        [
            "a dynamic key that is neither a path nor an intrinsic",
            withStates([
                {
                    name: "A",
                    state: callbackTask({
                        Parameters: { MessageBody: { "TaskToken.$": "$$.Task.Token", "Id.$": "id" } },
                    }),
                },
            ]),
            [
                'State "A" Parameters.MessageBody: "Id.$" must be a path starting with "$" or an intrinsic function (got "id").',
            ],
        ],
    ];
    for (const [what, definition, expected, type] of cases) {
        it(`must refuse ${what}`, () => {
            assert.deepEqual(problemsOf(definition, type), expected);
        });
    }

    it("must report every problem at once, in one error", () => {
        const definition = withStates([
            { name: "A", state: callbackTask({ HeartbeatSeconds: 90, Next: "Gone", End: undefined }) },
        ]);
        assert.throws(
            () => validateDefinition(definition, "EXPRESS"),
            (error: unknown) => {
                assert.ok(error instanceof AslValidationError);
                assert.equal(
                    error.message,
                    [
                        "Invalid state machine definition:",
                        '- State "A" goes to "Gone", which is not a state.',
                        '- State "A" HeartbeatSeconds must be less than TimeoutSeconds (got 90 >= 60).',
                        '- State "A" waits for a task token, which EXPRESS state machines do not support: use STANDARD.',
                    ].join("\n"),
                );
                return true;
            },
        );
    });

    it("must agree with asl-validator on a structural defect it also knows", () => {
        const definition = withStates([{ name: "A", state: { Type: "Pass", Next: "Nowhere" } }]);
        assert.equal(independentlyValid(toAsl(definition, "aws")).isValid, false);
        assert.notDeepEqual(problemsOf(definition), []);
    });
});
