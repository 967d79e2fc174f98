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
 * - records an approval step of its own (an `ApprovalChannel` with a notifier module typed by and
 *   calling `callback-workflow/approval`, a `Workflow` with `waitForApproval`): the requester and the
 *   page bundled inside the consumer from the shipped `handlers/approval/` sources, the approval state,
 *   grants on that state machine only, no violation from the shipped runner, the notifier's post;
 * - bundles a worker of its own with esbuild from the installed worker SDK;
 * - installs the tarball into a copy of examples/orders (its own package.json and Pulumi.yaml),
 *   type-checks it with its own tsconfig (`skipLibCheck: false`) and runs its program under the mocked
 *   runtime with its dev stack's configuration: two channels, each with its own worker bundled from the
 *   project's directory, an approval channel (its approvers from the stack), one workflow;
 * - runs that project's workflow offline with the installed command, `callback-workflow-local` (its
 *   program under mocks, each worker bundled as the program bundles it, in a Lambda-like process), on
 *   an order that succeeds and one that fails, and runs a consumer's own workflow the same way;
 *   type-checks a script that calls `runLocally` from `callback-workflow/local`.
 * Then runs the slow tests kept out of `npm test`: tests/*.slow-test.ts (the plugin as the Pulumi
 * language host runs it, from a fresh checkout that builds itself; the fast ASL validator against
 * asl-validator as published over the whole corpus of definitions; the policy pack on the corpus of
 * other teams' programs and on malformed input).
 * Exits 0 when all holds; prints what failed and exits 1 otherwise. Keeps the folder with `--keep`.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { clearTimeout, setTimeout } from "node:timers";
import { cpSync, readdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
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
            include: ["index.ts", "worker.ts", "program.ts", "local.ts", "approval.ts", "notifier.ts"],
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
            include: ["policy.ts", "approval-check.ts"],
        }),
    );
    writeFileSync(
        path.join(project, "tsconfig.policy-strict.json"),
        JSON.stringify({
            extends: "./tsconfig.json",
            compilerOptions: { skipLibCheck: false, noEmit: true },
            include: ["policy.ts", "approval-check.ts"],
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
    // An approval step in a workflow of the consumer's own: an ApprovalChannel whose links go out through a
    // notifier of its own (typed by, and calling, callback-workflow/approval), bundled into the requester.
    writeFileSync(
        path.join(project, "notifier.ts"),
        `import { notificationText, type Notifier } from "${pkg.name}/approval";

/** Posts each approver's link to the team's chat, addressed to them. */
export const notifier: Notifier = async (notification) => {
    const response = await fetch(process.env["CHAT_WEBHOOK_URL"] ?? "", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ to: notification.approver, via: "consumer-chat-notifier", text: notificationText(notification) }),
    });
    if (!response.ok) {
        throw new Error(\`the chat webhook answered \${response.status}\`);
    }
};
`,
    );
    writeFileSync(
        path.join(project, "approval.ts"),
        `import { ApprovalChannel, Workflow } from "${pkg.name}";

/** Refunds: an approver decides each one from the page, told through the team's chat. */
export function refunds() {
    const approvals = new ApprovalChannel("refunds", {
        approvers: ["@alice", "@bob"],
        // Relative to the Pulumi program's directory, as a workerEntry.
        notifierEntry: "notifier.ts",
        notifierEnvironment: { CHAT_WEBHOOK_URL: "https://chat.example.com/hooks/refunds" },
    });
    const workflow = new Workflow("refunds", {
        definition: {
            StartAt: "Approve refund",
            States: {
                "Approve refund": approvals.waitForApproval({
                    title: "States.Format('Refund {} EUR to {}', $.amount, $.customerId)",
                    details: "$.reason",
                    timeoutSeconds: 3 * 86_400,
                    catch: [{ ErrorEquals: ["Approval.Rejected", "States.Timeout"], ResultPath: "$.error", Next: "Refund refused" }],
                    next: "Refunded",
                }),
                Refunded: { Type: "Succeed" },
                "Refund refused": { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
            },
        },
    });
    return { stateMachineArn: workflow.stateMachineArn, approvalPageUrl: approvals.pageUrl };
}
`,
    );
    // Records it (deployed and in preview), reads what it registered and judges it with the shipped runner;
    // then calls the notifier, as the requester does, against a webhook on loopback.
    writeFileSync(
        path.join(project, "approval-check.ts"),
        `import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type * as pulumi from "@pulumi/pulumi";
import { recordProgram, runPolicies, type ProgramRun } from "${pkg.name}/policy";
import { refunds } from "./approval";
import { notifier } from "./notifier";

const one = (run: ProgramRun, type: string, name: string) => {
    const found = run.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
        throw new Error(\`\${found.length} \${type} named \${name}\`);
    }
    return found[0]!;
};

/** A function's bundle: its index.mjs, and the sources its source map names. */
async function bundle(run: ProgramRun, name: string): Promise<{ text: string; sources: string[] }> {
    const code = one(run, "aws:lambda/function:Function", name).inputs["code"] as pulumi.asset.AssetArchive;
    const assets = (await code.assets) as Record<string, pulumi.asset.StringAsset>;
    const map = JSON.parse((await assets["index.mjs.map"]?.text) ?? "{}") as { sources?: string[] };
    return {
        text: (await assets["index.mjs"]?.text) ?? "",
        sources: (map.sources ?? []).filter((s) => s.includes("handlers/approval/") || s.endsWith("notifier.ts")),
    };
}

async function main(): Promise<void> {
    const deployed = await recordProgram(refunds, { stack: "dev" });
    const preview = await recordProgram(refunds, { stack: "dev", preview: true });
    const definition = JSON.parse(
        one(deployed, "aws:sfn/stateMachine:StateMachine", "refunds-state-machine").inputs["definition"] as string,
    ) as { States: Record<string, unknown> };
    const answers = deployed.resources
        .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && /-answer(-\\d+)?$/.test(r.name))
        .map((r) => ({ role: r.inputs["role"], statements: JSON.parse(r.inputs["policy"] as string).Statement }));

    const posted: unknown[] = [];
    const hook = createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            posted.push(JSON.parse(body));
            response.end("ok");
        });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    process.env["CHAT_WEBHOOK_URL"] = \`http://127.0.0.1:\${(hook.address() as AddressInfo).port}/\`;
    await notifier({
        approver: "@alice",
        title: "Refund 40 EUR to c-1",
        details: "Damaged in transit.",
        link: "https://page.example.com/abc?a=%40alice&e=1&k=k1&s=sig",
        expiresAt: "2030-01-01T00:00:00.000Z",
        requestedBy: "refunds (execution e-1)",
        approvalId: "abc",
    });
    hook.close();

    const verdict = async (run: ProgramRun) => {
        const { violations, undecided } = await runPolicies(run);
        return {
            violations: violations.map((v) => \`\${v.level} \${v.policy} \${v.urn?.split("::").pop() ?? ""}\`),
            undecided: undecided.length,
        };
    };
    console.log(
        JSON.stringify({
            components: deployed.resources.filter((r) => r.type.startsWith("callback:")).map((r) => \`\${r.type} \${r.name}\`),
            topics: deployed.resources.filter((r) => r.type === "aws:sns/topic:Topic").map((r) => r.name),
            subscriptions: deployed.resources.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription").length,
            state: definition.States["Approve refund"],
            machineArn: deployed.exports["stateMachineArn"],
            approvalPageUrl: deployed.exports["approvalPageUrl"],
            answers,
            requester: await bundle(deployed, "refunds-worker"),
            page: await bundle(deployed, "refunds-page"),
            posted,
            deployed: await verdict(deployed),
            preview: await verdict(preview),
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

    await approvalStep(project);

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
 * The consumer's approval step (approval.ts, approval-check.ts): an ApprovalChannel with a notifier of its
 * own and a Workflow with `waitForApproval`, from the installed package. The requester (with the notifier)
 * and the page are bundled inside the consumer from the shipped `handlers/approval/` sources, where the
 * package's root is node_modules/callback-workflow; the state is an approval step; the page and the
 * requester answer that state machine only; the shipped runner finds no violation, deployed or in
 * preview; the notifier, called as the requester calls it, posts the approver's link.
 */
async function approvalStep(project) {
    step("an approval step of the consumer's own: ApprovalChannel with its notifier, waitForApproval…");
    const out = JSON.parse(
        execFileSync(process.execPath, ["build/approval-check.js"], {
            cwd: project,
            encoding: "utf8",
            timeout: 120_000,
        }),
    );
    const problems = [];
    const expect = (holds, what) => {
        if (!holds) problems.push(what);
    };
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    for (const component of ["ApprovalChannel refunds", "CallbackChannel refunds", "Workflow refunds"]) {
        expect(out.components.includes(`callback:index:${component}`), `no ${component}: ${out.components.join(", ")}`);
    }
    expect(
        !out.topics.includes("refunds-approvers") && out.subscriptions === 0,
        "a notifier of one's own needs no topic",
    );
    const state = out.state ?? {};
    expect(state.Resource === "arn:aws:states:::sqs:sendMessage.waitForTaskToken", `Resource ${state.Resource}`);
    expect(state.TimeoutSeconds === 259_200 && !("HeartbeatSeconds" in state), "TimeoutSeconds, no HeartbeatSeconds");
    expect(state.ResultPath === "$.approval" && state.Next === "Refunded", "the decision under $.approval, then Next");
    expect(
        same(state.Catch, [
            { ErrorEquals: ["Approval.Rejected", "States.Timeout"], ResultPath: "$.error", Next: "Refund refused" },
        ]),
        `Catch ${JSON.stringify(state.Catch)}`,
    );
    const body = state.Parameters?.MessageBody ?? {};
    expect(body["TaskToken.$"] === "$$.Task.Token" && !("Input.$" in body), "the token in the message, not the state");
    expect(
        same(body.Approval, {
            "title.$": "States.Format('Refund {} EUR to {}', $.amount, $.customerId)",
            "details.$": "$.reason",
            approvers: ["@alice", "@bob"],
            "requestedBy.$": "States.Format('{} (execution {})', $$.StateMachine.Name, $$.Execution.Name)",
            timeoutSeconds: 259_200,
        }),
        `the message's Approval ${JSON.stringify(body.Approval)}`,
    );
    const grants = Object.fromEntries(
        out.answers
            .map((a) => [a.role, a.statements.map((s) => [s.Action, s.Resource])])
            .sort(([a], [b]) => a.localeCompare(b)),
    );
    const answer = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"];
    expect(
        same(grants, {
            "refunds-page-role-0a1b2c3": [[answer, out.machineArn]],
            "refunds-worker-role-0a1b2c3": [[["states:SendTaskFailure"], out.machineArn]],
        }),
        `the answer grants ${JSON.stringify(grants)} (machine ${out.machineArn})`,
    );
    expect(/^https:\/\/.+\.execute-api\./.test(out.approvalPageUrl ?? ""), `approvalPageUrl ${out.approvalPageUrl}`);
    // Bundled inside the consumer: the requester from its directory (the notifier, the shipped requester),
    // the page from the installed package's root.
    const shipped = `node_modules/${pkg.name}/handlers/approval/requester.ts`;
    expect(out.requester.text.includes("consumer-chat-notifier"), "the requester bundles the consumer's notifier");
    expect(
        out.requester.sources.some((s) => s.endsWith(shipped)) &&
            out.requester.sources.some((s) => s.endsWith("notifier.ts") && !s.includes("node_modules")),
        `the requester's sources ${JSON.stringify(out.requester.sources)}`,
    );
    expect(
        out.page.sources.some((s) => s.endsWith("handlers/approval/page.ts")) &&
            out.page.text.includes("Approval.Rejected"),
        `the page's sources ${JSON.stringify(out.page.sources)}`,
    );
    const [posted] = out.posted;
    expect(
        out.posted.length === 1 &&
            posted.to === "@alice" &&
            posted.text.includes("https://page.example.com/abc?a=%40alice&e=1&k=k1&s=sig"),
        `the notifier posted ${JSON.stringify(out.posted)}`,
    );
    expect(same(out.deployed.violations, []), `deployed: ${out.deployed.violations.join(", ")}`);
    expect(same(out.preview.violations, []), `preview: ${out.preview.violations.join(", ")}`);
    if (problems.length > 0) {
        throw new Error(`the consumer's approval step:\n- ${problems.join("\n- ")}`);
    }
    step(
        `approval step: requester ${(out.requester.text.length / 1024).toFixed(0)} kB with the consumer's notifier, page ${(out.page.text.length / 1024).toFixed(0)} kB, bundled from node_modules/${pkg.name}; no violation (${out.preview.undecided} undecided in preview)`,
    );
}

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

