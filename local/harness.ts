/**
 * The repository's own stack, offline: what `npm start` runs. A local harness, not a production runtime:
 * production runs on AWS.
 *
 * The program (build/index.js) runs under the mocked runtime with a stack's validated configuration
 * (the same code path as `pulumi up`), and the harness runs what it registered: the state machine's
 * definition, the queue's redrive and visibility, and the worker's code as the program bundled it
 * (the stack's `workerEntry`, or the default worker), with its environment (engine.ts).
 */
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import { CONFIG_NAMESPACE } from "../components/config";
import { LocalHarness, type Faults, type TraceEvent } from "./engine";
import { evaluateProgram, readProgram, type LocalProgram } from "./program";
import { ofType, resource, type ProgramRun } from "./pulumi-program";
import type { InMemoryQueue } from "./queue";
import { stackConfig } from "./stack-config";

export {
    runnableDefinition,
    type Execution,
    type ExecutionStatus,
    type SnsMessage,
    type StateFailure,
    type TraceEvent,
} from "./engine";

export interface RenderedStack {
    readonly stack: string;
    readonly definition: Record<string, unknown>;
    readonly stateMachineArn: string;
    readonly queueArn: string;
    readonly maxReceiveCount: number;
    readonly batchSize: number;
    readonly workerEnvironment: Record<string, string>;
    /** The work queue's visibility timeout, as rendered. */
    readonly visibilityTimeoutSeconds: number;
    /** The worker's Lambda timeout, as rendered. */
    readonly workerTimeoutSeconds: number;
    /** The stack's `workerEntry`; undefined for the default worker. */
    readonly workerEntry: string | undefined;
    /** Everything the harness runs, as the program registered it. */
    readonly program: LocalProgram;
    /** The approval channel's resources, when the stack has approvers. */
    readonly approval: RenderedApproval | undefined;
}

/** An approval channel as the program registered it: what the local approval scenario serves. */
export interface RenderedApproval {
    readonly approvers: readonly string[];
    /** The approvals table's name and partition key. */
    readonly tableName: string;
    readonly partitionKey: string;
    /** The link-signing key ring's secret (created without a value: the requester puts the first ring). */
    readonly secretName: string;
    readonly secretArn: string;
    /** The approvers' topic and its email subscriptions, each with its filter policy. */
    readonly topicArn: string;
    readonly subscriptions: ReadonlyArray<{ readonly endpoint: string; readonly filterPolicy: string | undefined }>;
    /** The page function's environment. */
    readonly pageEnvironment: Readonly<Record<string, string>>;
}

/** The approval channel of the stack's program (its resources are `callback-*`), if it has one. */
function renderedApproval(run: ProgramRun, approvers: readonly string[]): RenderedApproval | undefined {
    if (approvers.length === 0) {
        return undefined;
    }
    const table = resource(run, "aws:dynamodb/table:Table", "callback-approvals");
    const secret = resource(run, "aws:secretsmanager/secret:Secret", "callback-link-keys");
    const topic = resource(run, "aws:sns/topic:Topic", "callback-approvers");
    const page = resource(run, "aws:lambda/function:Function", "callback-page");
    const topicArn = topic.outputs["arn"] as string;
    return {
        approvers,
        tableName: table.outputs["name"] as string,
        partitionKey: table.inputs["hashKey"] as string,
        secretName: secret.outputs["name"] as string,
        secretArn: secret.outputs["arn"] as string,
        topicArn,
        subscriptions: ofType(run, "aws:sns/topicSubscription:TopicSubscription")
            .filter((s) => s.inputs["topic"] === topicArn && s.inputs["protocol"] === "email")
            .map((s) => ({
                endpoint: s.inputs["endpoint"] as string,
                filterPolicy: s.inputs["filterPolicy"] as string | undefined,
            })),
        pageEnvironment: (page.inputs["environment"] as { variables: Record<string, string> }).variables,
    };
}

/**
 * Renders a stack (default dev) under the mocked runtime and takes from it what the harness runs.
 * `config` overrides keys of the stack config (e.g. a short `taskTimeoutSeconds`).
 */
