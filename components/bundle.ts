import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import type * as Pulumi from "@pulumi/pulumi";
import { build, buildSync, type BuildOptions, type BuildResult, type Message } from "esbuild";
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
/** Stands in for `@aws-sdk/credential-provider-node` in bundles, relative to this package's root. */
export const LAMBDA_CREDENTIALS_MODULE = "handlers/callback/lambda-credentials.ts";
/** This package's name, as a consumer's worker imports its worker SDK (`<name>/worker`). */
const PACKAGE_NAME = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { name: string }).name;
/** The worker SDK's sources (ES modules), relative to this package's root: `<name>/worker` bundles from them. */
export const WORKER_SDK_SOURCES = "handlers/callback/index.ts";
/** The approval SDK's sources, relative to this package's root: `<name>/approval` bundles from them. */
export const APPROVAL_SDK_SOURCES = "handlers/approval/index.ts";
/** The file of the bundle that Lambda loads. */
export const BUNDLE_ENTRY_FILE = "index.mjs";
/** The Lambda `handler` setting for a bundle: the `handler` export of `index.mjs`. */
export const BUNDLE_HANDLER = "index.handler";

export interface BundleOptions {
    /**
     * The module exporting `handler`: absolute, or relative to `root`. Default: the default worker (in this
     * package).
     */
    readonly entry?: string;
    /** The Lambda runtime to target. Default: {@link DEFAULT_LAMBDA_RUNTIME}. */
    readonly runtime?: LambdaRuntime;
    /** Minify the bundle. Default: true. */
    readonly minify?: boolean;
    /**
     * The tree to bundle from: relative entries resolve against it, and the bundle's paths are relative to
     * it. Default: this package for the default worker, the Pulumi program's directory for a given entry
     * (see {@link programDirectory}); the bench bundles an earlier release's tree this way.
     */
    readonly root?: string;
    /**
     * The entry module's source text instead of a file (esbuild's `stdin`), resolved from `root`: a
     * generated entry that joins modules (the approval requester with a consumer's notifier). `entry` then
     * only names it in errors and in the bundle cache.
     */
    readonly source?: string;
}

export interface WorkerBundle {
    /** File name → contents: `index.mjs`, its source map and the third-party licence notices. */
    readonly files: ReadonlyMap<string, string>;
    /** SHA-256 of all files, names included, in name order: equal sources give an equal hash. */
    readonly sha256: string;
}

/**
 * The directory of the Pulumi program being run: the project's root (where `Pulumi.yaml` is), which the
 * Node.js language host hands the program as `PULUMI_NODEJS_ROOT_DIRECTORY`; the working directory when
 * the program runs without the CLI (under mocks, in tests). A consumer's `workerEntry` resolves against it.
 */
export function programDirectory(): string {
    // Required here, not at the top: the commands that only need REPO_ROOT (every --help) start without
    // loading the Pulumi SDK, most of their start-up time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof Pulumi;
    const root = pulumi.runtime.getRootDirectory();
    // Without the CLI the SDK answers the placeholder "rootDirectory", not a path.
    return path.isAbsolute(root) ? root : process.cwd();
}

/** Where a worker entry is, absolutely: the default worker in this package, else against `root`. */
export function resolveWorkerEntry(entry: string | undefined, root?: string): { entry: string; root: string } {
    if (entry === undefined) {
        return { entry: path.join(root ?? REPO_ROOT, DEFAULT_WORKER_ENTRY), root: root ?? REPO_ROOT };
    }
    const base = root ?? programDirectory();
    return { entry: path.resolve(base, entry), root: base };
}

/** A worker entry that cannot become a Lambda bundle, with esbuild's reasons. */
export class WorkerBundleError extends Error {
    constructor(
        public readonly entry: string,
        public readonly reasons: readonly string[],
    ) {
        super(`Cannot bundle the worker ${entry}: ${reasons.join("; ")}`);
        this.name = "WorkerBundleError";
    }
}

/**
 * esbuild's options for a worker bundle: one ES module, minified, with a linked source map (enable it
 * with `NODE_OPTIONS=--enable-source-maps`). The AWS SDK is bundled, not taken from the runtime, so the
 * version that was tested is the version that runs.
 *
 * `mainFields: ["module", "main"]` makes esbuild take the SDK's ES module builds: with the default
 * (`main` first for platform node) the ESM bundle embeds CommonJS `require("node:https")` calls and
 * crashes on load with `Dynamic require of "node:https" is not supported`; the ES builds also tree-shake
 * to a smaller bundle.
 *
 * The SDK's default credential chain is replaced by the one Lambda needs (`lambda-credentials.ts`, from
 * this package whatever the entry).
 *
 * A consumer's worker imports the worker SDK by name (`callback-workflow/worker`), whose `exports` give
 * the CommonJS build: bundled into an ES module, its `require("node:crypto")` crashes on load with
 * `Dynamic require of "node:crypto" is not supported`. The name resolves to the SDK's sources instead
 * (shipped beside the build), which are ES modules, as this package's own workers import them.
 *
 * Deterministic: the same sources give the same bytes (no timestamps, no absolute paths), so
 * `pulumi preview` shows no change when nothing changed.
 */
