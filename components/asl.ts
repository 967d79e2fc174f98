/**
 * Typed Amazon States Language: the states this project uses, Retry/Catch, payload templates, service
 * integrations with the IAM statements they need, a program-time validator, and rendering through
 * `pulumi.jsonStringify` so Outputs (queue URLs, topic ARNs) sit inside the definition.
 *
 * Modelled on aws-cdk's `aws-stepfunctions`: every state has `Next` or `End`, never both; `States.ALL`
 * stands alone and last; each task declares the IAM statements it needs and the role gets their union.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./iam";

/** Error names defined by Step Functions (ASL "Errors"). */
export const StatesErrors = {
    ALL: "States.ALL",
    Timeout: "States.Timeout",
    HeartbeatTimeout: "States.HeartbeatTimeout",
    TaskFailed: "States.TaskFailed",
    Permissions: "States.Permissions",
    Runtime: "States.Runtime",
} as const;

/** A reference path: `$`, `$.field`, or `$$.Context.field`. */
export type JsonPath = `$${string}`;

/** A payload template: keys ending in `.$` take a path or an intrinsic function; other keys take values. */
export interface PayloadTemplate {
    readonly [key: string]: pulumi.Input<PayloadValue>;
}
export type PayloadValue = string | number | boolean | null | PayloadTemplate | readonly pulumi.Input<PayloadValue>[];

export interface RetryRule {
    readonly ErrorEquals: readonly string[];
    readonly IntervalSeconds?: number;
    readonly MaxAttempts?: number;
    readonly BackoffRate?: number;
    readonly MaxDelaySeconds?: number;
    readonly JitterStrategy?: "FULL" | "NONE";
}

export interface CatchRule {
    readonly ErrorEquals: readonly string[];
    readonly Next: string;
    readonly ResultPath?: JsonPath | null;
}

/** How a Task waits for its service integration. */
export type IntegrationPattern = "requestResponse" | "sync" | "waitForTaskToken";

/**
 * An optimized service integration (`arn:<partition>:states:::<service>:<action>[.<pattern>]`), kept
 * symbolic until rendering so the validator knows its pattern and the ARN gets the stack's partition.
 */
export interface ServiceIntegration {
    readonly service: string;
    readonly action: string;
    readonly pattern: IntegrationPattern;
}

/** `Next` or `End: true`, never both. */
export type Transition =
    { readonly Next: string; readonly End?: never } | { readonly End: true; readonly Next?: never };

interface StateBase {
    readonly Comment?: string;
    readonly InputPath?: JsonPath | null;
    readonly OutputPath?: JsonPath | null;
}

export type TaskState = StateBase &
    Transition & {
        readonly Type: "Task";
        readonly Resource: ServiceIntegration | pulumi.Input<string>;
        readonly Parameters?: PayloadTemplate;
        readonly ResultSelector?: PayloadTemplate;
        readonly ResultPath?: JsonPath | null;
        readonly TimeoutSeconds?: number;
        readonly TimeoutSecondsPath?: JsonPath;
        readonly HeartbeatSeconds?: number;
        readonly HeartbeatSecondsPath?: JsonPath;
        readonly Retry?: readonly RetryRule[];
        readonly Catch?: readonly CatchRule[];
    };

export type PassState = StateBase &
    Transition & {
        readonly Type: "Pass";
        readonly Parameters?: PayloadTemplate;
        readonly Result?: PayloadValue;
        readonly ResultPath?: JsonPath | null;
    };

export interface ChoiceRule {
    readonly Variable?: JsonPath;
    readonly Next: string;
    readonly [comparison: string]: unknown;
}

export interface ChoiceState extends StateBase {
    readonly Type: "Choice";
    readonly Choices: readonly ChoiceRule[];
    readonly Default?: string;
}

export interface SucceedState extends StateBase {
    readonly Type: "Succeed";
}

export interface FailState {
    readonly Type: "Fail";
    readonly Comment?: string;
    readonly Error?: string;
    readonly ErrorPath?: JsonPath;
    readonly Cause?: string;
    readonly CausePath?: JsonPath;
}

