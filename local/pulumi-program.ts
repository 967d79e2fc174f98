/**
 * This repository's programs under the mocked runtime: `runProgram` records a program given as a
 * function or as a module path (required afresh, so that each run evaluates it anew) with the library's
 * recorder (policy/record.ts, shipped in `callback-workflow/policy`), project `callback-workflow`; and
 * helpers that look registrations up.
 */
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import { recordProgram, type ProgramRun, type RecordOptions, type Registration } from "../policy/record";

export { ACCOUNT_ID, promiseOf, REGION, type ProgramRun, type Registration } from "../policy/record";

export const PROJECT = "callback-workflow";

export interface RunOptions extends RecordOptions {
    /** Stack configuration, `namespace:key` → string (objects JSON-encoded), as PULUMI_CONFIG carries it. */
    readonly config?: Record<string, string>;
    /** The project name the mocks report. Default {@link PROJECT}. */
    readonly project?: string;
}

/**
 * Evaluates `program` (a function creating resources, or a module path, from the repository's root, to
 * require afresh) under mocks and returns what it registered, once every registration has been made.
 */
export function runProgram(program: string | (() => unknown), options: RunOptions = {}): Promise<ProgramRun> {
    const evaluate =
        typeof program === "string"
            ? () => {
                  forgetProgramModules();
                  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require.cache lets each run evaluate the program afresh
                  return require(path.resolve(REPO_ROOT, program)) as Record<string, unknown>;
              }
            : program;
    const record = () => recordProgram(evaluate, { ...options, project: options.project ?? PROJECT });
    return withoutStackTraces(record).catch(() => record());
}

/**
 * Runs `work` without capturing stack traces: the Pulumi SDK captures one for every resource and
 * promise it makes (its debuggable promises and resource source positions), which is most of the time a
 * mocked program takes. A run that fails is run again with them, so that the error says where it arose.
 */
export async function withoutStackTraces<T>(work: () => Promise<T>): Promise<T> {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return await work();
    } finally {
        Error.stackTraceLimit = limit;
    }
}

/** Drops the project's own compiled modules (not bundle.js: it caches bundles) so a program runs afresh. */
function forgetProgramModules(): void {
    const build = path.join(REPO_ROOT, "build");
    for (const key of Object.keys(require.cache)) {
        if (
            key.startsWith(build) &&
            !key.includes(`${path.sep}tests${path.sep}`) &&
            !key.endsWith(`${path.sep}bundle.js`) &&
            !key.endsWith(`${path.sep}policy${path.sep}record.js`)
        ) {
            delete require.cache[key];
        }
    }
}

/** Resources of one type token. */
export function ofType(run: ProgramRun, type: string): Registration[] {
    return run.resources.filter((r) => r.type === type);
}

/** The one resource of a type with a logical name; throws when there is not exactly one. */
export function resource(run: ProgramRun, type: string, name: string): Registration {
    const found = run.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
        throw new Error(`Expected one ${type} named ${name}, found ${found.length}.`);
    }
    return found[0] as Registration;
}
