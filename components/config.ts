/**
 * Stack configuration → CallbackWorkflow arguments. Every key is read once, typed, and checked against
 * the same table the component uses; every bad or unknown key is reported together, with the key, the
 * value and what is allowed, before any resource is created.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    argProblems,
    BOOLEAN_ARGS,
    DEFAULT_MESSAGE_TITLE,
    ENUM_ARGS,
    INTEGER_ARGS,
    type CallbackWorkflowArgs,
} from "./settings";

/**
 * The configuration namespace: the project name in Pulumi.yaml. Fixed rather than read from the running
 * project, so that the program reads the same keys under any test harness or Automation API project name.
 */
export const CONFIG_NAMESPACE = "callback-workflow";

/** Keys whose values are strings (`kmsKey` may be "create" or a key ARN). */
const STRING_KEYS = ["kmsKey", "alarmTopicArn", "messageTitle", "workerEntry"] as const;
/** Keys whose values are structured (YAML lists/objects in the stack file). */
const OBJECT_KEYS = ["subscriptions", "alarmEmails", "approvers", "tags"] as const;

/** Every configuration key the program reads, without the namespace. */
export const CONFIG_KEYS: readonly string[] = [
    ...Object.keys(INTEGER_ARGS),
    ...Object.keys(ENUM_ARGS),
    ...Object.keys(BOOLEAN_ARGS),
    ...STRING_KEYS,
    ...OBJECT_KEYS,
].sort();

/**
 * How Pulumi.yaml declares each key. The Pulumi CLI requires every declared key that has no `default`
 * in every stack, so every key has one; an optional setting's default is the value that means "unset"
 * (0, "", [] or {}), which the program reads as absent. Lists are typed `array` with their items, maps
 * `object` (a project config type since Pulumi CLI 3.186).
 */
export const CONFIG_DECLARATIONS: Readonly<
    Record<
        string,
        {
            readonly type: "integer" | "boolean" | "string" | "array" | "object";
            readonly items?: { readonly type: "string" | "object" };
            readonly default: unknown;
        }
    >
> = {
    ...Object.fromEntries(
        Object.entries(INTEGER_ARGS).map(([key, spec]) => [key, { type: "integer", default: spec.default ?? 0 }]),
    ),
    ...Object.fromEntries(
        Object.entries(ENUM_ARGS).map(([key, spec]) => [key, { type: "string", default: spec.default }]),
    ),
    ...Object.fromEntries(
        Object.entries(BOOLEAN_ARGS).map(([key, spec]) => [key, { type: "boolean", default: spec.default }]),
    ),
    kmsKey: { type: "string", default: "" },
    alarmTopicArn: { type: "string", default: "" },
    messageTitle: { type: "string", default: DEFAULT_MESSAGE_TITLE },
    workerEntry: { type: "string", default: "" },
    alarmEmails: { type: "array", items: { type: "string" }, default: [] },
    approvers: { type: "array", items: { type: "string" }, default: [] },
    subscriptions: { type: "array", items: { type: "object" }, default: [] },
    tags: { type: "object", default: {} },
};

/** Values that mean "unset" for optional keys (the defaults Pulumi.yaml declares for them). */
const UNSET: Readonly<Record<string, string>> = {
    heartbeatSeconds: "0",
    kmsKey: "",
    alarmTopicArn: "",
    workerEntry: "",
};

/** Stack configuration the program cannot use, every problem listed. */
export class StackConfigError extends pulumi.RunError {
    constructor(
        public readonly problems: readonly string[],
        stack: string,
    ) {
        super(`Invalid configuration for stack "${stack}":\n- ${problems.join("\n- ")}`);
        this.name = "StackConfigError";
    }
}

export interface ParsedStackConfig {
    readonly args: CallbackWorkflowArgs;
    /** Every problem, each naming the key (with its namespace), the value and what is allowed. */
    readonly problems: readonly string[];
}

