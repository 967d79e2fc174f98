import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import type { CallbackMessage, JsonValue } from "./contract";
import { TaskFailedError } from "./errors";

/** What a processor gets besides the message. */
export interface ProcessorContext {
    /** The SQS message id: stable across redeliveries, use it as an idempotency key. */
    readonly messageId: string;
    /** How many times SQS has delivered this message (1 on the first delivery). */
    readonly receiveCount: number;
    /** A loggable reference to the task token (never log `message.TaskToken` itself). */
    readonly tokenRef: string;
    /**
     * Aborted when the task is over while the processor runs (a heartbeat answered `TaskTimedOut`), or
     * when the invocation is about to run out of time: stop working, the result can no longer be
     * delivered (the message comes back, and the processor runs again, unless the task is over).
     */
    readonly signal: AbortSignal;
    /** The worker's structured logger. */
    readonly logger: Logger;
    /** The Lambda invocation context, when running in Lambda. */
    readonly lambdaContext?: Context;
}

/**
 * The user's part of the worker: decides the outcome of one task.
 * - resolve with a JSON value → `SendTaskSuccess` with that output;
 * - throw {@link TaskFailedError} → `SendTaskFailure` with its `error` and `cause`;
 * - throw anything else → transient: the record is retried through SQS (and the task failed on the
 *   last receive when `maxReceiveCount` is known).
 *
 * Delivery is at least once: a processor may see the same message twice, so make its effects
 * idempotent (key them on `context.messageId` or on `message.ExecutionId`).
 */
export type CallbackProcessor<TInput = JsonValue, TOutput extends JsonValue = JsonValue> = (
    message: CallbackMessage<TInput>,
    context: ProcessorContext,
) => Promise<TOutput> | TOutput;

/** The error code the default processor fails a task with when the input asks it to reject. */
export const REJECTED_ERROR = "Callback.Rejected";

/**
 * The default processor: what the common examples' workers do, done right. It completes the task with a JSON summary of
 * the message, unless the execution input says `{"decision": "reject"}`, in which case it fails the task
 * with {@link REJECTED_ERROR} and the input's `reason`. It never echoes the token or the whole input.
 */
export const defaultProcessor: CallbackProcessor = (message, context) => {
    const input = message.Input;
    const fields = typeof input === "object" && input !== null && !Array.isArray(input) ? input : {};
    if (fields["decision"] === "reject") {
        const reason = typeof fields["reason"] === "string" ? fields["reason"] : "Rejected by the callback worker.";
        throw new TaskFailedError(REJECTED_ERROR, reason);
    }
    return {
        status: "completed",
        message: "Callback task completed successfully.",
        title: message.MessageTitle ?? null,
        executionId: message.ExecutionId ?? null,
        messageId: context.messageId,
        receiveCount: context.receiveCount,
    };
};
