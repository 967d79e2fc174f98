/** Policy pack: each policy's metadata, its resource-level checks one change at a time, its helpers. */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../components/bundle";
import { lambdaRuntimeSupported } from "../policy/lambda";
import { allStates, callbackTasks } from "../policy/lib/asl";
import {
    actionMatches,
    isExactStateMachineArn,
    managedPolicyName,
    parseDocument,
    sendTaskActionsGranted,
    trusts,
} from "../policy/lib/iam-documents";
import { logGroupRetention } from "../policy/logs";
import { POLICY_PACK_NAME, policies } from "../policy/policies";
import { sqsEncrypted } from "../policy/sqs";
import {
    callbackNeedsStandardWorkflow,
    callbackTaskHasTimeout,
    stateMachineDefinitionValid,
    stateMachineLogging,
    stateMachineTracing,
} from "../policy/stepfunctions";
import { callbackStack } from "./fixtures/policy-stacks";
import { runPolicies, UNKNOWN_SENTINEL } from "../policy/runner";
import { runProgram } from "../local/pulumi-program";
import { violationsOf } from "./harness/policies";

const run = promisify(execFile);

const MACHINE = "aws:sfn/stateMachine:StateMachine";
const callbackDefinition = (task: Record<string, unknown> = {}) =>
    JSON.stringify({
        StartAt: "Wait",
        States: {
            Wait: {
                Type: "Task",
                Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                Parameters: { QueueUrl: "q", MessageBody: { "TaskToken.$": "$$.Task.Token" } },
                TimeoutSeconds: 60,
                End: true,
                ...task,
            },
        },
    });
const goodMachine = {
    type: "STANDARD",
    definition: callbackDefinition(),
    loggingConfiguration: {
        level: "ERROR",
        includeExecutionData: false,
        logDestination: "arn:aws:logs:eu-west-1:123456789012:log-group:x:*",
    },
    tracingConfiguration: { enabled: true },
};

describe("policy pack metadata", () => {
    it("must name every policy in kebab-case, describe it as 'Checks that ...', and give it a default level", () => {
        assert.equal(policies.length, 22);
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
        for (const policy of policies) {
            assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9]+)+$/);
            assert.match(policy.description, /^Checks that /);
            assert.ok(policy.enforcementLevel === "mandatory" || policy.enforcementLevel === "advisory", policy.name);
        }
    });

    it("must make the six pattern policies mandatory and the hygiene ones advisory", () => {
        const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name);
        assert.deepEqual(mandatory, [
            "sqs-queue-has-dlq",
            "sendtask-least-privilege",
            "callback-task-has-timeout",
            "callback-needs-standard-workflow",
            "state-machine-definition-valid",
            "sqs-visibility-covers-worker",
        ]);
    });

    it("must publish as `pulumi policy publish` packs it: the built entry and PulumiPolicy.yaml, no sources", async () => {
        // The CLI runs `npm pack` in the pack's directory and uploads the tarball; the pack's name comes
        // from the PolicyPack, its version from package.json.
        const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
            cwd: path.join(REPO_ROOT, "policy"),
        });
        const [packed] = JSON.parse(stdout) as { name: string; version: string; files: { path: string }[] }[];
        assert.ok(packed);
        assert.equal(packed.name, POLICY_PACK_NAME);
        assert.match(packed.version, /^\d+\.\d+\.\d+$/);
        assert.deepEqual(packed.files.map((file) => file.path).sort(), [
            "PulumiPolicy.yaml",
            "bin/index.js",
            "bin/index.js.map",
            "config.example.json",
            "package.json",
        ]);
    });

    it("must give every knob a default in its config schema, but the knobs whose absence has a meaning", () => {
        // Absent, the dated runtime table and today's date apply.
        const optional = new Set(["lambda-runtime-supported.allowedRuntimes", "lambda-runtime-supported.asOf"]);
        for (const policy of policies) {
            for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
                if (optional.has(`${policy.name}.${key}`)) {
                    assert.ok("description" in (schema as object), `${policy.name}.${key} says what its absence means`);
                    continue;
                }
                assert.ok("default" in (schema as object), `${policy.name}.${key} has no default`);
            }
        }
    });
});

