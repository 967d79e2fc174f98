/**
 * The arguments of a CallbackWorkflow: their defaults, ranges and cross-field rules, in one table that
 * both the component (arguments) and `index.ts` (stack config) check against, so a bad value gets the
 * same explanation wherever it comes from. Pure: no Pulumi resources here.
 */
import { closest, distance } from "fastest-levenshtein";
import type * as pulumi from "@pulumi/pulumi";
import {
    AWS_LIMITS,
    DEFAULT_LAMBDA_RUNTIME,
    dlqOutlivesQueue,
    GUARDRAILS,
    lastReceiveDoneSeconds,
    longestHeartbeatGapSeconds,
    LAMBDA_RUNTIME_DEPRECATION,
    NODE_RUNTIME_TARGETS,
    timingProblems,
    visibilityTimeoutFor,
    workerRuntimes,
    type LambdaRuntime,
} from "./limits";

export { visibilityTimeoutFor };

export type StateMachineLogLevel = "ALL" | "ERROR" | "FATAL" | "OFF";
export type WorkerLogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

/** A subscription to the notification topic. */
export interface TopicSubscription {
    /**
     * `email` or `https`. An SQS queue is refused: SNS delivers to it only when the queue's own policy
     * allows the topic, which this component cannot set (subscribe it beside the workflow, on `topicArn`).
     */
    readonly protocol: "email" | "https" | "sqs";
    /** An email address or an `https://` URL. */
    readonly endpoint: string;
}

/** The quickest settings the guardrails allow: the floors of the timing relations. */
const FASTEST = {
    taskTimeoutSeconds: AWS_LIMITS.stepFunctionsTaskTimeoutSeconds.max,
    heartbeatSeconds: undefined,
    maxReceiveCount: GUARDRAILS.maxReceiveCount.min,
    workerTimeoutSeconds: GUARDRAILS.workerTimeoutSeconds.min,
    batchingWindowSeconds: AWS_LIMITS.sqsBatchingWindowSeconds.min,
} as const;

/**
 * Integer arguments: default and range, every range from `limits.ts` (AWS's limits or this project's
 * guardrails, which the policy pack applies too).
 */
export const INTEGER_ARGS = {
    // The floors follow from the timing relations at the other settings' floors (see limits.ts).
    taskTimeoutSeconds: {
        default: 3600,
        min: Math.max(AWS_LIMITS.stepFunctionsTaskTimeoutSeconds.min, lastReceiveDoneSeconds(FASTEST)),
        max: AWS_LIMITS.stepFunctionsTaskTimeoutSeconds.max,
    },
    heartbeatSeconds: {
        default: undefined,
        min: Math.max(GUARDRAILS.heartbeatSeconds.min, longestHeartbeatGapSeconds(FASTEST) + 1),
        // The task's timeout must hold the heartbeat and every receive after it.
        max: GUARDRAILS.heartbeatSeconds.max - lastReceiveDoneSeconds(FASTEST),
    },
    maxReceiveCount: { default: 5, ...GUARDRAILS.maxReceiveCount },
    workerTimeoutSeconds: { default: 30, ...GUARDRAILS.workerTimeoutSeconds },
    workerMemoryMb: { default: 256, ...AWS_LIMITS.lambdaMemoryMb },
    workerConcurrency: { default: 10, ...GUARDRAILS.workerConcurrency },
    batchSize: { default: 10, ...AWS_LIMITS.sqsBatchSize },
    batchingWindowSeconds: { default: 0, ...AWS_LIMITS.sqsBatchingWindowSeconds },
    maxConcurrency: { default: 5, ...AWS_LIMITS.sqsMaximumConcurrency },
    queueRetentionSeconds: { default: 345_600, ...AWS_LIMITS.sqsRetentionSeconds },
    // Greater than the work queue's, which is at least SQS's minimum.
    dlqRetentionSeconds: {
        default: 1_209_600,
        min: AWS_LIMITS.sqsRetentionSeconds.min + 1,
        max: AWS_LIMITS.sqsRetentionSeconds.max,
    },
    logRetentionDays: {
        default: 30,
        min: Math.min(...AWS_LIMITS.logRetentionDays),
        max: Math.max(...AWS_LIMITS.logRetentionDays),
    },
} as const satisfies Record<string, { default: number | undefined; min: number; max: number }>;

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = AWS_LIMITS.logRetentionDays;

