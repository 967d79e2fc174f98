#!/usr/bin/env node
/**
 * `npm run test:package`: the package as another team gets it. Builds and packs this repository, installs the tarball into a new project in a temporary folder beside the peers it asks
 * for (from npm's cache when this repository's `npm ci` filled it), then, in that project:
 * - type-checks a program that imports `callback-workflow`, `callback-workflow/worker` and
 *   `callback-workflow/policy` with `module: node16` (the `exports` map is honoured) and, for the
 *   component and the worker, `skipLibCheck: false` (the shipped declarations and what they import must
 *   compile; the policy entry with skipLibCheck, as @pulumi/policy's own declarations need, and
 *   without it, where the only errors are in those declarations);
 * - runs it under Pulumi's mocked runtime: importing registers nothing, a `CallbackWorkflow` registers
 *   its resources, and `npm ls` finds one `@pulumi/pulumi` and one `@pulumi/aws`;
 * - records a component of its own with `recordProgram` and judges it with `runPolicies` from
 *   `callback-workflow/policy`, deployed and in preview, with a config: the expected verdicts, and no
 *   Pulumi runtime started by the import;
 * - bundles a worker of its own with esbuild from the installed worker SDK;
 * - installs the tarball into a copy of examples/orders (its own package.json and Pulumi.yaml),
 *   type-checks it with its own tsconfig (`skipLibCheck: false`) and runs its program under the mocked
 *   runtime: two channels, each with its own worker bundled from the project's directory, one workflow;
 * - runs that project's workflow offline with the installed command, `callback-workflow-local` (its
 *   program under mocks, each worker bundled as the program bundles it, in a Lambda-like process), on
 *   an order that succeeds and one that fails, and runs a consumer's own workflow the same way;
 *   type-checks a script that calls `runLocally` from `callback-workflow/local`.
 * Then runs the slow tests kept out of `npm test`: tests/*.slow-test.ts (the plugin as the Pulumi
 * language host runs it, from a fresh checkout that builds itself; the fast ASL validator against
 * asl-validator as published over the whole corpus of definitions).
 * Exits 0 when all holds; prints what failed and exits 1 otherwise. Keeps the folder with `--keep`.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { clearTimeout, setTimeout } from "node:timers";
import { cpSync, readdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const keep = process.argv.includes("--keep");
if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(`Usage: npm run test:package [-- --keep]
Packs this repository, installs the tarball into a new project and checks it there.
Options:
  --keep        keep the temporary project and print its path
  -h, --help    print this usage`);
    process.exit(0);
}

const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const npmCli = process.env.npm_execpath?.endsWith(".js") ? process.env.npm_execpath : undefined;
const npm = (args, cwd) =>
    npmCli === undefined
        ? execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
        : execFileSync(process.execPath, [npmCli, ...args], {
              cwd,
              encoding: "utf8",
              stdio: ["ignore", "pipe", "inherit"],
          });
const step = (what) => console.error(`test:package: ${what}`);

const dir = mkdtempSync(path.join(tmpdir(), "callback-workflow-consumer-"));
let failed = false;
try {
    step("building, then packing…");
    // The build lists the files it writes on stdout: keep them out of npm pack's JSON.
    process.stderr.write(npm(["run", "build", "--silent"], ROOT));
    const [packed] = JSON.parse(
        npm(["pack", "--json", "--ignore-scripts", "--pack-destination", dir, "--loglevel=error"], ROOT),
    );
    const tarball = path.join(dir, packed.filename);
    step(`${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(0)} kB`);

    const project = path.join(dir, "consumer");
    mkdirSync(project);
    writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify(
            {
                name: "consumer",
                private: true,
                main: "build/index.js",
                dependencies: {
                    "@pulumi/aws": pkg.devDependencies["@pulumi/aws"],
                    "@pulumi/pulumi": pkg.devDependencies["@pulumi/pulumi"],
                    [pkg.name]: `file:${tarball}`,
                },
                devDependencies: {
                    "@types/node": pkg.devDependencies["@types/node"],
                    typescript: pkg.devDependencies.typescript,
                },
            },
            null,
            2,
        ),
    );
    writeFileSync(
        path.join(project, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: {
                target: "ES2022",
                module: "node16",
                moduleResolution: "node16",
                strict: true,
                skipLibCheck: false,
                outDir: "build",
                types: ["node"],
            },
            include: ["index.ts", "worker.ts", "program.ts", "local.ts"],
        }),
    );
    // @pulumi/policy's published index.d.ts does not compile without skipLibCheck (its proxy.d.ts is
    // empty), so the policy entry compiles as Pulumi's TypeScript templates do, skipLibCheck on; and is
    // checked once more without it, where the only errors allowed are in @pulumi/policy's declarations.
    writeFileSync(
        path.join(project, "tsconfig.policy.json"),
        JSON.stringify({
            extends: "./tsconfig.json",
            compilerOptions: { skipLibCheck: true },
            include: ["policy.ts"],
        }),
    );
    writeFileSync(
        path.join(project, "tsconfig.policy-strict.json"),
        JSON.stringify({
            extends: "./tsconfig.json",
            compilerOptions: { skipLibCheck: false, noEmit: true },
            include: ["policy.ts"],
        }),
    );
    // The consumer's own program judged by the shipped runner, as the README shows: a component of its
    // own with a CallbackWorkflow (which passes) and a queue without a dead-letter queue (which does not).
    writeFileSync(
        path.join(project, "policy.ts"),
        `import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CallbackWorkflow } from "${pkg.name}";
import { policies, recordProgram, runPolicies, type PolicyRun } from "${pkg.name}/policy";

// Importing the entry started no Pulumi runtime (no monitor, no mocks).
const settings = require("@pulumi/pulumi/runtime/settings") as { hasMonitor(): boolean };
const runtimeOnImport = settings.hasMonitor();

class Orders extends pulumi.ComponentResource {
    constructor(name: string, withOrphan: boolean, opts?: pulumi.ComponentResourceOptions) {
        super("consumer:index:Orders", name, {}, opts);
        new CallbackWorkflow(name, { workerEntry: path.resolve(__dirname, "..", "worker.ts") }, { parent: this });
        if (withOrphan) {
            new aws.sqs.Queue(\`\${name}-orphan\`, { sqsManagedSseEnabled: true }, { parent: this });
        }
        this.registerOutputs({});
    }
}

const verdict = ({ violations, undecided }: PolicyRun) => ({
    violations: violations.map((v) => \`\${v.level} \${v.policy} \${v.urn?.split("::").pop() ?? ""}\`),
    undecided: [...new Set(undecided.map((u) => u.level))],
});

async function main(): Promise<void> {
    const deployed = await recordProgram(() => void new Orders("orders", true), { stack: "dev" });
    const preview = await recordProgram(() => void new Orders("orders", true), { stack: "dev", preview: true });
    const clean = await recordProgram(() => void new Orders("orders", false), { stack: "dev" });
    console.log(
        JSON.stringify({
            policies: policies.length,
            runtimeOnImport,
            resources: deployed.resources.length,
            deployed: verdict(await runPolicies(deployed)),
            preview: verdict(await runPolicies(preview)),
            relaxed: verdict(await runPolicies(deployed, { config: { "sqs-queue-has-dlq": "advisory", all: "disabled" } })),
            clean: verdict(await runPolicies(clean)),
        }),
    );
}
main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
`,
    );
    writeFileSync(
        path.join(project, "worker.ts"),
        `import { createCallbackHandler, TaskFailedError, type CallbackProcessor } from "${pkg.name}/worker";

const processor: CallbackProcessor = async (message) => {
    if (message.Input === undefined) {
        throw new TaskFailedError("Order.Empty", "the order has no input");
    }
    return { checked: true };
};
export const handler = createCallbackHandler({ processor });
`,
    );
    writeFileSync(
        path.join(project, "index.ts"),
        `import * as pulumi from "@pulumi/pulumi";

let registered = 0;
const types: string[] = [];
pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            registered += 1;
            types.push(args.type);
            return { id: \`\${args.name}-id\`, state: { ...args.inputs, arn: \`arn:aws:mock:::\${args.name}\` } };
        },
        call: (args) =>
            args.token === "aws:index/getCallerIdentity:getCallerIdentity"
                ? { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/mock", userId: "mock" }
                : args.token === "aws:index/getRegion:getRegion"
                  ? { name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" }
                  : args.token === "aws:index/getPartition:getPartition"
                    ? { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }
                    : args.inputs,
    },
    "consumer",
    "test",
    false,
);

async function main(): Promise<void> {
    const library = await import("${pkg.name}");
    if (registered !== 0) {
        throw new Error(\`importing the library registered \${registered} resources\`);
    }
    // As the README shows: a worker of the consumer's own, by absolute path.
    const workflow = new library.CallbackWorkflow("orders", {
        workerEntry: require("node:path").resolve(__dirname, "..", "worker.ts"),
    });
    const arn = await new Promise<string>((resolve) => workflow.stateMachineArn.apply(resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    console.log(JSON.stringify({ registered, arn, types: [...new Set(types)].sort() }));
}
main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
`,
    );

    // A program as the consumer deploys it (no mocks of its own), for the local harness.
    writeFileSync(
        path.join(project, "program.ts"),
        `import * as path from "node:path";
import { CallbackWorkflow } from "${pkg.name}";

const orders = new CallbackWorkflow("orders", { workerEntry: path.resolve(__dirname, "..", "worker.ts") });
export const stateMachineArn = orders.stateMachineArn;
`,
    );
    writeFileSync(
        path.join(project, "local.ts"),
        `import { runLocally, type LocalRunReport } from "${pkg.name}/local";

export async function check(): Promise<LocalRunReport> {
    const report = await runLocally({ program: "build/program.js", workflow: "orders", input: { order: 1 } });
    if (!report.asExpected) {
        throw new Error(\`\${report.status} \${report.error ?? ""}: \${report.cause ?? ""}\`);
    }
    return report;
}
`,
    );

    step("installing the tarball and its peers (prefer npm's cache)…");
    npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], project);

    step("type-checking the consumer against the shipped declarations (skipLibCheck: false)…");
    execFileSync(process.execPath, [path.join(project, "node_modules/typescript/bin/tsc"), "-p", project], {
        cwd: project,
        stdio: "inherit",
    });
    execFileSync(
        process.execPath,
        [path.join(project, "node_modules/typescript/bin/tsc"), "-p", path.join(project, "tsconfig.policy.json")],
        { cwd: project, stdio: "inherit" },
    );
    const strict = spawnSync(
        process.execPath,
        [
            path.join(project, "node_modules/typescript/bin/tsc"),
            "-p",
            path.join(project, "tsconfig.policy-strict.json"),
            "--pretty",
            "false",
        ],
        { cwd: project, encoding: "utf8" },
    );
    const errors = `${strict.stdout}${strict.stderr}`.split("\n").filter((line) => /: error TS\d+:/.test(line));
    const ours = errors.filter((line) => !line.startsWith("node_modules/@pulumi/policy/"));
    if (ours.length > 0 || (strict.status !== 0 && errors.length === 0)) {
        throw new Error(
            `callback-workflow/policy's declarations do not compile without skipLibCheck:\n${ours.join("\n")}${strict.stdout}`,
        );
    }
    step(
        `callback-workflow/policy without skipLibCheck: ${errors.length} error(s), all in @pulumi/policy's own declarations`,
    );
    step("judging the consumer's own program with callback-workflow/policy's runner, deployed and in preview…");
    const judged = JSON.parse(
        execFileSync(process.execPath, ["build/policy.js"], { cwd: project, encoding: "utf8", timeout: 120_000 }),
    );
    const expected = {
        runtimeOnImport: false,
        // The orphan queue breaks the mandatory DLQ policy, and has no TLS-only policy (advisory).
        deployed: {
            violations: ["mandatory sqs-queue-has-dlq orders-orphan", "advisory sqs-tls-only orders-orphan"],
            undecided: [],
        },
        // In preview the same is known; what depends on computed values is left undecided, as advisories.
        preview: {
            violations: ["mandatory sqs-queue-has-dlq orders-orphan", "advisory sqs-tls-only orders-orphan"],
            undecided: ["advisory"],
        },
        // The policy's own level wins over all's.
        relaxed: { violations: ["advisory sqs-queue-has-dlq orders-orphan"], undecided: [] },
        clean: { violations: [], undecided: [] },
    };
    for (const [key, value] of Object.entries(expected)) {
        if (JSON.stringify(judged[key]) !== JSON.stringify(value)) {
            throw new Error(
                `callback-workflow/policy judged the consumer's program: ${key} is ${JSON.stringify(judged[key])}, expected ${JSON.stringify(value)}`,
            );
        }
    }
    step(
        `callback-workflow/policy: ${judged.policies} policies over ${judged.resources} resources: ${judged.deployed.violations.join(", ")}`,
    );

    step(
        "starting the pack the package ships, as `pulumi preview --policy-pack node_modules/callback-workflow/policy` does…",
    );
    await startsAnalyzer(path.join(project, "node_modules", pkg.name, "policy"));

    step("one copy of the Pulumi SDK and of the AWS provider…");
    for (const peer of ["@pulumi/pulumi", "@pulumi/aws"]) {
        const tree = JSON.parse(npm(["ls", peer, "--all", "--json"], project));
        const versions = new Set();
        const walk = (node) => {
            for (const [name, child] of Object.entries(node.dependencies ?? {})) {
                if (name === peer) versions.add(child.version);
                walk(child);
            }
        };
        walk(tree);
        if (versions.size !== 1) {
            throw new Error(`${peer}: ${versions.size} copies in the consumer (${[...versions].join(", ")})`);
        }
    }

    step("running the consumer's program under the mocked runtime…");
    const out = JSON.parse(
        execFileSync(process.execPath, ["build/index.js"], { cwd: project, encoding: "utf8", timeout: 120_000 }),
    );
    for (const type of ["aws:sqs/queue:Queue", "aws:lambda/function:Function", "aws:sfn/stateMachine:StateMachine"]) {
        if (!out.types.includes(type)) {
            throw new Error(`the consumer's CallbackWorkflow registered no ${type}: ${out.types.join(", ")}`);
        }
    }
    step(`the workflow registered ${out.registered} resources; state machine ${out.arn}`);

    step("bundling the consumer's own worker from the installed worker SDK…");
    const { build } = await import(
        path.join(project, "node_modules", pkg.name, "node_modules/esbuild/lib/main.js")
    ).catch(() => import(path.join(project, "node_modules/esbuild/lib/main.js")));
    const result = await build({
        absWorkingDir: project,
        entryPoints: [path.join(project, "worker.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node22",
        write: false,
        logLevel: "silent",
    });
    const bytes = result.outputFiles.reduce((n, f) => n + f.contents.length, 0);
    step(`worker bundle: ${(bytes / 1024).toFixed(0)} kB`);
    step("running the consumer's workflow offline with callback-workflow-local…");
    const local = JSON.parse(
        execFileSync(
            path.join(project, "node_modules", ".bin", "callback-workflow-local"),
            ["build/program.js", "--workflow", "orders", "--input", '{"order": 1}', "--json"],
            { cwd: project, encoding: "utf8", timeout: 120_000 },
        ),
    );
    if (local.status !== "SUCCEEDED" || JSON.stringify(local.output) !== '{"checked":true}') {
        throw new Error(
            `callback-workflow-local: ${local.status} ${local.error ?? ""} ${JSON.stringify(local.output)}`,
        );
    }
    step(`callback-workflow-local: ${local.status} in ${local.durationMs} ms, output ${JSON.stringify(local.output)}`);

    await exampleProject(tarball);
    console.log("test:package: the packed tarball works in a consumer project");
    step("the slow tests (build/tests/*.slow-test.js)…");
    const slow = readdirSync(path.join(ROOT, "build", "tests"))
        .filter((file) => file.endsWith(".slow-test.js"))
        .map((file) => path.join(ROOT, "build", "tests", file));
    execFileSync(
        process.execPath,
        [path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js"), "--no-config", "--timeout", "120000", ...slow],
        { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
    );
} catch (error) {
    failed = true;
    console.error(`test:package: FAILED: ${error instanceof Error ? error.message : String(error)}`);
} finally {
    if (keep) {
        console.error(`test:package: kept ${dir}`);
    } else {
        rmSync(dir, { recursive: true, force: true });
    }
}
process.exit(failed ? 1 : 0);

/**
 * examples/orders as its reader gets it: the project copied, the package installed from the tarball
 * (the peers from its own package.json), type-checked with its own tsconfig, and its program run from
 * the project's directory under Pulumi's mocked runtime.
 */
