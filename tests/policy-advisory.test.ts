/**
 * The advisory policies where cdk-nag has a rule (issue 13): each one's passing and failing cases, its
 * exemptions, its verdicts in preview (unknown values), and malformed inputs, which are violations,
 * never exceptions.
 */
import { strict as assert } from "node:assert";
import * as apigatewayv2 from "@pulumi/aws/apigatewayv2";
import * as sns from "@pulumi/aws/sns";
import * as sqs from "@pulumi/aws/sqs";
import type { PolicyResource, ResourceValidationPolicy } from "@pulumi/policy";
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy/proxy";
import * as pulumi from "@pulumi/pulumi";
import { httpApiAccessLogs, httpApiThrottled } from "../policy/apigateway";
import { dynamodbTableEncryptedWithKms, dynamodbTablePointInTimeRecovery } from "../policy/dynamodb";
import { kmsKeyRotation } from "../policy/kms";
import { functionNameOf, lambdaFunctionUrlAuth } from "../policy/lambda-urls";
import { policies } from "../policy/policies";
import { recordProgram, runPolicies, UNKNOWN_SENTINEL } from "../policy/library";
import { snsSubscriptionHasDlq } from "../policy/sns-subscriptions";
import { stateMachineLogsAllEvents } from "../policy/stepfunctions-logs";

const U = UNKNOWN_SENTINEL;

/** What one resource policy does with one resource: its messages, or "unknown" when it gave up in preview. */
async function outcome(
    policy: ResourceValidationPolicy,
    type: string,
    props: unknown,
    config: object = {},
    name = "r",
): Promise<string[] | "unknown"> {
    const messages: string[] = [];
    try {
        for (const validate of [policy.validateResource ?? []].flat()) {
            await validate(
                {
                    type,
                    name,
                    urn: `urn:pulumi:test::p::${type}::${name}`,
                    props: unknownCheckingProxy(props as object),
                    getConfig: () => config,
                } as never,
                (message: string) => messages.push(message),
            );
        }
    } catch (error) {
        if (error instanceof UnknownValueError) {
            return "unknown";
        }
        throw error;
    }
    return messages;
}

const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const URL = "aws:lambda/functionUrl:FunctionUrl";
const KEY = "aws:kms/key:Key";
const MACHINE = "aws:sfn/stateMachine:StateMachine";
const TABLE = "aws:dynamodb/table:Table";
const STAGE = "aws:apigatewayv2/stage:Stage";
const DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:dlq";

/** One-line checks: [props, config?, expected] where expected is a number of violations, a pattern, or "unknown". */
type Case = readonly [props: unknown, expected: number | RegExp | "unknown", config?: object, name?: string];

