/**
 * Typed Amazon States Language: every state type (Task, Pass, Choice, Wait, Parallel, Map, Succeed,
 * Fail) in both query languages (JSONPath and JSONata), Retry/Catch, payload templates, service
 * integrations with the IAM statements they need, a program-time validator, and rendering through
 * `pulumi.jsonStringify` so Outputs (queue URLs, topic ARNs) sit inside the definition.
 *
 * Modelled on aws-cdk's `aws-stepfunctions`: every state has `Next` or `End`, never both; `States.ALL`
 * stands alone and last; each task declares the IAM statements it needs and the role gets their union.
 *
 * The AWS rules followed here, and where AWS states them:
 * - state machine structure, `QueryLanguage`:
 *   https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html
 * - JSONata states (`Arguments`, `Output`, `{% %}` expressions, no `.$` keys):
 *   https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
 * - each state type: https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 * - callbacks and the patterns each workflow type supports:
 *   https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html
 */
import * as pulumi from "@pulumi/pulumi";
import jsonata from "jsonata";
import { validateAsl } from "./asl-validate";
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

/**
 * How a state selects and transforms data. A machine's top-level `QueryLanguage` (default JSONPath) is
 * the default of every state; a state may set its own, but only JSONata in a JSONPath machine: a
 * top-level JSONata machine holds JSONata states only.
 * https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html
 */
export type QueryLanguage = "JSONPath" | "JSONata";

/** A reference path: `$`, `$.field`, or `$$.Context.field`. */
export type JsonPath = `$${string}`;

/** A JSONata expression as a JSONata state takes it: `{% $states.input.id %}`. */
export type JsonataExpression = `{%${string}%}`;

/**
 * A payload template. In JSONPath states keys ending in `.$` take a path or an intrinsic function and
 * other keys take values; in JSONata states (`Arguments`, `Output`, `Assign`) any string surrounded by
 * `{% %}` is an expression and no key ends in `.$`.
 */
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
    readonly Comment?: string;
}

