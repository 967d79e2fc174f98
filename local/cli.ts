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
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

/** What an execution of a scenario is expected to end in, and why. */
export interface ScenarioExpectation {
    readonly expectation: Expectation;
    readonly because: string;
}

/**
 * The outcome a scenario's execution should end in, following its input: the definition refuses an
 * input that is not an object (Input.NotAnObject); with no worker answering, the heartbeat or the task
 * timeout fails it; else the worker decides, and the default worker rejects `{"decision": "reject"}`
 * (Callback.Rejected) and completes anything else. A stack's own worker (`workerEntry`) decides as it
 * will: the scenario's own outcome is assumed, without an error name, unless `--expect` says otherwise.
 */
export function expectationFor(
    scenario: ScenarioName,
    input: unknown,
    stack: Pick<RenderedStack, "definition" | "workerEntry">,
): ScenarioExpectation {
    const spec = SCENARIOS[scenario];
    const actual = input === undefined ? spec.input : input;
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) {
        return {
            expectation: { status: "FAILED", error: "Input.NotAnObject" },
            because: "the definition refuses an input that is not a JSON object",
        };
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

/** The callback task's `HeartbeatSeconds` in a rendered stack. */
function heartbeatOf(stack: Pick<RenderedStack, "definition">): number | undefined {
    const states = stack.definition["States"] as Record<string, { Resource?: string; HeartbeatSeconds?: number }>;
    return Object.values(states).find((state) => String(state.Resource).endsWith(".waitForTaskToken"))
        ?.HeartbeatSeconds;
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
}

/**
 * A stack (default dev) as the harness runs it: its own validated settings. `timeoutSeconds` renders it
 * with another `taskTimeoutSeconds`, as a stack setting would (the program checks it like any other).
 */
export function renderScenarioStack(timeoutSeconds: number | undefined, stack = "dev"): Promise<RenderedStack> {
    return loadHarness().renderStack(
        stack,
        timeoutSeconds === undefined ? {} : { taskTimeoutSeconds: String(timeoutSeconds) },
    );
}

/** Runs one scenario end to end and reports how it ended (several may run at once on one rendered stack). */
export async function runScenario(
    scenario: ScenarioName,
    options: {
        input?: unknown;
        /** The outcome expected; default: what the scenario and its input should end in (expectationFor). */
        expect?: Expectation;
        timeoutSeconds?: number;
        timeScale?: number;
        stack?: RenderedStack;
        onTrace?: (event: TraceEvent) => void;
    } = {},
): Promise<ScenarioReport> {
    const spec = SCENARIOS[scenario];
    const stack = options.stack ?? (await renderScenarioStack(options.timeoutSeconds));
    const timeScale = options.timeScale ?? spec.timeScale;
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
    const { expectation, because } =
        options.expect !== undefined
            ? { expectation: options.expect, because: "--expect" }
            : expectationFor(scenario, options.input, stack);
    const durationMs = (execution.stopDate ?? Date.now()) - execution.startDate;
    return {
        scenario,
        status: execution.status,
        expected: describeExpectation(expectation),
        expectedBecause: because,
        asExpected: meetsExpectation(execution, expectation),
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
    };
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
    .map(([name, spec]) => `  ${name.padEnd(8)} ${spec.about}`)
    .join("\n")}
The stack's own settings apply; the harness's clock runs --time-scale times faster (default per
scenario: 1 for approve and reject, 10 for hung, 100 for the others). The trace shows stack time.
Options:
  --scenario NAME        the scenario to run (default approve)
  --input JSON           the execution input (default the scenario's)
  --expect OUTCOME       the outcome expected: succeeded, failed or timed_out, optionally :ERROR (failed:Callback.Rejected)
  --timeout-seconds N    re-render the definition with this taskTimeoutSeconds (checked like the stack's)
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

async function main(): Promise<number> {
    const options = parseCli(process.argv.slice(2));
    if (options.serve) {
        await serve(options.stack);
        return 0;
    }
    // Rendered first: a configuration error is the stack's, and is printed alone, before any trace.
    const stack = await renderScenarioStack(options.timeoutSeconds, options.stack);
    const timeScale = options.timeScale ?? SCENARIOS[options.scenario].timeScale;
    const colour = useColour();
    if (!options.json) {
        const worker = stack.workerEntry !== undefined ? `its worker ${stack.workerEntry}` : "the default worker";
        console.log(
            `Scenario ${options.scenario}: ${SCENARIOS[options.scenario].about}\n(local harness: the ${options.stack} stack's definition and ${worker}, bundled as the program bundles it, offline${timeScale === 1 ? "" : `; the stack's clock ${timeScale}× faster`})\n`,
        );
    }
    const printer = orderedPrinter((event) => console.log(formatTrace(event, colour, timeScale)));
    const report = await runScenario(options.scenario, {
        stack,
        timeScale,
        ...(options.input !== undefined ? { input: options.input } : {}),
        ...(options.expect !== undefined ? { expect: options.expect } : {}),
        ...(options.json ? {} : { onTrace: (event: TraceEvent) => printer.push(event) }),
    });
    printer.flush();
    printReport(report, options.json);
    return report.asExpected ? 0 : 1;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
