/**
 * A Pulumi program as the local harness runs it, read from its registrations under the mocked runtime
 * (pulumi-program.ts): each state machine's definition, each queue with its redrive and visibility, the
 * function an event source mapping feeds it (its code, as the program bundled it, its environment and
 * timeout), and the topics. Nothing is re-derived: what `pulumi up` would deploy is what runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { distance } from "fastest-levenshtein";
import { runProgram, type ProgramRun, type Registration, type RunOptions } from "./pulumi-program";
import { LocalRunError } from "./support";

/**
 * The program refused its own arguments or configuration (a component's InputPropertiesError, a
 * CallbackTaskError, an invalid definition): the user's to fix, printed without a stack.
 */
export class ProgramError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ProgramError";
    }
}

/** Errors a program throws for a bad argument or setting: Pulumi's, and this package's by name. */
function isArgumentError(error: unknown): error is Error {
    if (!(error instanceof Error)) {
        return false;
    }
    const marked = error as unknown as Record<string, unknown>;
    return (
        marked["__pulumiInputPropertiesError"] === true ||
        marked["__pulumiInputPropertyError"] === true ||
        marked["__pulumiRunError"] === true ||
        ["AslValidationError", "WorkerBundleError", "CallbackTaskError"].includes(error.name)
    );
}

/**
 * Runs a program under the mocked runtime (pulumi-program.ts); an argument or configuration error it
 * throws becomes a {@link ProgramError} with its message, and user errors named as such pass unchanged.
 */
export async function evaluateProgram(
    program: string | (() => unknown),
    options: RunOptions = {},
): Promise<ProgramRun> {
    try {
        return await runProgram(program, options);
    } catch (error) {
        if (isArgumentError(error)) {
            throw new ProgramError(error.message);
        }
        throw error;
    }
}

/** A function as the harness runs it. */
export interface LocalWorker {
    /** Its logical name in the program. */
    readonly name: string;
    readonly functionName: string;
    readonly functionArn: string;
    /** Its code: file name → contents, as the program's code asset holds it. */
    readonly files: ReadonlyMap<string, string>;
    /** Lambda's `handler` setting: `<module>.<export>`. */
    readonly handler: string;
    readonly environment: Readonly<Record<string, string>>;
    readonly timeoutSeconds: number;
}

export interface LocalQueue {
    /** Its logical name in the program. */
    readonly name: string;
    readonly url: string;
    readonly arn: string;
    readonly visibilityTimeoutSeconds: number;
    /** Receives before the redrive moves a message to its dead-letter queue; undefined without a redrive. */
    readonly maxReceiveCount: number | undefined;
    /** The function that an event source mapping feeds from the queue, and its batch size. */
    readonly consumer: { readonly worker: LocalWorker; readonly batchSize: number } | undefined;
}

export interface LocalStateMachine {
    /** Its logical name in the program. */
    readonly name: string;
    readonly arn: string;
    readonly roleArn: string | undefined;
    readonly definition: Record<string, unknown>;
    /** The names of the components it sits in, innermost first (a Workflow's, a CallbackWorkflow's). */
    readonly components: readonly string[];
}

export interface LocalProgram {
    readonly stateMachines: readonly LocalStateMachine[];
    readonly queues: readonly LocalQueue[];
    readonly topics: ReadonlyArray<{ readonly name: string; readonly arn: string }>;
}

const SQS_DEFAULT_VISIBILITY_SECONDS = 30;
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
const SQS_MAPPING_DEFAULT_BATCH_SIZE = 10;

