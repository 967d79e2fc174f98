/**
 * `npm run bench` (2 of 2): program evaluation under the mocked runtime for 1, 10 and 100
 * CallbackWorkflows in one stack, as milliseconds per resource, beside a bare program that registers the
 * same number of plain resources in the same run (Pulumi's own per-resource cost is the floor).
 * Measurements only: no assertions.
 */
import { writeFile } from "node:fs/promises";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as sqs from "@pulumi/aws/sqs";
import { REPO_ROOT } from "../components/bundle";
import { CallbackWorkflow } from "../components/callback-workflow";
import { runProgram } from "../local/pulumi-program";

const COUNTS = [1, 10, 100] as const;
const RUNS = 3;

async function timed(program: () => void): Promise<{ ms: number; resources: number }> {
    const times: number[] = [];
    let resources = 0;
    for (let run = 0; run < RUNS; run += 1) {
        const start = performance.now();
        const result = await runProgram(program);
        times.push(performance.now() - start);
        resources = result.resources.length;
    }
    times.sort((a, b) => a - b);
    return { ms: times[Math.floor(RUNS / 2)] as number, resources };
}

async function main(): Promise<void> {
    // Warm-up: load modules and bundle the worker once, outside the measurements.
    await runProgram(() => new CallbackWorkflow("warm-up"));

    const lines = [
        `Node ${process.version}, compiled JS, median of ${RUNS} runs per row.`,
        "",
        "| workflows | resources | program | per resource | bare program, same count | per resource | ratio |",
        "|---|---|---|---|---|---|---|",
    ];
    for (const count of COUNTS) {
        const workflows = await timed(() => {
            for (let i = 0; i < count; i += 1) {
                new CallbackWorkflow(`wf${i}`);
            }
        });
        const bare = await timed(() => {
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
    const report = lines.join("\n");
    console.log(report);
    await writeFile(path.join(REPO_ROOT, "build", "bench-program.md"), `${report}\n`);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