export async function renderStack(
    stack = "dev",
    config: Record<string, string | undefined> = {},
): Promise<RenderedStack> {
    const merged: Record<string, string> = { ...stackConfig(stack) };
    for (const [key, value] of Object.entries(config)) {
        const full = `${CONFIG_NAMESPACE}:${key}`;
        if (value === undefined) {
            delete merged[full];
        } else {
            merged[full] = value;
        }
    }
    const run: ProgramRun = await evaluateProgram(path.join(REPO_ROOT, "build", "index.js"), { stack, config: merged });
    const machine = resource(run, "aws:sfn/stateMachine:StateMachine", "callback-state-machine");
    const queue = resource(run, "aws:sqs/queue:Queue", "callback-queue");
    const worker = resource(run, "aws:lambda/function:Function", "callback-worker");
    const trigger = resource(run, "aws:lambda/eventSourceMapping:EventSourceMapping", "callback-trigger");
    const redrive = JSON.parse(queue.inputs["redrivePolicy"] as string) as { maxReceiveCount: number };
    const workerEntry = merged[`${CONFIG_NAMESPACE}:workerEntry`];
    // The program has read it already (a malformed list would have failed it).
    const approvers: unknown = JSON.parse(merged[`${CONFIG_NAMESPACE}:approvers`] ?? "[]");
    return {
        stack,
        definition: JSON.parse(machine.inputs["definition"] as string) as Record<string, unknown>,
        stateMachineArn: machine.outputs["arn"] as string,
        queueArn: queue.outputs["arn"] as string,
        maxReceiveCount: redrive.maxReceiveCount,
        batchSize: trigger.inputs["batchSize"] as number,
        workerEnvironment: (worker.inputs["environment"] as { variables: Record<string, string> }).variables,
        visibilityTimeoutSeconds: queue.inputs["visibilityTimeoutSeconds"] as number,
        workerTimeoutSeconds: worker.inputs["timeout"] as number,
        workerEntry: workerEntry === undefined || workerEntry === "" ? undefined : workerEntry,
        program: await readProgram(run),
        approval: renderedApproval(run, Array.isArray(approvers) ? (approvers as string[]) : []),
    };
}

export interface HarnessOptions {
    readonly stack: RenderedStack;
    /** Whether a worker consumes the queue (off: nothing answers, the task times out). */
    readonly worker?: boolean;
    /** Corrupts every message body (drops the task token), as a producer bug would. */
    readonly poison?: boolean;
    /**
     * How many times faster than the wall clock the stack's clock runs: the task's timeouts, the
     * heartbeat timeout, retry intervals, the queue's visibility timeout and the backlog are the stack's
     * own numbers divided by this. The worker runs unchanged, on the wall clock. Default 1.
     */
    readonly timeScale?: number;
    /** The worker starts polling this many stack seconds after the first execution starts: a backlog. */
    readonly workerDelaySeconds?: number;
    /** The worker's first invocation crashes before it answers anything (as an uncaught error would). */
    readonly crashFirstInvocation?: boolean;
    /** The endpoint never answers the first SendTask* call: a black-holed connection. */
    readonly hangFirstCall?: boolean;
    readonly onTrace?: (event: TraceEvent) => void;
}

/** The stack's state machine on the local harness, with the scenarios' faults. */
export class LocalCallbackHarness extends LocalHarness {
    constructor(private readonly harnessOptions: HarnessOptions) {
        const faults: Faults = {
            ...(harnessOptions.worker === false ? { noWorkers: true } : {}),
            ...(harnessOptions.poison === true ? { poison: true } : {}),
            ...(harnessOptions.workerDelaySeconds !== undefined
                ? { workerDelaySeconds: harnessOptions.workerDelaySeconds }
                : {}),
            ...(harnessOptions.crashFirstInvocation === true ? { crashFirstInvocation: true } : {}),
            ...(harnessOptions.hangFirstCall === true ? { hangFirstCall: true } : {}),
        };
        super({
            program: harnessOptions.stack.program,
            stateMachines: [harnessOptions.stack.stateMachineArn],
            faults,
            // The worker's own log lines are collected, not shown: keep them to what matters.
            workerLogLevel: "WARN",
            ...(harnessOptions.timeScale !== undefined ? { timeScale: harnessOptions.timeScale } : {}),
            ...(harnessOptions.onTrace !== undefined ? { onTrace: harnessOptions.onTrace } : {}),
        });
    }

    /** The work queue. */
    public get queue(): InMemoryQueue {
        const url = this.harnessOptions.stack.program.queues.find(
            (q) => q.arn === this.harnessOptions.stack.queueArn,
        )?.url;
        const queue = url === undefined ? undefined : this.queues.get(url);
        if (queue === undefined) {
            throw new Error("The harness is not started.");
        }
        return queue;
    }
}
