/**
 * `npm start`: runs one execution of the callback flow offline and prints what happened. A local
 * harness (see harness.ts); production runs on AWS.
 *
 *   npm start -- [--scenario approve|reject|timeout|poison] [--input JSON] [--timeout-seconds N] [--stack NAME] [--json]
 *   npm start -- --serve [--stack NAME]   keep the loopback Step Functions endpoint up for the smoke script
 *
 * `npm start` builds first (scripts/commands.mjs, which answers --help itself without building, with the
 * same usage as here); the build's output goes to stderr, so stdout carries only this command's result.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import type * as Harness from "./harness";
import type { Execution, LocalCallbackHarness, RenderedStack, TraceEvent } from "./harness";
import { REPO_ROOT } from "../components/bundle";
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
        expect: { status: "SUCCEEDED", error: undefined },
        worker: true,
        poison: false,
        timeoutSeconds: undefined,
    },
    reject: {
        about: "the worker rejects: SendTaskFailure (Callback.Rejected) → Notify Failure → FAILED",
        input: { order: 42, decision: "reject", reason: "Over budget." },
        expect: { status: "FAILED", error: "Callback.Rejected" },
        worker: true,
        poison: false,
        timeoutSeconds: undefined,
    },
    timeout: {
        about: "no worker answers: States.Timeout → Notify Failure → FAILED",
        input: { order: 42 },
        expect: { status: "FAILED", error: "States.Timeout" },
        worker: false,
        poison: false,
        timeoutSeconds: 2,
    },
    poison: {
        about: "the message has no task token: redelivered, moved to the DLQ after maxReceiveCount receives; the execution times out",
        input: { order: 42 },
        expect: { status: "FAILED", error: "States.Timeout" },
        worker: true,
        poison: true,
        timeoutSeconds: 3,
    },
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

export interface ScenarioReport {
    readonly scenario: ScenarioName;
    readonly status: Execution["status"];
    readonly expected: string;
    readonly asExpected: boolean;
    readonly error: string | undefined;
    readonly cause: string | undefined;
    readonly output: unknown;
    readonly durationMs: number;
    readonly snsMessages: LocalCallbackHarness["snsMessages"];
    readonly deadLetters: ReadonlyArray<{
        readonly messageId: string;
        readonly receiveCount: number;
        readonly body: string;
    }>;
    readonly trace: readonly TraceEvent[];
}

/**
 * A stack (default dev) as the harness runs it. A shorter timeout is a stack setting like any other: the
 * definition is rendered with it (and without a heartbeat, which must stay below the timeout).
 */
export function renderScenarioStack(timeoutSeconds: number | undefined, stack = "dev"): Promise<RenderedStack> {
    return loadHarness().renderStack(
        stack,
        timeoutSeconds === undefined ? {} : { taskTimeoutSeconds: String(timeoutSeconds), heartbeatSeconds: undefined },
    );
}

/** Runs one scenario end to end and reports how it ended (several may run at once on one rendered stack). */
export async function runScenario(
    scenario: ScenarioName,
    options: {
        input?: unknown;
        timeoutSeconds?: number;
        stack?: RenderedStack;
        onTrace?: (event: TraceEvent) => void;
    } = {},
): Promise<ScenarioReport> {
    const spec = SCENARIOS[scenario];
    const stack = options.stack ?? (await renderScenarioStack(options.timeoutSeconds ?? spec.timeoutSeconds));
    const { LocalCallbackHarness } = loadHarness();
    const harness = new LocalCallbackHarness({
        stack,
        worker: spec.worker,
        poison: spec.poison,
        visibilityTimeoutMs: 100,
        ...(options.onTrace ? { onTrace: options.onTrace } : {}),
    });
    try {
        await harness.start();
        const execution = harness.startExecution(options.input ?? spec.input);
        await execution.done;
        const expected = spec.expect.error ? `${spec.expect.status} (${spec.expect.error})` : spec.expect.status;
        return {
            scenario,
            status: execution.status,
            expected,
            asExpected:
                execution.status === spec.expect.status &&
                (spec.expect.error === undefined || execution.error === spec.expect.error),
            error: execution.error,
            cause: execution.cause,
            output: execution.output,
            durationMs: (execution.stopDate ?? Date.now()) - execution.startDate,
            snsMessages: harness.snsMessages,
            deadLetters: harness.queue.deadLetters.map(({ messageId, receiveCount, body }) => ({
                messageId,
                receiveCount,
                body,
            })),
            trace: harness.trace,
        };
    } finally {
        await harness.stop();
    }
}

