/**
 * The message contract between the state machine and the callback worker.
 *
 * The state machine's "Start Task And Wait For Callback" task sends one SQS message per execution. Its
 * body is the JSON object {@link CallbackMessage}. The component builds that body from
 * {@link CALLBACK_MESSAGE_PATHS} and the worker parses it with `parseCallbackMessage`, so the two sides
 * cannot drift apart: this file is the only place the field names are written down.
 */

/** A JSON value, as SQS carries it and as Step Functions accepts it in `SendTaskSuccess.output`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The body of a message on the work queue. */
export interface CallbackMessage<TInput = JsonValue> {
    /**
     * The task token (`$$.Task.Token`). A bearer secret: whoever holds it can complete the task. It is
     * never logged whole (see `tokenRef`).
     */
    readonly TaskToken: string;
    /** A human-readable title for the task (`MessageTitle`, as the common examples of this pattern name it). */
    readonly MessageTitle?: string;
    /** The execution's ARN (`$$.Execution.Id`), for correlation in logs and in the worker's output. */
    readonly ExecutionId?: string;
    /** The execution's name (`$$.Execution.Name`). */
    readonly ExecutionName?: string;
    /** The state machine's ARN (`$$.StateMachine.Id`). */
    readonly StateMachineId?: string;
    /** When the waiting state was entered (`$$.State.EnteredTime`, ISO 8601). */
    readonly EnteredTime?: string;
    /** The workflow's payload: the execution's input (`$.input` at the callback task). */
    readonly Input?: TInput;
}

/**
 * Where each field of {@link CallbackMessage} comes from in the Step Functions context object or the
 * state input. The component turns this into the task's `MessageBody` (`"TaskToken.$": "$$.Task.Token"`,
 * ...); `MessageTitle` is a literal set by the component.
 */
export const CALLBACK_MESSAGE_PATHS = {
    TaskToken: "$$.Task.Token",
    ExecutionId: "$$.Execution.Id",
    ExecutionName: "$$.Execution.Name",
    StateMachineId: "$$.StateMachine.Id",
    EnteredTime: "$$.State.EnteredTime",
    /** The execution input, which the definition's first state puts under `input`. */
    Input: "$.input",
} as const satisfies Record<Exclude<keyof CallbackMessage, "MessageTitle">, string>;

/** AWS API limits that the worker must respect (Step Functions API reference). */
export const SFN_LIMITS = {
    /** `taskToken`: length 1 to 2048. */
    taskTokenMaxLength: 2048,
    /** `SendTaskSuccess.output`: at most 256 KiB of UTF-8 JSON. */
    outputMaxBytes: 256 * 1024,
    /** `SendTaskFailure.error`: at most 256 characters. */
    errorMaxLength: 256,
    /** `SendTaskFailure.cause`: at most 32768 characters. */
    causeMaxLength: 32768,
    /**
     * The execution's state (its input with every result merged into it) is at most 256 KiB; past it
     * Step Functions fails the execution with States.DataLimitExceeded, which no Catch can handle.
     */
    stateMaxBytes: 256 * 1024,
    /** Kept free of the state for the keys the definition adds and the notification's text. */
    stateMarginBytes: 1024,
} as const;
