/**
 * `npm start`: runs one execution of the callback flow offline and prints what happened. A local
 * harness (see harness.ts); production runs on AWS.
 *
 *   npm start -- [--scenario NAME] [--input JSON] [--timeout-seconds N] [--time-scale N] [--stack NAME] [--json]
 *   npm start -- --serve [--stack NAME]   keep the loopback Step Functions endpoint up for the smoke script
 *
 * `npm start` builds first (scripts/commands.mjs, which answers --help itself without building, with the
 * same usage as here); the build's output goes to stderr, so stdout carries only this command's result.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import type * as Approval from "./approval-scenario";
import type { ApprovalDecision, ApprovalNotice, LocalApprovalHarness, PageVisit } from "./approval-scenario";
import type * as Harness from "./harness";
import type { Execution, LocalCallbackHarness, RenderedStack, StateFailure, TraceEvent } from "./harness";
import { REPO_ROOT } from "../components/bundle";
import { describeExpectation, meetsExpectation, parseExpectation, type Expectation } from "./expectation";
import { formatTrace, orderedPrinter, printReport, useColour } from "./report";
import { HelpRequest, parseFlags, runMain, UsageError } from "../scripts/run-main";

/** The harness, loaded when first needed: --help and bad flags answer without loading Pulumi. */
function loadHarness(): typeof Harness {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; the module is the same one a static import gives
    return require("./harness") as typeof Harness;
}

/** The human-approval scenario's harness, loaded when first needed (it loads the SDK's clients). */
function loadApproval(): typeof Approval {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, as loadHarness
    return require("./approval-scenario") as typeof Approval;
}

