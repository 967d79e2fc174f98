/**
 * `npm run bench` (1 of 2): the worker as deployed, beside the previous release's worker (bundled from
 * git), the same worker without source maps, the classic example's handler (the aws-sdk v2 handler of
 * the common public write-ups) and a naive bundle.
 *
 * Interleaved: each round runs every variant once, in a fresh process, in a shuffled order, so that the
 * machine's drift (load, thermal, caches) spreads over every variant alike and a ratio means the same
 * from run to run. Per round and variant: the whole process start, the time inside the import (what
 * Lambda bills as init beyond the runtime's own start), the memory after init, then warm 1- and
 * 10-record batches against the loopback Step Functions endpoint with LATENCY_MS injected per call.
 * Reported: the median and the 10th–90th percentile spread over the rounds. The children run on the
 * Node.js of the Lambda runtime the component deploys (the pinned binary of .ci/node when present).
 * Measurements only: no assertions.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { execFile } from "node:child_process";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import {
    BUNDLE_ENTRY_FILE,
    bundleWorker,
    DEFAULT_LAMBDA_RUNTIME,
    DEFAULT_WORKER_ENTRY,
    REPO_ROOT,
    writeBundle,
} from "../components/bundle";
import type * as Harness from "../local/harness";
import { lambdaEnvironment } from "../local/lambda-process";
import type { FakeStepFunctions } from "../local/sfn-endpoint";
import type * as SfnEndpoint from "../local/sfn-endpoint";
import { sqsEvent, sqsRecord } from "../tests/fixtures/records";
import { Progress } from "../scripts/progress";
import { HelpRequest, parseFlags, runMain, UsageError } from "../scripts/run-main";

const run = promisify(execFile);

/** The commit of release 0.1.0, whose worker is the baseline. */
export const PREVIOUS_RELEASE = { name: "0.1.0", commit: "9620d2070c5813ca796cfd1ab8330154317e0b10" } as const;
const DEFAULT_ROUNDS = 30;
const BATCHES_PER_ROUND = 3;
const LATENCY_MS = 20;
const CHILD = path.join(__dirname, "child.js");
/** The Node.js of the Lambda default runtime, as .ci/run installs it (`npm ci --prefix .ci/node`). */
const LAMBDA_NODE = path.join(REPO_ROOT, ".ci", "node", "node_modules", "node24", "bin", "node");

export const USAGE = `Usage: node build/bench/worker.js [--rounds N] [--node PATH]
The first half of \`npm run bench\` (after the build): the worker as deployed (with the NODE_OPTIONS the
component sets) beside release ${PREVIOUS_RELEASE.name}'s worker (bundled from git), the same worker without
source maps, the classic example's handler and a naive bundle. Each round runs every variant once, in a
fresh process, in a shuffled order: cold init, memory, and warm 1- and 10-record batches (${LATENCY_MS} ms
per Step Functions call). Median and 10th–90th percentile over the rounds; the table goes to stdout
and build/bench-worker.md, progress to stderr.
Options:
  --rounds N    rounds (default ${DEFAULT_ROUNDS})
  --node PATH   the Node.js the variants run on (default: .ci/node's Node 24, the Lambda default
                runtime's, when installed with \`npm ci --prefix .ci/node\`; else this Node)
  -h, --help    print this usage`;

const progress = new Progress("bench");

interface Variant {
    readonly name: string;
    readonly file: string;
    readonly exportName: string;
    /** What is measured as its size. */
    readonly sizeNote: string;
    /** Its environment as the component deploys it (the dev stack's worker environment). */
    readonly env?: Readonly<Record<string, string>>;
    /** Its Lambda timeout, in milliseconds (its context's remaining time at the start). */
    readonly timeoutMs?: number;
}

interface Sample {
    readonly processMs: number;
    readonly importMs: number;
    readonly rssMb: number;
    readonly one: number;
    readonly ten: number;
}

const ENV = {
    ...lambdaEnvironment(),
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
    POWERTOOLS_LOG_LEVEL: "WARN",
};

function percentile(values: readonly number[], p: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (sorted.length - 1) * p;
    const low = Math.floor(at);
    const high = Math.ceil(at);
    return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (at - low);
}

const median = (values: readonly number[]): number => percentile(values, 0.5);

function shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
        const j = Math.floor(Math.random() * (i + 1));
        [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
}

