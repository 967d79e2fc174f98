/** Lambda: SQS triggers fit their worker's timeout and report partial batch failures; runtimes are supported. */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, isSqsSource, ofType, referenced } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN, Undecided, type Maybe } from "./lib/unknowns";

/** Defaults AWS applies when a property is not set. */
const DEFAULTS = { visibilityTimeoutSeconds: 30, functionTimeout: 3, batchingWindow: 0 } as const;

function numberOr(resource: PolicyResource, key: string, fallback: number, undecided: Undecided): Maybe<number> {
    const value = undecided.read(() => resource.props[key] as unknown);
    return value === UNKNOWN ? UNKNOWN : typeof value === "number" ? value : fallback;
}

export const sqsVisibilityCoversWorker: StackValidationPolicy = {
    name: "sqs-visibility-covers-worker",
    description:
        "Checks that for each SQS → Lambda event source mapping the queue's visibility timeout is at least k × the function timeout plus the batching window, and that ReportBatchItemFailures is on.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { multiplier: { type: "number", minimum: 1, default: 6 } } },
    validateStack: (args, reportViolation) => {
        const { multiplier } = { multiplier: 6, ...args.getConfig<{ multiplier?: number }>() };
        const undecided = new Undecided();
        const queues = ofType(args.resources, T.queue);
        const functions = ofType(args.resources, T.lambdaFunction);
        for (const mapping of ofType(args.resources, T.eventSourceMapping)) {
            if (!isSqsSource(mapping, queues, undecided)) {
                continue;
            }
            const [queue] = referenced(mapping, "eventSourceArn", queues, undecided);
            const responseTypes = undecided.read(() => mapping.props["functionResponseTypes"] as unknown);
            if (
                responseTypes !== UNKNOWN &&
                !(Array.isArray(responseTypes) && responseTypes.includes("ReportBatchItemFailures"))
            ) {
                reportViolation(
                    `${describe(mapping)} does not report batch item failures: set functionResponseTypes: ["ReportBatchItemFailures"], or one failing record makes the whole batch redeliver.`,
                    mapping.urn,
                );
            }
            const [fn] = referenced(mapping, "functionName", functions, undecided);
            if (queue === undefined || fn === undefined) {
                continue; // a queue or function of another stack: its settings are not here to check
            }
            const visibility = numberOr(
                queue,
                "visibilityTimeoutSeconds",
                DEFAULTS.visibilityTimeoutSeconds,
                undecided,
            );
            const timeout = numberOr(fn, "timeout", DEFAULTS.functionTimeout, undecided);
            const window = numberOr(mapping, "maximumBatchingWindowInSeconds", DEFAULTS.batchingWindow, undecided);
            if (visibility === UNKNOWN || timeout === UNKNOWN || window === UNKNOWN) {
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

/** Lambda runtimes in standard support, as of the pack's release. nodejs20.x reached end of support in 2026. */
export const SUPPORTED_RUNTIMES = [
    "nodejs22.x",
    "nodejs24.x",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "java17",
    "java21",
    "java25",
    "dotnet8",
    "dotnet10",
    "ruby3.3",
    "ruby3.4",
    "provided.al2023",
    "provided.al2",
] as const;

export const lambdaRuntimeSupported: ResourceValidationPolicy = {
    name: "lambda-runtime-supported",
    description: "Checks that every Lambda function uses a runtime in standard support.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: { allowedRuntimes: { type: "array", items: { type: "string" }, default: [...SUPPORTED_RUNTIMES] } },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) {
            return;
        }
        const { allowedRuntimes } = {
            allowedRuntimes: [...SUPPORTED_RUNTIMES] as string[],
            ...args.getConfig<{ allowedRuntimes?: string[] }>(),
        };
        const props = args.props as { runtime?: string; packageType?: string };
        if (props.packageType === "Image") {
            return;
        }
        if (props.runtime === undefined || !allowedRuntimes.includes(props.runtime)) {
            reportViolation(
                `${describe(args)} uses runtime ${JSON.stringify(props.runtime)}, which is not supported: use one of ${allowedRuntimes.join(", ")}.`,
            );
        }
    },
};
