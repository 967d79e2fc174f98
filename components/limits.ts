/**
 * One source for every number the program, the worker and the policy pack share: AWS's documented
 * limits, the guardrails this project holds every stack to, the relations between settings that live
 * in different resources, and the dated table of Lambda runtimes. Pure data and functions, no Pulumi
 * imports: the policy pack bundles this module too.
 *
 * - The component's argument validation (settings.ts) takes its ranges from here.
 * - The worker's settings (handlers/callback/config.ts) accept what the component can render from here.
 * - The policy pack's thresholds are policy configuration whose defaults come from here. The pack judges
 *   other teams' programs as well, so it may be looser than the program, never stricter: whatever the
 *   program accepts, the pack's mandatory policies accept with their default configuration
 *   (tests/limits.slow-test.ts, in npm run test:package, walks the edges of every range through all three).
 */

/** An inclusive integer range. */
export interface Range {
    readonly min: number;
    readonly max: number;
}

/**
 * AWS service quotas and API limits, each with the page that documents it.
 */
export const AWS_LIMITS = {
    /** A Standard workflow runs up to one year; a task's `TimeoutSeconds` cannot exceed it. https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html */
    stepFunctionsTaskTimeoutSeconds: { min: 1, max: 31_536_000 },
    /** https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
    lambdaTimeoutSeconds: { min: 1, max: 900 },
    /** https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html */
    lambdaMemoryMb: { min: 128, max: 10_240 },
    /** `maxReceiveCount` of a redrive policy. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html */
    sqsMaxReceiveCount: { min: 1, max: 1000 },
    /** `MessageRetentionPeriod`. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html */
    sqsRetentionSeconds: { min: 60, max: 1_209_600 },
    /** `VisibilityTimeout`: 0 to 12 hours. Same page. */
    sqsVisibilityTimeoutSeconds: { min: 0, max: 43_200 },
    /** Event source mapping `BatchSize` for a standard queue. https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html */
    sqsBatchSize: { min: 1, max: 10_000 },
    /** A batch size above this needs a batching window of at least 1 s (same page). */
    sqsBatchSizeWithoutWindow: 10,
    /** `MaximumBatchingWindowInSeconds`. Same page. */
    sqsBatchingWindowSeconds: { min: 0, max: 300 },
    /** `ScalingConfig.MaximumConcurrency`. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html */
    sqsMaximumConcurrency: { min: 2, max: 1000 },
    /** Retention periods CloudWatch Logs accepts, in days. https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html */
    logRetentionDays: [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ],
    /** SQS's default retention when a queue sets none: 4 days. */
    sqsDefaultRetentionSeconds: 345_600,
    /** SQS's default visibility timeout when a queue sets none. */
    sqsDefaultVisibilityTimeoutSeconds: 30,
    /** Lambda's default function timeout when a function sets none. */
    lambdaDefaultTimeoutSeconds: 3,
} as const satisfies Record<string, Range | number | readonly number[]>;

/**
 * Guardrails: ranges narrower than AWS allows, which this project holds its own stacks to and which the
 * policy pack applies by default to every stack.
 */
export const GUARDRAILS = {
    /**
     * Receives before a message moves to the DLQ. At least 2: one transient failure must not dead-letter
     * a task. At most 20: a message that fails 20 times will not succeed, and each receive waits a
     * visibility timeout, so more only delays the alarm on the DLQ.
     */
    maxReceiveCount: { min: 2, max: 20 },
    /**
     * The queue's visibility timeout is at least this many worker timeouts (plus the batching window):
     * AWS recommends six. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
     */
    visibilityTimeoutMultiplier: 6,
    /** Records of one batch the worker processes at once. */
    workerConcurrency: { min: 1, max: 100 },
    /**
     * The worker's Lambda timeout. At least 3 s: the worker keeps the time of one Step Functions call and
     * of returning its batch response in reserve (see {@link WORKER_TIMING}).
     */
    workerTimeoutSeconds: { min: 3, max: AWS_LIMITS.lambdaTimeoutSeconds.max },
    /** A task's `HeartbeatSeconds`: at least 3, so that the worker's interval (a third of it) is a second. */
    heartbeatSeconds: { min: 3, max: AWS_LIMITS.stepFunctionsTaskTimeoutSeconds.max },
} as const;

