import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import {
    SendTaskFailureCommand,
    SendTaskHeartbeatCommand,
    SendTaskSuccessCommand,
    SFNClient,
} from "@aws-sdk/client-sfn";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import pLimit from "p-limit";
import { startMarginMs, WORKER_TIMING } from "../../components/limits";
import { readWorkerSettings, type WorkerSettings } from "./config";
import { SFN_LIMITS, type CallbackMessage, type JsonValue } from "./contract";
import { CallbackDeliveryError, DeadlineError, ProcessorError, TaskFailedError } from "./errors";
import { describeError, parseCallbackMessage, receiveCount, redactToken, tokenRef, truncate } from "./message";
import type { CallbackProcessor } from "./processor";

/**
 * Errors with which Step Functions says the task is already over: its token was answered before, the
 * task timed out, or the execution ended. Nothing is left to answer, so the record is done.
 */
export const TASK_OVER_ERRORS: ReadonlySet<string> = new Set(["TaskTimedOut", "TaskDoesNotExist"]);

/**
 * Errors with which Step Functions refuses an answer now and on every retry: the output is not what it
 * accepts. The worker fails the task instead, so the execution does not wait for its timeout.
 */
export const PERMANENT_ANSWER_ERRORS: ReadonlySet<string> = new Set(["InvalidOutput", "ValidationException"]);

/** Error codes the worker itself sends with `SendTaskFailure`. */
export const WORKER_ERRORS = {
    /** The processor's output is over the 256 KiB `SendTaskSuccess` limit. */
    outputTooLarge: "Worker.OutputTooLarge",
    /** The processor's output cannot be serialised to JSON. */
    outputNotJson: "Worker.OutputNotJson",
    /** Step Functions refused the processor's output (`InvalidOutput`, `ValidationException`). */
    outputRejected: "Worker.OutputRejected",
    /** The processor kept failing (or running out of time) until the message's last receive. */
    retriesExhausted: "Worker.RetriesExhausted",
} as const;

export interface CallbackHandlerOptions<TInput, TOutput extends JsonValue> {
    /** Decides each task's outcome. */
    readonly processor: CallbackProcessor<TInput, TOutput>;
    /** Settings; each one not given is read from the environment (see {@link WorkerSettings}). */
    readonly settings?: Partial<WorkerSettings>;
    /** Step Functions client; default: one created at module scope from the settings. */
    readonly client?: SFNClient;
    /** Logger; default: a Powertools logger (service name from `POWERTOOLS_SERVICE_NAME`). */
    readonly logger?: Logger;
}

export type CallbackHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** The outcome a record's processing ends in, before it is told to Step Functions. */
type Outcome =
    | { readonly kind: "success"; readonly output: string }
    | { readonly kind: "failure"; readonly error: string; readonly cause: string }
    | { readonly kind: "task-over"; readonly reason: string };
type Answer = Exclude<Outcome, { kind: "task-over" }>;

/** What an `InvalidToken` answer means, logged at ERROR. */
const INVALID_TOKEN_MESSAGE =
    "Step Functions says the message's TaskToken is not a task token: the state machine's message template likely does not pass $$.Task.Token (or something altered it); every execution will wait for its timeout";

/** When SQS received the message from its sender (`SentTimestamp`, epoch milliseconds); now when absent. */
function sentAt(record: SQSRecord): number {
    const sent = Number(record.attributes?.SentTimestamp);
    return Number.isFinite(sent) && sent > 0 ? sent : Date.now();
}

/** A Step Functions call starts only with at least this much time before the finish margin. */
const MIN_CALL_WINDOW_MS = 250;

/**
 * One invocation's deadline, from `context.getRemainingTimeInMillis()`. Without a context (a direct
 * call, a test) there is none.
 */
class Invocation {
    /** Aborted when the finish margin is reached: every Step Functions call in flight stops. */
    public readonly stop: AbortSignal;
    /** Aborted when the start margin is reached: processors still running are abandoned. */
    public readonly soft: AbortSignal;
    private readonly timers: NodeJS.Timeout[] = [];

    constructor(
        private readonly deadline: number,
        private readonly startMargin: number,
    ) {
        this.stop = this.abortAt(deadline - WORKER_TIMING.finishMarginMs, "the invocation's finish margin");
        this.soft = this.abortAt(deadline - startMargin, "the invocation's start margin");
    }