/**
 * The workflow's arguments from a stack's whole configuration (`namespace:key` → string, lists and maps
 * JSON-encoded, as the CLI hands it to the program), and every problem with it. Pure: used by the program
 * and by `npm run check-config`. `today` judges runtime deprecation.
 */
export function parseStackConfig(
    all: Readonly<Record<string, string>>,
    options: { readonly namespace?: string; readonly today?: Date } = {},
): ParsedStackConfig {
    const namespace = options.namespace ?? CONFIG_NAMESPACE;
    const problems: string[] = [];
    const args: Record<string, unknown> = {};
    const name = (key: string): string => `${namespace}:${key}`;
    const get = (key: string): string | undefined => {
        const raw = all[name(key)];
        return raw === undefined || raw === UNSET[key] ? undefined : raw;
    };

    for (const key of Object.keys(INTEGER_ARGS)) {
        const raw = get(key);
        if (raw === undefined) {
            continue;
        }
        const value = Number(raw);
        if (raw.trim() === "" || !Number.isInteger(value)) {
            const spec = INTEGER_ARGS[key as keyof typeof INTEGER_ARGS];
            problems.push(`${name(key)} must be an integer from ${spec.min} to ${spec.max} (got "${raw}").`);
        } else {
            args[key] = value;
        }
    }
    for (const key of Object.keys(BOOLEAN_ARGS)) {
        const raw = get(key);
        if (raw === undefined) {
            continue;
        }
        if (raw === "true" || raw === "false") {
            args[key] = raw === "true";
        } else {
            problems.push(`${name(key)} must be true or false (got "${raw}").`);
        }
    }
    for (const key of [...Object.keys(ENUM_ARGS), ...STRING_KEYS]) {
        const raw = get(key);
        if (raw !== undefined) {
            args[key] = raw;
        }
    }
    for (const key of OBJECT_KEYS) {
        const raw = get(key);
        if (raw === undefined) {
            continue;
        }
        try {
            args[key] = JSON.parse(raw) as unknown;
        } catch {
            problems.push(`${name(key)} must be a YAML list or object (got "${raw}").`);
        }
    }
    const tags = args["tags"];
    if (
        tags !== undefined &&
        (typeof tags !== "object" ||
            tags === null ||
            Array.isArray(tags) ||
            Object.values(tags).some((v) => typeof v !== "string"))
    ) {
        problems.push(`${name("tags")} must map tag names to strings (got ${JSON.stringify(tags)}).`);
        delete args["tags"];
    }
    for (const key of ["subscriptions", "alarmEmails", "approvers"]) {
        if (args[key] !== undefined && !Array.isArray(args[key])) {
            problems.push(`${name(key)} must be a list (got ${JSON.stringify(args[key])}).`);
            delete args[key];
        }
    }

    const known = new Set(CONFIG_KEYS);
    for (const fullKey of Object.keys(all)) {
        const [ns, key] = fullKey.split(":", 2) as [string, string | undefined];
        if (ns === namespace && key !== undefined && !known.has(key)) {
            problems.push(`${fullKey} is not a setting of this program; the settings are: ${CONFIG_KEYS.join(", ")}.`);
        }
    }

    // Range and cross-field rules: the component's own table, reported under the config key.
    const typedKeys = new Set(problems.map((p) => p.split(" ")[0]));
    for (const problem of argProblems(args, options.today)) {
        const key = problem.key.replace(/\[.*$/, "");
        if (!typedKeys.has(name(key))) {
            problems.push(`${name(problem.key)} ${problem.reason}`);
        }
    }
    return { args, problems };
}

/**
 * Reads the workflow's arguments from the stack configuration in `namespace`. Throws
 * {@link StackConfigError} listing every problem.
 */
export function readStackConfig(namespace: string = CONFIG_NAMESPACE): CallbackWorkflowArgs {
    const { args, problems } = parseStackConfig(pulumi.runtime.allConfig(), { namespace });
    if (problems.length > 0) {
        throw new StackConfigError(problems, pulumi.getStack());
    }
    return args;
}