/**
 * How the worker keeps to its invocation's deadline (`context.getRemainingTimeInMillis()`): every Step
 * Functions call is bounded, no record or call starts when less than the start margin remains, and at
 * the finish margin the worker stops waiting and returns, reporting every record it has not answered.
 */
export const WORKER_TIMING = {
    /** Connecting to Step Functions, at most. */
    connectionTimeoutMs: 1_000,
    /** One attempt of a Step Functions call, at most (the SDK throws past it). */
    callTimeoutMs: { min: 1_000, max: 5_000 },
    /** Kept to return the batch response before Lambda stops the invocation. */
    finishMarginMs: 500,
} as const;

/** The per-attempt call timeout for a worker of `workerTimeoutSeconds`: a quarter of it, 1 to 5 s. */
export function callTimeoutMsFor(workerTimeoutSeconds: number): number {
    const { min, max } = WORKER_TIMING.callTimeoutMs;
    return Math.min(max, Math.max(min, Math.floor((workerTimeoutSeconds * 1000) / 4)));
}

/** No record or Step Functions call starts with less than this left: one call and the finish margin. */
export function startMarginMs(callTimeoutMs: number): number {
    return callTimeoutMs + WORKER_TIMING.finishMarginMs;
}

/**
 * How much longer than its callback task an execution may run before Step Functions times it out: the
 * Notify states' publishes and retries take seconds, so an execution that outlives its task by this
 * much is stuck elsewhere, and the `ExecutionsTimedOut` alarm says so.
 */
export const EXECUTION_GRACE_SECONDS = 300;

/** The execution's own `TimeoutSeconds` for a callback task of `taskTimeoutSeconds`. */
export function executionTimeoutFor(taskTimeoutSeconds: number): number {
    return Math.min(AWS_LIMITS.stepFunctionsTaskTimeoutSeconds.max, taskTimeoutSeconds + EXECUTION_GRACE_SECONDS);
}

/**
 * The age of the oldest message on the work queue past which the queue-age alarm fires: half the time
 * a message may wait for its first receive (the heartbeat timeout when there is one, else the task's
 * timeout), so someone hears that work is waiting before the tasks fail; and no more than half the
 * queue's retention, since no message gets older than that (SQS deletes it).
 */
export function queueAgeAlarmSeconds(
    taskTimeoutSeconds: number,
    heartbeatSeconds: number | undefined,
    queueRetentionSeconds: number = AWS_LIMITS.sqsRetentionSeconds.max,
): number {
    return Math.max(60, Math.floor(Math.min(heartbeatSeconds ?? taskTimeoutSeconds, queueRetentionSeconds) / 2));
}

/** The visibility timeout of a work queue whose worker runs `workerTimeoutSeconds` after a batching window. */
export function visibilityTimeoutFor(workerTimeoutSeconds: number, batchingWindowSeconds: number): number {
    return GUARDRAILS.visibilityTimeoutMultiplier * workerTimeoutSeconds + batchingWindowSeconds;
}

/**
 * Whether a dead-letter queue keeps a message long enough: a standard queue's message keeps its original
 * enqueue time when it moves to the DLQ, so the DLQ must keep messages longer than its source, or as long
 * as SQS allows (when the source already keeps them for SQS's maximum, nothing longer exists).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 */
export function dlqOutlivesQueue(queueRetentionSeconds: number, dlqRetentionSeconds: number): boolean {
    return dlqRetentionSeconds > queueRetentionSeconds || dlqRetentionSeconds >= AWS_LIMITS.sqsRetentionSeconds.max;
}

/**
 * The worker's settings (environment variables the component renders): what it accepts. Every value the
 * component can render lies inside these ranges.
 */