describe("resource policies, one change at a time", () => {
    it("must accept a good state machine", async () => {
        for (const policy of [
            callbackTaskHasTimeout,
            callbackNeedsStandardWorkflow,
            stateMachineDefinitionValid,
            stateMachineLogging,
            stateMachineTracing,
        ]) {
            assert.deepEqual(await violationsOf(policy, MACHINE, goodMachine), [], policy.name);
        }
    });

    it("must accept TimeoutSecondsPath in place of TimeoutSeconds", async () => {
        const definition = callbackDefinition({ TimeoutSeconds: undefined, TimeoutSecondsPath: "$.timeout" });
        assert.deepEqual(await violationsOf(callbackTaskHasTimeout, MACHINE, { ...goodMachine, definition }), []);
    });

    it("must find a callback task in the EXPRESS child executions of a Distributed Map, at any depth", async () => {
        const callback = {
            Type: "Task",
            Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            TimeoutSeconds: 60,
            End: true,
        };
        const map = (executionType: string, inner: Record<string, unknown>) => ({
            Type: "Map",
            ItemProcessor: {
                ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: executionType },
                StartAt: "Inner",
                States: { Inner: inner },
            },
            End: true,
        });
        const nested = {
            Type: "Parallel",
            Branches: [{ StartAt: "Wait", States: { Wait: callback } }],
            End: true,
        };
        const definition = (executionType: string) =>
            JSON.stringify({ StartAt: "Each", States: { Each: map(executionType, nested) } });
        assert.deepEqual(
            await violationsOf(callbackNeedsStandardWorkflow, MACHINE, {
                ...goodMachine,
                definition: definition("EXPRESS"),
            }),
            [
                'StateMachine "r": callback task "Each/Inner/branch 0/Wait" runs in the EXPRESS child executions of Distributed Map "Each", which cannot wait for task tokens: set its ItemProcessor.ProcessorConfig.ExecutionType to "STANDARD".',
            ],
        );
        assert.deepEqual(
            await violationsOf(callbackNeedsStandardWorkflow, MACHINE, {
                ...goodMachine,
                definition: definition("STANDARD"),
            }),
            [],
        );
    });

    it("must find a callback task without timeout inside a Map's ItemProcessor", async () => {
        const definition = JSON.stringify({
            StartAt: "Each",
            States: {
                Each: {
                    Type: "Map",
                    ItemProcessor: {
                        StartAt: "Wait",
                        States: {
                            Wait: {
                                Type: "Task",
                                Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
                                Parameters: { "Payload.$": "$$.Task.Token" },
                                End: true,
                            },
                        },
                    },
                    End: true,
                },
            },
        });
        assert.deepEqual(await violationsOf(callbackTaskHasTimeout, MACHINE, { ...goodMachine, definition }), [
            'StateMachine "r": callback task "Each/Wait" has no TimeoutSeconds or TimeoutSecondsPath, so a lost task token leaves the execution waiting for up to a year. Set TimeoutSeconds (and catch States.Timeout).',
        ]);
    });

    it("must refuse execution data in state machine logs unless the config allows it", async () => {
        const props = {
            ...goodMachine,
            loggingConfiguration: { ...goodMachine.loggingConfiguration, includeExecutionData: true },
        };
        assert.deepEqual(await violationsOf(stateMachineLogging, MACHINE, props), [
            'StateMachine "r" logs execution data, which carries the task tokens of its callback tasks ("Wait"), bearer secrets: set includeExecutionData: false, or allowExecutionData in this policy\'s config.',
        ]);
        assert.deepEqual(await violationsOf(stateMachineLogging, MACHINE, props, { allowExecutionData: true }), []);
        // Without a callback task there is no token in the execution data.
        const plain = JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Succeed" } } });
        assert.deepEqual(await violationsOf(stateMachineLogging, MACHINE, { ...props, definition: plain }), []);
    });

    it("must treat a log destination unknown in preview as set", async () => {
        const props = {
            ...goodMachine,
            loggingConfiguration: { ...goodMachine.loggingConfiguration, logDestination: UNKNOWN_SENTINEL },
        };
        assert.deepEqual(await violationsOf(stateMachineLogging, MACHINE, props), []);
    });

    it("must let an unknown definition throw, so the framework reports it cannot run in preview", async () => {
        await assert.rejects(
            violationsOf(callbackTaskHasTimeout, MACHINE, { ...goodMachine, definition: UNKNOWN_SENTINEL }),
            {
                message: "string value at .definition can't be known during preview",
            },
        );
    });

    it("must accept an encrypted queue, one left to SQS's default encryption, and turn SSE back on where it is off", async () => {
        const queue = "aws:sqs/queue:Queue";
        assert.deepEqual(await violationsOf(sqsEncrypted, queue, { kmsMasterKeyId: "alias/key" }), []);
        assert.deepEqual(await violationsOf(sqsEncrypted, queue, { kmsMasterKeyId: UNKNOWN_SENTINEL }), []);
        assert.deepEqual(await violationsOf(sqsEncrypted, queue, { visibilityTimeoutSeconds: 30 }), []);
        const off = { visibilityTimeoutSeconds: 30, sqsManagedSseEnabled: false };
        assert.deepEqual(await violationsOf(sqsEncrypted, queue, off), [
            'Queue "r" turns encryption at rest off (sqsManagedSseEnabled: false, no kmsMasterKeyId): remove sqsManagedSseEnabled: false or set kmsMasterKeyId (remediation turns SQS-managed SSE back on).',
        ]);
        assert.deepEqual(await violationsOf(sqsEncrypted, queue, { ...off, kmsMasterKeyId: "alias/key" }), []);
        const remediated = await sqsEncrypted.remediateResource?.({ type: queue, props: off } as never);
        assert.deepEqual(remediated, { visibilityTimeoutSeconds: 30, sqsManagedSseEnabled: true });
        assert.equal(
            await sqsEncrypted.remediateResource?.({ type: queue, props: { sqsManagedSseEnabled: true } } as never),
            undefined,
        );
    });

    it("must skip container-image functions for the runtime check and honour a configured list", async () => {
        const fn = "aws:lambda/function:Function";
        assert.deepEqual(await violationsOf(lambdaRuntimeSupported, fn, { packageType: "Image" }), []);
        assert.deepEqual(
            await violationsOf(
                lambdaRuntimeSupported,
                fn,
                { runtime: "nodejs24.x" },
                { allowedRuntimes: ["nodejs24.x"] },
            ),
            [],
        );
        assert.deepEqual(
            await violationsOf(
                lambdaRuntimeSupported,
                fn,
                { runtime: "nodejs22.x" },
                { allowedRuntimes: ["nodejs24.x"] },
            ),
            [
                'Function "r" uses runtime "nodejs22.x", which is not in this policy\'s allowedRuntimes: use one of nodejs24.x.',
            ],
        );
    });

    it("must judge runtimes by the dated table as of the configured day", async () => {
        const fn = "aws:lambda/function:Function";
        assert.deepEqual(
            await violationsOf(lambdaRuntimeSupported, fn, { runtime: "nodejs22.x" }, { asOf: "2027-04-29" }),
            [],
        );
        const [violation] = await violationsOf(
            lambdaRuntimeSupported,
            fn,
            { runtime: "nodejs22.x" },
            { asOf: "2027-04-30" },
        );
        assert.match(
            violation ?? "",
            /^Function "r" uses runtime "nodejs22.x", which AWS deprecated on 2027-04-30: use one of nodejs24.x, /,
        );
        assert.match(
            (await violationsOf(lambdaRuntimeSupported, fn, { runtime: "nodejs99.x" }, { asOf: "2027-01-01" }))[0] ??
                "",
            /^Function "r" uses runtime "nodejs99.x", which is not in the pack's dated table of Lambda runtimes \(retired before it, or newer than it: then list it in allowedRuntimes\): use one of /,
        );
    });

    it("must check log retention against the configured range", async () => {
        const group = "aws:cloudwatch/logGroup:LogGroup";
        assert.deepEqual(await violationsOf(logGroupRetention, group, { retentionInDays: 30 }), []);
        assert.deepEqual(
            await violationsOf(logGroupRetention, group, { retentionInDays: 3653 }, { maximumDays: 365 }),
            ['LogGroup "r": retentionInDays must be from 1 to 365 (got 3653).'],
        );
    });
});

