#!/usr/bin/env node
/**
 * `callback-workflow-local`: runs one execution of a workflow of your Pulumi program offline and
 * prints its trace (see run.ts). Exit 0 when it ends as expected, 1 when it does not or when the
 * program or the workflow cannot run locally (the reason alone, no stack trace), 2 on bad flags.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as Report from "./report";
import type * as Run from "./run";
import type { TraceEvent } from "./engine";
import { parseExpectation, type Expectation } from "./expectation";
import { HelpRequest, parseFlags, runMain, UsageError } from "../scripts/run-main";

export const USAGE = `Usage: callback-workflow-local PROGRAM [--workflow NAME] [--input JSON | --input-file FILE] [--expect OUTCOME]
                               [--time-scale N] [--config KEY=VALUE]... [--stack NAME] [--json]
Runs one execution of a workflow of your Pulumi program offline: the program under Pulumi's mocks, then
its state machine on a local interpreter, each callback task answered by its channel's worker, bundled
as the program bundles it, in a process of its own on loopback. A local harness; production runs on AWS.
A workflow it cannot run as Step Functions would (JSONata, variables, a Distributed Map, ...) is refused.
  PROGRAM                 the program's module (JavaScript, or TypeScript on Node.js 22.18+): creating its
                          resources when loaded, or exporting a function that does
  --workflow NAME         the Workflow, CallbackWorkflow or aws.sfn.StateMachine to run (optional with one)
  --input JSON            the execution input (default {})
  --input-file FILE       the execution input, read from a JSON file
  --expect OUTCOME        succeeded, failed or timed_out, optionally :ERROR (failed:Callback.Rejected); default succeeded
  --time-scale N          run the harness's clock N times faster than the wall clock (1 to 10000; default 1)
  --config KEY=VALUE      a stack setting the program reads (KEY as pulumi config set takes it); repeatable
  --stack NAME            the stack name the program sees (default local)
  --json                  print one JSON report on stdout instead of the trace
  -h, --help              print this usage
Exit 0 when the execution ends as expected, 1 when it does not or the program or workflow cannot run
locally (its message alone), 2 on bad flags.`;

export interface RunCliOptions {
    readonly program: string;
    readonly workflow: string | undefined;
    readonly input: unknown;
    readonly expect: Expectation;
    readonly timeScale: number;
    readonly config: Record<string, string>;
    readonly stack: string;
    readonly json: boolean;
}

function parseJson(text: string, what: string): unknown {
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new UsageError(
            `${what} must be JSON, such as '{"order": 42}' (${error instanceof Error ? error.message : String(error)}).`,
        );
    }
}

/** The options of a command line; throws {@link HelpRequest} for --help, {@link UsageError} for bad flags. */
export function parseRunCli(argv: readonly string[]): RunCliOptions {
    const { values, positionals } = parseFlags({
        args: [...argv],
        options: {
            workflow: { type: "string" },
            input: { type: "string" },
            "input-file": { type: "string" },
            expect: { type: "string", default: "succeeded" },
            "time-scale": { type: "string", default: "1" },
            config: { type: "string", multiple: true, default: [] },
            stack: { type: "string", default: "local" },
            json: { type: "boolean", default: false },
            help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
        allowPositionals: true,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    const [program, ...extra] = positionals;
    if (program === undefined) {
        throw new UsageError("Name the program's module, such as build/index.js.");
    }
    if (extra.length > 0) {
        throw new UsageError(`One program at a time (got ${JSON.stringify(positionals)}).`);
    }
    if (values.input !== undefined && values["input-file"] !== undefined) {
        throw new UsageError("Give --input or --input-file, not both.");
    }
    let input: unknown = {};
    if (values.input !== undefined) {
        input = parseJson(values.input, "--input");
    } else if (values["input-file"] !== undefined) {
        let text: string;
        try {
            text = readFileSync(values["input-file"], "utf8");
        } catch (error) {
            throw new UsageError(
                `--input-file ${values["input-file"]}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
            );
        }
        input = parseJson(text, `--input-file ${values["input-file"]}`);
    }
    const expect = parseExpectation(values.expect);
    if (expect === undefined) {
        throw new UsageError(
            `--expect must be succeeded, failed or timed_out, and for failed or timed_out optionally :ERROR (got "${values.expect}").`,
        );
    }
    const timeScale = Number(values["time-scale"]);
    if (!Number.isFinite(timeScale) || timeScale < 1 || timeScale > 10_000) {
        throw new UsageError(`--time-scale must be a number from 1 to 10000 (got "${values["time-scale"]}").`);
    }
    const config: Record<string, string> = {};
    for (const setting of values.config) {
        const equals = setting.indexOf("=");
        if (equals <= 0) {
            throw new UsageError(`--config must be KEY=VALUE, such as orders:limit=500 (got "${setting}").`);
        }
        config[setting.slice(0, equals)] = setting.slice(equals + 1);
    }
    return {
        program: path.resolve(program),
        workflow: values.workflow,
        input,
        expect,
        timeScale,
        config,
        stack: values.stack,
        json: values.json,
    };
}

async function main(): Promise<number> {
    const options = parseRunCli(process.argv.slice(2));
    // Loaded only now: --help and bad flags answer without loading Pulumi.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; the same module a static import gives
    const { runLocally } = require("./run") as typeof Run;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
    const { formatTrace, orderedPrinter, printReport, useColour } = require("./report") as typeof Report;
    const colour = useColour();
    const printer = orderedPrinter((event) => console.log(formatTrace(event, colour, options.timeScale)));
    let started = false;
    const report = await runLocally({
        program: options.program,
        ...(options.workflow !== undefined ? { workflow: options.workflow } : {}),
        input: options.input,
        expect: options.expect,
        timeScale: options.timeScale,
        config: options.config,
        stack: options.stack,
        ...(options.json
            ? {}
            : {
                  onTrace: (event: TraceEvent) => {
                      if (!started) {
                          started = true;
                          console.log(
                              `Local run of ${options.workflow ?? "the program's workflow"} (${path.relative(process.cwd(), options.program) || options.program}), offline${options.timeScale === 1 ? "" : `; the stack's clock ${options.timeScale}× faster`}\n`,
                          );
                      }
                      printer.push(event);
                  },
              }),
    });
    printer.flush();
    printReport(report, options.json);
    return report.asExpected ? 0 : 1;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
