/**
 * The local harness on a consumer's program (callback-workflow/local): two channels with their own
 * workers, a Parallel of two callback steps, a Map that waits for a callback per item, a Choice, a Wait,
 * Succeed and Fail, run end to end with the real outputs and causes; what it refuses (JSONata first);
 * where it runs a definition as Step Functions would although its interpreter would not; the
 * expected-outcome logic; the command's flags.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import { LocalHarness, runnableDefinition, type Execution } from "../local/engine";
import { describeExpectation, firstFailure, meetsExpectation, parseExpectation } from "../local/expectation";
import { evaluateProgram, readProgram, selectStateMachine, type LocalProgram } from "../local/program";
import { summaryLines } from "../local/report";
import { runLocally, type LocalRunReport } from "../local/run";
import { parseRunCli, USAGE as RUN_USAGE } from "../local/run-cli";
import { supportProblems } from "../local/support";
import { GOOD_ORDER, ordersProgram } from "./fixtures/orders-program";

const STACK_TRACE = /^\s+at /m;

describe("local harness: a consumer's program with two channels, Parallel, Map, Choice, Wait, Succeed and Fail", function () {
    this.timeout(60_000);
    let success: LocalRunReport;
    let short: Execution;
    let refused: Execution;
    let empty: Execution;

    before(async () => {
        // The success path through the consumer API; the failure paths on one harness, side by side.
        success = await runLocally({ program: ordersProgram, workflow: "orders", input: GOOD_ORDER, timeScale: 100 });
        const program = await readProgram(await evaluateProgram(ordersProgram, { stack: "local" }));
        const machine = selectStateMachine(program, "orders");
        const harness = new LocalHarness({ program, stateMachines: [machine.arn], timeScale: 100 });
        await harness.start();
        try {
            short = harness.startExecution({
                ...GOOD_ORDER,
                items: [
                    { sku: "apple", qty: 1 },
                    { sku: "plum", qty: 9 },
                ],
            });
            refused = harness.startExecution({ ...GOOD_ORDER, order: "A-18", total: 900 });
            empty = harness.startExecution({ ...GOOD_ORDER, items: [] });
            await Promise.all([short.done, refused.done, empty.done]);
        } finally {
            await harness.stop();
        }
    });

    it("must succeed with each worker's real output: both Parallel branches, then one reservation per item", () => {
        assert.equal(success.status, "SUCCEEDED", `${success.error ?? ""} ${success.cause ?? ""}`);
        assert.ok(success.asExpected);
        assert.deepEqual(success.output, {
            ...GOOD_ORDER,
            checks: [{ approved: true, order: "A-17", execution: "local-1" }, { known: 3 }],
            reservations: [
                { sku: "apple", reserved: 2, reservation: "local-1/0" },
                { sku: "pear", reserved: 1, reservation: "local-1/1" },
                { sku: "apple", reserved: 3, reservation: "local-1/2" },
            ],
        });
        assert.deepEqual(Object.keys(success.workerLogs).sort(), ["approvals-worker", "warehouse-worker"]);
    });

    it("must give every callback task its own token, on the queue its QueueUrl names, answered by that queue's worker", () => {
        const sent = success.trace.filter((e) => e.source === "sqs").map((e) => e.text);
        const by = (queue: string, state: string) => sent.filter((t) => t.includes(`sent to ${queue} by ${state} `));
        assert.equal(by("approvals-queue", "Manager Approval").length, 1);
        assert.equal(by("warehouse-queue", "Stock Check").length, 1);
        assert.equal(by("warehouse-queue", "Reserve Item").length, 3, "one per item");
        const tokens = sent.map((t) => /token (sha256:[0-9a-f]+)/.exec(t)?.[1]);
        assert.equal(new Set(tokens).size, 5, "five distinct tokens");
        const answered = success.trace.filter((e) => e.source === "sfn" && e.text.startsWith("SendTaskSuccess"));
        assert.equal(answered.length, 5);
        const invoked = success.trace.filter((e) => e.source === "worker").map((e) => e.text);
        assert.ok(invoked.some((t) => t.endsWith("(approvals-worker)")));
        assert.ok(invoked.some((t) => t.endsWith("(warehouse-worker)")));
        for (const index of [0, 1, 2]) {
            assert.ok(success.trace.some((e) => e.text === `entered Reserve Item [item ${index}]`));
        }
    });

    it("must wait the Wait state's 30 s on the stack's clock", () => {
        const at = (text: string) => success.trace.find((e) => e.text === text)?.atStackSeconds ?? Number.NaN;
        const waited = at("left    Cool Off") - at("entered Cool Off");
        assert.ok(waited >= 29 && waited < 60, `waited ${waited} s`);
    });

    it("must fail through the Map's Catch with the item's real error and cause, and say which item failed", () => {
        assert.equal(short.status, "FAILED");
        assert.equal(short.error, "Stock.Short");
        assert.equal(short.cause, "Only 3 plum left, 9 wanted.");
        assert.deepEqual(short.failures[0], {
            state: "Reserve Item",
            index: 1,
            error: "Stock.Short",
            cause: "Only 3 plum left, 9 wanted.",
        });
        assert.equal(firstFailure(short), "Reserve Item [item 1] failed with Stock.Short: Only 3 plum left, 9 wanted.");
    });

    it("must fail through the Parallel's Catch when one branch's worker refuses", () => {
        assert.equal(refused.status, "FAILED");
        assert.equal(refused.error, "Approval.Refused");
        assert.equal(refused.cause, "Order A-18: 900 is over the approval limit of 500.");
        assert.equal(refused.failures[0]?.state, "Manager Approval");
        assert.equal(refused.output, undefined);
    });

    it("must end a Fail state without a Cause with no cause, as Step Functions does, not the interpreter's placeholder", () => {
        assert.equal(empty.status, "FAILED");
        assert.equal(empty.error, "Order.Empty");
        assert.equal(empty.cause, undefined);
        assert.deepEqual(empty.failures, [{ state: "No Items", error: "Order.Empty", cause: undefined }]);
    });

    it("must refuse the JSONata workflow, naming its states, before anything runs", async () => {
        await assert.rejects(runLocally({ program: ordersProgram, workflow: "orders-jsonata" }), (error: Error) => {
            assert.equal(error.name, "LocalRunError");
            assert.match(error.message, /^The local harness does not run state machine "orders-jsonata"/);
            assert.match(
                error.message,
                /JSONata: aws-local-stepfunctions \d+\.\d+\.\d+ has no JSONata evaluator and would read these states as JSONPath, wrongly: "Manager Approval", "Approved" \(the machine sets QueryLanguage "JSONata"\)/,
            );
            return true;
        });
    });
});

describe("local harness: the example consumer project's workflow (examples/orders), offline", function () {
    this.timeout(60_000);
    let project: string;
    const options = (input: unknown) => ({
        program: path.join(REPO_ROOT, "build", "examples", "orders", "index.js"),
        // Its workers resolve from its directory, as under `pulumi up` there.
        rootDirectory: project,
        project: "orders",
        workflow: "orders",
        // Its stacks name their approvers (the orders above its approvalThreshold wait for one).
        config: { approvers: JSON.stringify(["orders-lead@example.com"]) },
        input,
        timeScale: 100,
    });

    before(() => {
        // A copy whose node_modules/callback-workflow is this repository, as `npm install` gives it.
        project = mkdtempSync(path.join(tmpdir(), "orders-local-"));
        cpSync(path.join(REPO_ROOT, "examples", "orders"), project, {
            recursive: true,
            filter: (src) => !src.includes("node_modules"),
        });
        mkdirSync(path.join(project, "node_modules"));
        symlinkSync(REPO_ROOT, path.join(project, "node_modules", "callback-workflow"), "dir");
    });
    after(() => rmSync(project, { recursive: true, force: true }));

    it("must run its Workflow: both channels' workers, bundled from callback-workflow/worker as Lambda loads them", async () => {
        const items = [
            { sku: "sku-apple", quantity: 2 },
            { sku: "sku-pear", quantity: 1 },
        ];
        const report = await runLocally(options({ orderId: "o-1", customerId: "c-1", total: 120, items }));
        assert.equal(report.status, "SUCCEEDED", `${report.error ?? ""}: ${report.cause ?? ""}`);
        assert.deepEqual(report.output, {
            orderId: "o-1",
            customerId: "c-1",
            total: 120,
            items,
            checks: [{ approved: true, customerId: "c-1", limit: 5000 }, { reserved: ["sku-apple", "sku-pear"] }],
            picked: [
                { picked: "sku-apple", quantity: 2 },
                { picked: "sku-pear", quantity: 1 },
            ],
        });
    });

    it("must fail an approval step at once, saying why, unless a local handler decides it", async () => {
        const items = [{ sku: "sku-apple", quantity: 1 }];
        const large = { orderId: "o-3", customerId: "c-1", total: 1500, items };
        const unserved = await runLocally({
            ...options(large),
            expect: { status: "FAILED", error: "Local.ApprovalNotServed" },
        });
        assert.ok(unserved.asExpected, `${unserved.status} ${unserved.error ?? ""}: ${unserved.cause ?? ""}`);
        assert.match(unserved.cause ?? "", /Task "Approve large order" is an approval .* local handler that decides/);
        const decided = await runLocally({
            ...options(large),
            tasks: {
                "Approve large order": () => ({
                    decision: "approved",
                    approver: "orders-lead@example.com",
                    comment: "",
                    decidedAt: new Date().toISOString(),
                }),
            },
        });
        assert.equal(decided.status, "SUCCEEDED", `${decided.error ?? ""}: ${decided.cause ?? ""}`);
        const rejected = await runLocally({
            ...options(large),
            expect: { status: "FAILED", error: "Approval.Rejected" },
            tasks: {
                "Approve large order": () => {
                    throw Object.assign(new Error("Over the customer's usual."), { name: "Approval.Rejected" });
                },
            },
        });
        assert.ok(rejected.asExpected, `${rejected.status} ${rejected.error ?? ""}: ${rejected.cause ?? ""}`);
    });

    it("must take its Choice's IsPresent: false branch for an empty order (the interpreter alone would not)", async () => {
        const report = await runLocally({
            ...options({ orderId: "o-2", customerId: "c-1", total: 0, items: [] }),
            expect: { status: "FAILED", error: "Order.Empty" },
        });
        assert.ok(report.asExpected, `${report.status} ${report.error ?? ""}`);
        assert.equal(report.cause, "The order has no items.");
        assert.ok(!report.trace.some((e) => e.source === "sqs"), "no callback task started");
    });
});

/** A program of state machines and queues, without Pulumi: for what the harness refuses or rewrites. */
function programOf(definition: Record<string, unknown>, queues: LocalProgram["queues"] = []): LocalProgram {
    return {
        stateMachines: [
            {
                name: "machine",
                arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:machine",
                roleArn: undefined,
                definition,
                components: ["flow"],
            },
        ],
        queues,
        topics: [],
    };
}

