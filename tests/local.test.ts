/**
 * The local harness end to end: the dev stack's rendered definition in aws-local-stepfunctions, the
 * bundled worker in its own process, the in-memory queue, and the smoke script over the real SDK.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import {
    expectationFor,
    isApprovalScenario,
    parseCli,
    renderScenarioStack,
    runScenario,
    SCENARIOS,
    type ScenarioName,
    type ScenarioReport,
} from "../local/cli";
import { USAGE as SMOKE_USAGE } from "../scripts/smoke";
import { LocalCallbackHarness, renderStack, type RenderedStack } from "../local/harness";
import { lambdaEnvironment } from "../local/lambda-process";
import { InMemoryQueue } from "../local/queue";
import { REPO_ROOT } from "../components/bundle";

const run = promisify(execFile);

describe("local harness: the scenarios end to end, with the dev stack's own settings", function () {
    this.timeout(30_000);
    // Each scenario has its own harness (endpoint, worker process, queue): they run side by side. The
    // human-approval scenario runs on the stack rendered with approvers (tests/approval-scenario.test.ts).
    let reports: Record<ScenarioName, ScenarioReport>;
    let stack: RenderedStack;
    const dev = { heartbeat: 300, visibility: 180, timeout: 1200, receives: 5 };

    before(async () => {
        stack = await renderScenarioStack(undefined);
        const names = (Object.keys(SCENARIOS) as ScenarioName[]).filter((name) => !isApprovalScenario(name));
        const ran = await Promise.all(names.map((name) => runScenario(name, { stack })));
        reports = Object.fromEntries(names.map((name, i) => [name, ran[i]])) as Record<ScenarioName, ScenarioReport>;
    });

    /** When (stack seconds) the first trace event matching `pattern` happened. */
    const at = (report: ScenarioReport, pattern: RegExp): number | undefined =>
        report.trace.find((e) => pattern.test(e.text))?.atStackSeconds;

    it("must render the dev stack's own numbers, not shortened ones", () => {
        assert.equal(stack.visibilityTimeoutSeconds, dev.visibility);
        assert.equal(stack.maxReceiveCount, dev.receives);
        const states = stack.definition["States"] as Record<
            string,
            { HeartbeatSeconds?: number; TimeoutSeconds?: number }
        >;
        const wait = states["Start Task And Wait For Callback"];
        assert.deepEqual([wait?.HeartbeatSeconds, wait?.TimeoutSeconds], [dev.heartbeat, dev.timeout]);
    });

    it("approve: SUCCEEDED through Notify Success, with the worker's output", () => {
        const report = reports.approve;
        assert.equal(report.status, "SUCCEEDED");
        assert.ok(report.asExpected);
        assert.deepEqual(
            report.snsMessages.map((m) => m.subject),
            ["Callback workflow succeeded"],
        );
        assert.match(
            report.snsMessages[0]?.message ?? "",
            /^Execution arn:aws:states:.*:execution:.*:local-1 succeeded\. Worker output: \{"status":"completed"/,
        );
        assert.equal((report.output as { status?: string }).status, "completed");
        assert.deepEqual(report.deadLetters, []);
    });

    it("reject: FAILED with Callback.Rejected through Notify Failure", () => {
        const report = reports.reject;
        assert.equal(report.status, "FAILED");
        assert.equal(report.error, "Callback.Rejected");
        assert.match(
            report.snsMessages[0]?.message ?? "",
            /failed: \{"Error":"Callback.Rejected","Cause":"Over budget."\}$/,
        );
    });

    it("timeout: no worker, no heartbeat: States.HeartbeatTimeout at HeartbeatSeconds", () => {
        const report = reports.timeout;
        assert.ok(report.asExpected, report.expected);
        assert.equal(report.error, "States.HeartbeatTimeout");
        const failedAt = at(report, /no heartbeat for 300 s/) ?? 0;
        assert.ok(failedAt >= dev.heartbeat && failedAt < dev.heartbeat + 30, `at ${failedAt} s of stack time`);
        assert.match(report.snsMessages[0]?.message ?? "", /"Error":"States.HeartbeatTimeout"/);
    });

    it("poison: no token, so no heartbeat: the task fails at HeartbeatSeconds; the message ends in the DLQ", () => {
        const report = reports.poison;
        assert.ok(report.asExpected, report.expected);
        assert.equal(report.error, "States.HeartbeatTimeout");
        assert.equal(report.deadLetters.length, 1);
        assert.equal(report.deadLetters[0]?.receiveCount, dev.receives, "the dev stack's maxReceiveCount");
        const invocations = report.trace.filter((e) => e.source === "worker" && e.text.startsWith("invoked"));
        assert.equal(invocations.length, dev.receives);
        // Receive k about (k − 1) visibility timeouts after the first, as on SQS.
        const fifth = invocations[4]?.atStackSeconds ?? 0;
        assert.ok(fifth >= 4 * dev.visibility && fifth < 4 * dev.visibility + 60, `receive 5 at ${fifth} s`);
    });

    it("backlog: the first receive comes 1.5 visibility timeouts late; its beat on receive keeps the task alive", () => {
        const report = reports.backlog;
        assert.ok(report.asExpected, `${report.status} ${report.error ?? ""}`);
        const received = at(report, /^invoked/) ?? 0;
        assert.ok(received >= 1.5 * dev.visibility, `first receive at ${received} s`);
        assert.ok(received < dev.heartbeat, "before the heartbeat timeout");
    });

    it("crash: the first receive crashes; the second, one visibility timeout later, answers", () => {
        const report = reports.crash;
        assert.ok(report.asExpected, `${report.status} ${report.error ?? ""}`);
        const invocations = report.trace.filter((e) => e.source === "worker" && e.text.startsWith("invoked"));
        assert.match(invocations[0]?.text ?? "", /receive 1\) → failed: Runtime.ExitError/);
        assert.match(invocations[1]?.text ?? "", /receive 2\) → batchItemFailures \[\]/);
        const second = invocations[1]?.atStackSeconds ?? 0;
        assert.ok(second >= dev.visibility && second < dev.heartbeat, `second receive at ${second} s`);
    });

    it("must end a non-object input through Notify Failure with a clear cause, not an uncatchable error", async () => {
        for (const input of ["just a string", [1, 2, 3], 42, true]) {
            const report = await runScenario("approve", { stack, input });
            assert.equal(report.status, "FAILED", JSON.stringify(input));
            assert.equal(report.error, "Input.NotAnObject", JSON.stringify(input));
            assert.match(
                report.snsMessages[0]?.message ?? "",
                /failed: \{"Error":"Input.NotAnObject","Cause":"The execution input must be a JSON object/,
            );
            assert.equal(report.trace.filter((e) => e.source === "sqs").length, 0, "no message sent");
        }
    });

    it("hung: the worker's first call gets no answer, times out, and the SDK's retry answers", () => {
        const report = reports.hung;
        assert.ok(report.asExpected, `${report.status} ${report.error ?? ""}`);
        assert.ok(report.trace.some((e) => /no answer \(a black-holed connection\)/.test(e.text)));
        assert.ok(report.durationMs >= 4_000, `the worker waited for its 5 s call timeout (${report.durationMs} ms)`);
    });
});

