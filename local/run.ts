/**
 * `runLocally`: one execution of a workflow of your own Pulumi program, offline. The program runs under
 * Pulumi's mocked runtime, as `pulumi up` would run it; the harness then runs what it registered (the
 * state machine's definition, each channel's queue and worker) on loopback fakes and reports how the
 * execution ended. A local harness, not a production runtime: production runs on AWS.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
    LocalHarness,
    type Execution,
    type ExecutionStatus,
    type LocalTaskHandler,
    type SnsMessage,
    type StateFailure,
    type TraceEvent,
} from "./engine";
import {
    describeExpectation,
    EXPECTED_STATUSES,
    meetsExpectation,
    type Expectation,
    type ExpectedStatus,
} from "./expectation";
import { evaluateProgram, readProgram, selectStateMachine } from "./program";
import { LocalRunError } from "./support";

export interface RunLocallyOptions {
    /**
     * Your Pulumi program: a function that constructs its components (what it returns are the stack's
     * outputs), or the path of a module that does when loaded, or whose default export is such a function.
     */
    readonly program: (() => unknown) | string;
    /**
     * The workflow to run: a Workflow's or a CallbackWorkflow's name, or an aws.sfn.StateMachine's.
     * Optional when the program has one state machine.
     */
    readonly workflow?: string;
    /** The execution input. Default `{}`. */
    readonly input?: unknown;
    /** How the execution should end. Default `SUCCEEDED`. */
    readonly expect?: ExpectedStatus | Expectation;
    /**
     * How many times faster than the wall clock the harness's clock runs (1 to 10000; default 1): task
     * timeouts, heartbeats, Wait states, retry intervals and visibility timeouts are divided by it.
     */
    readonly timeScale?: number;
    /** Stack configuration for the program, `namespace:key` (or `key`, in the project's namespace) → value. */
    readonly config?: Readonly<Record<string, string>>;
    /** The stack name the program sees. Default `local`. */
    readonly stack?: string;
    /**
     * The project name the program sees. Default: the `name` of the Pulumi.yaml the Pulumi CLI would use
     * (the nearest at or above the working directory, else above the program module), else `project`.
     */
    readonly project?: string;
    /**
     * Where a relative `workerEntry` resolves from (the Pulumi project's directory). Default: the
     * directory of that Pulumi.yaml, else the working directory.
     */
    readonly rootDirectory?: string;
    /** Task states the harness cannot run itself (a Lambda invoke, another service), run by these functions. */
    readonly tasks?: Readonly<Record<string, LocalTaskHandler>>;
    /** Called with each trace line as it happens. */
    readonly onTrace?: (event: TraceEvent) => void;
}

export interface LocalRunReport {
    /** The state machine's logical name in the program. */
    readonly workflow: string;
    readonly stateMachineArn: string;
    readonly executionArn: string;
    readonly status: ExecutionStatus;
    readonly output: unknown;
    /** The execution's error and cause, as Step Functions would report them (undefined when none). */
    readonly error: string | undefined;
    readonly cause: string | undefined;
    /** Every state that failed, caught or not, with its error and cause. */
    readonly failures: readonly StateFailure[];
    readonly expected: string;
    readonly asExpected: boolean;
    readonly durationMs: number;
    readonly timeScale: number;
    readonly snsMessages: readonly SnsMessage[];
    readonly deadLetters: ReadonlyArray<{ queue: string; messageId: string; receiveCount: number; body: string }>;
    /** Each worker's log lines, by its function's logical name. */
    readonly workerLogs: Readonly<Record<string, readonly string[]>>;
    readonly trace: readonly TraceEvent[];
}

/** The directory of the Pulumi.yaml nearest above `start`, and its project name. */
export function findProject(start: string): { directory: string; name: string | undefined } | undefined {
    for (let dir = start; ; dir = path.dirname(dir)) {
        for (const file of ["Pulumi.yaml", "Pulumi.yml"]) {
            if (existsSync(path.join(dir, file))) {
                const name = /^name:\s*["']?([^"'#\s]+)/m.exec(readFileSync(path.join(dir, file), "utf8"))?.[1];
                return { directory: dir, name };
            }
        }
        if (path.dirname(dir) === dir) {
            return undefined;
        }
    }
}

/** Pulumi's own setting for the program's directory, which `workerEntry` resolves from (set for one run). */
function programRootSetting(): { options: { rootDirectory?: string } } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal of @pulumi/pulumi: PULUMI_NODEJS_ROOT_DIRECTORY as the SDK read it
    const state = require("@pulumi/pulumi/runtime/state") as {
        getStore(): { settings: { options: { rootDirectory?: string } } };
    };
    return state.getStore().settings;
}