export const ENUM_ARGS = {
    /** Allowed: the Node.js runtimes of `limits.ts` still in standard support (checked with the date). */
    runtime: { default: DEFAULT_LAMBDA_RUNTIME, allowed: Object.keys(NODE_RUNTIME_TARGETS) as LambdaRuntime[] },
    stateMachineLogLevel: { default: "ALL", allowed: ["ALL", "ERROR", "FATAL", "OFF"] as StateMachineLogLevel[] },
    workerLogLevel: { default: "INFO", allowed: ["DEBUG", "INFO", "WARN", "ERROR"] as WorkerLogLevel[] },
} as const;

export const BOOLEAN_ARGS = {
    includeExecutionData: { default: false },
    tracing: { default: true },
    alarms: { default: true },
} as const;

type IntegerArgs = { readonly [K in keyof typeof INTEGER_ARGS]?: number };

/**
 * Arguments of a {@link CallbackWorkflow}. Every one is optional; the defaults are production defaults.
 */
export interface CallbackWorkflowArgs extends IntegerArgs {
    /**
     * How long the callback task waits for the worker's answer before failing with `States.Timeout`.
     * Default 3600 (1 hour); 21 to 31,536,000, and at least `heartbeatSeconds` + (`maxReceiveCount` − 1)
     * × (visibility timeout + batching window) + `workerTimeoutSeconds`, so that every receive fits.
     */
    readonly taskTimeoutSeconds?: number;
    /**
     * The callback task fails with `States.HeartbeatTimeout` when no heartbeat comes for this long; the
     * worker beats before a processor starts on a message that has waited, and then every third of it
     * (shorter in short invocations). Less than `taskTimeoutSeconds`, and more than the longest gap a live
     * worker leaves: the visibility timeout + the batching window + `workerTimeoutSeconds`. Default: no
     * heartbeat.
     */
    readonly heartbeatSeconds?: number;
    /** Receives before a message moves to the dead-letter queue. Default 5; 2 to 20 (the policy pack's range). */
    readonly maxReceiveCount?: number;
    /** The worker's timeout. Default 30; 3 to 900. The queue's visibility timeout is 6× this plus the batching window. */
    readonly workerTimeoutSeconds?: number;
    /** The worker's memory. Default 256; 128 to 10,240. */
    readonly workerMemoryMb?: number;
    /** Records of one batch the worker processes at once. Default 10; 1 to 100. */
    readonly workerConcurrency?: number;
    /** Records per batch. Default 10; 1 to 10,000 (above 10 needs `batchingWindowSeconds` ≥ 1). */
    readonly batchSize?: number;
    /** How long Lambda gathers records before invoking. Default 0; 0 to 300. */
    readonly batchingWindowSeconds?: number;
    /** Most concurrent worker invocations the queue may drive. Default 5; 2 to 1000. */
    readonly maxConcurrency?: number;
    /** Work queue retention. Default 345,600 (4 days); 60 to 1,209,600. */
    readonly queueRetentionSeconds?: number;
    /** Dead-letter queue retention; must exceed the work queue's. Default 1,209,600 (14 days). */
    readonly dlqRetentionSeconds?: number;
    /** Retention of both log groups, in days CloudWatch accepts. Default 30. */
    readonly logRetentionDays?: number;
    /** Lambda runtime. Default `nodejs24.x`; or `nodejs22.x` until AWS deprecates it (2027-04-30). */
    readonly runtime?: LambdaRuntime;
    /** State machine log level. Default `ALL`; `ALL`, `ERROR`, `FATAL`, `OFF`. */
    readonly stateMachineLogLevel?: StateMachineLogLevel;
    /** Whether state machine logs include inputs and outputs (they carry task tokens). Default false. */
    readonly includeExecutionData?: boolean;
    /** X-Ray tracing of the state machine. Default true. */
    readonly tracing?: boolean;
    /** The worker's log level (`POWERTOOLS_LOG_LEVEL`). Default `INFO`. */
    readonly workerLogLevel?: WorkerLogLevel;
    /**
     * The key of everything that holds task data (queues, topics, log groups, the state machine): absent
     * for AWS-managed encryption; `"create"` for a customer managed key with rotation, made by the
     * component; or a KMS key's ARN (`…:key/<id>`: an alias ARN is refused, since IAM statements cannot
     * name a key by alias; an Output is not checked, so give it the key's ARN). A given key's policy needs
     * the statements of `workflowKeyPolicy`.
     */
    readonly kmsKey?: pulumi.Input<string>;
    /** Alarms on the DLQ and on failed, timed-out and aborted executions. Default true. */
    readonly alarms?: boolean;
    /** Where alarms go: an existing SNS topic ARN. Default: a topic the component creates. */
    readonly alarmTopicArn?: pulumi.Input<string>;
    /** Email addresses subscribed to the created alarm topic. Default none. */
    readonly alarmEmails?: readonly string[];
    /** Subscriptions to the notification topic. Default none. */
    readonly subscriptions?: readonly TopicSubscription[];
    /** The `MessageTitle` of each task message. */
    readonly messageTitle?: string;
    /**
     * The worker's entry module (exporting `handler`, from `createCallbackHandler`): absolute, or relative to
     * the Pulumi program's directory (where `Pulumi.yaml` is). Default: the default worker.
     */
    readonly workerEntry?: string;
    /** Tags for every resource that takes them. */
    readonly tags?: Readonly<Record<string, string>>;
    /**
     * Turns the callback step into a human approval (an `ApprovalChannel`): each of these email addresses
     * gets a signed link to a page where they approve or reject; the task waits up to taskTimeoutSeconds.
     * Default none (the worker decides). Not with heartbeatSeconds or workerEntry.
     */
    readonly approvers?: readonly string[];
}