describe("local harness: the expected outcome follows the input; the real error and cause", function () {
    this.timeout(30_000);
    let stack: RenderedStack;
    before(async () => {
        stack = await renderScenarioStack(undefined);
    });

    it("must run the README's reject --input example as expected: FAILED (Callback.Rejected), with the worker's cause", async () => {
        const line = /^npm start -- --input '([^']+)'(?:\s+#.*)?$/m.exec(
            readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"),
        );
        assert.ok(line?.[1], "the README shows npm start -- --input '...'");
        const input = JSON.parse(line[1]) as { decision: string; reason: string };
        assert.equal(input.decision, "reject");
        const report = await runScenario("approve", { stack, input });
        assert.equal(report.status, "FAILED");
        assert.ok(report.asExpected, `${report.expected}: ${report.expectedBecause}`);
        assert.equal(report.expected, "FAILED (Callback.Rejected)");
        assert.equal(report.error, "Callback.Rejected");
        // The execution's own cause is its Fail state's; where it failed carries the worker's.
        assert.equal(
            report.cause,
            "The callback task failed; the Notify Failure message and the execution history say why.",
        );
        assert.deepEqual(report.failures[0], {
            state: "Start Task And Wait For Callback",
            error: "Callback.Rejected",
            cause: input.reason,
        });
    });

    it("must expect what the definition and the default worker do with an input, else the scenario's", () => {
        const dev: Pick<RenderedStack, "definition" | "workerEntry"> = {
            definition: stack.definition,
            workerEntry: undefined,
        };
        const expect = (scenario: ScenarioName, input: unknown, on = dev) =>
            expectationFor(scenario, input, on).expectation;
        assert.deepEqual(expect("approve", undefined), { status: "SUCCEEDED" });
        assert.deepEqual(expect("approve", { decision: "reject" }), { status: "FAILED", error: "Callback.Rejected" });
        assert.deepEqual(expect("reject", { decision: "approve" }), { status: "SUCCEEDED" });
        assert.deepEqual(expect("crash", { decision: "reject" }), { status: "FAILED", error: "Callback.Rejected" });
        for (const input of ["text", [1], 3, null]) {
            assert.deepEqual(expect("approve", input), { status: "FAILED", error: "Input.NotAnObject" });
            assert.deepEqual(expect("timeout", input), { status: "FAILED", error: "Input.NotAnObject" });
        }
        assert.deepEqual(expect("poison", { decision: "approve" }), {
            status: "FAILED",
            error: "States.HeartbeatTimeout",
        });
        const noHeartbeat = JSON.parse(
            JSON.stringify(stack.definition).replace(/"HeartbeatSeconds":\d+,?/, ""),
        ) as Record<string, unknown>;
        assert.deepEqual(expect("timeout", {}, { definition: noHeartbeat, workerEntry: undefined }), {
            status: "FAILED",
            error: "States.Timeout",
        });
        // A worker of the stack's own decides as it will: no error name is assumed.
        const custom = { definition: stack.definition, workerEntry: "workers/mine.ts" };
        assert.deepEqual(expect("approve", { decision: "reject" }, custom), { status: "SUCCEEDED" });
        assert.deepEqual(expect("reject", {}, custom), { status: "FAILED" });
    });
});