const CASES: ReadonlyArray<readonly [ResourceValidationPolicy, string, string, readonly Case[]]> = [
    [
        snsSubscriptionHasDlq,
        SUBSCRIPTION,
        "sns-subscription-has-dlq",
        [
            [{ protocol: "sqs", redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN }) }, 0],
            [{ protocol: "https", redrivePolicy: { deadLetterTargetArn: DLQ_ARN } }, 0],
            [{ protocol: "lambda" }, /^TopicSubscription "r" \(protocol "lambda"\) has no dead-letter queue/],
            [{ protocol: "HTTPS", redrivePolicy: "" }, /has no dead-letter queue/],
            [{ protocol: "email" }, 0],
            [{ protocol: "sms" }, 0],
            [{ protocol: "email" }, /has no dead-letter queue/, { protocols: ["email"] }],
            [{ protocol: "sqs" }, 0, { protocols: ["lambda"] }],
            [{ protocol: "sqs", redrivePolicy: "{not json" }, /redrivePolicy that is not valid \(got "\{not json"\)/],
            [{ protocol: "sqs", redrivePolicy: "[]" }, /redrivePolicy that is not valid/],
            [{ protocol: "sqs", redrivePolicy: "{}" }, /deadLetterTargetArn undefined is not valid/],
            [
                { protocol: "sqs", redrivePolicy: { deadLetterTargetArn: "arn:aws:sns:eu-west-1:123456789012:t" } },
                /is not valid, it must be an SQS queue ARN/,
            ],
            [{ protocol: 42 }, /\(protocol 42\) has no dead-letter queue/],
            // Preview: a redrive policy unknown decides once known; a protocol unknown matters only without one.
            [{ protocol: "sqs", redrivePolicy: U }, "unknown"],
            [{ protocol: U, redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN }) }, 0],
            [{ protocol: U }, "unknown"],
            [{ protocol: "email", redrivePolicy: U }, 0],
            [{ protocol: "sqs", redrivePolicy: { deadLetterTargetArn: U } }, 0],
        ],
    ],
    [
        lambdaFunctionUrlAuth,
        URL,
        "lambda-function-url-auth",
        [
            [{ authorizationType: "AWS_IAM", functionName: "f" }, 0],
            [
                { authorizationType: "NONE", functionName: "f" },
                /^FunctionUrl "r" has authorizationType "NONE": anyone on the internet can invoke function "f"/,
            ],
            [{ authorizationType: "NONE", functionName: "f" }, 0, { publicFunctionUrls: ["r"] }],
            [{ authorizationType: "NONE", functionName: "f" }, 0, { publicFunctionUrls: ["f"] }],
            [
                { authorizationType: "NONE", functionName: "arn:aws:lambda:eu-west-1:123456789012:function:f:live" },
                0,
                { publicFunctionUrls: ["f"] },
            ],
            [{ authorizationType: "NONE", functionName: "g" }, 1, { publicFunctionUrls: ["f"] }],
            [{ authorizationType: "none", functionName: "f" }, /authorizationType "none" is not valid/],
            [{ authorizationType: ["NONE"] }, /authorizationType \["NONE"\] is not valid/],
            [{ authorizationType: U, functionName: "f" }, "unknown"],
            [{ authorizationType: U, functionName: "f" }, 0, { publicFunctionUrls: ["r"] }],
            [{ authorizationType: "NONE", functionName: U }, /can invoke its function/],
            [{ authorizationType: "NONE", functionName: U }, "unknown", { publicFunctionUrls: ["f"] }],
        ],
    ],
    [
        kmsKeyRotation,
        KEY,
        "kms-key-rotation",
        [
            [{ enableKeyRotation: true }, 0],
            [{}, /^Key "r" is a symmetric encryption key without automatic rotation \(enableKeyRotation false\)/],
            [{ enableKeyRotation: false, keyUsage: "ENCRYPT_DECRYPT", customerMasterKeySpec: "SYMMETRIC_DEFAULT" }, 1],
            [{ keyUsage: "SIGN_VERIFY", customerMasterKeySpec: "RSA_2048" }, 0],
            [{ keyUsage: "GENERATE_VERIFY_MAC", customerMasterKeySpec: "HMAC_256" }, 0],
            [{ keyUsage: "ENCRYPT_DECRYPT", customerMasterKeySpec: "RSA_4096" }, 0],
            [{ customKeyStoreId: "cks-1234567890abcdef0" }, 0],
            [{ xksKeyId: "ext-key" }, 0],
            [{ multiRegion: true }, 1],
            [{ enableKeyRotation: "true" }, /enableKeyRotation "true" is not valid/],
            [{ keyUsage: 7 }, /keyUsage 7 is not valid/],
            [{ keyUsage: "ENCRYPT" }, /keyUsage "ENCRYPT" is not valid/],
            [{ customerMasterKeySpec: {} }, /customerMasterKeySpec \{\} is not valid/],
            [{ enableKeyRotation: U }, "unknown"],
            [{ enableKeyRotation: U, keyUsage: "SIGN_VERIFY" }, 0],
            [{ enableKeyRotation: true, keyUsage: U }, 0],
            [{ keyUsage: U }, "unknown"],
            [{ customKeyStoreId: U }, 0],
        ],
    ],
    [
        stateMachineLogsAllEvents,
        MACHINE,
        "state-machine-logs-all-events",
        [
            [{ loggingConfiguration: { level: "ALL", logDestination: U } }, 0],
            [{ loggingConfiguration: { level: "ERROR" } }, /^StateMachine "r" logs level "ERROR", not "ALL"/],
            [{ loggingConfiguration: { level: "FATAL" } }, 1],
            [{}, /logs level "OFF", not "ALL"/],
            [{ loggingConfiguration: null }, /logs level "OFF"/],
            [{ loggingConfiguration: "ALL" }, /loggingConfiguration "ALL" is not valid/],
            [{ loggingConfiguration: [{ level: "ALL" }] }, /loggingConfiguration \[\{"level":"ALL"\}\] is not valid/],
            [{ loggingConfiguration: { level: 3 } }, /level 3 is not valid/],
            [{ loggingConfiguration: { level: U } }, "unknown"],
            [{ loggingConfiguration: U }, "unknown"],
        ],
    ],
    [
        dynamodbTableEncryptedWithKms,
        TABLE,
        "dynamodb-table-encrypted-with-kms",
        [
            [{ serverSideEncryption: { enabled: true } }, 0],
            [{ serverSideEncryption: { enabled: true, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k" } }, 0],
            [{}, /^Table "r" is encrypted only with the AWS owned key/],
            [{ serverSideEncryption: { enabled: false } }, 1],
            [
                { serverSideEncryption: { enabled: true } },
                /requireCustomerManagedKey asks for a customer managed key/,
                { requireCustomerManagedKey: true },
            ],
            [{ serverSideEncryption: { enabled: true, kmsKeyArn: U } }, 0, { requireCustomerManagedKey: true }],
            [
                { serverSideEncryption: { enabled: true, kmsKeyArn: 5 } },
                /kmsKeyArn 5 is not valid/,
                { requireCustomerManagedKey: true },
            ],
            [{ serverSideEncryption: "yes" }, /serverSideEncryption "yes" is not valid/],
            [{ serverSideEncryption: { enabled: "true" } }, /serverSideEncryption.enabled "true" is not valid/],
            [{ serverSideEncryption: { enabled: U } }, "unknown"],
            [{ serverSideEncryption: U }, "unknown"],
        ],
    ],
    [
        dynamodbTablePointInTimeRecovery,
        TABLE,
        "dynamodb-table-point-in-time-recovery",
        [
            [{ pointInTimeRecovery: { enabled: true } }, 0],
            [{}, /^Table "r" has no point-in-time recovery/],
            [{ pointInTimeRecovery: { enabled: false }, name: "orders" }, 1],
            [{ name: "orders" }, 0, { exemptTables: ["orders"] }],
            [{ name: "orders" }, 0, { exemptTables: ["r"] }],
            [{ name: "orders" }, 1, { exemptTables: ["other"] }],
            [{ pointInTimeRecovery: [true] }, /pointInTimeRecovery \[true\] is not valid/],
            [{ pointInTimeRecovery: { enabled: 1 } }, /pointInTimeRecovery.enabled 1 is not valid/],
            [{ pointInTimeRecovery: { enabled: U } }, "unknown"],
            [{ pointInTimeRecovery: { enabled: U }, name: "orders" }, 0, { exemptTables: ["orders"] }],
            [{ name: U }, 1],
            [{ name: U }, "unknown", { exemptTables: ["orders"] }],
        ],
    ],
    [
        httpApiAccessLogs,
        STAGE,
        "http-api-access-logs",
        [
            [
                {
                    accessLogSettings: {
                        destinationArn: "arn:aws:logs:eu-west-1:123456789012:log-group:api",
                        format: "{}",
                    },
                },
                0,
            ],
            [{ accessLogSettings: { destinationArn: U, format: "{}" } }, 0],
            [{ autoDeploy: true }, /^Stage "r" writes no access logs/],
            [{ accessLogSettings: {} }, /writes no access logs/],
            [{ accessLogSettings: "on" }, /accessLogSettings "on" is not valid/],
            [{ accessLogSettings: { destinationArn: 12 } }, /destinationArn 12 is not valid/],
            [{ accessLogSettings: U }, "unknown"],
        ],
    ],
];

/** Malformed values, where objects, strings, booleans or lists belong. */
const MALFORMED: readonly unknown[] = [
    null,
    undefined,
    "",
    "x",
    "{}",
    0,
    42,
    -1,
    NaN,
    true,
    false,
    [],
    [null],
    [{}],
    {},
    { a: 1 },
    U,
];

describe("advisory policies where cdk-nag has a rule", () => {
    for (const [policy, type, name, cases] of CASES) {
        describe(name, () => {
            it("is advisory, in the pack, and described", () => {
                assert.equal(policy.name, name);
                assert.equal(policy.enforcementLevel, "advisory");
                assert.ok(
                    policies.some((p) => p.name === policy.name && p.enforcementLevel === policy.enforcementLevel),
                );
                assert.match(policy.description, /^Checks that /);
            });

            cases.forEach(([props, expected, config, resourceName], index) => {
                it(`case ${index + 1}: ${JSON.stringify(props)}${config ? ` with ${JSON.stringify(config)}` : ""} → ${String(expected)}`, async () => {
                    const result = await outcome(policy, type, props, config, resourceName);
                    if (expected === "unknown") {
                        assert.equal(result, "unknown");
                    } else if (typeof expected === "number") {
                        assert.notEqual(result, "unknown");
                        assert.equal(result.length, expected, JSON.stringify(result));
                    } else {
                        assert.notEqual(result, "unknown");
                        assert.equal(result.length, 1, JSON.stringify(result));
                        assert.match(result[0] ?? "", expected);
                    }
                });
            });

            it("ignores resources of other types", async () => {
                assert.deepEqual(await outcome(policy, "aws:sqs/queue:Queue", {}), []);
            });

            it("never throws on malformed input, and names the resource in every message", async () => {
                const keys = [
                    ...new Set(
                        cases.flatMap(([props]) => (props && typeof props === "object" ? Object.keys(props) : [])),
                    ),
                ];
                const inputs: unknown[] = [...MALFORMED];
                for (const key of keys) {
                    for (const value of MALFORMED) {
                        inputs.push({ [key]: value });
                        for (const inner of ["enabled", "level", "destinationArn", "deadLetterTargetArn"]) {
                            inputs.push({ [key]: { [inner]: value } });
                        }
                    }
                }
                for (const props of inputs) {
                    for (const config of [{}, { protocols: "sqs", publicFunctionUrls: 3, exemptTables: null }]) {
                        const result = await outcome(policy, type, props, config);
                        if (result !== "unknown") {
                            for (const message of result) {
                                assert.match(message, /^[A-Za-z]+ "r"/, message);
                            }
                        }
                    }
                }
            });
        });
    }

    it("reads a function's name from names and ARNs", () => {
        assert.equal(functionNameOf("f"), "f");
        assert.equal(functionNameOf("arn:aws:lambda:eu-west-1:123456789012:function:f"), "f");
        assert.equal(functionNameOf("arn:aws:lambda:eu-west-1:123456789012:function:f:3"), "f");
        assert.equal(functionNameOf("123456789012:function:f"), "f");
    });
});

/** An HTTP API with two routes and a stage, as a team would write it. */
function httpApi(stage: Partial<apigatewayv2.StageArgs>, protocolType = "HTTP"): void {
    const api = new apigatewayv2.Api("api", {
        protocolType,
        ...(protocolType === "WEBSOCKET" ? { routeSelectionExpression: "$request.body.action" } : {}),
    });
    for (const [name, routeKey] of [
        ["orders", "GET /orders"],
        ["order", "POST /orders"],
    ] as const) {
        new apigatewayv2.Route(name, { apiId: api.id, routeKey });
    }
    new apigatewayv2.Stage("live", { apiId: api.id, name: "$default", autoDeploy: true, ...stage });
}

const LIMITS = { throttlingBurstLimit: 100, throttlingRateLimit: 50 };

async function throttling(program: () => void, preview = false) {
    const run = await recordProgram(program, { preview });
    return runPolicies(run, { policies: [httpApiThrottled, httpApiAccessLogs] });
}

describe("http-api-throttled and http-api-access-logs on programs", function () {
    this.timeout(20_000);

    it("must accept a stage with default limits and access logs, deployed and in preview", async () => {
        for (const preview of [false, true]) {
            const result = await throttling(
                () =>
                    httpApi({
                        defaultRouteSettings: LIMITS,
                        accessLogSettings: {
                            destinationArn: "arn:aws:logs:eu-west-1:123456789012:log-group:api",
                            format: "{}",
                        },
                    }),
                preview,
            );
            assert.deepEqual(result.violations, []);
            assert.deepEqual(result.undecided, []);
        }
    });

    it("must accept limits on every route of the API instead of default ones", async () => {
        const result = await throttling(() =>
            httpApi({
                routeSettings: [
                    { routeKey: "GET /orders", ...LIMITS },
                    { routeKey: "POST /orders", ...LIMITS },
                ],
            }),
        );
        assert.deepEqual(
            result.violations.map((v) => v.policy),
            ["http-api-access-logs"],
        );
    });

    it("must report the routes left without limits, and a stage with none, HTTP or WebSocket", async () => {
        const some = await throttling(() => httpApi({ routeSettings: [{ routeKey: "GET /orders", ...LIMITS }] }));
        assert.deepEqual(
            some.violations.filter((v) => v.policy === "http-api-throttled").map((v) => v.message),
            [
                'Stage "live" is not throttled (routes without limits: "POST /orders"), so one client can take the account\'s whole API Gateway limit in the Region: set defaultRouteSettings: {throttlingBurstLimit, throttlingRateLimit} (requests per second), or both limits on every route in routeSettings.',
            ],
        );
        for (const protocol of ["HTTP", "WEBSOCKET"]) {
            const none = await throttling(() =>
                httpApi({ defaultRouteSettings: { throttlingBurstLimit: 10 } }, protocol),
            );
            assert.deepEqual(
                none.violations.map((v) => [v.policy, v.urn?.endsWith("::live")]),
                [
                    ["http-api-throttled", true],
                    ["http-api-access-logs", true],
                ],
            );
        }
    });

    it("must report malformed settings as not valid", async () => {
        const result = await throttling(() =>
            httpApi({ defaultRouteSettings: { throttlingBurstLimit: -1, throttlingRateLimit: 5 } }),
        );
        assert.match(
            result.violations.find((v) => v.policy === "http-api-throttled")?.message ?? "",
            /defaultRouteSettings.throttlingBurstLimit -1 is not valid/,
        );
    });

    it("must wait in preview for limits only preview does not know, and decide the other stages", async () => {
        const result = await throttling(() => {
            const api = new apigatewayv2.Api("api", { protocolType: "HTTP" });
            const known = new apigatewayv2.Api("known", { protocolType: "HTTP" });
            new apigatewayv2.Stage("later", {
                apiId: api.id,
                defaultRouteSettings: { throttlingBurstLimit: api.id.apply(() => 10), throttlingRateLimit: 5 },
                accessLogSettings: { destinationArn: api.arn, format: "{}" },
            });
            new apigatewayv2.Stage("bare", {
                apiId: known.id,
                accessLogSettings: { destinationArn: api.arn, format: "{}" },
            });
        }, true);
        assert.deepEqual(
            result.violations.map((v) => [v.policy, v.urn?.split("::").pop()]),
            [["http-api-throttled", "bare"]],
        );
        assert.deepEqual(
            result.undecided.map((f) => f.policy),
            ["http-api-throttled"],
        );
    });
});

describe("sns-subscription-has-dlq on programs", function () {
    this.timeout(20_000);

    const program = (withDlq: boolean) => () => {
        const topic = new sns.Topic("events", { kmsMasterKeyId: "alias/aws/sns" });
        const queue = new sqs.Queue("consumer", { sqsManagedSseEnabled: true });
        const dlq = new sqs.Queue("consumer-dlq", { sqsManagedSseEnabled: true });
        new sns.TopicSubscription("to-queue", {
            topic: topic.arn,
            protocol: "sqs",
            endpoint: queue.arn,
            ...(withDlq ? { redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: dlq.arn }) } : {}),
        });
        new sns.TopicSubscription("to-people", { topic: topic.arn, protocol: "email", endpoint: "a@example.com" });
    };

    it("must accept a queue subscription with a DLQ and an email one without, and wait in preview for the DLQ's ARN", async () => {
        const deployed = await runPolicies(await recordProgram(program(true)), { policies: [snsSubscriptionHasDlq] });
        assert.deepEqual(deployed.violations, []);
        const preview = await runPolicies(await recordProgram(program(true), { preview: true }), {
            policies: [snsSubscriptionHasDlq],
        });
        assert.deepEqual(preview.violations, []);
        assert.deepEqual(
            preview.undecided.map((f) => f.urn?.split("::").pop()),
            ["to-queue"],
        );
    });

    it("must report a queue subscription without a DLQ, in preview too", async () => {
        for (const preview of [false, true]) {
            const result = await runPolicies(await recordProgram(program(false), { preview }), {
                policies: [snsSubscriptionHasDlq],
            });
            assert.deepEqual(
                result.violations.map((v) => v.message),
                [
                    'TopicSubscription "to-queue" (protocol "sqs") has no dead-letter queue, so SNS discards the messages it cannot deliver after its retries: set redrivePolicy to {"deadLetterTargetArn": <SQS queue ARN>} (a queue whose policy lets sns.amazonaws.com send to it from this topic).',
                ],
            );
        }
    });
});