/** One argument that failed validation. */
export interface ArgProblem {
    readonly key: string;
    readonly reason: string;
}

export const DEFAULT_MESSAGE_TITLE = "Task started by Step Functions. Waiting for callback with task token.";

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const KMS_ALIAS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:alias\/[A-Za-z0-9/_-]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function show(value: unknown): string {
    return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}

/**
 * Every problem with `args`, each naming the argument, the value and what is allowed. Values that are
 * Outputs (known only at deployment) are not checked here.
 */
export function argProblems(
    args: CallbackWorkflowArgs,
    today: Date = new Date(),
    scope: "workflow" | "channel" = "workflow",
): ArgProblem[] {
    const problems: ArgProblem[] = [];
    const add = (key: string, reason: string): void => {
        problems.push({ key, reason });
    };
    for (const [key, spec] of Object.entries(INTEGER_ARGS)) {
        const value = (args as Record<string, unknown>)[key];
        if (value === undefined) {
            continue;
        }
        if (typeof value !== "number" || !Number.isInteger(value) || value < spec.min || value > spec.max) {
            add(key, `must be an integer from ${spec.min} to ${spec.max} (got ${show(value)}).`);
        }
    }
    if (
        args.logRetentionDays !== undefined &&
        !(LOG_RETENTION_DAYS as readonly number[]).includes(args.logRetentionDays)
    ) {
        add(
            "logRetentionDays",
            `must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${show(args.logRetentionDays)}).`,
        );
    }
    for (const [key, spec] of Object.entries(ENUM_ARGS)) {
        const value = (args as Record<string, unknown>)[key];
        if (value !== undefined && !(spec.allowed as readonly unknown[]).includes(value)) {
            add(key, `must be one of ${spec.allowed.join(", ")} (got ${show(value)}).`);
        }
    }
    if (typeof args.runtime === "string" && args.runtime in NODE_RUNTIME_TARGETS) {
        const supported = workerRuntimes(today);
        if (!supported.includes(args.runtime)) {
            add(
                "runtime",
                `reached its deprecation on ${LAMBDA_RUNTIME_DEPRECATION[args.runtime]}: use one of ${supported.join(", ")} (got ${show(args.runtime)}).`,
            );
        }
    }
    for (const key of Object.keys(BOOLEAN_ARGS)) {
        const value = (args as Record<string, unknown>)[key];
        if (value !== undefined && typeof value !== "boolean") {
            add(key, `must be true or false (got ${show(value)}).`);
        }
    }

    // The timing relations (limits.ts), once every number they relate is a valid integer.
    const timingKeys = [
        "taskTimeoutSeconds",
        "heartbeatSeconds",
        "maxReceiveCount",
        "workerTimeoutSeconds",
        "batchingWindowSeconds",
    ];
    if (!problems.some((p) => timingKeys.includes(p.key))) {
        for (const problem of timingProblems({
            // A channel's tasks set their own timeouts (waitForCallback checks each against the channel):
            // here only the relations between the channel's own numbers.
            taskTimeoutSeconds:
                scope === "channel"
                    ? INTEGER_ARGS.taskTimeoutSeconds.max
                    : (args.taskTimeoutSeconds ?? INTEGER_ARGS.taskTimeoutSeconds.default),
            heartbeatSeconds: args.heartbeatSeconds,
            maxReceiveCount: args.maxReceiveCount ?? INTEGER_ARGS.maxReceiveCount.default,
            workerTimeoutSeconds: args.workerTimeoutSeconds ?? INTEGER_ARGS.workerTimeoutSeconds.default,
            batchingWindowSeconds: args.batchingWindowSeconds ?? INTEGER_ARGS.batchingWindowSeconds.default,
        })) {
            add(problem.key, problem.reason);
        }
    }
    const queueRetention = args.queueRetentionSeconds ?? INTEGER_ARGS.queueRetentionSeconds.default;
    const dlqRetention = args.dlqRetentionSeconds ?? INTEGER_ARGS.dlqRetentionSeconds.default;
    if (!dlqOutlivesQueue(queueRetention, dlqRetention)) {
        add(
            "dlqRetentionSeconds",
            `must be greater than queueRetentionSeconds (or ${AWS_LIMITS.sqsRetentionSeconds.max}, SQS's maximum), since a message keeps its enqueue time in the DLQ (got ${dlqRetention} <= ${queueRetention}).`,
        );
    }
    const batchSize = args.batchSize ?? INTEGER_ARGS.batchSize.default;
    const window = args.batchingWindowSeconds ?? INTEGER_ARGS.batchingWindowSeconds.default;
    if (batchSize > AWS_LIMITS.sqsBatchSizeWithoutWindow && window < 1) {
        add(
            "batchingWindowSeconds",
            `must be at least 1 when batchSize is over ${AWS_LIMITS.sqsBatchSizeWithoutWindow} (got ${window} with batchSize ${batchSize}).`,
        );
    }

    if (typeof args.kmsKey === "string" && KMS_ALIAS_ARN.test(args.kmsKey)) {
        // https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
        add(
            "kmsKey",
            `must be the key's ARN, not an alias's: KMS authorises IAM statements against the key's ARN, so the grants would allow nothing and sends and receives would be denied. Find it with \`aws kms describe-key --key-id ${args.kmsKey.split(":").pop() ?? ""} --query KeyMetadata.Arn\` (got ${show(args.kmsKey)}).`,
        );
    } else if (typeof args.kmsKey === "string" && args.kmsKey !== "create" && !KMS_KEY_ARN.test(args.kmsKey)) {
        add(
            "kmsKey",
            `must be "create" or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) (got ${show(args.kmsKey)}).`,
        );
    }
    if (typeof args.alarmTopicArn === "string" && !SNS_TOPIC_ARN.test(args.alarmTopicArn)) {
        add("alarmTopicArn", `must be an SNS topic ARN (got ${show(args.alarmTopicArn)}).`);
    }
    if (args.alarmTopicArn !== undefined && (args.alarmEmails?.length ?? 0) > 0) {
        add("alarmEmails", "must be empty when alarmTopicArn is set: subscribe them to that topic instead.");
    }
    (args.alarmEmails ?? []).forEach((email, index) => {
        if (typeof email !== "string" || !EMAIL.test(email)) {
            add(`alarmEmails[${index}]`, `must be an email address (got ${show(email)}).`);
        }
    });
    (args.subscriptions ?? []).forEach((subscription, index) => {
        const key = `subscriptions[${index}]`;
        const { protocol, endpoint } = (subscription ?? {}) as Partial<TopicSubscription>;
        if (protocol === "sqs") {
            // SNS delivers to a queue only if the queue's own policy allows the topic, and that policy is the
            // queue owner's: setting it here would replace whatever else it allows.
            add(
                key,
                `cannot be an SQS queue: SNS delivers nothing to it until the queue's policy allows this topic, and this component cannot set another queue's policy without replacing it. Subscribe it beside the workflow: an aws.sns.TopicSubscription on the topicArn output, and on the queue a policy statement {Effect: "Allow", Principal: {Service: "sns.amazonaws.com"}, Action: "sqs:SendMessage", Resource: <queue ARN>, Condition: {ArnEquals: {"aws:SourceArn": <topicArn>}}} (got ${show(subscription)}).`,
            );
            return;
        }
        const valid =
            protocol === "email"
                ? typeof endpoint === "string" && EMAIL.test(endpoint)
                : protocol === "https"
                  ? typeof endpoint === "string" && /^https:\/\/[^\s]+$/.test(endpoint)
                  : false;
        if (!valid) {
            add(
                key,
                `must be {protocol: "email", endpoint: <address>} or {protocol: "https", endpoint: "https://..."} (got ${show(subscription)}).`,
            );
        }
    });
    if (args.approvers !== undefined) {
        if (!Array.isArray(args.approvers)) {
            add("approvers", `must be a list of email addresses (got ${show(args.approvers)}).`);
        } else {
            args.approvers.forEach((email: unknown, index) => {
                if (typeof email !== "string" || !EMAIL.test(email)) {
                    add(`approvers[${index}]`, `must be an email address (got ${show(email)}).`);
                } else if (args.approvers?.indexOf(email) !== index) {
                    add(`approvers[${index}]`, `repeats ${show(email)}.`);
                }
            });
            if (args.approvers.length > 0 && args.heartbeatSeconds !== undefined) {
                add(
                    "heartbeatSeconds",
                    `cannot be set with approvers: nobody sends heartbeats while a person decides, so the approval would fail with States.HeartbeatTimeout after ${show(args.heartbeatSeconds)} s; taskTimeoutSeconds bounds the wait.`,
                );
            }
            const timeout = args.taskTimeoutSeconds ?? INTEGER_ARGS.taskTimeoutSeconds.default;
            if (args.approvers.length > 0 && typeof timeout === "number" && timeout < 120) {
                add(
                    "taskTimeoutSeconds",
                    `must be at least 120 with approvers: a person needs the time, and the alarm on requests that wait (60 s at least) must fire before the approval fails (got ${show(timeout)}).`,
                );
            }
            if (args.approvers.length > 0 && args.workerEntry !== undefined) {
                add(
                    "workerEntry",
                    `cannot be set with approvers: with approvers a person decides on the approval page, and the worker is the approval requester that sends them their links (got ${show(args.workerEntry)}); remove one of the two.`,
                );
            }
        }
    }
    if (args.messageTitle !== undefined && (typeof args.messageTitle !== "string" || args.messageTitle.length > 1024)) {
        add("messageTitle", `must be a string of at most 1024 characters (got ${show(args.messageTitle)}).`);
    }
    return problems;
}

