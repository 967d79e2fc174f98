/**
 * policy/lib/asl-validate.ts gives asl-validator's verdicts word for word: the published validator and the
 * compiled-once one run over the same definitions (valid and invalid, every state type, JSONPath and
 * JSONata, nested Parallel and Map, and one-defect mutations of every state of the valid ones) and must
 * return the same `isValid` and the same `errors`, or throw the same error. Correctness only: the bench
 * (bench/policy.ts) measures the speed.
 */
import { strict as assert } from "node:assert";
import aslValidator from "asl-validator";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the exports object validator.js reads
import schemaErrorsModule = require("asl-validator/dist/src/checks/json-schema-errors");
import { toAsl } from "../components/asl";
import { callbackDefinition } from "../components/definition";
import { schemaChecks, validateAsl, type AslValidationOptions } from "../policy/lib/asl-validate";
import { expectedDefinition } from "./fixtures/expected-definition";

type Json = Record<string, unknown>;

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/work";
const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:work";
const TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:notify";
const SQS_WAIT = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
const SNS_PUBLISH = "arn:aws:states:::sns:publish";
const LAMBDA = "arn:aws:states:::lambda:invoke";

/** The project's own definition as the component renders it, with and without heartbeat and key. */
function rendered(): [string, unknown][] {
    const base = { queueUrl: QUEUE_URL, queueArn: QUEUE_ARN, topicArn: TOPIC_ARN, taskTimeoutSeconds: 3600 };
    return [
        ["callbackDefinition", toAsl(callbackDefinition({ ...base, messageTitle: "Approve" }).definition, "aws")],
        [
            "callbackDefinition, heartbeat and KMS key",
            toAsl(
                callbackDefinition({
                    ...base,
                    messageTitle: "Approve",
                    heartbeatSeconds: 300,
                    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234",
                }).definition,
                "aws-cn",
            ),
        ],
        [
            "expectedDefinition fixture",
            expectedDefinition({ queueUrl: QUEUE_URL, topicArn: TOPIC_ARN, messageTitle: "Go", timeoutSeconds: 60 }),
        ],
    ];
}

