/**
 * The callback flow, offline. A local harness, not a production runtime: production runs on AWS.
 *
 * - The definition is the one the component renders for the dev stack under the mocked runtime (the
 *   same code path as `pulumi up`), with the worker's environment, the queue's redrive and the trigger's
 *   batch size read from the same rendering.
 * - The interpreter is aws-local-stepfunctions. The waitForTaskToken task is overridden to put the
 *   message on an in-memory queue with a fresh task token and wait for that token; SNS publish tasks
 *   record their message.
 * - The worker is the bundled artifact, unchanged, in its own process, its SFN client pointed at a
 *   loopback endpoint that answers SendTask* against the pending tokens (`TaskTimedOut` for unknown or
 *   used ones), and StartExecution/DescribeExecution so that the smoke script runs here as against AWS.
 */
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import type { SQSRecord } from "aws-lambda";
import { StateMachine } from "aws-local-stepfunctions";
import { REPO_ROOT, BUNDLE_ENTRY_FILE } from "../components/bundle";
import { CONFIG_NAMESPACE } from "../components/config";
import { tokenRef } from "../handlers/callback/message";
import { LambdaProcess } from "./lambda-process";
import { resource, runProgram, type ProgramRun } from "./pulumi-program";
import { EventSourcePoller, InMemoryQueue, type InvocationResult } from "./queue";
import { FakeStepFunctions, sfnError, type Reply, type SfnCall } from "./sfn-endpoint";
import { stackConfig } from "./stack-config";

/** One line of the trace: what happened, when (ms since the harness started), where. */
export interface TraceEvent {
    /** Milliseconds since the harness started, on the wall clock. */
    readonly atMs: number;
    /** Seconds since the harness started on the stack's clock: the wall clock × the time scale. */
    readonly atStackSeconds: number;
    readonly source: "execution" | "state" | "sqs" | "worker" | "sfn" | "sns" | "dlq";
    readonly text: string;
}

