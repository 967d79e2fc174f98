/** SQS: every queue has a dead-letter queue it outlives into; queues are encrypted and TLS only. */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { AWS_LIMITS, dlqOutlivesQueue, GUARDRAILS } from "../components/limits";
import { tlsOnlyStack } from "./lib/tls";
import { describe, numberAt, ofType, propsOf, referencedAt, type Reference } from "./lib/stack";
import { T } from "./lib/types";
import { at, UNKNOWN, Undecided, type Maybe } from "./lib/unknowns";
import { jsonObject } from "./lib/values";

/** SQS's default retention when a queue sets none: 4 days. */
export const SQS_DEFAULT_RETENTION_SECONDS = AWS_LIMITS.sqsDefaultRetentionSeconds;

interface DlqConfig {
    readonly minMaxReceiveCount: number;
    readonly maxMaxReceiveCount: number;
}

type Json = Record<string, unknown>;

/** A JSON document given as a string or an object: the object, UNKNOWN, or undefined when it is not one. */
function document(value: unknown): Maybe<Json> | undefined {
    return value === UNKNOWN ? UNKNOWN : jsonObject(value);
}

/** A queue's redrive, from its `redrivePolicy` property or a separate `aws.sqs.RedrivePolicy`. */
interface Redrive {
    /** Where it was given, for messages. */
    readonly source: string;
    /** The parsed policy, UNKNOWN during preview, undefined when it is not a JSON object. */
    readonly policy: Maybe<Json> | undefined;
    /** The DLQ in this stack (certain, or only maybe while its ARN is unknown). */
    readonly dlq: Reference;
}

/**
 * Where AWS services name a queue as the place for what they could not deliver or process: besides an
 * SQS redrive, these settings make the queue they target a dead-letter queue
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html,
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-error-troubleshooting.html).
 * `json` names the field when the setting is a JSON document.
 */
export const DEAD_LETTER_SETTINGS: ReadonlyArray<{
    readonly type: string;
    readonly path: readonly string[];
    readonly json?: string;
}> = [
    { type: T.topicSubscription, path: ["redrivePolicy"], json: "deadLetterTargetArn" },
    { type: T.lambdaFunction, path: ["deadLetterConfig", "targetArn"] },
    { type: T.eventInvokeConfig, path: ["destinationConfig", "onFailure", "destination"] },
    { type: T.eventSourceMapping, path: ["destinationConfig", "onFailure", "destinationArn"] },
    { type: T.eventTarget, path: ["deadLetterConfig", "arn"] },
    { type: T.schedule, path: ["target", "deadLetterConfig", "arn"] },
    { type: T.pipe, path: ["sourceParameters", "dynamodbStreamParameters", "deadLetterConfig", "arn"] },
    { type: T.pipe, path: ["sourceParameters", "kinesisStreamParameters", "deadLetterConfig", "arn"] },
];

/** The queues named by a JSON document's field (`redrivePolicy.deadLetterTargetArn`). */
function referencedInJson(
    holder: PolicyResource,
    property: string,
    field: string,
    queues: PolicyResource[],
): Reference {
    const parsed = document(at(propsOf(holder), property));
    if (parsed === UNKNOWN) {
        return referencedAt(holder, [property], queues);
    }
    const target = parsed?.[field];
    if (typeof target !== "string") {
        return { found: [], maybe: [], unknown: false };
    }
    return referencedAt({ ...holder, props: { [property]: target } }, [property], queues);
}

/** The redrive of every queue that has one, by queue. */
export function redrives(resources: readonly PolicyResource[], undecided: Undecided): Map<PolicyResource, Redrive> {
    const queues = ofType(resources, T.queue);
    const found = new Map<PolicyResource, Redrive>();
    for (const queue of queues) {
        const raw = at(propsOf(queue), "redrivePolicy");
        if (raw !== undefined && raw !== null && raw !== "") {
            found.set(queue, {
                source: "its redrivePolicy",
                policy: document(raw),
                dlq: referencedInJson(queue, "redrivePolicy", "deadLetterTargetArn", queues),
            });
        }
    }
    for (const separate of ofType(resources, T.redrivePolicy)) {
        const redrive: Redrive = {
            source: describe(separate),
            policy: document(at(propsOf(separate), "redrivePolicy")),
            dlq: referencedInJson(separate, "redrivePolicy", "deadLetterTargetArn", queues),
        };
        const targets = referencedAt(separate, ["queueUrl"], queues);
        for (const queue of targets.found) {
            found.set(queue, redrive);
        }
        for (const queue of targets.maybe) {
            if (!found.has(queue)) {
                undecided.note(`the queue of ${describe(separate)}`);
                found.set(queue, { ...redrive, policy: UNKNOWN });
            }
        }
    }
    return found;
}

/**
 * The queues of the stack that are dead-letter queues: of an SQS redrive or of any other service's
 * dead-letter or on-failure setting. `maybe` holds those only an unknown value could make one.
 */
export function deadLetterQueues(
    resources: readonly PolicyResource[],
    found: ReadonlyMap<PolicyResource, Redrive>,
): { readonly certain: Set<PolicyResource>; readonly maybe: Map<PolicyResource, string> } {
    const queues = ofType(resources, T.queue);
    const certain = new Set<PolicyResource>();
    const maybe = new Map<PolicyResource, string>();
    const add = (reference: Reference, via: string): void => {
        reference.found.forEach((q) => certain.add(q));
        reference.maybe.forEach((q) => maybe.set(q, via));
    };
    for (const [queue, redrive] of found) {
        add(redrive.dlq, `the redrive of ${describe(queue)}`);
    }
    for (const setting of DEAD_LETTER_SETTINGS) {
        for (const holder of ofType(resources, setting.type)) {
            const via = `${describe(holder)} ${setting.path.join(".")}`;
            add(
                setting.json !== undefined
                    ? referencedInJson(holder, setting.path[0] ?? "", setting.json, queues)
                    : referencedAt(holder, setting.path, queues),
                via,
            );
        }
    }
    return { certain, maybe };
}

