/**
 * Every command as a user runs it: --help prints the usage on stdout and does nothing else (the build
 * does not build, the bench does not measure), a bad flag exits 2 without a stack trace, a bad stack
 * configuration exits 1 with its message alone, and `npm start -- --json` prints one JSON document.
 * The user-error rules of scripts/run-main.ts and the progress lines of scripts/progress.ts.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { rm, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { USAGE as BENCH_POLICY_USAGE } from "../bench/policy";
import { USAGE as BENCH_APPROVAL_USAGE } from "../bench/approval";
import { USAGE as BENCH_PROGRAM_USAGE } from "../bench/program";
import { USAGE as BENCH_WORKER_USAGE } from "../bench/worker";
import { REPO_ROOT } from "../components/bundle";
import { USAGE as START_USAGE, type ScenarioReport } from "../local/cli";
import { USAGE as RUN_USAGE } from "../local/run-cli";
import { USAGE as BUILD_USAGE } from "../scripts/build";
import { USAGE as CHECK_CONFIG_USAGE } from "../scripts/check-config";
import { USAGE as PR_COMMENT_USAGE } from "../scripts/pr-comment";
import { Progress } from "../scripts/progress";
import { USAGE as PULUMI_USAGE } from "../scripts/pulumi";
import { USAGE as RELEASE_CHECK_USAGE } from "../scripts/release-check";
import { HelpRequest, parseFlags, reportError, UsageError } from "../scripts/run-main";
import { USAGE as SMOKE_USAGE } from "../scripts/smoke";

interface Ran {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to its end, whatever its exit code. */
function run(file: string, args: readonly string[]): Promise<Ran> {
    return new Promise((resolve) => {
        execFile(file, [...args], { cwd: REPO_ROOT, timeout: 50_000 }, (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
            resolve({ code, stdout, stderr });
        });
    });
}

const node = (script: string, ...args: string[]): Promise<Ran> =>
    run(process.execPath, [path.join(REPO_ROOT, script), ...args]);

/** npm as `npm test` runs it (npm_execpath), else the one on PATH. */
function npm(...args: string[]): Promise<Ran> {
    const cli = process.env["npm_execpath"];
    return cli !== undefined && cli.endsWith(".js") ? run(process.execPath, [cli, ...args]) : run("npm", args);
}

const STACK_TRACE = /^\s+at /m;
const mtime = async (file: string): Promise<number | undefined> =>
    (await stat(path.join(REPO_ROOT, file)).catch(() => undefined))?.mtimeMs;

/** The entries of package scripts and the scripts run on their own, with their usage. */
const ENTRIES: ReadonlyArray<readonly [string, string]> = [
    ["build/local/cli.js", START_USAGE],
    ["build/local/run-cli.js", RUN_USAGE],
    ["build/scripts/smoke.js", SMOKE_USAGE],
    ["build/scripts/pr-comment.js", PR_COMMENT_USAGE],
    ["build/scripts/pulumi.js", PULUMI_USAGE],
    ["build/scripts/check-config.js", CHECK_CONFIG_USAGE],
    ["build/scripts/release-check.js", RELEASE_CHECK_USAGE],
    ["build/scripts/build.js", BUILD_USAGE],
    ["build/bench/worker.js", BENCH_WORKER_USAGE],
    ["build/bench/program.js", BENCH_PROGRAM_USAGE],
    ["build/bench/policy.js", BENCH_POLICY_USAGE],
    ["build/bench/approval.js", BENCH_APPROVAL_USAGE],
];

/** Files that a build or a bench that ran would have rewritten. */
const OUTPUTS = ["dist/callback-handler/index.mjs", "policy/bin/index.js", "build/index.js", "build/bench-worker.md"];

/** The arguments that select an entry's command (the wrapper's first argument is preview or deploy). */
const commandOf = (script: string): string[] => (script.endsWith("pulumi.js") ? ["preview"] : []);