/**
 * The longest name a component may have: its children are autonamed from it, and the longest,
 * `<name>-worker-role-<7 hex>`, must fit IAM's 64 characters for a role name.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
export const MAX_NAME_LENGTH = 64 - "-worker-role".length - "-0123456".length;

/** The component name's problems: the names of its resources are built from it. */
export function nameProblems(name: string): ArgProblem[] {
    return /^[A-Za-z0-9_-]+$/.test(name) && name.length <= MAX_NAME_LENGTH
        ? []
        : [
              {
                  key: "name",
                  reason: `must be 1 to ${MAX_NAME_LENGTH} letters, digits, hyphens or underscores: the names of its resources are built from it (the longest, "${name}-worker-role-" and 7 characters, must fit IAM's 64; SQS queue names take no other characters) (got ${JSON.stringify(name)}, ${name.length} characters).`,
              },
          ];
}

/**
 * The arguments given that the component does not take (a typo from a JavaScript or YAML caller, which no
 * type checker stops), each with the nearest valid name when one is close.
 */
export function unknownArgProblems(args: object, known: readonly string[]): ArgProblem[] {
    return Object.keys(args)
        .filter((key) => !known.includes(key))
        .map((key) => ({ key, reason: `is not an argument: ${nearestName(key, known)}` }));
}