    public static of(context: Context | undefined, startMargin: number): Invocation {
        const remaining = context?.getRemainingTimeInMillis?.();
        return new Invocation(
            typeof remaining === "number" && Number.isFinite(remaining) ? Date.now() + remaining : Infinity,
            startMargin,
        );
    }

    public remainingMs(): number {
        return this.deadline - Date.now();
    }

    /** Whether a record may start: at least one Step Functions call and the finish margin remain. */
    public canStartRecord(): boolean {
        return !this.soft.aborted && this.remainingMs() > this.startMargin;
    }

    /** Whether a Step Functions call may start before the finish margin. */
    public canStartCall(): boolean {
        return this.remainingMs() >= WORKER_TIMING.finishMarginMs + MIN_CALL_WINDOW_MS;
    }

    public dispose(): void {
        this.timers.forEach(clearTimeout);
    }

    private abortAt(at: number, what: string): AbortSignal {
        const controller = new AbortController();
        if (Number.isFinite(at)) {
            const timer = setTimeout(
                () => controller.abort(new DeadlineError(`Reached ${what}.`)),
                Math.max(0, at - Date.now()),
            );
            timer.unref?.();
            this.timers.push(timer);
        }
        return controller.signal;
    }
}

/** The reason an abort signal carries, as an Error. */
function abortReason(signal: AbortSignal): Error {
    const reason: unknown = signal.reason;
    return reason instanceof Error ? reason : new DeadlineError(describeError(reason).message);
}

/** Resolves with `promise`, or rejects with the signal's reason when it aborts first. */
function until<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) {
        return Promise.reject(abortReason(signal));
    }
    return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => reject(abortReason(signal));
        signal.addEventListener("abort", onAbort, { once: true });
        promise.then(
            (value) => {
                signal.removeEventListener("abort", onAbort);
                resolve(value);
            },
            (error: unknown) => {
                signal.removeEventListener("abort", onAbort);
                reject(
                    error instanceof Error ? error : new ProcessorError(describeError(error).message, { cause: error }),
                );
            },
        );
    });
}

/**
 * Creates the SQS-triggered Lambda handler that answers task tokens. Call it at module scope: the client,
 * logger and settings are created once per execution environment.
 *
 * For each record: parse the message; beat at once (when heartbeats are on, or on a redelivery: a task
 * already over is not run again); run the processor with heartbeats; answer the token with
 * `SendTaskSuccess` or `SendTaskFailure`. Records that could not be answered (poison messages, Step
 * Functions unreachable, processor errors, the invocation's deadline) are returned in
 * `batchItemFailures`, so SQS redelivers them and finally moves them to the dead-letter queue: a message
 * is never deleted while its task is still waiting. The invocation's deadline is kept: no record or call
 * starts without the time to finish it, and the handler returns before Lambda stops it.
 */