export const SCENARIOS = {
    approve: {
        about: "the worker approves: SendTaskSuccess → Notify Success → SUCCEEDED",
        input: { order: 42, decision: "approve" },
        answeredBy: "worker",
        timeScale: 1,
        harness: {},
    },
    reject: {
        about: "the worker rejects: SendTaskFailure (Callback.Rejected) → Notify Failure → FAILED",
        input: { order: 42, decision: "reject", reason: "Over budget." },
        answeredBy: "worker",
        timeScale: 1,
        harness: {},
    },
    timeout: {
        about: "no worker answers: the heartbeat or the task timeout fails it → Notify Failure → FAILED",
        input: { order: 42 },
        answeredBy: "nobody",
        timeScale: 100,
        harness: { worker: false },
    },
    poison: {
        about: "the message has no task token: no heartbeat, redelivered until the DLQ; the task times out → FAILED",
        input: { order: 42 },
        answeredBy: "nobody",
        timeScale: 100,
        harness: { poison: true },
    },
    backlog: {
        about: "the worker starts 1.5 visibility timeouts late: its beat on receive keeps the task alive → SUCCEEDED",
        input: { order: 42, decision: "approve" },
        answeredBy: "worker",
        timeScale: 100,
        harness: { backlogVisibilities: 1.5 },
    },
    crash: {
        about: "the worker crashes on its first receive: redelivered one visibility timeout later → SUCCEEDED",
        input: { order: 42, decision: "approve" },
        answeredBy: "worker",
        timeScale: 100,
        harness: { crashFirstInvocation: true },
    },
    hung: {
        about: "Step Functions never answers the worker's first call: it times out, the SDK retries → SUCCEEDED",
        input: { order: 42, decision: "approve" },
        answeredBy: "worker",
        // The worker's own call timeout runs on the wall clock: a slower stack clock keeps it in proportion.
        timeScale: 10,
        harness: { hangFirstCall: true },
    },
    "human-approval": {
        about: "a person decides in a browser, from the link printed: Approve → Notify Success → SUCCEEDED; Reject → Notify Failure → FAILED (Approval.Rejected); nobody → States.Timeout",
        input: { order: 42 },
        answeredBy: "approver",
        // A person decides on the wall clock.
        timeScale: 1,
        harness: { approval: true },
    },
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

/** Whether a scenario is decided by a person on the approval page (the stack rendered with approvers). */
export function isApprovalScenario(scenario: ScenarioName): boolean {
    return SCENARIOS[scenario].answeredBy === "approver";
}

/** What the human-approval expectation says before a decision is made. */
export const APPROVAL_EXPECTED = "SUCCEEDED on Approve, FAILED (Approval.Rejected) on Reject";

/** What an execution of a scenario is expected to end in, and why. */
export interface ScenarioExpectation {
    /** Undefined when no outcome can meet it: the scenario waits for a decision and nobody made one. */
    readonly expectation: Expectation | undefined;
    readonly because: string;
}

/**
 * The outcome a scenario's execution should end in, following its input: the definition refuses an
 * input that is not an object (Input.NotAnObject); with no worker answering, the heartbeat or the task
 * timeout fails it; else the worker decides, and the default worker rejects `{"decision": "reject"}`
 * (Callback.Rejected) and completes anything else. A stack's own worker (`workerEntry`) decides as it
 * will: the scenario's own outcome is assumed, without an error name, unless `--expect` says otherwise.
 * In the human-approval scenario the approver decides: the path of the decision recorded in the
 * approvals table (`decision`), Approve → SUCCEEDED, Reject → FAILED (Approval.Rejected); with no
 * decision there is no expectation to meet (the task times out: exit 1).
 */
export function expectationFor(
    scenario: ScenarioName,
    input: unknown,
    stack: Pick<RenderedStack, "definition" | "workerEntry">,
    decision?: ApprovalDecision,
): ScenarioExpectation {
    const spec = SCENARIOS[scenario];
    const actual = input === undefined ? spec.input : input;
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) {
        return {
            expectation: { status: "FAILED", error: "Input.NotAnObject" },
            because: "the definition refuses an input that is not a JSON object",
        };
    }
    if (spec.answeredBy === "approver") {
        return approvalExpectation(stack, decision);
    }
    if (spec.answeredBy === "nobody") {
        const heartbeat = heartbeatOf(stack);
        return heartbeat !== undefined
            ? {
                  expectation: { status: "FAILED", error: "States.HeartbeatTimeout" },
                  because: `nothing answers, so no heartbeat within ${heartbeat} s`,
              }
            : { expectation: { status: "FAILED", error: "States.Timeout" }, because: "nothing answers" };
    }
    if (stack.workerEntry !== undefined) {
        return {
            expectation: { status: scenario === "reject" ? "FAILED" : "SUCCEEDED" },
            because: `the scenario's outcome; the stack's worker (${stack.workerEntry}) decides: pass --expect if it decides otherwise`,
        };
    }
    return (actual as Record<string, unknown>)["decision"] === "reject"
        ? {
              expectation: { status: "FAILED", error: "Callback.Rejected" },
              because: 'the default worker rejects an input whose decision is "reject"',
          }
        : {
              expectation: { status: "SUCCEEDED" },
              because: 'the default worker completes an input whose decision is not "reject"',
          };
}

/** The path a decision chose, and who chose it when. */
function approvalExpectation(
    stack: Pick<RenderedStack, "definition">,
    decision: ApprovalDecision | undefined,
): ScenarioExpectation {
    if (decision === undefined) {
        const timeout = callbackTaskOf(stack)?.TimeoutSeconds;
        return {
            expectation: undefined,
            because: `nobody decided${timeout !== undefined ? ` within the task's ${timeout} s` : ""}`,
        };
    }
    const comment = decision.comment !== "" ? ` (comment: ${JSON.stringify(decision.comment)})` : "";
    const late =
        decision.delivery === "task-over"
            ? `, after the task was over (${decision.deliveryError ?? "task over"}): the decision changed nothing`
            : "";
    return decision.decision === "approved"
        ? {
              expectation: { status: "SUCCEEDED" },
              because: `${decision.decidedBy ?? "an approver"} approved at ${decision.decidedAt ?? "?"}${comment}${late}`,
          }
        : {
              expectation: { status: "FAILED", error: "Approval.Rejected" },
              because: `${decision.decidedBy ?? "an approver"} rejected at ${decision.decidedAt ?? "?"}${comment}${late}`,
          };
}

