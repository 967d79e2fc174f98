/**
 * How a local run is printed: the trace, line by line, and the summary (how it ended, against what was
 * expected, with the execution's real error and cause and where it went wrong). Shared by `npm start`
 * and `callback-workflow-local`.
 */
import type { TraceEvent } from "./engine";
import { describeOutcome, firstFailure, type Outcome } from "./expectation";

const COLOURS = { execution: "1;36", state: "36", sqs: "33", worker: "35", sfn: "34", sns: "32", dlq: "31" } as const;

/** One trace line: on a faster clock, the stack's own time (what the README's timeline shows). */
export function formatTrace(event: TraceEvent, colour: boolean, timeScale: number): string {
    const source = event.source.padEnd(9);
    const at =
        timeScale === 1 ? `+${String(event.atMs).padStart(5)} ms` : `+${event.atStackSeconds.toFixed(1).padStart(7)} s`;
    return colour
        ? `\x1b[2m${at}\x1b[0m  \x1b[${COLOURS[event.source]}m${source}\x1b[0m ${event.text}`
        : `${at}  ${source} ${event.text}`;
}

/**
 * Prints trace lines in time order as they come: the interpreter's events arrive a moment after the
 * harness's own lines, so lines wait until the trace has been quiet for `settleMs`, then go out sorted.
 * `flush()` prints what is left (before the summary).
 */
export function orderedPrinter(
    print: (event: TraceEvent) => void,
    settleMs = 50,
): { push(event: TraceEvent): void; flush(): void } {
    let buffer: TraceEvent[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
        clearTimeout(timer);
        timer = undefined;
        const ready = buffer.sort((a, b) => a.atMs - b.atMs);
        buffer = [];
        ready.forEach(print);
    };
    return {
        push(event) {
            buffer.push(event);
            clearTimeout(timer);
            timer = setTimeout(flush, settleMs);
        },
        flush,
    };
}

/** Whether to colour what goes to stdout. */
export function useColour(): boolean {
    return process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined;
}

/** The summary's lines: outcome against the expectation, then cause, where it failed, output. */
export function summaryLines(
    execution: Outcome,
    report: {
        readonly durationMs: number;
        readonly timeScale: number;
        readonly expected: string;
        readonly expectedBecause?: string;
    },
): string[] {
    const stackTime =
        report.timeScale === 1
            ? ""
            : ` (${((report.durationMs * report.timeScale) / 1000).toFixed(0)} s of stack time)`;
    const where = firstFailure(execution);
    return [
        `${describeOutcome(execution)} in ${report.durationMs} ms${stackTime}; expected ${report.expected}${report.expectedBecause !== undefined ? `: ${report.expectedBecause}` : ""}`,
        ...(execution.cause !== undefined ? [`cause: ${execution.cause}`] : []),
        ...(where !== undefined ? [`where: ${where}`] : []),
        ...(execution.output !== undefined ? [`output: ${JSON.stringify(execution.output)}`] : []),
    ];
}

/**
 * Prints a run's result on stdout: the whole report as JSON, or the summary with what went to SNS and
 * the dead-letter queues. The one ending of `npm start` and `callback-workflow-local`.
 */
export function printReport(
    report: Parameters<typeof summaryLines>[0] &
        Parameters<typeof summaryLines>[1] & {
            readonly snsMessages: readonly unknown[];
            readonly deadLetters: readonly unknown[];
        },
    json: boolean,
    print: (text: string) => void = (text) => console.log(text),
): void {
    if (json) {
        print(JSON.stringify(report, null, 2));
        return;
    }
    print(
        [
            "",
            ...summaryLines(report, report),
            `SNS messages: ${report.snsMessages.length}; dead-letter queue: ${report.deadLetters.length} message(s)`,
        ].join("\n"),
    );
}
