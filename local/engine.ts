/**
 * Runs a program's state machines offline. A local harness, not a production runtime: production runs
 * on AWS.
 *
 * - The interpreter is aws-local-stepfunctions, given the definition the program registered, its
 *   durations on the harness's clock and the fields it reads otherwise than Step Functions
 *   rewritten (see {@link runnableDefinition}). What it cannot run faithfully is
 *   refused before anything starts (support.ts).
 * - Each `sqs:sendMessage.waitForTaskToken` task puts its message on the in-memory queue of the URL it
 *   names, with a fresh task token, and waits for that token's answer; Parallel branches and Map
 *   iterations each get their own. `HeartbeatSeconds` is enforced here (the interpreter ignores it).
 *   SNS publishes are recorded. Other tasks run the caller's handlers.
 * - Each queue's consumer is the function the program's event source mapping names, its code as the
 *   program bundled it, in a process of its own with only Lambda's environment, its SDK pointed at a
 *   loopback endpoint that answers SendTask* against the pending tokens (`TaskTimedOut` for unknown or
 *   used ones) and StartExecution/DescribeExecution for the smoke script. Every other AWS endpoint of
 *   the worker is that loopback endpoint too, so nothing leaves the machine.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { SQSRecord } from "aws-lambda";
import { ExecutionTimeoutError, StateMachine } from "aws-local-stepfunctions";
import { tokenRef } from "../handlers/callback/message";
import { LambdaProcess } from "./lambda-process";
import type { LocalProgram, LocalQueue, LocalStateMachine, LocalWorker } from "./program";
import { EventSourcePoller, InMemoryQueue, type InvocationResult } from "./queue";
import { FakeStepFunctions, sfnError, type Reply, type SfnCall } from "./sfn-endpoint";
import { LocalRunError, supportProblems, type TaskRoute } from "./support";

/** One line of the trace: what happened, when, where. */
export interface TraceEvent {
    /** Milliseconds since the harness started (then since its first execution started), on the wall clock. */
    readonly atMs: number;
    /** The same on the stack's clock: the wall clock × the time scale. */
    readonly atStackSeconds: number;
    readonly source: "execution" | "state" | "sqs" | "worker" | "sfn" | "sns" | "dlq";
    readonly text: string;
}

