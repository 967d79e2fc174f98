/**
 * `npm run build` (after `tsc`, which type-checks everything and compiles the program to build/):
 * - bundles the default worker to `dist/callback-handler/` (entry `index.mjs`, export `handler`) through
 *   the same function the component uses at program time;
 * - bundles the policy pack to `policy/bin/index.js`, the entry `pulumi preview --policy-pack policy`
 *   runs; its npm dependencies stay external (the CLI installs them from policy/package.json).
 */
import * as path from "node:path";
import { build } from "esbuild";
import { bundleWorker, REPO_ROOT, writeBundle } from "../components/bundle";

async function buildWorker(): Promise<void> {
    const bundle = await bundleWorker();
    const dir = path.join(REPO_ROOT, "dist", "callback-handler");
    await writeBundle(bundle, dir);
    for (const [name, text] of bundle.files) {
        console.log(`${path.relative(REPO_ROOT, path.join(dir, name))}\t${Buffer.byteLength(text)} bytes`);
    }
    console.log(`sha256 ${bundle.sha256}`);
}

async function buildPolicyPack(): Promise<void> {
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

Promise.all([buildWorker(), buildPolicyPack()]).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
});
