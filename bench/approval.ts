/**
 * `npm run bench` (4 of 4): the human approval. The requester's and the page's bundles (their size, and
 * the cold start of each: a fresh Node process importing it, with the environment it gets in Lambda), and
 * the page's requests on loopback fakes (real SDK clients, node:http): a link's GET (GetItem and the
 * heartbeat probe) and a decision's POST (GetItem, the conditional UpdateItem, SendTaskSuccess,
 * UpdateItem). The table goes to stdout (and build/bench-approval.md), what it is measuring to stderr.
 * Measurements only: no assertions.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type * as Approval from "../components/approval";
import { BUNDLE_ENTRY_FILE, bundleWorker, REPO_ROOT, writeBundle } from "../components/bundle";
import { Progress } from "../scripts/progress";
import { parseHelpOnly, runMain } from "../scripts/run-main";
import type * as Rig from "../tests/harness/approval";

const COLD_RUNS = 5;
const REQUESTS = 200;

export const USAGE = `Usage: node build/bench/approval.js
The last stage of \`npm run bench\`: the approval requester's and page's bundles (size; cold start, the
median of ${COLD_RUNS} fresh processes importing each), and the page's GET and POST on loopback fakes (median
and 95th percentile of ${REQUESTS} each). The table goes to stdout and build/bench-approval.md; progress to stderr.
Options:
  -h, --help    print this usage`;

const progress = new Progress("bench");

function quantile(sorted: readonly number[], q: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Milliseconds from a fresh process's start to its bundle's handler being built (module init). */
function coldStart(dir: string, env: Record<string, string>): number {
    const script = `const t0 = performance.now(); await import(${JSON.stringify(path.join(dir, BUNDLE_ENTRY_FILE))}); process.stdout.write(String(performance.now() - t0));`;
    const times: number[] = [];
    for (let run = 0; run < COLD_RUNS; run += 1) {
        const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
            env: { PATH: process.env["PATH"] ?? "", AWS_REGION: "eu-west-1", ...env },
        });
        times.push(Number(out.toString("utf8")));
        progress.step(run + 1, COLD_RUNS);
    }
    return times.sort((a, b) => a - b)[Math.floor(COLD_RUNS / 2)] as number;
}

async function main(): Promise<number> {
    parseHelpOnly(process.argv.slice(2));
    // The heavy modules are loaded when it runs, not for --help (most of a command's start-up is the SDKs).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load (see above)
    const { APPROVAL_PAGE_ENTRY, APPROVAL_REQUESTER_ENTRY } = require("../components/approval") as typeof Approval;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load (see above)
    const { startApprovalRig } = require("../tests/harness/approval") as typeof Rig;
    const lines = [
        `Node ${process.version}, compiled JS.`,
        "",
        "| bundle | index.mjs | cold import (median) |",
        "|---|---|---|",
    ];
    const common = {
        APPROVAL_TABLE_NAME: "approvals",
        APPROVAL_KEY_RING_SECRET_ID: "link-keys",
        APPROVAL_PAGE_URL: "https://approvals.example.com",
        APPROVAL_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:approvers",
    };
    for (const [name, entry] of [
        ["requester", APPROVAL_REQUESTER_ENTRY],
        ["page", APPROVAL_PAGE_ENTRY],
    ] as const) {
        progress.stage(`approval: bundling and cold-starting the ${name}`);
        const bundle = await bundleWorker({ entry: path.join(REPO_ROOT, entry), root: REPO_ROOT });
        const dir = mkdtempSync(path.join(tmpdir(), `bench-approval-${name}-`));
        await writeBundle(bundle, dir);
        writeFileSync(path.join(dir, "package.json"), '{"type": "module"}\n');
        const size = Buffer.byteLength(bundle.files.get(BUNDLE_ENTRY_FILE) ?? "");
        lines.push(`| ${name} | ${(size / 1024).toFixed(0)} KiB | ${coldStart(dir, common).toFixed(0)} ms |`);
    }

    progress.stage(`approval: the page's GET and POST, ${REQUESTS} each, on loopback fakes`);
    const rig = await startApprovalRig();
    const get: number[] = [];
    const post: number[] = [];
    try {
        for (let i = 0; i < REQUESTS; i += 1) {
            const { url } = await rig.seed();
            let start = performance.now();
            const page = await fetch(url);
            const body = await page.text();
            get.push(performance.now() - start);
            const fields = Object.fromEntries(
                [...body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
            ) as Record<string, string>;
            start = performance.now();
            const decided = await fetch(url, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded" },
                body: new URLSearchParams({ ...fields, decision: "approve", comment: "bench" }).toString(),
            });
            await decided.text();
            post.push(performance.now() - start);
            if (decided.status !== 200) {
                throw new Error(`The decision was answered ${decided.status}.`);
            }
            progress.step(i + 1, REQUESTS);
        }
    } finally {
        await rig.close();
    }
    get.sort((a, b) => a - b);
    post.sort((a, b) => a - b);
    lines.push(
        "",
        "| page request (loopback fakes) | median | p95 |",
        "|---|---|---|",
        `| GET a link (GetItem, heartbeat probe, the form) | ${quantile(get, 0.5).toFixed(1)} ms | ${quantile(get, 0.95).toFixed(1)} ms |`,
        `| POST a decision (GetItem, conditional UpdateItem, SendTaskSuccess, UpdateItem) | ${quantile(post, 0.5).toFixed(1)} ms | ${quantile(post, 0.95).toFixed(1)} ms |`,
    );
    progress.end();
    const report = lines.join("\n");
    console.log(report);
    await writeFile(path.join(REPO_ROOT, "build", "bench-approval.md"), `${report}\n`);
    return 0;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