export interface SnsMessage {
    readonly topicArn: string;
    readonly subject: string | undefined;
    readonly message: string;
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** A state that failed during an execution (caught or not), with the error and cause it failed with. */
export interface StateFailure {
    readonly state: string;
    /** The Map iteration it failed in. */
    readonly index?: number;
    readonly error: string | undefined;
    readonly cause: string | undefined;
    /** The state was retried after this failure (its Retry matched). */
    retried?: boolean;
}

export interface Execution {
    readonly executionArn: string;
    readonly name: string;
    readonly stateMachineArn: string;
    readonly input: unknown;
    readonly startDate: number;
    status: ExecutionStatus;
    stopDate?: number;
    output?: unknown;
    /** The execution's error and cause, as DescribeExecution gives them (undefined when it has none). */
    error?: string;
    cause?: string;
    /** Every state failure, in order: the first is usually where it went wrong. */
    readonly failures: StateFailure[];
    /** Settles when the execution ends. */
    done: Promise<void>;
}

/** A Task state run by the caller: takes the state's effective input (after `Parameters`), returns its result. */
export type LocalTaskHandler = (input: unknown) => unknown;

/** Faults to inject: what the `npm start` scenarios exercise. */
export interface Faults {
    /** No worker consumes the queues: nothing answers. */
    readonly noWorkers?: boolean;
    /** Every message body loses its task token, as a producer bug would. */
    readonly poison?: boolean;
    /** The workers start polling this many stack seconds after the first execution starts: a backlog. */
    readonly workerDelaySeconds?: number;
    /** The first invocation of any worker crashes before it answers anything. */
    readonly crashFirstInvocation?: boolean;
    /** The endpoint never answers the first SendTask* call: a black-holed connection. */
    readonly hangFirstCall?: boolean;
}

export interface EngineOptions {
    readonly program: LocalProgram;
    /** The ARNs of the state machines to run (the others are not checked or served). Default: all. */
    readonly stateMachines?: readonly string[];
    /**
     * How many times faster than the wall clock the stack's clock runs: task timeouts, heartbeat
     * timeouts, Wait durations, retry intervals and the queues' visibility timeouts are divided by it.
     * The workers run unchanged, on the wall clock. Default 1.
     */
    readonly timeScale?: number;
    /** Task states run by these handlers instead, by state name. */
    readonly tasks?: Readonly<Record<string, LocalTaskHandler>>;
    readonly faults?: Faults;
    /** The workers' POWERTOOLS_LOG_LEVEL. Default: the program's. */
    readonly workerLogLevel?: string;
    readonly onTrace?: (event: TraceEvent) => void;
}

/** A state machine the harness can run, with how it runs each task. */
interface Plan {
    readonly machine: LocalStateMachine;
    readonly routes: ReadonlyMap<string, TaskRoute>;
    /** State name → the Map and Parallel states it runs inside. */
    readonly ancestors: ReadonlyMap<string, readonly string[]>;
    /** State name → its definition (every depth). */
    readonly states: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
    /** The definition on the harness's clock, as the interpreter runs it. */
    readonly runnable: Record<string, unknown>;
}

interface PendingToken {
    readonly executionArn: string;
    readonly state: string;
    readonly resolve: (output: unknown) => void;
    readonly reject: (error: Error) => void;
    /** Restarts the heartbeat timeout (HeartbeatSeconds), when the task has one. */
    readonly beat: () => void;
    readonly stopClock: () => void;
}

/**
 * Ends the wait of a task whose execution (or Map or Parallel) is over: its promise is rejected, so the
 * interpreter's own timeout timer for it is cleared instead of keeping the process alive until it fires.
 * Nothing reads the outcome: the execution has already ended.
 */
function settleOver(pending: PendingToken): void {
    const error = new Error(`The task ${pending.state} is over: its execution or container ended.`);
    error.name = "States.TaskOver";
    pending.reject(error);
}

/** Step Functions' default task timeout: 99999999 seconds (the interpreter's is 60). */
const TASK_DEFAULT_TIMEOUT_SECONDS = 99_999_999;
/** The longest timer Node.js keeps (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER_SECONDS = 2_147_483;
/** The interpreter's default retry interval, which scales with the clock too. */
const DEFAULT_RETRY_INTERVAL_SECONDS = 1;
/** The interpreter's placeholders for a Fail state without Error or Cause (Step Functions gives none). */
const FAIL_STATE_DEFAULTS = { error: "FailStateError", cause: "Execution failed because of a Fail state" };

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

const scaled = (seconds: number, timeScale: number): number => Math.min(seconds / timeScale, MAX_TIMER_SECONDS);

/** The Choice type tests, which the interpreter only matches when they are `true`. */
const TYPE_TESTS = ["IsPresent", "IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"] as const;

/** A Choice rule as Step Functions reads it, for the interpreter: `{IsPresent: false}` as `{Not: {IsPresent: true}}`. */
function choiceRule(rule: unknown): unknown {
    if (!isRecord(rule)) {
        return rule;
    }
    const copy: Record<string, unknown> = { ...rule };
    for (const key of ["And", "Or"]) {
        if (Array.isArray(rule[key])) {
            copy[key] = (rule[key] as unknown[]).map(choiceRule);
        }
    }
    if (rule["Not"] !== undefined) {
        copy["Not"] = choiceRule(rule["Not"]);
    }
    const test = TYPE_TESTS.find((key) => rule[key] === false);
    if (test !== undefined) {
        const { Next: next, [test]: _false, ...condition } = copy;
        return { Not: { ...condition, [test]: true }, ...(next !== undefined ? { Next: next } : {}) };
    }
    return copy;
}

/**
 * A copy of an ASL definition for the interpreter, as Step Functions would run it, on the harness's
 * clock. Where the interpreter (aws-local-stepfunctions 3.0.0) reads a field otherwise than Step
 * Functions, the field is rewritten to what it reads as Step Functions means it:
 * - `ResultPath: "$"` (the result replaces the input) is left out, its default: the interpreter would
 *   put the result under a key named "$";
 * - a Choice type test that is `false` becomes `Not` of the test (the interpreter never matches one);
 * - a Task without a timeout gets Step Functions' default (the interpreter's would be 60 s);
 * - `HeartbeatSeconds` is left out: the harness enforces it.
 * Durations on the harness's clock: the machine's and each task's `TimeoutSeconds`, each Wait's
 * `Seconds` and each retrier's `IntervalSeconds` and `MaxDelaySeconds` divided by `timeScale` (the
 * interpreter times them with setTimeout, fractions included), capped at the longest timer Node.js
 * keeps. Only these state fields change: a payload field that happens to be called `Seconds` does not.
 */
export function runnableDefinition(
    definition: Readonly<Record<string, unknown>>,
    timeScale: number,
): Record<string, unknown> {
    const machine = (sub: Readonly<Record<string, unknown>>, top: boolean): Record<string, unknown> => {
        const copy: Record<string, unknown> = { ...sub };
        if (top && typeof sub["TimeoutSeconds"] === "number") {
            copy["TimeoutSeconds"] = scaled(sub["TimeoutSeconds"], timeScale);
        }
        if (isRecord(sub["States"])) {
            copy["States"] = Object.fromEntries(
                Object.entries(sub["States"]).map(([name, state]) => [
                    name,
                    isRecord(state) ? runnableState(state) : state,
                ]),
            );
        }
        return copy;
    };
    const runnableState = (state: Readonly<Record<string, unknown>>): Record<string, unknown> => {
        const { HeartbeatSeconds: _enforcedByTheHarness, ...rest } = state;
        const copy: Record<string, unknown> = { ...rest };
        if (state["ResultPath"] === "$") {
            delete copy["ResultPath"];
        }
        if (Array.isArray(state["Catch"])) {
            copy["Catch"] = state["Catch"].map((catcher: unknown) => {
                if (!isRecord(catcher) || catcher["ResultPath"] !== "$") {
                    return catcher;
                }
                const { ResultPath: _whole, ...kept } = catcher;
                return kept;
            });
        }
        if (state["Type"] === "Choice" && Array.isArray(state["Choices"])) {
            copy["Choices"] = state["Choices"].map(choiceRule);
        }
        if (state["Type"] === "Task" && state["TimeoutSecondsPath"] === undefined) {
            copy["TimeoutSeconds"] = scaled(
                typeof state["TimeoutSeconds"] === "number" ? state["TimeoutSeconds"] : TASK_DEFAULT_TIMEOUT_SECONDS,
                timeScale,
            );
        }
        if (state["Type"] === "Wait" && typeof state["Seconds"] === "number") {
            copy["Seconds"] = scaled(state["Seconds"], timeScale);
        }
        if (Array.isArray(state["Retry"])) {
            copy["Retry"] = state["Retry"].map((retrier: unknown) =>
                isRecord(retrier)
                    ? {
                          ...retrier,
                          IntervalSeconds: scaled(
                              typeof retrier["IntervalSeconds"] === "number"
                                  ? retrier["IntervalSeconds"]
                                  : DEFAULT_RETRY_INTERVAL_SECONDS,
                              timeScale,
                          ),
                          ...(typeof retrier["MaxDelaySeconds"] === "number"
                              ? { MaxDelaySeconds: scaled(retrier["MaxDelaySeconds"], timeScale) }
                              : {}),
                      }
                    : retrier,
            );
        }
        if (Array.isArray(state["Branches"])) {
            copy["Branches"] = state["Branches"].map((branch: unknown) =>
                isRecord(branch) ? machine(branch, false) : branch,
            );
        }
        for (const key of ["ItemProcessor", "Iterator"]) {
            const sub = state[key];
            if (isRecord(sub)) {
                copy[key] = machine(sub, false);
            }
        }
        return copy;
    };
    return machine(definition, true);
}

/** Definitions the interpreter has validated, by their JSON: its validator compiles schemas (~0.3 s). */
const validated = new Set<string>();

function interpreterProblems(definition: Readonly<Record<string, unknown>>): string[] {
    const key = JSON.stringify(definition);
    if (validated.has(key)) {
        return [];
    }
    try {
        new StateMachine(definition as never);
    } catch (error) {
        return [`The interpreter refuses it: ${error instanceof Error ? error.message : String(error)}`];
    }
    validated.add(key);
    return [];
}

/** Replaces the context sentinels in a task's input with this task's values, in every string. */
function fillIn(value: unknown, replacements: ReadonlyArray<readonly [string, string]>): unknown {
    if (typeof value === "string") {
        return replacements.reduce((text, [from, to]) => text.replaceAll(from, to), value);
    }
    if (Array.isArray(value)) {
        return value.map((item) => fillIn(item, replacements));
    }
    if (isRecord(value)) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillIn(item, replacements)]));
    }
    return value;
}

