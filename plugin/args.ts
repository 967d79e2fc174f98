/**
 * The arguments of the hosted components as Pulumi's schema inference reads them
 * (`@pulumi/pulumi/provider/experimental`, analyzer.js): one interface per component with every field
 * spelt out and documented, mutable arrays (the analyzer refuses `readonly T[]`), string choices as
 * `as const` objects (it refuses bare literal unions; an object's keys name the enum's members in each
 * language's SDK), no `Pick<>` (its fields come out as `Any` without a description).
 *
 * Each interface is assignable to the library's own (checked when the wrapper classes in index.ts
 * compile), so what a Python, Go, C#, Java or YAML program sets is what a TypeScript program may pass;
 * the library validates it the same way, with the same messages.
 * https://www.pulumi.com/docs/iac/guides/building-extending/packages/source-based-plugin/
 */
import type * as pulumi from "@pulumi/pulumi";

/** The Node.js runtime of the worker's Lambda function. */
export const LambdaRuntime = {
    /** Node.js 22, until AWS deprecates it (2027-04-30). */
    Nodejs22: "nodejs22.x",
    /** Node.js 24, the default. */
    Nodejs24: "nodejs24.x",
} as const;
export type LambdaRuntime = (typeof LambdaRuntime)[keyof typeof LambdaRuntime];

/** The state machine's log level. */
export const StateMachineLogLevel = {
    All: "ALL",
    Error: "ERROR",
    Fatal: "FATAL",
    Off: "OFF",
} as const;
export type StateMachineLogLevel = (typeof StateMachineLogLevel)[keyof typeof StateMachineLogLevel];

/** The worker's log level (`POWERTOOLS_LOG_LEVEL`). */
export const WorkerLogLevel = {
    Debug: "DEBUG",
    Info: "INFO",
    Warn: "WARN",
    Error: "ERROR",
} as const;
export type WorkerLogLevel = (typeof WorkerLogLevel)[keyof typeof WorkerLogLevel];

/**
 * How SNS delivers a notification. An SQS queue is not offered: SNS delivers to it only when the queue's
 * own policy allows the topic, which the component cannot set; subscribe a queue beside the component,
 * on its `topicArn`.
 */
export const SubscriptionProtocol = {
    Email: "email",
    Https: "https",
} as const;
export type SubscriptionProtocol = (typeof SubscriptionProtocol)[keyof typeof SubscriptionProtocol];

/** One of the three Step Functions actions that answer a task token. */
export const SendTaskAction = {
    SendTaskSuccess: "states:SendTaskSuccess",
    SendTaskFailure: "states:SendTaskFailure",
    SendTaskHeartbeat: "states:SendTaskHeartbeat",
} as const;
export type SendTaskAction = (typeof SendTaskAction)[keyof typeof SendTaskAction];

/** A subscription to the notification topic. */
export interface TopicSubscription {
    /** `email` or `https`. */
    protocol: SubscriptionProtocol;
    /** An email address, or an `https://` URL. */
    endpoint: string;
}

/** A role, other than the channel's worker, that answers the channel's tasks. */
export interface ChannelAnswerer {
    /** The IAM role's name (a page's function, an ECS task, a function elsewhere). */
    roleName: pulumi.Input<string>;
    /** What it may do with a task token. Default: all three `SendTask*` actions. */
    actions?: SendTaskAction[];
}

/** The queue and worker settings both components take, with the same meaning, defaults and ranges. */
interface QueueAndWorkerArgs {
    /** Receives before a message moves to the dead-letter queue. Default 5; 2 to 20 (the policy pack's range). */
    maxReceiveCount?: number;
    /**
     * The worker's timeout, in seconds. Default 30; 3 to 900. The queue's visibility timeout is 6 times this
     * plus the batching window.
     */
    workerTimeoutSeconds?: number;
    /** The worker's memory, in MB. Default 256; 128 to 10,240. */
    workerMemoryMb?: number;
    /** Records of one batch the worker processes at once. Default 10; 1 to 100. */
    workerConcurrency?: number;
    /** Records per batch. Default 10; 1 to 10,000 (above 10 needs `batchingWindowSeconds` of 1 or more). */
    batchSize?: number;
    /** How long Lambda gathers records before invoking the worker, in seconds. Default 0; 0 to 300. */
    batchingWindowSeconds?: number;
    /** Most concurrent worker invocations the queue may drive. Default 5; 2 to 1,000. */
    maxConcurrency?: number;
    /** Work queue retention, in seconds. Default 345,600 (4 days); 60 to 1,209,600. */
    queueRetentionSeconds?: number;
    /** Dead-letter queue retention, in seconds; must exceed the work queue's. Default 1,209,600 (14 days). */
    dlqRetentionSeconds?: number;
    /** The worker's Lambda runtime. Default `nodejs24.x`; or `nodejs22.x` until AWS deprecates it (2027-04-30). */
    runtime?: LambdaRuntime;
    /** The worker's log level (`POWERTOOLS_LOG_LEVEL`). Default `INFO`. */
    workerLogLevel?: WorkerLogLevel;
    /** Where alarms go: an existing SNS topic's ARN. Default: a topic the component creates. */
    alarmTopicArn?: pulumi.Input<string>;
    /** Email addresses subscribed to the alarm topic the component creates. Default none. */
    alarmEmails?: string[];
    /**
     * The worker's entry module, a Node.js module exporting `handler` (made with `createCallbackHandler` from
     * `callback-workflow/worker`): absolute, or relative to the Pulumi program's directory (where
     * `Pulumi.yaml` is). Default: the package's default worker.
     */
    workerEntry?: string;
    /** Tags for every resource that takes them. */
    tags?: Record<string, string>;
}

