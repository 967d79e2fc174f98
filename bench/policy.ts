/**
 * `npm run bench` (3 of 3): the policy pack's cost per resource on stacks of 1, 10, 100 and 300
 * CallbackWorkflows, deployed and in preview, as `runPolicies` (policy/runner.ts) applies it.
 *
 * The stacks: one CallbackWorkflow is recorded with `recordProgram` (policy/record.ts), deployed and in
 * preview, and its registrations are repeated under distinct names (the workflow's name, which every
 * resource name, URN, ARN and the message title derive from): what recording N workflows gives
 * (registration for registration; only the order differs), without N times the mocked program's cost.
 * Every workflow's definition is thus distinct (its queue's URL and topic's ARN, its message title).
 *
 * Each measurement runs in a fresh process (bench/policy-child.ts), as a `pulumi preview`'s analyzer
 * does: the pack's module load and asl-validator's schema compilation are timed apart (start-up), then
 * the pack runs cold (first run in the process) and warm (second run). The time inside resource
 * policies and inside stack policies is reported per resource, and the slope between sizes is the
 * marginal cost of a resource. Median of --runs processes per row. Measurements only: no assertions.
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import type * as Component from "../components/callback-workflow";
import type * as Record from "../policy/record";
import type { ProgramRun } from "../policy/record";
import { Progress } from "../scripts/progress";
import { HelpRequest, parseFlags, runMain, UsageError } from "../scripts/run-main";
import type { AslMeasurement, PackMeasurement, PackRun } from "./policy-child";

const COUNTS = [1, 10, 100, 300] as const;
/** The sizes with a per-policy breakdown; the asl-validator comparison uses the first one's definitions. */
const BREAKDOWN_COUNTS = [100, 300] as const;
const BREAKDOWN_COUNT = BREAKDOWN_COUNTS[0];
const DEFAULT_RUNS = 3;
/** asl-validator's own calls cost tens to hundreds of ms each: a few suffice. */
const ORIGINAL_DEFINITIONS = 10;
const FAST_DEFINITIONS = 100;

export const USAGE = `Usage: node build/bench/policy.js [--runs N]
The policy-pack stage of \`npm run bench\` (\`npm run bench -- --only policy\` runs it alone): records one
CallbackWorkflow (deployed and in preview), repeats it under distinct names into stacks of
${COUNTS.join(", ")} workflows, and runs the policy pack over each with runPolicies, each measurement in
a fresh process: start-up (module load, schema compilation) apart, then the policies cold and warm,
per resource, resource and stack policies apart, with the slope between sizes and a per-policy
breakdown at ${BREAKDOWN_COUNTS.join(" and ")} workflows; and asl-validator per state machine, as published and
compiled once. The table goes to stdout and build/bench-policy.md; progress to stderr.
Options:
  --runs N      fresh processes per measurement, the median reported (default ${DEFAULT_RUNS})
  -h, --help    print this usage`;

const CHILD = path.join(REPO_ROOT, "build", "bench", "policy-child.js");
const WORK = path.join(REPO_ROOT, "build", "bench-policy");
const progress = new Progress("bench");

const nameOf = (index: number): string => `bench${String(index).padStart(4, "0")}`;

/** `count` copies of the one-workflow recording, each under its own workflow name. */
function repeated(one: ProgramRun, count: number): ProgramRun {
    const text = JSON.stringify(one.resources);
    const resources = Array.from(
        { length: count },
        (_, i) => JSON.parse(text.replaceAll(nameOf(0), nameOf(i))) as ProgramRun["resources"],
    ).flat();
    return { ...one, resources };
}