/** The callback task of a rendered stack's definition. */
function callbackTaskOf(
    stack: Pick<RenderedStack, "definition">,
): { HeartbeatSeconds?: number; TimeoutSeconds?: number } | undefined {
    const states = stack.definition["States"] as Record<
        string,
        { Resource?: string; HeartbeatSeconds?: number; TimeoutSeconds?: number }
    >;
    return Object.values(states).find((state) => String(state.Resource).endsWith(".waitForTaskToken"));
}

/** The callback task's `HeartbeatSeconds` in a rendered stack. */
function heartbeatOf(stack: Pick<RenderedStack, "definition">): number | undefined {
    return callbackTaskOf(stack)?.HeartbeatSeconds;
}

export interface ScenarioReport {
    readonly scenario: ScenarioName;
    readonly status: Execution["status"];
    /** The outcome expected (`FAILED (Callback.Rejected)`), and why. */
    readonly expected: string;
    readonly expectedBecause: string;
    readonly asExpected: boolean;
    /** The execution's error and cause, as Step Functions reports them (undefined when none). */
    readonly error: string | undefined;
    readonly cause: string | undefined;
    /** Every state that failed, caught or not, with its error and cause. */
    readonly failures: readonly StateFailure[];
    readonly output: unknown;
    readonly durationMs: number;
    /** The execution's duration on the stack's clock (× the time scale). */
    readonly stackSeconds: number;
    readonly timeScale: number;
    readonly snsMessages: LocalCallbackHarness["snsMessages"];
    readonly deadLetters: ReadonlyArray<{
        readonly queue: string;
        readonly messageId: string;
        readonly receiveCount: number;
        readonly body: string;
    }>;
    readonly trace: readonly TraceEvent[];
    /** The human-approval scenario: who was asked, what they were sent (never the link), who decided. */
    readonly approval?: ApprovalReport;
}

export interface ApprovalReport {
    readonly approvers: readonly string[];
    /** The local approval page's base URL. */
    readonly pageUrl: string;
    /** Each message to the approvers' topic: its approver, who SNS would deliver it to, its subject. */
    readonly notifications: ReadonlyArray<Pick<ApprovalNotice, "approver" | "recipients" | "subject">>;
    /** The page's answers (method, path, status; never a query string). */
    readonly pageVisits: readonly PageVisit[];
    /** The decision recorded in the approvals table; null when nobody decided. */
    readonly decision: ApprovalDecision | null;
}

/**
 * A stack (default dev) as the harness runs it: its own validated settings. `timeoutSeconds` renders it
 * with another `taskTimeoutSeconds`, as a stack setting would (the program checks it like any other).
 * The human-approval scenario renders it with approvers (see `approvalStackSettings`).
 */
export function renderScenarioStack(
    timeoutSeconds: number | undefined,
    stack = "dev",
    scenario: ScenarioName = "approve",
): Promise<RenderedStack> {
    if (isApprovalScenario(scenario)) {
        return loadHarness().renderStack(stack, loadApproval().approvalStackSettings(stack, timeoutSeconds).config);
    }
    return loadHarness().renderStack(
        stack,
        timeoutSeconds === undefined ? {} : { taskTimeoutSeconds: String(timeoutSeconds) },
    );
}

export interface ScenarioOptions {
    input?: unknown;
    /** The outcome expected; default: what the scenario and its input should end in (expectationFor). */
    expect?: Expectation;
    timeoutSeconds?: number;
    timeScale?: number;
    stack?: RenderedStack;
    onTrace?: (event: TraceEvent) => void;
    /**
     * The human-approval scenario's own lines, as they happen: each notification as its approver would
     * get it, then its link on a line of its own (`approval link: <url>`), what the page answers.
     */
    say?: (text: string) => void;
    /** The human-approval scenario's harness once it is up (its fakes, its page). */
    onApprovalStarted?: (harness: LocalApprovalHarness) => void;
}