/** One round of one variant: a fresh process, its init, then warm batches. */
async function measure(variant: Variant, node: string, fake: FakeStepFunctions): Promise<Sample> {
    const start = performance.now();
    const child = spawn(node, [CHILD, "serve", variant.file, variant.exportName], {
        env: { ...ENV, ...variant.env, AWS_ENDPOINT_URL_SFN: fake.url },
        stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
        const [ready] = (await Promise.race([
            once(child, "message"),
            once(child, "exit").then(() => {
                throw new Error(`${variant.name} failed to load: ${stderr}`);
            }),
        ])) as [{ initMs: number; rssMb: number }];
        const processMs = performance.now() - start;
        const invoke = async (records: number): Promise<number> => {
            // Fresh messages, as a queue without a backlog delivers them.
            const sentAt = Date.now();
            child.send({
                event: sqsEvent(...Array.from({ length: records }, () => sqsRecord({ sentAt }))),
                timeoutMs: variant.timeoutMs ?? 30_000,
            });
            const [reply] = (await once(child, "message")) as [{ ms: number; error?: string }];
            if (reply.error !== undefined) {
                throw new Error(`${variant.name}: ${reply.error}`);
            }
            return reply.ms;
        };
        await invoke(10); // warm-up: connections, JIT
        const one: number[] = [];
        const ten: number[] = [];
        for (let i = 0; i < BATCHES_PER_ROUND; i += 1) {
            one.push(await invoke(1));
            ten.push(await invoke(10));
        }
        return { processMs, importMs: ready.initMs, rssMb: ready.rssMb, one: median(one), ten: median(ten) };
    } finally {
        child.kill();
    }
}

/** The worker of an earlier commit, bundled as that release deployed it. */
async function bundlePrevious(scratch: string): Promise<string> {
    const tree = path.join(scratch, "previous");
    await mkdir(tree, { recursive: true });
    const archive = path.join(scratch, "previous.tar");
    await run("git", [
        "-C",
        REPO_ROOT,
        "archive",
        "--format=tar",
        "-o",
        archive,
        PREVIOUS_RELEASE.commit,
        "handlers",
        "package.json",
    ]);
    await run("tar", ["-xf", archive, "-C", tree]);
    // Its dependencies are the worker's own (the SDK, Powertools, p-limit), unchanged since; a link keeps
    // the bench offline and fast.
    await symlink(path.join(REPO_ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    // Its own default runtime: nodejs22.x.
    const bundle = await bundleWorker({ root: tree, runtime: "nodejs22.x" });
    const dir = path.join(scratch, "previous-bundle");
    await writeBundle(bundle, dir);
    return path.join(dir, BUNDLE_ENTRY_FILE);
}

async function main(): Promise<number> {
    const { values } = parseFlags({
        args: process.argv.slice(2),
        options: {
            rounds: { type: "string" },
            node: { type: "string" },
            help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    const rounds = values.rounds === undefined ? DEFAULT_ROUNDS : Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1) {
        throw new UsageError(`--rounds must be a positive integer (got "${values.rounds}").`);
    }
    const node = values.node ?? (existsSync(LAMBDA_NODE) ? LAMBDA_NODE : process.execPath);
    const { stdout: nodeVersion } = await run(node, ["--version"]);
    const ours = path.join(REPO_ROOT, "dist", "callback-handler", BUNDLE_ENTRY_FILE);
    if (!existsSync(ours)) {
        throw new Error(`${ours} is missing: run \`npm run build\` first (npm run bench does).`);
    }
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
    progress.stage(`worker: bundling release ${PREVIOUS_RELEASE.name}'s worker from git`);
    const previous = await bundlePrevious(scratch);
    // As deployed: the dev stack's worker environment, rendered by the component (heartbeats, call
    // timeout, receive count, NODE_OPTIONS), and its Lambda timeout. Release 0.1.0 rendered the same
    // settings for dev, with a 100 s heartbeat interval and --enable-source-maps.
    progress.stage("worker: rendering the dev stack for the worker's environment");
    // Loaded when it runs, not for --help (most of a command's start-up is the SDKs).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load
    const { renderStack } = require("../local/harness") as typeof Harness;
    const dev = await renderStack("dev");
    const { POWERTOOLS_LOG_LEVEL: _level, ...deployedEnv } = dev.workerEnvironment;
    const { NODE_OPTIONS: _maps, ...withoutMaps } = deployedEnv;
    const timeoutMs = dev.workerTimeoutSeconds * 1000;
    const previousEnv = {
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: "callback",
        CALLBACK_CONCURRENCY: "10",
        CALLBACK_HEARTBEAT_SECONDS: "100",
        CALLBACK_MAX_RECEIVE_COUNT: "5",
    };
    const variants: Variant[] = [
        {
            name: "classic example (aws-sdk v2, sequential)",
            file: path.join(REPO_ROOT, "bench", "classic-handler.cjs"),
            exportName: "lambda_handler",
            sizeNote: "handler only; SDK from node_modules",
        },
        { name: "naive esbuild CJS bundle", file: naive, exportName: "handler", sizeNote: "bundle" },
        {
            name: `release ${PREVIOUS_RELEASE.name}, as deployed`,
            file: previous,
            exportName: "handler",
            sizeNote: "bundle",
            env: previousEnv,
            timeoutMs,
        },
        {
            name: "this worker, without source maps",
            file: ours,
            exportName: "handler",
            sizeNote: "bundle",
            env: withoutMaps,
            timeoutMs,
        },
        {
            name: "this worker, as deployed",
            file: ours,
            exportName: "handler",
            sizeNote: "bundle",
            env: deployedEnv,
            timeoutMs,
        },
    ];

    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, as renderStack
    const { FakeStepFunctions } = require("../local/sfn-endpoint") as typeof SfnEndpoint;
    const fake = await FakeStepFunctions.start({ latencyMs: LATENCY_MS });
    const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
    try {
        progress.stage(
            `worker: ${rounds} rounds × ${variants.length} variants, each in a fresh process, shuffled (Node ${nodeVersion.trim()})`,
        );
        for (let round = 0; round < rounds; round += 1) {
            for (const variant of shuffled(variants)) {
                samples.get(variant)?.push(await measure(variant, node, fake));
            }
            progress.step(round + 1, rounds);
        }
    } finally {
        progress.end();
        await fake.close();
    }

    const rows = await Promise.all(
        variants.map(async (variant) => {
            const content = await readFile(variant.file);
            const of = (pick: (s: Sample) => number): { median: number; p10: number; p90: number } => {
                const list = (samples.get(variant) ?? []).map(pick);
                return { median: median(list), p10: percentile(list, 0.1), p90: percentile(list, 0.9) };
            };
            return {
                variant,
                bytes: content.length,
                gzip: gzipSync(content).length,
                importMs: of((s) => s.importMs),
                processMs: of((s) => s.processMs),
                rssMb: of((s) => s.rssMb),
                one: of((s) => s.one),
                ten: of((s) => s.ten),
            };
        }),
    );
    await rm(scratch, { recursive: true, force: true });

    const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
    const spread = (m: { median: number; p10: number; p90: number }, unit: string): string =>
        `${m.median.toFixed(1)} ${unit} (${m.p10.toFixed(1)}–${m.p90.toFixed(1)})`;
    const lines = [
        `Node ${nodeVersion.trim()} (the ${DEFAULT_LAMBDA_RUNTIME} runtime's major${node === process.execPath ? ": NOT, .ci/node is not installed" : ""}); ${rounds} interleaved rounds, each variant in a fresh process per round; median (10th–90th percentile); ${LATENCY_MS} ms injected per Step Functions call.`,
        "",
        "| variant | size (gzip) | init: import | init: whole process | memory after init | 1 record | 10 records |",
        "|---|---|---|---|---|---|---|",
        ...rows.map(
            (r) =>
                `| ${r.variant.name} | ${kb(r.bytes)} (${kb(r.gzip)})${r.variant.sizeNote === "bundle" ? "" : ` (${r.variant.sizeNote})`} | ${spread(r.importMs, "ms")} | ${spread(r.processMs, "ms")} | ${spread(r.rssMb, "MiB")} | ${spread(r.one, "ms")} | ${spread(r.ten, "ms")} |`,
        ),
    ];
    const [classicRow, naiveRow, previousRow, bareRow, ourRow] = rows as [
        (typeof rows)[0],
        (typeof rows)[0],
        (typeof rows)[0],
        (typeof rows)[0],
        (typeof rows)[0],
    ];
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
    lines.push(
        "",
        `against release ${PREVIOUS_RELEASE.name} (both as deployed): init ${ratio(ourRow.importMs.median, previousRow.importMs.median)}, whole process ${ratio(ourRow.processMs.median, previousRow.processMs.median)}, 10-record batch ${ratio(ourRow.ten.median, previousRow.ten.median)} (no worse: ≤ 1.05×)`,
        `source maps (--enable-source-maps) cost: init +${(ourRow.importMs.median - bareRow.importMs.median).toFixed(1)} ms, whole process +${(ourRow.processMs.median - bareRow.processMs.median).toFixed(1)} ms, memory +${(ourRow.rssMb.median - bareRow.rssMb.median).toFixed(1)} MiB`,
        `cold init inside the import: ${ratio(ourRow.importMs.median, classicRow.importMs.median)} the classic example's, ${ratio(ourRow.importMs.median, naiveRow.importMs.median)} the naive bundle's`,
        `10-record batch: ${ratio(ourRow.ten.median, ourRow.one.median)} one record (the classic example's sequential loop: ${ratio(classicRow.ten.median, classicRow.one.median)})`,
    );
    const report = lines.join("\n");
    console.log(report);
    await writeFile(path.join(REPO_ROOT, "build", "bench-worker.md"), `${report}\n`);
    return 0;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