async function runAlone(
    definition: Record<string, unknown>,
    input: unknown,
    options: { timeScale?: number; tasks?: Record<string, (input: unknown) => unknown> } = {},
): Promise<Execution> {
    const harness = new LocalHarness({ program: programOf(definition), ...options });
    await harness.start();
    try {
        const execution = harness.startExecution(input);
        await execution.done;
        return execution;
    } finally {
        await harness.stop();
    }
}

describe("local harness: what it refuses, so that nothing runs otherwise than on Step Functions", () => {
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/work";
    const context = (timeScale = 1, handlers: string[] = []) => ({
        queues: new Map([[queueUrl, { name: "work", consumed: false }]]),
        localHandlers: new Set(handlers),
        timeScale,
    });
    const pass = (extra: Record<string, unknown> = {}) => ({ Type: "Pass", End: true, ...extra });

    it("must refuse JSONata set on one state only, deep in a Map, naming that state", () => {
        const { problems } = supportProblems(
            {
                StartAt: "Each",
                States: {
                    Each: {
                        Type: "Map",
                        ItemProcessor: {
                            StartAt: "Shape",
                            States: { Shape: pass({ QueryLanguage: "JSONata", Output: "{% $states.input %}" }) },
                        },
                        End: true,
                    },
                },
            },
            context(),
        );
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0] ?? "", /^JSONata: .* would read these states as JSONPath, wrongly: "Shape"\./);
    });

    it("must name every other reason, state by state", () => {
        const { problems } = supportProblems(
            {
                StartAt: "Vars",
                States: {
                    Vars: pass({ Assign: { x: 1 }, End: undefined, Next: "Fan" }),
                    Fan: {
                        Type: "Parallel",
                        Branches: [
                            {
                                StartAt: "Input Again",
                                States: { "Input Again": pass({ Parameters: { "first.$": "$$.Execution.Input.a" } }) },
                            },
                        ],
                        Next: "Distributed",
                    },
                    Distributed: {
                        Type: "Map",
                        ItemReader: { Resource: "arn:aws:states:::s3:getObject" },
                        ItemProcessor: {
                            ProcessorConfig: { Mode: "DISTRIBUTED" },
                            StartAt: "Inner",
                            States: { Inner: pass() },
                        },
                        Next: "Invoke",
                    },
                    Invoke: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Next: "Wait For Nobody" },
                    "Wait For Nobody": {
                        Type: "Task",
                        Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                        Parameters: {
                            QueueUrl: queueUrl,
                            MessageBody: { "Token.$": "States.Hash($$.Task.Token, 'SHA-256')" },
                        },
                        HeartbeatSecondsPath: "$.beat",
                        TimeoutSecondsPath: "$.timeout",
                        Next: "Dynamic Queue",
                    },
                    "Dynamic Queue": {
                        Type: "Task",
                        Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                        Parameters: { "QueueUrl.$": "$.queue", MessageBody: { "TaskToken.$": "$$.Task.Token" } },
                        Next: "Names",
                    },
                    Names: pass({
                        Parameters: { "me.$": "$$.State.Name", "skus.$": "$.items[*].sku" },
                        ResultPath: "$['out']",
                        End: undefined,
                        Next: "Match",
                    }),
                    Match: {
                        Type: "Choice",
                        Choices: [{ Variable: "$.name", StringMatches: "a?c", Next: "Done" }],
                        Default: "Done",
                    },
                    Done: { Type: "Succeed" },
                },
            },
            context(10),
        );
        const expected = [
            'State "Vars" sets Assign (workflow variables)',
            'State "Input Again" (inside "Fan") reads $$.Execution.Input.a: inside a branch or an iteration',
            'State "Distributed" sets ItemReader',
            'Map "Distributed" is a Distributed Map',
            'Task "Invoke" (Resource "arn:aws:states:::lambda:invoke") is neither a callback',
            'Task "Wait For Nobody" sends to queue "work", which no function of the program consumes',
            'State "Wait For Nobody" sets HeartbeatSecondsPath',
            'State "Wait For Nobody" takes its duration from TimeoutSecondsPath, which the harness cannot scale',
            'State "Wait For Nobody" reads $$.Task.Token in Parameters.MessageBody.Token.$: the harness fills it in only in the Parameters of the Task states it runs',
            'Task "Dynamic Queue" names its queue with a path (QueueUrl.$)',
            'State "Dynamic Queue" reads $$.Task.Token in Parameters.MessageBody.TaskToken.$',
            'State "Names" reads $$.State.Name in Parameters.me.$',
            'State "Names" Parameters.skus.$ "$.items[*].sku" can match several nodes',
            'State "Names" ResultPath "$[\'out\']": the interpreter writes only "$" and dotted paths',
            'State "Match" Choices.0.StringMatches "a?c": the interpreter reads ? as a wildcard',
        ];
        for (const reason of expected) {
            assert.ok(
                problems.some((p) => p.startsWith(reason)),
                `${reason}\nnot in:\n${problems.join("\n")}`,
            );
        }
        assert.equal(problems.length, expected.length, problems.join("\n"));
    });

    it("must read only paths as paths: a literal that looks like one is not refused", () => {
        const { problems } = supportProblems(
            {
                StartAt: "Literal",
                States: {
                    Literal: pass({
                        Parameters: { note: "costs $$.99", filePath: "/a/b..c/*", nested: { where: "$.items[*]" } },
                        Result: { "x.$": "$$.Anything" },
                    }),
                },
            },
            context(),
        );
        assert.deepEqual(problems, []);
    });

    it("must take a task it cannot route when the caller runs it, and a token passed through States.Format", () => {
        const { problems, routes } = supportProblems(
            {
                StartAt: "Invoke",
                States: {
                    Invoke: {
                        Type: "Task",
                        Resource: "arn:aws:states:::lambda:invoke",
                        Parameters: { "ref.$": "States.Format('{}/{}', $$.State.Name, $$.Task.Token)" },
                        End: true,
                    },
                },
            },
            context(1, ["Invoke"]),
        );
        assert.deepEqual(problems, []);
        assert.deepEqual(routes.get("Invoke"), { kind: "local-handler" });
    });

    it("must say which function's code does not load as Lambda would load it", async () => {
        const queueUrl2 = "https://sqs.eu-west-1.amazonaws.com/123456789012/broken";
        const program = programOf(
            {
                StartAt: "Ask",
                States: {
                    Ask: {
                        Type: "Task",
                        Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                        Parameters: { QueueUrl: queueUrl2, MessageBody: { "TaskToken.$": "$$.Task.Token" } },
                        TimeoutSeconds: 60,
                        End: true,
                    },
                },
            },
            [
                {
                    name: "broken-queue",
                    url: queueUrl2,
                    arn: "arn:aws:sqs:eu-west-1:123456789012:broken",
                    visibilityTimeoutSeconds: 30,
                    maxReceiveCount: 3,
                    consumer: {
                        batchSize: 1,
                        worker: {
                            name: "broken-worker",
                            functionName: "broken-worker-0a1b2c3",
                            functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:broken-worker-0a1b2c3",
                            files: new Map([["index.mjs", 'throw new Error("init failed");\n']]),
                            handler: "index.handler",
                            environment: {},
                            timeoutSeconds: 3,
                        },
                    },
                },
            ],
        );
        const harness = new LocalHarness({ program });
        try {
            await assert.rejects(harness.start(), (error: Error) => {
                assert.equal(error.name, "LocalRunError");
                assert.equal(
                    error.message,
                    'Function "broken-worker" does not load as Lambda would load it (index.handler): Error: init failed',
                );
                return true;
            });
        } finally {
            await harness.stop();
        }
    });

    it("must refuse a definition through LocalHarness, listing its problems, before it starts anything", () => {
        assert.throws(
            () => new LocalHarness({ program: programOf({ StartAt: "A", States: { A: pass({ Assign: {} }) } }) }),
            (error: Error) =>
                error.name === "LocalRunError" &&
                error.message ===
                    'The local harness does not run state machine "machine": it could not run it as Step Functions would.\n- State "A" sets Assign (workflow variables), which the interpreter does not implement.',
        );
    });
});