/** Runs one scenario end to end and reports how it ended (several may run at once on one rendered stack). */
export async function runScenario(scenario: ScenarioName, options: ScenarioOptions = {}): Promise<ScenarioReport> {
    const spec = SCENARIOS[scenario];
    const stack = options.stack ?? (await renderScenarioStack(options.timeoutSeconds, "dev", scenario));
    const timeScale = options.timeScale ?? spec.timeScale;
    if (isApprovalScenario(scenario)) {
        return runApprovalScenario(scenario, stack, timeScale, options);
    }
    const { LocalCallbackHarness } = loadHarness();
    const harnessSpec = spec.harness as {
        worker?: boolean;
        poison?: boolean;
        backlogVisibilities?: number;
        crashFirstInvocation?: boolean;
        hangFirstCall?: boolean;
    };
    const harness = new LocalCallbackHarness({
        stack,
        timeScale,
        ...(harnessSpec.worker === false ? { worker: false } : {}),
        ...(harnessSpec.poison ? { poison: true } : {}),
        ...(harnessSpec.backlogVisibilities
            ? { workerDelaySeconds: harnessSpec.backlogVisibilities * stack.visibilityTimeoutSeconds }
            : {}),
        ...(harnessSpec.crashFirstInvocation ? { crashFirstInvocation: true } : {}),
        ...(harnessSpec.hangFirstCall ? { hangFirstCall: true } : {}),
        ...(options.onTrace ? { onTrace: options.onTrace } : {}),
    });
    let execution: Execution;
    try {
        await harness.start();
        execution = harness.startExecution(options.input === undefined ? spec.input : options.input);
        await execution.done;
        if (harnessSpec.poison) {
            // The message outlives its execution: follow it to the dead-letter queue.
            await harness.drained((stack.maxReceiveCount + 1) * stack.visibilityTimeoutSeconds);
        }
    } finally {
        // Stopped first: the worker's invocation that answered ends, and is traced, after the execution.
        await harness.stop();
    }
    return scenarioReport(
        scenario,
        execution,
        harness,
        timeScale,
        options,
        expectationFor(scenario, options.input, stack),
    );
}

/** A run's report: how it ended against what was expected (`--expect`, else the scenario's). */
function scenarioReport(
    scenario: ScenarioName,
    execution: Execution,
    harness: LocalCallbackHarness,
    timeScale: number,
    options: ScenarioOptions,
    scenarioExpectation: ScenarioExpectation,
    approval?: ApprovalReport,
): ScenarioReport {
    const { expectation, because } =
        options.expect !== undefined ? { expectation: options.expect, because: "--expect" } : scenarioExpectation;
    const durationMs = (execution.stopDate ?? Date.now()) - execution.startDate;
    return {
        scenario,
        status: execution.status,
        expected: expectation !== undefined ? describeExpectation(expectation) : APPROVAL_EXPECTED,
        expectedBecause: because,
        asExpected: expectation !== undefined && meetsExpectation(execution, expectation),
        error: execution.error,
        cause: execution.cause,
        failures: execution.failures,
        output: execution.output,
        durationMs,
        stackSeconds: (durationMs * timeScale) / 1000,
        timeScale,
        snsMessages: harness.snsMessages,
        deadLetters: harness.deadLetters,
        trace: harness.orderedTrace,
        ...(approval !== undefined ? { approval } : {}),
    };
}

/** The lines of a notification as its approver would get it; the link alone on the last. */
export function noticeLines(notice: ApprovalNotice, topicArn: string): string[] {
    const to =
        notice.recipients.length > 0
            ? `email to ${notice.recipients.join(", ")}`
            : "no email subscription's filter policy takes it: SNS would deliver it to nobody";
    return [
        `Notification for ${notice.approver ?? "(no approver attribute)"} (SNS topic ${topicArn.split(":").pop() ?? topicArn}: ${to}):`,
        `    Subject: ${notice.subject ?? "(none)"}`,
        ...notice.text.split("\n").map((line) => (line === "" ? "" : `    ${line}`)),
        notice.link !== undefined ? `approval link: ${notice.link}` : "(no link to the approval page in it)",
    ];
}