/** Arguments of a CallbackWorkflow. Every one is optional; the defaults are production defaults. */
export interface CallbackWorkflowArgs extends QueueAndWorkerArgs {
    /**
     * How long the callback task waits for the worker's answer before failing with `States.Timeout`, in
     * seconds. Default 3600 (1 hour); 21 to 31,536,000, and at least `heartbeatSeconds` + (`maxReceiveCount`
     * - 1) x (visibility timeout + batching window) + `workerTimeoutSeconds`, so that every receive fits.
     */
    taskTimeoutSeconds?: number;
    /**
     * The callback task fails with `States.HeartbeatTimeout` when no heartbeat comes for this long, in
     * seconds; the worker beats before a processor starts on a message that has waited, then every third of
     * it. Less than `taskTimeoutSeconds`, and more than the longest gap a live worker leaves: the visibility
     * timeout + the batching window + `workerTimeoutSeconds`. Default: no heartbeat.
     */
    heartbeatSeconds?: number;
    /** Retention of both log groups (the worker's and the state machine's), in days CloudWatch accepts. Default 30. */
    logRetentionDays?: number;
    /** The state machine's log level. Default `ALL`; `ALL`, `ERROR`, `FATAL`, `OFF`. */
    stateMachineLogLevel?: StateMachineLogLevel;
    /** Whether the state machine's logs include inputs and outputs (they carry task tokens). Default false. */
    includeExecutionData?: boolean;
    /** X-Ray tracing of the state machine. Default true. */
    tracing?: boolean;
    /**
     * The key of everything that holds task data (queues, topics, log groups, the state machine): unset for
     * AWS-managed encryption; `create` for a customer managed key with rotation, made by the component; or a
     * KMS key's ARN (`arn:...:key/<id>`; an alias ARN is refused, since IAM statements cannot name a key by
     * alias). A key of your own needs a key policy that lets these services use it.
     */
    kmsKey?: pulumi.Input<string>;
    /** Alarms on the dead-letter queue, the queue's oldest message and failed, timed-out and aborted executions. Default true. */
    alarms?: boolean;
    /** Subscriptions to the notification topic, which hears of every execution's success or failure. Default none. */
    subscriptions?: TopicSubscription[];
    /** The `MessageTitle` of each task message, at most 1,024 characters. */
    messageTitle?: string;
    /**
     * Turns the callback step into a human approval: each email address gets its own signed link to an
     * approval page where they approve or reject; the task waits up to taskTimeoutSeconds. Default none (the
     * worker decides). Not with heartbeatSeconds or workerEntry.
     */
    approvers?: string[];
}

/**
 * Arguments of a CallbackChannel: the queue, worker and alarm settings of a CallbackWorkflow (same names,
 * defaults and ranges), and who answers its tasks.
 */
export interface CallbackChannelArgs extends QueueAndWorkerArgs {
    /**
     * The beat the channel's tasks expect, in seconds: the worker heartbeats for it, and a task's
     * `HeartbeatSeconds` may not be shorter. Default: no heartbeat (then no task of the channel may set one).
     */
    heartbeatSeconds?: number;
    /** Retention of the worker's log group, in days CloudWatch accepts. Default 30. */
    logRetentionDays?: number;
    /**
     * The key of the queues, the worker's logs and the alarm topic: unset for AWS-managed encryption;
     * `create` for a customer managed key with rotation, made by the component; or a KMS key's ARN
     * (`arn:...:key/<id>`; an alias ARN is refused). A state machine of your own that sends to the queue
     * needs `kms:GenerateDataKey` and `kms:Decrypt` on it.
     */
    kmsKey?: pulumi.Input<string>;
    /** Alarms on the dead-letter queue and on the age of the queue's oldest message. Default true. */
    alarms?: boolean;
    /**
     * The age of the oldest waiting message past which the queue-age alarm fires, in seconds: work is
     * waiting and no worker is answering. Default: half the heartbeat, else 1,800 (half of a one-hour task);
     * 60 or more, at most `queueRetentionSeconds`, and less than the first deadline of every task.
     */
    queueAgeAlarmSeconds?: number;
    /**
     * What the channel's worker may do with its tasks' tokens. Default: all three `SendTask*` actions. A
     * worker that only hands a task on (to a person, through a page that answers it) needs
     * `states:SendTaskFailure` alone, to fail what it cannot hand on; an empty list for none.
     */
    workerActions?: SendTaskAction[];
    /**
     * Environment variables of the worker, for its processor's own settings. Names the worker itself sets
     * (`CALLBACK_*`, `POWERTOOLS_*`, `NODE_OPTIONS`) and Lambda's reserved ones (`AWS_*`, `LAMBDA_*`,
     * `_HANDLER`, ...) are refused. Default none.
     */
    workerEnvironment?: Record<string, pulumi.Input<string>>;
    /** Roles besides the worker that answer the channel's tasks. Default none. */
    answerers?: ChannelAnswerer[];
    /**
     * The state machines whose tasks the channel answers, by exact ARN (no wildcard): from another Pulumi
     * language, a state machine of your own whose `sqs:sendMessage.waitForTaskToken` tasks send to this
     * channel's `queueUrl`. The worker and the answerers may answer tasks of these machines only.
     */
    stateMachineArns?: pulumi.Input<string>[];
    /**
     * The customer managed key of the `stateMachineArns` machines, when they are encrypted with one: their
     * answerers need it (in each machine's encryption context) to answer. Default: none.
     */
    stateMachineKmsKeyArn?: pulumi.Input<string>;
}