export interface SnsMessage {
    readonly topicArn: string;
    readonly subject: string;
    readonly message: string;
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED";

export interface Execution {
    readonly executionArn: string;
    readonly name: string;
    readonly input: unknown;
    readonly startDate: number;
    status: ExecutionStatus;
    stopDate?: number;
    output?: unknown;
    error?: string;
    cause?: string;
    /** Settles when the execution ends. */
    done: Promise<void>;
}

export interface RenderedStack {
    readonly definition: Record<string, unknown>;
    readonly stateMachineArn: string;
    readonly queueArn: string;
    readonly maxReceiveCount: number;
    readonly batchSize: number;
    readonly workerEnvironment: Record<string, string>;
    /** The work queue's visibility timeout, as rendered. */
    readonly visibilityTimeoutSeconds: number;
    /** The worker's Lambda timeout, as rendered. */
    readonly workerTimeoutSeconds: number;
}

/**
 * Renders the dev stack under the mocked runtime and takes from it what the harness runs: the
 * definition, the worker's environment, the queue's redrive and the trigger's batch size.
 * `config` overrides keys of the stack config (e.g. a short `taskTimeoutSeconds`).
 */
export async function renderStack(
    stack = "dev",
    config: Record<string, string | undefined> = {},
): Promise<RenderedStack> {
    const merged: Record<string, string> = { ...stackConfig(stack) };
    for (const [key, value] of Object.entries(config)) {
        const full = `${CONFIG_NAMESPACE}:${key}`;
        if (value === undefined) {
            delete merged[full];
        } else {
            merged[full] = value;
        }
    }
    const run: ProgramRun = await runProgram(path.join(REPO_ROOT, "build", "index.js"), { stack, config: merged });
    const machine = resource(run, "aws:sfn/stateMachine:StateMachine", "callback-state-machine");
    const queue = resource(run, "aws:sqs/queue:Queue", "callback-queue");
    const worker = resource(run, "aws:lambda/function:Function", "callback-worker");
    const trigger = resource(run, "aws:lambda/eventSourceMapping:EventSourceMapping", "callback-trigger");
    const redrive = JSON.parse(queue.inputs["redrivePolicy"] as string) as { maxReceiveCount: number };
    return {
        definition: JSON.parse(machine.inputs["definition"] as string) as Record<string, unknown>,
        stateMachineArn: machine.outputs["arn"] as string,
        queueArn: queue.outputs["arn"] as string,
        maxReceiveCount: redrive.maxReceiveCount,
        batchSize: trigger.inputs["batchSize"] as number,
        workerEnvironment: (worker.inputs["environment"] as { variables: Record<string, string> }).variables,
        visibilityTimeoutSeconds: queue.inputs["visibilityTimeoutSeconds"] as number,
        workerTimeoutSeconds: worker.inputs["timeout"] as number,
    };
}

/** Fields of ASL states that are durations in seconds, scaled with the harness's clock. */
const SECONDS_FIELDS = ["TimeoutSeconds", "Seconds", "IntervalSeconds", "MaxDelaySeconds"] as const;

/**
 * A copy of `definition` for the interpreter, on the harness's clock: every duration divided by
 * `timeScale` (aws-local-stepfunctions times them with setTimeout, fractions included), and
 * `HeartbeatSeconds` left out, since the interpreter does not enforce it: the harness does.
 */
export function scaleDefinition(definition: unknown, timeScale: number): unknown {
    if (Array.isArray(definition)) {
        return definition.map((item) => scaleDefinition(item, timeScale));
    }
    if (typeof definition !== "object" || definition === null) {
        return definition;
    }
    return Object.fromEntries(
        Object.entries(definition)
            .filter(([key]) => key !== "HeartbeatSeconds")
            .map(([key, value]) => [
                key,
                (SECONDS_FIELDS as readonly string[]).includes(key) && typeof value === "number"
                    ? value / timeScale
                    : scaleDefinition(value, timeScale),
            ]),
    );
}

export interface HarnessOptions {
    readonly stack: RenderedStack;
    /** Whether a worker consumes the queue (off: nothing answers, the task times out). */
    readonly worker?: boolean;
    /** Corrupts every message body (drops the task token), as a producer bug would. */
    readonly poison?: boolean;
    /**
     * How many times faster than the wall clock the stack's clock runs: the task's timeouts, the
     * heartbeat timeout, retry intervals, the queue's visibility timeout and the backlog are the stack's
     * own numbers divided by this. The worker runs unchanged, on the wall clock. Default 1.
     */
    readonly timeScale?: number;
    /** The worker starts polling this many stack seconds after the harness starts: a backlog. */
    readonly workerDelaySeconds?: number;
    /** The worker's first invocation crashes before it answers anything (as an uncaught error would). */
    readonly crashFirstInvocation?: boolean;
    /** The endpoint never answers the first SendTask* call: a black-holed connection. */
    readonly hangFirstCall?: boolean;
    /** The bundle the worker runs. Default: dist/callback-handler/index.mjs. */
    readonly workerEntryFile?: string;
    readonly onTrace?: (event: TraceEvent) => void;
}

interface PendingToken {
    readonly resolve: (output: unknown) => void;
    readonly reject: (error: Error) => void;
    /** Restarts the heartbeat timeout (Step Functions' HeartbeatSeconds), when the task has one. */
    readonly beat: () => void;
    readonly stopClock: () => void;
}

export class LocalCallbackHarness {
    public readonly trace: TraceEvent[] = [];
    public readonly snsMessages: SnsMessage[] = [];
    public readonly executions = new Map<string, Execution>();
    public queue!: InMemoryQueue;
    /** Where the trace's clock starts: the harness's start, then the first execution's. */
    private started = Date.now();
    private readonly pending = new Map<string, PendingToken>();
    private endpoint: FakeStepFunctions | undefined;
    private lambda: LambdaProcess | undefined;
    private poller: EventSourcePoller | undefined;
    private sequence = 0;
    private invocations = 0;
    private hung = false;
    private readonly timers = new Set<NodeJS.Timeout>();

    constructor(private readonly options: HarnessOptions) {}

    /** The loopback Step Functions endpoint (for AWS_ENDPOINT_URL_SFN). */
    public get endpointUrl(): string {
        if (this.endpoint === undefined) {
            throw new Error("The harness is not started.");
        }
        return this.endpoint.url;
    }

    public async start(): Promise<void> {
        this.queue = new InMemoryQueue({
            arn: this.options.stack.queueArn,
            visibilityTimeoutMs: this.stackMs(this.options.stack.visibilityTimeoutSeconds),
            maxReceiveCount: this.options.stack.maxReceiveCount,
            onDeadLetter: (message) =>
                this.log(
                    "dlq",
                    `message ${message.messageId} moved to the dead-letter queue after ${message.receiveCount} receives`,
                ),
        });
        this.endpoint = await FakeStepFunctions.start();
        this.endpoint.respond((call) => this.answer(call));
        if (this.options.worker ?? true) {
            const entry =
                this.options.workerEntryFile ?? path.join(REPO_ROOT, "dist", "callback-handler", BUNDLE_ENTRY_FILE);
            this.lambda = await LambdaProcess.start(entry, {
                ...this.options.stack.workerEnvironment,
                AWS_ENDPOINT_URL_SFN: this.endpoint.url,
                POWERTOOLS_LOG_LEVEL: "WARN",
            });
            const lambda = this.lambda;
            const timeoutMs = this.options.stack.workerTimeoutSeconds * 1000; // the worker's own, wall clock
            this.poller = new EventSourcePoller(this.queue, {
                batchSize: this.options.stack.batchSize,
                pollIntervalMs: 20,
                invoke: (event) => {
                    this.invocations += 1;
                    if (this.options.crashFirstInvocation === true && this.invocations === 1) {
                        return Promise.resolve({
                            ok: false as const,
                            error: { name: "Runtime.ExitError", message: "the worker crashed before answering" },
                        });
                    }
                    return lambda.invoke(event, { timeoutMs });
                },
                onInvocation: (records, result) => this.logInvocation(records, result),
            });
            if ((this.options.workerDelaySeconds ?? 0) <= 0) {
                this.poller.start();
            } // else from the first execution's start: a backlog (see startExecution)
        }
    }