/** The module file and export of a Lambda `handler` setting (`index.handler` → index.mjs/.js/.cjs, `handler`). */
function handlerEntry(worker: LocalWorker): { file: string; exportName: string } {
    const dot = worker.handler.lastIndexOf(".");
    const base = dot > 0 ? worker.handler.slice(0, dot) : worker.handler;
    const exportName = dot > 0 ? worker.handler.slice(dot + 1) : "handler";
    const file = [".mjs", ".js", ".cjs"].map((ext) => `${base}${ext}`).find((name) => worker.files.has(name));
    if (file === undefined) {
        throw new LocalRunError(
            `Function "${worker.name}": its handler ${worker.handler} names no module of its code (${[...worker.files.keys()].join(", ")}).`,
        );
    }
    return { file, exportName };
}

export class LocalHarness {
    public readonly trace: TraceEvent[] = [];
    public readonly snsMessages: SnsMessage[] = [];
    public readonly executions = new Map<string, Execution>();
    /** The in-memory queues the state machines send to, by queue URL. */
    public readonly queues = new Map<string, InMemoryQueue>();
    /** The worker processes, by function logical name (their log lines are in `lines`). */
    public readonly workers = new Map<string, LambdaProcess>();
    private readonly plans = new Map<string, Plan>();
    private readonly queueSpecs = new Map<string, LocalQueue>();
    private readonly pending = new Map<string, PendingToken>();
    private readonly runs = new Map<string, () => void>();
    private readonly pollers: EventSourcePoller[] = [];
    private readonly timers = new Set<NodeJS.Timeout>();
    /** Stands in for the per-task context values until the task's handler fills them in. */
    private readonly sentinels = {
        token: `LocalTaskToken${randomBytes(8).toString("hex")}`,
        stateName: `LocalStateName${randomBytes(8).toString("hex")}`,
        enteredTime: `LocalEnteredTime${randomBytes(8).toString("hex")}`,
    };
    private endpoint: FakeStepFunctions | undefined;
    private directory: string | undefined;
    private started = Date.now();
    private sequence = 0;
    private invocations = 0;
    private hung = false;