describe("local harness: runs as Step Functions does where its interpreter would not", function () {
    this.timeout(20_000);

    it("must replace the input with the result for ResultPath $ (the interpreter nests it under a '$' key)", async () => {
        const execution = await runAlone(
            { StartAt: "A", States: { A: { Type: "Pass", Result: { b: 2 }, ResultPath: "$", End: true } } },
            { a: 1 },
        );
        assert.deepEqual(execution.output, { b: 2 });
    });

    it("must match a Choice type test that is false (the interpreter never does)", async () => {
        const execution = await runAlone(
            {
                StartAt: "Has Name",
                States: {
                    "Has Name": {
                        Type: "Choice",
                        Choices: [{ Variable: "$.name", IsPresent: false, Next: "Anonymous" }],
                        Default: "Named",
                    },
                    Anonymous: { Type: "Pass", Result: "anonymous", End: true },
                    Named: { Type: "Pass", Result: "named", End: true },
                },
            },
            {},
        );
        assert.equal(execution.output, "anonymous");
    });

    it("must scale a Wait's Seconds but not a payload field named Seconds, and time out the execution as TIMED_OUT", async () => {
        const definition = {
            StartAt: "Shape",
            States: {
                Shape: { Type: "Pass", Parameters: { Seconds: 10 }, Next: "Pause" },
                Pause: { Type: "Wait", Seconds: 50, End: true },
            },
        };
        const started = Date.now();
        const execution = await runAlone(definition, {}, { timeScale: 1000 });
        assert.deepEqual(execution.output, { Seconds: 10 });
        assert.ok(Date.now() - started < 5_000, "50 s of stack time at 1000x");
        const late = await runAlone({ ...definition, TimeoutSeconds: 10 }, {}, { timeScale: 100 });
        assert.equal(late.status, "TIMED_OUT");
        assert.equal(late.error, "States.Timeout");
    });

    it("must run a caller's task handler with the state's own context values filled in", async () => {
        const execution = await runAlone(
            {
                StartAt: "Invoke",
                States: {
                    Invoke: {
                        Type: "Task",
                        Resource: "arn:aws:states:::lambda:invoke",
                        Parameters: {
                            "state.$": "$$.State.Name",
                            "order.$": "$.order",
                            "at.$": "$$.State.EnteredTime",
                        },
                        ResultSelector: { "echo.$": "$" },
                        End: true,
                    },
                },
            },
            { order: 5 },
            { tasks: { Invoke: (input) => input } },
        );
        const echo = (execution.output as { echo: { state: string; order: number; at: string } }).echo;
        assert.equal(echo.state, "Invoke");
        assert.equal(echo.order, 5);
        assert.ok(Math.abs(Date.parse(echo.at) - Date.now()) < 10_000, echo.at);
    });

    it("must give a task without TimeoutSeconds Step Functions' default, not the interpreter's 60 s", () => {
        const runnable = runnableDefinition(
            {
                StartAt: "T",
                TimeoutSeconds: 600,
                States: {
                    T: {
                        Type: "Task",
                        Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                        HeartbeatSeconds: 60,
                        Retry: [{ ErrorEquals: ["States.ALL"] }],
                        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$", Next: "F" }],
                        End: true,
                    },
                    F: { Type: "Fail" },
                },
            },
            10,
        );
        assert.deepEqual(runnable, {
            StartAt: "T",
            TimeoutSeconds: 60,
            States: {
                T: {
                    Type: "Task",
                    Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    TimeoutSeconds: 2_147_483, // 99999999 s scaled, capped at the longest timer Node.js keeps
                    Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 0.1 }],
                    Catch: [{ ErrorEquals: ["States.ALL"], Next: "F" }],
                    End: true,
                },
                F: { Type: "Fail" },
            },
        });
    });
});

