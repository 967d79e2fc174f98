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
import { readWorkerSettings, type WorkerSettings } from "./config";
import { SFN_LIMITS, type CallbackMessage, type JsonValue } from "./contract";
import { CallbackDeliveryError, ProcessorError, TaskFailedError } from "./errors";
import { parseCallbackMessage, receiveCount, redactToken, tokenRef, truncate } from "./message";
import type { CallbackProcessor } from "./processor";

/**
 * Errors with which Step Functions says the task is already over: its token was answered before, the
 * task timed out, or the execution ended. Nothing is left to answer, so the record is done.
 */
export const TASK_OVER_ERRORS: ReadonlySet<string> = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/** Error codes the worker itself sends with `SendTaskFailure`. */
export const WORKER_ERRORS = {
    /** The processor's output is over the 256 KiB `SendTaskSuccess` limit. */
    outputTooLarge: "Worker.OutputTooLarge",
    /** The processor's output cannot be serialised to JSON. */
    outputNotJson: "Worker.OutputNotJson",
    /** The processor kept failing until the message's last receive. */
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

/**
 * Creates the SQS-triggered Lambda handler that answers task tokens. Call it at module scope: the client,
 * logger and settings are created once per execution environment.
 *
 * For each record: parse the message, run the processor (with heartbeats if configured), answer the
 * token with `SendTaskSuccess` or `SendTaskFailure`. Records that could not be answered (poison
 * messages, Step Functions unreachable, processor errors) are returned in `batchItemFailures`, so SQS
 * redelivers them and finally moves them to the dead-letter queue: a message is never deleted while its
 * task is still waiting.
 */
export function createCallbackHandler<TInput = JsonValue, TOutput extends JsonValue = JsonValue>(
    options: CallbackHandlerOptions<TInput, TOutput>,
): CallbackHandler {
    const settings = readWorkerSettings(process.env, options.settings);
    const logger = options.logger ?? new Logger({ serviceName: "callback-worker" });
    const client =
        options.client ??
        new SFNClient({
            // Standard mode: exponential backoff with full jitter and a retry quota, so a Step Functions
            // brown-out is not amplified by every concurrent worker. Adaptive mode's client-side rate
            // limiting only sees one execution environment's traffic, and would delay healthy calls.
            retryMode: settings.retryMode,
            maxAttempts: settings.maxAttempts,
            requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
        });

    const send = async (token: string, outcome: Exclude<Outcome, { kind: "task-over" }>): Promise<void> => {
        if (outcome.kind === "success") {
            await client.send(new SendTaskSuccessCommand({ taskToken: token, output: outcome.output }));
        } else {
            await client.send(
                new SendTaskFailureCommand({
                    taskToken: token,
                    error: truncate(outcome.error, SFN_LIMITS.errorMaxLength),
                    cause: truncate(redactToken(outcome.cause, token), SFN_LIMITS.causeMaxLength),
                }),
            );
        }
    };

    const runProcessor = async (
        message: CallbackMessage<TInput>,
        record: SQSRecord,
        ref: string,
        lambdaContext: Context | undefined,
    ): Promise<Outcome> => {
        const token = message.TaskToken;
        const controller = new AbortController();
        const stopHeartbeat =
            settings.heartbeatSeconds > 0
                ? startHeartbeat(settings.heartbeatSeconds, () =>
                      client.send(new SendTaskHeartbeatCommand({ taskToken: token })).then(
                          () => undefined,
                          (error: unknown) => {
                              if (TASK_OVER_ERRORS.has(errorName(error))) {
                                  controller.abort(error);
                              } else {
                                  logger.warn("Heartbeat failed; will try again at the next interval", {
                                      messageId: record.messageId,
                                      tokenRef: ref,
                                      errorName: errorName(error),
                                      errorMessage: redactToken(errorMessage(error), token),
                                  });
                              }
                          },
                      ),
                  )
                : () => undefined;
        const count = receiveCount(record);
        let result: TOutput;
        try {
            result = await options.processor(message, {
                messageId: record.messageId,
                receiveCount: count,
                tokenRef: ref,
                signal: controller.signal,
                logger,
                ...(lambdaContext ? { lambdaContext } : {}),
            });
        } catch (error) {
            if (controller.signal.aborted) {
                return { kind: "task-over", reason: errorName(controller.signal.reason) };
            }
            if (error instanceof TaskFailedError) {
                return { kind: "failure", error: error.error, cause: error.message };
            }
            const description = `${errorName(error)}: ${errorMessage(error)}`;
            if (settings.maxReceiveCount > 0 && count >= settings.maxReceiveCount) {
                return {
                    kind: "failure",
                    error: WORKER_ERRORS.retriesExhausted,
                    cause: `The processor failed on all ${count} receives; last error: ${description}`,
                };
            }
            throw new ProcessorError(redactToken(description, token), { cause: error });
        } finally {
            stopHeartbeat();
        }
        if (controller.signal.aborted) {
            return { kind: "task-over", reason: errorName(controller.signal.reason) };
        }
        return serialiseOutput(result);
    };

    const handleRecord = async (record: SQSRecord, lambdaContext: Context | undefined): Promise<string> => {
        let message: CallbackMessage<TInput>;
        try {
            message = parseCallbackMessage(record) as CallbackMessage<TInput>;
        } catch (error) {
            logger.error("Poison message: no task token to answer; leaving it for redelivery and the DLQ", {
                messageId: record.messageId,
                receiveCount: receiveCount(record),
                reason: errorMessage(error),
            });
            throw error;
        }
        const token = message.TaskToken;
        const ref = tokenRef(token);
        const logKeys = {
            messageId: record.messageId,
            tokenRef: ref,
            ...(typeof message.ExecutionId === "string" ? { executionId: message.ExecutionId } : {}),
        };

        let outcome: Outcome;
        try {
            outcome = await runProcessor(message, record, ref, lambdaContext);
        } catch (error) {
            logger.warn("Processor failed; the message will be retried", {
                ...logKeys,
                receiveCount: receiveCount(record),
                errorMessage: errorMessage(error),
            });
            throw error;
        }
        if (outcome.kind === "task-over") {
            logger.warn("Task ended while the processor ran; nothing to answer", {
                ...logKeys,
                reason: outcome.reason,
            });
            return outcome.kind;
        }
        try {
            await send(token, outcome);
        } catch (error) {
            const name = errorName(error);
            if (TASK_OVER_ERRORS.has(name)) {
                logger.warn("Task already over; record done", { ...logKeys, errorName: name });
                return "task-over";
            }
            const description = `${name}: ${redactToken(errorMessage(error), token)}`;
            logger.error("Could not answer the task token; the message will be retried", {
                ...logKeys,
                outcome: outcome.kind,
                errorName: name,
                errorMessage: description,
            });
            throw new CallbackDeliveryError(
                `Step Functions did not accept ${commandName(outcome)} for message ${record.messageId}: ${description}`,
            );
        }
        logger.info("Task answered", {
            ...logKeys,
            outcome: outcome.kind,
            ...(outcome.kind === "failure" ? { error: outcome.error } : {}),
        });
        return outcome.kind;
    };

    return async (event, context) => {
        if (context) {
            logger.addContext(context);
        }
        const limit = pLimit(settings.concurrency);
        const batch = new BatchProcessor(EventType.SQS);
        return processPartialResponse(event, (record: SQSRecord) => limit(() => handleRecord(record, context)), batch, {
            ...(context ? { context } : {}),
        });
    };
}

/** Serialises a processor's output, refusing what `SendTaskSuccess` would refuse. */
function serialiseOutput(result: unknown): Outcome {
    let output: string | undefined;
    try {
        output = JSON.stringify(result ?? null);
    } catch (error) {
        return {
            kind: "failure",
            error: WORKER_ERRORS.outputNotJson,
            cause: `The processor's output cannot be serialised to JSON: ${errorMessage(error)}`,
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

/** Calls `beat` every `seconds` while no earlier beat is still in flight; returns the stop function. */
function startHeartbeat(seconds: number, beat: () => Promise<void>): () => void {
    let inFlight = false;
    const timer = setInterval(() => {
        if (inFlight) {
            return;
        }
        inFlight = true;
        void beat().finally(() => {
            inFlight = false;
        });
    }, seconds * 1000);
    return () => clearInterval(timer);
}

function commandName(outcome: Outcome): string {
    return outcome.kind === "success" ? "SendTaskSuccess" : "SendTaskFailure";
}

function errorName(error: unknown): string {
    return error instanceof Error ? error.name : typeof error;
}

function errorMessage(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
