import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import aslValidator from "asl-validator";
import {
    AslValidationError,
    definitionProblems,
    integration,
    integrationArn,
    isCallbackTask,
    namedStates,
    StatesErrors,
    statementsOf,
    toAsl,
    transitionsOf,
    validateDefinition,
    walkStates,
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
        const states = namedStates(definition.States);
        const failure = states.find((s) => s.name === STATE_NAMES.notifyFailure)?.state;
        assert.equal(failure?.Type === "Task" && failure.Next, STATE_NAMES.failed);
        assert.equal(states.find((s) => s.name === STATE_NAMES.failed)?.state.Type, "Fail");
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

/** Every state type in JSONPath, with integrations nested in a Parallel branch and a Map processor. */
function jsonPathMachine(): StateMachineDefinition {
    return {
        Comment: "Every state type, JSONPath",
        StartAt: "Reserve",
        States: {
            Reserve: {
                Type: "Parallel",
                Branches: [
                    {
                        StartAt: "Price",
                        States: { Price: { Type: "Pass", Result: { price: 1 }, ResultPath: "$.price", End: true } },
                    },
                    {
                        StartAt: "Hold stock",
                        States: [
                            {
                                name: "Hold stock",
                                state: {
                                    Type: "Task",
                                    Resource: integration("sqs", "sendMessage", "waitForTaskToken"),
                                    Parameters: {
                                        QueueUrl: QUEUE_URL,
                                        MessageBody: { "TaskToken.$": "$$.Task.Token" },
                                    },
                                    TimeoutSeconds: 60,
                                    HeartbeatSeconds: 10,
                                    Catch: [
                                        { ErrorEquals: [StatesErrors.Timeout], ResultPath: "$.error", Next: "Give up" },
                                    ],
                                    End: true,
                                },
                            },
                            { name: "Give up", state: { Type: "Fail", Error: "Hold.TimedOut", Cause: "No answer" } },
                        ],
                    },
                ],
                ResultSelector: { "price.$": "$[0].price" },
                ResultPath: "$.reservation",
                Retry: [{ ErrorEquals: [StatesErrors.ALL], MaxAttempts: 2 }],
                Catch: [{ ErrorEquals: [StatesErrors.ALL], ResultPath: "$.error", Next: "Failed" }],
                Next: "Pause",
            },
            Pause: { Type: "Wait", SecondsPath: "$.delay", Next: "Ship each" },
            "Ship each": {
                Type: "Map",
                ItemsPath: "$.items",
                ItemSelector: { "item.$": "$$.Map.Item.Value" },
                MaxConcurrency: 5,
                ItemProcessor: {
                    ProcessorConfig: { Mode: "INLINE" },
                    StartAt: "Ship",
                    States: {
                        Ship: {
                            Type: "Task",
                            Resource: integration("sns", "publish"),
                            Parameters: { TopicArn: TOPIC_ARN, "Message.$": "$.item" },
                            End: true,
                        },
                    },
                },
                ResultPath: null,
                Next: "Legacy map",
            },
            "Legacy map": {
                Type: "Map",
                ItemsPath: "$.items",
                Iterator: { StartAt: "Echo", States: { Echo: { Type: "Pass", End: true } } },
                ResultPath: "$.echoes",
                Next: "Check",
            },
            Check: {
                Type: "Choice",
                Choices: [{ Variable: "$.ok", BooleanEquals: true, Next: "Done" }],
                Default: "Failed",
            },
            Done: { Type: "Succeed" },
            Failed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
        },
    };
}

/** Every state type in a JSONata machine, with a callback in a branch and a Distributed Map of EXPRESS children. */
function jsonataMachine(): StateMachineDefinition {
    return {
        Comment: "Every state type, JSONata",
        QueryLanguage: "JSONata",
        StartAt: "Reserve",
        States: {
            Reserve: {
                Type: "Parallel",
                Arguments: { order: "{% $states.input.order %}" },
                Branches: [
                    {
                        StartAt: "Hold stock",
                        States: {
                            "Hold stock": {
                                Type: "Task",
                                Resource: integration("sqs", "sendMessage", "waitForTaskToken"),
                                Arguments: {
                                    QueueUrl: QUEUE_URL,
                                    MessageBody: {
                                        token: "{% $states.context.Task.Token %}",
                                        order: "{% $states.input.order %}",
                                    },
                                },
                                TimeoutSeconds: "{% $states.input.order.timeoutSeconds %}",
                                Output: "{% $states.result %}",
                                End: true,
                            },
                        },
                    },
                ],
                Output: { reservation: "{% $states.result[0] %}" },
                Assign: { attempts: 1 },
                Catch: [{ ErrorEquals: [StatesErrors.ALL], Output: "{% $states.errorOutput %}", Next: "Failed" }],
                Next: "Pause",
            },
            Pause: { Type: "Wait", Seconds: "{% $states.input.delay %}", Next: "Ship each" },
            "Ship each": {
                Type: "Map",
                Items: "{% $states.input.items %}",
                ItemSelector: { item: "{% $states.context.Map.Item.Value %}" },
                MaxConcurrency: 5,
                ItemProcessor: {
                    ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" },
                    StartAt: "Ship",
                    States: {
                        Ship: {
                            Type: "Task",
                            Resource: integration("sns", "publish"),
                            Arguments: { TopicArn: TOPIC_ARN, Message: "{% $string($states.input.item) %}" },
                            End: true,
                        },
                    },
                },
                Next: "Check",
            },
            Check: {
                Type: "Choice",
                Choices: [{ Condition: "{% $states.input.ok = true %}", Next: "Done" }],
                Default: "Failed",
            },
            Done: { Type: "Succeed", Output: "{% $states.input %}" },
            Failed: { Type: "Fail", Error: "{% 'Order.Failed' %}", Cause: "{% $string($states.input) %}" },
        },
    };
}

/** A JSONPath machine converted one state at a time: a JSONata state, and a branch whose states are JSONata. */
function mixedMachine(): StateMachineDefinition {
    return {
        StartAt: "Prepare",
        States: {
            Prepare: {
                Type: "Pass",
                QueryLanguage: "JSONata",
                Output: { id: "{% $states.input.id %}" },
                Next: "Fan out",
            },
            "Fan out": {
                Type: "Parallel",
                Branches: [
                    { StartAt: "Old", States: { Old: { Type: "Pass", Parameters: { "id.$": "$.id" }, End: true } } },
                    {
                        QueryLanguage: "JSONata",
                        StartAt: "New",
                        States: { New: { Type: "Pass", Output: "{% $states.input.id %}", End: true } },
                    },
                ],
                End: true,
            },
        },
    };
}

/**
 * A copy of a definition with `change` applied at `path`: state names, each followed by "branch N",
 * "ItemProcessor" or "Iterator" to go into it; a path ending at a branch or processor changes that.
 */
function withState(
    definition: StateMachineDefinition,
    path: readonly string[],
    change: (state: Record<string, unknown>) => Record<string, unknown>,
): StateMachineDefinition {
    const edit = (scope: Record<string, unknown>, rest: readonly string[]): Record<string, unknown> => {
        const [name, container, ...deeper] = rest;
        if (name === undefined) {
            return change(scope);
        }
        const states = Object.fromEntries(
            namedStates(scope["States"] as StateMachineDefinition["States"]).map((s) => [s.name, s.state]),
        ) as unknown as Record<string, Record<string, unknown>>;
        const state = states[name] as Record<string, unknown>;
        let next: Record<string, unknown>;
        if (container === undefined) {
            next = change(state);
        } else if (container.startsWith("branch ")) {
            const index = Number(container.slice("branch ".length)) - 1;
            const branches = [...(state["Branches"] as Record<string, unknown>[])];
            branches[index] = edit(branches[index] as Record<string, unknown>, deeper);
            next = { ...state, Branches: branches };
        } else {
            next = { ...state, [container]: edit(state[container] as Record<string, unknown>, deeper) };
        }
        return { ...scope, States: { ...states, [name]: next } };
    };
    return edit(definition as unknown as Record<string, unknown>, path) as unknown as StateMachineDefinition;
}

describe("ASL of every state type, nested", () => {
    for (const [language, machine] of [
        ["JSONPath", jsonPathMachine],
        ["JSONata", jsonataMachine],
        ["mixed", mixedMachine],
    ] as const) {
        it(`must render ${language} definitions valid for asl-validator and for its own rules`, () => {
            assert.deepEqual(definitionProblems(machine()), []);
            const result = independentlyValid(toAsl(machine(), "aws"));
            assert.deepEqual(result.errors, []);
            assert.equal(result.isValid, true);
        });
    }

    it("must resolve integrations nested in Parallel branches and Map processors to ARNs in the partition", () => {
        const asl = toAsl(jsonPathMachine(), "aws-cn") as {
            States: Record<
                string,
                { Branches?: { States: Record<string, { Resource: unknown }> }[] } & Record<string, unknown>
            >;
        };
        const reserve = asl.States["Reserve"]?.Branches?.[1]?.States["Hold stock"]?.Resource;
        assert.equal(reserve, "arn:aws-cn:states:::sqs:sendMessage.waitForTaskToken");
        const ship = (asl.States["Ship each"]?.["ItemProcessor"] as { States: Record<string, { Resource: unknown }> })
            .States["Ship"]?.Resource;
        assert.equal(ship, "arn:aws-cn:states:::sns:publish");
        assert.equal(JSON.stringify(asl).includes('"service"'), false);
    });

    it("must render and validate States given as lists and as objects alike, at every depth", () => {
        const asLists = (definition: StateMachineDefinition): StateMachineDefinition => {
            const lists = (scope: Record<string, unknown>): Record<string, unknown> => ({
                ...scope,
                States: namedStates(scope["States"] as StateMachineDefinition["States"]).map(({ name, state }) => {
                    const s = state as unknown as Record<string, unknown>;
                    const nested: Record<string, unknown> = { ...s };
                    if (Array.isArray(s["Branches"])) {
                        nested["Branches"] = (s["Branches"] as Record<string, unknown>[]).map(lists);
                    }
                    for (const key of ["ItemProcessor", "Iterator"]) {
                        if (s[key] !== undefined) {
                            nested[key] = lists(s[key] as Record<string, unknown>);
                        }
                    }
                    return { name, state: nested };
                }),
            });
            return lists(definition as unknown as Record<string, unknown>) as unknown as StateMachineDefinition;
        };
        for (const machine of [jsonPathMachine, jsonataMachine]) {
            const lists = asLists(machine());
            assert.ok(Array.isArray(lists.States));
            assert.deepStrictEqual(toAsl(lists, "aws"), toAsl(machine(), "aws"));
            const broken = withState(machine(), ["Reserve", "branch 1"], (branch) => ({ ...branch, StartAt: "Nope" }));
            assert.notDeepEqual(problemsOf(broken), []);
            assert.deepEqual(problemsOf(asLists(broken)), problemsOf(broken));
        }
    });

    it("must keep the machine's QueryLanguage, and render a branch's onto its states", () => {
        assert.equal(toAsl(jsonataMachine(), "aws")["QueryLanguage"], "JSONata");
        assert.equal("QueryLanguage" in toAsl(jsonPathMachine(), "aws"), false);
        const branches = (toAsl(mixedMachine(), "aws")["States"] as Record<string, { Branches: unknown[] }>)["Fan out"]
            ?.Branches;
        assert.deepStrictEqual(branches, [
            { StartAt: "Old", States: { Old: { Type: "Pass", Parameters: { "id.$": "$.id" }, End: true } } },
            {
                StartAt: "New",
                States: {
                    New: { Type: "Pass", Output: "{% $states.input.id %}", End: true, QueryLanguage: "JSONata" },
                },
            },
        ]);
    });

    it("must never render nor check data kept under symbol keys", () => {
        const grants = Symbol.for("callback-workflow/task-grants");
        const tagged = withState(jsonPathMachine(), ["Reserve", "branch 2", "Hold stock"], (state) => ({
            ...state,
            [grants]: [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: QUEUE_ARN }],
        }));
        const asl = toAsl(tagged, "aws");
        const symbolsIn = (value: unknown): number =>
            typeof value === "object" && value !== null
                ? Object.getOwnPropertySymbols(value).length +
                  Object.values(value).reduce<number>((n, v) => n + symbolsIn(v), 0)
                : 0;
        assert.equal(symbolsIn(asl), 0);
        assert.deepStrictEqual(asl, toAsl(jsonPathMachine(), "aws"));
        assert.deepEqual(definitionProblems(tagged), []);
        let seen: unknown;
        walkStates(tagged, (name, state) => {
            if (name === "Hold stock") {
                seen = (state as unknown as Record<symbol, unknown>)[grants];
            }
        });
        assert.deepEqual(seen, [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: QUEUE_ARN }]);
    });

    it("must walk every state at every depth with its path, language and EXPRESS-child flag", () => {
        const walked = (definition: StateMachineDefinition) => {
            const seen: unknown[] = [];
            walkStates(definition, (name, state, { path, queryLanguage, expressChild }) =>
                seen.push([[...path, name].join(" / "), state.Type, queryLanguage, expressChild]),
            );
            return seen;
        };
        assert.deepEqual(walked(jsonataMachine()), [
            ["Reserve", "Parallel", "JSONata", false],
            ['Parallel "Reserve" / branch 1 / Hold stock', "Task", "JSONata", false],
            ["Pause", "Wait", "JSONata", false],
            ["Ship each", "Map", "JSONata", false],
            ['Map "Ship each" / ItemProcessor / Ship', "Task", "JSONata", true],
            ["Check", "Choice", "JSONata", false],
            ["Done", "Succeed", "JSONata", false],
            ["Failed", "Fail", "JSONata", false],
        ]);
        assert.deepEqual(walked(mixedMachine()), [
            ["Prepare", "Pass", "JSONata", false],
            ["Fan out", "Parallel", "JSONPath", false],
            ['Parallel "Fan out" / branch 1 / Old', "Pass", "JSONPath", false],
            ['Parallel "Fan out" / branch 2 / New', "Pass", "JSONata", false],
        ]);
        const legacy = walked(jsonPathMachine()).filter((entry) => String((entry as unknown[])[0]).includes("Legacy"));
        assert.deepEqual(legacy, [
            ["Legacy map", "Map", "JSONPath", false],
            ['Map "Legacy map" / Iterator / Echo', "Pass", "JSONPath", false],
        ]);
    });

    it("must recognise callback tasks in both languages", () => {
        const callbacks: string[] = [];
        for (const machine of [jsonPathMachine(), jsonataMachine()]) {
            walkStates(machine, (name, state, { queryLanguage }) => {
                if (isCallbackTask(state)) {
                    callbacks.push(`${queryLanguage} ${name}`);
                }
            });
        }
        assert.deepEqual(callbacks, ["JSONPath Hold stock", "JSONata Hold stock"]);
    });

    it("must list the transitions of every state type, Catch included", () => {
        const states = namedStates(jsonPathMachine().States);
        assert.deepEqual(
            states.map(({ name, state }) => [name, transitionsOf(state)]),
            [
                ["Reserve", ["Pause", "Failed"]],
                ["Pause", ["Ship each"]],
                ["Ship each", ["Legacy map"]],
                ["Legacy map", ["Check"]],
                ["Check", ["Done", "Failed"]],
                ["Done", []],
                ["Failed", []],
            ],
        );
        assert.deepEqual(
            transitionsOf({
                Type: "Map",
                Iterator: { StartAt: "x", States: [] },
                Catch: [{ ErrorEquals: ["E"], Next: "C" }],
                Next: "N",
            }),
            ["N", "C"],
        );
    });
});

