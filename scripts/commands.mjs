// The npm scripts that run in stages, each one entry so that --help reaches it before anything runs:
//
//   node scripts/commands.mjs build|start|bench|preview|deploy|check-config|release-check [args]  (package.json's scripts)
//
// `--help` or `-h` (before any `--`) prints the command's usage on stdout and exits 0: nothing is built
// or run. Otherwise the build runs stage by stage, saying so on stderr (`build: type-checking…`), then
// the command itself. Only the command's result goes to stdout: the build's output goes to stderr when
// it is a step of another command, so `npm start --silent -- --json` prints one JSON document.
// A stage that fails stops the chain (exit 1); the command's own exit code is the chain's.
//
// Plain JavaScript: it runs before tsc has compiled anything. The usages of start, preview/deploy,
// check-config and release-check are those of local/cli.ts, scripts/pulumi.ts, scripts/check-config.ts and
// scripts/release-check.ts (tests/commands.test.ts checks they are the same).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { constants } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

/** local/cli.ts's SCENARIOS, name → about. */
const SCENARIOS = {
    approve: "the worker approves: SendTaskSuccess → Notify Success → SUCCEEDED",
    reject: "the worker rejects: SendTaskFailure (Callback.Rejected) → Notify Failure → FAILED",
    timeout: "no worker answers: the heartbeat or the task timeout fails it → Notify Failure → FAILED",
    poison: "the message has no task token: no heartbeat, redelivered until the DLQ; the task times out → FAILED",
    backlog: "the worker starts 1.5 visibility timeouts late: its beat on receive keeps the task alive → SUCCEEDED",
    crash: "the worker crashes on its first receive: redelivered one visibility timeout later → SUCCEEDED",
    hung: "Step Functions never answers the worker's first call: it times out, the SDK retries → SUCCEEDED",
    "human-approval":
        "a person decides in a browser, from the link printed: Approve → Notify Success → SUCCEEDED; Reject → Notify Failure → FAILED (Approval.Rejected); nobody → States.Timeout",
};

const HELP = "  -h, --help    print this usage";

const PULUMI_USAGE = `Usage: npm run preview -- --stack NAME [--policy-pack-config FILE] [-- extra pulumi args]
       npm run deploy -- --stack NAME [--policy-pack-config FILE] [-- extra pulumi args]
Builds, then runs \`pulumi preview --diff\` (preview) or \`pulumi up\` (deploy) on a stack with the
policy pack in policy/. Needs the Pulumi CLI (exit 127 without it); exits with its code, 2 on bad
arguments. (Without the build: node build/scripts/pulumi.js preview|deploy ...)
Options:
  --stack NAME                 the stack, configured by Pulumi.<NAME>.yaml (dev, prod)
  --policy-pack-config FILE    the policy pack's configuration (see policy/config.example.json)
  -- ARGS                      passed to pulumi as they are, such as -- --yes
  -h, --help                   print this usage`;

