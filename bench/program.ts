/**
 * `npm run bench` (2 of 2): program evaluation under the mocked runtime for 1, 10 and 100
 * CallbackWorkflows in one stack, as milliseconds per resource, beside a bare program that registers the
 * same number of plain resources in the same run (Pulumi's own per-resource cost is the floor).
 * The table goes to stdout (and build/bench-program.md), what it is measuring to stderr. Measurements
 * only: no assertions.
 */
import { writeFile } from "node:fs/promises";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type * as Sqs from "@pulumi/aws/sqs";
import { REPO_ROOT } from "../components/bundle";
import type * as Component from "../components/callback-workflow";
import type * as Mocked from "../local/pulumi-program";
import { Progress } from "../scripts/progress";
import { parseHelpOnly, runMain } from "../scripts/run-main";

const COUNTS = [1, 10, 100] as const;
const RUNS = 3;

export const USAGE = `Usage: node build/bench/program.js
The second half of \`npm run bench\` (after the build): evaluates the program under the mocked runtime
with ${COUNTS.join(", ")} CallbackWorkflows in one stack, beside a bare program registering as many plain
resources (median of ${RUNS} runs each). The table goes to stdout and build/bench-program.md; progress
to stderr.
Options:
  -h, --help    print this usage`;

const progress = new Progress("bench");

async function timed(
    runProgram: typeof Mocked.runProgram,
    program: () => void,
): Promise<{ ms: number; resources: number }> {
    const times: number[] = [];
    let resources = 0;
    for (let run = 0; run < RUNS; run += 1) {
        const start = performance.now();
        const result = await runProgram(program);
        times.push(performance.now() - start);
        resources = result.resources.length;
        progress.step(run + 1, RUNS);
    }
    times.sort((a, b) => a - b);
    return { ms: times[Math.floor(RUNS / 2)] as number, resources };
}

async function main(): Promise<number> {
    parseHelpOnly(process.argv.slice(2));
    // The heavy modules are loaded when it runs, not for --help (most of a command's start-up is the SDKs).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load (see above)
    const sqs = require("@pulumi/aws/sqs") as typeof Sqs;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load (see above)
    const { CallbackWorkflow } = require("../components/callback-workflow") as typeof Component;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load (see above)
    const { runProgram } = require("../local/pulumi-program") as typeof Mocked;
    // Warm-up: load modules and bundle the worker once, outside the measurements.
    progress.stage("program: warm-up (loading modules, bundling the worker)");
    await runProgram(() => new CallbackWorkflow("warm-up"));

    const lines = [
        `Node ${process.version}, compiled JS, median of ${RUNS} runs per row.`,
        "",
        "| workflows | resources | program | per resource | bare program, same count | per resource | ratio |",
        "|---|---|---|---|---|---|---|",
    ];
    for (const count of COUNTS) {
        progress.stage(`program: ${count} workflow(s), ${RUNS} runs`);
        const workflows = await timed(runProgram, () => {
            for (let i = 0; i < count; i += 1) {
                new CallbackWorkflow(`wf${i}`);
            }
        });
        progress.stage(`program: a bare program of ${workflows.resources} queues, ${RUNS} runs`);
        const bare = await timed(runProgram, () => {
            for (let i = 0; i < workflows.resources; i += 1) {
                new sqs.Queue(`q${i}`, { sqsManagedSseEnabled: true });
            }
        });
        const perResource = workflows.ms / workflows.resources;
        const barePerResource = bare.ms / bare.resources;
        lines.push(
            `| ${count} | ${workflows.resources} | ${workflows.ms.toFixed(0)} ms | ${perResource.toFixed(2)} ms | ${bare.ms.toFixed(0)} ms | ${barePerResource.toFixed(2)} ms | ${(perResource / barePerResource).toFixed(2)}× |`,
        );
    }
    progress.end();
    const report = lines.join("\n");
    console.log(report);
    await writeFile(path.join(REPO_ROOT, "build", "bench-program.md"), `${report}\n`);
    return 0;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