/**
 * The human-approval scenario: the stack with approvers on the local harness, its requester, page and
 * fakes (approval-scenario.ts); prints each notification and its link through `say`, waits for the
 * execution to end (a decision, or the task's timeout), and judges it by the decision recorded.
 */
async function runApprovalScenario(
    scenario: ScenarioName,
    stack: RenderedStack,
    timeScale: number,
    options: ScenarioOptions,
): Promise<ScenarioReport> {
    const say = options.say ?? (() => undefined);
    const approval = stack.approval;
    if (approval === undefined) {
        throw new Error(`The ${scenario} scenario needs the stack rendered with approvers (renderScenarioStack).`);
    }
    const timeout = callbackTaskOf(stack)?.TimeoutSeconds;
    const { LocalApprovalHarness } = loadApproval();
    let told = 0;
    const local = await LocalApprovalHarness.start({
        stack,
        timeScale,
        ...(options.onTrace ? { onTrace: options.onTrace } : {}),
        onNotice: (notice) => {
            say(noticeLines(notice, approval.topicArn).join("\n"));
            told += 1;
            if (told === approval.approvers.length && timeout !== undefined) {
                const wall = timeout / timeScale;
                const until = new Date(Date.now() + wall * 1000).toISOString().replace(/\.\d+Z$/, "Z");
                say(
                    `Open the link in a browser and choose Approve or Reject (a comment is optional). Waiting up to ${timeout} s${timeScale === 1 ? "" : ` of stack time (${wall.toFixed(1)} s at ${timeScale}×)`}, until ${until}, the task's TimeoutSeconds; then it fails with States.Timeout.`,
                );
            }
        },
        onVisit: (visit) =>
            say(
                `approval page: ${visit.method} ${visit.path}${visit.decision !== undefined ? ` (${visit.decision})` : ""} → ${visit.status}`,
            ),
    });
    options.onApprovalStarted?.(local);
    let execution: Execution;
    let decision: ApprovalDecision | undefined;
    try {
        execution = local.startExecution(options.input === undefined ? SCENARIOS[scenario].input : options.input);
        await execution.done;
        decision = await local.decision();
    } finally {
        await local.stop();
    }
    return scenarioReport(
        scenario,
        execution,
        local.harness,
        timeScale,
        options,
        expectationFor(scenario, options.input, stack, decision),
        {
            approvers: approval.approvers,
            pageUrl: local.page.url,
            notifications: local.notices.map(({ approver, recipients, subject }) => ({
                approver,
                recipients,
                subject,
            })),
            pageVisits: local.visits,
            decision: decision ?? null,
        },
    );
}