/**
 * examples/orders as its reader gets it: the project copied, the package installed from the tarball
 * (the peers from its own package.json), type-checked with its own tsconfig, and its program run from
 * the project's directory under Pulumi's mocked runtime with its dev stack's configuration (as the
 * Pulumi CLI merges Pulumi.dev.yaml with Pulumi.yaml's defaults).
 */
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
    // The dev stack's configuration, read by this repository's copy of the CLI's rules.
    const { cliStackConfig } = createRequire(import.meta.url)(path.join(ROOT, "build", "local", "cli-config.js"));
    const read = (file) => readFileSync(path.join(project, file), "utf8");
    const dev = cliStackConfig("dev", read("Pulumi.yaml"), read("Pulumi.dev.yaml"));
    if (dev.problems.length > 0) {
        throw new Error(`examples/orders: the Pulumi CLI would refuse its dev stack:\n${dev.problems.join("\n")}`);
    }
    const devConfig = Object.fromEntries([...dev.config].map(([key, value]) => [key, value.text]));
    writeFileSync(
        path.join(project, "run-mocked.js"),
        `const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            registered.push({ type: args.type, name: args.name, inputs: args.inputs });
            const state = { ...args.inputs, name: \`\${args.name}-0a1b2c3\`, arn: \`arn:aws:mock:::\${args.name}\` };
            // An HTTP API's endpoint, as API Gateway gives it (the approval page's URL).
            if (args.type === "aws:apigatewayv2/api:Api") {
                state.apiEndpoint = \`https://\${args.name}-id.execute-api.eu-west-1.amazonaws.com\`;
            }
            return { id: \`\${args.name}-id\`, state };
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
pulumi.runtime.setAllConfig(${JSON.stringify(devConfig)});
const program = require("./bin/index.js");
program.stateMachineArn.apply(async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const machine = registered.find((r) => r.type === "aws:sfn/stateMachine:StateMachine");
    console.log(
        JSON.stringify({
            components: registered.filter((r) => r.type.startsWith("callback:")).map((r) => \`\${r.type} \${r.name}\`),
            workers: registered.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.name),
            answers: registered
                .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && /-answer(-\\d+)?$/.test(r.name))
                .map((r) => [r.inputs.role, JSON.parse(r.inputs.policy).Statement.map((s) => [s.Action, s.Resource])]),
            approvalPageUrl: await new Promise((resolve) => program.approvalPageUrl.apply(resolve)),
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
            "callback:index:ApprovalChannel approvals",
            "callback:index:CallbackChannel approvals",
            "callback:index:CallbackChannel credit",
            "callback:index:CallbackChannel stock",
            "callback:index:Workflow orders",
        ],
        // The approval channel's requester (its worker) and its page, bundled from the installed package.
        workers: ["approvals-page", "approvals-worker", "credit-worker", "stock-worker"],
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
    // Each worker, and the approval page, answers the orders machine only; the requester may only fail.
    const machineArn = "arn:aws:mock:::orders-state-machine";
    const answer = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"];
    const answers = JSON.stringify(Object.fromEntries([...out.answers].sort(([a], [b]) => a.localeCompare(b))));
    const wantAnswers = JSON.stringify({
        "approvals-page-role-0a1b2c3": [[answer, machineArn]],
        "approvals-worker-role-0a1b2c3": [[["states:SendTaskFailure"], machineArn]],
        "credit-worker-role-0a1b2c3": [[answer, machineArn]],
        "stock-worker-role-0a1b2c3": [[answer, machineArn]],
    });
    if (answers !== wantAnswers) {
        throw new Error(`examples/orders: the answer grants are ${answers}, expected ${wantAnswers}`);
    }
    const approval = out.definition.States["Approve large order"] ?? {};
    const approvers = JSON.parse(devConfig["orders:approvers"] ?? "null");
    if (
        approval.TimeoutSeconds !== 86_400 ||
        "HeartbeatSeconds" in approval ||
        JSON.stringify(approval.Parameters?.MessageBody?.Approval?.approvers) !== JSON.stringify(approvers) ||
        typeof approval.Parameters?.MessageBody?.Approval?.["title.$"] !== "string"
    ) {
        throw new Error(`examples/orders: the approval step is ${JSON.stringify(approval)}`);
    }
    if (!/^https:\/\/.+\.execute-api\./.test(out.approvalPageUrl ?? "")) {
        throw new Error(`examples/orders: approvalPageUrl is ${JSON.stringify(out.approvalPageUrl)}`);
    }
    step(
        `examples/orders: ${out.components.length} components, workers ${out.workers.join(", ")}, ${states.length} states, approvers ${approvers.join(", ")}`,
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
                // Its stacks name their approvers (the orders here are below its approvalThreshold).
                "--config",
                `approvers=${devConfig["orders:approvers"]}`,
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