const USAGE = {
    build: `Usage: npm run build
Writes the README's TypeScript examples to tests/readme-examples/, type-checks and compiles everything
with tsc to build/ (the Pulumi program is build/index.js), then bundles the worker to
dist/callback-handler/ and the policy pack to policy/bin/index.js. The bundles are listed on stdout,
each stage on stderr. Exit 1 when a stage fails.
Options:
${HELP}`,
    start: `Usage: npm start -- [--scenario NAME] [--input JSON] [--expect OUTCOME] [--timeout-seconds N] [--time-scale N] [--stack NAME] [--json]
       npm start -- --serve [--stack NAME]
Runs one execution of the callback flow offline (a local harness; production runs on AWS) and prints
its trace. Exit 0 when it ends as expected, 1 when it does not or the stack's configuration is
invalid, 2 on bad flags. The expected outcome follows the input: FAILED (Input.NotAnObject) for one that
is not an object; with the default worker, FAILED (Callback.Rejected) for {"decision": "reject"} and
SUCCEEDED otherwise; the no-answer scenarios fail at the heartbeat or the timeout. --expect overrides it.
Scenarios:
${Object.entries(SCENARIOS)
    .map(([name, about]) => `  ${name.padEnd(14)} ${about}`)
    .join("\n")}
The stack's own settings apply; the harness's clock runs --time-scale times faster (default per
scenario: 1 for approve, reject and human-approval, 10 for hung, 100 for the others). The trace shows
stack time.
human-approval renders the stack with approvers (its own, else approver@example.com, without the
heartbeatSeconds and workerEntry approvers exclude), runs the approval requester as the program bundles
it and serves the approval page on 127.0.0.1, with DynamoDB, SNS and Secrets Manager fakes. It prints
the notification each approver would get, then its link on a line of its own, "approval link: URL" (on
stderr with --json). Open the link in a browser and click Approve or Reject (a comment is optional).
The expected outcome is the path of the decision, known once it is made: SUCCEEDED on Approve,
FAILED (Approval.Rejected) with the comment as the cause on Reject. Nobody deciding within
--timeout-seconds (default 300, or the least the stack's retry settings allow: 750 on dev) ends in
States.Timeout, exit 1.
Options:
  --scenario NAME        the scenario to run (default approve)
  --input JSON           the execution input (default the scenario's)
  --expect OUTCOME       the outcome expected: succeeded, failed or timed_out, optionally :ERROR (failed:Callback.Rejected)
  --timeout-seconds N    re-render the definition with this taskTimeoutSeconds (checked like the stack's);
                         for human-approval, how long the approvers have
  --time-scale N         run the harness's clock N times faster than the wall clock (1 to 10000)
  --stack NAME           the stack whose Pulumi.<NAME>.yaml configures the definition (default dev)
  --json                 print one JSON report on stdout instead of the trace
  --serve                keep the loopback Step Functions endpoint up for scripts/smoke.ts (Ctrl-C stops it)
  -h, --help             print this usage`,
    bench: `Usage: npm run bench -- [--only worker|program|policy|approval]
Builds, then measures the worker as deployed beside release 0.1.0's worker, the classic example's handler
and a naive bundle, in interleaved rounds on the Lambda runtime's Node.js (build/bench/worker.js), then
program evaluation per resource (build/bench/program.js), then the policy pack per resource on stacks of
1 to 300 workflows, each run in a fresh process (build/bench/policy.js), then the approval requester's and
page's bundles and the page's requests on loopback fakes (build/bench/approval.js). The tables go to stdout
and build/bench-*.md, each stage to stderr. About four minutes; the policy stage alone, about one.
Options:
  --only STAGE  run one stage: worker, program, policy or approval
${HELP}`,
    preview: PULUMI_USAGE,
    deploy: PULUMI_USAGE,
    "check-config": `Usage: npm run check-config -- --stack <name> [--file PATH] [--today YYYY-MM-DD]
Checks Pulumi.<name>.yaml by the Pulumi CLI's config rules and the program's own, offline.
  --stack NAME   the stack (dev, prod, or org/NAME); its file must exist
  --file PATH    read the stack's configuration from PATH instead of Pulumi.<name>.yaml
  --today DAY    judge Lambda runtime deprecation as of this day (default: today)
Exit 0 valid, 1 with problems (listed on stderr), 2 bad usage.`,
    "release-check": `Usage: npm run release-check -- [--tag vX.Y.Z] [--on-branch REF] [--repository URL] [--for-publish] [--github-output FILE]
Checks that a tag can be released: it is v<semver> and package.json's version, CHANGELOG.md has a
section for that version, and what the options add. Prints the version and its npm dist-tag (next for
a pre-release, latest otherwise). Exit 0 releasable, 1 with problems (listed on stderr), 2 bad usage.
Options:
  --tag TAG              the tag to release (default v<package.json's version>)
  --on-branch REF        the tagged commit (HEAD) must be on REF, such as origin/main
  --repository URL       package.json's repository.url must be this repository (npm's provenance check)
  --for-publish          the npm and Node.js running this must support trusted publishing
  --github-output FILE   also append version=, dist-tag= and prerelease= lines to FILE ($GITHUB_OUTPUT)
  --dir DIR              the package to check (default this repository)
  -h, --help             print this usage`,
};

const OWN_USAGE = `Usage: node scripts/commands.mjs ${Object.keys(USAGE).join("|")} [args]
The package scripts that build first (npm run build, npm start, npm run bench, npm run preview,
npm run deploy, npm run check-config, npm run release-check). \`node scripts/commands.mjs COMMAND --help\` prints a command's usage.`;

/** The child running now, to pass a SIGTERM on to. */
let current;
/** Whether Ctrl-C was pressed: the chain stops after the running stage. */
let interrupted = false;

/**
 * Runs `node <args>` in the repository; resolves to its exit code (128 + the signal's number when a
 * signal ended it). `stdout: "stderr"` sends what it prints on stdout to stderr.
 */
function node(args, { stdout = "inherit" } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, {
            cwd: ROOT,
            stdio: ["inherit", stdout === "stderr" ? 2 : "inherit", "inherit"],
        });
        current = child;
        child.once("error", reject);
        child.once("exit", (code, signal) => {
            current = undefined;
            resolve(code ?? 128 + (constants.signals[signal] ?? 0));
        });
    });
}