describe("commands: --help", function () {
    // Eight npm and node processes start at once: on a loaded 2-core machine that takes its time.
    this.timeout(60_000);
    // Every command runs at once, in before(); each test reads its own result.
    let written: (number | undefined)[];
    let viaNpm: Promise<Ran[]>;
    const direct = new Map<string, Promise<Ran>>();

    before(async () => {
        written = await Promise.all(OUTPUTS.map(mtime));
        viaNpm = Promise.all([
            npm("run", "build", "--silent", "--", "--help"),
            npm("start", "--silent", "--", "--help"),
            npm("run", "bench", "--silent", "--", "--help"),
            npm("run", "preview", "--silent", "--", "--help"),
            npm("run", "deploy", "--silent", "--", "-h"),
            npm("run", "check-config", "--silent", "--", "--help"),
            npm("run", "release-check", "--silent", "--", "--help"),
        ]);
        for (const [script] of ENTRIES) {
            for (const flag of ["--help", "-h"]) {
                direct.set(`${script} ${flag}`, node(script, ...commandOf(script), flag));
            }
        }
        await Promise.all([viaNpm, ...direct.values()]);
    });

    it("must print each package script's usage on stdout and run nothing: npm run build|bench|preview|deploy|check-config|release-check, npm start", async () => {
        const ran = await viaNpm;
        const [build, start, bench, preview, deploy, checkConfig, releaseCheck] = ran;
        for (const result of ran) {
            assert.equal(result.code, 0, result.stderr);
            assert.equal(result.stderr, "", "no build: or bench: lines, nothing run");
        }
        assert.match(build?.stdout ?? "", /^Usage: npm run build\n/);
        assert.match(bench?.stdout ?? "", /^Usage: npm run bench -- \[--only worker\|program\|policy\|approval\]\n/);
        assert.doesNotMatch(bench?.stdout ?? "", /\| variant/, "no bench table");
        assert.equal(start?.stdout, `${START_USAGE}\n`, "scripts/commands.mjs prints local/cli.ts's usage");
        assert.equal(preview?.stdout, `${PULUMI_USAGE}\n`, "scripts/commands.mjs prints scripts/pulumi.ts's usage");
        assert.equal(deploy?.stdout, `${PULUMI_USAGE}\n`);
        assert.equal(
            checkConfig?.stdout,
            `${CHECK_CONFIG_USAGE}\n`,
            "scripts/commands.mjs prints check-config's usage",
        );
        assert.equal(
            releaseCheck?.stdout,
            `${RELEASE_CHECK_USAGE}\n`,
            "scripts/commands.mjs prints release-check's usage",
        );
    });

    for (const [script, usage] of ENTRIES) {
        it(`must print the usage of node ${script} --help and -h, and do nothing else`, async () => {
            for (const flag of ["--help", "-h"]) {
                const { code, stdout, stderr } = (await direct.get(`${script} ${flag}`)) as Ran;
                assert.equal(code, 0, stderr);
                assert.equal(stdout, `${usage}\n`);
                assert.equal(stderr, "", "no progress: nothing bundled or measured");
            }
        });
    }

    it("must have built nothing and written no bench report", async () => {
        assert.deepEqual(await Promise.all(OUTPUTS.map(mtime)), written);
    });
});

describe("commands: bad flags", function () {
    this.timeout(20_000);
    const cases: ReadonlyArray<readonly [string, string[], string]> = [
        ...ENTRIES.map(([script, usage]) => [script, commandOf(script), usage] as const),
        ["scripts/commands.mjs", ["build"], "Usage: npm run build\n"],
        ["scripts/commands.mjs", ["bench"], "Usage: npm run bench -- [--only worker|program|policy|approval]\n"],
    ];
    const ran = new Map<string, Promise<Ran>>();

    before(async () => {
        for (const [script, command] of cases) {
            ran.set(script + command.join(" "), node(script, ...command, "--bogus"));
        }
        await Promise.all(ran.values());
    });

    for (const [script, command, usage] of cases) {
        it(`must exit 2 with the message and the usage, no stack trace: ${[script, ...command].join(" ")} --bogus`, async () => {
            const { code, stdout, stderr } = (await ran.get(script + command.join(" "))) as Ran;
            assert.equal(code, 2, stderr);
            assert.equal(stdout, "");
            assert.match(stderr, /^Unknown option '--bogus'/);
            assert.ok(stderr.includes(`\n\n${usage}`), stderr);
            assert.doesNotMatch(stderr, STACK_TRACE);
            assert.doesNotMatch(stderr, /^(build|bench): /m, "nothing built or measured");
        });
    }

    it("must exit 2 on a stack that has no Pulumi.<stack>.yaml", async () => {
        const { code, stderr } = await node("build/local/cli.js", "--stack", "staging");
        assert.equal(code, 2);
        assert.match(stderr, /^--stack staging: there is no Pulumi\.staging\.yaml\.\n/);
        assert.doesNotMatch(stderr, STACK_TRACE);
    });
});

