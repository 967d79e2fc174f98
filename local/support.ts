/**
 * What the local harness can run faithfully, decided before anything runs. The interpreter
 * (aws-local-stepfunctions) implements JSONPath ASL; it has no JSONata evaluator, no workflow variables,
 * no Distributed Map, and one context object per execution. A definition that needs any of these is
 * refused with every reason, each naming its states: a local run either matches what Step Functions
 * would do or does not happen.
 *
 * Also here: how each Task state is run (a callback on one of the program's queues, an SNS publish, or
 * a handler the caller supplies), which the refusal depends on.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** A definition the harness refuses, or a program it cannot read: the user's to fix, printed without a stack. */
export class LocalRunError extends Error {
    constructor(
        message: string,
        public readonly problems: readonly string[] = [],
    ) {
        super(problems.length === 0 ? message : `${message}\n- ${problems.join("\n- ")}`);
        this.name = "LocalRunError";
    }
}

/** The interpreter's version, as installed (its package.json is not in its `exports`, so read from disk). */
export function interpreterVersion(): string {
    const main = require.resolve("aws-local-stepfunctions");
    const file = path.join(path.dirname(main), "..", "package.json");
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

export type QueryLanguage = "JSONPath" | "JSONata";

/** One state of a definition at any depth. */
export interface WalkedState {
    readonly name: string;
    readonly state: Readonly<Record<string, unknown>>;
    /** The Map and Parallel states it runs inside, outermost first. */
    readonly ancestors: readonly string[];
    /** Its query language: its own `QueryLanguage`, else its scope's (the machine's, or the enclosing state's). */
    readonly queryLanguage: QueryLanguage;
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function languageOf(value: unknown, inherited: QueryLanguage): QueryLanguage {
    return isRecord(value) && value["QueryLanguage"] === "JSONata"
        ? "JSONata"
        : isRecord(value) && value["QueryLanguage"] === "JSONPath"
          ? "JSONPath"
          : inherited;
}

/** The sub-machines of a state: a Parallel's branches, a Map's item processor. */
export function subMachines(state: Readonly<Record<string, unknown>>): Record<string, unknown>[] {
    const { Branches, ItemProcessor, Iterator } = state;
    return [
        ...(Array.isArray(Branches) ? Branches.filter(isRecord) : []),
        ...(isRecord(ItemProcessor) ? [ItemProcessor] : []),
        ...(isRecord(Iterator) ? [Iterator] : []),
    ];
}

/** Every state of an ASL definition (JSON, `States` an object), Parallel branches and Map processors included. */
export function walkStates(definition: unknown): WalkedState[] {
    const walked: WalkedState[] = [];
    const visit = (machine: unknown, ancestors: readonly string[], inherited: QueryLanguage): void => {
        if (!isRecord(machine) || !isRecord(machine["States"])) {
            return;
        }
        const scope = languageOf(machine, inherited);
        for (const [name, state] of Object.entries(machine["States"])) {
            if (!isRecord(state)) {
                continue;
            }
            const queryLanguage = languageOf(state, scope);
            walked.push({ name, state, ancestors, queryLanguage });
            for (const sub of subMachines(state)) {
                visit(sub, [...ancestors, name], queryLanguage);
            }
        }
    };
    visit(definition, [], "JSONPath");
    return walked;
}

/** How the harness runs one Task state. */
export type TaskRoute =
    | { readonly kind: "callback"; readonly queueUrl: string }
    | { readonly kind: "sns-publish" }
    | { readonly kind: "local-handler" };

const CALLBACK_SQS = /^arn:aws[a-z-]*:states:::sqs:sendMessage\.waitForTaskToken$/;
const SNS_PUBLISH = /^arn:aws[a-z-]*:states:::sns:publish$/;

/** What the harness needs to know of the program to decide whether it can run a definition. */
export interface SupportContext {
    /** The program's queues, by URL: whether a function consumes each (an event source mapping). */
    readonly queues: ReadonlyMap<string, { readonly name: string; readonly consumed: boolean }>;
    /** The Task states the caller runs with handlers of their own (`tasks`). */
    readonly localHandlers: ReadonlySet<string>;
    /** How many times faster than the wall clock the harness's clock runs. */
    readonly timeScale: number;
}

/** Fields the interpreter does not implement, state by state, with what they are. */
const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
    Assign: "workflow variables",
    Arguments: "a JSONata field",
    Output: "a JSONata field",
    ItemReader: "a Distributed Map's item reader",
    ItemBatcher: "a Distributed Map's item batcher",
    ResultWriter: "a Distributed Map's result writer",
    ToleratedFailurePercentage: "a Distributed Map's failure tolerance",
    ToleratedFailurePercentagePath: "a Distributed Map's failure tolerance",
    ToleratedFailureCount: "a Distributed Map's failure tolerance",
    ToleratedFailureCountPath: "a Distributed Map's failure tolerance",
    HeartbeatSecondsPath: "a heartbeat from the input, which the harness does not read",
};

/** The parts of the context object the harness provides at every depth. */
const EXECUTION_CONTEXT =
    /^\$\$\.(Execution\.(Id|Name|RoleArn|RedriveCount|StartTime|Input(\..+)?)|StateMachine\.(Id|Name))$/;
/** Not faithful inside a Parallel branch or a Map iteration: the interpreter replaces them with the branch's own. */
const NESTED_UNFAITHFUL = /^\$\$\.Execution\.(StartTime|Input(\..+)?)$/;
/** The per-task parts, which the harness fills in for the tasks it runs (their `Parameters` only). */
const TASK_CONTEXT = /^\$\$\.(Task\.Token|State\.(Name|EnteredTime))$/;
const MAP_CONTEXT = /^\$\$\.Map\.Item\.(Index|Value(\..+)?)$/;
/** Intrinsics that keep a context string whole, so the harness can fill it in inside their result. */
const PASS_THROUGH_INTRINSICS = new Set(["States.Format", "States.Array", "States.JsonToString"]);

/** A path the interpreter may read as Step Functions does not: one that can match several nodes. */
const MULTI_NODE = /\[\*\]|\.\*|\.\.|\[\?|@|\[[^\]]*[:,][^\]]*\]/;
/** A `ResultPath` the interpreter writes as Step Functions does: `$`, or dotted field names. */
const DOTTED_RESULT_PATH = /^\$(\.[^.[\]\s]+)*$/;

