/**
 * CallbackChannel and Workflow as a consumer composes them: callback steps in a definition of one's own,
 * one channel serving several workflows, a workflow waiting on several channels, other answerers, and
 * machines defined elsewhere; every grant on exactly the state machine that uses the channel.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { StateMachineDefinition } from "../components/asl";
import { CallbackChannel, CallbackTaskError, type WaitForCallbackOptions } from "../components/channel";
import { grantsOf, TASK_GRANTS } from "../components/grants";
import { SEND_TASK_ACTIONS } from "../components/iam";
import { Workflow } from "../components/workflow";
import { jsonInput, rolePolicy, rows } from "./harness/documents";
import { ACCOUNT_ID, ofType, REGION, resource, runProgram, type ProgramRun } from "../local/pulumi-program";

const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const arn = (service: string, rest: string): string => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${rest}`;
const machineArn = (workflow: string): string => arn("states", `stateMachine:${workflow}-state-machine-0a1b2c3`);

/** A definition waiting on each channel in turn. */
function waitingOn(
    channels: readonly CallbackChannel[],
    options: Partial<WaitForCallbackOptions> = {},
): StateMachineDefinition {
    const names = channels.map((c, i) => `Wait ${i} on ${c.channelName}`);
    return {
        StartAt: names[0] ?? "Done",
        States: [
            ...channels.map((channel, i) => ({
                name: names[i] ?? "",
                state: channel.waitForCallback({
                    timeoutSeconds: 3600,
                    ...options,
                    ...(i + 1 < names.length ? { next: names[i + 1] ?? "" } : { next: "Done" }),
                } as WaitForCallbackOptions),
            })),
            { name: "Done", state: { Type: "Succeed" } },
        ],
    };
}

/** Runs `program`, which must throw; returns the error and what was registered before it. */
async function failing(program: () => void): Promise<{ error: Error; run: ProgramRun }> {
    let error: Error | undefined;
    const run = await runProgram(() => {
        try {
            program();
        } catch (e) {
            error = e as Error;
        }
    });
    assert.ok(error, "the program threw");
    return { error, run };
}