export type State = TaskState | PassState | ChoiceState | SucceedState | FailState;

/** A state with its name, in the order the definition lists them. */
export interface NamedState {
    readonly name: string;
    readonly state: State;
}

export interface StateMachineDefinition {
    readonly Comment?: string;
    readonly StartAt: string;
    /** Listed as an array so that duplicate names can be detected before they become one object key. */
    readonly States: readonly NamedState[];
    readonly TimeoutSeconds?: number;
}

export type WorkflowType = "STANDARD" | "EXPRESS";

/** A definition that breaks the rules of ASL or of this project, with every problem found. */
export class AslValidationError extends Error {
    constructor(public readonly problems: readonly string[]) {
        super(`Invalid state machine definition:\n- ${problems.join("\n- ")}`);
        this.name = "AslValidationError";
    }
}

/** An optimized integration: `integration("sqs", "sendMessage", "waitForTaskToken")`. */
export function integration(
    service: string,
    action: string,
    pattern: IntegrationPattern = "requestResponse",
): ServiceIntegration {
    return { service, action, pattern };
}

/** The ARN of an optimized integration in a partition (`aws`, `aws-cn`, `aws-us-gov`, ...). */
export function integrationArn(partition: string, resource: ServiceIntegration): string {
    const suffix = resource.pattern === "requestResponse" ? "" : `.${resource.pattern}`;
    return `arn:${partition}:states:::${resource.service}:${resource.action}${suffix}`;
}

function isIntegration(resource: TaskState["Resource"]): resource is ServiceIntegration {
    return typeof resource === "object" && resource !== null && "service" in resource && "pattern" in resource;
}

/** True for a Task that pauses until its token is answered. */
export function isCallbackTask(state: State): state is TaskState {
    if (state.Type !== "Task") {
        return false;
    }
    return isIntegration(state.Resource)
        ? state.Resource.pattern === "waitForTaskToken"
        : typeof state.Resource === "string" && state.Resource.endsWith(".waitForTaskToken");
}

/** Where a state can go next: `Next`, `Default`, each Choice's and Catch's `Next`. */
export function transitionsOf(state: State): string[] {
    switch (state.Type) {
        case "Task":
            return [...(state.Next !== undefined ? [state.Next] : []), ...(state.Catch ?? []).map((c) => c.Next)];
        case "Pass":
            return state.Next !== undefined ? [state.Next] : [];
        case "Choice":
            return [...state.Choices.map((c) => c.Next), ...(state.Default !== undefined ? [state.Default] : [])];
        case "Succeed":
        case "Fail":
            return [];
    }
}

/** True when `template` (or any object nested in it) maps a `*.$` key to `$$.Task.Token`. */
function carriesTaskToken(template: unknown): boolean {
    if (typeof template !== "object" || template === null || pulumi.Output.isInstance(template)) {
        return false;
    }
    return Object.entries(template).some(
        ([key, value]) => (key.endsWith(".$") && value === "$$.Task.Token") || carriesTaskToken(value),
    );
}

/** Keys ending in `.$` must hold a path (`$...`) or an intrinsic function (`States.*(...)`). */
function badDynamicKeys(template: unknown, where: string): string[] {
    if (typeof template !== "object" || template === null || pulumi.Output.isInstance(template)) {
        return [];
    }
    return Object.entries(template).flatMap(([key, value]) => {
        if (key.endsWith(".$")) {
            return typeof value === "string" && (value.startsWith("$") || /^States\.[A-Za-z]+\(.*\)$/s.test(value))
                ? []
                : [
                      `${where}: "${key}" must be a path starting with "$" or an intrinsic function (got ${JSON.stringify(value)}).`,
                  ];
        }
        return badDynamicKeys(value, `${where}.${key}`);
    });
}