/** A module program: the module's load, or the function it exports (as `module.exports` or default). */
function moduleProgram(file: string): () => Promise<unknown> {
    return async () => {
        let loaded: unknown;
        try {
            // Afresh: a module whose load is the program creates its resources again in each run.
            delete require.cache[file];
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's program, by path
            loaded = require(file);
        } catch (error) {
            if ((error as { code?: string }).code === "MODULE_NOT_FOUND" && String(error).includes(file)) {
                throw new LocalRunError(`There is no program module ${file}.`);
            }
            throw error;
        }
        const exported =
            typeof loaded === "function"
                ? loaded
                : typeof (loaded as { default?: unknown } | null)?.default === "function"
                  ? (loaded as { default: () => unknown }).default
                  : undefined;
        return exported !== undefined ? await (exported as () => unknown)() : loaded;
    };
}

function normalisedExpectation(expect: RunLocallyOptions["expect"]): Expectation {
    const expectation = typeof expect === "string" ? { status: expect } : (expect ?? { status: "SUCCEEDED" });
    if (!(EXPECTED_STATUSES as readonly string[]).includes(expectation.status)) {
        throw new LocalRunError(
            `expect must be one of ${EXPECTED_STATUSES.join(", ")} (got ${JSON.stringify(expectation.status)}).`,
        );
    }
    return expectation;
}

/** Runs one execution of a workflow of `options.program` on the local harness and reports how it ended. */
export async function runLocally(options: RunLocallyOptions): Promise<LocalRunReport> {
    const expectation = normalisedExpectation(options.expect);
    const timeScale = options.timeScale ?? 1;
    if (!Number.isFinite(timeScale) || timeScale < 1 || timeScale > 10_000) {
        throw new LocalRunError(
            `timeScale must be a number from 1 to 10000 (got ${JSON.stringify(options.timeScale)}).`,
        );
    }
    const file = typeof options.program === "string" ? path.resolve(options.program) : undefined;
    // As the Pulumi CLI finds it: upward from the working directory; else from the program module.
    const project = findProject(process.cwd()) ?? (file !== undefined ? findProject(path.dirname(file)) : undefined);
    const projectName = options.project ?? project?.name ?? "project";
    const config = Object.fromEntries(
        Object.entries(options.config ?? {}).map(([key, value]) => [
            key.includes(":") ? key : `${projectName}:${key}`,
            value,
        ]),
    );
    const settings = programRootSetting();
    const previousRoot = settings.options.rootDirectory;
    const root = options.rootDirectory ?? project?.directory;
    if (root !== undefined) {
        settings.options.rootDirectory = path.resolve(root);
    }
    let run;
    try {
        run = await evaluateProgram(file !== undefined ? moduleProgram(file) : options.program, {
            stack: options.stack ?? "local",
            project: projectName,
            config,
        });
    } finally {
        settings.options.rootDirectory = previousRoot;
    }
    const program = await readProgram(run);
    const machine = selectStateMachine(program, options.workflow);
    const harness = new LocalHarness({
        program,
        stateMachines: [machine.arn],
        timeScale,
        ...(options.tasks !== undefined ? { tasks: options.tasks } : {}),
        ...(options.onTrace !== undefined ? { onTrace: options.onTrace } : {}),
    });
    let execution: Execution;
    try {
        await harness.start();
        execution = harness.startExecution(options.input === undefined ? {} : options.input);
        await execution.done;
    } finally {
        // Stopped first: the worker invocations that answered end, and are traced, after the execution.
        await harness.stop();
    }
    return {
        workflow: machine.name,
        stateMachineArn: machine.arn,
        executionArn: execution.executionArn,
        status: execution.status,
        output: execution.output,
        error: execution.error,
        cause: execution.cause,
        failures: execution.failures,
        expected: describeExpectation(expectation),
        asExpected: meetsExpectation(execution, expectation),
        durationMs: (execution.stopDate ?? Date.now()) - execution.startDate,
        timeScale,
        snsMessages: harness.snsMessages,
        deadLetters: harness.deadLetters,
        workerLogs: Object.fromEntries([...harness.workers].map(([name, worker]) => [name, [...worker.lines]])),
        trace: harness.orderedTrace,
    };
}