describe("CallbackChannel and Workflow", function () {
    this.timeout(20_000);

    it("must make a channel alone: queues, worker, trigger, alarms, and no grant to answer anything", async () => {
        const run = await runProgram(() => {
            new CallbackChannel("credit");
        });
        assert.deepEqual(
            run.resources.map((r) => `${r.type} ${r.name}`).sort(),
            [
                "aws:cloudwatch/logGroup:LogGroup credit-worker-logs",
                "aws:cloudwatch/metricAlarm:MetricAlarm credit-dlq-not-empty",
                "aws:cloudwatch/metricAlarm:MetricAlarm credit-queue-oldest-message",
                "aws:iam/role:Role credit-worker-role",
                "aws:iam/rolePolicy:RolePolicy credit-worker-policy",
                "aws:lambda/eventSourceMapping:EventSourceMapping credit-trigger",
                "aws:lambda/function:Function credit-worker",
                "aws:sns/topic:Topic credit-alarms",
                "aws:sns/topicPolicy:TopicPolicy credit-alarms-policy",
                "aws:sqs/queue:Queue credit-dlq",
                "aws:sqs/queue:Queue credit-queue",
                "aws:sqs/queuePolicy:QueuePolicy credit-dlq-policy",
                "aws:sqs/queuePolicy:QueuePolicy credit-queue-policy",
                "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy credit-dlq-redrive-allow",
                "callback:index:CallbackChannel credit",
            ].sort(),
        );
        const statements = rows(rolePolicy(run, "credit-worker-policy").Statement);
        assert.ok(!statements.some(([, actions]) => actions.some((a) => a.startsWith("states:"))));
        const age = resource(run, "aws:cloudwatch/metricAlarm:MetricAlarm", "credit-queue-oldest-message");
        assert.equal(age.inputs["threshold"], 1800, "half of a one-hour task by default");
    });

    it("must let one channel serve two workflows, each granting the worker on its own state machine only", async () => {
        const run = await runProgram(() => {
            const channel = new CallbackChannel("shared", { alarms: false });
            new Workflow("orders", { definition: waitingOn([channel]), alarms: false });
            new Workflow("refunds", { definition: waitingOn([channel]), alarms: false });
        });
        const workerRole = resource(run, "aws:iam/role:Role", "shared-worker-role").outputs["name"];
        for (const workflow of ["orders", "refunds"]) {
            const grant = resource(run, ROLE_POLICY, `${workflow}.shared-answer`);
            assert.equal(grant.inputs["role"], workerRole);
            assert.equal(grant.parent, resource(run, "callback:index:Workflow", workflow).urn);
            assert.deepEqual(rows(rolePolicy(run, `${workflow}.shared-answer`).Statement), [
                ["AnswerTaskTokens", [...SEND_TASK_ACTIONS], [machineArn(workflow)]],
            ]);
            // The state machine may send to the channel's queue, and nothing grants it SendTask.
            const sfn = rows(rolePolicy(run, `${workflow}-sfn-policy`).Statement);
            assert.deepEqual(sfn[0], ["SendToWorkQueue", ["sqs:SendMessage"], [arn("sqs", "shared-queue-0a1b2c3")]]);
        }
        assert.equal(ofType(run, ROLE_POLICY).filter((p) => p.name.endsWith("-answer")).length, 2);
    });

    it("must let a workflow wait on two channels, each channel's worker answering it, the role sending to both", async () => {
        const run = await runProgram(() => {
            const credit = new CallbackChannel("credit", { alarms: false });
            const stock = new CallbackChannel("stock", { alarms: false, kmsKey: "create" });
            new Workflow("orders", { definition: waitingOn([credit, stock]), alarms: false });
        });
        for (const channel of ["credit", "stock"]) {
            const grant = resource(run, ROLE_POLICY, `orders.${channel}-answer`);
            assert.equal(
                grant.inputs["role"],
                resource(run, "aws:iam/role:Role", `${channel}-worker-role`).outputs["name"],
            );
        }
        const sfn = rolePolicy(run, "orders-sfn-policy").Statement;
        const sends = sfn.filter((s) => s.Sid === "SendToWorkQueue").map((s) => s.Resource);
        assert.deepEqual(sends, [arn("sqs", "credit-queue-0a1b2c3"), arn("sqs", "stock-queue-0a1b2c3")]);
        // The stock queue's key: the state machine encrypts for that queue only.
        const keyUse = sfn.find((s) => s.Sid === "EncryptForWorkQueue");
        assert.deepEqual(keyUse?.Condition, {
            StringEquals: { "kms:EncryptionContext:aws:sqs:arn": arn("sqs", "stock-queue-0a1b2c3") },
        });
    });

    it("must render waitForCallback with the token, the contract's fields, the timeouts and the input it is given", async () => {
        await runProgram(() => {
            const channel = new CallbackChannel("beats", { alarms: false, heartbeatSeconds: 600 });
            const state = channel.waitForCallback({
                timeoutSeconds: 7200,
                input: { "orderId.$": "$.order.id", kind: "credit" },
                resultPath: "$.credit",
                catch: [{ ErrorEquals: ["States.ALL"], Next: "Rejected" }],
                next: "Ship",
            });
            assert.equal(state.Type, "Task");
            assert.equal(state.TimeoutSeconds, 7200);
            assert.equal(state.HeartbeatSeconds, 600, "the channel's beat by default");
            assert.equal(state.ResultPath, "$.credit");
            assert.equal(state.Next, "Ship");
            const body = (state.Parameters as { MessageBody: Record<string, unknown> }).MessageBody;
            assert.equal(body["TaskToken.$"], "$$.Task.Token");
            assert.equal(body["ExecutionId.$"], "$$.Execution.Id");
            assert.deepEqual(body["Input"], { "orderId.$": "$.order.id", kind: "credit" });
            assert.deepEqual(state.Retry?.[0]?.ErrorEquals, ["SQS.SdkClientException", "SQS.AmazonSQSException"]);
            assert.equal(grantsOf(state)?.answeredBy, channel);
            // A copy keeps what it needs (spread keeps symbol keys), and JSON never shows it.
            assert.equal(grantsOf({ ...state })?.answeredBy, channel);
            assert.ok(Object.getOwnPropertySymbols(state).includes(TASK_GRANTS));
            assert.ok(!Object.keys(state).some((key) => /grant|statement/i.test(key)), "no string key carries grants");
            const plain = channel.waitForCallback({ timeoutSeconds: 3600, end: true });
            const plainBody = (plain.Parameters as { MessageBody: Record<string, unknown> }).MessageBody;
            assert.equal(plainBody["Input.$"], "$", "the whole state input by default");
            assert.equal(plain.End, true);
        });
    });

    it("must refuse a callback step whose timing the channel cannot honour, naming each number", async () => {
        await runProgram(() => {
            const quiet = new CallbackChannel("quiet", { alarms: false, maxReceiveCount: 5, workerTimeoutSeconds: 60 });
            assert.throws(
                () => quiet.waitForCallback({ timeoutSeconds: 600, next: "X" }),
                (e: unknown) =>
                    e instanceof CallbackTaskError &&
                    /`timeoutSeconds` must leave room for every receive up to maxReceiveCount/.test(e.message) &&
                    /\(got 600\)/.test(e.message),
            );
            assert.throws(
                () => quiet.waitForCallback({ timeoutSeconds: 7200, heartbeatSeconds: 900, next: "X" }),
                /`heartbeatSeconds` cannot be set: the channel's worker sends no heartbeats/,
            );
            const beating = new CallbackChannel("beating", { alarms: false, heartbeatSeconds: 600 });
            assert.throws(
                () => beating.waitForCallback({ timeoutSeconds: 7200, heartbeatSeconds: 300, next: "X" }),
                /must be at least the channel's heartbeatSeconds 600/,
            );
            const alarmed = new CallbackChannel("alarmed");
            assert.throws(
                () => alarmed.waitForCallback({ timeoutSeconds: 1200, next: "X" }),
                /must exceed the channel's queue-age alarm \(1800 s\)/,
            );
            assert.throws(
                () => alarmed.waitForCallback({ timeoutSeconds: 0.5, next: "X" }),
                /must be an integer from 1/,
            );
        });
    });

    it("must grant other answerers, a worker that may only fail, and machines defined elsewhere", async () => {
        const external = arn("states", "stateMachine:their-machine");
        const run = await runProgram(() => {
            const channel = new CallbackChannel("approvals", {
                alarms: false,
                workerActions: ["states:SendTaskFailure"],
                answerers: [{ roleName: "approval-page-role" }],
                stateMachineArns: [external],
            });
            new Workflow("release", { definition: waitingOn([channel]), alarms: false });
        });
        assert.deepEqual(rows(rolePolicy(run, "release.approvals-answer").Statement), [
            ["AnswerTaskTokens", ["states:SendTaskFailure"], [machineArn("release")]],
        ]);
        assert.equal(resource(run, ROLE_POLICY, "release.approvals-answer-1").inputs["role"], "approval-page-role");
        assert.deepEqual(rows(rolePolicy(run, "release.approvals-answer-1").Statement), [
            ["AnswerTaskTokens", [...SEND_TASK_ACTIONS], [machineArn("release")]],
        ]);
        assert.deepEqual(rows(rolePolicy(run, "approvals-external-answer-1").Statement), [
            ["AnswerTaskTokens", [...SEND_TASK_ACTIONS], [external]],
        ]);
    });

    it("must report every bad argument, a typo with the nearest name, before registering anything", async () => {
        const { error, run } = await failing(() => {
            new CallbackChannel("bad", {
                maxRecieveCount: 3,
                stateMachineArns: [arn("states", "stateMachine:*")],
                workerActions: ["states:StartExecution"],
                workerEntry: "no/such/worker.ts",
            } as never);
        });
        assert.match(error.message, /Invalid arguments for CallbackChannel "bad"/);
        assert.match(error.message, /`maxRecieveCount` is not an argument: did you mean `maxReceiveCount`\?/);
        assert.match(error.message, /`stateMachineArns\[0\]` must be a state machine's exact ARN/);
        assert.match(error.message, /`workerActions` must list only states:SendTaskSuccess/);
        assert.match(
            error.message,
            /`workerEntry` must name the worker's module: .*no\/such\/worker\.ts does not exist/,
        );
        assert.ok(error instanceof pulumi.InputPropertiesError);
        assert.deepEqual(run.resources, [], "nothing registered");
    });

    it("must refuse a worker that does not bundle or exports no handler, with esbuild's reason", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "worker-"));
        writeFileSync(path.join(dir, "broken.ts"), "export const handler = (;\n");
        writeFileSync(path.join(dir, "nohandler.ts"), "export const main = () => 1;\n");
        writeFileSync(
            path.join(dir, "missing-import.ts"),
            'import { x } from "not-a-package";\nexport const handler = x;\n',
        );
        const { error } = await failing(
            () => new CallbackChannel("broken", { workerEntry: path.join(dir, "broken.ts") }),
        );
        assert.match(
            error.message,
            /`workerEntry` must be a module esbuild can bundle for Lambda: .*broken\.ts:1:\d+: /,
        );
        const none = await failing(() => new CallbackChannel("none", { workerEntry: path.join(dir, "nohandler.ts") }));
        assert.match(none.error.message, /it exports no `handler` \(it exports `main`\)/);
        const unresolved = await failing(
            () => new CallbackChannel("unresolved", { workerEntry: path.join(dir, "missing-import.ts") }),
        );
        assert.match(unresolved.error.message, /Could not resolve "not-a-package"/);
    });

    it("must bundle a relative workerEntry from the program's directory", async () => {
        const run = await runProgram(() => {
            new CallbackChannel("echo", { alarms: false, workerEntry: "tests/fixtures/echo-worker.ts" });
        });
        const code = resource(run, "aws:lambda/function:Function", "echo-worker").inputs["code"];
        assert.ok(code !== undefined);
    });

    it("must validate a workflow's definition before registering anything, and refuse callbacks in EXPRESS", async () => {
        const { error, run } = await failing(() => {
            const channel = new CallbackChannel("fast", { alarms: false });
            new Workflow("express", { definition: waitingOn([channel]), type: "EXPRESS", alarms: false });
        });
        assert.match(error.message, /Invalid arguments for Workflow "express"/);
        assert.match(error.message, /`definition` .*EXPRESS state machines do not support/);
        assert.ok(!run.resources.some((r) => r.type === "callback:index:Workflow"));
        const typo = await failing(() => new Workflow("w", { definitoin: {} } as never));
        assert.match(typo.error.message, /`definitoin` is not an argument: did you mean `definition`\?/);
    });

    it("must give the state machine role what its tasks carry and the statements it is given", async () => {
        const fn = arn("lambda", "function:score");
        const run = await runProgram(() => {
            new Workflow("scoring", {
                alarms: false,
                definition: {
                    StartAt: "Score",
                    States: [{ name: "Score", state: { Type: "Task", Resource: fn, End: true } }],
                },
                statements: [{ Sid: "InvokeScore", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: fn }],
            });
        });
        assert.deepEqual(rows(rolePolicy(run, "scoring-sfn-policy").Statement)[0], [
            "InvokeScore",
            ["lambda:InvokeFunction"],
            [fn],
        ]);
        const sm = resource(run, "aws:sfn/stateMachine:StateMachine", "scoring-state-machine");
        assert.equal(sm.inputs["type"], "STANDARD");
        assert.deepEqual(jsonInput<{ States: Record<string, unknown> }>(sm, "definition").States, {
            Score: { Type: "Task", Resource: fn, End: true },
        });
        assert.ok(!ofType(run, ROLE_POLICY).some((p) => p.name.includes("answer")), "no channel, no grant");
    });

    it("must render a JSONata callback step: the token as an expression, Arguments, Output and Assign", async () => {
        const run = await runProgram(() => {
            const channel = new CallbackChannel("jsonata", { alarms: false });
            const state = channel.waitForCallback({
                queryLanguage: "JSONata",
                timeoutSeconds: 3600,
                input: { orderId: "{% $states.input.order.id %}" },
                output: "{% $states.result.decision %}",
                assign: { decidedAt: "{% $now() %}" },
                end: true,
            });
            assert.equal(state.QueryLanguage, "JSONata");
            const body = (state as unknown as { Arguments: { MessageBody: Record<string, unknown> } }).Arguments
                .MessageBody;
            assert.equal(body["TaskToken"], "{% $states.context.Task.Token %}");
            assert.equal(body["EnteredTime"], "{% $states.context.State.EnteredTime %}");
            assert.deepEqual(body["Input"], { orderId: "{% $states.input.order.id %}" });
            assert.ok(!("Parameters" in state) && !("ResultPath" in state));
            assert.throws(
                () =>
                    channel.waitForCallback({
                        queryLanguage: "JSONata",
                        timeoutSeconds: 3600,
                        resultPath: "$.x",
                        end: true,
                    }),
                /`resultPath` is a JSONPath field/,
            );
            assert.throws(
                () =>
                    channel.waitForCallback({ timeoutSeconds: 3600, input: "{% $states.input %}" as never, end: true }),
                /`input` must be a path starting with "\$"/,
            );
            // A JSONPath machine may hold a JSONata state; a JSONata machine renders it as it is.
            new Workflow("mixed", { alarms: false, definition: { StartAt: "Wait", States: { Wait: state } } });
            new Workflow("all-jsonata", {
                alarms: false,
                definition: { QueryLanguage: "JSONata", StartAt: "Wait", States: { Wait: state } },
            });
        });
        const sm = resource(run, "aws:sfn/stateMachine:StateMachine", "mixed-state-machine");
        const wait = jsonInput<{ States: { Wait: Record<string, unknown> } }>(sm, "definition").States.Wait;
        assert.equal(wait["Resource"], "arn:aws:states:::sqs:sendMessage.waitForTaskToken");
        assert.equal(
            (wait["Arguments"] as { QueueUrl: string }).QueueUrl,
            `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/jsonata-queue-0a1b2c3`,
        );
        assert.ok(resource(run, ROLE_POLICY, "all-jsonata.jsonata-answer"));
    });

    it("must find callback steps inside Parallel branches and Map processors, and grant their channels", async () => {
        const run = await runProgram(() => {
            const credit = new CallbackChannel("credit", { alarms: false });
            const stock = new CallbackChannel("stock", { alarms: false });
            new Workflow("orders", {
                alarms: false,
                definition: {
                    StartAt: "Checks",
                    States: {
                        Checks: {
                            Type: "Parallel",
                            Branches: [
                                {
                                    StartAt: "Credit",
                                    States: { Credit: credit.waitForCallback({ timeoutSeconds: 3600, end: true }) },
                                },
                                { StartAt: "Hold", States: { Hold: { Type: "Pass", End: true } } },
                            ],
                            Next: "Items",
                        },
                        Items: {
                            Type: "Map",
                            ItemsPath: "$.items",
                            ItemProcessor: {
                                StartAt: "Pick",
                                States: { Pick: stock.waitForCallback({ timeoutSeconds: 3600, end: true }) },
                            },
                            End: true,
                        },
                    },
                },
            });
        });
        assert.ok(resource(run, ROLE_POLICY, "orders.credit-answer"));
        assert.ok(resource(run, ROLE_POLICY, "orders.stock-answer"));
        const sends = rolePolicy(run, "orders-sfn-policy").Statement.filter((st) => st.Sid === "SendToWorkQueue");
        assert.equal(sends.length, 2);
        const asl = jsonInput<{ States: { Items: { ItemProcessor: { States: { Pick: { Resource: string } } } } } }>(
            resource(run, "aws:sfn/stateMachine:StateMachine", "orders-state-machine"),
            "definition",
        );
        assert.equal(
            asl.States.Items.ItemProcessor.States.Pick.Resource,
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        );
    });

    it("must refuse a callback step inside a Map whose child executions are EXPRESS", async () => {
        const { error } = await failing(() => {
            const stock = new CallbackChannel("stock", { alarms: false });
            new Workflow("bulk", {
                alarms: false,
                definition: {
                    StartAt: "Items",
                    States: {
                        Items: {
                            Type: "Map",
                            ItemProcessor: {
                                ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" },
                                StartAt: "Pick",
                                States: { Pick: stock.waitForCallback({ timeoutSeconds: 3600, end: true }) },
                            },
                            End: true,
                        },
                    },
                },
            });
        });
        assert.match(error.message, /Invalid arguments for Workflow "bulk"/);
        assert.match(error.message, /EXPRESS/);
    });

    it("must keep grants of different workflow and channel names apart, and refuse bad answerer shapes", async () => {
        const run = await runProgram(() => {
            const x = new CallbackChannel("x", { alarms: false });
            const wx = new CallbackChannel("w-x", { alarms: false });
            new Workflow("w", { definition: waitingOn([x]), alarms: false });
            new Workflow("w-x", { definition: waitingOn([wx]), alarms: false });
        });
        const urns = run.resources.map((r) => r.urn);
        assert.equal(new Set(urns).size, urns.length, "no two resources share a URN");
        assert.ok(resource(run, ROLE_POLICY, "w.x-answer") && resource(run, ROLE_POLICY, "w-x-answer"));
        const { error } = await failing(
            () =>
                new CallbackChannel("bad", {
                    workerActions: "states:SendTaskFailure",
                    answerers: [{ roleName: "arn:aws:iam::123456789012:role/page", actions: [] }],
                    stateMachineArns: "arn:aws:states:eu-west-1:123456789012:stateMachine:m",
                    heartbeatSeconds: 600,
                    workerEnvironment: { AWS_REGION: "x", AWS_MAX_ATTEMPTS: "5" },
                } as never),
        );
        assert.match(error.message, /`workerActions` must list only/);
        assert.match(error.message, /`answerers\[0\]\.actions` must list one or more of/);
        assert.match(error.message, /`answerers\[0\]\.roleName` must be an IAM role's name.*not its ARN: use "page"/);
        assert.match(error.message, /`stateMachineArns` must be a list/);
        assert.match(error.message, /`workerEnvironment\.AWS_REGION` must be a name/);
        assert.ok(!error.message.includes("AWS_MAX_ATTEMPTS"), "a name Lambda does not reserve is the user's");
        const mute = await failing(
            () => new CallbackChannel("mute", { heartbeatSeconds: 600, workerActions: ["states:SendTaskSuccess"] }),
        );
        assert.match(mute.error.message, /`heartbeatSeconds` needs states:SendTaskHeartbeat in workerActions/);
    });

    it("must refuse waitForCallback options it does not take, and need exactly one of next and end", async () => {
        await runProgram(() => {
            const channel = new CallbackChannel("opts", { alarms: false });
            assert.throws(
                () => channel.waitForCallback({ timeoutSeconds: 3600, heartbeatSecond: 900, end: true } as never),
                /`heartbeatSecond` is not an argument: did you mean `heartbeatSeconds`\?/,
            );
            assert.throws(
                () => channel.waitForCallback({ timeoutSeconds: 3600, end: true, next: "X" } as never),
                /`next` or `end: true`, exactly one/,
            );
            assert.throws(
                () => channel.waitForCallback({ timeoutSeconds: 3600, heartbeatSeconds: 700.5, end: true }),
                /`heartbeatSeconds` must be a positive integer/,
            );
            const formatted = channel.waitForCallback({
                timeoutSeconds: 3600,
                input: "States.StringToJson($.body)",
                end: true,
            });
            const body = (formatted.Parameters as { MessageBody: Record<string, unknown> }).MessageBody;
            assert.equal(body["Input.$"], "States.StringToJson($.body)");
        });
    });

    it("must let a Distributed Map start, describe and stop its own child executions, and grant external keys", async () => {
        const external = arn("states", "stateMachine:theirs");
        const key = arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab");
        const run = await runProgram(() => {
            const stock = new CallbackChannel("stock", {
                alarms: false,
                stateMachineArns: [external],
                stateMachineKmsKeyArn: key,
            });
            new Workflow("bulk", {
                alarms: false,
                definition: {
                    StartAt: "Items",
                    States: {
                        Items: {
                            Type: "Map",
                            ItemProcessor: {
                                ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
                                StartAt: "Pick",
                                States: { Pick: stock.waitForCallback({ timeoutSeconds: 3600, end: true }) },
                            },
                            End: true,
                        },
                    },
                },
            });
        });
        assert.deepEqual(rows(rolePolicy(run, "bulk-sfn-distributed-map-policy").Statement), [
            ["StartChildExecutions", ["states:StartExecution"], [machineArn("bulk")]],
            [
                "ManageChildExecutions",
                ["states:DescribeExecution", "states:StopExecution"],
                [arn("states", "execution:bulk-state-machine-0a1b2c3/*")],
            ],
        ]);
        const externalGrant = rolePolicy(run, "stock-external-answer").Statement;
        assert.deepEqual(
            rows(externalGrant).map(([sid]) => sid),
            ["AnswerTaskTokens", "AnswerEncryptedStateMachine"],
        );
        assert.deepEqual(externalGrant[1]?.Condition, {
            StringEquals: { "kms:EncryptionContext:aws:states:stateMachineArn": external },
        });
    });
});