export const WORKER_LIMITS = {
    concurrency: GUARDRAILS.workerConcurrency,
    /**
     * Seconds between heartbeats; 0 turns them off. Never more than the longest Lambda invocation: an
     * interval longer than the invocation can live would never fire.
     */
    heartbeatIntervalSeconds: { min: 0, max: AWS_LIMITS.lambdaTimeoutSeconds.max },
    /** The work queue's `maxReceiveCount`; 0 means unknown. */
    maxReceiveCount: { min: 0, max: AWS_LIMITS.sqsMaxReceiveCount.max },
    /** SDK attempts per call. */
    maxAttempts: { min: 1, max: 10 },
    /** One attempt of a Step Functions call, in milliseconds. */
    callTimeoutMs: WORKER_TIMING.callTimeoutMs,
} as const satisfies Record<string, Range>;

/**
 * The worker's heartbeat interval for a task's `HeartbeatSeconds`: a third of it (so two beats may be
 * lost), and short enough that a processor running as long as an invocation lets it (until the start
 * margin) beats at least twice; 0 (off) without `HeartbeatSeconds`. The worker also beats before a
 * processor starts when the message has waited an interval or more.
 */
export function workerHeartbeatInterval(heartbeatSeconds: number | undefined, workerTimeoutSeconds: number): number {
    if (heartbeatSeconds === undefined) {
        return 0;
    }
    const processorMs = workerTimeoutSeconds * 1000 - startMarginMs(callTimeoutMsFor(workerTimeoutSeconds));
    return Math.max(1, Math.min(Math.floor(heartbeatSeconds / 3), Math.floor(processorMs / 2000)));
}

/** The settings the timing relations are stated over. */
export interface TimingSettings {
    readonly taskTimeoutSeconds: number;
    readonly heartbeatSeconds: number | undefined;
    readonly maxReceiveCount: number;
    readonly workerTimeoutSeconds: number;
    readonly batchingWindowSeconds: number;
}

/** The time between two receives of a message whose receive failed: the visibility timeout, then up to a batching window. */
export function redeliverySeconds(settings: TimingSettings): number {
    return (
        visibilityTimeoutFor(settings.workerTimeoutSeconds, settings.batchingWindowSeconds) +
        settings.batchingWindowSeconds
    );
}

/**
 * The longest a live worker can leave a task without a heartbeat once it has received its message: a
 * message whose receive failed comes back one visibility timeout later, waits up to a batching window
 * for its next invocation, and up to that invocation's timeout for its turn in the batch, and is beaten
 * when its processor starts. (Before the first receive, the time the message waits in the queue counts
 * too: that is the backlog the queue-age alarm watches.)
 */
export function longestHeartbeatGapSeconds(settings: TimingSettings): number {
    return redeliverySeconds(settings) + settings.workerTimeoutSeconds;
}

/**
 * When the last receive's answer lands at the latest, in seconds after the message was sent: the first
 * receive comes at most one `HeartbeatSeconds` after the send (later, the task has failed already), then
 * receive k about (k − 1) redeliveries after the first, and the worker needs one invocation to answer.
 */
export function lastReceiveDoneSeconds(settings: TimingSettings): number {
    return (
        (settings.heartbeatSeconds ?? 0) +
        (settings.maxReceiveCount - 1) * redeliverySeconds(settings) +
        settings.workerTimeoutSeconds
    );
}

/**
 * The timing relations between settings that live in different resources (the task's timeouts in the
 * definition, the queue's visibility and redrive, the worker's timeout and heartbeat interval), each
 * broken one with the numbers. Stated once here; the component's argument validation reports them.
 */