    /** Checks every state machine it is to run; throws {@link LocalRunError} with every problem. */
    constructor(private readonly options: EngineOptions) {
        const machines = options.program.stateMachines.filter(
            (m) => options.stateMachines === undefined || options.stateMachines.includes(m.arn),
        );
        const queues = new Map(
            options.program.queues.map((q) => [q.url, { name: q.name, consumed: q.consumer !== undefined }]),
        );
        const context = {
            queues,
            localHandlers: new Set(Object.keys(options.tasks ?? {})),
            timeScale: this.timeScale,
        };
        for (const machine of machines) {
            const { problems, routes, states } = supportProblems(machine.definition, context);
            if (problems.length === 0) {
                problems.push(...interpreterProblems(machine.definition));
            }
            if (problems.length > 0) {
                throw new LocalRunError(
                    `The local harness does not run state machine "${machine.name}": it could not run it as Step Functions would.`,
                    problems,
                );
            }
            for (const route of routes.values()) {
                if (route.kind === "callback") {
                    this.queueSpecs.set(
                        route.queueUrl,
                        options.program.queues.find((q) => q.url === route.queueUrl) as LocalQueue,
                    );
                }
            }
            this.plans.set(machine.arn, {
                machine,
                routes,
                ancestors: new Map(states.map((s) => [s.name, s.ancestors])),
                states: new Map(states.map((s) => [s.name, s.state])),
                runnable: runnableDefinition(machine.definition, this.timeScale),
            });
        }
    }

    /** The time scale: how many times faster than the wall clock the stack's clock runs. */
    public get timeScale(): number {
        return this.options.timeScale ?? 1;
    }

    /** The loopback Step Functions endpoint (for AWS_ENDPOINT_URL_SFN). */
    public get endpointUrl(): string {
        if (this.endpoint === undefined) {
            throw new Error("The harness is not started.");
        }
        return this.endpoint.url;
    }

    /** Every message moved to a dead-letter queue, with its queue's logical name. */
    public get deadLetters(): Array<{ queue: string; messageId: string; receiveCount: number; body: string }> {
        return [...this.queues].flatMap(([url, queue]) =>
            queue.deadLetters.map(({ messageId, receiveCount, body }) => ({
                queue: this.queueSpecs.get(url)?.name ?? url,
                messageId,
                receiveCount,
                body,
            })),
        );
    }

    /** Starts the endpoint, the queues and a process per worker that consumes a queue the machines send to. */
    public async start(): Promise<void> {
        this.endpoint = await FakeStepFunctions.start();
        this.endpoint.respond((call) => this.answer(call));
        const faults = this.options.faults ?? {};
        const consumers = new Map<LocalWorker, LocalQueue[]>();
        for (const [url, spec] of this.queueSpecs) {
            this.queues.set(
                url,
                new InMemoryQueue({
                    arn: spec.arn,
                    visibilityTimeoutMs: this.stackMs(spec.visibilityTimeoutSeconds),
                    maxReceiveCount: spec.maxReceiveCount ?? Number.POSITIVE_INFINITY,
                    onDeadLetter: (message) =>
                        this.log(
                            "dlq",
                            `message ${message.messageId} moved to the dead-letter queue of ${spec.name} after ${message.receiveCount} receives`,
                        ),
                }),
            );
            if (spec.consumer !== undefined && faults.noWorkers !== true) {
                consumers.set(spec.consumer.worker, [...(consumers.get(spec.consumer.worker) ?? []), spec]);
            }
        }
        if (consumers.size === 0) {
            return;
        }
        this.directory = await mkdtemp(path.join(os.tmpdir(), "callback-workflow-local-"));
        const named = consumers.size > 1;
        await Promise.all(
            [...consumers].map(async ([worker, queues]) => {
                const lambda = await this.startWorker(worker);
                for (const spec of queues) {
                    const queue = this.queues.get(spec.url) as InMemoryQueue;
                    const poller = new EventSourcePoller(queue, {
                        batchSize: spec.consumer?.batchSize ?? 10,
                        pollIntervalMs: 20,
                        invoke: (event) => {
                            this.invocations += 1;
                            if (faults.crashFirstInvocation === true && this.invocations === 1) {
                                return Promise.resolve({
                                    ok: false as const,
                                    error: {
                                        name: "Runtime.ExitError",
                                        message: "the worker crashed before answering",
                                    },
                                });
                            }
                            return lambda.invoke(event, { timeoutMs: worker.timeoutSeconds * 1000 });
                        },
                        onInvocation: (records, result) =>
                            this.logInvocation(records, result, named ? worker.name : undefined),
                    });
                    this.pollers.push(poller);
                    if ((faults.workerDelaySeconds ?? 0) <= 0) {
                        poller.start();
                    } // else from the first execution's start: a backlog (see startExecution)
                }
            }),
        );
    }

