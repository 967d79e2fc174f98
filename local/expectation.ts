/**
 * How a local run is judged: the outcome the caller expects (a status, and optionally the error), and
 * whether the execution ended so. `--expect failed:Callback.Rejected` on the command line.
 */
import type { Execution, StateFailure } from "./engine";

/** What a summary reads of an execution. */
export type Outcome = Pick<Execution, "status" | "error" | "cause" | "output"> & {
    readonly failures: readonly StateFailure[];
};

export const EXPECTED_STATUSES = ["SUCCEEDED", "FAILED", "TIMED_OUT"] as const;
export type ExpectedStatus = (typeof EXPECTED_STATUSES)[number];

export interface Expectation {
    readonly status: ExpectedStatus;
    /** The execution's error (`Callback.Rejected`); any when undefined. */
    readonly error?: string;
}

/** Reads `STATUS[:ERROR]` (`succeeded`, `FAILED`, `failed:Callback.Rejected`, `timed_out`); undefined if it is none. */
export function parseExpectation(text: string): Expectation | undefined {
    const colon = text.indexOf(":");
    const status = (colon >= 0 ? text.slice(0, colon) : text).toUpperCase().replace("-", "_");
    const error = colon >= 0 ? text.slice(colon + 1) : undefined;
    if (!(EXPECTED_STATUSES as readonly string[]).includes(status) || error === "") {
        return undefined;
    }
    if (error !== undefined && status === "SUCCEEDED") {
        return undefined;
    }
    return { status: status as ExpectedStatus, ...(error !== undefined ? { error } : {}) };
}

/** `FAILED (Callback.Rejected)`, `SUCCEEDED`. */
export function describeExpectation(expectation: Expectation): string {
    return expectation.error !== undefined ? `${expectation.status} (${expectation.error})` : expectation.status;
}

/** Whether an execution ended as expected: its status, and its error when one is expected. */
export function meetsExpectation(execution: Pick<Execution, "status" | "error">, expectation: Expectation): boolean {
    return (
        execution.status === expectation.status &&
        (expectation.error === undefined || execution.error === expectation.error)
    );
}

/** How an execution ended, for a summary line: `FAILED (Callback.Rejected)`. */
export function describeOutcome(execution: Pick<Execution, "status" | "error">): string {
    return execution.error !== undefined ? `${execution.status} (${execution.error})` : execution.status;
}

/**
 * Where the execution went wrong, for a summary: the first state failure that was not retried, when it
 * says more than the execution's own error and cause (a Fail state after a Catch carries only what it
 * was given, and a Map or Parallel the failure of one of its states).
 */
export function firstFailure(execution: Outcome): string | undefined {
    const failures = execution.failures.filter((f) => f.retried !== true);
    const first = failures[0];
    if (
        first === undefined ||
        (failures.length === 1 && first.error === execution.error && first.cause === execution.cause)
    ) {
        return undefined;
    }
    const item = first.index !== undefined ? ` [item ${first.index}]` : "";
    return `${first.state}${item} failed${first.error !== undefined ? ` with ${first.error}` : ""}${first.cause !== undefined ? `: ${first.cause}` : ""}`;
}