/** The usage, printed for --help (scripts/commands.mjs prints the same for `npm start -- --help`). */
export const USAGE = `Usage: npm start -- [--scenario ${Object.keys(SCENARIOS).join("|")}] [--input JSON] [--timeout-seconds N] [--stack NAME] [--json]
       npm start -- --serve [--stack NAME]
Runs one execution of the callback flow offline (a local harness; production runs on AWS) and prints
its trace. Exit 0 when the scenario ends as expected, 1 when it does not or the stack's configuration
is invalid, 2 on bad flags.
Scenarios:
${Object.entries(SCENARIOS)
    .map(([name, spec]) => `  ${name.padEnd(8)} ${spec.about}`)
    .join("\n")}
Options:
  --scenario NAME        the scenario to run (default approve)
  --input JSON           the execution input (default the scenario's)
  --timeout-seconds N    re-render the definition with this taskTimeoutSeconds (1 to 3600) and no heartbeat
  --stack NAME           the stack whose Pulumi.<NAME>.yaml configures the definition (default dev)
  --json                 print one JSON report on stdout instead of the trace
  --serve                keep the loopback Step Functions endpoint up for scripts/smoke.ts (Ctrl-C stops it)
  -h, --help             print this usage`;

interface CliOptions {
    readonly scenario: ScenarioName;
    readonly input: unknown;
    readonly timeoutSeconds: number | undefined;
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
            "timeout-seconds": { type: "string" },
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
    let timeoutSeconds: number | undefined;
    if (values["timeout-seconds"] !== undefined) {
        timeoutSeconds = Number(values["timeout-seconds"]);
        if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) {
            throw new UsageError(
                `--timeout-seconds must be an integer from 1 to 3600 (got "${values["timeout-seconds"]}").`,
            );
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
        timeoutSeconds,
        stack,
        json: values.json,
        serve: values.serve,
    };
}

const COLOURS = { execution: "1;36", state: "36", sqs: "33", worker: "35", sfn: "34", sns: "32", dlq: "31" } as const;

function formatTrace(event: TraceEvent, colour: boolean): string {
    const source = event.source.padEnd(9);
    const at = `+${String(event.atMs).padStart(5)} ms`;
    return colour
        ? `\x1b[2m${at}\x1b[0m  \x1b[${COLOURS[event.source]}m${source}\x1b[0m ${event.text}`
        : `${at}  ${source} ${event.text}`;
}

async function serve(stackName: string): Promise<void> {
    const { LocalCallbackHarness, renderStack } = loadHarness();
    const stack = await renderStack(stackName);
    const harness = new LocalCallbackHarness({
        stack,
        visibilityTimeoutMs: 100,
        onTrace: (e) => console.log(formatTrace(e, false)),
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
    const stack = await renderScenarioStack(
        options.timeoutSeconds ?? SCENARIOS[options.scenario].timeoutSeconds,
        options.stack,
    );
    const colour = process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined;
    if (!options.json) {
        console.log(
            `Scenario ${options.scenario}: ${SCENARIOS[options.scenario].about}\n(local harness: the ${options.stack} stack's definition and the bundled worker, offline)\n`,
        );
    }
    const report = await runScenario(options.scenario, {
        stack,
        ...(options.input !== undefined ? { input: options.input } : {}),
        ...(options.json ? {} : { onTrace: (event: TraceEvent) => console.log(formatTrace(event, colour)) }),
    });
    if (options.json) {
        console.log(JSON.stringify(report, null, 2));
    } else {
        console.log(
            `\n${report.status}${report.error ? ` (${report.error})` : ""} in ${report.durationMs} ms; expected ${report.expected}` +
                `\nSNS messages: ${report.snsMessages.length}; dead-letter queue: ${report.deadLetters.length} message(s)` +
                (report.output !== undefined ? `\noutput: ${JSON.stringify(report.output)}` : ""),
        );
    }
    return report.asExpected ? 0 : 1;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
