/**
 * CallbackChannel: where callback tasks wait. A work queue with its dead-letter queue, the worker that
 * consumes it (bundled from the consumer's own entry), its role, trigger and alarms, and the answerers:
 * the roles allowed to answer the channel's tasks on the state machines that use it.
 * `channel.waitForCallback(...)` is the Task state a definition puts anywhere; a `Workflow` using it
 * grants the channel's answerers on its own state machine, and nothing else.
 */
import { existsSync } from "node:fs";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import * as iam from "@pulumi/aws/iam";
import * as lambda from "@pulumi/aws/lambda";
import * as sqs from "@pulumi/aws/sqs";
import * as pulumi from "@pulumi/pulumi";
import type {
    CatchRule,
    JsonataExpression,
    JsonPath,
    PayloadTemplate,
    PayloadValue,
    QueryLanguage,
    RetryRule,
    TaskState,
} from "./asl";
import {
    BUNDLE_HANDLER,
    bundleWorkerOnce,
    programDirectory,
    resolveWorkerEntry,
    WorkerBundleError,
    type WorkerBundle,
} from "./bundle";
import { CALLBACK_MESSAGE_PATHS } from "../handlers/callback/contract";
import { SQS_TRANSIENT_ERRORS, sqsSendMessageAndWait } from "./definition";
import type { AnswerGrant, AnsweringChannel } from "./grants";
import {
    answerStatements,
    assumeRolePolicy,
    channelWorkerStatements,
    denyInsecureTransport,
    renderPolicy,
    SEND_TASK_ACTIONS,
} from "./iam";
import { AWS_LIMITS, callTimeoutMsFor, queueAgeAlarmSeconds, timingProblems, workerHeartbeatInterval } from "./limits";
import { alarmCommon, alarmTopicOf, childOptions, createComponentKey, type ChildOptions } from "./resources";
import {
    argProblems,
    DEFAULT_MESSAGE_TITLE,
    INTEGER_ARGS,
    nameProblems,
    resolveArgs,
    unknownArgProblems,
    type ArgProblem,
    type CallbackWorkflowArgs,
    type ResolvedArgs,
} from "./settings";

/** The component's type token (`<package>:<module>:<type>`); never rename it without an alias. */
export const CALLBACK_CHANNEL_TYPE = "callback:index:CallbackChannel";

/** One of the three actions that answer a task token. */
export type SendTaskAction = (typeof SEND_TASK_ACTIONS)[number];

/** The settings a channel shares with {@link CallbackWorkflowArgs}, documented there. */
export const CHANNEL_SETTINGS = [
    "heartbeatSeconds",
    "maxReceiveCount",
    "workerTimeoutSeconds",
    "workerMemoryMb",
    "workerConcurrency",
    "batchSize",
    "batchingWindowSeconds",
    "maxConcurrency",
    "queueRetentionSeconds",
    "dlqRetentionSeconds",
    "logRetentionDays",
    "runtime",
    "workerLogLevel",
    "kmsKey",
    "alarms",
    "alarmTopicArn",
    "alarmEmails",
    "workerEntry",
    "tags",
] as const satisfies readonly (keyof CallbackWorkflowArgs)[];

/** A role, other than the channel's worker, that answers the channel's tasks. */
export interface ChannelAnswerer {
    /** The IAM role's name (a page's function, an ECS task, a function elsewhere). */
    readonly roleName: pulumi.Input<string>;
    /** What it may do with a task token. Default: all three `SendTask*` actions. */
    readonly actions?: readonly SendTaskAction[];
}

/**
 * Arguments of a {@link CallbackChannel}: the queue, worker and alarm settings of
 * {@link CallbackWorkflowArgs} (same names, defaults and ranges), and who answers its tasks.
 */