export function createCallbackHandler<TInput = JsonValue, TOutput extends JsonValue = JsonValue>(
    options: CallbackHandlerOptions<TInput, TOutput>,
): CallbackHandler {
    const settings = readWorkerSettings(process.env, options.settings);
    // Powertools reads POWERTOOLS_SERVICE_NAME itself; an explicit name would override it.
    const logger =
        options.logger ?? new Logger(process.env["POWERTOOLS_SERVICE_NAME"] ? {} : { serviceName: "callback-worker" });
    const client =
        options.client ??
        new SFNClient({
            // Standard mode: exponential backoff with full jitter and a retry quota, so a Step Functions
            // brown-out is not amplified by every concurrent worker. Adaptive mode's client-side rate
            // limiting only sees one execution environment's traffic, and would delay healthy calls.
            retryMode: settings.retryMode,
            maxAttempts: settings.maxAttempts,
            // Every attempt is bounded: without throwOnRequestTimeout, @smithy/node-http-handler 4.x only
            // warns when requestTimeout passes, and a black-holed connection holds the call forever.
            requestHandler: {
                connectionTimeout: WORKER_TIMING.connectionTimeoutMs,
                requestTimeout: settings.callTimeoutMs,
                throwOnRequestTimeout: true,
                socketTimeout: settings.callTimeoutMs,
            },
        });
    const startMargin = startMarginMs(settings.callTimeoutMs);

    /** One Step Functions call, bounded by the invocation's finish margin. */
    const call = async (
        command: SendTaskSuccessCommand | SendTaskFailureCommand | SendTaskHeartbeatCommand,
        invocation: Invocation,
    ): Promise<void> => {
        if (!invocation.canStartCall()) {
            throw new DeadlineError(
                `Not calling Step Functions with ${invocation.remainingMs()} ms left of the invocation.`,
            );
        }
        // The SDK's own retries stop at the signal too: its retry budget ends with the invocation.
        await client.send(command as SendTaskSuccessCommand, { abortSignal: invocation.stop });
    };

    const send = (token: string, answer: Answer, invocation: Invocation): Promise<void> =>
        answer.kind === "success"
            ? call(new SendTaskSuccessCommand({ taskToken: token, output: answer.output }), invocation)
            : call(
                  new SendTaskFailureCommand({
                      taskToken: token,
                      error: truncate(redactToken(answer.error, token), SFN_LIMITS.errorMaxLength),
                      cause: truncate(redactToken(answer.cause, token), SFN_LIMITS.causeMaxLength),
                  }),
                  invocation,
              );

    /**
     * A heartbeat: `"over"` when Step Functions says the task is over, `"invalid"` when the token is not
     * a task token, `"failed"` on any other error.
     */
    const beat = async (
        token: string,
        invocation: Invocation,
        logKeys: Record<string, unknown>,
    ): Promise<"ok" | "over" | "invalid" | "failed"> => {
        try {
            await call(new SendTaskHeartbeatCommand({ taskToken: token }), invocation);
            return "ok";
        } catch (error) {
            const { name, message } = describeError(error);
            if (TASK_OVER_ERRORS.has(name)) {
                return "over";
            }
            if (name === "InvalidToken") {
                return "invalid";
            }
            logger.warn("Heartbeat failed; the next one may succeed", {
                ...logKeys,
                errorName: name,
                errorMessage: redactToken(message, token),
            });
            return "failed";
        }
    };

    const runProcessor = async (
        message: CallbackMessage<TInput>,
        record: SQSRecord,
        logKeys: Record<string, unknown> & { tokenRef: string; receiveCount: number },
        invocation: Invocation,
        lambdaContext: Context | undefined,
    ): Promise<Outcome> => {
        const token = message.TaskToken;
        const count = logKeys.receiveCount;
        const lastReceive = settings.maxReceiveCount > 0 && count >= settings.maxReceiveCount;
        const controller = new AbortController();
        const taskOver = new AbortController();
        const onSoft = (): void => controller.abort(invocation.soft.reason);
        invocation.soft.addEventListener("abort", onSoft, { once: true });
        let timer: NodeJS.Timeout | undefined;
        if (settings.heartbeatSeconds > 0) {
            let inFlight = false;
            timer = setInterval(() => {
                if (inFlight) {
                    return;
                }
                inFlight = true;
                void beat(token, invocation, logKeys).then((result) => {
                    inFlight = false;
                    if (result === "over") {
                        // No more beats, even if the processor ignores its signal.
                        clearInterval(timer);
                        taskOver.abort(new Error("Step Functions answered a heartbeat: the task is over."));
                        controller.abort(taskOver.signal.reason);
                    }
                });
            }, settings.heartbeatSeconds * 1000);
        }
        try {
            let result: TOutput;
            try {
                // Settled either way, so that only the deadline or the task's end reject the race below.
                const running = Promise.resolve()
                    .then(() =>
                        options.processor(message, {
                            messageId: record.messageId,
                            receiveCount: count,
                            tokenRef: logKeys.tokenRef,
                            signal: controller.signal,
                            logger,
                            ...(lambdaContext ? { lambdaContext } : {}),
                        }),
                    )
                    .then(
                        (value) => ({ ok: true as const, value }),
                        (thrown: unknown) => ({ ok: false as const, thrown }),
                    );
                // A processor that never resolves cannot hold the batch: at the start margin it is abandoned.
                const settled = await until(until(running, invocation.soft), taskOver.signal);
                if (!settled.ok) {
                    throw settled.thrown;
                }
                result = settled.value;
            } catch (error) {
                if (taskOver.signal.aborted) {
                    return { kind: "task-over", reason: "a heartbeat said the task is over" };
                }
                if (error instanceof TaskFailedError) {
                    return { kind: "failure", error: error.error, cause: error.message };
                }
                const { name, message: text } = describeError(error);
                const outOfTime = invocation.soft.aborted;
                const description = outOfTime
                    ? `the processor did not finish within the invocation (${name}: ${text})`
                    : `${name}: ${text}`;
                if (lastReceive) {
                    return {
                        kind: "failure",
                        error: WORKER_ERRORS.retriesExhausted,
                        cause: `The processor failed on all ${count} receives; last error: ${description}`,
                    };
                }
                if (outOfTime) {
                    throw new DeadlineError(redactToken(`Abandoned: ${description}.`, token), { cause: error });
                }
                throw new ProcessorError(redactToken(description, token), { cause: error });
            }
            return serialiseOutput(result, message.Input);
        } finally {
            clearInterval(timer);
            invocation.soft.removeEventListener("abort", onSoft);
        }
    };

    /** Answers the token; on an answer Step Functions will never accept, fails the task instead. */
    const deliver = async (
        token: string,
        answer: Answer,
        logKeys: Record<string, unknown>,
        invocation: Invocation,
    ): Promise<Answer | "task-over"> => {
        try {
            await send(token, answer, invocation);
            return answer;
        } catch (error) {
            const { name, message } = describeError(error);
            if (TASK_OVER_ERRORS.has(name)) {
                logger.warn("Task already over (answered, timed out or its execution ended); record done", {
                    ...logKeys,
                    errorName: name,
                });
                return "task-over";
            }
            const description = `${name}: ${redactToken(message, token)}`;
            if (name === "InvalidToken") {
                logger.error(INVALID_TOKEN_MESSAGE, { ...logKeys, errorName: name });
                throw new CallbackDeliveryError(`The TaskToken of message ${String(logKeys["messageId"])} is invalid.`);
            }
            if (answer.kind === "success" && PERMANENT_ANSWER_ERRORS.has(name)) {
                logger.warn("Step Functions refused the output; failing the task instead", {
                    ...logKeys,
                    errorName: name,
                });
                return deliver(
                    token,
                    {
                        kind: "failure",
                        error: WORKER_ERRORS.outputRejected,
                        cause: `Step Functions refused the processor's output: ${description}`,
                    },
                    logKeys,
                    invocation,
                );
            }
            throw new CallbackDeliveryError(
                `Step Functions did not accept ${answer.kind === "success" ? "SendTaskSuccess" : "SendTaskFailure"}: ${description}`,
                { cause: error },
            );
        }
    };

    const handleRecord = async (
        record: SQSRecord,
        invocation: Invocation,
        lambdaContext: Context | undefined,
    ): Promise<string> => {
        const count = receiveCount(record);
        const lastReceive = settings.maxReceiveCount > 0 && count >= settings.maxReceiveCount;
        const then = lastReceive ? "moving to the dead-letter queue" : "it will be retried";
        const notStarted = (): DeadlineError => {
            const error = new DeadlineError(
                `Not started: ${invocation.remainingMs()} ms left of the invocation, ${startMargin} ms needed.`,
            );
            logger.warn(`Out of time in this invocation, record not started; ${then}`, {
                messageId: record.messageId,
                receiveCount: count,
            });
            return error;
        };
        if (!invocation.canStartRecord()) {
            throw notStarted();
        }
        let message: CallbackMessage<TInput>;
        try {
            message = parseCallbackMessage(record) as CallbackMessage<TInput>;
        } catch (error) {
            logger.error(`Poison message: no task token to answer; ${then}`, {
                messageId: record.messageId,
                receiveCount: count,
                reason: describeError(error).message,
            });
            throw error;
        }
        const token = message.TaskToken;
        const logKeys = {
            messageId: record.messageId,
            tokenRef: tokenRef(token),
            receiveCount: count,
            ...(typeof message.ExecutionId === "string" ? { executionId: message.ExecutionId } : {}),
        };
        try {
            // A beat before the processor, when it is due: the task's heartbeat clock has run since the message
            // was sent, so a message that waited an interval or more is beaten at once; a redelivered one is
            // probed, so that a task already over is not run again. A fresh message's first periodic beat
            // comes within an interval of its start, still within two intervals of its send.
            const waitedMs = Date.now() - sentAt(record);
            if (count > 1 || (settings.heartbeatSeconds > 0 && waitedMs >= settings.heartbeatSeconds * 1000)) {
                const beaten = await beat(token, invocation, logKeys);
                if (beaten === "over") {
                    logger.info("Task already over; not running the processor again", logKeys);
                    return "task-over";
                }
                if (beaten === "invalid") {
                    logger.error(INVALID_TOKEN_MESSAGE, { ...logKeys, errorName: "InvalidToken" });
                    throw new CallbackDeliveryError(`The TaskToken of message ${record.messageId} is invalid.`);
                }
                if (!invocation.canStartRecord()) {
                    throw notStarted(); // the beat took the time the processor would have had
                }
            }
            const outcome = await runProcessor(message, record, logKeys, invocation, lambdaContext);
            if (outcome.kind === "task-over") {
                logger.warn("Task ended while the processor ran; nothing to answer", {
                    ...logKeys,
                    reason: outcome.reason,
                });
                return outcome.kind;
            }
            const answered = await deliver(token, outcome, logKeys, invocation);
            if (answered === "task-over") {
                return answered;
            }
            const entry = {
                ...logKeys,
                outcome: answered.kind,
                ...(answered.kind === "failure" ? { error: redactToken(answered.error, token) } : {}),
            };
            if (answered.kind === "failure" && answered.error.startsWith("Worker.")) {
                logger.warn("Task failed by the worker", entry); // a failure the worker raised itself
            } else {
                logger.info("Task answered", entry);
            }
            return answered.kind;
        } catch (error) {
            const { name, message: text } = describeError(error);
            const entry = { ...logKeys, errorName: name, errorMessage: redactToken(text, token) };
            if (error instanceof ProcessorError) {
                logger.warn(`Processor failed; ${then}`, entry);
            } else if (error instanceof DeadlineError) {
                if (!error.message.startsWith("Not started:")) {
                    logger.warn(`Out of time in this invocation; ${then}`, entry);
                }
            } else {
                logger.error(`Could not answer the task token; ${then}`, entry);
            }
            throw error;
        }
    };

    return async (event, context) => {
        if (context) {
            logger.addContext(context);
        }
        const invocation = Invocation.of(context, startMargin);
        const limit = pLimit(settings.concurrency);
        const batch = new BatchProcessor(EventType.SQS);
        try {
            return await processPartialResponse(
                event,
                (record: SQSRecord) => limit(() => until(handleRecord(record, invocation, context), invocation.stop)),
                batch,
                { ...(context ? { context } : {}) },
            );
        } finally {
            invocation.dispose();
        }
    };
}

