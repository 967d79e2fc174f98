/**
 * Errors of the callback worker. Each sets `this.name`, so logs and `SendTaskFailure.error` carry it.
 */

/**
 * Thrown (or rejected) by a processor to fail the task on purpose: the worker answers
 * `SendTaskFailure` with `error` and `cause`, and the execution takes its failure path. Use it for
 * permanent outcomes (a rejected approval, a request the slow system refused). Any other error is taken
 * as transient: the record is retried through SQS.
 */
export class TaskFailedError extends Error {
    /** The `error` sent to Step Functions: a short machine-readable code such as `Approval.Rejected`. */
    public readonly error: string;

    /**
     * @param error  short machine-readable code, matched by the state machine's `Catch.ErrorEquals`.
     * @param cause  human-readable explanation, sent as `cause` (truncated to the API limit).
     */
    constructor(error: string, cause: string) {
        super(cause);
        this.name = "TaskFailedError";
        this.error = error;
    }
}

/**
 * A record that nothing can answer: its body is not JSON, or has no usable `TaskToken`. The worker
 * reports it in `batchItemFailures`, so SQS redelivers it and, after `maxReceiveCount` receives, moves it
 * to the dead-letter queue, where an alarm tells a human.
 */
export class PoisonMessageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PoisonMessageError";
    }
}

/**
 * Step Functions could not be told the outcome (throttled past the SDK's retries, 5xx, network, access
 * denied). The record is reported in `batchItemFailures` so SQS redelivers it: never deleted unanswered.
 */
export class CallbackDeliveryError extends Error {
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "CallbackDeliveryError";
    }
}

/**
 * The processor failed with an error that is not a {@link TaskFailedError}. The record is retried
 * through SQS; on its last receive the task is failed instead (see `maxReceiveCount`).
 */
export class ProcessorError extends Error {
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "ProcessorError";
    }
}

/** An invalid worker setting (environment variable or option), named with its value and what is allowed. */
export class WorkerConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "WorkerConfigError";
    }
}

/**
 * The invocation's deadline came first: the record was not started, its processor was abandoned, or a
 * Step Functions call could not be made in time. The record is reported in `batchItemFailures` and comes
 * back after the visibility timeout.
 */
export class DeadlineError extends Error {
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "DeadlineError";
    }
}