describe("local harness: expected outcomes and summaries", () => {
    it("must read --expect as a status, optionally with the error", () => {
        assert.deepEqual(parseExpectation("succeeded"), { status: "SUCCEEDED" });
        assert.deepEqual(parseExpectation("FAILED"), { status: "FAILED" });
        assert.deepEqual(parseExpectation("failed:Callback.Rejected"), {
            status: "FAILED",
            error: "Callback.Rejected",
        });
        assert.deepEqual(parseExpectation("timed-out"), { status: "TIMED_OUT" });
        for (const bad of ["maybe", "failed:", "succeeded:Oops", ""]) {
            assert.equal(parseExpectation(bad), undefined, bad);
        }
    });

    it("must judge the status, and the error when one is expected", () => {
        const failed = { status: "FAILED" as const, error: "Stock.Short" };
        assert.ok(meetsExpectation(failed, { status: "FAILED" }));
        assert.ok(meetsExpectation(failed, { status: "FAILED", error: "Stock.Short" }));
        assert.ok(!meetsExpectation(failed, { status: "FAILED", error: "Approval.Refused" }));
        assert.ok(!meetsExpectation(failed, { status: "SUCCEEDED" }));
        assert.equal(describeExpectation({ status: "FAILED", error: "Stock.Short" }), "FAILED (Stock.Short)");
    });

    it("must summarise with the execution's cause and the first failure that was not retried", () => {
        const lines = summaryLines(
            {
                status: "FAILED",
                error: "Callback.Rejected",
                cause: "The callback task failed.",
                output: undefined,
                failures: [
                    { state: "Notify", error: "SNS.Throttled", cause: "slow down", retried: true },
                    { state: "Wait For Answer", error: "Callback.Rejected", cause: "No stock." },
                    { state: "Failed", error: "Callback.Rejected", cause: "The callback task failed." },
                ],
            },
            { durationMs: 40, timeScale: 100, expected: "SUCCEEDED" },
        );
        assert.deepEqual(lines, [
            "FAILED (Callback.Rejected) in 40 ms (4 s of stack time); expected SUCCEEDED",
            "cause: The callback task failed.",
            "where: Wait For Answer failed with Callback.Rejected: No stock.",
        ]);
    });

    it("must name an unknown workflow with the nearest one", () => {
        const program = programOf({ StartAt: "A", States: { A: { Type: "Succeed" } } });
        assert.equal(selectStateMachine(program, "flow").name, "machine", "by its component's name");
        assert.equal(selectStateMachine(program, undefined).name, "machine", "the only one");
        assert.throws(
            () => selectStateMachine(program, "flwo"),
            /^LocalRunError: No workflow "flwo" in the program\. Did you mean "flow"\? Its workflows: flow, machine\.$/,
        );
    });
});

