/**
 * The package as a library (what `npm pack` ships and what `require("callback-workflow")` does): every
 * `exports` entry resolves to built JavaScript with its declarations; importing an entry registers no
 * resource (it only defines things), and the policy entry starts no Pulumi runtime; the tarball holds the
 * library, the worker's sources it bundles, the thin policy pack and every module an entry loads, and none
 * of this repository's program, stacks, tests or tooling; the Pulumi SDK
 * and provider are peer dependencies, so a consumer's program has one copy of each. The consumer built
 * from the packed tarball is `npm run test:package` (scripts/test-package.mjs).
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";

interface PackageJson {
    readonly name: string;
    readonly main: string;
    readonly types: string;
    readonly bin: Readonly<Record<string, string>>;
    readonly private?: boolean;
    readonly exports: Readonly<Record<string, string | { readonly types: string; readonly default: string }>>;
    readonly dependencies: Readonly<Record<string, string>>;
    readonly peerDependencies: Readonly<Record<string, string>>;
    readonly devDependencies: Readonly<Record<string, string>>;
}

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as PackageJson;

/** The library's entries: subpath, the module a consumer gets, a name it must export. */
const ENTRIES: ReadonlyArray<readonly [string, string]> = [
    [".", "CallbackWorkflow"],
    ["./worker", "createCallbackHandler"],
    ["./worker", "TaskFailedError"],
    ["./policy", "policies"],
    ["./policy", "runPolicies"],
    ["./policy", "recordProgram"],
    ["./local", "runLocally"],
    ["./local", "LocalHarness"],
];