export function timingProblems(settings: TimingSettings): Array<{ key: string; reason: string }> {
    const problems: Array<{ key: string; reason: string }> = [];
    const visibility = visibilityTimeoutFor(settings.workerTimeoutSeconds, settings.batchingWindowSeconds);
    const gap = longestHeartbeatGapSeconds(settings);
    const h = settings.heartbeatSeconds;
    if (h !== undefined && h >= settings.taskTimeoutSeconds) {
        problems.push({
            key: "heartbeatSeconds",
            reason: `must be less than taskTimeoutSeconds (got ${h} >= ${settings.taskTimeoutSeconds}).`,
        });
    } else if (h !== undefined && h <= gap) {
        problems.push({
            key: "heartbeatSeconds",
            reason: `must be greater than the longest a live worker leaves a task without a heartbeat: a redelivered message waits the visibility timeout (${visibility} s = ${GUARDRAILS.visibilityTimeoutMultiplier} × workerTimeoutSeconds ${settings.workerTimeoutSeconds} + batchingWindowSeconds ${settings.batchingWindowSeconds}), a batching window and up to an invocation for its turn, ${gap} s in all (got ${h}).`,
        });
    }
    const needed = lastReceiveDoneSeconds(settings);
    // (A heartbeat not below the timeout is the one problem to report: the room follows once it is.)
    if (settings.taskTimeoutSeconds < needed && !(h !== undefined && h >= settings.taskTimeoutSeconds)) {
        const first = h === undefined ? "" : `heartbeatSeconds ${h} before the first receive + `;
        problems.push({
            key: "taskTimeoutSeconds",
            reason: `must leave room for every receive up to maxReceiveCount, so that the last one can fail the task before it times out: ${first}(maxReceiveCount ${settings.maxReceiveCount} − 1) × ${redeliverySeconds(settings)} s between receives + workerTimeoutSeconds ${settings.workerTimeoutSeconds} = ${needed} s (got ${settings.taskTimeoutSeconds}).`,
        });
    }
    return problems;
}

/**
 * Lambda's managed runtimes with the date each is deprecated (after which AWS stops patching it and
 * later blocks creating and updating functions on it), from
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html (read 2026-12-01; the dates are
 * AWS's projections and move; update this table when they do). The program and the policy pack read
 * the same table; the date they judge by is a parameter, so tests pin it.
 */
export const LAMBDA_RUNTIME_DEPRECATION: Readonly<Record<string, string>> = {
    "nodejs24.x": "2028-04-30",
    "nodejs22.x": "2027-04-30",
    "nodejs20.x": "2026-04-30",
    "nodejs18.x": "2025-09-01",
    "python3.14": "2029-06-30",
    "python3.13": "2029-06-30",
    "python3.12": "2028-10-31",
    "python3.11": "2026-06-30",
    "python3.10": "2026-06-30",
    "python3.9": "2025-12-15",
    java25: "2029-06-30",
    java21: "2029-06-30",
    java17: "2027-06-30",
    java11: "2027-06-30",
    "java8.al2": "2027-06-30",
    dotnet10: "2028-11-14",
    dotnet8: "2026-11-10",
    "ruby3.4": "2028-03-31",
    "ruby3.3": "2027-03-31",
    "ruby3.2": "2026-03-31",
    "provided.al2023": "2029-06-30",
    "provided.al2": "2026-06-30",
};

/** The Node.js runtimes the worker is bundled for, with esbuild's target for each. */
export const NODE_RUNTIME_TARGETS = { "nodejs22.x": "node22", "nodejs24.x": "node24" } as const;
export type LambdaRuntime = keyof typeof NODE_RUNTIME_TARGETS;
/** The worker's runtime unless a stack says otherwise: the newest Node.js runtime Lambda offers. */
export const DEFAULT_LAMBDA_RUNTIME: LambdaRuntime = "nodejs24.x";

/** `date` as YYYY-MM-DD (UTC). */
function day(date: Date): string {
    return date.toISOString().slice(0, 10);
}

/** Whether `runtime` is in AWS's standard support on `today`: listed, and not yet deprecated. */
export function runtimeSupported(runtime: string, today: Date = new Date()): boolean {
    const deprecation = LAMBDA_RUNTIME_DEPRECATION[runtime];
    return deprecation !== undefined && day(today) < deprecation;
}

/** Every runtime of the table in standard support on `today`, in the table's order. */
export function supportedRuntimes(today: Date = new Date()): string[] {
    return Object.keys(LAMBDA_RUNTIME_DEPRECATION).filter((runtime) => runtimeSupported(runtime, today));
}

/** The Node.js runtimes the worker can be deployed on, on `today`. */
export function workerRuntimes(today: Date = new Date()): LambdaRuntime[] {
    return (Object.keys(NODE_RUNTIME_TARGETS) as LambdaRuntime[]).filter((r) => runtimeSupported(r, today));
}
