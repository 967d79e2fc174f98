/** Lambda: SQS triggers fit their worker's timeout and report partial batch failures; runtimes are supported. */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { AWS_LIMITS, GUARDRAILS, LAMBDA_RUNTIME_DEPRECATION, supportedRuntimes } from "../components/limits";
import { describe, numberAt, ofType, propsOf, referencedAt, type Reference } from "./lib/stack";
import { T } from "./lib/types";
import { at, UNKNOWN, Undecided } from "./lib/unknowns";

/** Defaults AWS applies when a property is not set. */
const DEFAULTS = {
    visibilityTimeoutSeconds: AWS_LIMITS.sqsDefaultVisibilityTimeoutSeconds,
    functionTimeout: AWS_LIMITS.lambdaDefaultTimeoutSeconds,
    batchingWindow: 0,
    /** An SQS event source mapping's default batch size (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html). */
    sqsBatchSize: 10,
} as const;

/**
 * The function part of a function name or ARN, without its version or alias qualifier: `my-fn` from
 * `my-fn`, `my-fn:live`, `arn:aws:lambda:eu-west-1:123456789012:function:my-fn:3`
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-FunctionName).
 */
export function unqualifiedFunctionName(value: string): string {
    const arn = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(value);
    if (arn !== null) {
        return arn[1] ?? value;
    }
    const partial = /^(?:\d{12}:function:)?([^:]+)(?::[^:]+)?$/.exec(value);
    return partial?.[1] ?? value;
}

/**
 * The functions of this stack that `holder.props[property]` names, directly or through an alias or a
 * version (a qualified ARN, `name:qualifier`, or an aws.lambda.Alias of this stack).
 */
export function functionsNamed(
    holder: PolicyResource,
    property: string,
    resources: readonly PolicyResource[],
): Reference {
    const functions = ofType(resources, T.lambdaFunction);
    const aliases = ofType(resources, T.lambdaAlias);
    const byName = (value: unknown): PolicyResource[] => {
        if (typeof value !== "string") {
            return [];
        }
        const name = unqualifiedFunctionName(value);
        return functions.filter((fn) => {
            const props = propsOf(fn);
            return (
                props["name"] === name ||
                (typeof props["arn"] === "string" && unqualifiedFunctionName(props["arn"]) === name)
            );
        });
    };
    const through = (reference: Reference, seen: Set<PolicyResource>): Reference => {
        const resolve = (list: PolicyResource[], into: "found" | "maybe"): PolicyResource[] =>
            list.flatMap((r) => {
                if (r.type !== T.lambdaAlias) {
                    return [r];
                }
                if (seen.has(r)) {
                    return [];
                }
                seen.add(r);
                const target = through(targetsOf(r, "functionName"), seen);
                return into === "found" ? target.found : [...target.found, ...target.maybe];
            });
        return {
            found: resolve(reference.found, "found"),
            maybe: resolve(reference.maybe, "maybe"),
            unknown: reference.unknown,
        };
    };
    const targetsOf = (r: PolicyResource, key: string): Reference => {
        const reference = referencedAt(r, [key], [...functions, ...aliases]);
        if (reference.found.length > 0 || reference.unknown) {
            return reference;
        }
        return { found: byName(at(propsOf(r), key)), maybe: [], unknown: false };
    };
    return through(targetsOf(holder, property), new Set());
}