function errorRuleProblems(
    rules: readonly { readonly ErrorEquals: readonly string[] }[] | undefined,
    where: string,
): string[] {
    const problems: string[] = [];
    (rules ?? []).forEach((rule, index) => {
        if (rule.ErrorEquals.length === 0) {
            problems.push(`${where}[${index}].ErrorEquals must name at least one error.`);
        }
        if (rule.ErrorEquals.includes(StatesErrors.ALL)) {
            if (rule.ErrorEquals.length > 1) {
                problems.push(
                    `${where}[${index}]: "States.ALL" must appear alone in ErrorEquals (got ${JSON.stringify(rule.ErrorEquals)}).`,
                );
            }
            if (index !== (rules ?? []).length - 1) {
                problems.push(`${where}[${index}]: the rule with "States.ALL" must be the last one.`);
            }
        }
    });
    return problems;
}

/**
 * Checks a definition at program time, before any resource is created, and throws
 * {@link AslValidationError} listing every problem: duplicate or missing states, transitions to states
 * that do not exist, unreachable states, `Next` and `End` both or neither, `States.ALL` not alone and
 * last, bad paths, a waitForTaskToken task without the token in its payload or without a timeout,
 * `HeartbeatSeconds` ≥ `TimeoutSeconds`, and a callback task in an EXPRESS machine.
 */
export function validateDefinition(definition: StateMachineDefinition, type: WorkflowType = "STANDARD"): void {
    const problems: string[] = [];
    const names = new Set<string>();
    for (const { name } of definition.States) {
        if (names.has(name)) {
            problems.push(`State "${name}" is defined more than once.`);
        }
        if (name.length === 0 || name.length > 80) {
            problems.push(`State name "${name}" must be 1 to 80 characters.`);
        }
        names.add(name);
    }
    if (definition.States.length === 0) {
        problems.push("The definition has no states.");
    }
    if (!names.has(definition.StartAt)) {
        problems.push(`StartAt names "${definition.StartAt}", which is not a state.`);
    }

    for (const { name, state } of definition.States) {
        const where = `State "${name}"`;
        if (state.Type === "Task" || state.Type === "Pass") {
            const hasNext = state.Next !== undefined;
            const hasEnd = state.End === true;
            if (hasNext === hasEnd) {
                problems.push(`${where} must have exactly one of Next and End (got ${hasNext ? "both" : "neither"}).`);
            }
        }
        for (const target of transitionsOf(state)) {
            if (!names.has(target)) {
                problems.push(`${where} goes to "${target}", which is not a state.`);
            }
        }
        if (state.Type === "Choice" && state.Choices.length === 0) {
            problems.push(`${where} must have at least one Choice rule.`);
        }
        if (state.Type === "Task") {
            problems.push(...errorRuleProblems(state.Retry, `${where} Retry`));
            problems.push(...errorRuleProblems(state.Catch, `${where} Catch`));
            problems.push(...badDynamicKeys(state.Parameters, `${where} Parameters`));
            problems.push(...badDynamicKeys(state.ResultSelector, `${where} ResultSelector`));
            if (state.TimeoutSeconds !== undefined && state.TimeoutSecondsPath !== undefined) {
                problems.push(`${where} must not set both TimeoutSeconds and TimeoutSecondsPath.`);
            }
            for (const [key, value] of [
                ["TimeoutSeconds", state.TimeoutSeconds],
                ["HeartbeatSeconds", state.HeartbeatSeconds],
            ] as const) {
                if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 99_999_999)) {
                    problems.push(`${where} ${key} must be a positive integer (got ${value}).`);
                }
            }
            if (
                state.HeartbeatSeconds !== undefined &&
                state.TimeoutSeconds !== undefined &&
                state.HeartbeatSeconds >= state.TimeoutSeconds
            ) {
                problems.push(
                    `${where} HeartbeatSeconds must be less than TimeoutSeconds (got ${state.HeartbeatSeconds} >= ${state.TimeoutSeconds}).`,
                );
            }
            if (isCallbackTask(state)) {
                if (!carriesTaskToken(state.Parameters)) {
                    problems.push(
                        `${where} waits for a task token but its Parameters never pass "$$.Task.Token" to the worker.`,
                    );
                }
                if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
                    problems.push(
                        `${where} waits for a task token without TimeoutSeconds: a lost token would hang the execution for a year.`,
                    );
                }
                if (type === "EXPRESS") {
                    problems.push(
                        `${where} waits for a task token, which EXPRESS state machines do not support: use STANDARD.`,
                    );
                }
            }
        }
        for (const key of ["InputPath", "OutputPath", "ResultPath"] as const) {
            const value = (state as Partial<Record<typeof key, unknown>>)[key];
            if (typeof value === "string" && !value.startsWith("$")) {
                problems.push(`${where} ${key} must start with "$" (got "${value}").`);
            }
        }
    }

    // Every state must be reachable from StartAt (Step Functions rejects unreachable states).
    const byName = new Map(definition.States.map(({ name, state }) => [name, state]));
    const reached = new Set<string>();
    const pending = [definition.StartAt];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
        const state = byName.get(next);
        if (state !== undefined && !reached.has(next)) {
            reached.add(next);
            pending.push(...transitionsOf(state));
        }
    }
    for (const name of names) {
        if (names.has(definition.StartAt) && !reached.has(name)) {
            problems.push(`State "${name}" cannot be reached from StartAt "${definition.StartAt}".`);
        }
    }

    if (problems.length > 0) {
        throw new AslValidationError(problems);
    }
}