    /** Resolves once the work queue is empty (or after `stackSeconds` on the stack's clock). */
    public async drained(stackSeconds: number): Promise<void> {
        const until = Date.now() + this.stackMs(stackSeconds);
        while (this.queue.depth > 0 && Date.now() < until) {
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
    }

    /** The time scale: how many times faster than the wall clock the stack's clock runs. */
    public get timeScale(): number {
        return this.options.timeScale ?? 1;
    }

    /** Stack seconds as wall-clock milliseconds on the harness's clock. */
    private stackMs(seconds: number): number {
        return (seconds * 1000) / this.timeScale;
    }

    private later(fn: () => void, ms: number): NodeJS.Timeout {
        const timer = setTimeout(() => {
            this.timers.delete(timer);
            fn();
        }, ms);
        this.timers.add(timer);
        return timer;
    }

    public async stop(): Promise<void> {
        this.timers.forEach(clearTimeout);
        this.timers.clear();
        await this.poller?.stop();
        await this.lambda?.stop();
        await this.endpoint?.close();
        for (const { reject, stopClock } of this.pending.values()) {
            stopClock();
            reject(new Error("The harness stopped."));
        }
        this.pending.clear();
    }

    /** Starts an execution of the rendered definition; it runs until it ends (see `Execution.done`). */
    public startExecution(input: unknown, name = `local-${++this.sequence}`): Execution {
        const stack = this.options.stack;
        const executionArn = `${stack.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
        const token = randomBytes(96).toString("base64");
        const callbackState = this.stateNamed((state) => String(state["Resource"]).endsWith(".waitForTaskToken"));
        const states = stack.definition["States"] as Record<string, { HeartbeatSeconds?: number }>;
        const heartbeatSeconds = states[callbackState]?.HeartbeatSeconds;
        const handlers: Record<string, (input: unknown) => Promise<unknown>> = {
            [callbackState]: (parameters) =>
                this.sendAndWait(parameters as { MessageBody: unknown }, token, heartbeatSeconds),
        };
        for (const snsState of this.statesNamed((state) => String(state["Resource"]).includes(":sns:publish"))) {
            handlers[snsState] = (parameters) =>
                Promise.resolve(this.publish(parameters as { TopicArn: string; Subject: string; Message: string }));
        }
        const startDate = Date.now();
        if (this.sequence === 1) {
            this.started = startDate; // the trace's times are the execution's
        }
        this.log("execution", `started ${executionArn} with input ${JSON.stringify(input)}`);
        const delay = this.options.workerDelaySeconds ?? 0;
        if (this.sequence === 1 && delay > 0 && this.poller !== undefined) {
            const poller = this.poller;
            this.log("worker", `starts polling in ${delay} s (a backlog)`);
            this.later(() => poller.start(), this.stackMs(delay));
        }
        const machine = new StateMachine(scaleDefinition(stack.definition, this.timeScale) as never, {
            // The definition was validated when it was rendered (validateDefinition), and the tests run it
            // through asl-validator; the interpreter's own pass would recompile its schemas (~0.4 s) per run.
            validationOptions: { noValidate: true },
        });
        const run = machine.run(input as never, {
            overrides: { taskResourceLocalHandlers: handlers as never },
            context: {
                Execution: { Id: executionArn, Name: name, StartTime: new Date(startDate).toISOString(), Input: input },
                StateMachine: { Id: stack.stateMachineArn, Name: stack.stateMachineArn.split(":").pop() },
                State: { Name: callbackState, EnteredTime: new Date(startDate).toISOString() },
                Task: { Token: token },
            } as never,
        });
        const execution: Execution = {
            executionArn,
            name,
            input,
            startDate,
            status: "RUNNING",
            done: Promise.resolve(),
        };
        execution.done = this.follow(execution, run);
        this.executions.set(executionArn, execution);
        return execution;
    }

    /** Traces the execution's events and records how it ends. */
    private async follow(
        execution: Execution,
        run: { result: Promise<unknown>; eventLogs: AsyncGenerator<unknown> },
    ): Promise<void> {
        for await (const event of run.eventLogs) {
            const e = event as { type: string; state?: { name: string }; Error?: string; Cause?: string };
            if (e.type === "StateEntered" || e.type === "StateExited") {
                this.log("state", `${e.type === "StateEntered" ? "entered" : "left   "} ${e.state?.name ?? ""}`);
            } else if (e.type === "StateFailed" || e.type === "StateCaught") {
                this.log(
                    "state",
                    `${e.type === "StateFailed" ? "failed " : "caught "} ${e.state?.name ?? ""}${e.Error ? `: ${e.Error}` : ""}`,
                );
            } else if (e.type === "ExecutionFailed") {
                execution.error = e.Error;
                execution.cause = e.Cause;
            }
        }
        try {
            execution.output = await run.result;
            execution.status = "SUCCEEDED";
        } catch (error) {
            execution.status = "FAILED";
            execution.error ??= error instanceof Error ? error.name : String(error);
        }
        execution.stopDate = Date.now();
        const took = execution.stopDate - execution.startDate;
        this.log("execution", `${execution.status}${execution.error ? ` (${execution.error})` : ""} in ${took} ms`);
    }

    private stateNamed(match: (state: Record<string, unknown>) => boolean): string {
        const [name] = this.statesNamed(match);
        if (name === undefined) {
            throw new Error("The rendered definition has no such state.");
        }
        return name;
    }

    private statesNamed(match: (state: Record<string, unknown>) => boolean): string[] {
        const states = this.options.stack.definition["States"] as Record<string, Record<string, unknown>>;
        return Object.entries(states)
            .filter(([, state]) => state["Type"] === "Task" && match(state))
            .map(([name]) => name);
    }

    /**
     * The overridden `sqs:sendMessage.waitForTaskToken`: enqueue, then wait for the token's answer. Its
     * `TimeoutSeconds` is the interpreter's (scaled); its `HeartbeatSeconds` the harness enforces, as Step
     * Functions does: from the moment the message is sent, restarted by every `SendTaskHeartbeat`.
     */
    private sendAndWait(
        parameters: { MessageBody: unknown },
        token: string,
        heartbeatSeconds: number | undefined,
    ): Promise<unknown> {
        let body = JSON.stringify(parameters.MessageBody);
        if (this.options.poison) {
            const { TaskToken: _dropped, ...rest } = parameters.MessageBody as Record<string, unknown>;
            body = JSON.stringify(rest);
        }
        const messageId = this.queue.send(body);
        this.log(
            "sqs",
            `message ${messageId} sent (token ${tokenRef(token)}${this.options.poison ? ", body corrupted: no TaskToken" : ""})`,
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

    private publish(parameters: { TopicArn: string; Subject: string; Message: string }): { MessageId: string } {
        this.snsMessages.push({
            topicArn: parameters.TopicArn,
            subject: parameters.Subject,
            message: parameters.Message,
        });
        this.log("sns", `published "${parameters.Subject}": ${parameters.Message}`);
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
                if (this.options.hangFirstCall === true && !this.hung) {
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
                    this.pending.delete(token);
                    pending.resolve(JSON.parse(text(body["output"])));
                } else if (call.operation === "SendTaskFailure") {
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
                if (body["stateMachineArn"] !== this.options.stack.stateMachineArn) {
                    return sfnError(
                        "StateMachineDoesNotExist",
                        `State Machine Does Not Exist: '${text(body["stateMachineArn"])}'`,
                    );
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
                return { status: 200, body: describe(execution, this.options.stack.stateMachineArn) };
            }
            default:
                return sfnError("UnknownOperationException", `The harness does not serve ${call.operation}.`);
        }
    }

    private logInvocation(records: readonly SQSRecord[], result: InvocationResult): void {
        const failures = result.ok ? result.result.batchItemFailures.map((f) => f.itemIdentifier) : [];
        const receives = records.map((r) => r.attributes.ApproximateReceiveCount).join(", ");
        this.log(
            "worker",
            result.ok
                ? `invoked with ${records.length} record(s) (receive ${receives}) → batchItemFailures [${failures.join(", ")}]`
                : `invoked with ${records.length} record(s) (receive ${receives}) → failed: ${result.error.name}`,
        );
    }

    private log(source: TraceEvent["source"], text: string): void {
        const atMs = Date.now() - this.started;
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
function describe(execution: Execution, stateMachineArn: string): Record<string, unknown> {
    return {
        executionArn: execution.executionArn,
        stateMachineArn,
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