function text(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** Resolves a value the mocks hold as a promise (assets keep their contents in promises). */
async function settled(value: unknown): Promise<unknown> {
    return value instanceof Promise ? await (value as Promise<unknown>) : value;
}

function readDirectory(dir: string, prefix: string, into: Map<string, string>): void {
    for (const entry of readdirSync(dir)) {
        const file = path.join(dir, entry);
        if (statSync(file).isDirectory()) {
            readDirectory(file, `${prefix}${entry}/`, into);
        } else {
            into.set(`${prefix}${entry}`, readFileSync(file, "utf8"));
        }
    }
}

/**
 * The files of a function's code asset: an AssetArchive of string assets (what CallbackChannel builds),
 * file assets or nested archives, or a FileArchive of a directory. A zip or a remote archive is not read.
 */
async function codeFiles(
    name: string,
    code: unknown,
    prefix = "",
    into = new Map<string, string>(),
): Promise<Map<string, string>> {
    const fail = (what: string): never => {
        throw new LocalRunError(`Function "${name}": the harness cannot read its code (${what}).`);
    };
    if (typeof code !== "object" || code === null) {
        return fail(`no code asset (got ${JSON.stringify(code)})`);
    }
    const asset = code as { assets?: unknown; text?: unknown; path?: unknown };
    if (asset.assets !== undefined) {
        const entries = (await settled(asset.assets)) as Record<string, unknown>;
        for (const [file, value] of Object.entries(entries)) {
            const inner = (value ?? {}) as { text?: unknown };
            if (inner.text !== undefined) {
                into.set(`${prefix}${file}`, String(await settled(inner.text)));
            } else {
                await codeFiles(name, value, `${prefix}${file}/`, into);
            }
        }
        return into;
    }
    if (asset.path !== undefined) {
        const file = String(await settled(asset.path));
        if (existsSync(file) && statSync(file).isDirectory()) {
            readDirectory(file, prefix, into);
        } else if (existsSync(file) && !/\.(zip|jar|tar|tgz|tar\.gz)$/.test(file)) {
            into.set(prefix.replace(/\/$/, ""), readFileSync(file, "utf8"));
        } else {
            fail(`${file} is not a directory or a file it can read; a zip archive is not unpacked`);
        }
        return into;
    }
    return fail("a remote or unknown kind of asset");
}

/** The component names above a registration, innermost first, from its URN's parent chain. */
function componentsOf(registration: Registration, byUrn: ReadonlyMap<string, Registration>): string[] {
    const names: string[] = [];
    for (let parent = registration.parent; parent !== undefined; parent = byUrn.get(parent)?.parent) {
        const component = byUrn.get(parent);
        if (component === undefined) {
            break;
        }
        names.push(component.name);
    }
    return names;
}

/** Reads the state machines, queues (with their workers) and topics of a program run under mocks. */
export async function readProgram(run: ProgramRun): Promise<LocalProgram> {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const ofType = (type: string) => run.resources.filter((r) => r.type === type);
    const functions = ofType("aws:lambda/function:Function");
    const mappings = ofType("aws:lambda/eventSourceMapping:EventSourceMapping");

    const workers = new Map<Registration, Promise<LocalWorker>>();
    const workerOf = (fn: Registration): Promise<LocalWorker> => {
        let worker = workers.get(fn);
        if (worker === undefined) {
            worker = (async () => ({
                name: fn.name,
                functionName: text(fn.outputs["name"]) ?? fn.name,
                functionArn: text(fn.outputs["arn"]) ?? "",
                files: await codeFiles(fn.name, fn.inputs["code"]),
                handler: text(fn.inputs["handler"]) ?? "index.handler",
                environment: {
                    ...((fn.inputs["environment"] as { variables?: Record<string, string> } | undefined)?.variables ??
                        {}),
                },
                timeoutSeconds: Number(fn.inputs["timeout"] ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS),
            }))();
            workers.set(fn, worker);
        }
        return worker;
    };

    const queues: LocalQueue[] = [];
    for (const queue of ofType("aws:sqs/queue:Queue")) {
        const arn = text(queue.outputs["arn"]) ?? "";
        const mapping = mappings.find((m) => m.inputs["eventSourceArn"] === arn && m.inputs["enabled"] !== false);
        const target = mapping === undefined ? undefined : text(mapping.inputs["functionName"]);
        const fn =
            target === undefined
                ? undefined
                : functions.find((f) => f.outputs["arn"] === target || f.outputs["name"] === target);
        const redrive = queue.inputs["redrivePolicy"];
        const parsed = (typeof redrive === "string" && redrive !== "" ? JSON.parse(redrive) : redrive) as
            { maxReceiveCount?: number } | undefined;
        queues.push({
            name: queue.name,
            url: text(queue.outputs["url"]) ?? "",
            arn,
            visibilityTimeoutSeconds: Number(
                queue.inputs["visibilityTimeoutSeconds"] ?? SQS_DEFAULT_VISIBILITY_SECONDS,
            ),
            maxReceiveCount: parsed?.maxReceiveCount,
            consumer:
                fn === undefined || mapping === undefined
                    ? undefined
                    : {
                          worker: await workerOf(fn),
                          batchSize: Number(mapping.inputs["batchSize"] ?? SQS_MAPPING_DEFAULT_BATCH_SIZE),
                      },
        });
    }

    const stateMachines = ofType("aws:sfn/stateMachine:StateMachine").map((machine) => {
        const definition = machine.inputs["definition"];
        let parsed: unknown;
        try {
            parsed = typeof definition === "string" ? JSON.parse(definition) : definition;
        } catch {
            throw new LocalRunError(`State machine "${machine.name}": its definition is not JSON.`);
        }
        if (typeof parsed !== "object" || parsed === null) {
            throw new LocalRunError(`State machine "${machine.name}" has no definition the harness can read.`);
        }
        return {
            name: machine.name,
            arn: text(machine.outputs["arn"]) ?? "",
            roleArn: text(machine.inputs["roleArn"]),
            definition: parsed as Record<string, unknown>,
            components: componentsOf(machine, byUrn),
        };
    });

    return {
        stateMachines,
        queues,
        topics: ofType("aws:sns/topic:Topic").map((t) => ({ name: t.name, arn: text(t.outputs["arn"]) ?? "" })),
    };
}

/**
 * The state machine a name selects: the one of that logical name, else the one inside the component of
 * that name (a Workflow's or a CallbackWorkflow's name). Without a name, the program's only one.
 */
export function selectStateMachine(program: LocalProgram, name: string | undefined): LocalStateMachine {
    const machines = program.stateMachines;
    if (machines.length === 0) {
        throw new LocalRunError(
            "The program defines no state machine (no Workflow, CallbackWorkflow or aws.sfn.StateMachine).",
        );
    }
    const names = [...new Set(machines.flatMap((m) => [m.components[0] ?? m.name, m.name]))].sort();
    if (name === undefined) {
        if (machines.length === 1) {
            return machines[0] as LocalStateMachine;
        }
        throw new LocalRunError(
            `The program defines ${machines.length} state machines: name one (${names.join(", ")}).`,
        );
    }
    const exact = machines.filter((m) => m.name === name);
    const within = machines.filter((m) => m.components.includes(name));
    const found = exact.length > 0 ? exact : within;
    if (found.length === 1) {
        return found[0] as LocalStateMachine;
    }
    if (found.length > 1) {
        throw new LocalRunError(
            `"${name}" holds ${found.length} state machines: name one of ${found.map((m) => m.name).join(", ")}.`,
        );
    }
    const nearest = [...names].sort((a, b) => distance(name, a) - distance(name, b))[0];
    const suggestion =
        nearest !== undefined && distance(name, nearest) <= Math.max(2, Math.floor(name.length / 3))
            ? ` Did you mean "${nearest}"?`
            : "";
    throw new LocalRunError(`No workflow "${name}" in the program.${suggestion} Its workflows: ${names.join(", ")}.`);
}