describe("ASL validation at every depth", () => {
    const HOLD = ["Reserve", "branch 2", "Hold stock"];
    const HOLD_JSONATA = ["Reserve", "branch 1", "Hold stock"];
    const SHIP = ["Ship each", "ItemProcessor", "Ship"];
    const without = (key: string) => (state: Record<string, unknown>) => {
        const { [key]: _dropped, ...rest } = state;
        return rest;
    };
    const set = (fields: Record<string, unknown>) => (state: Record<string, unknown>) => ({ ...state, ...fields });
    const callbackIn = (fields: Record<string, unknown> = {}) =>
        set({
            Type: "Task",
            Resource: integration("sqs", "sendMessage", "waitForTaskToken"),
            Arguments: { QueueUrl: QUEUE_URL, MessageBody: { token: "{% $states.context.Task.Token %}" } },
            TimeoutSeconds: 60,
            ...fields,
        });

    const cases: Array<[string, StateMachineDefinition, string[], ("STANDARD" | "EXPRESS")?]> = [
        [
            "a transition out of a Parallel branch",
            withState(jsonPathMachine(), HOLD, set({ End: undefined, Next: "Failed" })),
            [
                'State "Reserve" > branch 2 > State "Hold stock" goes to "Failed", which is not a state of branch 2: transitions cannot leave a branch or a Map\'s processor.',
            ],
        ],
        [
            "a Catch rule without Next (and nothing else unreachable for it)",
            withState(jsonPathMachine(), ["Reserve"], set({ Catch: [{ ErrorEquals: ["States.ALL"] }] })),
            ['State "Reserve" goes to nothing, which is not a state name.'],
        ],
        [
            "a branch whose StartAt is not one of its states",
            withState(jsonPathMachine(), ["Reserve", "branch 1"], set({ StartAt: "Pause" })),
            ['State "Reserve" > branch 1: StartAt names "Pause", which is not a state.'],
        ],
        [
            "an unreachable state in a Map processor",
            withState(jsonPathMachine(), ["Ship each", "ItemProcessor"], (processor) => ({
                ...processor,
                States: { ...(processor["States"] as object), Orphan: { Type: "Succeed" } },
            })),
            ['State "Ship each" > ItemProcessor > State "Orphan" cannot be reached from StartAt "Ship".'],
        ],
        [
            "a duplicate state in a branch listed as an array",
            withState(jsonPathMachine(), ["Reserve", "branch 2"], (branch) => ({
                ...branch,
                States: [...(branch["States"] as NamedState[]), { name: "Give up", state: { Type: "Succeed" } }],
            })),
            ['State "Reserve" > branch 2 > State "Give up" is defined more than once.'],
        ],
        [
            "a Wait with neither Next nor End",
            withState(jsonPathMachine(), ["Pause"], without("Next")),
            [
                'State "Pause" must have exactly one of Next and End (got neither).',
                'State "Ship each" cannot be reached from StartAt "Reserve".',
                'State "Legacy map" cannot be reached from StartAt "Reserve".',
                'State "Check" cannot be reached from StartAt "Reserve".',
                'State "Done" cannot be reached from StartAt "Reserve".',
            ],
        ],
        [
            "a Parallel with both Next and End",
            withState(jsonPathMachine(), ["Reserve"], set({ End: true })),
            ['State "Reserve" must have exactly one of Next and End (got both).'],
        ],
        [
            "a Map with neither Next nor End",
            withState(jsonPathMachine(), ["Legacy map"], without("Next")),
            [
                'State "Legacy map" must have exactly one of Next and End (got neither).',
                'State "Check" cannot be reached from StartAt "Reserve".',
                'State "Done" cannot be reached from StartAt "Reserve".',
            ],
        ],
        [
            "a Parallel without branches",
            withState(jsonPathMachine(), ["Reserve"], set({ Branches: [] })),
            ['State "Reserve" must have at least one branch in Branches.'],
        ],
        [
            "a Map with both ItemProcessor and Iterator",
            withState(
                jsonPathMachine(),
                ["Legacy map"],
                set({ ItemProcessor: { StartAt: "E", States: { E: { Type: "Succeed" } } } }),
            ),
            ['State "Legacy map" must have exactly one of ItemProcessor and Iterator (got both).'],
        ],
        [
            "a Map with neither ItemProcessor nor Iterator",
            withState(jsonPathMachine(), ["Legacy map"], without("Iterator")),
            ['State "Legacy map" must have exactly one of ItemProcessor and Iterator (got none).'],
        ],
        [
            "a Distributed Map without an ExecutionType",
            withState(jsonPathMachine(), ["Ship each"], (map) => ({
                ...map,
                ItemProcessor: { ...(map["ItemProcessor"] as object), ProcessorConfig: { Mode: "DISTRIBUTED" } },
            })),
            [
                'State "Ship each" is a Distributed Map: its ProcessorConfig.ExecutionType must be "STANDARD" or "EXPRESS" (got nothing).',
            ],
        ],
        [
            "a Wait with two durations",
            withState(jsonPathMachine(), ["Pause"], set({ Seconds: 5 })),
            [
                'State "Pause" must have exactly one of Seconds, Timestamp, SecondsPath and TimestampPath (got Seconds, SecondsPath).',
            ],
        ],
        [
            "a Wait without a duration",
            withState(jsonPathMachine(), ["Pause"], without("SecondsPath")),
            ['State "Pause" must have exactly one of Seconds, Timestamp, SecondsPath and TimestampPath (got none).'],
        ],
        [
            "a Wait of negative seconds",
            withState(jsonPathMachine(), ["Pause"], (state) => ({ ...without("SecondsPath")(state), Seconds: -1 })),
            ['State "Pause" Seconds must be an integer from 0 to 99999999 (got -1).'],
        ],
        [
            "a nested JSONPath callback without the token",
            withState(
                jsonPathMachine(),
                HOLD,
                set({ Parameters: { QueueUrl: QUEUE_URL, MessageBody: { "Input.$": "$" } } }),
            ),
            [
                'State "Reserve" > branch 2 > State "Hold stock" waits for a task token but its Parameters never pass "$$.Task.Token" to the worker.',
            ],
        ],
        [
            "a nested JSONata callback without the token",
            withState(
                jsonataMachine(),
                HOLD_JSONATA,
                set({ Arguments: { QueueUrl: QUEUE_URL, MessageBody: "{% $states.input %}" } }),
            ),
            [
                'State "Reserve" > branch 1 > State "Hold stock" waits for a task token but its Arguments never pass "{% $states.context.Task.Token %}" to the worker.',
            ],
        ],
        [
            "a JSONata callback that names the token outside an expression",
            withState(
                jsonataMachine(),
                HOLD_JSONATA,
                set({ Arguments: { MessageBody: "$states.context.Task.Token" } }),
            ),
            [
                'State "Reserve" > branch 1 > State "Hold stock" waits for a task token but its Arguments never pass "{% $states.context.Task.Token %}" to the worker.',
            ],
        ],
        [
            "a nested JSONata callback without a timeout",
            withState(jsonataMachine(), HOLD_JSONATA, without("TimeoutSeconds")),
            [
                'State "Reserve" > branch 1 > State "Hold stock" waits for a task token without TimeoutSeconds: a lost token would hang the execution for a year.',
            ],
        ],
        [
            "a nested HeartbeatSeconds not below TimeoutSeconds",
            withState(jsonPathMachine(), HOLD, set({ HeartbeatSeconds: 60 })),
            [
                'State "Reserve" > branch 2 > State "Hold stock" HeartbeatSeconds must be less than TimeoutSeconds (got 60 >= 60).',
            ],
        ],
        [
            "a nested callback in an EXPRESS machine",
            jsonPathMachine(),
            [
                'State "Reserve" > branch 2 > State "Hold stock" waits for a task token, which EXPRESS state machines do not support: use STANDARD.',
            ],
            "EXPRESS",
        ],
        [
            "a callback in the EXPRESS children of a Distributed Map",
            withState(jsonataMachine(), SHIP, callbackIn()),
            [
                'State "Ship each" > ItemProcessor > State "Ship" waits for a task token, which the EXPRESS child executions of Distributed Map "Ship each" do not support: use ExecutionType STANDARD.',
            ],
        ],
        [
            "a callback deeper inside the EXPRESS children of a Distributed Map",
            withState(jsonataMachine(), SHIP, () => ({
                Type: "Parallel",
                Branches: [{ StartAt: "Ask", States: { Ask: callbackIn({ End: true })({}) } }],
                End: true,
            })),
            [
                'State "Ship each" > ItemProcessor > State "Ship" > branch 1 > State "Ask" waits for a task token, which the EXPRESS child executions of Distributed Map "Ship each" do not support: use ExecutionType STANDARD.',
            ],
        ],
        [
            "JSONPath fields in a JSONata state",
            withState(
                jsonataMachine(),
                ["Ship each"],
                set({ ItemsPath: "$.items", ResultPath: "$.shipped", Parameters: { a: 1 } }),
            ),
            [
                'State "Ship each" must not set both ItemSelector and Parameters.',
                'State "Ship each" must not set both Items and ItemsPath.',
                'State "Ship each" is JSONata but sets Parameters, a JSONPath field: use Arguments (ItemSelector in a Map).',
                'State "Ship each" is JSONata but sets ResultPath, a JSONPath field: use Output (and Assign).',
                'State "Ship each" is JSONata but sets ItemsPath, a JSONPath field: use Items.',
            ],
        ],
        [
            "InputPath and a .$ key in a nested JSONata state",
            withState(jsonataMachine(), HOLD_JSONATA, (state) => ({
                ...state,
                InputPath: "$.order",
                Arguments: { ...(state["Arguments"] as object), "Order.$": "$.order" },
            })),
            [
                'State "Reserve" > branch 1 > State "Hold stock" is JSONata but sets InputPath, a JSONPath field: read $states.input in Arguments or Output.',
                'State "Reserve" > branch 1 > State "Hold stock" Arguments: "Order.$" ends in ".$", which JSONata states do not use: write "Order": "{% ... %}".',
            ],
        ],
        [
            "a Variable rule in a JSONata Choice",
            withState(
                jsonataMachine(),
                ["Check"],
                set({ Choices: [{ Variable: "$.ok", BooleanEquals: true, Next: "Done" }] }),
            ),
            [
                'State "Check" is JSONata but Choices[0] uses Variable, a JSONPath choice rule: test a Condition "{% ... %}".',
                'State "Check" Choices[0].Condition must be a JSONata expression "{% ... %}" (got nothing).',
            ],
        ],
        [
            "a ResultPath in a JSONata Catch",
            withState(
                jsonataMachine(),
                ["Reserve"],
                set({ Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.e", Next: "Failed" }] }),
            ),
            ['State "Reserve" is JSONata but Catch[0] sets ResultPath, a JSONPath field: use Output.'],
        ],
        [
            "a JSONata TimeoutSeconds that is a string but no expression",
            withState(jsonataMachine(), HOLD_JSONATA, set({ TimeoutSeconds: "60" })),
            [
                'State "Reserve" > branch 1 > State "Hold stock" TimeoutSeconds must be a number or a JSONata expression "{% ... %}" (got "60").',
            ],
        ],
        [
            "an expression that opens {% without closing it",
            withState(jsonataMachine(), ["Done"], set({ Output: { id: "{% $states.input.id" } })),
            [
                'State "Done" Output.id: "{% $states.input.id" opens a JSONata expression with "{%" but does not close it with "%}".',
            ],
        ],
        [
            "a JSONata expression that does not parse",
            withState(
                jsonataMachine(),
                ["Check"],
                set({ Choices: [{ Condition: "{% $states.input.ok = %}", Next: "Done" }] }),
            ),
            [
                'State "Check" Choices[0].Condition: the JSONata expression "{% $states.input.ok = %}" does not parse: Unexpected end of expression (at character 20 of the expression).',
            ],
        ],
        [
            "a nested JSONata expression that does not parse",
            withState(jsonataMachine(), HOLD_JSONATA, (state) => ({
                ...state,
                Arguments: { ...(state["Arguments"] as object), Order: "{% $states.input.order)) %}" },
            })),
            [
                'State "Reserve" > branch 1 > State "Hold stock" Arguments.Order: the JSONata expression "{% $states.input.order)) %}" does not parse: Syntax error: ")" (at character 21 of the expression).',
            ],
        ],
        [
            "JSONata fields in a JSONPath state",
            withState(jsonPathMachine(), ["Ship each"], set({ Items: [1, 2], Output: { a: 1 } })),
            [
                'State "Ship each" must not set both Items and ItemsPath.',
                'State "Ship each" is JSONPath but sets Output, a JSONata field: set its QueryLanguage to "JSONata".',
                'State "Ship each" is JSONPath but sets Items, a JSONata field: set its QueryLanguage to "JSONata".',
            ],
        ],
        [
            "Arguments in a nested JSONPath task",
            withState(jsonPathMachine(), SHIP, set({ Arguments: { TopicArn: TOPIC_ARN } })),
            [
                'State "Ship each" > ItemProcessor > State "Ship" is JSONPath but sets Arguments, a JSONata field: set its QueryLanguage to "JSONata".',
            ],
        ],
        [
            "a Condition in a JSONPath Choice",
            withState(jsonPathMachine(), ["Check"], set({ Choices: [{ Condition: "{% true %}", Next: "Done" }] })),
            ['State "Check" is JSONPath but Choices[0] sets Condition, a JSONata field: compare a Variable.'],
        ],
        [
            "an Output in a JSONPath Catch",
            withState(
                jsonPathMachine(),
                ["Reserve"],
                set({ Catch: [{ ErrorEquals: ["States.ALL"], Output: "{% 1 %}", Next: "Failed" }] }),
            ),
            ['State "Reserve" is JSONPath but Catch[0] sets Output, a JSONata field: use ResultPath.'],
        ],
        [
            "a JSONPath state in a JSONata machine",
            withState(jsonataMachine(), ["Pause"], () => ({
                Type: "Wait",
                QueryLanguage: "JSONPath",
                SecondsPath: "$.delay",
                Next: "Ship each",
            })),
            [
                'State "Pause" sets QueryLanguage "JSONPath" in a JSONata state machine: JSONata cannot hold JSONPath states.',
            ],
        ],
        [
            "a JSONPath branch in a JSONata machine",
            withState(jsonataMachine(), ["Reserve", "branch 1"], () => ({
                QueryLanguage: "JSONPath",
                StartAt: "Hold",
                States: { Hold: { Type: "Pass", ResultPath: "$.held", End: true } },
            })),
            [
                'State "Reserve" > branch 1 sets QueryLanguage "JSONPath" in a JSONata state machine: JSONata cannot hold JSONPath states.',
            ],
        ],
        [
            "a QueryLanguage that is neither",
            { ...jsonPathMachine(), QueryLanguage: "JSONPointer" as never },
            ['QueryLanguage must be "JSONPath" or "JSONata" (got "JSONPointer").'],
        ],
        [
            "a path in a nested JSONPath Catch that does not start with $",
            withState(
                jsonPathMachine(),
                HOLD,
                set({ Catch: [{ ErrorEquals: ["States.Timeout"], ResultPath: "error", Next: "Give up" }] }),
            ),
            ['State "Reserve" > branch 2 > State "Hold stock" Catch[0].ResultPath must start with "$" (got "error").'],
        ],
    ];
    for (const [what, definition, expected, type] of cases) {
        it(`must refuse ${what}`, () => {
            assert.deepEqual(problemsOf(definition, type), expected);
        });
    }
});

describe("ASL validation of any input shape", () => {
    /** Throws unless validation returns or throws an AslValidationError (and walking does not throw). */
    /**
     * Throws unless validation returns or throws an AslValidationError whose problems are the rules'
     * own, not the last-resort "could not be checked" that hides a crash (and walking does not throw).
     */
    function onlyAslErrors(definition: unknown, what: string, crashes = false): "valid" | "invalid" {
        walkStates(definition as StateMachineDefinition, () => undefined);
        try {
            validateDefinition(definition as StateMachineDefinition);
            return "valid";
        } catch (error) {
            assert.ok(error instanceof AslValidationError, `${what}: threw ${String(error)}`);
            assert.ok(error.problems.length > 0 && error.problems.every((p) => typeof p === "string"), what);
            assert.equal(
                error.problems.some((p) => p.includes("could not be checked")),
                crashes,
                what,
            );
            return "invalid";
        }
    }

    const garbage: unknown[] = [
        null,
        undefined,
        0,
        -1,
        1.5,
        "",
        "x",
        true,
        [],
        {},
        [null],
        { Type: 5 },
        { Type: "Map" },
    ];

    it("must throw only AslValidationError for malformed definitions", () => {
        const cyclic = { StartAt: "A", States: { A: { Type: "Parallel", Branches: [] as unknown[], End: true } } };
        cyclic.States.A.Branches.push(cyclic);
        const parameters: Record<string, unknown> = { "a.$": "$" };
        parameters["self"] = parameters;
        const cyclicPayload = { StartAt: "A", States: { A: { Type: "Pass", Parameters: parameters, End: true } } };
        const sparse: unknown[] = [];
        sparse[2] = { name: "A", state: { Type: "Succeed" } };
        const shapes: unknown[] = [
            ...garbage,
            { StartAt: 5, States: null },
            { StartAt: "A", States: "A" },
            { StartAt: "A", States: [null, 5, { name: 5 }, { name: "A" }] },
            { StartAt: "A", States: { A: null } },
            { StartAt: "A", States: { A: { Type: "Parallel", End: true } } },
            { StartAt: "A", States: { A: { Type: "Parallel", Branches: "x", End: true } } },
            {
                StartAt: "A",
                States: {
                    A: { Type: "Parallel", Branches: [null, { States: 5 }, { StartAt: [], States: [] }], End: true },
                },
            },
            { StartAt: "A", States: { A: { Type: "Map", ItemProcessor: "x", Iterator: null, End: true } } },
            {
                StartAt: "A",
                States: {
                    A: {
                        Type: "Map",
                        ItemProcessor: { ProcessorConfig: 7, StartAt: "B", States: { B: 1 } },
                        End: true,
                    },
                },
            },
            {
                StartAt: "A",
                States: {
                    A: { Type: "Task", Resource: null, Retry: "x", Catch: [null, { ErrorEquals: "x" }], End: true },
                },
            },
            {
                StartAt: "A",
                States: {
                    A: {
                        Type: "Task",
                        Resource: integration("sqs", "sendMessage", "waitForTaskToken"),
                        Parameters: "x",
                        Arguments: [null],
                        End: 1,
                    },
                },
            },
            {
                QueryLanguage: "JSONata",
                StartAt: "A",
                States: {
                    A: {
                        Type: "Task",
                        Resource: "arn:aws:states:::x",
                        Arguments: 5,
                        Output: [{ "a.$": null }],
                        TimeoutSeconds: {},
                        End: true,
                    },
                },
            },
            { StartAt: "A", States: { A: { Type: "Choice", Choices: [null, 5, { Next: 5 }], Default: {} } } },
            {
                QueryLanguage: "JSONata",
                StartAt: "A",
                States: { A: { Type: "Choice", Choices: [{ Condition: 5, Next: "A", Or: null }] } },
            },
            { StartAt: "A", States: { A: { Type: "Wait", Seconds: "x", Timestamp: 5, Next: ["A"] } } },
            {
                StartAt: "A",
                States: { A: { Type: "Pass", Parameters: { "a.$": { b: 1 } }, Next: { A: 1 }, Catch: 5 } },
            },
            { StartAt: "A", QueryLanguage: 5, States: { A: { Type: "Fail", QueryLanguage: [], ErrorPath: 5 } } },
            { StartAt: "A", States: { A: { Type: "Succeed", [Symbol.for("x")]: null, InputPath: 5 } } },
            cyclic,
            cyclicPayload,
            { StartAt: "A", States: sparse },
            {
                StartAt: "P",
                States: { P: { Type: "Parallel", Branches: [{ StartAt: "A", States: sparse }], End: true } },
            },
        ];
        shapes.forEach((shape, index) => onlyAslErrors(shape, `shape ${index}`, shape === cyclicPayload));
        assert.deepEqual(problemsOf(cyclic as never), [
            'State "A" > branch 1 is the very object it is nested in: a definition cannot contain itself.',
        ]);
        assert.deepEqual(problemsOf(cyclicPayload as never), [
            "The definition could not be checked: RangeError: Maximum call stack size exceeded.",
        ]);
    });

    it("must throw only AslValidationError for valid definitions with any part replaced or removed", () => {
        // A small deterministic PRNG (mulberry32) so a failure can be replayed.
        let seed = 12345;
        const random = (): number => {
            seed = (seed + 0x6d2b79f5) | 0;
            let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
            t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
            return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        const pathsOf = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] =>
            typeof value === "object" && value !== null
                ? Object.entries(value).flatMap(([key, item]) => {
                      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
                      return [path, ...pathsOf(item, path)];
                  })
                : [];
        const outcomes = { valid: 0, invalid: 0 };
        const followingOurRules: unknown[] = [];
        for (const machine of [jsonPathMachine, jsonataMachine, mixedMachine]) {
            const paths = pathsOf(machine());
            for (let round = 0; round < 120; round++) {
                const copy = structuredClone(machine()) as unknown as Record<string | number, unknown>;
                const path = paths[Math.floor(random() * paths.length)] as (string | number)[];
                let parent: Record<string | number, unknown> = copy;
                for (const key of path.slice(0, -1)) {
                    parent = parent[key] as Record<string | number, unknown>;
                }
                const last = path[path.length - 1] as string | number;
                if (random() < 0.2) {
                    delete parent[last];
                } else {
                    parent[last] = garbage[Math.floor(random() * garbage.length)];
                }
                // The project's own rules on every copy; asl-validator too (slow) on a few that pass them.
                const what = `${machine.name} with ${path.join(".")} changed`;
                walkStates(copy as unknown as StateMachineDefinition, () => undefined);
                const problems = definitionProblems(copy as unknown as StateMachineDefinition);
                assert.ok(
                    problems.every((p) => typeof p === "string" && !p.includes("could not be checked")),
                    what,
                );
                outcomes[problems.length === 0 ? "valid" : "invalid"]++;
                if (problems.length === 0 && followingOurRules.length < 1) {
                    followingOurRules.push(copy);
                }
            }
        }
        followingOurRules.forEach((copy, index) => onlyAslErrors(copy, `copy ${index} that follows our rules`));
        // Most changes break the definition; both outcomes occur, so the changes reach the validator.
        assert.ok(outcomes.invalid > outcomes.valid && outcomes.valid > 0, JSON.stringify(outcomes));
    });
});

describe("asl-validator as a second opinion", () => {
    it("must report asl-validator's errors, prefixed, on what the project's own rules do not check", () => {
        const badArn = withState(jsonPathMachine(), ["Ship each", "ItemProcessor", "Ship"], (state) => ({
            ...state,
            Resource: "sns-publish",
        }));
        assert.deepEqual(definitionProblems(badArn), []);
        assert.deepEqual(problemsOf(badArn), [
            "asl-validator: SCHEMA_VALIDATION_FAILED: /States/Ship each/ItemProcessor/States/Ship/Resource is invalid. must match exactly one schema in oneOf",
        ]);
        const sameNames = withState(jsonPathMachine(), ["Reserve", "branch 1"], () => ({
            StartAt: "Pause",
            States: { Pause: { Type: "Pass", End: true } },
        }));
        assert.deepEqual(problemsOf(sameNames), [
            "asl-validator: DUPLICATE_STATE_NAMES: A state with this name already exists: Pause",
        ]);
    });

    it("must not run asl-validator on a definition its own rules refuse", () => {
        const definition = withStates([{ name: "A", state: { Type: "Pass", Next: "Nowhere" } }]);
        assert.deepEqual(problemsOf(definition), ['State "A" goes to "Nowhere", which is not a state.']);
    });

    it("must check definitions holding Outputs and promises, with placeholders in their stead", () => {
        const definition = withState(jsonataMachine(), ["Reserve", "branch 1", "Hold stock"], (state) => ({
            ...state,
            Arguments: {
                QueueUrl: pulumi.output(QUEUE_URL),
                MessageBody: {
                    token: "{% $states.context.Task.Token %}",
                    tags: [pulumi.output("a"), Promise.resolve("b")],
                },
            },
        }));
        const lambda = withState(definition, ["Ship each", "ItemProcessor", "Ship"], (state) => ({
            ...state,
            Resource: pulumi.output("arn:aws:lambda:eu-west-1:123456789012:function:ship"),
        }));
        assert.deepEqual(problemsOf(lambda), []);
        const broken = withState(lambda, ["Pause"], (state) => ({
            ...state,
            Seconds: undefined,
            Timestamp: undefined,
        }));
        assert.deepEqual(problemsOf(broken), [
            'State "Pause" must have exactly one of Seconds, Timestamp, SecondsPath and TimestampPath (got none).',
        ]);
    });
});