function runNode(code: string): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, ["-e", code], { cwd: REPO_ROOT, timeout: 20_000 }, (error, stdout, stderr) =>
            error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`)),
        );
    });
}

describe("the library package", () => {
    it("is publishable and its main and types are the library entry, not the Pulumi program", () => {
        assert.notEqual(pkg.private, true);
        const root = pkg.exports["."];
        assert.ok(typeof root === "object");
        assert.equal(`./${pkg.main}`, root.default);
        assert.equal(`./${pkg.types}`, root.types);
        assert.notEqual(pkg.main, "build/index.js", "build/index.js is the Pulumi program (Pulumi.yaml's main)");
    });

    it("resolves every export to built JavaScript with declarations beside it", () => {
        for (const [subpath, target] of Object.entries(pkg.exports)) {
            if (typeof target === "string") {
                assert.ok(existsSync(path.join(REPO_ROOT, target)), `${subpath} -> ${target}`);
                continue;
            }
            assert.ok(existsSync(path.join(REPO_ROOT, target.default)), `${subpath} -> ${target.default}`);
            assert.ok(existsSync(path.join(REPO_ROOT, target.types)), `${subpath} -> ${target.types}`);
            assert.equal(target.types, target.default.replace(/\.js$/, ".d.ts"));
        }
    });

    it("maps each export's name to its sources for the examples' type-check (tsconfig paths), as the build maps them", () => {
        const tsconfig = JSON.parse(
            readFileSync(path.join(REPO_ROOT, "tsconfig.json"), "utf8").replace(/^\s*\/\/.*$/gm, ""),
        ) as { compilerOptions: { paths: Record<string, string[]> } };
        const exports = pkg.exports as Record<string, string | { types: string }>;
        const wanted = Object.fromEntries(
            Object.entries(exports)
                .filter(([, target]) => typeof target !== "string")
                .map(([subpath, target]) => [
                    `${pkg.name}${subpath.slice(1)}`,
                    [(target as { types: string }).types.replace("./build/", "./").replace(/\.d\.ts$/, ".ts")],
                ]),
        );
        assert.deepEqual(tsconfig.compilerOptions.paths, wanted);
    });

    it("registers no resource when each entry is imported, and each exports its contract", async () => {
        // A fresh process (this one has loaded the modules already), the package resolving itself by name.
        const code = `
            const pulumi = require("@pulumi/pulumi");
            let registered = 0;
            pulumi.runtime.setMocks({
                newResource: (a) => { registered += 1; return { id: a.name, state: a.inputs }; },
                call: (a) => a.inputs,
            }, "project", "stack", true);
            const entries = ${JSON.stringify(ENTRIES)};
            const names = {};
            for (const [subpath, name] of entries) {
                const mod = require(subpath === "." ? "${pkg.name}" : "${pkg.name}/" + subpath.slice(2));
                names[subpath + " " + name] = typeof mod[name];
            }
            setTimeout(() => console.log(JSON.stringify({ registered, names })), 200);
        `;
        const out = JSON.parse(await runNode(code)) as { registered: number; names: Record<string, string> };
        assert.equal(out.registered, 0);
        for (const [subpath, name] of ENTRIES) {
            assert.notEqual(out.names[`${subpath} ${name}`], "undefined", `${subpath} exports ${name}`);
        }
    });

    it("takes the Pulumi SDK and the AWS provider as peers (one copy per program) and declares what its types use", () => {
        for (const peer of ["@pulumi/pulumi", "@pulumi/aws"]) {
            assert.equal(pkg.dependencies[peer], undefined, `${peer} is not a dependency`);
            assert.match(pkg.peerDependencies[peer] ?? "", /^\^\d+\.\d+\.\d+$/, `${peer} is a caret peer`);
            const pinned = pkg.devDependencies[peer] ?? "";
            assert.equal(`^${pinned}`, pkg.peerDependencies[peer], `${peer}: the peer's floor is what this repo tests`);
        }
        // Public declarations import these types: a consumer compiling without skipLibCheck needs them.
        assert.ok(pkg.dependencies["@types/aws-lambda"]);
        const declarations = readFileSync(path.join(REPO_ROOT, "build/handlers/callback/worker.d.ts"), "utf8");
        assert.match(declarations, /from "aws-lambda"/);
    });

    it("packs the library, the worker's sources and the thin policy pack, and nothing of the program", async () => {
        const listing = await new Promise<string>((resolve, reject) => {
            const cli = process.env["npm_execpath"];
            const [file, args] =
                cli !== undefined && cli.endsWith(".js")
                    ? [process.execPath, [cli, "pack", "--dry-run", "--json", "--ignore-scripts"]]
                    : ["npm", ["pack", "--dry-run", "--json", "--ignore-scripts"]];
            execFile(file, args, { cwd: REPO_ROOT, timeout: 30_000 }, (error, stdout) =>
                error === null ? resolve(stdout) : reject(new Error(`npm pack --dry-run: ${error.message}`)),
            );
        });
        const [packed] = JSON.parse(listing) as [{ files: Array<{ path: string }> }];
        const files = packed.files.map((f) => f.path);
        for (const needed of [
            "package.json",
            "README.md",
            "CHANGELOG.md",
            "build/components/index.d.ts",
            "build/handlers/callback/index.d.ts",
            "build/policy/policies.d.ts",
            "build/policy/library.d.ts",
            "build/policy/runner.d.ts",
            "build/policy/record.d.ts",
            "build/local/index.d.ts",
            "build/local/run-cli.js",
            // Forked by path (the worker's Lambda-like process), not required: no walk finds it.
            "build/local/lambda-runtime.js",
            "handlers/callback/handler.ts",
            "handlers/callback/lambda-credentials.ts",
            "policy/PulumiPolicy.yaml",
            "policy/package.json",
            "policy/bin/index.js",
        ]) {
            assert.ok(files.includes(needed), `the tarball holds ${needed}`);
        }
        // The local harness ships for consumers (callback-workflow/local and its command) with the one
        // script module it runs on; npm start's layer over this repository's own stacks does not.
        const shipped = (f: string) =>
            /^build\/local\/(index|run|run-cli|engine|program|support|expectation|report|pulumi-program|lambda-process|lambda-runtime|queue|sfn-endpoint|loopback)\.(js|d\.ts)(\.map)?$/.test(
                f,
            ) || /^build\/scripts\/run-main\.(js|d\.ts)(\.map)?$/.test(f);
        const stray = files.filter(
            (f) =>
                !shipped(f) &&
                /^(build\/)?(tests|bench|scripts|local|\.github|\.ci|docs)\/|^Pulumi\.|^build\/index\.|\.tsbuildinfo$/.test(
                    f,
                ),
        );
        assert.deepEqual(stray, []);
        for (const notShipped of ["build/local/cli.js", "build/local/harness.js", "build/local/stack-config.js"]) {
            assert.ok(!files.includes(notShipped), `${notShipped} is npm start's, not the library's`);
        }
        // The command: a shipped file that runs under node, with everything it loads.
        for (const [name, target] of Object.entries(pkg.bin)) {
            assert.match(readFileSync(path.join(REPO_ROOT, target), "utf8"), /^#!\/usr\/bin\/env node\n/, name);
            for (const file of localClosure(target)) {
                assert.ok(files.includes(file), `bin ${name} needs ${file}, which the tarball does not hold`);
            }
        }
        // Every module an entry loads, and every declaration its types import, is in the tarball (the
        // walk follows the policy entry to the runner, the recorder and the policies' helpers).
        const policyEntry = localClosure("build/policy/library.js");
        for (const needed of ["build/policy/runner.js", "build/policy/record.js", "build/policy/lib/asl.js"]) {
            assert.ok(policyEntry.includes(needed), `the walk from build/policy/library.js reaches ${needed}`);
        }
        for (const [subpath, target] of Object.entries(pkg.exports)) {
            if (typeof target === "string") {
                continue;
            }
            for (const file of [...localClosure(target.default), ...localClosure(target.types)]) {
                assert.ok(files.includes(file), `${subpath} needs ${file}, which the tarball does not hold`);
            }
        }
    });

    it("runs the local harness on a pinned dependency, with the command callback-workflow-local", () => {
        assert.equal(pkg.dependencies["aws-local-stepfunctions"], "3.0.0");
        assert.equal(pkg.devDependencies["aws-local-stepfunctions"], undefined);
        assert.deepEqual(pkg.bin, { "callback-workflow-local": "build/local/run-cli.js" });
    });

    it("starts no Pulumi runtime and constructs no policy pack when callback-workflow/policy is imported", async () => {
        // No mocks set, as in a consumer's test file: the import must leave the runtime untouched.
        const code = `
            const entry = require("${pkg.name}/policy");
            const settings = require("@pulumi/pulumi/runtime/settings");
            const packEntry = Object.keys(require.cache).some((key) => key.endsWith("/build/policy/index.js"));
            console.log(JSON.stringify({
                monitor: settings.hasMonitor(),
                packEntry,
                api: [typeof entry.runPolicies, typeof entry.recordProgram, entry.policies.length],
            }));
        `;
        // runNode resolves once the process exits: a started analyzer server would keep it alive.
        const out = JSON.parse(await runNode(code)) as { monitor: boolean; packEntry: boolean; api: unknown[] };
        assert.deepEqual(out, { monitor: false, packEntry: false, api: ["function", "function", 22] });
    });
});