describe("http-api-throttled on malformed stacks", () => {
    /** A resource as the engine hands a stack policy one: props behind the unknown-checking proxy. */
    const resource = (type: string, name: string, props: unknown, dependsOnApi?: PolicyResource): PolicyResource =>
        ({
            type,
            name,
            urn: `urn:pulumi:test::p::${type}::${name}`,
            props: unknownCheckingProxy(props as object),
            opts: {},
            dependencies: [],
            propertyDependencies: dependsOnApi ? { apiId: [dependsOnApi] } : {},
        }) as unknown as PolicyResource;

    it("never throws, and names the stage in every message", async () => {
        const validate = httpApiThrottled.validateStack;
        assert.ok(validate);
        for (const value of MALFORMED) {
            for (const shape of [
                (v: unknown) => v,
                (v: unknown) => ({ apiId: "a", defaultRouteSettings: v, routeSettings: v }),
                (v: unknown) => ({
                    apiId: "a",
                    defaultRouteSettings: { throttlingBurstLimit: v, throttlingRateLimit: 1 },
                }),
                (v: unknown) => ({ apiId: "a", routeSettings: [v, { routeKey: v, throttlingBurstLimit: v }] }),
            ]) {
                const api = resource("aws:apigatewayv2/api:Api", "api", { id: "a", protocolType: value });
                const resources = [
                    api,
                    resource("aws:apigatewayv2/route:Route", "route", { apiId: "a", routeKey: value }, api),
                    resource("aws:apigatewayv2/route:Route", "loose", value),
                    resource("aws:apigatewayv2/stage:Stage", "s", shape(value), api),
                    resource("aws:apigatewayv2/stage:Stage", "t", shape(value)),
                ];
                const messages: string[] = [];
                try {
                    await validate({ resources, getConfig: () => ({}) } as never, (message: string) =>
                        messages.push(message),
                    );
                } catch (error) {
                    assert.ok(error instanceof UnknownValueError, String(error));
                }
                for (const message of messages) {
                    assert.match(message, /^Stage "[st]"/, message);
                }
            }
        }
    });
});
