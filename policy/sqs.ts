/** SQS: every queue has a dead-letter queue it outlives into; queues are encrypted and TLS only. */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { AWS_LIMITS, dlqOutlivesQueue, GUARDRAILS } from "../components/limits";
import { tlsOnlyStack } from "./lib/tls";
import { describe, isSet, ofType, peek, referenced } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN, Undecided, type Maybe } from "./lib/unknowns";

/** SQS's default retention when a queue sets none: 4 days. */
export const SQS_DEFAULT_RETENTION_SECONDS = AWS_LIMITS.sqsDefaultRetentionSeconds;

interface DlqConfig {
    readonly minMaxReceiveCount: number;
    readonly maxMaxReceiveCount: number;
}

/** A queue's redrive, from its `redrivePolicy` property or a separate `aws.sqs.RedrivePolicy`. */
interface Redrive {
    /** Where it was given, for messages. */
    readonly source: string;
    /** The parsed policy, or UNKNOWN during preview. */
    readonly policy: Maybe<{ deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined>;
    /** The DLQ in this stack, found by property dependency or by ARN. */
    readonly dlq: PolicyResource | undefined;
}

function parseJson(value: unknown): { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined {
    if (typeof value === "string") {
        try {
            return JSON.parse(value) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
        } catch {
            return undefined;
        }
    }
    return typeof value === "object" && value !== null ? value : undefined;
}

/** The redrive of every queue that has one, by queue. */
export function redrives(resources: readonly PolicyResource[], undecided: Undecided): Map<PolicyResource, Redrive> {
    const queues = ofType(resources, T.queue);
    const found = new Map<PolicyResource, Redrive>();
    const dlqOf = (holder: PolicyResource, property: string, policy: Redrive["policy"]): PolicyResource | undefined => {
        const byDependency = referenced(holder, property, queues, new Undecided())[0];
        if (byDependency !== undefined || policy === UNKNOWN || policy === undefined) {
            return byDependency;
        }
        return queues.find((q) => q.props["arn"] === policy.deadLetterTargetArn);
    };
    for (const queue of queues) {
        const raw = undecided.read(() => queue.props["redrivePolicy"] as unknown);
        if (raw !== undefined && raw !== null && raw !== "") {
            const policy = raw === UNKNOWN ? UNKNOWN : parseJson(raw);
            found.set(queue, { source: "its redrivePolicy", policy, dlq: dlqOf(queue, "redrivePolicy", policy) });
        }
    }
    for (const separate of ofType(resources, T.redrivePolicy)) {
        const raw = undecided.read(() => separate.props["redrivePolicy"] as unknown);
        const policy = raw === UNKNOWN ? UNKNOWN : parseJson(raw);
        for (const queue of referenced(separate, "queueUrl", queues, undecided)) {
            found.set(queue, { source: describe(separate), policy, dlq: dlqOf(separate, "redrivePolicy", policy) });
        }
    }
    return found;
}

export const sqsQueueHasDlq: StackValidationPolicy = {
    name: "sqs-queue-has-dlq",
    description:
        "Checks that every SQS queue redrives to a dead-letter queue after a bounded number of receives, and that the DLQ keeps messages longer than its source.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minMaxReceiveCount: { type: "integer", minimum: 1, default: GUARDRAILS.maxReceiveCount.min },
            maxMaxReceiveCount: { type: "integer", minimum: 1, default: GUARDRAILS.maxReceiveCount.max },
        },
    },
    validateStack: (args, reportViolation) => {
        const config = {
            minMaxReceiveCount: GUARDRAILS.maxReceiveCount.min,
            maxMaxReceiveCount: GUARDRAILS.maxReceiveCount.max,
            ...args.getConfig<Partial<DlqConfig>>(),
        };
        const undecided = new Undecided();
        const found = redrives(args.resources, undecided);
        const dlqs = new Set([...found.values()].flatMap((r) => (r.dlq ? [r.dlq] : [])));
        const range = `${config.minMaxReceiveCount} to ${config.maxMaxReceiveCount}`;
        for (const queue of ofType(args.resources, T.queue)) {
            const redrive = found.get(queue);
            if (redrive === undefined) {
                if (!dlqs.has(queue)) {
                    reportViolation(
                        `${describe(queue)} has no dead-letter queue: set redrivePolicy (or add an aws.sqs.RedrivePolicy) with deadLetterTargetArn and maxReceiveCount from ${range}, so a message no consumer can process is kept and seen, not retried forever or lost.`,
                        queue.urn,
                    );
                }
                continue;
            }
            if (redrive.policy === UNKNOWN) {
                continue; // recorded in `undecided`: checked once the ARNs exist
            }
            if (redrive.policy === undefined) {
                reportViolation(
                    `${describe(queue)}: ${redrive.source} is not a JSON object with deadLetterTargetArn and maxReceiveCount.`,
                    queue.urn,
                );
                continue;
            }
            const count = redrive.policy.maxReceiveCount;
            const countValue = typeof count === "string" ? Number(count) : count;
            if (
                typeof countValue !== "number" ||
                !Number.isInteger(countValue) ||
                countValue < config.minMaxReceiveCount ||
                countValue > config.maxMaxReceiveCount
            ) {
                reportViolation(
                    `${describe(queue)}: maxReceiveCount in ${redrive.source} must be an integer from ${range} (got ${JSON.stringify(count)}).`,
                    queue.urn,
                );
            }
            if (typeof redrive.policy.deadLetterTargetArn !== "string" || redrive.policy.deadLetterTargetArn === "") {
                reportViolation(`${describe(queue)}: ${redrive.source} names no deadLetterTargetArn.`, queue.urn);
            }
            if (redrive.dlq !== undefined) {
                const source = retention(queue, undecided);
                const dlq = retention(redrive.dlq, undecided);
                if (source !== UNKNOWN && dlq !== UNKNOWN && !dlqOutlivesQueue(source, dlq)) {
                    reportViolation(
                        `${describe(queue)} keeps messages ${source} s but its dead-letter queue ${describe(redrive.dlq)} only ${dlq} s: a message keeps its original enqueue time in the DLQ, so the DLQ's messageRetentionSeconds must be greater than ${source} (or ${AWS_LIMITS.sqsRetentionSeconds.max}, SQS's maximum).`,
                        queue.urn,
                    );
                }
            }
        }
        undecided.finish();
    },
};