class StageFailed extends Error {
    constructor(message, code) {
        super(message);
        this.code = code;
    }
}

async function stage(what, args, options) {
    if (what !== undefined) {
        console.error(`build: ${what}…`);
    }
    const code = await node(args, options);
    if (interrupted) {
        throw new StageFailed("build: interrupted.", 130);
    }
    if (code !== 0) {
        throw new StageFailed(`build: ${what ?? "bundling"} failed (exit ${code}).`, 1);
    }
}

/** The build's stages; `asStep`: as a step of another command, everything it prints goes to stderr. */
async function build({ asStep }) {
    const started = performance.now();
    await stage("writing the README's TypeScript examples to tests/readme-examples/", [
        path.join(ROOT, "scripts", "readme-examples.mjs"),
    ]);
    // tsc reports type errors on stdout: they are not the build's result.
    await stage("type-checking and compiling to build/ (tsc)", [TSC, "-p", "."], { stdout: "stderr" });
    // build.js says what it bundles (on stderr) and lists the files (on stdout, its result).
    await stage(undefined, [path.join(ROOT, "build", "scripts", "build.js")], {
        stdout: asStep ? "stderr" : "inherit",
    });
    console.error(`build: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function asksForHelp(args) {
    const separator = args.indexOf("--");
    return (separator >= 0 ? args.slice(0, separator) : args).some((arg) => arg === "--help" || arg === "-h");
}

/** The bench's stages, in the order they run: their entries in build/bench/. */
const BENCH_STAGES = { worker: "worker.js", program: "program.js", policy: "policy.js", approval: "approval.js" };

/**
 * The options of build and bench (build takes none but --help, bench `--only STAGE`), or undefined
 * after printing what is wrong and the usage.
 */
function ownOptions(command, args) {
    const options = { help: { type: "boolean", short: "h" } };
    if (command === "bench") {
        options.only = { type: "string" };
    }
    try {
        const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
        if (values.only !== undefined && !Object.hasOwn(BENCH_STAGES, values.only)) {
            throw new Error(
                `--only must be one of ${Object.keys(BENCH_STAGES).join(", ")} (got ${JSON.stringify(values.only)}).`,
            );
        }
        return values;
    } catch (error) {
        console.error(`${error.message}\n\n${USAGE[command]}`);
        return undefined;
    }
}

async function main([command, ...args]) {
    if (command === "--help" || command === "-h") {
        console.log(OWN_USAGE);
        return 0;
    }
    if (!Object.hasOwn(USAGE, command ?? "")) {
        console.error(`Unknown command ${JSON.stringify(command)}.\n\n${OWN_USAGE}`);
        return 2;
    }
    if (asksForHelp(args)) {
        console.log(USAGE[command]);
        return 0;
    }
    const options = command === "build" || command === "bench" ? ownOptions(command, args) : {};
    if (options === undefined) {
        return 2;
    }
    try {
        if (command === "check-config" || command === "release-check") {
            // Only the compiled scripts are needed, not the bundles.
            await stage("type-checking and compiling to build/ (tsc)", [TSC, "-p", "."], { stdout: "stderr" });
        } else {
            await build({ asStep: command !== "build" });
        }
    } catch (error) {
        if (error instanceof StageFailed) {
            console.error(error.message);
            return error.code;
        }
        throw error;
    }
    switch (command) {
        case "build":
            return 0;
        case "start":
            return node([path.join(ROOT, "build", "local", "cli.js"), ...args]);
        case "check-config":
            return node([path.join(ROOT, "build", "scripts", "check-config.js"), ...args]);
        case "release-check":
            return node([path.join(ROOT, "build", "scripts", "release-check.js"), ...args]);
        case "bench":
            for (const [name, entry] of Object.entries(BENCH_STAGES)) {
                if (options.only !== undefined && options.only !== name) {
                    continue;
                }
                const code = await node([path.join(ROOT, "build", "bench", entry)]);
                if (code !== 0 || interrupted) {
                    return code;
                }
            }
            return 0;
        default:
            return node([path.join(ROOT, "build", "scripts", "pulumi.js"), command, ...args]);
    }
}

// Ctrl-C reaches every process of the terminal's group: the running stage handles it (npm start --serve
// stops its endpoint), and this process waits for it to end, then stops. A SIGTERM sent to this process
// alone is passed on.
process.on("SIGINT", () => {
    interrupted = true;
    if (current === undefined) {
        process.exit(130);
    }
});
process.on("SIGTERM", () => {
    if (current === undefined) {
        process.exit(143);
    }
    current.kill("SIGTERM");
});

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (error) => {
        console.error(error);
        process.exitCode = 1;
    },
);