describe("local harness: npm start runs the stack's workerEntry", function () {
    this.timeout(30_000);
    // A stack of its own, with a dot in its name so that tests listing the committed stacks do not see it.
    const name = `local-worker.${process.pid}`;
    const file = path.join(REPO_ROOT, `Pulumi.${name}.yaml`);
    before(() =>
        writeFile(
            file,
            `${readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")}  callback-workflow:workerEntry: tests/fixtures/echo-worker.ts\n`,
        ),
    );
    after(() => rm(file, { force: true }));

    it("must answer with the stack's own worker, bundled as the program bundles it, not the default one", async () => {
        const stack = await renderScenarioStack(undefined, name);
        assert.equal(stack.workerEntry, "tests/fixtures/echo-worker.ts");
        const report = await runScenario("approve", { stack });
        assert.equal(report.status, "SUCCEEDED");
        // The echo worker answers with its input; the default worker with {"status": "completed", ...}.
        assert.deepEqual(report.output, { echo: { order: 42, decision: "approve" } });
        assert.match(report.expectedBecause, /the stack's worker \(tests\/fixtures\/echo-worker\.ts\) decides/);
    });
});

describe("local harness: smoke script against the loopback endpoint", function () {
    this.timeout(20_000);
    let stack: RenderedStack;
    let harness: LocalCallbackHarness;
    // No AWS_REGION: the script takes the region from the state machine's ARN, as a user's shell may
    // have another region configured, or none.
    const smoke = (...args: string[]) => {
        const { AWS_REGION: _region, ...env } = lambdaEnvironment();
        return run(
            process.execPath,
            [path.join(REPO_ROOT, "build", "scripts", "smoke.js"), "--poll-ms", "50", ...args],
            {
                env: { ...env, AWS_ENDPOINT_URL_SFN: harness.endpointUrl },
            },
        );
    };

    before(async () => {
        stack = await renderStack("dev");
        harness = new LocalCallbackHarness({ stack, timeScale: 1000 });
        await harness.start();
    });
    after(async () => harness?.stop());

    it("must start an execution with StartExecution and see it succeed with DescribeExecution", async () => {
        const { stdout } = await smoke("--state-machine-arn", stack.stateMachineArn);
        assert.match(
            stdout,
            /^started arn:aws:states:.*:execution:callback-state-machine-0a1b2c3:smoke-\d+\nSUCCEEDED output \{/,
        );
    });

    it("must exit 1 when the execution does not end as expected", async () => {
        await assert.rejects(
            smoke("--state-machine-arn", stack.stateMachineArn, "--input", '{"decision":"reject"}'),
            (error: { code?: number; stdout?: string; stderr?: string }) => {
                assert.equal(error.code, 1);
                assert.match(error.stdout ?? "", /FAILED \(Callback.Rejected\)/);
                assert.match(error.stderr ?? "", /expected SUCCEEDED/);
                return true;
            },
        );
    });

    it("must exit 2 with a clear message and the usage on bad arguments", async () => {
        await assert.rejects(
            smoke("--state-machine-arn", "nope", "--input", "{"),
            (error: { code?: number; stderr?: string }) => {
                assert.equal(error.code, 2);
                assert.equal(
                    error.stderr,
                    `--state-machine-arn must be a state machine ARN (the stack output stateMachineArn) (got "nope").\n--input must be JSON (got "{").\n\n${SMOKE_USAGE}\n`,
                );
                return true;
            },
        );
    });

    it("must say which credentials to set when it has none, without a stack trace (exit 1)", async () => {
        await assert.rejects(
            run(
                process.execPath,
                [path.join(REPO_ROOT, "build", "scripts", "smoke.js"), "--state-machine-arn", stack.stateMachineArn],
                // No credentials at all, and no instance metadata to fall back on.
                { env: { PATH: process.env["PATH"] ?? "", HOME: "/nonexistent", AWS_EC2_METADATA_DISABLED: "true" } },
            ),
            (error: { code?: number; stderr?: string }) => {
                assert.equal(error.code, 1);
                assert.match(error.stderr ?? "", /^No usable AWS credentials \(CredentialsProviderError: /);
                assert.doesNotMatch(error.stderr ?? "", /\n\s+at /);
                return true;
            },
        );
    });

    it("must answer StateMachineDoesNotExist for another state machine", async () => {
        await assert.rejects(
            smoke("--state-machine-arn", "arn:aws:states:eu-west-1:123456789012:stateMachine:other"),
            /StateMachineDoesNotExist/,
        );
    });
});

describe("local harness: command line", () => {
    it("must default to the approve scenario", () => {
        assert.deepEqual(parseCli([]), {
            scenario: "approve",
            input: undefined,
            expect: undefined,
            timeoutSeconds: undefined,
            timeScale: undefined,
            stack: "dev",
            json: false,
            serve: false,
        });
    });

    it("must read every flag", () => {
        assert.deepEqual(
            parseCli([
                "--scenario",
                "timeout",
                "--input",
                '{"a":1}',
                "--expect",
                "failed:States.Timeout",
                "--timeout-seconds",
                "5",
                "--stack",
                "prod",
                "--json",
            ]),
            {
                scenario: "timeout",
                input: { a: 1 },
                expect: { status: "FAILED", error: "States.Timeout" },
                timeoutSeconds: 5,
                timeScale: undefined,
                stack: "prod",
                json: true,
                serve: false,
            },
        );
    });

    for (const [args, message] of [
        [
            ["--scenario", "maybe"],
            '--scenario must be one of approve, reject, timeout, poison, backlog, crash, hung, human-approval (got "maybe").',
        ],
        [["--time-scale", "0.5"], '--time-scale must be a number from 1 to 10000 (got "0.5").'],
        [["--input", "{order: 1}"], "--input must be JSON, such as '{\"order\": 42}'"],
        [["--timeout-seconds", "0"], '--timeout-seconds must be a positive integer (got "0").'],
        [["--verbose"], "Unknown option '--verbose'"],
        [["--scenrio", "crash"], "Unknown option '--scenrio': did you mean `--scenario`?"],
        [
            ["--expect", "maybe"],
            '--expect must be succeeded, failed or timed_out, and for failed or timed_out optionally :ERROR (got "maybe").',
        ],
        [["--stack", "../dev"], '--stack must name a stack, such as dev or prod (got "../dev").'],
        [["--stack", "staging"], "--stack staging: there is no Pulumi.staging.yaml."],
    ] as const) {
        it(`must refuse ${args.join(" ")} with a clear message`, () => {
            assert.throws(
                () => parseCli(args),
                (error: unknown) =>
                    error instanceof Error && error.name === "UsageError" && error.message.startsWith(message),
            );
        });
    }
});

describe("local harness: in-memory queue", () => {
    it("must hide a received message for the visibility timeout, count receives, and redrive after maxReceiveCount", () => {
        const dead: string[] = [];
        const queue = new InMemoryQueue({
            arn: "arn:aws:sqs:local:000000000000:q",
            visibilityTimeoutMs: 100,
            maxReceiveCount: 2,
            onDeadLetter: (m) => dead.push(m.messageId),
        });
        const id = queue.send("{}", 0);
        assert.equal(queue.receive(10, 0)[0]?.attributes.ApproximateReceiveCount, "1");
        assert.deepEqual(queue.receive(10, 50), [], "invisible during the visibility timeout");
        assert.equal(queue.receive(10, 100)[0]?.attributes.ApproximateReceiveCount, "2");
        assert.deepEqual(queue.receive(10, 200), [], "moved to the DLQ at its third receive");
        assert.deepEqual(dead, [id]);
        assert.equal(queue.depth, 0);
    });

    it("must delete a message for good", () => {
        const queue = new InMemoryQueue({
            arn: "arn:aws:sqs:local:000000000000:q",
            visibilityTimeoutMs: 100,
            maxReceiveCount: 2,
        });
        const id = queue.send("{}", 0);
        queue.receive(1, 0);
        queue.delete(id);
        assert.deepEqual(queue.receive(10, 1000), []);
        assert.deepEqual(queue.deadLetters, []);
    });
});