describe("npm start: its output", function () {
    this.timeout(20_000);
    // A stack of its own, with a dot in its name so that tests listing the committed stacks
    // (Pulumi.<name>.yaml, name without a dot) do not see it.
    const stack = `cli-test.${process.pid}`;
    const stackFile = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
    const cliStack = `cli-bad.${process.pid}`;
    const cliStackFile = path.join(REPO_ROOT, `Pulumi.${cliStack}.yaml`);

    before(() =>
        // Valid by the Pulumi CLI's rules (an integer), refused by the program's (out of range, unknown key).
        writeFile(stackFile, "config:\n  callback-workflow:taskTimeoutSeconds: 0\n  callback-workflow:retries: 3\n"),
    );
    after(() => rm(stackFile, { force: true }));

    it("must print one JSON document on stdout with --json, and nothing on stderr", async () => {
        const { code, stdout, stderr } = await node("build/local/cli.js", "--json");
        assert.equal(code, 0, stderr);
        assert.equal(stderr, "");
        const report = JSON.parse(stdout) as ScenarioReport;
        assert.equal(report.scenario, "approve");
        assert.equal(report.status, "SUCCEEDED");
    });

    it("must print a stack's configuration error alone: exit 1, no scenario header, no stack trace", async () => {
        const { code, stdout, stderr } = await node("build/local/cli.js", "--stack", stack);
        assert.equal(code, 1, stderr);
        assert.equal(stdout, "", "no scenario header");
        // The message is components/config.ts's (StackConfigError): the stack and each bad key.
        assert.match(stderr, new RegExp(`^Invalid configuration for stack "${stack.replace(".", "\\.")}":\n`));
        assert.match(stderr, /callback-workflow:taskTimeoutSeconds must be an integer from 21 to 31536000 \(got 0\)/);
        assert.match(stderr, /callback-workflow:retries is not a setting/);
        assert.doesNotMatch(stderr, STACK_TRACE);
    });

    it("must print a component's refusal of the stack's settings alone: exit 1, no stack trace", async () => {
        const workerStack = `cli-worker.${process.pid}`;
        const workerStackFile = path.join(REPO_ROOT, `Pulumi.${workerStack}.yaml`);
        await writeFile(workerStackFile, "config:\n  callback-workflow:workerEntry: no/such/worker.ts\n");
        try {
            const { code, stdout, stderr } = await node("build/local/cli.js", "--stack", workerStack);
            assert.equal(code, 1, stderr);
            assert.equal(stdout, "");
            assert.match(
                stderr,
                /^Invalid arguments for CallbackWorkflow "callback":\n- `workerEntry` must name the worker's module: /,
            );
            assert.doesNotMatch(stderr, STACK_TRACE);
        } finally {
            await rm(workerStackFile, { force: true });
        }
    });

    it("must print what the Pulumi CLI would refuse alone, before the program runs: exit 1, no stack trace", async () => {
        await writeFile(
            cliStackFile,
            "config:\n  callback-workflow:taskTimeoutSeconds: soon\n  aws:region: a\n  aws:region: b\n",
        );
        try {
            const { code, stdout, stderr } = await node("build/local/cli.js", "--stack", cliStack);
            assert.equal(code, 1, stderr);
            assert.equal(stdout, "");
            assert.match(
                stderr,
                /^Pulumi\.cli-bad\.\d+\.yaml is not valid YAML:\n- Pulumi\.cli-bad\.\d+\.yaml:4:3: Map keys must be unique\n$/,
            );
            await writeFile(cliStackFile, "config:\n  callback-workflow:taskTimeoutSeconds: soon\n");
            const typed = await node("build/local/cli.js", "--stack", cliStack);
            assert.equal(typed.code, 1);
            assert.match(
                typed.stderr,
                /^The Pulumi CLI would refuse stack "cli-bad\.\d+":\n- Stack 'cli-bad\.\d+' with configuration key 'taskTimeoutSeconds' must be of type 'integer' \(got "soon"\)\.\n$/,
            );
        } finally {
            await rm(cliStackFile, { force: true });
        }
    });
});