/** The JSON shape of a definition, with integrations resolved to ARNs in `partition`. */
export function toAsl(definition: StateMachineDefinition, partition: string): Record<string, unknown> {
    const states: Record<string, unknown> = {};
    for (const { name, state } of definition.States) {
        // Object.fromEntries(Object.entries(...)) keeps string keys only: symbol-keyed grants stay out.
        const plain = Object.fromEntries(Object.entries(state)) as unknown as State;
        states[name] =
            plain.Type === "Task" && isIntegration(plain.Resource)
                ? { ...plain, Resource: integrationArn(partition, plain.Resource) }
                : plain;
    }
    return {
        ...(definition.Comment !== undefined ? { Comment: definition.Comment } : {}),
        StartAt: definition.StartAt,
        States: states,
        ...(definition.TimeoutSeconds !== undefined ? { TimeoutSeconds: definition.TimeoutSeconds } : {}),
    };
}

/**
 * Validates a definition and renders it to the JSON string Step Functions takes, with the Outputs inside
 * it resolved (`pulumi.jsonStringify`).
 */
export function renderDefinition(
    definition: StateMachineDefinition,
    partition: pulumi.Input<string>,
    type: WorkflowType = "STANDARD",
): pulumi.Output<string> {
    validateDefinition(definition, type);
    return pulumi.output(partition).apply((p) => pulumi.jsonStringify(toAsl(definition, p)));
}

/** A Task state together with the IAM statements its integration needs. */
export interface TaskWithPolicy {
    readonly state: TaskState;
    readonly statements: readonly PolicyStatement[];
}

/**
 * The union of the statements the tasks declared: a statement repeated by several tasks (same effect,
 * actions, resources and conditions, where values compare by identity since they may be Outputs) is
 * kept once.
 */
export function statementsOf(tasks: readonly TaskWithPolicy[]): PolicyStatement[] {
    const ids = new Map<unknown, number>();
    const idOf = (value: unknown): number => {
        if (!ids.has(value)) {
            ids.set(value, ids.size);
        }
        return ids.get(value) as number;
    };
    const seen = new Set<string>();
    const union: PolicyStatement[] = [];
    for (const statement of tasks.flatMap((task) => task.statements)) {
        const actions = typeof statement.Action === "string" ? [statement.Action] : [...statement.Action].sort();
        const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        // Conditions compare like resources: two grants scoped to different resources are two grants.
        const conditions = Object.entries(statement.Condition ?? {})
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([operator, block]) => [
                operator,
                Object.entries(block)
                    .sort(([a], [b]) => a.localeCompare(b))
                    .map(([key, value]) => [key, (Array.isArray(value) ? value : [value]).map(idOf)]),
            ]);
        const key = JSON.stringify([statement.Effect, actions, resources.map(idOf), conditions]);
        if (!seen.has(key)) {
            seen.add(key);
            union.push(statement);
        }
    }
    return union;
}