/**
 * Serialises a processor's output, refusing what `SendTaskSuccess` would refuse, and what would push the
 * execution's state (the input, which the definition keeps, and this output merged into it) past Step
 * Functions' 256 KiB, which would fail the execution with an error no Catch handles.
 */
function serialiseOutput(result: unknown, input: unknown): Outcome {
    let output: string | undefined;
    try {
        output = JSON.stringify(result ?? null);
    } catch (error) {
        return {
            kind: "failure",
            error: WORKER_ERRORS.outputNotJson,
            cause: `The processor's output cannot be serialised to JSON: ${describeError(error).message}`,
        };
    }
    if (output === undefined) {
        return {
            kind: "failure",
            error: WORKER_ERRORS.outputNotJson,
            cause: `The processor's output (a ${typeof result}) cannot be serialised to JSON.`,
        };
    }
    const bytes = Buffer.byteLength(output, "utf8");
    const inputBytes = Buffer.byteLength(JSON.stringify(input ?? null), "utf8");
    const room = SFN_LIMITS.stateMaxBytes - SFN_LIMITS.stateMarginBytes - inputBytes;
    if (bytes <= SFN_LIMITS.outputMaxBytes && bytes > room) {
        return {
            kind: "failure",
            error: WORKER_ERRORS.outputTooLarge,
            cause:
                `The processor's output is ${bytes} bytes and the execution's input ${inputBytes}: together they ` +
                `would exceed the ${SFN_LIMITS.stateMaxBytes} bytes of an execution's state (at most ${Math.max(0, room)} ` +
                `bytes of output fit). Store large results elsewhere (S3) and return a reference.`,
        };
    }
    if (bytes > SFN_LIMITS.outputMaxBytes) {
        return {
            kind: "failure",
            error: WORKER_ERRORS.outputTooLarge,
            cause:
                `The processor's output is ${bytes} bytes; SendTaskSuccess accepts at most ` +
                `${SFN_LIMITS.outputMaxBytes} bytes. Store large results elsewhere (S3) and return a reference.`,
        };
    }
    return { kind: "success", output };
}