    private async startWorker(worker: LocalWorker): Promise<LambdaProcess> {
        const dir = path.join(this.directory as string, worker.name);
        for (const [file, contents] of worker.files) {
            await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
            await writeFile(path.join(dir, file), contents);
        }
        const { file, exportName } = handlerEntry(worker);
        const endpoint = this.endpointUrl;
        let lambda: LambdaProcess;
        try {
            lambda = await LambdaProcess.start(
                path.join(dir, file),
                {
                    ...worker.environment,
                    AWS_LAMBDA_FUNCTION_NAME: worker.functionName,
                    // Every AWS call the worker makes goes to the loopback endpoint; Step Functions' is answered.
                    AWS_ENDPOINT_URL: endpoint,
                    AWS_ENDPOINT_URL_SFN: endpoint,
                    ...(this.options.workerLogLevel !== undefined
                        ? { POWERTOOLS_LOG_LEVEL: this.options.workerLogLevel }
                        : {}),
                },
                { exportName },
            );
        } catch (error) {
            // The program's code for the function, loaded as Lambda loads it: a worker that cannot start.
            const reason = error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error);
            throw new LocalRunError(
                `Function "${worker.name}" does not load as Lambda would load it (${worker.handler}): ${reason.replace(/^The bundle failed to load: /, "")}`,
            );
        }
        this.workers.set(worker.name, lambda);
        return lambda;
    }

    /** Resolves once every queue is empty (or after `stackSeconds` on the stack's clock). */
    public async drained(stackSeconds: number): Promise<void> {
        const until = Date.now() + this.stackMs(stackSeconds);
        while ([...this.queues.values()].some((q) => q.depth > 0) && Date.now() < until) {
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
    }

    /** Stack seconds as wall-clock milliseconds on the harness's clock. */
    private stackMs(seconds: number): number {
        return Math.min(seconds / this.timeScale, MAX_TIMER_SECONDS) * 1000;
    }

    private later(fn: () => void, ms: number): NodeJS.Timeout {
        const timer = setTimeout(() => {
            this.timers.delete(timer);
            fn();
        }, ms);
        this.timers.add(timer);
        return timer;
    }

    /** Stops everything; executions still running are aborted. */
    public async stop(): Promise<void> {
        for (const abort of this.runs.values()) {
            abort();
        }
        this.timers.forEach(clearTimeout);
        this.timers.clear();
        await Promise.all(this.pollers.map((p) => p.stop()));
        await Promise.all([...this.workers.values()].map((w) => w.stop()));
        await this.endpoint?.close();
        const over = [...this.pending.values()];
        this.pending.clear();
        over.forEach(settleOver);
        await Promise.all([...this.executions.values()].map((e) => e.done));
        if (this.directory !== undefined) {
            await rm(this.directory, { recursive: true, force: true });
        }
    }

    /**
     * Starts an execution of a state machine (default: the only one it runs); it runs until it ends
     * (see `Execution.done`).
     */
    public startExecution(input: unknown, name = `local-${++this.sequence}`, stateMachineArn?: string): Execution {
        const plan = this.planFor(stateMachineArn);
        const machine = plan.machine;
        const executionArn = `${machine.arn.replace(":stateMachine:", ":execution:")}:${name}`;
        const startDate = Date.now();
        if (this.executions.size === 0) {
            this.started = startDate; // the trace's times are the first execution's
            const delay = this.options.faults?.workerDelaySeconds ?? 0;
            if (delay > 0 && this.pollers.length > 0) {
                this.log("worker", `starts polling in ${delay} s (a backlog)`);
                this.later(() => this.pollers.forEach((p) => p.start()), this.stackMs(delay));
            }
        }
        const execution: Execution = {
            executionArn,
            name,
            stateMachineArn: machine.arn,
            input,
            startDate,
            status: "RUNNING",
            failures: [],
            done: Promise.resolve(),
        };
        this.log("execution", `started ${executionArn} with input ${JSON.stringify(input)}`);
        const handlers = Object.fromEntries(
            [...plan.routes].map(([state, route]) => [
                state,
                (parameters: unknown) => this.runTask(execution, plan, state, route, parameters),
            ]),
        );
        const run = new StateMachine(plan.runnable as never, {
            // Validated once, when the harness was made (interpreterProblems).
            validationOptions: { noValidate: true },
        }).run(input as never, {
            overrides: { taskResourceLocalHandlers: handlers as never },
            context: {
                Execution: {
                    Id: executionArn,
                    Name: name,
                    StartTime: new Date(startDate).toISOString(),
                    Input: input,
                    RoleArn: machine.roleArn,
                    RedriveCount: 0,
                },
                StateMachine: { Id: machine.arn, Name: machine.arn.split(":").pop() },
                State: { Name: this.sentinels.stateName, EnteredTime: this.sentinels.enteredTime },
                Task: { Token: this.sentinels.token },
            } as never,
        });
        this.runs.set(executionArn, run.abort);
        execution.done = this.follow(execution, plan, run);
        this.executions.set(executionArn, execution);
        return execution;
    }

    private planFor(stateMachineArn: string | undefined): Plan {
        if (stateMachineArn !== undefined) {
            const plan = this.plans.get(stateMachineArn);
            if (plan === undefined) {
                throw new Error(`The harness does not run ${stateMachineArn}.`);
            }
            return plan;
        }
        if (this.plans.size !== 1) {
            throw new Error(`The harness runs ${this.plans.size} state machines: name one.`);
        }
        return [...this.plans.values()][0] as Plan;
    }

    /** Runs one Task state the harness handles, its context values filled in. */
    private runTask(
        execution: Execution,
        plan: Plan,
        state: string,
        route: TaskRoute,
        parameters: unknown,
    ): Promise<unknown> {
        const token = randomBytes(96).toString("base64");
        const input = fillIn(parameters, [
            [this.sentinels.token, token],
            [this.sentinels.stateName, state],
            [this.sentinels.enteredTime, new Date().toISOString()],
        ]);
        switch (route.kind) {
            case "callback":
                return this.sendAndWait(execution, plan, state, route.queueUrl, input, token);
            case "sns-publish":
                return Promise.resolve(this.publish(input));
            case "local-handler":
                return Promise.resolve().then(() => (this.options.tasks?.[state] as LocalTaskHandler)(input));
        }
    }

    /** Traces the execution's events and records how it ends, with its real error and cause. */
    private async follow(
        execution: Execution,
        plan: Plan,
        run: { result: Promise<unknown>; eventLogs: AsyncGenerator<unknown> },
    ): Promise<void> {
        // A Fail state without Error or Cause ends an execution with none; the interpreter reports placeholders.
        let failStateDefaults = { error: false, cause: false };
        const real = (value: string | undefined, placeholder: string, isPlaceholder: boolean) =>
            isPlaceholder && value === placeholder ? undefined : value;
        for await (const event of run.eventLogs) {
            const e = event as {
                type: string;
                timestamp?: number;
                index?: number;
                state?: { name: string; type: string };
                Error?: string;
                Cause?: string;
                retry?: { attempt: number };
            };
            const name = e.state?.name ?? "";
            const where = `${name}${e.index !== undefined ? ` [item ${e.index}]` : ""}`;
            switch (e.type) {
                case "StateEntered":
                    this.log("state", `entered ${where}`, e.timestamp);
                    break;
                case "StateExited":
                    this.log("state", `left    ${where}`, e.timestamp);
                    this.voidNested(execution, plan, name);
                    break;
                case "StateFailed": {
                    const definition = plan.states.get(name) ?? {};
                    const isFail = e.state?.type === "Fail";
                    failStateDefaults = {
                        error: isFail && definition["Error"] === undefined && definition["ErrorPath"] === undefined,
                        cause: isFail && definition["Cause"] === undefined && definition["CausePath"] === undefined,
                    };
                    const error = real(e.Error, FAIL_STATE_DEFAULTS.error, failStateDefaults.error);
                    const cause = real(e.Cause, FAIL_STATE_DEFAULTS.cause, failStateDefaults.cause);
                    execution.failures.push({
                        state: name,
                        ...(e.index !== undefined ? { index: e.index } : {}),
                        error,
                        cause,
                    });
                    this.log(
                        "state",
                        `failed  ${where}${error ? `: ${error}` : ""}${cause ? `: ${cause}` : ""}`,
                        e.timestamp,
                    );
                    this.voidNested(execution, plan, name);
                    break;
                }
                case "StateCaught":
                    this.log("state", `caught  ${where}`, e.timestamp);
                    break;
                case "StateRetried": {
                    this.log("state", `retried ${where} (attempt ${(e.retry?.attempt ?? 0) + 1})`, e.timestamp);
                    const failed = [...execution.failures]
                        .reverse()
                        .find((f) => f.state === name && f.index === e.index && f.retried !== true);
                    if (failed !== undefined) {
                        failed.retried = true;
                    }
                    break;
                }
                case "ExecutionFailed":
                    execution.error = real(e.Error, FAIL_STATE_DEFAULTS.error, failStateDefaults.error);
                    execution.cause = real(e.Cause, FAIL_STATE_DEFAULTS.cause, failStateDefaults.cause);
                    break;
                default:
                    break;
            }
        }
        try {
            execution.output = await run.result;
            execution.status = "SUCCEEDED";
        } catch (error) {
            if (error instanceof ExecutionTimeoutError) {
                execution.status = "TIMED_OUT";
                execution.error = "States.Timeout";
            } else if (error instanceof Error && error.name === "ExecutionAbortedError") {
                execution.status = "ABORTED";
            } else {
                execution.status = "FAILED";
                if (execution.error === undefined && execution.cause === undefined) {
                    const cause = (error as { cause?: unknown }).cause;
                    execution.error = cause instanceof Error ? cause.name : String(error);
                    execution.cause = cause instanceof Error ? cause.message : undefined;
                }
            }
        }
        this.runs.delete(execution.executionArn);
        execution.stopDate = Date.now();
        // Its tasks are over: an answer to one of their tokens is now TaskTimedOut, as on AWS.
        for (const [token, pending] of this.pending) {
            if (pending.executionArn === execution.executionArn) {
                this.pending.delete(token);
                settleOver(pending);
            }
        }
        const took = execution.stopDate - execution.startDate;
        this.log("execution", `${execution.status}${execution.error ? ` (${execution.error})` : ""} in ${took} ms`);
    }

    /** A Map or Parallel state has ended (or failed): the tokens of the tasks inside it are over. */
    private voidNested(execution: Execution, plan: Plan, container: string): void {
        for (const [token, pending] of this.pending) {
            if (
                pending.executionArn === execution.executionArn &&
                (plan.ancestors.get(pending.state) ?? []).includes(container)
            ) {
                this.pending.delete(token);
                settleOver(pending);
                this.log("sfn", `task token ${tokenRef(token)} of ${pending.state} is over: ${container} ended`);
            }
        }
    }

    /**
     * `sqs:sendMessage.waitForTaskToken`: enqueue on the queue the task names, then wait for the
     * token's answer. `TimeoutSeconds` is the interpreter's (scaled); `HeartbeatSeconds` the harness
     * enforces, as Step Functions does: from the moment the message is sent, restarted by every beat.
     */
    private sendAndWait(
        execution: Execution,
        plan: Plan,
        state: string,
        queueUrl: string,
        parameters: unknown,
        token: string,
    ): Promise<unknown> {
        // An ApprovalChannel's request waits for a person on its page, which only the human-approval
        // scenario serves (on 127.0.0.1): elsewhere nobody could decide, so the task fails at once, saying so.
        const page = this.options.program.queues.find((q) => q.url === queueUrl)?.consumer?.worker.environment[
            "APPROVAL_PAGE_URL"
        ];
        if (page !== undefined && !/^http:\/\/127\.0\.0\.1[:/]/.test(page)) {
            this.log("sfn", `${state} is an approval: no local page serves it`);
            const error = new Error(
                `Task "${state}" is an approval (an ApprovalChannel's): a person decides it on the approval page, which the local harness does not serve for your program. Give it a local handler that decides (runLocally's tasks: {"${state}": () => ({decision: "approved", approver: "you@example.com", comment: "", decidedAt: new Date().toISOString()})}).`,
            );
            error.name = "Local.ApprovalNotServed";
            return Promise.reject(error);
        }
        const heartbeat = plan.states.get(state)?.["HeartbeatSeconds"];
        const heartbeatSeconds = typeof heartbeat === "number" ? heartbeat : undefined;
        const params = isRecord(parameters) ? parameters : {};
        let message = params["MessageBody"];
        const poison = this.options.faults?.poison === true && isRecord(message);
        if (poison) {
            const { TaskToken: _dropped, ...rest } = message as Record<string, unknown>;
            message = rest;
        }
        // SQS carries a string body as it is; an object is sent as its JSON.
        const body = typeof message === "string" ? message : JSON.stringify(message);
        const queue = this.queues.get(queueUrl) as InMemoryQueue;
        const messageId = queue.send(body);
        const spec = this.queueSpecs.get(queueUrl);
        const many =
            this.queueSpecs.size > 1 ||
            [...this.plans.values()].some(
                (p) => [...p.routes.values()].filter((r) => r.kind === "callback").length > 1,
            );
        this.log(
            "sqs",
            `message ${messageId} sent${many ? ` to ${spec?.name ?? queueUrl} by ${state}` : ""} (token ${tokenRef(token)}${poison ? ", body corrupted: no TaskToken" : ""})`,
        );
        return new Promise((resolve, reject) => {
            let timer: NodeJS.Timeout | undefined;
            const stopClock = (): void => {
                if (timer !== undefined) {
                    clearTimeout(timer);
                    this.timers.delete(timer);
                }
            };
            const beat = (): void => {
                stopClock();
                if (heartbeatSeconds !== undefined) {
                    timer = this.later(() => {
                        this.pending.delete(token);
                        this.log("sfn", `no heartbeat for ${heartbeatSeconds} s: States.HeartbeatTimeout`);
                        const error = new Error(`No heartbeat for ${heartbeatSeconds} s.`);
                        error.name = "States.HeartbeatTimeout";
                        reject(error);
                    }, this.stackMs(heartbeatSeconds));
                }
            };
            this.pending.set(token, {
                executionArn: execution.executionArn,
                state,
                resolve: (output) => {
                    stopClock();
                    resolve(output);
                },
                reject: (error) => {
                    stopClock();
                    reject(error);
                },
                beat,
                stopClock,
            });
            beat(); // the heartbeat clock starts when the message is sent
        });
    }

    private publish(parameters: unknown): { MessageId: string } {
        const params = isRecord(parameters) ? parameters : {};
        const message = params["Message"];
        const sns: SnsMessage = {
            topicArn: text(params["TopicArn"] ?? params["TargetArn"] ?? params["PhoneNumber"]),
            subject: typeof params["Subject"] === "string" ? params["Subject"] : undefined,
            message: typeof message === "string" ? message : JSON.stringify(message),
        };
        this.snsMessages.push(sns);
        this.log("sns", `published${sns.subject !== undefined ? ` "${sns.subject}"` : ""}: ${sns.message}`);
        return { MessageId: `local-${this.snsMessages.length}` };
    }

    /** The loopback endpoint's answers, as Step Functions gives them. */
    private answer(call: SfnCall): Reply {
        const body = call.body;
        switch (call.operation) {
            case "SendTaskSuccess":
            case "SendTaskFailure":
            case "SendTaskHeartbeat": {
                const token = text(body["taskToken"]);
                if (this.options.faults?.hangFirstCall === true && !this.hung) {
                    this.hung = true;
                    this.log("sfn", `${call.operation} for ${tokenRef(token)}: no answer (a black-holed connection)`);
                    return { hang: true };
                }
                const pending = this.pending.get(token);
                if (pending === undefined) {
                    this.log(
                        "sfn",
                        `${call.operation} for ${tokenRef(token)}: TaskTimedOut (unknown or already answered)`,
                    );
                    return sfnError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
                }
                if (call.operation === "SendTaskHeartbeat") {
                    pending.beat();
                } else if (call.operation === "SendTaskSuccess") {
                    let output: unknown;
                    try {
                        output = JSON.parse(text(body["output"]));
                    } catch {
                        return sfnError("InvalidOutput", "Invalid output: not JSON.");
                    }
                    this.pending.delete(token);
                    pending.resolve(output);
                } else {
                    this.pending.delete(token);
                    const error = new Error(text(body["cause"]));
                    error.name = text(body["error"]);
                    pending.reject(error);
                }
                this.log(
                    "sfn",
                    `${call.operation} for ${tokenRef(token)}${body["error"] ? ` (${text(body["error"])})` : ""}`,
                );
                return { status: 200, body: {} };
            }
            case "StartExecution": {
                const arn = text(body["stateMachineArn"]);
                if (!this.plans.has(arn)) {
                    return sfnError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
                }
                let input: unknown;
                try {
                    input = body["input"] === undefined ? {} : JSON.parse(text(body["input"]));
                } catch {
                    return sfnError("InvalidExecutionInput", "Invalid execution input: not JSON.");
                }
                const execution = this.startExecution(
                    input,
                    typeof body["name"] === "string" ? body["name"] : undefined,
                    arn,
                );
                return {
                    status: 200,
                    body: { executionArn: execution.executionArn, startDate: execution.startDate / 1000 },
                };
            }
            case "DescribeExecution": {
                const execution = this.executions.get(text(body["executionArn"]));
                if (execution === undefined) {
                    return sfnError(
                        "ExecutionDoesNotExist",
                        `Execution Does Not Exist: '${text(body["executionArn"])}'`,
                    );
                }
                return { status: 200, body: describe(execution) };
            }
            default:
                return sfnError("UnknownOperationException", `The harness does not serve ${call.operation}.`);
        }
    }

    private logInvocation(records: readonly SQSRecord[], result: InvocationResult, worker: string | undefined): void {
        const failures = result.ok ? result.result.batchItemFailures.map((f) => f.itemIdentifier) : [];
        const receives = records.map((r) => r.attributes.ApproximateReceiveCount).join(", ");
        const who = worker !== undefined ? ` (${worker})` : "";
        this.log(
            "worker",
            result.ok
                ? `invoked with ${records.length} record(s) (receive ${receives}) → batchItemFailures [${failures.join(", ")}]${who}`
                : `invoked with ${records.length} record(s) (receive ${receives}) → failed: ${result.error.name}${who}`,
        );
    }

    /**
     * The trace in time order. The interpreter's events reach the harness a moment after they happen,
     * so a state's lines carry the event's own time and may arrive after a later queue or worker line.
     */
    public get orderedTrace(): TraceEvent[] {
        return [...this.trace].sort((a, b) => a.atMs - b.atMs);
    }

    private log(source: TraceEvent["source"], text: string, at = Date.now()): void {
        const atMs = Math.max(0, at - this.started);
        const event = { atMs, atStackSeconds: (atMs * this.timeScale) / 1000, source, text };
        this.trace.push(event);
        this.options.onTrace?.(event);
    }
}

/** A request field as a string ("" when absent). */
function text(value: unknown): string {
    return typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
}

/** DescribeExecution's response for an execution (timestamps in epoch seconds, as the JSON protocol has them). */
function describe(execution: Execution): Record<string, unknown> {
    return {
        executionArn: execution.executionArn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate / 1000,
        input: JSON.stringify(execution.input),
        ...(execution.stopDate !== undefined ? { stopDate: execution.stopDate / 1000 } : {}),
        ...(execution.output !== undefined ? { output: JSON.stringify(execution.output) } : {}),
        ...(execution.error !== undefined ? { error: execution.error } : {}),
        ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
    };
}