export interface CallbackChannelArgs extends Pick<CallbackWorkflowArgs, (typeof CHANNEL_SETTINGS)[number]> {
    /**
     * The worker's entry module (exporting `handler`, from `createCallbackHandler`): absolute, or relative to
     * the Pulumi program's directory (where `Pulumi.yaml` is). Default: the default worker.
     */
    readonly workerEntry?: string;
    /**
     * The beat the channel's tasks expect: the worker heartbeats for it, and a task's `heartbeatSeconds` may
     * not be shorter. Default: no heartbeat (then no task of the channel may set one).
     */
    readonly heartbeatSeconds?: number;
    /**
     * The age of the oldest waiting message past which the queue-age alarm fires: work is waiting and no
     * worker is answering. Default: half the heartbeat, else 1,800 (half of a one-hour task); 60 or more,
     * and less than every task's first deadline (checked by `waitForCallback`).
     */
    readonly queueAgeAlarmSeconds?: number;
    /**
     * What the channel's worker may do with its tasks' tokens. Default: all three `SendTask*` actions. A
     * worker that only hands a task on (to a person, through a page that answers it) needs
     * `["states:SendTaskFailure"]` to fail what it cannot hand on; `[]` for none.
     */
    readonly workerActions?: readonly SendTaskAction[];
    /**
     * Environment variables of the worker, for its processor's own settings. Names the worker itself sets
     * (`CALLBACK_*`, `POWERTOOLS_*`, `NODE_OPTIONS`) and Lambda's reserved ones (`AWS_*`, `LAMBDA_*`,
     * `_HANDLER`, ...) are refused. Default none.
     */
    readonly workerEnvironment?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Roles besides the worker that answer the channel's tasks. Default none. */
    readonly answerers?: readonly ChannelAnswerer[];
    /**
     * State machines outside any `Workflow` whose tasks the channel answers (a machine of another Pulumi
     * language, or an `aws.sfn.StateMachine` of your own): their exact ARNs. A `Workflow` that uses the
     * channel needs no entry here.
     */
    readonly stateMachineArns?: readonly pulumi.Input<string>[];
    /**
     * The customer managed key of the `stateMachineArns` machines, when they are encrypted with one: their
     * answerers need it (in each machine's encryption context) to answer. Default: none.
     */
    readonly stateMachineKmsKeyArn?: pulumi.Input<string>;
}

/** The argument names a channel takes. */
export const CHANNEL_ARG_KEYS: readonly string[] = [
    ...CHANNEL_SETTINGS,
    "queueAgeAlarmSeconds",
    "workerEnvironment",
    "workerActions",
    "answerers",
    "stateMachineArns",
    "stateMachineKmsKeyArn",
];

/** Options of {@link CallbackChannel.waitForCallback}: the Task state, in the terms of Step Functions. */
export type WaitForCallbackOptions = {
    /**
     * `TimeoutSeconds`: how long the task waits for its answer before failing with `States.Timeout`. Must
     * leave room for every receive up to the channel's `maxReceiveCount` (checked).
     */
    readonly timeoutSeconds: number;
    /**
     * `HeartbeatSeconds`: the task fails with `States.HeartbeatTimeout` without a beat for this long.
     * Default: the channel's `heartbeatSeconds`; never shorter than it.
     */
    readonly heartbeatSeconds?: number;
    /**
     * The state's query language. Default `JSONPath`. `JSONata` renders `Arguments` with the token as
     * `{% $states.context.Task.Token %}`, and takes `output` and `assign` instead of `resultPath` and
     * `resultSelector`; the state names its language, so it fits a machine of either.
     */
    readonly queryLanguage?: QueryLanguage;
    /**
     * What the worker receives as the message's `Input`. JSONPath: a path into the state (default `$`, the
     * whole state input) or a payload template (`{"orderId.$": "$.order.id", "kind": "credit"}`). JSONata:
     * an expression (default `{% $states.input %}`) or a template whose strings may be expressions.
     */
    readonly input?: JsonPath | `States.${string}` | JsonataExpression | PayloadTemplate;
    /** JSONata only: the state's `Output` (default: the worker's output). */
    readonly output?: PayloadValue;
    /** `Assign`: workflow variables set from the worker's output. */
    readonly assign?: PayloadTemplate;
    /** The message's `MessageTitle`. Default: the channel's default title. */
    readonly messageTitle?: string;
    /** Where the worker's output goes in the state (`ResultPath`). Default `$` (replaces the input); `null` keeps the input. */
    readonly resultPath?: JsonPath | null;
    /** `ResultSelector`: a template over the worker's output. */
    readonly resultSelector?: PayloadTemplate;
    /** `Retry`. Default: the SQS integration's transient errors, three times with jitter. */
    readonly retry?: readonly RetryRule[];
    /** `Catch`. */
    readonly catch?: readonly CatchRule[];
    readonly comment?: string;
} & ({ readonly next: string; readonly end?: never } | { readonly end: true; readonly next?: never });

/** The option names of `waitForCallback`. */
const WAIT_FOR_CALLBACK_KEYS: readonly string[] = [
    "timeoutSeconds",
    "heartbeatSeconds",
    "queryLanguage",
    "input",
    "output",
    "assign",
    "messageTitle",
    "resultPath",
    "resultSelector",
    "retry",
    "catch",
    "comment",
    "next",
    "end",
];