function buildOptions(options: BundleOptions): {
    entry: string;
    outdir: string;
    esbuild: BuildOptions & { metafile: true; write: false };
} {
    const runtime = options.runtime ?? DEFAULT_LAMBDA_RUNTIME;
    const target = LAMBDA_RUNTIMES[runtime];
    if (target === undefined) {
        throw new Error(
            `Lambda runtime "${String(runtime)}" is not supported; use one of ${Object.keys(LAMBDA_RUNTIMES).join(", ")}.`,
        );
    }
    const { entry, root } = resolveWorkerEntry(options.entry, options.root);
    const outdir = path.join(root, "dist", "callback-handler");
    // This package's credentials module; the default worker of another tree (the bench's earlier release)
    // takes that tree's.
    const credentials = path.join(
        options.entry === undefined ? (options.root ?? REPO_ROOT) : REPO_ROOT,
        LAMBDA_CREDENTIALS_MODULE,
    );
    return {
        entry,
        outdir,
        esbuild: {
            absWorkingDir: root,
            ...(options.source !== undefined
                ? {
                      stdin: {
                          contents: options.source,
                          resolveDir: root,
                          sourcefile: path.relative(root, entry),
                          loader: "ts" as const,
                      },
                      outfile: path.join(outdir, BUNDLE_ENTRY_FILE),
                  }
                : { entryPoints: { index: entry }, outdir, outExtension: { ".js": ".mjs" } }),
            bundle: true,
            platform: "node",
            format: "esm",
            target,
            mainFields: ["module", "main"],
            alias: {
                // Lambda's credentials are in the environment: leave out the SDK's SSO/INI/STS chain (see the module).
                "@aws-sdk/credential-provider-node": credentials,
                [`${PACKAGE_NAME}/worker`]: path.join(REPO_ROOT, WORKER_SDK_SOURCES),
                [`${PACKAGE_NAME}/approval`]: path.join(REPO_ROOT, APPROVAL_SDK_SOURCES),
            },
            minify: options.minify ?? true,
            sourcemap: "linked",
            sourcesContent: false,
            legalComments: "none",
            write: false,
            metafile: true,
            logLevel: "silent",
        },
    };
}

function describeMessages(messages: readonly Message[]): string[] {
    return messages.map((m) =>
        m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text,
    );
}

/** The bundle of a build, or the reasons it is none (build errors, no `handler` export). */
function toBundle(entry: string, outdir: string, result: BuildResult<{ metafile: true; write: false }>): WorkerBundle {
    const files = new Map<string, string>();
    for (const file of [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path))) {
        files.set(path.relative(outdir, file.path), file.text);
    }
    const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith(BUNDLE_ENTRY_FILE))?.[1];
    if (!files.has(BUNDLE_ENTRY_FILE) || output === undefined) {
        throw new WorkerBundleError(entry, [`esbuild produced no ${BUNDLE_ENTRY_FILE}`]);
    }
    if (!output.exports.includes("handler")) {
        throw new WorkerBundleError(entry, [
            `it exports no \`handler\` (it exports ${output.exports.length > 0 ? output.exports.map((e) => `\`${e}\``).join(", ") : "nothing"}); Lambda calls \`${BUNDLE_HANDLER}\`, so export the handler from \`createCallbackHandler\` as \`handler\``,
        ]);
    }
    const hash = createHash("sha256");
    for (const [name, text] of files) {
        hash.update(name).update("\0").update(text).update("\0");
    }
    return { files, sha256: hash.digest("hex") };
}

function failure(entry: string, error: unknown): WorkerBundleError {
    if (error instanceof WorkerBundleError) {
        return error;
    }
    const errors = (error as { errors?: Message[] }).errors;
    return new WorkerBundleError(
        entry,
        Array.isArray(errors) && errors.length > 0 ? describeMessages(errors) : [String(error)],
    );
}

/** Bundles a worker for Lambda with esbuild (see {@link buildOptions}); rejects with {@link WorkerBundleError}. */
export async function bundleWorker(options: BundleOptions = {}): Promise<WorkerBundle> {
    const { entry, outdir, esbuild } = buildOptions(options);
    try {
        return toBundle(entry, outdir, await build(esbuild));
    } catch (error) {
        throw failure(entry, error);
    }
}

/**
 * {@link bundleWorker}, synchronously: a component bundles its worker in its constructor, so a worker
 * that cannot be bundled is an argument error reported before anything is registered.
 */
export function bundleWorkerSync(options: BundleOptions = {}): WorkerBundle {
    const { entry, outdir, esbuild } = buildOptions(options);
    try {
        return toBundle(entry, outdir, buildSync(esbuild));
    } catch (error) {
        throw failure(entry, error);
    }
}

const bundled = new Map<string, WorkerBundle>();

/**
 * {@link bundleWorkerSync}, once per entry, root and runtime for the life of the process: a program with
 * several channels (or a test running the program many times) bundles equal sources once. A failure is not
 * kept: the next program run tries again.
 */
export function bundleWorkerOnce(options: BundleOptions = {}): WorkerBundle {
    const { entry, root } = resolveWorkerEntry(options.entry, options.root);
    const key = JSON.stringify([
        entry,
        root,
        options.runtime ?? DEFAULT_LAMBDA_RUNTIME,
        options.minify ?? true,
        options.source ?? null,
    ]);
    let bundle = bundled.get(key);
    if (bundle === undefined) {
        bundle = bundleWorkerSync({ ...options, entry, root });
        bundled.set(key, bundle);
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