/** The usage, printed for --help (scripts/commands.mjs prints the same for `npm start -- --help`). */
export const USAGE = `Usage: npm start -- [--scenario NAME] [--input JSON] [--expect OUTCOME] [--timeout-seconds N] [--time-scale N] [--stack NAME] [--json]
       npm start -- --serve [--stack NAME]
Runs one execution of the callback flow offline (a local harness; production runs on AWS) and prints
its trace. Exit 0 when it ends as expected, 1 when it does not or the stack's configuration is
invalid, 2 on bad flags. The expected outcome follows the input: FAILED (Input.NotAnObject) for one that
is not an object; with the default worker, FAILED (Callback.Rejected) for {"decision": "reject"} and
SUCCEEDED otherwise; the no-answer scenarios fail at the heartbeat or the timeout. --expect overrides it.
Scenarios:
${Object.entries(SCENARIOS)
    .map(([name, spec]) => `  ${name.padEnd(14)} ${spec.about}`)
    .join("\n")}
The stack's own settings apply; the harness's clock runs --time-scale times faster (default per
scenario: 1 for approve, reject and human-approval, 10 for hung, 100 for the others). The trace shows
stack time.
human-approval renders the stack with approvers (its own, else approver@example.com, without the
heartbeatSeconds and workerEntry approvers exclude), runs the approval requester as the program bundles
it and serves the approval page on 127.0.0.1, with DynamoDB, SNS and Secrets Manager fakes. It prints
the notification each approver would get, then its link on a line of its own, "approval link: URL" (on
stderr with --json). Open the link in a browser and click Approve or Reject (a comment is optional).
The expected outcome is the path of the decision, known once it is made: SUCCEEDED on Approve,
FAILED (Approval.Rejected) with the comment as the cause on Reject. Nobody deciding within
--timeout-seconds (default 300, or the least the stack's retry settings allow: 750 on dev) ends in
States.Timeout, exit 1.
Options:
  --scenario NAME        the scenario to run (default approve)
  --input JSON           the execution input (default the scenario's)
  --expect OUTCOME       the outcome expected: succeeded, failed or timed_out, optionally :ERROR (failed:Callback.Rejected)
  --timeout-seconds N    re-render the definition with this taskTimeoutSeconds (checked like the stack's);
                         for human-approval, how long the approvers have
  --time-scale N         run the harness's clock N times faster than the wall clock (1 to 10000)
  --stack NAME           the stack whose Pulumi.<NAME>.yaml configures the definition (default dev)
  --json                 print one JSON report on stdout instead of the trace
  --serve                keep the loopback Step Functions endpoint up for scripts/smoke.ts (Ctrl-C stops it)
  -h, --help             print this usage`;

interface CliOptions {
    readonly scenario: ScenarioName;
    readonly input: unknown;
    readonly expect: Expectation | undefined;
    readonly timeoutSeconds: number | undefined;
    readonly timeScale: number | undefined;
    readonly stack: string;
    readonly json: boolean;
    readonly serve: boolean;
}