/** A `waitForCallback` the channel cannot honour, every problem listed. */
export class CallbackTaskError extends pulumi.RunError {
    constructor(
        public readonly problems: readonly ArgProblem[],
        channel: string,
        approval = false,
    ) {
        super(
            `Invalid ${approval ? "waitForApproval on ApprovalChannel" : "waitForCallback on CallbackChannel"} "${channel}":\n${problems.map((p) => `- \`${p.key}\` ${p.reason}`).join("\n")}`,
        );
        this.name = "CallbackTaskError";
    }
}

/**
 * Environment variables a channel's worker may not be given: those the worker sets, and those Lambda
 * reserves (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
const RESERVED_ENVIRONMENT =
    /^(CALLBACK_\w*|POWERTOOLS_SERVICE_NAME|POWERTOOLS_LOG_LEVEL|NODE_OPTIONS|_HANDLER|_X_AMZN_TRACE_ID|AWS_DEFAULT_REGION|AWS_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_FUNCTION_NAME|AWS_LAMBDA_FUNCTION_MEMORY_SIZE|AWS_LAMBDA_FUNCTION_VERSION|AWS_LAMBDA_INITIALIZATION_TYPE|AWS_LAMBDA_LOG_GROUP_NAME|AWS_LAMBDA_LOG_STREAM_NAME|AWS_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_LAMBDA_RUNTIME_API|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR|TZ)$/;

/** Internal: the worker's bundle, made by the component that owns the channel (ApprovalChannel's requester). */
export const WORKER_BUNDLE: unique symbol = Symbol("workerBundle") as never;
export type WithWorkerBundle<T> = T & { readonly [WORKER_BUNDLE]?: WorkerBundle };

/** Internal: what a component built on a channel adds to its callback tasks' messages (ApprovalChannel). */
export const CALLBACK_TASK: unique symbol = Symbol("callbackTask") as never;
export interface TaskMessageExtension {
    /** Fields added to the message body (`Approval`), rendered in the state's query language. */
    readonly body: PayloadTemplate;
    /** Whether the message carries the state's input as `Input` (default true). */
    readonly input: boolean;
    /** The option names the task takes besides the callback's (checked as unknown otherwise). */
    readonly keys: readonly string[];
    /** The component's name, for errors. */
    readonly owner: string;
}

/** Internal: a component's children that moved here keep their URNs (CallbackWorkflow uses it). */
export const MOVED_FROM: unique symbol = Symbol("movedFrom") as never;
export type WithMovedFrom<T> = T & { readonly [MOVED_FROM]?: pulumi.Resource };

/**
 * The worker's problems: its entry must be a file that exists and bundles, reported with the other
 * arguments' problems before anything is registered. Bundled once per process (`bundleWorkerOnce`).
 */
export function workerProblems(
    args: Pick<CallbackChannelArgs, "workerEntry" | "runtime">,
    others: readonly ArgProblem[] = [],
): { problems: ArgProblem[]; bundle?: WorkerBundle } {
    const problems: ArgProblem[] = [];
    if (args.workerEntry !== undefined && typeof args.workerEntry !== "string") {
        return {
            problems: [{ key: "workerEntry", reason: `must be a path (got ${JSON.stringify(args.workerEntry)}).` }],
        };
    }
    const { entry, root } = resolveWorkerEntry(args.workerEntry);
    if (args.workerEntry !== undefined && !existsSync(entry)) {
        problems.push({
            key: "workerEntry",
            reason: `must name the worker's module: ${entry} does not exist (${JSON.stringify(args.workerEntry)}, resolved from the program's directory ${programDirectory()}).`,
        });
        return { problems };
    }
    if (others.some((p) => p.key === "runtime")) {
        return { problems };
    }
    try {
        return {
            problems,
            bundle: bundleWorkerOnce({ entry, root, ...(args.runtime ? { runtime: args.runtime } : {}) }),
        };
    } catch (error) {
        problems.push({
            key: "workerEntry",
            reason: `must be a module esbuild can bundle for Lambda: ${error instanceof WorkerBundleError ? error.reasons.join("; ") : String(error)} (got ${JSON.stringify(args.workerEntry ?? entry)}).`,
        });
        return { problems };
    }
}

function validateChannel(name: string, args: CallbackChannelArgs): { settings: ResolvedArgs; bundle: WorkerBundle } {
    const problems: ArgProblem[] = [
        ...nameProblems(name),
        ...unknownArgProblems(args, CHANNEL_ARG_KEYS),
        ...argProblems(args, undefined, "channel"),
    ];
    const age = args.queueAgeAlarmSeconds;
    const retention = args.queueRetentionSeconds ?? INTEGER_ARGS.queueRetentionSeconds.default;
    if (age !== undefined && (!Number.isInteger(age) || age < 60 || age > retention)) {
        problems.push({
            key: "queueAgeAlarmSeconds",
            reason: `must be an integer from 60 to queueRetentionSeconds ${retention}: no message gets older, SQS deletes it (got ${JSON.stringify(age)}).`,
        });
    }
    // Shapes first: a JavaScript or YAML caller may give anything, and every problem is reported at once.
    const lists = { answerers: args.answerers, stateMachineArns: args.stateMachineArns } as const;
    for (const [key, value] of Object.entries(lists)) {
        if (value !== undefined && !Array.isArray(value)) {
            problems.push({ key, reason: `must be a list (got ${JSON.stringify(value)}).` });
        }
    }
    const answerers = Array.isArray(args.answerers) ? args.answerers : [];
    for (const [key, actions, required] of [
        ["workerActions", args.workerActions as unknown, false],
        ...answerers.map((a, i) => [`answerers[${i}].actions`, (a as ChannelAnswerer | null)?.actions, true] as const),
    ] as const) {
        if (actions === undefined) {
            continue;
        }
        const valid =
            Array.isArray(actions) &&
            actions.every((a) => (SEND_TASK_ACTIONS as readonly unknown[]).includes(a)) &&
            (!required || actions.length > 0);
        if (!valid) {
            problems.push({
                key,
                reason: `must list ${required ? "one or more of" : "only"} ${SEND_TASK_ACTIONS.join(", ")} (got ${JSON.stringify(actions)}).`,
            });
        }
    }
    // The worker beats only if it may: a heartbeat it cannot send fails every long task.
    const workerActions = Array.isArray(args.workerActions) ? args.workerActions : SEND_TASK_ACTIONS;
    if (args.heartbeatSeconds !== undefined && !workerActions.includes("states:SendTaskHeartbeat")) {
        problems.push({
            key: "heartbeatSeconds",
            reason: `needs states:SendTaskHeartbeat in workerActions: the worker could not beat, and its tasks would fail with States.HeartbeatTimeout (got workerActions ${JSON.stringify(args.workerActions)}).`,
        });
    }
    for (const name of Object.keys(args.workerEnvironment ?? {})) {
        if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || RESERVED_ENVIRONMENT.test(name)) {
            problems.push({
                key: `workerEnvironment.${name}`,
                reason: "must be a name of letters, digits and underscores that neither the worker (CALLBACK_*, POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, NODE_OPTIONS) nor Lambda (its reserved variables: _HANDLER, AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, ...) sets.",
            });
        }
    }
    answerers.forEach((answerer, index) => {
        const roleName = (answerer as ChannelAnswerer | null)?.roleName;
        if (typeof answerer !== "object" || answerer === null || roleName === undefined || roleName === null) {
            problems.push({
                key: `answerers[${index}]`,
                reason: `must be {roleName, actions?} (got ${JSON.stringify(answerer)}).`,
            });
        } else if (typeof roleName === "string" && !/^[\w+=,.@-]{1,64}$/.test(roleName)) {
            problems.push({
                key: `answerers[${index}].roleName`,
                reason: `must be an IAM role's name, 1 to 64 of letters, digits and +=,.@_-${roleName.startsWith("arn:") ? `, not its ARN: use ${JSON.stringify(roleName.split("/").pop())}` : ""} (got ${JSON.stringify(roleName)}).`,
            });
        }
    });
    (Array.isArray(args.stateMachineArns) ? args.stateMachineArns : []).forEach((arn, index) => {
        if (typeof arn === "string" && !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:*?]+$/.test(arn)) {
            problems.push({
                key: `stateMachineArns[${index}]`,
                reason: `must be a state machine's exact ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>), no wildcard: answers are granted on exactly it (got ${JSON.stringify(arn)}).`,
            });
        }
    });
    const given = (args as WithWorkerBundle<CallbackChannelArgs>)[WORKER_BUNDLE];
    const worker = given !== undefined ? { problems: [], bundle: given } : workerProblems(args, problems);
    problems.push(...worker.problems);
    const bundle = worker.bundle;
    if (problems.length > 0 || bundle === undefined) {
        throw new pulumi.InputPropertiesError({
            message: `Invalid arguments for CallbackChannel "${name}":\n${problems.map((p) => `- \`${p.key}\` ${p.reason}`).join("\n")}`,
            errors: problems.map((p) => ({ propertyPath: p.key, reason: p.reason })),
        });
    }
    return { settings: resolveArgs(args), bundle };
}

export class CallbackChannel extends pulumi.ComponentResource implements AnsweringChannel {
    public readonly channelName: string;
    public readonly queueUrl: pulumi.Output<string>;
    public readonly queueArn: pulumi.Output<string>;
    public readonly dlqUrl: pulumi.Output<string>;
    public readonly dlqArn: pulumi.Output<string>;
    public readonly workerName: pulumi.Output<string>;
    public readonly workerArn: pulumi.Output<string>;
    /** The worker's role, for grants of your own (a table the worker writes, a secret it reads). */
    public readonly workerRoleName: pulumi.Output<string>;
    public readonly workerRoleArn: pulumi.Output<string>;
    public readonly workerLogGroupName: pulumi.Output<string>;
    /** Where the channel's alarms go; undefined when alarms are off. */
    public readonly alarmTopicArn: pulumi.Output<string> | undefined;
    /** The customer managed key of the queues and the worker's logs, when there is one. */
    public readonly kmsKeyArn: pulumi.Output<string> | undefined;

    private readonly settings: ResolvedArgs;
    private readonly keyArn: pulumi.Input<string> | undefined;
    private readonly ageAlarmSeconds: number;
    private readonly answerers: readonly { roleName: pulumi.Input<string>; actions: readonly SendTaskAction[] }[];

    constructor(name: string, args: CallbackChannelArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        // Validated (and the worker bundled) before anything is registered: a bad argument leaves nothing behind.
        const { settings, bundle } = validateChannel(name, args);
        super(CALLBACK_CHANNEL_TYPE, name, {}, opts);
        this.channelName = name;
        this.settings = settings;
        const movedFrom = (args as WithMovedFrom<CallbackChannelArgs>)[MOVED_FROM];
        const where: ChildOptions = { parent: this, ...(movedFrom !== undefined ? { movedFrom } : {}) };
        const child = (extra: pulumi.CustomResourceOptions = {}) => childOptions(where, extra);
        // Moved in from a CallbackWorkflow, the resources keep that component's tags.
        const tags = movedFrom !== undefined ? { ...settings.tags } : { ...settings.tags, "callback-channel": name };
        const partition = getPartitionOutput({}, { parent: this }).partition;
        const accountId = getCallerIdentityOutput({}, { parent: this }).accountId;

        const key =
            settings.kmsKey === "create"
                ? createComponentKey(
                      name,
                      `Encrypts the queues, worker logs and alarm topic of callback channel ${name}.`,
                      where,
                      { partition, accountId },
                      tags,
                  )
                : undefined;
        const kmsKeyArn: pulumi.Input<string> | undefined = key?.arn ?? settings.kmsKey;
        this.keyArn = kmsKeyArn;
        const queueEncryption =
            kmsKeyArn !== undefined
                ? { kmsMasterKeyId: kmsKeyArn, kmsDataKeyReusePeriodSeconds: 300 }
                : { sqsManagedSseEnabled: true };

        // Queues: the DLQ outlives the work queue; the work queue's visibility covers 6 worker timeouts.
        const dlq = new sqs.Queue(
            `${name}-dlq`,
            { ...queueEncryption, messageRetentionSeconds: settings.dlqRetentionSeconds, tags },
            child(),
        );
        const queue = new sqs.Queue(
            `${name}-queue`,
            {
                ...queueEncryption,
                visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
                messageRetentionSeconds: settings.queueRetentionSeconds,
                redrivePolicy: pulumi.jsonStringify({
                    deadLetterTargetArn: dlq.arn,
                    maxReceiveCount: settings.maxReceiveCount,
                }),
                tags,
            },
            child(),
        );
        new sqs.RedriveAllowPolicy(
            `${name}-dlq-redrive-allow`,
            {
                queueUrl: dlq.url,
                redriveAllowPolicy: pulumi.jsonStringify({
                    redrivePermission: "byQueue",
                    sourceQueueArns: [queue.arn],
                }),
            },
            child(),
        );
        for (const [suffix, q] of [
            ["queue", queue],
            ["dlq", dlq],
        ] as const) {
            new sqs.QueuePolicy(
                `${name}-${suffix}-policy`,
                { queueUrl: q.url, policy: renderPolicy([denyInsecureTransport(q.arn, "sqs:*")]) },
                child(),
            );
        }

        const workerLogs = new cloudwatch.LogGroup(
            `${name}-worker-logs`,
            {
                namePrefix: `/aws/lambda/${name}-worker-`,
                retentionInDays: settings.logRetentionDays,
                ...(kmsKeyArn !== undefined ? { kmsKeyId: kmsKeyArn } : {}),
                tags,
            },
            child(),
        );

        // Worker: its own role, scoped to its queue and its log group; answering is granted per state machine.
        const workerRole = new iam.Role(
            `${name}-worker-role`,
            { assumeRolePolicy: pulumi.jsonStringify(assumeRolePolicy("lambda.amazonaws.com", accountId)), tags },
            child(),
        );
        const workerPolicy = new iam.RolePolicy(
            `${name}-worker-policy`,
            {
                role: workerRole.id,
                policy: renderPolicy(
                    channelWorkerStatements({
                        queueArn: queue.arn,
                        logGroupArn: workerLogs.arn,
                        ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}),
                    }),
                ),
            },
            child(),
        );
        const worker = new lambda.Function(
            `${name}-worker`,
            {
                runtime: settings.runtime,
                architectures: ["arm64"],
                handler: BUNDLE_HANDLER,
                code: new pulumi.asset.AssetArchive(
                    Object.fromEntries(
                        [...bundle.files].map(([file, text]) => [file, new pulumi.asset.StringAsset(text)]),
                    ),
                ),
                role: workerRole.arn,
                memorySize: settings.workerMemoryMb,
                timeout: settings.workerTimeoutSeconds,
                loggingConfig: { logFormat: "Text", logGroup: workerLogs.name },
                environment: {
                    variables: {
                        ...args.workerEnvironment,
                        // Readable stack traces. Free on Node 24, which loads source maps lazily; on Node
                        // 22 they cost 15 ms and 7 MiB per cold start (npm run bench), so not there.
                        ...(settings.runtime === "nodejs24.x" ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
                        POWERTOOLS_SERVICE_NAME: name,
                        POWERTOOLS_LOG_LEVEL: settings.workerLogLevel,
                        CALLBACK_CONCURRENCY: String(settings.workerConcurrency),
                        CALLBACK_HEARTBEAT_SECONDS: String(
                            workerHeartbeatInterval(settings.heartbeatSeconds, settings.workerTimeoutSeconds),
                        ),
                        CALLBACK_CALL_TIMEOUT_MS: String(callTimeoutMsFor(settings.workerTimeoutSeconds)),
                        CALLBACK_MAX_RECEIVE_COUNT: String(settings.maxReceiveCount),
                    },
                },
                tags,
            },
            child({ dependsOn: [workerPolicy] }),
        );
        new lambda.EventSourceMapping(
            `${name}-trigger`,
            {
                eventSourceArn: queue.arn,
                functionName: worker.arn,
                batchSize: settings.batchSize,
                maximumBatchingWindowInSeconds: settings.batchingWindowSeconds,
                functionResponseTypes: ["ReportBatchItemFailures"],
                scalingConfig: { maximumConcurrency: settings.maxConcurrency },
                tags,
            },
            // The worker must be able to consume and log before it receives the first message.
            child({ dependsOn: [workerPolicy] }),
        );

        this.answerers = [
            ...((args.workerActions ?? SEND_TASK_ACTIONS).length > 0
                ? [{ roleName: workerRole.name, actions: args.workerActions ?? SEND_TASK_ACTIONS }]
                : []),
            ...(args.answerers ?? []).map((a) => ({ roleName: a.roleName, actions: a.actions ?? SEND_TASK_ACTIONS })),
        ];
        if ((args.stateMachineArns ?? []).length > 0) {
            this.grantRoles(`${name}-external`, args.stateMachineArns ?? [], args.stateMachineKmsKeyArn, child());
        }

        // Alarms: the DLQ is only useful if someone is told; so is work that waits with no worker answering.
        this.ageAlarmSeconds =
            args.queueAgeAlarmSeconds ??
            queueAgeAlarmSeconds(
                INTEGER_ARGS.taskTimeoutSeconds.default,
                settings.heartbeatSeconds,
                settings.queueRetentionSeconds,
            );
        const alarmTopicArn = alarmTopicOf(name, where, settings, { kmsKeyArn, partition, accountId, tags });
        if (alarmTopicArn !== undefined) {
            const common = alarmCommon(alarmTopicArn, tags);
            new cloudwatch.MetricAlarm(
                `${name}-dlq-not-empty`,
                {
                    ...common,
                    alarmDescription: `Messages in the dead-letter queue of callback channel ${name}: tasks that no worker could answer.`,
                    namespace: "AWS/SQS",
                    metricName: "ApproximateNumberOfMessagesVisible",
                    dimensions: { QueueName: dlq.name },
                    statistic: "Maximum",
                },
                child(),
            );
            new cloudwatch.MetricAlarm(
                `${name}-queue-oldest-message`,
                {
                    ...common,
                    threshold: this.ageAlarmSeconds,
                    alarmDescription: `The oldest task message of callback channel ${name} has waited over ${this.ageAlarmSeconds} s: work is waiting and no worker is answering${settings.heartbeatSeconds !== undefined ? `; its tasks fail after ${settings.heartbeatSeconds} s without a heartbeat` : ""}.`,
                    namespace: "AWS/SQS",
                    metricName: "ApproximateAgeOfOldestMessage",
                    dimensions: { QueueName: queue.name },
                    statistic: "Maximum",
                },
                child(),
            );
        }

        this.queueUrl = queue.url;
        this.queueArn = queue.arn;
        this.dlqUrl = dlq.url;
        this.dlqArn = dlq.arn;
        this.workerName = worker.name;
        this.workerArn = worker.arn;
        this.workerRoleName = workerRole.name;
        this.workerRoleArn = workerRole.arn;
        this.workerLogGroupName = workerLogs.name;
        this.alarmTopicArn = alarmTopicArn;
        this.kmsKeyArn = key?.arn ?? (kmsKeyArn !== undefined ? pulumi.output(kmsKeyArn) : undefined);
        this.registerOutputs({
            queueUrl: this.queueUrl,
            queueArn: this.queueArn,
            dlqUrl: this.dlqUrl,
            dlqArn: this.dlqArn,
            workerName: this.workerName,
            workerArn: this.workerArn,
            workerRoleName: this.workerRoleName,
            workerRoleArn: this.workerRoleArn,
            workerLogGroupName: this.workerLogGroupName,
            alarmTopicArn: this.alarmTopicArn,
            kmsKeyArn: this.kmsKeyArn,
        });
    }

    /**
     * A Task state that sends a message carrying the task token to this channel's queue and waits for the
     * answer (`arn:<partition>:states:::sqs:sendMessage.waitForTaskToken`). The message is the worker
     * SDK's `CallbackMessage`. The state carries what the state machine's role needs (`sqs:SendMessage`
     * on the queue, and its key when it has one); a `Workflow` using it also grants the channel's
     * answerers on its state machine. Throws {@link CallbackTaskError} when the timing cannot hold.
     */
    public waitForCallback(options: WaitForCallbackOptions): TaskState {
        return this[CALLBACK_TASK](options);
    }

    /** Internal: {@link waitForCallback}, with what a component built on the channel adds to the message. */
    public [CALLBACK_TASK](options: WaitForCallbackOptions, extension?: TaskMessageExtension): TaskState {
        const heartbeatSeconds = options.heartbeatSeconds ?? this.settings.heartbeatSeconds;
        const problems = this.callbackProblems(options, heartbeatSeconds, extension?.keys ?? []);
        if (problems.length > 0) {
            throw new CallbackTaskError(problems, extension?.owner ?? this.channelName, extension !== undefined);
        }
        const jsonata = options.queryLanguage === "JSONata";
        const input = options.input ?? (jsonata ? "{% $states.input %}" : "$");
        // The contract's fields from the context object: `$$.Task.Token` in JSONPath, `$states.context.Task.Token` in JSONata.
        const context = Object.entries(CALLBACK_MESSAGE_PATHS).filter(([field]) => field !== "Input");
        return sqsSendMessageAndWait({
            queueUrl: this.queueUrl,
            queueArn: this.queueArn,
            ...(this.keyArn !== undefined ? { kmsKeyArn: this.keyArn } : {}),
            messageBody: {
                MessageTitle: options.messageTitle ?? DEFAULT_MESSAGE_TITLE,
                ...Object.fromEntries(
                    context.map(([field, path]) =>
                        jsonata ? [field, `{% $states.context.${path.slice(3)} %}`] : [`${field}.$`, path],
                    ),
                ),
                ...(extension?.input === false
                    ? {}
                    : typeof input === "string" && !jsonata
                      ? { "Input.$": input }
                      : { Input: input }),
                ...extension?.body,
            },
            ...(jsonata ? { queryLanguage: "JSONata" as const } : {}),
            ...(options.output !== undefined ? { output: options.output } : {}),
            ...(options.assign !== undefined ? { assign: options.assign } : {}),
            timeoutSeconds: options.timeoutSeconds,
            ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
            resultPath: options.resultPath === undefined ? "$" : options.resultPath,
            ...(options.resultSelector !== undefined ? { resultSelector: options.resultSelector } : {}),
            retry: options.retry ?? [
                {
                    ErrorEquals: [...SQS_TRANSIENT_ERRORS],
                    IntervalSeconds: 1,
                    MaxAttempts: 3,
                    BackoffRate: 2,
                    JitterStrategy: "FULL",
                },
            ],
            ...(options.catch !== undefined ? { catch: options.catch } : {}),
            ...(options.comment !== undefined ? { comment: options.comment } : {}),
            transition: options.end === true ? { End: true } : { Next: options.next },
            answeredBy: this,
        }).state;
    }

    /** The problems of a callback task on this channel: its numbers against the channel's. */
    private callbackProblems(
        options: WaitForCallbackOptions,
        heartbeatSeconds: number | undefined,
        extraKeys: readonly string[],
    ): ArgProblem[] {
        const problems: ArgProblem[] = unknownArgProblems(options, [...WAIT_FOR_CALLBACK_KEYS, ...extraKeys]);
        if ((options.next === undefined) === (options.end !== true)) {
            problems.push({
                key: "next",
                reason: `or \`end: true\`, exactly one: where the execution goes after the callback (got next ${JSON.stringify(options.next)}, end ${JSON.stringify(options.end)}).`,
            });
        }
        const h = options.heartbeatSeconds;
        if (h !== undefined && (typeof h !== "number" || !Number.isInteger(h) || h < 1)) {
            problems.push({
                key: "heartbeatSeconds",
                reason: `must be a positive integer (got ${JSON.stringify(h)}).`,
            });
            return problems;
        }
        const language = options.queryLanguage ?? "JSONPath";
        if (language !== "JSONPath" && language !== "JSONata") {
            problems.push({
                key: "queryLanguage",
                reason: `must be JSONPath or JSONata (got ${JSON.stringify(language)}).`,
            });
        }
        const foreign =
            language === "JSONata"
                ? (["resultPath", "resultSelector"] as const).filter((k) => options[k] !== undefined)
                : (["output"] as const).filter((k) => options[k] !== undefined);
        for (const key of foreign) {
            problems.push({
                key,
                reason: `is a ${language === "JSONata" ? "JSONPath" : "JSONata"} field: a ${language} state ${language === "JSONata" ? "shapes its result with output and assign" : "takes resultPath and resultSelector"} (got ${JSON.stringify(options[key])}).`,
            });
        }
        if (
            typeof options.input === "string" &&
            (language === "JSONata"
                ? !/^\{%[\s\S]*%\}$/.test(options.input)
                : !options.input.startsWith("$") && !/^States\.[A-Za-z]+\(/.test(options.input))
        ) {
            problems.push({
                key: "input",
                reason: `must be ${language === "JSONata" ? "a JSONata expression {% ... %}" : 'a path starting with "$", an intrinsic function (States.Format(...))'} or a payload template (got ${JSON.stringify(options.input)}).`,
            });
        }
        const { min, max } = AWS_LIMITS.stepFunctionsTaskTimeoutSeconds;
        const t = options.timeoutSeconds;
        if (typeof t !== "number" || !Number.isInteger(t) || t < min || t > max) {
            problems.push({
                key: "timeoutSeconds",
                reason: `must be an integer from ${min} to ${max} (got ${JSON.stringify(t)}).`,
            });
            return problems;
        }
        const beat = this.settings.heartbeatSeconds;
        if (options.heartbeatSeconds !== undefined && beat === undefined) {
            problems.push({
                key: "heartbeatSeconds",
                reason: `cannot be set: the channel's worker sends no heartbeats (its heartbeatSeconds is unset), so the task would fail after ${options.heartbeatSeconds} s. Set heartbeatSeconds on the channel (got ${options.heartbeatSeconds}).`,
            });
            return problems;
        }
        if (options.heartbeatSeconds !== undefined && beat !== undefined && options.heartbeatSeconds < beat) {
            problems.push({
                key: "heartbeatSeconds",
                reason: `must be at least the channel's heartbeatSeconds ${beat}: its worker beats for that (got ${options.heartbeatSeconds}).`,
            });
        }
        for (const problem of timingProblems({
            taskTimeoutSeconds: t,
            heartbeatSeconds,
            maxReceiveCount: this.settings.maxReceiveCount,
            workerTimeoutSeconds: this.settings.workerTimeoutSeconds,
            batchingWindowSeconds: this.settings.batchingWindowSeconds,
        })) {
            problems.push({
                key: problem.key === "taskTimeoutSeconds" ? "timeoutSeconds" : problem.key,
                reason: problem.reason,
            });
        }
        const firstDeadline = heartbeatSeconds ?? t;
        if (this.settings.alarms && this.ageAlarmSeconds >= firstDeadline) {
            problems.push({
                key: heartbeatSeconds !== undefined ? "heartbeatSeconds" : "timeoutSeconds",
                reason: `must exceed the channel's queue-age alarm (${this.ageAlarmSeconds} s), or the alarm fires only after the task has failed: set the channel's queueAgeAlarmSeconds below ${firstDeadline} (got ${firstDeadline}).`,
            });
        }
        return problems;
    }

    /** Grants every answerer of the channel on a state machine (see `AnsweringChannel`). */
    public grantAnswers(grant: AnswerGrant): void {
        // "." is in neither name's alphabet: workflow "w" with channel "x-y" and "w-x" with "y" stay apart.
        const base = grant.scopeName === this.channelName ? grant.scopeName : `${grant.scopeName}.${this.channelName}`;
        this.grantRoles(base, [grant.stateMachineArn], grant.kmsKeyArn, { parent: grant.scope, ...grant.opts });
    }

    private grantRoles(
        base: string,
        stateMachineArns: readonly pulumi.Input<string>[],
        kmsKeyArn: pulumi.Input<string> | undefined,
        opts: pulumi.CustomResourceOptions,
    ): void {
        this.answerers.forEach((answerer, index) => {
            new iam.RolePolicy(
                index === 0 ? `${base}-answer` : `${base}-answer-${index}`,
                {
                    role: answerer.roleName,
                    policy: renderPolicy(
                        answerStatements({
                            actions: answerer.actions,
                            stateMachineArns,
                            ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}),
                        }),
                    ),
                },
                opts,
            );
        });
    }
}
