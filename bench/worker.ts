/**
 * `npm run bench` (1 of 2): the worker beside the classic example's approach (the aws-sdk v2 handler of the common public write-ups) and a naive bundle, measured in one run.
 *   - bundle bytes (and gzip);
 *   - cold init in a fresh process: median of COLD_RUNS, inside the import and for the whole process;
 *   - warm latency of a 1-record and a 10-record batch against the loopback fake Step Functions with
 *     LATENCY_MS injected per call, median of BATCH_RUNS.
 * Prints a Markdown table and the ratios the worker is held to on stdout (and to build/bench-worker.md),
 * what it is measuring on stderr. Measurements only: no assertions.
 */
import { fork, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { BUNDLE_ENTRY_FILE, DEFAULT_WORKER_ENTRY, REPO_ROOT } from "../components/bundle";
import { lambdaEnvironment } from "../local/lambda-process";
import { FakeStepFunctions } from "../local/sfn-endpoint";
import { sqsEvent, sqsRecord } from "../tests/fixtures/records";
import { Progress } from "../scripts/progress";
import { HelpRequest, parseFlags, runMain } from "../scripts/run-main";

const COLD_RUNS = 15;
const BATCH_RUNS = 15;
const LATENCY_MS = 20;
const CHILD = path.join(__dirname, "child.js");

export const USAGE = `Usage: node build/bench/worker.js
The first half of \`npm run bench\` (after the build): the worker beside the classic example's handler and a naive
bundle: bundle size, cold init (${COLD_RUNS} fresh processes each) and warm batch latency (${BATCH_RUNS}
1- and 10-record batches each, ${LATENCY_MS} ms per Step Functions call). The table goes to stdout and
build/bench-worker.md; progress to stderr.
Options:
  -h, --help    print this usage`;

const progress = new Progress("bench");

interface Variant {
    readonly name: string;
    readonly file: string;
    readonly exportName: string;
    /** What is measured as its size. */
    readonly sizeNote: string;
}

const ENV = {
    ...lambdaEnvironment(),
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
    POWERTOOLS_LOG_LEVEL: "WARN",
};

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function coldStart(variant: Variant): Promise<{ importMs: number; processMs: number }> {
    const imports: number[] = [];
    const processes: number[] = [];
    for (let run = 0; run < COLD_RUNS; run += 1) {
        const start = performance.now();
        const child = spawn(process.execPath, [CHILD, "init", variant.file, variant.exportName], {
            env: ENV,
            stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const [code] = (await once(child, "exit")) as [number];
        processes.push(performance.now() - start);
        const line = stderr.trim().split("\n").pop() ?? "";
        if (code !== 0) {
            throw new Error(`${variant.name} failed to load: ${stderr}`);
        }
        imports.push((JSON.parse(line) as { initMs: number }).initMs);
        progress.step(run + 1, COLD_RUNS);
    }
    return { importMs: median(imports), processMs: median(processes) };
}

async function batchLatency(variant: Variant, fake: FakeStepFunctions): Promise<{ one: number; ten: number }> {
    const child = fork(CHILD, ["serve", variant.file, variant.exportName], {
        env: { ...ENV, AWS_ENDPOINT_URL_SFN: fake.url },
        stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    await once(child, "message");
    const invoke = async (records: number): Promise<number> => {
        child.send({ event: sqsEvent(...Array.from({ length: records }, () => sqsRecord())) });
        const [reply] = (await once(child, "message")) as [{ ms: number; error?: string }];
        if (reply.error !== undefined) {
            throw new Error(`${variant.name}: ${reply.error}`);
        }
        return reply.ms;
    };
    for (let warm = 0; warm < 3; warm += 1) {
        await invoke(10);
    }
    const one: number[] = [];
    const ten: number[] = [];
    for (let run = 0; run < BATCH_RUNS; run += 1) {
        one.push(await invoke(1));
        ten.push(await invoke(10));
        progress.step(run + 1, BATCH_RUNS);
    }
    child.kill();
    return { one: median(one), ten: median(ten) };
}

async function main(): Promise<number> {
    const { values } = parseFlags({
        args: process.argv.slice(2),
        options: { help: { type: "boolean", short: "h", default: false } },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    const ours = path.join(REPO_ROOT, "dist", "callback-handler", BUNDLE_ENTRY_FILE);
    await stat(ours).catch(() => {
        throw new Error(`${ours} is missing: run \`npm run build\` first (npm run bench does).`);
    });
    const scratch = await mkdtemp(path.join(tmpdir(), "callback-bench-"));
    const naive = path.join(scratch, "naive.cjs");
    // esbuild's defaults for a Node CommonJS bundle: what one gets without choosing anything.
    progress.stage("worker: bundling the naive variant with esbuild's defaults");
    await build({
        absWorkingDir: REPO_ROOT,
        entryPoints: [path.join(REPO_ROOT, DEFAULT_WORKER_ENTRY)],
        outfile: naive,
        bundle: true,
        platform: "node",
        format: "cjs",
        logLevel: "silent",
    });
    const classic = path.join(REPO_ROOT, "bench", "classic-handler.cjs");
    const variants: Variant[] = [
        {
            name: "classic example (aws-sdk v2, sequential)",
            file: classic,
            exportName: "lambda_handler",
            sizeNote: "handler only; SDK from node_modules",
        },
        { name: "naive esbuild CJS bundle", file: naive, exportName: "handler", sizeNote: "bundle" },
        { name: "this worker (ESM, minified)", file: ours, exportName: "handler", sizeNote: "bundle" },
    ];

    const fake = await FakeStepFunctions.start({ latencyMs: LATENCY_MS });
    const rows: Array<{
        variant: Variant;
        bytes: number;
        gzip: number;
        importMs: number;
        processMs: number;
        one: number;
        ten: number;
    }> = [];
    try {
        for (const [index, variant] of variants.entries()) {
            const content = await readFile(variant.file);
            const which = `worker: variant ${index + 1}/${variants.length}, ${variant.name}`;
            progress.stage(`${which}: ${COLD_RUNS} cold starts`);
            const cold = await coldStart(variant);
            progress.stage(`${which}: ${BATCH_RUNS} rounds of a 1- and a 10-record batch`);
            const batch = await batchLatency(variant, fake);
            rows.push({ variant, bytes: content.length, gzip: gzipSync(content).length, ...cold, ...batch });
        }
    } finally {
        progress.end();
        await fake.close();
        await rm(scratch, { recursive: true, force: true });
    }

    const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
    const ms = (value: number): string => `${value.toFixed(1)} ms`;
    const lines = [
        `Node ${process.version}, ${COLD_RUNS} cold starts and ${BATCH_RUNS} warm batches per variant, ${LATENCY_MS} ms injected per Step Functions call.`,
        "",
        "| variant | size (gzip) | cold init: import | cold init: whole process | 1-record batch | 10-record batch | 10 / 1 |",
        "|---|---|---|---|---|---|---|",
        ...rows.map(
            (r) =>
                `| ${r.variant.name} | ${kb(r.bytes)} (${kb(r.gzip)}) ${r.variant.sizeNote === "bundle" ? "" : `(${r.variant.sizeNote})`} | ${ms(r.importMs)} | ${ms(r.processMs)} | ${ms(r.one)} | ${ms(r.ten)} | ${(r.ten / r.one).toFixed(2)}× |`,
        ),
    ];
    const [classicRow, naiveRow, ourRow] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
    lines.push(
        "",
        `cold init inside the import: ${ratio(ourRow.importMs, classicRow.importMs)} the classic example's (target ≤ 0.35×), ${ratio(ourRow.importMs, naiveRow.importMs)} the naive bundle's (target ≤ 0.75×)`,
        `10-record batch: ${ratio(ourRow.ten, ourRow.one)} one call (target ≤ 1.6×; the classic example: ${ratio(classicRow.ten, classicRow.one)})`,
    );
    const report = lines.join("\n");
    console.log(report);
    await writeFile(path.join(REPO_ROOT, "build", "bench-worker.md"), `${report}\n`);
    return 0;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