describe("callback-workflow-local: the command", function () {
    this.timeout(30_000);

    it("must read its flags, the program resolved from the working directory", () => {
        assert.deepEqual(parseRunCli(["build/index.js"]), {
            program: path.resolve("build/index.js"),
            workflow: undefined,
            input: {},
            expect: { status: "SUCCEEDED" },
            timeScale: 1,
            config: {},
            stack: "local",
            json: false,
        });
        const options = parseRunCli([
            "p.js",
            "--workflow",
            "orders",
            "--input",
            '{"a":1}',
            "--expect",
            "failed:Stock.Short",
            "--time-scale",
            "100",
            "--config",
            "orders:limit=500",
            "--config",
            "region=x=y",
            "--json",
        ]);
        assert.deepEqual(options.input, { a: 1 });
        assert.deepEqual(options.expect, { status: "FAILED", error: "Stock.Short" });
        assert.deepEqual(options.config, { "orders:limit": "500", region: "x=y" });
        assert.equal(options.timeScale, 100);
    });

    for (const [args, message] of [
        [[], "Name the program's module, such as build/index.js."],
        [["p.js", "--input", "{"], "--input must be JSON, such as '{\"order\": 42}'"],
        [["p.js", "--workfow", "x"], "Unknown option '--workfow': did you mean `--workflow`?"],
        [["p.js", "--expect", "done"], "--expect must be succeeded, failed or timed_out"],
        [["p.js", "--config", "novalue"], '--config must be KEY=VALUE, such as orders:limit=500 (got "novalue").'],
        [["p.js", "--time-scale", "0"], '--time-scale must be a number from 1 to 10000 (got "0").'],
        [["p.js", "--input", "{}", "--input-file", "f.json"], "Give --input or --input-file, not both."],
    ] as const) {
        it(`must refuse ${args.join(" ") || "no program"} as a usage error`, () => {
            assert.throws(
                () => parseRunCli(args),
                (error: Error) => error.name === "UsageError" && error.message.startsWith(message),
            );
        });
    }

    it("must print a workflow it cannot run locally alone, without a stack trace: exit 1", async () => {
        const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
            (resolve) => {
                execFile(
                    process.execPath,
                    [
                        path.join(REPO_ROOT, "build", "local", "run-cli.js"),
                        path.join(REPO_ROOT, "build", "tests", "fixtures", "orders-program.js"),
                        "--workflow",
                        "orders-jsonata",
                    ],
                    { cwd: REPO_ROOT, timeout: 30_000 },
                    (error, out, err) =>
                        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout: out, stderr: err }),
                );
            },
        );
        assert.equal(code, 1, stderr);
        assert.equal(stdout, "");
        assert.match(stderr, /^The local harness does not run state machine "orders-jsonata": .*\n- JSONata: /);
        assert.doesNotMatch(stderr, STACK_TRACE);
    });

    it("must document every flag it reads", () => {
        for (const flag of [
            "--workflow",
            "--input",
            "--input-file",
            "--expect",
            "--time-scale",
            "--config",
            "--stack",
            "--json",
        ]) {
            assert.ok(RUN_USAGE.includes(`  ${flag} `), flag);
        }
    });
});
