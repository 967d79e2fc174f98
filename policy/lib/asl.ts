/** Reading state machine definitions: every state, nested in Parallel branches and Map processors too. */

export interface FoundState {
    /** `A` at the top level; `P/branch 0/B` inside a Parallel; `M/B` inside a Map. */
    readonly path: string;
    readonly state: Record<string, unknown>;
}

/** Parses a definition string; undefined when it is not a JSON object. */
export function parseDefinition(definition: unknown): Record<string, unknown> | undefined {
    if (typeof definition !== "string") {
        return typeof definition === "object" && definition !== null
            ? (definition as Record<string, unknown>)
            : undefined;
    }
    try {
        const parsed: unknown = JSON.parse(definition);
        return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

/** Every state of a definition, depth first, nested ones included. */
export function allStates(definition: Record<string, unknown>, prefix = ""): FoundState[] {
    const states = definition["States"];
    if (typeof states !== "object" || states === null) {
        return [];
    }
    return Object.entries(states as Record<string, Record<string, unknown>>).flatMap(([name, state]) => {
        const path = `${prefix}${name}`;
        const nested: FoundState[] = [];
        if (Array.isArray(state["Branches"])) {
            (state["Branches"] as Record<string, unknown>[]).forEach((branch, index) => {
                nested.push(...allStates(branch, `${path}/branch ${index}/`));
            });
        }
        for (const key of ["ItemProcessor", "Iterator"]) {
            const processor = state[key];
            if (typeof processor === "object" && processor !== null) {
                nested.push(...allStates(processor as Record<string, unknown>, `${path}/`));
            }
        }
        return [{ path, state }, ...nested];
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