/** The fields that are payload templates, whose `.$` keys Step Functions evaluates. */
const PAYLOAD_TEMPLATES: readonly string[] = ["Parameters", "ItemSelector", "ResultSelector"];

/**
 * Whether the string at `at` (its key path in the state) is read as a path or an intrinsic function:
 * a `.$` key at any depth of a payload template (not of a Pass state's literal `Result`), a state's own `...Path` field, a Choice rule's `Variable`
 * and `...Path` comparisons, a catcher's `ResultPath`. Any other string is a literal, never evaluated.
 */
function holdsPath(at: readonly string[]): boolean {
    const key = at[at.length - 1] ?? "";
    return (
        (PAYLOAD_TEMPLATES.includes(at[0] ?? "") && key.endsWith(".$")) ||
        (at.length === 1 && key.endsWith("Path")) ||
        (at[0] === "Choices" && (key === "Variable" || key.endsWith("Path"))) ||
        (at[0] === "Catch" && key === "ResultPath")
    );
}

/** The context-object references (`$$...`) in a string. */
function contextReferences(text: string): string[] {
    return [...text.matchAll(/\$\$(?:\.[A-Za-z0-9_]+|\[[^\]]*\])*/g)].map((m) => m[0]);
}

/** Every string in `value` with the key path it sits at, not descending into `skip` keys at the top. */
function stringsOf(value: unknown, at: readonly string[] = [], skip: readonly string[] = []): [string[], string][] {
    if (typeof value === "string") {
        return [[[...at], value]];
    }
    if (Array.isArray(value)) {
        return value.flatMap((item, index) => stringsOf(item, [...at, String(index)]));
    }
    if (isRecord(value)) {
        return Object.entries(value)
            .filter(([key]) => !(at.length === 0 && skip.includes(key)))
            .flatMap(([key, item]) => stringsOf(item, [...at, key]));
    }
    return [];
}