/** A Catch rule: `ResultPath` in JSONPath states, `Output` in JSONata states, `Assign` in both. */
export interface CatchRule {
    readonly ErrorEquals: readonly string[];
    readonly Next: string;
    readonly ResultPath?: JsonPath | null;
    readonly Output?: pulumi.Input<PayloadValue>;
    readonly Assign?: PayloadTemplate;
    readonly Comment?: string;
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

/** `A` with every field that only `B` has forbidden, so TypeScript rejects a state mixing both languages. */
type Only<A, B> = A & { readonly [K in Exclude<keyof B, keyof A>]?: never };

/** Fields of every JSONPath state but Fail. */
interface JsonPathIO {
    readonly QueryLanguage?: "JSONPath";
    readonly Comment?: string;
    readonly InputPath?: JsonPath | null;
    readonly OutputPath?: JsonPath | null;
}

/** Fields of every JSONata state but Fail: `Output` replaces InputPath, OutputPath, ResultSelector and ResultPath. */
interface JsonataIO {
    readonly QueryLanguage?: "JSONata";
    readonly Comment?: string;
    readonly Output?: pulumi.Input<PayloadValue>;
}

/**
 * Data of other modules riding on a state under symbol keys (such as the IAM statements a task needs):
 * object spread keeps them, rendering and validation ignore them.
 */
export interface StateExtensions {
    readonly [extension: symbol]: unknown;
}

interface JsonPathTaskFields extends JsonPathIO {
    readonly Type: "Task";
    readonly Resource: ServiceIntegration | pulumi.Input<string>;
    readonly Parameters?: PayloadTemplate;
    readonly ResultSelector?: PayloadTemplate;
    readonly ResultPath?: JsonPath | null;
    readonly Assign?: PayloadTemplate;
    readonly TimeoutSeconds?: number;
    readonly TimeoutSecondsPath?: JsonPath;
    readonly HeartbeatSeconds?: number;
    readonly HeartbeatSecondsPath?: JsonPath;
    readonly Retry?: readonly RetryRule[];
    readonly Catch?: readonly CatchRule[];
    readonly Credentials?: PayloadTemplate;
}

interface JsonataTaskFields extends JsonataIO {
    readonly Type: "Task";
    readonly Resource: ServiceIntegration | pulumi.Input<string>;
    readonly Arguments?: PayloadTemplate | JsonataExpression;
    readonly Assign?: PayloadTemplate;
    readonly TimeoutSeconds?: number | JsonataExpression;
    readonly HeartbeatSeconds?: number | JsonataExpression;
    readonly Retry?: readonly RetryRule[];
    readonly Catch?: readonly CatchRule[];
    readonly Credentials?: PayloadTemplate;
}

export type JsonPathTaskState = Only<JsonPathTaskFields, JsonataTaskFields> & Transition & StateExtensions;
export type JsonataTaskState = Only<JsonataTaskFields, JsonPathTaskFields> & Transition & StateExtensions;
export type TaskState = JsonPathTaskState | JsonataTaskState;

interface JsonPathPassFields extends JsonPathIO {
    readonly Type: "Pass";
    readonly Parameters?: PayloadTemplate;
    readonly Result?: PayloadValue;
    readonly ResultPath?: JsonPath | null;
    readonly Assign?: PayloadTemplate;
}

interface JsonataPassFields extends JsonataIO {
    readonly Type: "Pass";
    readonly Assign?: PayloadTemplate;
}

export type JsonPathPassState = Only<JsonPathPassFields, JsonataPassFields> & Transition;
export type JsonataPassState = Only<JsonataPassFields, JsonPathPassFields> & Transition;
export type PassState = JsonPathPassState | JsonataPassState;

/** A JSONPath Choice rule: a `Variable` and a comparison, or `And`/`Or`/`Not` of rules. */
export interface ChoiceRule {
    readonly Variable?: JsonPath;
    readonly Next: string;
    readonly [comparison: string]: unknown;
}

/** A JSONata Choice rule: a `Condition` expression. */
export interface JsonataChoiceRule {
    readonly Condition: JsonataExpression;
    readonly Next: string;
    readonly Comment?: string;
    readonly Assign?: PayloadTemplate;
    readonly Output?: pulumi.Input<PayloadValue>;
}

interface JsonPathChoiceFields extends JsonPathIO {
    readonly Type: "Choice";
    readonly Choices: readonly ChoiceRule[];
    readonly Default?: string;
    readonly Assign?: PayloadTemplate;
}

interface JsonataChoiceFields extends JsonataIO {
    readonly Type: "Choice";
    readonly Choices: readonly JsonataChoiceRule[];
    readonly Default?: string;
    readonly Assign?: PayloadTemplate;
}

export type JsonPathChoiceState = Only<JsonPathChoiceFields, JsonataChoiceFields>;
export type JsonataChoiceState = Only<JsonataChoiceFields, JsonPathChoiceFields>;
export type ChoiceState = JsonPathChoiceState | JsonataChoiceState;

/** Exactly one of Seconds, Timestamp, SecondsPath and TimestampPath (the validator checks it). */
interface JsonPathWaitFields extends JsonPathIO {
    readonly Type: "Wait";
    readonly Seconds?: number;
    readonly Timestamp?: string;
    readonly SecondsPath?: JsonPath;
    readonly TimestampPath?: JsonPath;
    readonly Assign?: PayloadTemplate;
}

/** Exactly one of Seconds and Timestamp, either of them a value or an expression. */
interface JsonataWaitFields extends JsonataIO {
    readonly Type: "Wait";
    readonly Seconds?: number | JsonataExpression;
    readonly Timestamp?: string;
    readonly Assign?: PayloadTemplate;
}

export type JsonPathWaitState = Only<JsonPathWaitFields, JsonataWaitFields> & Transition;
export type JsonataWaitState = Only<JsonataWaitFields, JsonPathWaitFields> & Transition;
export type WaitState = JsonPathWaitState | JsonataWaitState;

/**
 * The states of a definition, a Parallel branch or a Map processor: listed (`[{ name, state }]`, so a
 * duplicate name is caught) or as ASL's own object (`{ name: state }`, where TypeScript rejects a
 * duplicate key in a literal).
 */
export type States = readonly NamedState[] | { readonly [name: string]: State };

/**
 * A Parallel branch or a Map processor: a state machine of its own, whose transitions stay inside it.
 * `QueryLanguage` here is the default of its states (as the top-level field is of the machine's); it is
 * rendered onto each of them that sets none, since AWS documents the field on machines and states.
 */
export interface Branch {
    readonly Comment?: string;
    readonly StartAt: string;
    readonly States: States;
    readonly QueryLanguage?: QueryLanguage;
}

/** How a Map runs its iterations: inline, or as child executions of a Distributed Map. */
export type ProcessorConfig =
    { readonly Mode: "INLINE" } | { readonly Mode: "DISTRIBUTED"; readonly ExecutionType: "STANDARD" | "EXPRESS" };

export interface MapItemProcessor extends Branch {
    readonly ProcessorConfig?: ProcessorConfig;
}

interface JsonPathParallelFields extends JsonPathIO {
    readonly Type: "Parallel";
    readonly Branches: readonly Branch[];
    readonly Parameters?: PayloadTemplate;
    readonly ResultSelector?: PayloadTemplate;
    readonly ResultPath?: JsonPath | null;
    readonly Assign?: PayloadTemplate;
    readonly Retry?: readonly RetryRule[];
    readonly Catch?: readonly CatchRule[];
}

interface JsonataParallelFields extends JsonataIO {
    readonly Type: "Parallel";
    readonly Branches: readonly Branch[];
    readonly Arguments?: PayloadTemplate | JsonataExpression;
    readonly Assign?: PayloadTemplate;
    readonly Retry?: readonly RetryRule[];
    readonly Catch?: readonly CatchRule[];
}

export type JsonPathParallelState = Only<JsonPathParallelFields, JsonataParallelFields> & Transition;
export type JsonataParallelState = Only<JsonataParallelFields, JsonPathParallelFields> & Transition;
export type ParallelState = JsonPathParallelState | JsonataParallelState;

/** Loosely typed configuration of Distributed Map only fields (ItemReader, ItemBatcher, ResultWriter). */
export interface MapConfiguration {
    readonly [key: string]: unknown;
}

/** Fields of a Map in both languages. Exactly one of ItemProcessor and Iterator (the legacy name). */
interface MapFields {
    readonly Type: "Map";
    readonly ItemProcessor?: MapItemProcessor;
    readonly Iterator?: Branch;
    readonly Label?: string;
    readonly ItemReader?: MapConfiguration;
    readonly ItemBatcher?: MapConfiguration;
    readonly ResultWriter?: MapConfiguration;
    readonly Assign?: PayloadTemplate;
    readonly Retry?: readonly RetryRule[];
    readonly Catch?: readonly CatchRule[];
}

interface JsonPathMapFields extends JsonPathIO, MapFields {
    readonly ItemsPath?: JsonPath;
    readonly ItemSelector?: PayloadTemplate;
    /** The legacy name of ItemSelector. */
    readonly Parameters?: PayloadTemplate;
    readonly MaxConcurrency?: number;
    readonly MaxConcurrencyPath?: JsonPath;
    readonly ResultSelector?: PayloadTemplate;
    readonly ResultPath?: JsonPath | null;
    readonly ToleratedFailurePercentage?: number;
    readonly ToleratedFailurePercentagePath?: JsonPath;
    readonly ToleratedFailureCount?: number;
    readonly ToleratedFailureCountPath?: JsonPath;
}

interface JsonataMapFields extends JsonataIO, MapFields {
    readonly Items?: readonly pulumi.Input<PayloadValue>[] | JsonataExpression;
    readonly ItemSelector?: PayloadTemplate | JsonataExpression;
    readonly MaxConcurrency?: number | JsonataExpression;
    readonly ToleratedFailurePercentage?: number | JsonataExpression;
    readonly ToleratedFailureCount?: number | JsonataExpression;
}

export type JsonPathMapState = Only<JsonPathMapFields, JsonataMapFields> & Transition;
export type JsonataMapState = Only<JsonataMapFields, JsonPathMapFields> & Transition;
export type MapState = JsonPathMapState | JsonataMapState;

interface JsonPathSucceedFields extends JsonPathIO {
    readonly Type: "Succeed";
}

interface JsonataSucceedFields extends JsonataIO {
    readonly Type: "Succeed";
}

export type SucceedState =
    Only<JsonPathSucceedFields, JsonataSucceedFields> | Only<JsonataSucceedFields, JsonPathSucceedFields>;

interface JsonPathFailFields {
    readonly Type: "Fail";
    readonly QueryLanguage?: "JSONPath";
    readonly Comment?: string;
    readonly Error?: string;
    readonly ErrorPath?: JsonPath;
    readonly Cause?: string;
    readonly CausePath?: JsonPath;
}

/** `Error` and `Cause` are values or expressions. */
interface JsonataFailFields {
    readonly Type: "Fail";
    readonly QueryLanguage?: "JSONata";
    readonly Comment?: string;
    readonly Error?: string;
    readonly Cause?: string;
}

export type FailState = Only<JsonPathFailFields, JsonataFailFields> | Only<JsonataFailFields, JsonPathFailFields>;

export type State =
    TaskState | PassState | ChoiceState | WaitState | ParallelState | MapState | SucceedState | FailState;

/** A state with its name, in the order the definition lists them. */
export interface NamedState {
    readonly name: string;
    readonly state: State;
}

export interface StateMachineDefinition {
    readonly Comment?: string;
    /** The default of every state (JSONPath when unset). */
    readonly QueryLanguage?: QueryLanguage;
    readonly StartAt: string;
    readonly States: States;
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

type Fields = Readonly<Record<string, unknown>>;

/** A plain object (not null, not a list, not an Output or a promise). */
function isFields(value: unknown): value is Fields {
    return (
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        !pulumi.Output.isInstance(value) &&
        !isThenable(value)
    );
}

function isThenable(value: unknown): boolean {
    return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function isIntegration(resource: unknown): resource is ServiceIntegration {
    return isFields(resource) && typeof resource["service"] === "string" && typeof resource["pattern"] === "string";
}

function isNamedList(states: States): states is readonly NamedState[] {
    return Array.isArray(states);
}

/** The states of a definition, branch or processor as `{ name, state }` in order, whichever form they were given in. */
export function namedStates(states: States): NamedState[] {
    if (isNamedList(states)) {
        return [...states];
    }
    return typeof states === "object" && states !== null
        ? Object.entries(states).map(([name, state]) => ({ name, state }))
        : [];
}

/** A query language value, or undefined when it is not one. */
function languageValue(value: unknown): QueryLanguage | undefined {
    return value === "JSONPath" || value === "JSONata" ? value : undefined;
}

/** True for a Task that pauses until its token is answered (in either query language). */
export function isCallbackTask(state: State): state is TaskState {
    if (!isFields(state) || state.Type !== "Task") {
        return false;
    }
    const resource: unknown = state.Resource;
    return isIntegration(resource)
        ? resource.pattern === "waitForTaskToken"
        : typeof resource === "string" && resource.endsWith(".waitForTaskToken");
}

/** Every target a state names, valid or not: `Next`, each Choice rule's, `Default`, each Catch's. */
function targetsOf(state: Fields): unknown[] {
    const targets: unknown[] = [];
    const rules = (key: string): unknown[] => (Array.isArray(state[key]) ? (state[key] as unknown[]) : []);
    switch (state["Type"]) {
        case "Task":
        case "Parallel":
        case "Map":
        case "Pass":
        case "Wait":
            if (state["Next"] !== undefined) {
                targets.push(state["Next"]);
            }
            for (const rule of rules("Catch")) {
                targets.push(isFields(rule) ? rule["Next"] : undefined);
            }
            break;
        case "Choice":
            for (const rule of rules("Choices")) {
                targets.push(isFields(rule) ? rule["Next"] : undefined);
            }
            if (state["Default"] !== undefined) {
                targets.push(state["Default"]);
            }
            break;
    }
    return targets;
}

/** Where a state can go next: `Next`, `Default`, each Choice's and Catch's `Next` (Task, Parallel and Map catch). */
export function transitionsOf(state: State): string[] {
    return isFields(state) ? targetsOf(state).filter((target): target is string => typeof target === "string") : [];
}

/** What `walkStates` tells about each state. */
export interface StateContext {
    /** Where the state is, for people: `[]` at the top, `['Parallel "Reserve"', "branch 2"]` in a branch. */
    path: readonly string[];
    /** The language the state uses: its own `QueryLanguage`, else its branch's or processor's, else the machine's. */
    queryLanguage: QueryLanguage;
    /** True inside a Distributed Map whose child executions are EXPRESS (at any depth below it). */
    expressChild: boolean;
}

/** A definition, branch or processor: states that transition among themselves. */
interface Scope {
    readonly startAt: unknown;
    readonly states: unknown;
    /** The default language of its states. */
    readonly language: QueryLanguage;
    /** `State "P" > branch 2` for messages ("" at the top). */
    readonly where: string;
    readonly path: readonly string[];
    /** The Distributed Map with EXPRESS child executions this scope runs in, if any. */
    readonly expressMap: string | undefined;
    /** The branch's or processor's own `QueryLanguage` field, unchecked. */
    readonly declaredLanguage?: unknown;
    /** The object holding StartAt and States (the definition at the top). */
    readonly body: unknown;
    /** The bodies of the scopes it is nested in, to stop at a branch that contains itself. */
    readonly ancestors: ReadonlySet<unknown>;
}

/** Each `[name, state]` of a scope's States, unchecked; undefined when States is neither a list nor an object. */
function entriesOf(states: unknown): Array<readonly [unknown, unknown]> | undefined {
    if (Array.isArray(states)) {
        // Array.from, not map: a sparse list's holes are entries too (undefined), not skipped.
        return Array.from(states as unknown[], (item) =>
            isFields(item) ? [item["name"], item["state"]] : [undefined, item],
        );
    }
    return isFields(states) ? Object.entries(states) : undefined;
}

/** True for a processor whose iterations run as EXPRESS child executions of a Distributed Map. */
function runsExpressChildren(processor: Fields): boolean {
    const config = processor["ProcessorConfig"];
    return isFields(config) && config["Mode"] === "DISTRIBUTED" && config["ExecutionType"] === "EXPRESS";
}

/** The branches and processors nested in a state, each its own scope. */
function nestedScopes(name: string, state: Fields, scope: Scope): Scope[] {
    const nested = (label: string, kind: string, body: unknown, expressMap: string | undefined): Scope => {
        const fields = isFields(body) ? body : {};
        return {
            startAt: fields["StartAt"],
            states: fields["States"],
            language: languageValue(fields["QueryLanguage"]) ?? scope.language,
            where: `${scope.where === "" ? "" : `${scope.where} > `}State "${name}" > ${label}`,
            path: [...scope.path, `${kind} "${name}"`, label],
            expressMap,
            declaredLanguage: fields["QueryLanguage"],
            body,
            ancestors: new Set(scope.ancestors).add(scope.body),
        };
    };
    if (state["Type"] === "Parallel" && Array.isArray(state["Branches"])) {
        return (state["Branches"] as unknown[])
            .map((branch, index) => [branch, index] as const)
            .filter(([branch]) => isFields(branch))
            .map(([branch, index]) => nested(`branch ${index + 1}`, "Parallel", branch, scope.expressMap));
    }
    if (state["Type"] === "Map") {
        return (["ItemProcessor", "Iterator"] as const)
            .filter((key) => isFields(state[key]))
            .map((key) => {
                const processor = state[key] as Fields;
                const express = key === "ItemProcessor" && runsExpressChildren(processor) ? name : scope.expressMap;
                return nested(key, "Map", processor, express);
            });
    }
    return [];
}

function topScope(definition: StateMachineDefinition): Scope {
    const fields: Fields = isFields(definition) ? definition : {};
    return {
        startAt: fields["StartAt"],
        states: fields["States"],
        language: languageValue(fields["QueryLanguage"]) ?? "JSONPath",
        where: "",
        path: [],
        expressMap: undefined,
        body: definition,
        ancestors: new Set(),
    };
}

/**
 * Visits every state of a definition, at every depth (Parallel branches, Map ItemProcessor and
 * Iterator), depth first in the order they are listed: each state, then the states nested in it.
 * Entries that are not objects are skipped (validateDefinition reports them).
 */
export function walkStates(
    definition: StateMachineDefinition,
    visit: (
        name: string,
        state: State,
        context: { path: readonly string[]; queryLanguage: QueryLanguage; expressChild: boolean },
    ) => void,
): void {
    const walk = (scope: Scope): void => {
        for (const [name, state] of entriesOf(scope.states) ?? []) {
            if (typeof name !== "string" || !isFields(state)) {
                continue;
            }
            const context: StateContext = {
                path: scope.path,
                queryLanguage: languageValue(state["QueryLanguage"]) ?? scope.language,
                expressChild: scope.expressMap !== undefined,
            };
            visit(name, state as unknown as State, context);
            nestedScopes(name, state, scope)
                .filter((nested) => !nested.ancestors.has(nested.body))
                .forEach(walk);
        }
    };
    walk(topScope(definition));
}

/** A short, safe description of a value for a message (never calls an Output's toJSON). */
function show(value: unknown): string {
    if (value === undefined) {
        return "nothing";
    }
    if (pulumi.Output.isInstance(value) || isThenable(value)) {
        return "an Output";
    }
    if (Array.isArray(value)) {
        return "a list";
    }
    if (typeof value === "object" && value !== null) {
        return "an object";
    }
    if (typeof value === "number" || typeof value === "boolean") {
        return String(value);
    }
    if (typeof value === "string" || value === null) {
        return JSON.stringify(value);
    }
    return typeof value;
}

/** True when `template` (or any object nested in it) maps a `*.$` key to `$$.Task.Token`. */
function carriesTaskToken(template: unknown): boolean {
    if (Array.isArray(template)) {
        return template.some(carriesTaskToken);
    }
    if (!isFields(template)) {
        return false;
    }
    return Object.entries(template).some(
        ([key, value]) => (key.endsWith(".$") && value === "$$.Task.Token") || carriesTaskToken(value),
    );
}

/** Every string in a JSONata value (itself, or nested in its objects and lists), with where it is. */
function stringsIn(value: unknown, where: string): Array<readonly [string, string]> {
    if (typeof value === "string") {
        return [[value, where]];
    }
    if (Array.isArray(value)) {
        return value.flatMap((item, index) => stringsIn(item, `${where}[${index}]`));
    }
    return isFields(value) ? Object.entries(value).flatMap(([key, item]) => stringsIn(item, `${where}.${key}`)) : [];
}

/** True for a JSONata expression string: `{% ... %}`. */
function isExpression(value: unknown): value is string {
    return typeof value === "string" && value.startsWith("{%") && value.endsWith("%}");
}

/**
 * True when a JSONata `Arguments` passes the task token: an expression (the whole value or any string in
 * it) reading `$states.context.Task.Token`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html
 */
function carriesJsonataTaskToken(args: unknown): boolean {
    return stringsIn(args, "").some(([text]) => isExpression(text) && text.includes("$states.context.Task.Token"));
}

/** Keys ending in `.$` must hold a path (`$...`) or an intrinsic function (`States.*(...)`). */
function badDynamicKeys(template: unknown, where: string): string[] {
    if (Array.isArray(template)) {
        return template.flatMap((item, index) => badDynamicKeys(item, `${where}[${index}]`));
    }
    if (!isFields(template)) {
        return [];
    }
    return Object.entries(template).flatMap(([key, value]) => {
        if (key.endsWith(".$")) {
            return typeof value === "string" && (value.startsWith("$") || /^States\.[A-Za-z]+\(.*\)$/s.test(value))
                ? []
                : [
                      `${where}: "${key}" must be a path starting with "$" or an intrinsic function (got ${show(value)}).`,
                  ];
        }
        return badDynamicKeys(value, `${where}.${key}`);
    });
}

/** Keys ending in `.$`, which JSONata states do not use. */
function dollarKeys(template: unknown, where: string): string[] {
    if (Array.isArray(template)) {
        return template.flatMap((item, index) => dollarKeys(item, `${where}[${index}]`));
    }
    if (!isFields(template)) {
        return [];
    }
    return Object.entries(template).flatMap(([key, value]) =>
        key.endsWith(".$")
            ? [
                  `${where}: "${key}" ends in ".$", which JSONata states do not use: write "${key.slice(0, -2)}": "{% ... %}".`,
              ]
            : dollarKeys(value, `${where}.${key}`),
    );
}

function errorRuleProblems(rules: unknown, where: string): string[] {
    if (rules === undefined) {
        return [];
    }
    if (!Array.isArray(rules)) {
        return [`${where} must be a list of rules (got ${show(rules)}).`];
    }
    const problems: string[] = [];
    rules.forEach((rule: unknown, index) => {
        const errors = isFields(rule) ? rule["ErrorEquals"] : undefined;
        if (!Array.isArray(errors) || errors.length === 0 || !errors.every((e) => typeof e === "string")) {
            problems.push(`${where}[${index}].ErrorEquals must name at least one error.`);
            return;
        }
        if (errors.includes(StatesErrors.ALL)) {
            if (errors.length > 1) {
                problems.push(
                    `${where}[${index}]: "States.ALL" must appear alone in ErrorEquals (got ${JSON.stringify(errors)}).`,
                );
            }
            if (index !== rules.length - 1) {
                problems.push(`${where}[${index}]: the rule with "States.ALL" must be the last one.`);
            }
        }
    });
    return problems;
}

const STATE_TYPES = ["Task", "Pass", "Choice", "Wait", "Parallel", "Map", "Succeed", "Fail"];

/** State types that go on with `Next` or stop with `End: true`. */
const TRANSITIONING = new Set(["Task", "Pass", "Wait", "Parallel", "Map"]);

/** Reference paths of JSONPath states, which must start with `$`. */
const PATH_FIELDS = [
    "InputPath",
    "OutputPath",
    "ResultPath",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
];

/**
 * Fields only JSONPath states have, and what a JSONata state uses instead.
 * https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
 */
const JSONPATH_ONLY: Readonly<Record<string, string>> = {
    InputPath: "read $states.input in Arguments or Output",
    OutputPath: "use Output",
    Parameters: "use Arguments (ItemSelector in a Map)",
    ResultSelector: "use Output",
    ResultPath: "use Output (and Assign)",
    ItemsPath: "use Items",
    TimeoutSecondsPath: "set TimeoutSeconds to an expression",
    HeartbeatSecondsPath: "set HeartbeatSeconds to an expression",
    SecondsPath: "set Seconds to an expression",
    TimestampPath: "set Timestamp to an expression",
    ErrorPath: "set Error to an expression",
    CausePath: "set Cause to an expression",
    MaxConcurrencyPath: "set MaxConcurrency to an expression",
    ToleratedFailurePercentagePath: "set ToleratedFailurePercentage to an expression",
    ToleratedFailureCountPath: "set ToleratedFailureCount to an expression",
};

/** Fields only JSONata states have. */
const JSONATA_ONLY = ["Arguments", "Output", "Items"];

/** Fields of JSONata states whose strings may be expressions, checked for `{% %}` syntax. */
const JSONATA_VALUE_FIELDS = [
    "Arguments",
    "Output",
    "Assign",
    "Items",
    "ItemSelector",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "Seconds",
    "Timestamp",
    "Error",
    "Cause",
    "MaxConcurrency",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
];

/** Fields that take a number, or in a JSONata state an expression. */
const NUMBER_OR_EXPRESSION = [
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "Seconds",
    "MaxConcurrency",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
];

interface Check {
    readonly type: WorkflowType;
}

/**
 * A JSONata string that opens `{%` must close `%}`, and what is between must parse as JSONata (parsed
 * by the jsonata package, never evaluated).
 */
function expressionProblems(value: unknown, where: string): string[] {
    return stringsIn(value, where).flatMap(([text, at]) => {
        if (!text.startsWith("{%")) {
            return [];
        }
        if (!text.endsWith("%}")) {
            return [`${at}: ${show(text)} opens a JSONata expression with "{%" but does not close it with "%}".`];
        }
        try {
            jsonata(text.slice(2, -2));
            return [];
        } catch (error) {
            const { message, position } = (typeof error === "object" && error !== null ? error : {}) as {
                message?: unknown;
                position?: unknown;
            };
            const offset = typeof position === "number" ? ` (at character ${position} of the expression)` : "";
            return [
                `${at}: the JSONata expression ${show(text)} does not parse: ${String(message ?? error)}${offset}.`,
            ];
        }
    });
}

/** The problems of a Task's timeouts and, for a callback task, of its token, timeout and workflow type. */
function taskProblems(state: Fields, where: string, language: QueryLanguage, scope: Scope, check: Check): string[] {
    const problems: string[] = [];
    if (state["Resource"] === undefined || state["Resource"] === null) {
        problems.push(`${where} has no Resource.`);
    }
    if (state["TimeoutSeconds"] !== undefined && state["TimeoutSecondsPath"] !== undefined) {
        problems.push(`${where} must not set both TimeoutSeconds and TimeoutSecondsPath.`);
    }
    if (state["HeartbeatSeconds"] !== undefined && state["HeartbeatSecondsPath"] !== undefined) {
        problems.push(`${where} must not set both HeartbeatSeconds and HeartbeatSecondsPath.`);
    }
    for (const key of ["TimeoutSeconds", "HeartbeatSeconds"]) {
        const value = state[key];
        const expression = language === "JSONata" && typeof value === "string";
        if (
            value !== undefined &&
            !expression &&
            (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 99_999_999)
        ) {
            problems.push(`${where} ${key} must be a positive integer (got ${show(value)}).`);
        }
    }
    const [timeout, heartbeat] = [state["TimeoutSeconds"], state["HeartbeatSeconds"]];
    // https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html (HeartbeatSeconds)
    if (typeof heartbeat === "number" && typeof timeout === "number" && heartbeat >= timeout) {
        problems.push(`${where} HeartbeatSeconds must be less than TimeoutSeconds (got ${heartbeat} >= ${timeout}).`);
    }
    if (isCallbackTask(state as unknown as State)) {
        if (language === "JSONPath" && !carriesTaskToken(state["Parameters"])) {
            problems.push(
                `${where} waits for a task token but its Parameters never pass "$$.Task.Token" to the worker.`,
            );
        }
        if (language === "JSONata" && !carriesJsonataTaskToken(state["Arguments"])) {
            problems.push(
                `${where} waits for a task token but its Arguments never pass "{% $states.context.Task.Token %}" to the worker.`,
            );
        }
        if (timeout === undefined && state["TimeoutSecondsPath"] === undefined) {
            problems.push(
                `${where} waits for a task token without TimeoutSeconds: a lost token would hang the execution for a year.`,
            );
        }
        // Express workflows support Request Response integrations only:
        // https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html
        if (check.type === "EXPRESS") {
            problems.push(
                `${where} waits for a task token, which EXPRESS state machines do not support: use STANDARD.`,
            );
        }
        if (scope.expressMap !== undefined) {
            problems.push(
                `${where} waits for a task token, which the EXPRESS child executions of Distributed Map "${scope.expressMap}" do not support: use ExecutionType STANDARD.`,
            );
        }
    }
    return problems;
}

/** The problems of the fields of one language used in a state of the other, and of JSONata values. */
function languageProblems(state: Fields, where: string, language: QueryLanguage, scope: Scope): string[] {
    const problems: string[] = [];
    const declared = state["QueryLanguage"];
    if (declared !== undefined && languageValue(declared) === undefined) {
        problems.push(`${where} QueryLanguage must be "JSONPath" or "JSONata" (got ${show(declared)}).`);
    }
    // A top-level JSONata machine cannot hold JSONPath states:
    // https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html
    if (scope.language === "JSONata" && declared === "JSONPath") {
        problems.push(
            `${where} sets QueryLanguage "JSONPath" in ${scope.where === "" ? "a JSONata state machine" : `${scope.where}, which is JSONata`}: JSONata cannot hold JSONPath states.`,
        );
    }
    const catches = Array.isArray(state["Catch"]) ? (state["Catch"] as unknown[]) : [];
    const choices =
        state["Type"] === "Choice" && Array.isArray(state["Choices"]) ? (state["Choices"] as unknown[]) : [];
    if (language === "JSONata") {
        for (const [key, instead] of Object.entries(JSONPATH_ONLY)) {
            if (state[key] !== undefined) {
                problems.push(`${where} is JSONata but sets ${key}, a JSONPath field: ${instead}.`);
            }
        }
        catches.forEach((rule, index) => {
            if (isFields(rule) && rule["ResultPath"] !== undefined) {
                problems.push(`${where} is JSONata but Catch[${index}] sets ResultPath, a JSONPath field: use Output.`);
            }
        });
        // JSONata Choice rules test a Condition: https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
        choices.forEach((rule, index) => {
            if (!isFields(rule)) {
                return;
            }
            for (const key of ["Variable", "And", "Or", "Not"].filter((k) => rule[k] !== undefined)) {
                problems.push(
                    `${where} is JSONata but Choices[${index}] uses ${key}, a JSONPath choice rule: test a Condition "{% ... %}".`,
                );
            }
            if (!isExpression(rule["Condition"])) {
                problems.push(
                    `${where} Choices[${index}].Condition must be a JSONata expression "{% ... %}" (got ${show(rule["Condition"])}).`,
                );
            }
        });
        for (const key of NUMBER_OR_EXPRESSION) {
            const value = state[key];
            if (typeof value === "string" && !value.startsWith("{%")) {
                problems.push(
                    `${where} ${key} must be a number or a JSONata expression "{% ... %}" (got ${show(value)}).`,
                );
            }
        }
        const values: Array<readonly [unknown, string]> = [
            ...JSONATA_VALUE_FIELDS.map((key) => [state[key], `${where} ${key}`] as const),
            ...catches.flatMap((rule, index) =>
                isFields(rule)
                    ? [
                          [rule["Output"], `${where} Catch[${index}].Output`] as const,
                          [rule["Assign"], `${where} Catch[${index}].Assign`] as const,
                      ]
                    : [],
            ),
            ...choices.flatMap((rule, index) =>
                isFields(rule)
                    ? [
                          [rule["Condition"], `${where} Choices[${index}].Condition`] as const,
                          [rule["Output"], `${where} Choices[${index}].Output`] as const,
                          [rule["Assign"], `${where} Choices[${index}].Assign`] as const,
                      ]
                    : [],
            ),
        ];
        for (const [value, at] of values) {
            problems.push(...dollarKeys(value, at), ...expressionProblems(value, at));
        }
    } else {
        for (const key of JSONATA_ONLY.filter((k) => state[k] !== undefined)) {
            problems.push(`${where} is JSONPath but sets ${key}, a JSONata field: set its QueryLanguage to "JSONata".`);
        }
        catches.forEach((rule, index) => {
            if (isFields(rule) && rule["Output"] !== undefined) {
                problems.push(`${where} is JSONPath but Catch[${index}] sets Output, a JSONata field: use ResultPath.`);
            }
        });
        choices.forEach((rule, index) => {
            if (isFields(rule) && rule["Condition"] !== undefined) {
                problems.push(
                    `${where} is JSONPath but Choices[${index}] sets Condition, a JSONata field: compare a Variable.`,
                );
            }
        });
        for (const key of ["Parameters", "ResultSelector", "ItemSelector", "Assign"]) {
            problems.push(...badDynamicKeys(state[key], `${where} ${key}`));
        }
        for (const key of PATH_FIELDS) {
            const value = state[key];
            if (typeof value === "string" && !value.startsWith("$")) {
                problems.push(`${where} ${key} must start with "$" (got "${value}").`);
            }
        }
        catches.forEach((rule, index) => {
            const value = isFields(rule) ? rule["ResultPath"] : undefined;
            if (typeof value === "string" && !value.startsWith("$")) {
                problems.push(`${where} Catch[${index}].ResultPath must start with "$" (got "${value}").`);
            }
        });
    }
    return problems;
}

/** Which of `keys` a state sets, for "exactly one of" rules. */
function present(state: Fields, keys: readonly string[]): string[] {
    return keys.filter((key) => state[key] !== undefined);
}

function exactlyOne(state: Fields, keys: readonly string[], where: string): string[] {
    const set = present(state, keys);
    return set.length === 1
        ? []
        : [
              `${where} must have exactly one of ${keys.slice(0, -1).join(", ")} and ${keys[keys.length - 1]} (got ${set.length === 0 ? "none" : set.join(", ")}).`,
          ];
}

/** The problems of one state, without those of the states nested in it. */
function stateProblems(name: string, state: unknown, names: ReadonlySet<string>, scope: Scope, check: Check): string[] {
    const where = `${scope.where === "" ? "" : `${scope.where} > `}State "${name}"`;
    if (!isFields(state)) {
        return [`${where} must be an object (got ${show(state)}).`];
    }
    const type = state["Type"];
    if (typeof type !== "string" || !STATE_TYPES.includes(type)) {
        return [`${where} Type must be one of ${STATE_TYPES.join(", ")} (got ${show(type)}).`];
    }
    const language = languageValue(state["QueryLanguage"]) ?? scope.language;
    const problems: string[] = [];
    if (TRANSITIONING.has(type)) {
        const hasNext = state["Next"] !== undefined;
        const hasEnd = state["End"] === true;
        if (hasNext === hasEnd) {
            problems.push(`${where} must have exactly one of Next and End (got ${hasNext ? "both" : "neither"}).`);
        }
    }
    for (const target of targetsOf(state)) {
        if (typeof target !== "string") {
            problems.push(`${where} goes to ${show(target)}, which is not a state name.`);
        } else if (!names.has(target)) {
            problems.push(
                scope.where === ""
                    ? `${where} goes to "${target}", which is not a state.`
                    : `${where} goes to "${target}", which is not a state of ${scope.path[scope.path.length - 1] ?? "its scope"}: transitions cannot leave a branch or a Map's processor.`,
            );
        }
    }
    switch (type) {
        case "Choice": {
            const choices = state["Choices"];
            if (!Array.isArray(choices) || choices.length === 0) {
                problems.push(`${where} must have at least one Choice rule.`);
            } else {
                choices.forEach((rule: unknown, index) => {
                    if (!isFields(rule)) {
                        problems.push(`${where} Choices[${index}] must be an object (got ${show(rule)}).`);
                    } else if (rule["Next"] === undefined) {
                        problems.push(`${where} Choices[${index}] has no Next.`);
                    }
                });
            }
            break;
        }
        case "Task":
            problems.push(
                ...errorRuleProblems(state["Retry"], `${where} Retry`),
                ...errorRuleProblems(state["Catch"], `${where} Catch`),
                ...taskProblems(state, where, language, scope, check),
            );
            break;
        case "Wait": {
            // https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
            problems.push(...exactlyOne(state, ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"], where));
            const seconds = state["Seconds"];
            const expression = language === "JSONata" && typeof seconds === "string";
            if (
                seconds !== undefined &&
                !expression &&
                (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0 || seconds > 99_999_999)
            ) {
                problems.push(`${where} Seconds must be an integer from 0 to 99999999 (got ${show(seconds)}).`);
            }
            break;
        }
        case "Parallel": {
            problems.push(
                ...errorRuleProblems(state["Retry"], `${where} Retry`),
                ...errorRuleProblems(state["Catch"], `${where} Catch`),
            );
            // https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html
            const branches = state["Branches"];
            if (!Array.isArray(branches) || branches.length === 0) {
                problems.push(`${where} must have at least one branch in Branches.`);
            } else {
                branches.forEach((branch: unknown, index) => {
                    if (!isFields(branch)) {
                        problems.push(`${where} Branches[${index}] must be { StartAt, States } (got ${show(branch)}).`);
                    }
                });
            }
            break;
        }
        case "Map": {
            problems.push(
                ...errorRuleProblems(state["Retry"], `${where} Retry`),
                ...errorRuleProblems(state["Catch"], `${where} Catch`),
            );
            // https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html
            const processors = present(state, ["ItemProcessor", "Iterator"]);
            if (processors.length !== 1) {
                problems.push(
                    `${where} must have exactly one of ItemProcessor and Iterator (got ${processors.length === 0 ? "none" : "both"}).`,
                );
            }
            for (const key of processors) {
                if (!isFields(state[key])) {
                    problems.push(`${where} ${key} must be { StartAt, States } (got ${show(state[key])}).`);
                }
            }
            for (const [a, b] of [
                ["ItemSelector", "Parameters"],
                ["MaxConcurrency", "MaxConcurrencyPath"],
                ["Items", "ItemsPath"],
            ] as const) {
                if (state[a] !== undefined && state[b] !== undefined) {
                    problems.push(`${where} must not set both ${a} and ${b}.`);
                }
            }
            const processor = state["ItemProcessor"];
            const config = isFields(processor) ? processor["ProcessorConfig"] : undefined;
            // https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
            if (config !== undefined) {
                const mode = isFields(config) ? config["Mode"] : undefined;
                const executionType = isFields(config) ? config["ExecutionType"] : undefined;
                if (mode !== "INLINE" && mode !== "DISTRIBUTED") {
                    problems.push(
                        `${where} ItemProcessor.ProcessorConfig.Mode must be "INLINE" or "DISTRIBUTED" (got ${show(mode)}).`,
                    );
                } else if (mode === "DISTRIBUTED" && executionType !== "STANDARD" && executionType !== "EXPRESS") {
                    problems.push(
                        `${where} is a Distributed Map: its ProcessorConfig.ExecutionType must be "STANDARD" or "EXPRESS" (got ${show(executionType)}).`,
                    );
                }
            }
            break;
        }
    }
    problems.push(...languageProblems(state, where, language, scope));
    return problems;
}

/** The problems of a scope's states, its StartAt and reachability, then those of its nested scopes. */
function scopeProblems(scope: Scope, check: Check): string[] {
    const problems: string[] = [];
    const prefix = scope.where === "" ? "" : `${scope.where}: `;
    const entries = entriesOf(scope.states);
    if (entries === undefined) {
        problems.push(
            `${scope.where === "" ? "The definition" : scope.where} States must be a list of { name, state } or an object of states (got ${show(scope.states)}).`,
        );
        return problems;
    }
    if (scope.declaredLanguage !== undefined && languageValue(scope.declaredLanguage) === undefined) {
        problems.push(`${prefix}QueryLanguage must be "JSONPath" or "JSONata" (got ${show(scope.declaredLanguage)}).`);
    }
    const names = new Set<string>();
    const named: Array<readonly [string, unknown]> = [];
    entries.forEach(([name, state], index) => {
        if (typeof name !== "string") {
            problems.push(`${prefix}States[${index}] must be { name, state } with a string name (got ${show(name)}).`);
            return;
        }
        if (names.has(name)) {
            problems.push(`${scope.where === "" ? "" : `${scope.where} > `}State "${name}" is defined more than once.`);
        }
        if (name.length === 0 || name.length > 80) {
            problems.push(`${prefix}State name "${name}" must be 1 to 80 characters.`);
        }
        names.add(name);
        named.push([name, state]);
    });
    if (entries.length === 0) {
        problems.push(scope.where === "" ? "The definition has no states." : `${scope.where} has no states.`);
    }
    const startAt = scope.startAt;
    const startsOk = typeof startAt === "string" && names.has(startAt);
    if (!startsOk) {
        problems.push(
            typeof startAt === "string"
                ? `${prefix}StartAt names "${startAt}", which is not a state.`
                : `${prefix}StartAt must name a state (got ${show(startAt)}).`,
        );
    }
    for (const [name, state] of named) {
        problems.push(...stateProblems(name, state, names, scope, check));
    }
    // Every state must be reachable from StartAt (Step Functions rejects unreachable states).
    if (startsOk) {
        const byName = new Map(named);
        const reached = new Set<string>();
        const pending: string[] = [startAt];
        for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
            const state = byName.get(next);
            if (!reached.has(next) && byName.has(next)) {
                reached.add(next);
                // Targets that are not names were reported above; they lead nowhere.
                pending.push(...(isFields(state) ? targetsOf(state) : []).filter((t) => typeof t === "string"));
            }
        }
        for (const name of names) {
            if (!reached.has(name)) {
                problems.push(
                    `${scope.where === "" ? "" : `${scope.where} > `}State "${name}" cannot be reached from StartAt "${startAt}".`,
                );
            }
        }
    }
    for (const [name, state] of named) {
        if (!isFields(state)) {
            continue;
        }
        for (const nested of nestedScopes(name, state, scope)) {
            if (nested.ancestors.has(nested.body)) {
                problems.push(
                    `${nested.where} is the very object it is nested in: a definition cannot contain itself.`,
                );
                continue;
            }
            if (scope.language === "JSONata" && nested.declaredLanguage === "JSONPath") {
                problems.push(
                    `${nested.where} sets QueryLanguage "JSONPath" in a JSONata ${scope.where === "" ? "state machine" : "scope"}: JSONata cannot hold JSONPath states.`,
                );
            }
            problems.push(...scopeProblems(nested, check));
        }
    }
    return problems;
}

/**
 * The problems the project's own rules find in a definition (see {@link validateDefinition}), without
 * asl-validator's and without throwing: an empty list when it follows them all.
 */
export function definitionProblems(definition: StateMachineDefinition, type: WorkflowType = "STANDARD"): string[] {
    try {
        if (!isFields(definition)) {
            return [`The definition must be an object (got ${show(definition)}).`];
        }
        const problems: string[] = [];
        const language = definition.QueryLanguage as unknown;
        if (language !== undefined && languageValue(language) === undefined) {
            problems.push(`QueryLanguage must be "JSONPath" or "JSONata" (got ${show(language)}).`);
        }
        problems.push(...scopeProblems(topScope(definition), { type }));
        return problems;
    } catch (error) {
        // Whatever the input (a cycle overflows the stack), the caller gets problems, not a crash.
        return [`The definition could not be checked: ${describeError(error)}.`];
    }
}

function describeError(error: unknown): string {
    return error instanceof Error ? `${error.name}: ${error.message}` : show(error);
}

/** Stands for each Output in the copy asl-validator checks: an ARN, since Outputs sit in Resource fields too. */
const OUTPUT_PLACEHOLDER = "arn:aws:states:::pulumi-output-unknown-at-program-time";

/** A JSON copy of a rendered definition, with every Output (unknown at program time) a placeholder string. */
function withPlaceholders(value: unknown): unknown {
    if (pulumi.Output.isInstance(value) || isThenable(value)) {
        return OUTPUT_PLACEHOLDER;
    }
    if (Array.isArray(value)) {
        return Array.from(value as unknown[], (item) => withPlaceholders(item) ?? null);
    }
    if (typeof value === "object" && value !== null) {
        const copy: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) {
            const json = withPlaceholders(item);
            if (json !== undefined) {
                copy[key] = json;
            }
        }
        return copy;
    }
    return typeof value === "function" || typeof value === "symbol" ? undefined : value;
}

/**
 * asl-validator's errors on the definition as Step Functions would get it, Outputs standing in as
 * placeholders; its schemas are compiled once per process (components/asl-validate.ts).
 */
function independentProblems(definition: StateMachineDefinition): readonly string[] {
    let copy: unknown;
    try {
        copy = withPlaceholders(toAsl(definition, "aws"));
    } catch (error) {
        return [`asl-validator: the definition could not be rendered for it: ${describeError(error)}.`];
    }
    try {
        const { isValid, errors } = validateAsl(copy);
        return isValid
            ? []
            : errors.length === 0
              ? ["asl-validator: the definition is not valid (it gave no reason)."]
              : errors.map((e) => `asl-validator: ${e["Error code"]}: ${e.Message}${e.path ? ` at ${e.path}` : ""}`);
    } catch (error) {
        return [`asl-validator failed on the definition: ${describeError(error)}.`];
    }
}

/**
 * Checks a definition at program time, before any resource is created, and throws
 * {@link AslValidationError} listing every problem, each prefixed with where it is
 * (`State "Reserve" > branch 2 > State "Hold stock" ...`): in every scope (the machine, each Parallel
 * branch, each Map processor) duplicate or missing states, transitions to states outside the scope,
 * unreachable states, `Next` and `End` both or neither; `States.ALL` not alone and last; bad paths; a
 * field of one query language in a state of the other, a JSONPath state in a JSONata machine, a `{%`
 * expression not closed or that does not parse; a waitForTaskToken task without the token in its payload or without a
 * timeout, `HeartbeatSeconds` ≥ `TimeoutSeconds`, and a callback task in an EXPRESS machine or in the
 * EXPRESS child executions of a Distributed Map. Symbol-keyed data on states is ignored.
 *
 * When the definition follows these rules, asl-validator (an independent implementation of the ASL
 * schema and checks) runs on it as rendered, each Pulumi Output a placeholder string, and its errors
 * are problems too, prefixed `asl-validator:`. It does not run on a definition already refused: its
 * errors would mostly repeat ours, and it is the slow part (compiling its schemas, once per process,
 * costs a few hundred ms).
 * It throws nothing but AslValidationError, whatever the shape of its input.
 */
export function validateDefinition(definition: StateMachineDefinition, type: WorkflowType = "STANDARD"): void {
    const problems = definitionProblems(definition, type);
    if (problems.length === 0) {
        problems.push(...independentProblems(definition));
    }
    if (problems.length > 0) {
        throw new AslValidationError(problems);
    }
}

/** A state as ASL: its string-keyed fields (symbol-keyed data dropped), integrations as ARNs, nested states rendered. */
function renderState(state: unknown, partition: string, machine: QueryLanguage, scope: QueryLanguage): unknown {
    if (!isFields(state)) {
        return state;
    }
    const rendered: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(state)) {
        rendered[key] = value;
    }
    if (state["Type"] === "Task" && isIntegration(state["Resource"])) {
        rendered["Resource"] = integrationArn(partition, state["Resource"]);
    }
    if (state["Type"] === "Parallel" && Array.isArray(state["Branches"])) {
        rendered["Branches"] = (state["Branches"] as unknown[]).map((branch) =>
            renderBranch(branch, partition, machine, scope),
        );
    }
    if (state["Type"] === "Map") {
        for (const key of ["ItemProcessor", "Iterator"]) {
            if (isFields(state[key])) {
                rendered[key] = renderBranch(state[key], partition, machine, scope);
            }
        }
    }
    // A branch's or processor's own QueryLanguage, rendered onto each of its states that sets none.
    if (state["QueryLanguage"] === undefined && scope !== machine) {
        rendered["QueryLanguage"] = scope;
    }
    return rendered;
}

function renderBranch(branch: unknown, partition: string, machine: QueryLanguage, scope: QueryLanguage): unknown {
    if (!isFields(branch)) {
        return branch;
    }
    const language = languageValue(branch["QueryLanguage"]) ?? scope;
    const rendered: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(branch)) {
        if (key !== "QueryLanguage") {
            rendered[key] = value;
        }
    }
    rendered["States"] = renderStates(branch["States"] as States, partition, machine, language);
    return rendered;
}

function renderStates(
    states: States,
    partition: string,
    machine: QueryLanguage,
    scope: QueryLanguage,
): Record<string, unknown> {
    const rendered: Record<string, unknown> = {};
    for (const { name, state } of namedStates(states)) {
        rendered[name] = renderState(state, partition, machine, scope);
    }
    return rendered;
}

/**
 * The JSON shape of a definition: States as ASL objects at every depth (whichever form they were given
 * in), integrations resolved to ARNs in `partition`, `QueryLanguage` kept, symbol-keyed data dropped.
 */
export function toAsl(definition: StateMachineDefinition, partition: string): Record<string, unknown> {
    const machine = languageValue(definition.QueryLanguage) ?? "JSONPath";
    return {
        ...(definition.Comment !== undefined ? { Comment: definition.Comment } : {}),
        ...(definition.QueryLanguage !== undefined ? { QueryLanguage: definition.QueryLanguage } : {}),
        StartAt: definition.StartAt,
        States: renderStates(definition.States, partition, machine, machine),
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