/** The options of a command line; throws {@link HelpRequest} for --help, {@link UsageError} for bad flags. */
export function parseCli(argv: readonly string[]): CliOptions {
    const { values } = parseFlags({
        args: [...argv],
        options: {
            scenario: { type: "string", default: "approve" },
            input: { type: "string" },
            expect: { type: "string" },
            "timeout-seconds": { type: "string" },
            "time-scale": { type: "string" },
            stack: { type: "string", default: "dev" },
            json: { type: "boolean", default: false },
            serve: { type: "boolean", default: false },
            help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    const scenario = values.scenario;
    if (!(scenario in SCENARIOS)) {
        throw new UsageError(`--scenario must be one of ${Object.keys(SCENARIOS).join(", ")} (got "${scenario}").`);
    }
    let input: unknown;
    if (values.input !== undefined) {
        try {
            input = JSON.parse(values.input);
        } catch (error) {
            throw new UsageError(
                `--input must be JSON, such as '{"order": 42}' (${error instanceof Error ? error.message : String(error)}).`,
            );
        }
    }
    const expect = values.expect === undefined ? undefined : parseExpectation(values.expect);
    if (values.expect !== undefined && expect === undefined) {
        throw new UsageError(
            `--expect must be succeeded, failed or timed_out, and for failed or timed_out optionally :ERROR (got "${values.expect}").`,
        );
    }
    let timeoutSeconds: number | undefined;
    if (values["timeout-seconds"] !== undefined) {
        timeoutSeconds = Number(values["timeout-seconds"]);
        if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
            throw new UsageError(`--timeout-seconds must be a positive integer (got "${values["timeout-seconds"]}").`);
        }
    }
    let timeScale: number | undefined;
    if (values["time-scale"] !== undefined) {
        timeScale = Number(values["time-scale"]);
        if (!Number.isFinite(timeScale) || timeScale < 1 || timeScale > 10_000) {
            throw new UsageError(`--time-scale must be a number from 1 to 10000 (got "${values["time-scale"]}").`);
        }
    }
    const stack = values.stack;
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
        throw new UsageError(`--stack must name a stack, such as dev or prod (got "${stack}").`);
    }
    if (!existsSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`))) {
        throw new UsageError(`--stack ${stack}: there is no Pulumi.${stack}.yaml.`);
    }
    return {
        scenario: scenario as ScenarioName,
        input,
        expect,
        timeoutSeconds,
        timeScale,
        stack,
        json: values.json,
        serve: values.serve,
    };
}

async function serve(stackName: string): Promise<void> {
    const { LocalCallbackHarness, renderStack } = loadHarness();
    const stack = await renderStack(stackName);
    // The endpoint for the smoke script: the stack's clock 1000 times faster, so a redelivery takes a moment.
    const harness = new LocalCallbackHarness({
        stack,
        timeScale: 1000,
        onTrace: (e) => console.log(formatTrace(e, false, 1000)),
    });
    await harness.start();
    console.log(`Local Step Functions endpoint: ${harness.endpointUrl}`);
    console.log(`State machine: ${stack.stateMachineArn}`);
    console.log(`Run the smoke test against it:`);
    console.log(
        `  AWS_ENDPOINT_URL_SFN=${harness.endpointUrl} AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local node build/scripts/smoke.js --state-machine-arn ${stack.stateMachineArn}`,
    );
    await new Promise<void>((resolve) => process.once("SIGINT", resolve));
    await harness.stop();
}

/** Where `runCli` writes: each call one or more lines. */
export interface CliOutput {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
    /** Colour the trace (a terminal). Default false. */
    readonly colour?: boolean;
}

/** `npm start` with `argv`: prints through `output`, resolves to the exit code (throws as main does). */
export async function runCli(
    argv: readonly string[],
    output: CliOutput,
    hooks: Pick<ScenarioOptions, "onApprovalStarted"> = {},
): Promise<number> {
    const options = parseCli(argv);
    if (options.serve) {
        await serve(options.stack);
        return 0;
    }
    // Rendered first: a configuration error is the stack's, and is printed alone, before any trace.
    const stack = await renderScenarioStack(options.timeoutSeconds, options.stack, options.scenario);
    const timeScale = options.timeScale ?? SCENARIOS[options.scenario].timeScale;
    const colour = output.colour === true;
    const approval = isApprovalScenario(options.scenario);
    if (!options.json) {
        const clock = timeScale === 1 ? "" : `; the stack's clock ${timeScale}× faster`;
        if (approval) {
            const { changes } = loadApproval().approvalStackSettings(options.stack, options.timeoutSeconds);
            output.stdout(
                `Scenario ${options.scenario}: ${SCENARIOS[options.scenario].about}\n(local harness: the ${options.stack} stack's definition with ${changes.join(", ")}; the approval requester bundled as the program bundles it, the approval page, DynamoDB, SNS and Secrets Manager on 127.0.0.1, offline${clock})\n`,
            );
        } else {
            const worker = stack.workerEntry !== undefined ? `its worker ${stack.workerEntry}` : "the default worker";
            output.stdout(
                `Scenario ${options.scenario}: ${SCENARIOS[options.scenario].about}\n(local harness: the ${options.stack} stack's definition and ${worker}, bundled as the program bundles it, offline${clock})\n`,
            );
        }
    }
    const printer = orderedPrinter((event) => output.stdout(formatTrace(event, colour, timeScale)));
    const report = await runScenario(options.scenario, {
        stack,
        timeScale,
        ...(options.input !== undefined ? { input: options.input } : {}),
        ...(options.expect !== undefined ? { expect: options.expect } : {}),
        ...(options.json ? {} : { onTrace: (event: TraceEvent) => printer.push(event) }),
        // The approver's notification and link: with the trace on stdout, after the lines before it; on
        // stderr with --json, so that stdout is the report alone.
        say: options.json
            ? output.stderr
            : (text: string) => {
                  printer.flush();
                  output.stdout(text);
              },
        ...hooks,
    });
    printer.flush();
    printReport(report, options.json, output.stdout);
    return report.asExpected ? 0 : 1;
}

function main(): Promise<number> {
    return runCli(process.argv.slice(2), {
        stdout: (text) => console.log(text),
        stderr: (text) => console.error(text),
        colour: useColour(),
    });
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