/** How each Task state runs, or why it cannot. */
export function routeTask(
    name: string,
    state: Readonly<Record<string, unknown>>,
    context: SupportContext,
): TaskRoute | string {
    if (context.localHandlers.has(name)) {
        return { kind: "local-handler" };
    }
    const resource = state["Resource"];
    const parameters = isRecord(state["Parameters"]) ? state["Parameters"] : {};
    if (typeof resource === "string" && CALLBACK_SQS.test(resource)) {
        const url = parameters["QueueUrl"];
        if (typeof url !== "string") {
            return `Task "${name}" names its queue with ${"QueueUrl.$" in parameters ? "a path (QueueUrl.$)" : "no QueueUrl"}: the harness routes a callback by the queue URL the definition names.`;
        }
        const queue = context.queues.get(url);
        if (queue === undefined) {
            return `Task "${name}" sends to ${url}, which is not a queue of the program: nothing would answer it locally.`;
        }
        if (!queue.consumed) {
            return `Task "${name}" sends to queue "${queue.name}", which no function of the program consumes (no event source mapping): nothing would answer it locally.`;
        }
        return { kind: "callback", queueUrl: url };
    }
    if (typeof resource === "string" && SNS_PUBLISH.test(resource)) {
        return { kind: "sns-publish" };
    }
    return `Task "${name}" (Resource ${JSON.stringify(resource)}) is neither a callback on one of the program's queues (sqs:sendMessage.waitForTaskToken) nor an SNS publish: give it a local handler (runLocally's \`tasks\` option), or the interpreter would call AWS.`;
}

/**
 * Every reason the harness cannot run `definition` faithfully (empty: it can), and how it runs each
 * Task state. Checked: query language (JSONata refused), fields the interpreter does not implement,
 * duplicate state names (Task handlers are keyed by name), Task routes, context-object references the
 * local context cannot answer faithfully, and durations from the input when the clock is scaled.
 */