describe("scripts/run-main.ts: user errors and unexpected ones", () => {
    const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

    it("must print the usage on stdout for --help, exit 0", () => {
        assert.deepEqual(reportError(new HelpRequest(), { usage: "Usage: x" }), { code: 0, stdout: "Usage: x" });
    });

    it("must print a usage error's message and the usage, exit 2", () => {
        assert.deepEqual(reportError(new UsageError("--n must be a number."), { usage: "Usage: x" }), {
            code: 2,
            stderr: "--n must be a number.\n\nUsage: x",
        });
    });

    for (const name of ["StackConfigError", "StackFileError", "ProgramError", "LocalRunError"]) {
        it(`must print a ${name}'s message alone, without its stack, exit 1 (matched by name)`, () => {
            assert.deepEqual(reportError(named(name, "Pulumi.dev.yaml: line 3: duplicate key a"), { stack: true }), {
                code: 1,
                stderr: "Pulumi.dev.yaml: line 3: duplicate key a",
            });
        });
    }

    it("must name an unknown flag with the nearest valid one, when one is near", () => {
        const options = { scenario: { type: "string" }, "time-scale": { type: "string" } } as const;
        const refusal = (args: string[]) => {
            try {
                parseFlags({ args, options, strict: true });
            } catch (error) {
                return error instanceof UsageError ? error.message : `not a usage error: ${String(error)}`;
            }
            return "accepted";
        };
        assert.equal(refusal(["--scenrio", "x"]), "Unknown option '--scenrio': did you mean `--scenario`?");
        assert.equal(refusal(["--timescale", "5"]), "Unknown option '--timescale': did you mean `--time-scale`?");
        assert.equal(refusal(["--bogus"]), "Unknown option '--bogus'.");
        assert.equal(refusal(["--scenario"]), "Option '--scenario <value>' argument missing");
    });

    it("must keep an unexpected error's stack when asked", () => {
        const error = new TypeError("x is undefined");
        assert.deepEqual(reportError(error, { stack: true }), { code: 1, stderr: error.stack });
        assert.deepEqual(reportError(error), { code: 1, stderr: "TypeError: x is undefined" });
    });
});

describe("scripts/progress.ts", () => {
    const stream = (isTTY: boolean) => {
        const written: string[] = [];
        return { written, isTTY, write: (text: string) => written.push(text) > 0 };
    };

    it("must write one line per stage and no steps when stderr is not a terminal", () => {
        const out = stream(false);
        const progress = new Progress("bench", out);
        progress.stage("round 1");
        progress.step(1, 2);
        progress.step(2, 2);
        progress.stage("round 2");
        progress.end("done");
        assert.equal(out.written.join(""), "bench: round 1…\nbench: round 2…\nbench: done\n");
    });

    it("must update the stage's line in place with a bar on a terminal", () => {
        const out = stream(true);
        const progress = new Progress("bench", out);
        progress.stage("round 1");
        progress.step(1, 2);
        progress.end();
        assert.equal(
            out.written.join(""),
            `bench: round 1…\r\x1b[Kbench: round 1… [${"#".repeat(10)}${"-".repeat(10)}] 1/2\n`,
        );
    });
});
