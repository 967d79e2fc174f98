import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { build } from "esbuild";
import { DEFAULT_LAMBDA_RUNTIME, NODE_RUNTIME_TARGETS, type LambdaRuntime } from "./limits";

/**
 * The repository root (the nearest folder above this module with a package.json, whether it runs from
 * source or from `build/`). Bundle paths are relative to it, so bundles do not depend on the clone's path.
 */
export const REPO_ROOT = findPackageRoot(__dirname);

function findPackageRoot(start: string): string {
    for (let dir = start; ; dir = path.dirname(dir)) {
        if (existsSync(path.join(dir, "package.json"))) {
            return dir;
        }
        if (path.dirname(dir) === dir) {
            throw new Error(`No package.json above ${start}: cannot locate the repository root.`);
        }
    }
}

/** Lambda runtimes the worker may run on, with the esbuild target of each (the table is in limits.ts). */
export const LAMBDA_RUNTIMES = NODE_RUNTIME_TARGETS;
export { DEFAULT_LAMBDA_RUNTIME, type LambdaRuntime };

/** The default worker's entry point, relative to the repository root. */
export const DEFAULT_WORKER_ENTRY = "handlers/callback/handler.ts";
/** Stands in for `@aws-sdk/credential-provider-node` in bundles, relative to the repository root. */
export const LAMBDA_CREDENTIALS_MODULE = "handlers/callback/lambda-credentials.ts";
/** The file of the bundle that Lambda loads. */
export const BUNDLE_ENTRY_FILE = "index.mjs";
/** The Lambda `handler` setting for a bundle: the `handler` export of `index.mjs`. */
export const BUNDLE_HANDLER = "index.handler";

export interface BundleOptions {
    /** The module exporting `handler`, absolute or relative to the repository root. Default: the default worker. */
    readonly entry?: string;
    /** The Lambda runtime to target. Default: {@link DEFAULT_LAMBDA_RUNTIME}. */
    readonly runtime?: LambdaRuntime;
    /** Minify the bundle. Default: true. */
    readonly minify?: boolean;
    /**
     * The tree to bundle from (its `node_modules` and credentials module). Default: this repository; the
     * bench bundles an earlier release's tree this way.
     */
    readonly root?: string;
}

export interface WorkerBundle {
    /** File name → contents: `index.mjs`, its source map and the third-party licence notices. */
    readonly files: ReadonlyMap<string, string>;
    /** SHA-256 of all files, names included, in name order: equal sources give an equal hash. */
    readonly sha256: string;
}

/**
 * Bundles a worker for Lambda with esbuild: one ES module, minified, with a linked source map (enable it
 * with `NODE_OPTIONS=--enable-source-maps`). The AWS SDK is bundled, not taken from the runtime, so the
 * version that was tested is the version that runs.
 *
 * `mainFields: ["module", "main"]` makes esbuild take the SDK's ES module builds: with the default
 * (`main` first for platform node) the ESM bundle embeds CommonJS `require("node:https")` calls and
 * crashes on load with `Dynamic require of "node:https" is not supported`; the ES builds also tree-shake
 * to a smaller bundle.
 *
 * The SDK's default credential chain is replaced by the one Lambda needs (`lambda-credentials.ts`).
 *
 * Deterministic: the same sources give the same bytes (no timestamps, no absolute paths), so
 * `pulumi preview` shows no change when nothing changed.
 */
export async function bundleWorker(options: BundleOptions = {}): Promise<WorkerBundle> {
    const runtime = options.runtime ?? DEFAULT_LAMBDA_RUNTIME;
    const target = LAMBDA_RUNTIMES[runtime];
    if (target === undefined) {
        throw new Error(
            `Lambda runtime "${String(runtime)}" is not supported; use one of ${Object.keys(LAMBDA_RUNTIMES).join(", ")}.`,
        );
    }
    const root = options.root ?? REPO_ROOT;
    const entry = path.resolve(root, options.entry ?? DEFAULT_WORKER_ENTRY);
    const outdir = path.join(root, "dist", "callback-handler");
    const result = await build({
        absWorkingDir: root,
        entryPoints: { index: entry },
        outdir,
        outExtension: { ".js": ".mjs" },
        bundle: true,
        platform: "node",
        format: "esm",
        target,
        mainFields: ["module", "main"],
        // Lambda's credentials are in the environment: leave out the SDK's SSO/INI/STS chain (see the module).
        alias: { "@aws-sdk/credential-provider-node": `./${LAMBDA_CREDENTIALS_MODULE}` },
        minify: options.minify ?? true,
        sourcemap: "linked",
        sourcesContent: false,
        legalComments: "none",
        write: false,
        logLevel: "silent",
    });
    const files = new Map<string, string>();
    for (const file of [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path))) {
        files.set(path.relative(outdir, file.path), file.text);
    }
    if (!files.has(BUNDLE_ENTRY_FILE)) {
        throw new Error(`esbuild produced no ${BUNDLE_ENTRY_FILE} for ${entry}.`);
    }
    const hash = createHash("sha256");
    for (const [name, text] of files) {
        hash.update(name).update("\0").update(text).update("\0");
    }
    return { files, sha256: hash.digest("hex") };
}

const bundled = new Map<string, Promise<WorkerBundle>>();

/**
 * {@link bundleWorker}, once per entry and runtime for the life of the process: a program with several
 * workflows (or a test running the program many times) bundles equal sources once.
 */
export function bundleWorkerOnce(options: BundleOptions = {}): Promise<WorkerBundle> {
    const key = JSON.stringify([
        options.entry ?? DEFAULT_WORKER_ENTRY,
        options.runtime ?? DEFAULT_LAMBDA_RUNTIME,
        options.minify ?? true,
    ]);
    let bundle = bundled.get(key);
    if (bundle === undefined) {
        bundle = bundleWorker(options);
        bundled.set(key, bundle);
        // A failed bundle is not cached: the next program run tries again.
        bundle.catch(() => bundled.delete(key));
    }
    return bundle;
}

/** Writes a bundle to `dir`, replacing what was there. */
export async function writeBundle(bundle: WorkerBundle, dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const [name, text] of bundle.files) {
        await writeFile(path.join(dir, name), text);
    }
}
