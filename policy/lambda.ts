/** Lambda: SQS triggers fit their worker's timeout and report partial batch failures; runtimes are supported. */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { AWS_LIMITS, GUARDRAILS, LAMBDA_RUNTIME_DEPRECATION, supportedRuntimes } from "../components/limits";
import { describe, isSqsSource, ofType, referenced } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN, Undecided, type Maybe } from "./lib/unknowns";

/** Defaults AWS applies when a property is not set. */
const DEFAULTS = {
    visibilityTimeoutSeconds: AWS_LIMITS.sqsDefaultVisibilityTimeoutSeconds,
    functionTimeout: AWS_LIMITS.lambdaDefaultTimeoutSeconds,
    batchingWindow: 0,
} as const;

function numberOr(resource: PolicyResource, key: string, fallback: number, undecided: Undecided): Maybe<number> {
    const value = undecided.read(() => resource.props[key] as unknown);
    return value === UNKNOWN ? UNKNOWN : typeof value === "number" ? value : fallback;
}

export const sqsVisibilityCoversWorker: StackValidationPolicy = {
    name: "sqs-visibility-covers-worker",
    description:
        "Checks that for each SQS → Lambda event source mapping the queue's visibility timeout is at least k × the function timeout plus the batching window, and that ReportBatchItemFailures is on.",
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
        const asOf = config.asOf !== undefined ? new Date(`${config.asOf}T00:00:00Z`) : new Date();
        const allowed = config.allowedRuntimes ?? supportedRuntimes(asOf);
        const props = args.props as { runtime?: string; packageType?: string };
        if (props.packageType === "Image") {
            return;
        }
        if (props.runtime === undefined || !allowed.includes(props.runtime)) {
            const deprecated = props.runtime !== undefined ? LAMBDA_RUNTIME_DEPRECATION[props.runtime] : undefined;
            const why =
                config.allowedRuntimes === undefined && deprecated !== undefined
                    ? `, which AWS deprecated on ${deprecated}`
                    : ", which is not supported";
            reportViolation(
                `${describe(args)} uses runtime ${JSON.stringify(props.runtime)}${why}: use one of ${allowed.join(", ")}.`,
            );
        }
    },
};