/**
 * The repository's files a built module loads (`require("./…")`) or a declaration imports
 * (`from "./…"`), transitively, as package paths: what the tarball must hold for that entry to work.
 */
function localClosure(entry: string): string[] {
    const seen = new Set<string>();
    const visit = (file: string) => {
        const relative = path.relative(REPO_ROOT, path.resolve(REPO_ROOT, file)).split(path.sep).join("/");
        if (seen.has(relative)) {
            return;
        }
        seen.add(relative);
        // Without comments, which quote imports as examples.
        const text = readFileSync(path.join(REPO_ROOT, relative), "utf8")
            .replace(/\/\*[\s\S]*?\*\//g, "")
            .replace(/^\s*\/\/.*$/gm, "");
        const declaration = relative.endsWith(".d.ts");
        const pattern = declaration ? /from "(\.{1,2}\/[^"]+)"/g : /require\("(\.{1,2}\/[^"]+)"\)/g;
        for (const match of text.matchAll(pattern)) {
            const base = path.join(path.dirname(relative), match[1] ?? "");
            const candidates = declaration
                ? [`${base}.d.ts`, path.join(base, "index.d.ts")]
                : [base, `${base}.js`, path.join(base, "index.js")];
            const found = candidates.find((candidate) => existsSync(path.join(REPO_ROOT, candidate)));
            assert.ok(found, `${relative} imports ${match[1]}, which is not built`);
            visit(found);
        }
    };
    visit(entry);
    return [...seen];
}
