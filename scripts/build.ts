/**
 * `npm run build`: bundles the default worker to `dist/callback-handler/` (entry `index.mjs`, export
 * `handler`) through the same function the component uses at program time.
 */
import * as path from "node:path";
import { bundleWorker, REPO_ROOT, writeBundle } from "../components/bundle";

async function main(): Promise<void> {
    const bundle = await bundleWorker();
    const dir = path.join(REPO_ROOT, "dist", "callback-handler");
    await writeBundle(bundle, dir);
    for (const [name, text] of bundle.files) {
        console.log(`${path.relative(REPO_ROOT, path.join(dir, name))}\t${Buffer.byteLength(text)} bytes`);
    }
    console.log(`sha256 ${bundle.sha256}`);
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
});