/** True for a FIFO queue (`fifoQueue: true`, or a `.fifo` name). */
function isFifo(queue: PolicyResource): boolean {
    const props = propsOf(queue);
    const name = props["name"];
    return (
        props["fifoQueue"] === true ||
        props["fifoQueue"] === "true" ||
        (typeof name === "string" && name.endsWith(".fifo"))
    );
}

export const sqsQueueHasDlq: StackValidationPolicy = {
    name: "sqs-queue-has-dlq",
    description:
        "Checks that every SQS queue that is not itself a dead-letter queue (of an SQS redrive, or of an SNS subscription, Lambda, EventBridge, Scheduler or Pipes) redrives to a dead-letter queue after a bounded number of receives, and that a standard queue's DLQ keeps messages longer than its source.",
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
        const dlqs = deadLetterQueues(args.resources, found);
        const range = `${config.minMaxReceiveCount} to ${config.maxMaxReceiveCount}`;
        for (const queue of ofType(args.resources, T.queue)) {
            const redrive = found.get(queue);
            if (redrive === undefined) {
                if (dlqs.certain.has(queue)) {
                    continue;
                }
                const maybe = dlqs.maybe.get(queue);
                if (maybe !== undefined) {
                    undecided.note(`whether ${describe(queue)} is the dead-letter queue of ${maybe}`);
                    continue;
                }
                reportViolation(
                    `${describe(queue)} has no dead-letter queue: set redrivePolicy (or add an aws.sqs.RedrivePolicy) with deadLetterTargetArn and maxReceiveCount from ${range}, so a message no consumer can process is kept and seen, not retried forever or lost.`,
                    queue.urn,
                );
                continue;
            }
            if (redrive.policy === UNKNOWN) {
                undecided.note(`the redrive policy of ${describe(queue)}`);
            } else if (redrive.policy === undefined) {
                reportViolation(
                    `${describe(queue)}: ${redrive.source} is not valid: it must be a JSON object with deadLetterTargetArn and maxReceiveCount.`,
                    queue.urn,
                );
                continue;
            } else {
                const count = redrive.policy["maxReceiveCount"];
                const countValue = typeof count === "string" && count.trim() !== "" ? Number(count) : count;
                if (
                    typeof countValue !== "number" ||
                    !Number.isInteger(countValue) ||
                    countValue < config.minMaxReceiveCount ||
                    countValue > config.maxMaxReceiveCount
                ) {
                    reportViolation(
                        `${describe(queue)}: maxReceiveCount in ${redrive.source} must be an integer from ${range} (got ${JSON.stringify(count) ?? "nothing"}).`,
                        queue.urn,
                    );
                }
                const target = redrive.policy["deadLetterTargetArn"];
                if (typeof target !== "string" || target === "") {
                    reportViolation(
                        `${describe(queue)}: ${redrive.source} names no deadLetterTargetArn (got ${JSON.stringify(target) ?? "nothing"}).`,
                        queue.urn,
                    );
                }
            }
            const [dlq] = redrive.dlq.found;
            // A FIFO message moved to its DLQ gets a new enqueue timestamp, so a FIFO DLQ need not outlive its
            // source (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
            if (dlq === undefined || isFifo(dlq)) {
                continue;
            }
            const source = retention(queue);
            const kept = retention(dlq);
            if (source === UNKNOWN || kept === UNKNOWN) {
                undecided.note(`the retention of ${describe(queue)} or of its dead-letter queue`);
            } else if (!dlqOutlivesQueue(source, kept)) {
                reportViolation(
                    `${describe(queue)} keeps messages ${source} s but its dead-letter queue ${describe(dlq)} only ${kept} s: a message of a standard queue keeps its original enqueue time in the DLQ, so the DLQ's messageRetentionSeconds must be greater than ${source} (or ${AWS_LIMITS.sqsRetentionSeconds.max}, SQS's maximum).`,
                    queue.urn,
                );
            }
        }
        undecided.finish();
    },
};

function retention(queue: PolicyResource): Maybe<number> {
    const value = numberAt(propsOf(queue), "messageRetentionSeconds");
    return value ?? SQS_DEFAULT_RETENTION_SECONDS;
}

/**
 * Encrypted at rest: SQS-managed SSE or a KMS key. SQS encrypts new queues with SSE-SQS by default
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html),
 * so only a queue that turns it off (`sqsManagedSseEnabled: false`) without a KMS key is not.
 */
function encryptedAtRest(queue: Pick<PolicyResource, "props">): boolean {
    const props = propsOf(queue);
    const key = props["kmsMasterKeyId"];
    return props["sqsManagedSseEnabled"] !== false || key === UNKNOWN || (typeof key === "string" && key !== "");
}

export const sqsEncrypted: ResourceValidationPolicy = {
    name: "sqs-encrypted",
    description:
        "Checks that no SQS queue turns encryption at rest off (sqsManagedSseEnabled: false without a KMS key); SQS encrypts new queues with SSE-SQS by default.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.queue) {
            return;
        }
        if (!encryptedAtRest(args)) {
            reportViolation(
                `${describe(args)} turns encryption at rest off (sqsManagedSseEnabled: false, no kmsMasterKeyId): remove sqsManagedSseEnabled: false or set kmsMasterKeyId (remediation turns SQS-managed SSE back on).`,
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