/**
 * "did you mean `x`?" for the valid name nearest to `name` (at most a third of its letters apart,
 * case aside), else the list of valid names.
 */
export function nearestName(name: string, known: readonly string[]): string {
    const candidate =
        known.length > 0
            ? closest(
                  name.toLowerCase(),
                  known.map((k) => k.toLowerCase()),
              )
            : undefined;
    const match = known.find((k) => k.toLowerCase() === candidate);
    if (
        match !== undefined &&
        distance(name.toLowerCase(), match.toLowerCase()) <= Math.max(2, Math.floor(name.length / 3))
    ) {
        return `did you mean \`${match}\`?`;
    }
    return `the arguments are ${[...known]
        .sort()
        .map((k) => `\`${k}\``)
        .join(", ")}.`;
}

/** The arguments with every default applied. */
export interface ResolvedArgs {
    readonly taskTimeoutSeconds: number;
    readonly heartbeatSeconds: number | undefined;
    readonly maxReceiveCount: number;
    readonly workerTimeoutSeconds: number;
    readonly workerMemoryMb: number;
    readonly workerConcurrency: number;
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    readonly maxConcurrency: number;
    readonly queueRetentionSeconds: number;
    readonly dlqRetentionSeconds: number;
    readonly logRetentionDays: number;
    readonly runtime: LambdaRuntime;
    readonly stateMachineLogLevel: StateMachineLogLevel;
    readonly includeExecutionData: boolean;
    readonly tracing: boolean;
    readonly workerLogLevel: WorkerLogLevel;
    readonly kmsKey: pulumi.Input<string> | undefined;
    readonly alarms: boolean;
    readonly alarmTopicArn: pulumi.Input<string> | undefined;
    readonly alarmEmails: readonly string[];
    readonly subscriptions: readonly TopicSubscription[];
    readonly messageTitle: string;
    readonly workerEntry: string | undefined;
    readonly tags: Readonly<Record<string, string>>;
    readonly approvers: readonly string[];
    /** Derived: 6× the worker timeout plus the batching window. */
    readonly visibilityTimeoutSeconds: number;
}

/** Applies the defaults; call after {@link argProblems} found nothing. */
export function resolveArgs(args: CallbackWorkflowArgs): ResolvedArgs {
    const int = <K extends keyof typeof INTEGER_ARGS>(key: K): number =>
        args[key] ?? (INTEGER_ARGS[key].default as number);
    const workerTimeoutSeconds = int("workerTimeoutSeconds");
    const batchingWindowSeconds = int("batchingWindowSeconds");
    return {
        taskTimeoutSeconds: int("taskTimeoutSeconds"),
        heartbeatSeconds: args.heartbeatSeconds,
        maxReceiveCount: int("maxReceiveCount"),
        workerTimeoutSeconds,
        workerMemoryMb: int("workerMemoryMb"),
        workerConcurrency: int("workerConcurrency"),
        batchSize: int("batchSize"),
        batchingWindowSeconds,
        maxConcurrency: int("maxConcurrency"),
        queueRetentionSeconds: int("queueRetentionSeconds"),
        dlqRetentionSeconds: int("dlqRetentionSeconds"),
        logRetentionDays: int("logRetentionDays"),
        runtime: args.runtime ?? ENUM_ARGS.runtime.default,
        stateMachineLogLevel: args.stateMachineLogLevel ?? ENUM_ARGS.stateMachineLogLevel.default,
        includeExecutionData: args.includeExecutionData ?? BOOLEAN_ARGS.includeExecutionData.default,
        tracing: args.tracing ?? BOOLEAN_ARGS.tracing.default,
        workerLogLevel: args.workerLogLevel ?? ENUM_ARGS.workerLogLevel.default,
        kmsKey: args.kmsKey,
        alarms: args.alarms ?? BOOLEAN_ARGS.alarms.default,
        alarmTopicArn: args.alarmTopicArn,
        alarmEmails: args.alarmEmails ?? [],
        subscriptions: args.subscriptions ?? [],
        messageTitle: args.messageTitle ?? DEFAULT_MESSAGE_TITLE,
        workerEntry: args.workerEntry,
        tags: args.tags ?? {},
        approvers: args.approvers ?? [],
        visibilityTimeoutSeconds: visibilityTimeoutFor(workerTimeoutSeconds, batchingWindowSeconds),
    };
}