function retention(queue: PolicyResource, undecided: Undecided): Maybe<number> {
    const value = undecided.read(() => queue.props["messageRetentionSeconds"] as unknown);
    return value === UNKNOWN ? UNKNOWN : typeof value === "number" ? value : SQS_DEFAULT_RETENTION_SECONDS;
}

/** SQS-managed SSE on, or a KMS key set (a key ARN unknown during preview counts as set). */
function encryptedAtRest(queue: Pick<PolicyResource, "props">): boolean {
    return (
        peek(() => queue.props["sqsManagedSseEnabled"] as unknown) === true ||
        isSet(queue, (props) => props["kmsMasterKeyId"])
    );
}

export const sqsEncrypted: ResourceValidationPolicy = {
    name: "sqs-encrypted",
    description: "Checks that every SQS queue is encrypted at rest (SQS-managed SSE or a KMS key).",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.queue) {
            return;
        }
        if (!encryptedAtRest(args)) {
            reportViolation(
                `${describe(args)} is not encrypted at rest: set sqsManagedSseEnabled: true or kmsMasterKeyId (remediation turns on SQS-managed SSE).`,
            );
        }
    },
    remediateResource: (args) => {
        if (args.type !== T.queue) {
            return undefined;
        }
        return encryptedAtRest(args) ? undefined : { ...args.props, sqsManagedSseEnabled: true };
    },
};

export const sqsTlsOnly = tlsOnlyStack({
    name: "sqs-tls-only",
    description:
        "Checks that every SQS queue has a queue policy denying requests without TLS (aws:SecureTransport false).",
    type: T.queue,
    policyType: T.queuePolicy,
    referenceProperty: "queueUrl",
    action: "sqs:SendMessage",
    message: (queue) =>
        `${describe(queue)} accepts requests without TLS: add a queue policy statement {Effect: Deny, Principal: "*", Action: "sqs:*", Condition: {Bool: {"aws:SecureTransport": "false"}}}.`,
});