export const sqsVisibilityCoversWorker: StackValidationPolicy = {
    name: "sqs-visibility-covers-worker",
    description:
        "Checks that for each SQS → Lambda event source mapping the queue's visibility timeout is at least k × the function timeout (an alias or version resolved to its function) plus the batching window, and that ReportBatchItemFailures is on when a batch can hold more than one message.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: { multiplier: { type: "number", minimum: 1, default: GUARDRAILS.visibilityTimeoutMultiplier } },
    },
    validateStack: (args, reportViolation) => {
        const { multiplier } = {
            multiplier: GUARDRAILS.visibilityTimeoutMultiplier,
            ...args.getConfig<{ multiplier?: number }>(),
        };
        const undecided = new Undecided();
        const queues = ofType(args.resources, T.queue);
        for (const mapping of ofType(args.resources, T.eventSourceMapping)) {
            const props = propsOf(mapping);
            const source = referencedAt(mapping, ["eventSourceArn"], queues);
            const sourceArn = props["eventSourceArn"];
            const fromSqs =
                source.found.length > 0 || (typeof sourceArn === "string" && /^arn:aws[a-z-]*:sqs:/.test(sourceArn));
            if (!fromSqs) {
                if (source.unknown || source.maybe.length > 0) {
                    undecided.note(`whether ${describe(mapping)} reads from SQS`);
                }
                continue;
            }
            const batchSize = numberAt(props, "batchSize") ?? DEFAULTS.sqsBatchSize;
            const responseTypes = props["functionResponseTypes"];
            if (batchSize === UNKNOWN || responseTypes === UNKNOWN) {
                undecided.note(`the batch size and response types of ${describe(mapping)}`);
            } else if (
                batchSize > 1 &&
                !(Array.isArray(responseTypes) && responseTypes.includes("ReportBatchItemFailures"))
            ) {
                reportViolation(
                    `${describe(mapping)} takes batches of up to ${batchSize} messages but does not report batch item failures: set functionResponseTypes: ["ReportBatchItemFailures"], or one failing message makes the whole batch redeliver (or set batchSize: 1).`,
                    mapping.urn,
                );
            }
            const [queue] = source.found;
            const workers = functionsNamed(mapping, "functionName", args.resources);
            if (workers.maybe.length > 0) {
                undecided.note(`the function ${describe(mapping)} triggers`);
            }
            const [fn] = workers.found;
            if (queue === undefined || fn === undefined) {
                continue; // a queue or function of another stack: its settings are not here to check
            }
            const visibility =
                numberAt(propsOf(queue), "visibilityTimeoutSeconds") ?? DEFAULTS.visibilityTimeoutSeconds;
            const timeout = numberAt(propsOf(fn), "timeout") ?? DEFAULTS.functionTimeout;
            const window = numberAt(props, "maximumBatchingWindowInSeconds") ?? DEFAULTS.batchingWindow;
            if (visibility === UNKNOWN || timeout === UNKNOWN || window === UNKNOWN) {
                undecided.note(`the timeouts of ${describe(queue)}, ${describe(fn)} or ${describe(mapping)}`);
                continue;
            }
            const required = multiplier * timeout + window;
            if (visibility < required) {
                reportViolation(
                    `${describe(queue)} has a visibility timeout of ${visibility} s, but its worker ${describe(fn)} may run ${timeout} s after a batching window of ${window} s: set visibilityTimeoutSeconds to at least ${required} (${multiplier} × ${timeout} + ${window}), or messages are delivered twice while still being processed.`,
                    queue.urn,
                );
            }
        }
        undecided.finish();
    },
};

export const lambdaRuntimeSupported: ResourceValidationPolicy = {
    name: "lambda-runtime-supported",
    description:
        "Checks that every Lambda function uses a runtime in standard support: listed in the pack's dated table of Lambda runtimes and not past its deprecation date (or in allowedRuntimes, when set).",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            allowedRuntimes: {
                type: "array",
                items: { type: "string" },
                description: "Replaces the dated table: exactly these runtimes pass.",
            },
            asOf: {
                type: "string",
                pattern: "^\\d{4}-\\d{2}-\\d{2}$",
                description: "Judge deprecation as of this day (YYYY-MM-DD) instead of today.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) {
            return;
        }
        const config = args.getConfig<{ allowedRuntimes?: string[]; asOf?: string }>();
        const day = config.asOf !== undefined ? new Date(`${config.asOf}T00:00:00Z`) : new Date();
        const asOf = Number.isNaN(day.getTime()) ? new Date() : day;
        const allowed = config.allowedRuntimes ?? supportedRuntimes(asOf);
        const props = args.props as { runtime?: unknown; packageType?: unknown };
        if (props.packageType === "Image") {
            return;
        }
        const runtime = props.runtime;
        if (typeof runtime === "string" && allowed.includes(runtime)) {
            return;
        }
        const deprecated =
            typeof runtime === "string" && Object.hasOwn(LAMBDA_RUNTIME_DEPRECATION, runtime)
                ? LAMBDA_RUNTIME_DEPRECATION[runtime]
                : undefined;
        const why =
            config.allowedRuntimes !== undefined
                ? ", which is not in this policy's allowedRuntimes"
                : deprecated !== undefined
                  ? `, which AWS deprecated on ${deprecated}`
                  : ", which is not in the pack's dated table of Lambda runtimes (retired before it, or newer than it: then list it in allowedRuntimes)";
        const uses = typeof runtime === "string" ? `uses runtime ${JSON.stringify(runtime)}` : "sets no runtime";
        reportViolation(`${describe(args)} ${uses}${why}: use one of ${allowed.join(", ")}.`);
    },
};