/** Every state type, JSONPath: Pass, Task (callback, Retry, Catch), Parallel with a nested Map, Wait, inline and legacy Map, Choice, Succeed, Fail. */
function jsonPathMachine(): Json {
    return {
        Comment: "Every state type, JSONPath",
        StartAt: "Prepare",
        TimeoutSeconds: 7200,
        States: {
            Prepare: {
                Type: "Pass",
                Parameters: { "order.$": "$.order", "id.$": "States.UUID()", fixed: 1 },
                ResultPath: "$.prepared",
                Next: "Ask",
            },
            Ask: {
                Type: "Task",
                Resource: SQS_WAIT,
                Parameters: { QueueUrl: QUEUE_URL, MessageBody: { "TaskToken.$": "$$.Task.Token", "input.$": "$" } },
                TimeoutSeconds: 600,
                HeartbeatSeconds: 60,
                ResultSelector: { "answer.$": "$.answer" },
                ResultPath: "$.callback",
                Retry: [{ ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
                Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
                Next: "Reserve",
            },
            Reserve: {
                Type: "Parallel",
                Branches: [
                    {
                        StartAt: "Hold",
                        States: {
                            Hold: {
                                Type: "Task",
                                Resource: LAMBDA,
                                Parameters: { FunctionName: "hold", "Payload.$": "$" },
                                OutputPath: "$.Payload",
                                End: true,
                            },
                        },
                    },
                    {
                        StartAt: "Each",
                        States: {
                            Each: {
                                Type: "Map",
                                ItemsPath: "$.items",
                                MaxConcurrency: 2,
                                ItemProcessor: {
                                    ProcessorConfig: { Mode: "INLINE" },
                                    StartAt: "Echo",
                                    States: { Echo: { Type: "Pass", End: true } },
                                },
                                End: true,
                            },
                        },
                    },
                ],
                ResultPath: "$.reservation",
                Next: "Pause",
            },
            Pause: { Type: "Wait", SecondsPath: "$.delay", Next: "Ship each" },
            "Ship each": {
                Type: "Map",
                ItemsPath: "$.items",
                ItemSelector: { "item.$": "$$.Map.Item.Value" },
                ItemProcessor: {
                    ProcessorConfig: { Mode: "INLINE" },
                    StartAt: "Ship",
                    States: {
                        Ship: {
                            Type: "Task",
                            Resource: SNS_PUBLISH,
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
                Iterator: { StartAt: "Again", States: { Again: { Type: "Pass", End: true } } },
                ResultPath: "$.echoes",
                Next: "Check",
            },
            Check: {
                Type: "Choice",
                Choices: [
                    { Variable: "$.ok", BooleanEquals: true, Next: "Done" },
                    {
                        And: [
                            { Variable: "$.count", NumericGreaterThan: 1 },
                            { Not: { Variable: "$.name", StringMatches: "a*" } },
                        ],
                        Next: "Wait until",
                    },
                ],
                Default: "Failed",
            },
            "Wait until": { Type: "Wait", Timestamp: "2030-01-01T00:00:00Z", Next: "Done" },
            Done: { Type: "Succeed" },
            Failed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
        },
    };
}

/** Every state type, JSONata, with a Distributed Map that reads, batches and writes. */
function jsonataMachine(): Json {
    return {
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
                                Resource: SQS_WAIT,
                                Arguments: {
                                    QueueUrl: QUEUE_URL,
                                    MessageBody: { token: "{% $states.context.Task.Token %}" },
                                },
                                TimeoutSeconds: "{% $states.input.order.timeoutSeconds %}",
                                Output: "{% $states.result %}",
                                End: true,
                            },
                        },
                    },
                ],
                Output: { reservation: "{% $states.result[0] %}" },
                Assign: { attempts: 1, seen: "{% $states.input.seen %}" },
                Catch: [{ ErrorEquals: ["States.ALL"], Output: "{% $states.errorOutput %}", Next: "Failed" }],
                Next: "Pause",
            },
            Pause: { Type: "Wait", Seconds: "{% $states.input.delay %}", Next: "Ship each" },
            "Ship each": {
                Type: "Map",
                ItemReader: {
                    Resource: "arn:aws:states:::s3:getObject",
                    ReaderConfig: { InputType: "JSON", MaxItems: 100 },
                    Arguments: { Bucket: "orders", Key: "{% $states.input.key %}" },
                },
                ItemBatcher: { MaxItemsPerBatch: 10 },
                ItemProcessor: {
                    ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" },
                    StartAt: "Ship",
                    States: {
                        Ship: {
                            Type: "Task",
                            Resource: SNS_PUBLISH,
                            Arguments: { TopicArn: TOPIC_ARN, Message: "{% $string($states.input) %}" },
                            End: true,
                        },
                    },
                },
                ResultWriter: { Resource: "arn:aws:states:::s3:putObject", Arguments: { Bucket: "out", Prefix: "r" } },
                ToleratedFailurePercentage: 5,
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

/** A JSONPath machine with a JSONata state and a JSONata branch (asl-validator 4.0.0 refuses the branch). */
function mixedMachine(): Json {
    return {
        StartAt: "Prepare",
        States: {
            Prepare: { Type: "Pass", QueryLanguage: "JSONata", Output: { id: "{% $states.input.id %}" }, Next: "Fan" },
            Fan: {
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

const pass = (extra: Json = {}): Json => ({ Type: "Pass", End: true, ...extra });
const machine = (states: Json, startAt = Object.keys(states)[0] ?? "A", extra: Json = {}): Json => ({
    StartAt: startAt,
    States: states,
    ...extra,
});

/** Definitions with one known defect each (and a few valid edge cases). */
const HANDWRITTEN: [string, unknown][] = [
    ["smallest valid", machine({ A: pass() })],
    ["mixed languages", mixedMachine()],
    ["missing Next and End", machine({ A: { Type: "Pass" } })],
    ["Next to a missing state", machine({ A: { Type: "Pass", Next: "Nowhere" } })],
    ["unreachable state", machine({ A: pass(), B: pass() })],
    ["StartAt a missing state", machine({ A: pass() }, "Z")],
    ["no StartAt", { States: { A: pass() } }],
    ["no States", { StartAt: "A" }],
    ["empty States", machine({}, "A")],
    ["End and Next both", machine({ A: { Type: "Pass", End: true, Next: "B" }, B: pass() })],
    ["unknown Type", machine({ A: { Type: "Bogus", End: true } })],
    ["no Type", machine({ A: { End: true } })],
    ["bad InputPath", machine({ A: pass({ InputPath: "$$bad[" }) })],
    ["bad OutputPath", machine({ A: pass({ OutputPath: "not a path" }) })],
    ["ResultPath with a function", machine({ A: pass({ ResultPath: "$.a.length()" }) })],
    ["context ResultPath", machine({ A: pass({ ResultPath: "$$.Execution" }) })],
    ["bad payload path", machine({ A: pass({ Parameters: { "x.$": "nope" } }) })],
    ["good intrinsic", machine({ A: pass({ Parameters: { "x.$": "States.Format('{}', $.a)" } }) })],
    ["bad intrinsic", machine({ A: pass({ Parameters: { "x.$": "States.Format('{}', $.a" } }) })],
    ["duplicate payload field", machine({ A: pass({ Parameters: { x: 1, "x.$": "$.x" } }) })],
    ["bad Resource ARN", machine({ A: { Type: "Task", Resource: "not-an-arn", End: true } })],
    ["Resource not a string", machine({ A: { Type: "Task", Resource: 42, End: true } })],
    ["Task without Resource", machine({ A: { Type: "Task", End: true } })],
    [
        "TimeoutSeconds and TimeoutSecondsPath",
        machine({ A: { Type: "Task", Resource: LAMBDA, TimeoutSeconds: 5, TimeoutSecondsPath: "$.t", End: true } }),
    ],
    [
        "HeartbeatSeconds and HeartbeatSecondsPath",
        machine({ A: { Type: "Task", Resource: LAMBDA, HeartbeatSeconds: 5, HeartbeatSecondsPath: "$.h", End: true } }),
    ],
    ["Wait without a duration", machine({ A: { Type: "Wait", End: true } })],
    ["Wait with two durations", machine({ A: { Type: "Wait", Seconds: 1, SecondsPath: "$.s", End: true } })],
    ["Wait with a bad timestamp", machine({ A: { Type: "Wait", Timestamp: "tomorrow", End: true } })],
    ["Fail with Cause and CausePath", machine({ A: { Type: "Fail", Cause: "x", CausePath: "$.c" } })],
    ["Fail with Error and ErrorPath", machine({ A: { Type: "Fail", Error: "x", ErrorPath: "$.e" } })],
    ["Succeed with Next", machine({ A: { Type: "Succeed", Next: "B" }, B: pass() })],
    ["Choice without Choices", machine({ A: { Type: "Choice", Default: "B" }, B: pass() })],
    [
        "Choice Default to a missing state",
        machine({
            A: { Type: "Choice", Choices: [{ Variable: "$.a", IsPresent: true, Next: "B" }], Default: "Z" },
            B: pass(),
        }),
    ],
    [
        "Choice rule without Next",
        machine({ A: { Type: "Choice", Choices: [{ Variable: "$.a", IsPresent: true }], Default: "B" }, B: pass() }),
    ],
    [
        "Choice with a bad Variable",
        machine({ A: { Type: "Choice", Choices: [{ Variable: "a", IsPresent: true, Next: "B" }] }, B: pass() }),
    ],
    [
        "Catch to a missing state",
        machine({
            A: { Type: "Task", Resource: LAMBDA, Catch: [{ ErrorEquals: ["States.ALL"], Next: "Z" }], End: true },
        }),
    ],
    [
        "Retry without ErrorEquals",
        machine({ A: { Type: "Task", Resource: LAMBDA, Retry: [{ MaxAttempts: 2 }], End: true } }),
    ],
    ["cycle with no terminal state", machine({ A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", Next: "A" } })],
    [
        "branch transitions outside itself",
        machine({
            A: { Type: "Parallel", Branches: [machine({ X: { Type: "Pass", Next: "B" } })], Next: "B" },
            B: pass(),
        }),
    ],
    [
        "duplicate state names across branches",
        machine({ A: { Type: "Parallel", Branches: [machine({ A: pass() }), machine({ A: pass() })], End: true } }),
    ],
    ["Parallel without Branches", machine({ A: { Type: "Parallel", End: true } })],
    ["Map without ItemProcessor", machine({ A: { Type: "Map", End: true } })],
    [
        "Map with ItemProcessor and Iterator",
        machine({
            A: { Type: "Map", ItemProcessor: machine({ X: pass() }), Iterator: machine({ Y: pass() }), End: true },
        }),
    ],
    [
        "Map with ItemSelector and Parameters",
        machine({
            A: { Type: "Map", ItemProcessor: machine({ X: pass() }), ItemSelector: {}, Parameters: {}, End: true },
        }),
    ],
    [
        "Map with MaxConcurrency and MaxConcurrencyPath",
        machine({
            A: {
                Type: "Map",
                ItemProcessor: machine({ X: pass() }),
                MaxConcurrency: 1,
                MaxConcurrencyPath: "$.m",
                End: true,
            },
        }),
    ],
    [
        "Map with ToleratedFailureCount and its path",
        machine({
            A: {
                Type: "Map",
                ItemProcessor: machine({ X: pass() }, "X", {
                    ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
                }),
                ToleratedFailureCount: 1,
                ToleratedFailureCountPath: "$.f",
                End: true,
            },
        }),
    ],
    [
        "Map with MaxItems and MaxItemsPath",
        machine({
            A: {
                Type: "Map",
                ItemReader: {
                    Resource: "arn:aws:states:::s3:getObject",
                    ReaderConfig: { MaxItems: 1, MaxItemsPath: "$.m" },
                },
                ItemProcessor: machine({ X: pass() }, "X", {
                    ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
                }),
                End: true,
            },
        }),
    ],
    [
        "Map with MaxItemsPerBatch and its path",
        machine({
            A: {
                Type: "Map",
                ItemBatcher: { MaxItemsPerBatch: 1, MaxItemsPerBatchPath: "$.b" },
                ItemProcessor: machine({ X: pass() }, "X", {
                    ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
                }),
                End: true,
            },
        }),
    ],
    [
        "Map processor transitions outside itself",
        machine({
            A: { Type: "Map", ItemProcessor: machine({ X: { Type: "Pass", Next: "B" } }), Next: "B" },
            B: pass(),
        }),
    ],
    ["QueryLanguage not known", machine({ A: pass() }, "A", { QueryLanguage: "XPath" })],
    [
        "JSONata: bad expression",
        machine({ A: pass({ Output: "{% $states.input. %}" }) }, "A", { QueryLanguage: "JSONata" }),
    ],
    [
        "JSONata: unclosed expression",
        machine({ A: pass({ Output: "{% $states.input" }) }, "A", { QueryLanguage: "JSONata" }),
    ],
    ["JSONata: a JSONPath field", machine({ A: pass({ Parameters: { a: 1 } }) }, "A", { QueryLanguage: "JSONata" })],
    ["JSONPath: a JSONata field", machine({ A: pass({ Output: { a: 1 } }) })],
    [
        "JSONata: Choice with Variable",
        machine({ A: { Type: "Choice", Choices: [{ Variable: "$.a", IsPresent: true, Next: "B" }] }, B: pass() }, "A", {
            QueryLanguage: "JSONata",
        }),
    ],
    ["TimeoutSeconds at the top not a number", machine({ A: pass() }, "A", { TimeoutSeconds: "soon" })],
    ["extra top-level field", machine({ A: pass() }, "A", { Bogus: true })],
    ["States an array", { StartAt: "A", States: [pass()] }],
    ["a state that is a string", machine({ A: "Pass" })],
    ["empty object", {}],
    ["null", null],
    ["a string", "definition"],
    ["an array", []],
];

/** Each state, at every depth, by the path of containers to it: yields [label, the state's parent States, its name]. */
function* statesOf(scope: Json, where = ""): Generator<[string, Json, string]> {
    const states = scope["States"] as Json;
    for (const [name, state] of Object.entries(states)) {
        const label = `${where}${name}`;
        yield [label, states, name];
        const fields = state as Json;
        const branches = (fields["Branches"] as Json[] | undefined) ?? [];
        for (const [i, branch] of branches.entries()) {
            yield* statesOf(branch, `${label} > branch ${i + 1} > `);
        }
        for (const key of ["ItemProcessor", "Iterator"]) {
            if (typeof fields[key] === "object") {
                yield* statesOf(fields[key] as Json, `${label} > ${key} > `);
            }
        }
    }
}

/** One-defect mutations of a state; each returns false when it does not apply. */
const MUTATIONS: [string, (states: Json, name: string) => boolean][] = [
    [
        "drops Next",
        (states, name) => {
            const state = states[name] as Json;
            return "Next" in state && delete state["Next"];
        },
    ],
    [
        "Next to a missing state",
        (states, name) => {
            const state = states[name] as Json;
            return "Next" in state && Boolean((state["Next"] = "Missing"));
        },
    ],
    ["a bad InputPath", (states, name) => Boolean(((states[name] as Json)["InputPath"] = "$$[oops"))],
    ["is removed", (states, name) => delete states[name]],
];

function mutated(): [string, unknown][] {
    const cases: [string, unknown][] = [];
    for (const [machineName, make] of [
        ["JSONPath", jsonPathMachine],
        ["JSONata", jsonataMachine],
    ] as const) {
        for (const [label] of statesOf(make())) {
            for (const [what, mutate] of MUTATIONS) {
                const copy = make();
                const [, states, name] = [...statesOf(copy)].find(([l]) => l === label) as [string, Json, string];
                if (mutate(states, name)) {
                    cases.push([`${machineName}: ${label} ${what}`, copy]);
                }
            }
        }
    }
    return cases;
}

type Outcome = { isValid: boolean; errors: unknown[] } | { threw: string };

function outcome(validate: () => { isValid: boolean; errors: unknown[] }): Outcome {
    try {
        const { isValid, errors } = validate();
        return { isValid, errors };
    } catch (error) {
        return { threw: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
}

function assertSame(definition: unknown, options?: AslValidationOptions): Outcome {
    const before = JSON.stringify(definition);
    const expected = outcome(() => aslValidator(structuredClone(definition), options));
    const actual = outcome(() => validateAsl(definition, options));
    assert.deepStrictEqual(actual, expected);
    assert.equal(JSON.stringify(definition), before, "validateAsl leaves its input as it was");
    return expected;
}

describe("validateAsl (asl-validator, schemas compiled once)", function () {
    // asl-validator as published compiles its schemas on every call: tens to hundreds of ms each.
    this.timeout(600_000);

    const valid: [string, unknown][] = [
        ...rendered(),
        ["JSONPath, every state type", jsonPathMachine()],
        ["JSONata, every state type", jsonataMachine()],
    ];

    it("must accept the valid definitions through the compiled schemas, as asl-validator does", () => {
        for (const [name, definition] of valid) {
            const compiled = schemaChecks.compiled;
            const result = assertSame(definition);
            assert.deepEqual("isValid" in result && result.errors, [], name);
            assert.equal(schemaChecks.compiled, compiled + 1, `${name}: the compiled schemas decided`);
        }
    });

    it("must give asl-validator's verdict and errors on each hand-written defect", () => {
        const verdicts = HANDWRITTEN.map(([name, definition]) => {
            try {
                return assertSame(definition);
            } catch (error) {
                throw new Error(`${name}: ${String(error)}`, { cause: error });
            }
        });
        // The corpus holds both kinds, and schema failures as well as semantic ones.
        assert.ok(verdicts.some((v) => "isValid" in v && v.isValid));
        assert.ok(verdicts.some((v) => "threw" in v));
        const codes = new Set(
            verdicts.flatMap((v) => ("errors" in v ? v.errors : []).map((e) => (e as Json)["Error code"])),
        );
        for (const code of [
            "SCHEMA_VALIDATION_FAILED",
            "MISSING_TRANSITION_TARGET",
            "MISSING_TERMINAL_STATE",
            "DUPLICATE_STATE_NAMES",
        ]) {
            assert.ok(codes.has(code), `some case gives ${code}`);
        }
    });

    it("must give asl-validator's verdict and errors on one-defect mutations of every state, nested ones too", () => {
        const cases = mutated();
        assert.ok(cases.length > 50, `${cases.length} mutations`);
        let invalid = 0;
        for (const [name, definition] of cases) {
            try {
                const result = assertSame(definition);
                invalid += "isValid" in result && !result.isValid ? 1 : 0;
            } catch (error) {
                throw new Error(`${name}: ${String(error)}`, { cause: error });
            }
        }
        assert.ok(invalid > cases.length / 2, `${invalid} of ${cases.length} refused`);
    });

    it("must follow asl-validator's options (checkPaths or checkArn off)", () => {
        const defects = HANDWRITTEN.filter(([name]) => /path|ARN|intrinsic/i.test(name));
        for (const options of [{ checkPaths: false }, { checkArn: false }]) {
            for (const [name, definition] of [...defects, ...valid.slice(0, 1)]) {
                try {
                    assertSame(definition, options);
                } catch (error) {
                    throw new Error(`${name} with ${JSON.stringify(options)}: ${String(error)}`, { cause: error });
                }
            }
        }
    });

    it("must leave asl-validator itself as published, during and after a call that throws", () => {
        const original = schemaErrorsModule.jsonSchemaErrors;
        assert.throws(() => validateAsl(null));
        validateAsl(jsonPathMachine());
        assert.equal(schemaErrorsModule.jsonSchemaErrors, original);
    });
});
