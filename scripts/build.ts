/**
 * `npm run build` (after `tsc`, which type-checks everything and compiles the program to build/):
 * - bundles the default worker to `dist/callback-handler/` (entry `index.mjs`, export `handler`) through
 *   the same function the component uses at program time;
 * - bundles the policy pack to `policy/bin/index.js`, the entry `pulumi preview --policy-pack policy`
 *   runs; its npm dependencies stay external (the CLI installs them from policy/package.json).
 * The files written are listed on stdout; what it is doing goes to stderr. `npm run build` runs it after
 * the README's examples and `tsc` (scripts/commands.mjs).
 */
import * as path from "node:path";
import { build } from "esbuild";
import { bundleWorker, REPO_ROOT, writeBundle } from "../components/bundle";
import { parseHelpOnly, runMain } from "./run-main";

export const USAGE = `Usage: node build/scripts/build.js
The last stage of \`npm run build\` (after tsc): bundles the worker to dist/callback-handler/ and the
policy pack to policy/bin/index.js, and lists the files written on stdout.
Options:
  -h, --help    print this usage`;

async function buildWorker(): Promise<void> {
    console.error("build: bundling the worker to dist/callback-handler/…");
    const bundle = await bundleWorker();
    const dir = path.join(REPO_ROOT, "dist", "callback-handler");
    await writeBundle(bundle, dir);
    for (const [name, text] of bundle.files) {
        console.log(`${path.relative(REPO_ROOT, path.join(dir, name))}\t${Buffer.byteLength(text)} bytes`);
    }
    console.log(`sha256 ${bundle.sha256}`);
}

async function buildPolicyPack(): Promise<void> {
    console.error("build: bundling the policy pack to policy/bin/…");
    const outfile = path.join(REPO_ROOT, "policy", "bin", "index.js");
    await build({
        absWorkingDir: REPO_ROOT,
        entryPoints: [path.join(REPO_ROOT, "policy", "index.ts")],
        outfile,
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node22",
        packages: "external",
        sourcemap: "linked",
        logLevel: "warning",
    });
    console.log(path.relative(REPO_ROOT, outfile));
}

async function main(): Promise<number> {
    parseHelpOnly(process.argv.slice(2));
    await Promise.all([buildWorker(), buildPolicyPack()]);
    return 0;
}

if (require.main === module) {
    runMain(main, { usage: USAGE });
}
