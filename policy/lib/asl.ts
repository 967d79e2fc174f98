/** Reading state machine definitions: every state, nested in Parallel branches and Map processors too. */
import { MAX_STATE_NESTING } from "../../components/asl-validate";
import { isRecord } from "./values";

export interface FoundState {
    /** `A` at the top level; `P/branch 0/B` inside a Parallel; `M/B` inside a Map. */
    readonly path: string;
    readonly state: Record<string, unknown>;
    /**
     * The Distributed Map whose EXPRESS child executions run this state, if any
     * (`ItemProcessor.ProcessorConfig.ExecutionType: "EXPRESS"`,
     * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
     */
    readonly expressMap?: string;
}

/** Parses a definition string; undefined when it is not a JSON object. */
export function parseDefinition(definition: unknown): Record<string, unknown> | undefined {
    if (typeof definition !== "string") {
        return isRecord(definition) ? definition : undefined;
    }
    try {
        const parsed: unknown = JSON.parse(definition);
        return isRecord(parsed) ? parsed : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Every state of a definition, depth first, nested ones included. Parts that are not objects (a null
 * state, a null branch) are skipped: whether the definition is valid is state-machine-definition-valid's
 * question.
 */
export function allStates(
    definition: Record<string, unknown>,
    prefix = "",
    expressMap?: string,
    depth = 0,
): FoundState[] {
    const states = definition["States"];
    // Deeper than the validator judges: state-machine-definition-valid refuses it (NESTING_TOO_DEEP).
    if (!isRecord(states) || depth > MAX_STATE_NESTING) {
        return [];
    }
    return Object.entries(states).flatMap(([name, state]) => {
        if (!isRecord(state)) {
            return [];
        }
        const path = `${prefix}${name}`;
        const nested: FoundState[] = [];
        const branches = state["Branches"];
        if (Array.isArray(branches)) {
            branches.forEach((branch, index) => {
                if (isRecord(branch)) {
                    nested.push(...allStates(branch, `${path}/branch ${index}/`, expressMap, depth + 1));
                }
            });
        }
        for (const key of ["ItemProcessor", "Iterator"]) {
            const processor = state[key];
            if (isRecord(processor)) {
                const config = processor["ProcessorConfig"];
                const express =
                    isRecord(config) && config["ExecutionType"] === "EXPRESS" ? (expressMap ?? path) : expressMap;
                nested.push(...allStates(processor, `${path}/`, express, depth + 1));
            }
        }
        const found: FoundState = expressMap === undefined ? { path, state } : { path, state, expressMap };
        return [found, ...nested];
    });
}

/** True for a Task that waits for a task token (any service: `arn:…:states:::<service>:<action>.waitForTaskToken`). */
export function isCallbackTask(state: Record<string, unknown>): boolean {
    return (
        state["Type"] === "Task" &&
        typeof state["Resource"] === "string" &&
        state["Resource"].endsWith(".waitForTaskToken")
    );
}

/** The callback tasks of a definition. */
export function callbackTasks(definition: Record<string, unknown>): FoundState[] {
    return allStates(definition).filter((found) => isCallbackTask(found.state));
}

/**
 * True for a Task whose resource is an activity: its worker gets a task token from GetActivityTask and
 * answers it with SendTask* (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-activities.html).
 */
export function isActivityTask(state: Record<string, unknown>): boolean {
    const resource = state["Resource"];
    return state["Type"] === "Task" && typeof resource === "string" && /:states:[^:]*:\d*:activity:/.test(resource);
}

/** The tasks that wait for a task token: callback (`.waitForTaskToken`) and activity tasks. */
export type TokenTask = FoundState & { readonly kind: "callback" | "activity" };

export function tokenTasks(definition: Record<string, unknown>): TokenTask[] {
    return allStates(definition).flatMap((found): TokenTask[] =>
        isCallbackTask(found.state)
            ? [{ ...found, kind: "callback" }]
            : isActivityTask(found.state)
              ? [{ ...found, kind: "activity" }]
              : [],
    );
}