export function supportProblems(
    definition: unknown,
    context: SupportContext,
): { problems: string[]; routes: Map<string, TaskRoute>; states: WalkedState[] } {
    const problems: string[] = [];
    const routes = new Map<string, TaskRoute>();
    const states = walkStates(definition);
    if (!isRecord(definition) || !isRecord(definition["States"]) || typeof definition["StartAt"] !== "string") {
        return { problems: ["The definition is not an ASL state machine ({StartAt, States})."], routes, states };
    }

    // JSONata: refused as a whole, naming every state it would apply to.
    const jsonata = states.filter((s) => s.queryLanguage === "JSONata").map((s) => `"${s.name}"`);
    const scopes = [definition, ...states.flatMap((s) => subMachines(s.state))].filter(
        (machine) => machine["QueryLanguage"] === "JSONata",
    );
    if (jsonata.length > 0 || scopes.length > 0) {
        problems.push(
            `JSONata: aws-local-stepfunctions ${interpreterVersion()} has no JSONata evaluator and would read ${jsonata.length > 0 ? `these states as JSONPath, wrongly: ${jsonata.join(", ")}` : "them as JSONPath, wrongly"}${definition["QueryLanguage"] === "JSONata" ? ' (the machine sets QueryLanguage "JSONata")' : ""}. Run the workflow on AWS, or write those states in JSONPath.`,
        );
    }

    const seen = new Map<string, number>();
    for (const { name } of states) {
        seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    for (const [name, count] of seen) {
        if (count > 1) {
            problems.push(`State name "${name}" is used ${count} times (Step Functions requires unique names).`);
        }
    }

    for (const walked of states) {
        const { name, state, ancestors } = walked;
        if (walked.queryLanguage === "JSONata") {
            continue; // already refused; its fields are JSONata's
        }
        for (const [field, what] of Object.entries(UNSUPPORTED_FIELDS)) {
            if (field in state) {
                problems.push(`State "${name}" sets ${field} (${what}), which the interpreter does not implement.`);
            }
        }
        const processor = state["ItemProcessor"];
        if (isRecord(processor) && isRecord(processor["ProcessorConfig"])) {
            if (processor["ProcessorConfig"]["Mode"] === "DISTRIBUTED") {
                problems.push(
                    `Map "${name}" is a Distributed Map, whose iterations are executions of their own; the interpreter runs every Map inline.`,
                );
            }
        }
        for (const field of ["ErrorPath", "CausePath"]) {
            const value = state[field];
            if (typeof value === "string" && value.startsWith("States.")) {
                problems.push(
                    `Fail "${name}" ${field} is an intrinsic function, which the interpreter reads as a path.`,
                );
            }
        }
        if (context.timeScale !== 1) {
            for (const field of ["TimeoutSecondsPath", "SecondsPath", "Timestamp", "TimestampPath"]) {
                if (field in state) {
                    problems.push(
                        `State "${name}" takes its duration from ${field}, which the harness cannot scale: run it with a time scale of 1.`,
                    );
                }
            }
        }

        let handled = false;
        if (state["Type"] === "Task") {
            const route = routeTask(name, state, context);
            if (typeof route === "string") {
                problems.push(route);
            } else {
                routes.set(name, route);
                handled = true;
            }
        }

        const catchers: unknown[] = Array.isArray(state["Catch"]) ? state["Catch"] : [];
        const resultPaths: Array<readonly [string, unknown]> = [
            ["ResultPath", state["ResultPath"]],
            ...catchers.map(
                (catcher, index) =>
                    [`Catch[${index}].ResultPath`, isRecord(catcher) ? catcher["ResultPath"] : undefined] as const,
            ),
        ];
        for (const [field, value] of resultPaths) {
            if (typeof value === "string" && !DOTTED_RESULT_PATH.test(value)) {
                problems.push(
                    `State "${name}" ${field} ${JSON.stringify(value)}: the interpreter writes only "$" and dotted paths ($.a.b) as Step Functions does.`,
                );
            }
        }

        // Paths and context-object references, field by field (the sub-machines are their own states).
        for (const [at, text] of stringsOf(state, [], ["Branches", "ItemProcessor", "Iterator"])) {
            const where = at.join(".");
            const key = at[at.length - 1];
            if (key === "StringMatches" && /[?\\]/.test(text)) {
                problems.push(
                    `State "${name}" ${where} ${JSON.stringify(text)}: the interpreter reads ? as a wildcard (Step Functions has only *) and escapes otherwise.`,
                );
            }
            if (!holdsPath(at)) {
                continue; // a literal: Step Functions never reads it as a path
            }
            if (MULTI_NODE.test(text.replace(/'(?:[^'\\]|\\.)*'/g, "''"))) {
                problems.push(
                    `State "${name}" ${where} ${JSON.stringify(text)} can match several nodes (a wildcard, filter, slice, union or descent): the interpreter unwraps a single match, which Step Functions keeps in a list.`,
                );
            }
            for (const reference of contextReferences(text)) {
                if (TASK_CONTEXT.test(reference)) {
                    const intrinsics = [...text.matchAll(/(States\.[A-Za-z]+)\(/g)].map((m) => m[1] ?? "");
                    const whole = text === reference || intrinsics.every((f) => PASS_THROUGH_INTRINSICS.has(f));
                    if (!handled || at[0] !== "Parameters") {
                        problems.push(
                            `State "${name}" reads ${reference} in ${where}: the harness fills it in only in the Parameters of the Task states it runs.`,
                        );
                    } else if (!whole) {
                        problems.push(
                            `Task "${name}" passes ${reference} through ${intrinsics.join(", ")} in ${where}: the harness can fill it in only as it is or through ${[...PASS_THROUGH_INTRINSICS].join(", ")}.`,
                        );
                    }
                } else if (MAP_CONTEXT.test(reference)) {
                    if (state["Type"] !== "Map" || (at[0] !== "ItemSelector" && at[0] !== "Parameters")) {
                        problems.push(
                            `State "${name}" reads ${reference} in ${where}: $$.Map exists only in a Map's ItemSelector.`,
                        );
                    }
                } else if (!EXECUTION_CONTEXT.test(reference)) {
                    problems.push(
                        `State "${name}" reads ${reference} in ${where}, which the local context object does not hold.`,
                    );
                } else if (ancestors.length > 0 && NESTED_UNFAITHFUL.test(reference)) {
                    problems.push(
                        `State "${name}" (inside "${ancestors.join('" > "')}") reads ${reference}: inside a branch or an iteration the interpreter gives the branch's own input and start time, not the execution's.`,
                    );
                }
            }
        }
    }
    return { problems, routes, states };
}