function child<T>(args: readonly string[]): Promise<T> {
    return new Promise((resolve, reject) => {
        const proc = spawn(process.execPath, [CHILD, ...args], {
            cwd: REPO_ROOT,
            stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        proc.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
        proc.once("error", reject);
        proc.once("exit", (code) =>
            code === 0
                ? resolve(JSON.parse(out) as T)
                : reject(new Error(`policy-child ${args.join(" ")}: exit ${code}`)),
        );
    });
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median of each number of a run over the processes. */
function medianRun(runs: readonly PackRun[]): PackRun {
    const names = Object.keys(runs[0]?.policyMs ?? {});
    return {
        wallMs: median(runs.map((r) => r.wallMs)),
        policyMs: Object.fromEntries(names.map((n) => [n, median(runs.map((r) => r.policyMs[n] ?? 0))])),
        resourceMs: median(runs.map((r) => r.resourceMs)),
        stackMs: median(runs.map((r) => r.stackMs)),
        violations: runs[0]?.violations ?? 0,
        undecided: runs[0]?.undecided ?? 0,
    };
}

interface Row {
    readonly count: number;
    readonly mode: "deployed" | "preview";
    readonly resources: number;
    readonly stateMachines: number;
    readonly stackPolicies: readonly string[];
    readonly loadMs: number;
    readonly compileMs: number;
    readonly cold: PackRun;
    readonly warm: PackRun;
}

const ms = (value: number, digits = 0): string => `${value.toFixed(digits)} ms`;
const perResource = (value: number, resources: number): string => (value / resources).toFixed(3);

async function main(): Promise<number> {
    const { values } = parseFlags({
        args: process.argv.slice(2),
        options: { runs: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    const runs = Number(values.runs ?? DEFAULT_RUNS);
    if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
        throw new UsageError(`--runs must be a whole number from 1 to 20 (got ${JSON.stringify(values.runs)}).`);
    }

    // The heavy modules are loaded when it runs, not for --help (most of a command's start-up is the SDKs).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load (see above)
    const { CallbackWorkflow } = require("../components/callback-workflow") as typeof Component;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load (see above)
    const { recordProgram } = require("../policy/record") as typeof Record;
    progress.stage("policy: recording one CallbackWorkflow, deployed and in preview");
    await mkdir(WORK, { recursive: true });
    const program = (): void => {
        new CallbackWorkflow(nameOf(0), { messageTitle: `Approve ${nameOf(0)}` });
    };
    const recorded = {
        deployed: await recordProgram(program, { preview: false }),
        preview: await recordProgram(program, { preview: true }),
    };
    const files = new Map<string, string>();
    for (const count of COUNTS) {
        for (const mode of ["deployed", "preview"] as const) {
            const file = path.join(WORK, `${count}-${mode}.json`);
            await writeFile(file, JSON.stringify(repeated(recorded[mode], count)));
            files.set(`${count}-${mode}`, file);
        }
    }

    const rows: Row[] = [];
    for (const count of COUNTS) {
        for (const mode of ["deployed", "preview"] as const) {
            progress.stage(`policy: ${count} workflow(s), ${mode}, ${runs} fresh processes`);
            const measured: PackMeasurement[] = [];
            for (let run = 0; run < runs; run += 1) {
                measured.push(await child<PackMeasurement>(["pack", files.get(`${count}-${mode}`) as string]));
                progress.step(run + 1, runs);
            }
            const first = measured[0] as PackMeasurement;
            rows.push({
                count,
                mode,
                resources: first.resources,
                stateMachines: first.stateMachines,
                stackPolicies: first.stackPolicies,
                loadMs: median(measured.map((m) => m.loadMs)),
                compileMs: median(measured.map((m) => m.compileMs)),
                cold: medianRun(measured.map((m) => m.cold)),
                warm: medianRun(measured.map((m) => m.warm)),
            });
        }
    }

    progress.stage(`policy: asl-validator per state machine, as published and compiled once, ${runs} fresh processes`);
    const deployed100 = files.get(`${BREAKDOWN_COUNT}-deployed`) as string;
    const asl: Record<"original" | "fast", AslMeasurement[]> = { original: [], fast: [] };
    for (let run = 0; run < runs; run += 1) {
        asl.original.push(await child<AslMeasurement>(["asl-original", deployed100, String(ORIGINAL_DEFINITIONS)]));
        asl.fast.push(await child<AslMeasurement>(["asl-fast", deployed100, String(FAST_DEFINITIONS)]));
        progress.step(run + 1, runs);
    }
    progress.end();

    const lines = [
        `Node ${process.version}, compiled JS; each measurement a fresh process, median of ${runs}. Times inside the policies' validate functions, per resource (all resources, components included); "runner" is runPolicies' wall time.`,
        "",
        "| workflows | stack | resources | start-up: load + schemas | cold: resource policies | stack policies | runner | warm: resource policies | stack policies | runner | undecided |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ];
    for (const row of rows) {
        lines.push(
            `| ${row.count} | ${row.mode} | ${row.resources} | ${ms(row.loadMs)} + ${ms(row.compileMs)} | ${perResource(row.cold.resourceMs, row.resources)} ms | ${perResource(row.cold.stackMs, row.resources)} ms | ${perResource(row.cold.wallMs, row.resources)} ms | ${perResource(row.warm.resourceMs, row.resources)} ms | ${perResource(row.warm.stackMs, row.resources)} ms | ${perResource(row.warm.wallMs, row.resources)} ms | ${row.cold.undecided} |`,
        );
    }
    lines.push(
        "",
        "Marginal cost per added resource (slope of the policies' time between sizes; start-up excluded):",
        "",
        "| stack | from → to workflows | cold: resource policies | stack policies | warm: resource policies | stack policies |",
        "|---|---|---|---|---|---|",
    );
    for (const mode of ["deployed", "preview"] as const) {
        const own = rows.filter((r) => r.mode === mode);
        for (let i = 1; i < own.length; i += 1) {
            const [a, b] = [own[i - 1] as Row, own[i] as Row];
            const slope = (pick: (row: Row) => number) =>
                ((pick(b) - pick(a)) / (b.resources - a.resources)).toFixed(3);
            lines.push(
                `| ${mode} | ${a.count} → ${b.count} | ${slope((r) => r.cold.resourceMs)} ms | ${slope((r) => r.cold.stackMs)} ms | ${slope((r) => r.warm.resourceMs)} ms | ${slope((r) => r.warm.stackMs)} ms |`,
            );
        }
    }
    for (const mode of ["deployed", "preview"] as const) {
        const own = BREAKDOWN_COUNTS.map((count) => rows.find((r) => r.count === count && r.mode === mode) as Row);
        const first = own[0] as Row;
        lines.push(
            "",
            `Per policy, ${mode}: milliseconds inside it, and per resource (${own.map((r) => `${r.count} workflows: ${r.resources} resources, ${r.stateMachines} state machines`).join("; ")}):`,
            "",
            `| policy | kind | ${own.map((r) => `${r.count}: cold | warm`).join(" | ")} |`,
            `|---|---|${own.map(() => "---|---|").join("")}`,
        );
        const names = Object.keys(first.cold.policyMs).sort(
            (x, y) => (first.cold.policyMs[y] ?? 0) - (first.cold.policyMs[x] ?? 0),
        );
        const cell = (value: number, row: Row) => `${ms(value, 1)} (${perResource(value, row.resources)})`;
        for (const name of names) {
            const kind = first.stackPolicies.includes(name) ? "stack" : "resource";
            const cells = own.map(
                (r) => `${cell(r.cold.policyMs[name] ?? 0, r)} | ${cell(r.warm.policyMs[name] ?? 0, r)}`,
            );
            lines.push(`| ${name} | ${kind} | ${cells.join(" | ")} |`);
        }
    }
    const callStats = (measured: readonly AslMeasurement[]) => ({
        load: median(measured.map((m) => m.loadMs)),
        compile: median(measured.map((m) => m.compileMs)),
        first: median(measured.map((m) => m.callsMs[0] ?? 0)),
        rest: median(measured.flatMap((m) => m.callsMs.slice(1))),
        calls: measured[0]?.callsMs.length ?? 0,
        valid: measured[0]?.valid ?? 0,
    });
    const original = callStats(asl.original);
    const fast = callStats(asl.fast);
    lines.push(
        "",
        `asl-validator per state machine (the ${BREAKDOWN_COUNT}-workflow stack's definitions, deployed), in a fresh process:`,
        "",
        "| validator | module load | schema compilation | first call (cold) | each further call (warm, median) | definitions | valid |",
        "|---|---|---|---|---|---|---|",
        `| asl-validator 4.0.0 as published | ${ms(original.load, 1)} | within each call | ${ms(original.first, 1)} | ${ms(original.rest, 2)} | ${original.calls} | ${original.valid} |`,
        `| components/asl-validate.ts | ${ms(fast.load, 1)} | ${ms(fast.compile, 1)} | ${ms(fast.first, 2)} | ${ms(fast.rest, 2)} | ${fast.calls} | ${fast.valid} |`,
    );
    const report = lines.join("\n");
    console.log(report);
    await writeFile(path.join(REPO_ROOT, "build", "bench-policy.md"), `${report}\n`);
    return 0;
}

if (require.main === module) {
    runMain(main, { stack: true, usage: USAGE });
}