/**
 * Starts the policy pack in `dir` as the Pulumi CLI does (its `main` under Node, from its directory): the
 * analyzer prints the port of its gRPC server on stdout once every policy module has loaded, its npm
 * dependencies resolved from the consumer's node_modules. Resolves when it does; rejects on an exit or
 * after 60 s.
 */
function startsAnalyzer(dir) {
    const main = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).main;
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [main], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
            child.kill();
            reject(new Error(`the shipped policy pack printed no port in 60 s:\n${stderr}`));
        }, 60_000);
        child.stdout.on("data", (chunk) => {
            stdout += chunk;
            if (/^\d+\s*$/m.test(stdout)) {
                clearTimeout(timer);
                child.kill();
                step(`the shipped policy pack serves on port ${stdout.trim()}`);
                resolve();
            }
        });
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("exit", (code) => {
            clearTimeout(timer);
            if (!/^\d+\s*$/m.test(stdout)) {
                reject(new Error(`the shipped policy pack exited (${code}) before serving:\n${stderr}`));
            }
        });
    });
}

async function exampleProject(tarball) {
    const project = path.join(dir, "orders");
    step("examples/orders: copying the project and installing the tarball into it…");
    cpSync(path.join(ROOT, "examples", "orders"), project, {
        recursive: true,
        filter: (src) => !/[\\/](node_modules|bin)([\\/]|$)/.test(path.relative(ROOT, src)),
    });
    const manifest = JSON.parse(readFileSync(path.join(project, "package.json"), "utf8"));
    manifest.dependencies[pkg.name] = `file:${tarball}`;
    writeFileSync(path.join(project, "package.json"), JSON.stringify(manifest, null, 2));
    npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], project);
    step("examples/orders: type-checking with its own tsconfig (skipLibCheck: false)…");
    execFileSync(process.execPath, [path.join(project, "node_modules/typescript/bin/tsc"), "-p", project], {
        cwd: project,
        stdio: "inherit",
    });
    writeFileSync(
        path.join(project, "run-mocked.js"),
        `const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            registered.push({ type: args.type, name: args.name, inputs: args.inputs });
            return { id: \`\${args.name}-id\`, state: { ...args.inputs, name: \`\${args.name}-0a1b2c3\`, arn: \`arn:aws:mock:::\${args.name}\` } };
        },
        call: (args) =>
            args.token === "aws:index/getCallerIdentity:getCallerIdentity"
                ? { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/mock", userId: "mock" }
                : args.token === "aws:index/getRegion:getRegion"
                  ? { name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" }
                  : args.token === "aws:index/getPartition:getPartition"
                    ? { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }
                    : args.inputs,
    },
    "orders",
    "dev",
    false,
);
const program = require("./bin/index.js");
program.stateMachineArn.apply(async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const machine = registered.find((r) => r.type === "aws:sfn/stateMachine:StateMachine");
    console.log(
        JSON.stringify({
            components: registered.filter((r) => r.type.startsWith("callback:")).map((r) => \`\${r.type} \${r.name}\`),
            workers: registered.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.name),
            grants: registered.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.endsWith("-answer")).map((r) => r.name),
            definition: machine ? JSON.parse(machine.inputs.definition) : null,
        }),
    );
});
`,
    );
    step("examples/orders: running its program from its directory under the mocked runtime…");
    const out = JSON.parse(
        execFileSync(process.execPath, ["run-mocked.js"], { cwd: project, encoding: "utf8", timeout: 120_000 }),
    );
    const want = {
        components: [
            "callback:index:CallbackChannel credit",
            "callback:index:CallbackChannel stock",
            "callback:index:Workflow orders",
        ],
        workers: ["credit-worker", "stock-worker"],
        grants: ["orders.credit-answer", "orders.stock-answer"],
    };
    for (const [key, value] of Object.entries(want)) {
        if (JSON.stringify([...out[key]].sort()) !== JSON.stringify(value)) {
            throw new Error(
                `examples/orders registered ${key} ${JSON.stringify(out[key])}, expected ${JSON.stringify(value)}`,
            );
        }
    }
    const states = Object.keys(out.definition?.States ?? {});
    if (!states.includes("Check credit and reserve stock") || !states.includes("Pick each item")) {
        throw new Error(`examples/orders rendered a definition without its Parallel and Map: ${states.join(", ")}`);
    }
    step(
        `examples/orders: ${out.components.length} components, workers ${out.workers.join(", ")}, ${states.length} states`,
    );

    // The example's workflow offline, as its README tells a consumer to run it: both workers answer.
    const runLocal = (input, expect) => {
        const ran = spawnSync(
            path.join(project, "node_modules", ".bin", "callback-workflow-local"),
            [
                "bin/index.js",
                "--workflow",
                "orders",
                "--input",
                JSON.stringify(input),
                "--expect",
                expect,
                "--time-scale",
                "100",
                "--json",
            ],
            { cwd: project, encoding: "utf8", timeout: 120_000 },
        );
        if (ran.status !== 0) {
            throw new Error(
                `examples/orders: callback-workflow-local --expect ${expect} exited ${ran.status}: ${ran.stderr}${ran.stdout.slice(0, 2000)}`,
            );
        }
        return JSON.parse(ran.stdout);
    };
    step("examples/orders: running its workflow offline with callback-workflow-local…");
    const items = [
        { sku: "sku-apple", quantity: 2 },
        { sku: "sku-pear", quantity: 1 },
    ];
    const good = runLocal({ orderId: "o-1", customerId: "c-1", total: 120, items }, "succeeded");
    if (
        JSON.stringify(good.output?.picked) !==
        JSON.stringify(items.map((i) => ({ picked: i.sku, quantity: i.quantity })))
    ) {
        throw new Error(`examples/orders: picked ${JSON.stringify(good.output?.picked)}`);
    }
    const short = runLocal(
        { orderId: "o-2", customerId: "c-1", total: 30, items: [{ sku: "sku-plum", quantity: 1 }] },
        "failed:Stock.Unavailable",
    );
    if (short.cause !== "Not enough in stock for order o-2: sku-plum.") {
        throw new Error(`examples/orders: the failed order's cause is ${JSON.stringify(short.cause)}`);
    }
    step(
        `examples/orders: SUCCEEDED in ${good.durationMs} ms; the short order FAILED (${short.error}): ${short.cause}`,
    );
}