describe("policy helpers", () => {
    it("must match IAM action patterns as IAM does", () => {
        assert.ok(actionMatches("states:*", "states:SendTaskSuccess"));
        assert.ok(actionMatches("*", "states:SendTaskFailure"));
        assert.ok(actionMatches("States:sendtask*", "states:SendTaskHeartbeat"));
        assert.ok(actionMatches("states:SendTask?uccess", "states:SendTaskSuccess"));
        assert.ok(!actionMatches("states:Start*", "states:SendTaskSuccess"));
        assert.ok(!actionMatches("sqs:*", "states:SendTaskSuccess"));
    });

    it("must see SendTask granted through NotAction", () => {
        const [statement] = parseDocument({
            Statement: { Effect: "Allow", NotAction: ["iam:*"], Resource: "*" },
        }) as ReturnType<typeof parseDocument> & object[];
        assert.deepEqual(sendTaskActionsGranted(statement as never), [
            "states:SendTaskSuccess",
            "states:SendTaskFailure",
            "states:SendTaskHeartbeat",
        ]);
    });

    it("must recognise AWS managed policy ARNs in every partition", () => {
        assert.equal(
            managedPolicyName("arn:aws:iam::aws:policy/AWSStepFunctionsFullAccess"),
            "AWSStepFunctionsFullAccess",
        );
        assert.equal(managedPolicyName("arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaRole"), "AWSLambdaRole");
        assert.equal(managedPolicyName("arn:aws:iam::123456789012:policy/Mine"), undefined);
    });

    it("must accept only exact state machine ARNs", () => {
        assert.ok(isExactStateMachineArn("arn:aws:states:eu-west-1:123456789012:stateMachine:orders"));
        assert.ok(isExactStateMachineArn("arn:aws-cn:states:cn-north-1:123456789012:stateMachine:orders"));
        assert.ok(!isExactStateMachineArn("arn:aws:states:eu-west-1:123456789012:stateMachine:*"));
        assert.ok(!isExactStateMachineArn("arn:aws:states:eu-west-1:123456789012:execution:orders:1"));
        assert.ok(!isExactStateMachineArn("*"));
    });

    it("must read who a trust policy lets assume a role", () => {
        const doc = {
            Statement: [
                { Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com"] }, Action: "sts:AssumeRole" },
            ],
        };
        assert.ok(trusts(JSON.stringify(doc), "lambda.amazonaws.com"));
        assert.ok(!trusts(doc, "states.amazonaws.com"));
    });

    it("must walk states nested in Parallel branches and Map processors", () => {
        const definition = {
            StartAt: "P",
            States: {
                P: {
                    Type: "Parallel",
                    Branches: [{ StartAt: "A", States: { A: { Type: "Pass", End: true } } }],
                    Next: "M",
                },
                M: {
                    Type: "Map",
                    Iterator: {
                        StartAt: "B",
                        States: {
                            B: {
                                Type: "Task",
                                Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                                End: true,
                            },
                        },
                    },
                    End: true,
                },
            },
        };
        assert.deepEqual(
            allStates(definition).map((s) => s.path),
            ["P", "P/branch 0/A", "M", "M/B"],
        );
        assert.deepEqual(
            callbackTasks(definition).map((s) => s.path),
            ["M/B"],
        );
    });
});

describe("policy pack configuration", () => {
    it("must ship an example config that names only real policies and keys of their schemas", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON file of the repository
        const example = require("../../policy/config.example.json") as Record<string, Record<string, unknown>>;
        for (const [name, config] of Object.entries(example)) {
            const policy = policies.find((p) => p.name === name);
            assert.ok(policy, `${name} is not a policy of the pack`);
            for (const [key, value] of Object.entries(config)) {
                if (key === "enforcementLevel") {
                    assert.ok(["advisory", "mandatory", "remediate", "disabled"].includes(value as string));
                    continue;
                }
                const schema = policy.configSchema?.properties?.[key] as { type?: string } | undefined;
                assert.ok(schema, `${name}.${key} is not in its config schema`);
                const type = Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
                assert.ok(
                    schema.type === type || (schema.type === "number" && type === "integer"),
                    `${name}.${key}: ${type} is not ${schema.type}`,
                );
            }
        }
    });

    it("must apply a configured range in sqs-queue-has-dlq", async () => {
        const run = await runProgram(() => void callbackStack());
        const strict = await runPolicies(run, {
            config: { "sqs-queue-has-dlq": { minMaxReceiveCount: 6, maxMaxReceiveCount: 10 } },
        });
        assert.deepEqual(
            strict.violations.map((v) => v.message),
            ['Queue "work": maxReceiveCount in its redrivePolicy must be an integer from 6 to 10 (got 5).'],
        );
    });
});
