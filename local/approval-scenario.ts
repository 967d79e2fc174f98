/**
 * The human-approval scenario (`npm start -- --scenario human-approval`): the stack rendered with
 * approvers runs on the local harness, and a person decides in a browser. A local harness, not a
 * production runtime: production runs on AWS.
 *
 * Everything is on 127.0.0.1, nothing leaves the machine:
 * - the state machine on the local engine, its Step Functions endpoint the engine's fake;
 * - the approval requester as the program bundled it (its Lambda code asset), in a process of its own
 *   fed by the work queue like any worker, with its rendered environment, except `APPROVAL_PAGE_URL`
 *   (the local page's URL) and the SDK's endpoints (`AWS_ENDPOINT_URL_DYNAMODB`, `_SNS`,
 *   `_SECRETS_MANAGER`; the engine sets `AWS_ENDPOINT_URL_SFN` and `AWS_ENDPOINT_URL` for every worker);
 * - the loopback DynamoDB with the rendered table, SNS with the rendered approvers' topic, and Secrets
 *   Manager with the rendered secret and no value, so the requester puts the first key ring as in AWS;
 * - the approval page: `ApprovalPage` (the page function's code) on node:http (`serveApprovalPage`),
 *   configured from the page function's rendered environment, its clients on the same fakes.
 *
 * What SNS would deliver is printed instead: each published message, to the email subscriptions whose
 * filter policy takes it, with its link on a line of its own.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { CONFIG_NAMESPACE, parseStackConfig } from "../components/config";
import { lastReceiveDoneSeconds } from "../components/limits";
import { resolveArgs } from "../components/settings";
import type { ApprovalItem, ApprovalStatus, DeliveryState } from "../handlers/approval/contract";
import { serveApprovalPage, type ServedPage } from "../handlers/approval/http-adapter";
import { SecretsManagerKeyRing } from "../handlers/approval/key-ring";
import { ApprovalPage, type PageLogger, type PageRequest, type PageResponse } from "../handlers/approval/page";
import { ApprovalStore } from "../handlers/approval/store";
import { FakeDynamoDb } from "./dynamodb-endpoint";
import type { Execution, TraceEvent } from "./engine";
import { LocalCallbackHarness, type RenderedApproval, type RenderedStack } from "./harness";
import { lambdaEnvironment } from "./lambda-process";
import type { LocalProgram, LocalQueue } from "./program";
import { FakeSecretsManager } from "./secrets-endpoint";
import { FakeSns, type PublishedMessage } from "./sns-endpoint";
import { stackConfig } from "./stack-config";

/** Who approves when the stack names nobody. */
export const LOCAL_APPROVER = "approver@example.com";
/** How long the approvers have by default: the task's `TimeoutSeconds`, unless the stack needs longer. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 300;

/** The settings a stack is rendered with for the scenario, and what they change in it. */
export interface ApprovalStackSettings {
    /** Keys of the stack config to override (undefined: left out), as `renderStack` takes them. */
    readonly config: Record<string, string | undefined>;
    readonly approvers: readonly string[];
    /** The task's `TimeoutSeconds`. */
    readonly timeoutSeconds: number;
    /** What differs from the stack's own settings, and why, one sentence each. */
    readonly changes: readonly string[];
}

/**
 * The stack's settings with approvers: its own approvers, else {@link LOCAL_APPROVER}, with what the
 * program refuses beside approvers left out (heartbeatSeconds: nobody beats while a person thinks;
 * workerEntry: the worker is the approval requester). `timeoutSeconds` is the task's `TimeoutSeconds`,
 * checked by the program like the stack's own; by default {@link DEFAULT_APPROVAL_TIMEOUT_SECONDS}, or
 * the least the stack's retry settings allow when that is more (the program's timing rule: every receive
 * of the request fits in the task's time).
 */
export function approvalStackSettings(stack: string, timeoutSeconds: number | undefined): ApprovalStackSettings {
    const own = stackConfig(stack);
    const key = (name: string): string => `${CONFIG_NAMESPACE}:${name}`;
    const parsed: unknown = JSON.parse(own[key("approvers")] ?? "[]");
    const listed = Array.isArray(parsed) ? (parsed as string[]) : [];
    const config: Record<string, string | undefined> = {};
    const changes: string[] = [];
    if (listed.length === 0) {
        config["approvers"] = JSON.stringify([LOCAL_APPROVER]);
        changes.push(`approvers [${LOCAL_APPROVER}] (the stack has none)`);
        for (const [name, unset, why] of [
            ["heartbeatSeconds", "0", "an approval has no heartbeat"],
            ["workerEntry", "", "the worker is the approval requester"],
        ] as const) {
            const value = own[key(name)];
            if (value !== undefined && value !== unset) {
                config[name] = undefined;
                changes.push(`no ${name} (the stack's ${value}: ${why})`);
            }
        }
    }
    let timeout = timeoutSeconds;
    if (timeout === undefined) {
        const merged = { ...own };
        for (const [name, value] of Object.entries(config)) {
            if (value === undefined) {
                delete merged[key(name)];
            } else {
                merged[key(name)] = value;
            }
        }
        // Only the retry settings count here; a stack the program refuses is refused when it is rendered,
        // with the program's own message.
        timeout = Math.max(DEFAULT_APPROVAL_TIMEOUT_SECONDS, leastTimeoutSeconds(merged));
        if (timeout > DEFAULT_APPROVAL_TIMEOUT_SECONDS) {
            changes.push(
                `taskTimeoutSeconds ${timeout}, the least the stack's retry settings allow (the scenario's default is ${DEFAULT_APPROVAL_TIMEOUT_SECONDS})`,
            );
        } else {
            changes.push(`taskTimeoutSeconds ${timeout} (the scenario's default)`);
        }
    } else {
        changes.push(`taskTimeoutSeconds ${timeout} (--timeout-seconds)`);
    }
    config["taskTimeoutSeconds"] = String(timeout);
    return { config, approvers: listed.length > 0 ? listed : [LOCAL_APPROVER], timeoutSeconds: timeout, changes };
}

/** The least `taskTimeoutSeconds` a stack's retry settings allow (0 when they do not parse). */
function leastTimeoutSeconds(config: Readonly<Record<string, string>>): number {
    try {
        return lastReceiveDoneSeconds(resolveArgs(parseStackConfig(config).args));
    } catch {
        return 0;
    }
}

/** What one approver would receive: a message the requester published to the approvers' topic. */
export interface ApprovalNotice {
    /** The message's `approver` attribute. */
    readonly approver: string | undefined;
    /** The email subscriptions whose filter policy takes the message: who SNS would deliver it to. */
    readonly recipients: readonly string[];
    readonly subject: string | undefined;
    /** The message, its link replaced by {@link LINK_PLACEHOLDER}. */
    readonly text: string;
    /** The signed link in it (a credential: printed once, never in a report). */
    readonly link: string | undefined;
}

/** Where the link was in a notification's printed text. */
export const LINK_PLACEHOLDER = "<the approval link, below>";

/** A decision as the approvals table holds it. */
export interface ApprovalDecision {
    readonly approvalId: string;
    readonly decision: Exclude<ApprovalStatus, "pending">;
    readonly decidedBy: string | undefined;
    readonly decidedAt: string | undefined;
    readonly comment: string;
    /** Whether Step Functions took it (`sent`) or the task was already over (`task-over`). */
    readonly delivery: DeliveryState | undefined;
    readonly deliveryError: string | undefined;
}

/** One request the approval page answered: never its query string (the link's signature) or body. */
export interface PageVisit {
    readonly method: string;
    /** `/<approvalId>` or `/assets/...`. */
    readonly path: string;
    readonly status: number;
    /** A POST's decision button (`approve`/`reject`). */
    readonly decision: string | undefined;
}

export interface ApprovalHarnessOptions {
    /** The stack rendered with approvers (`stack.approval` set). */
    readonly stack: RenderedStack;
    readonly timeScale?: number;
    readonly onTrace?: (event: TraceEvent) => void;
    /** Each message the requester publishes, as the approver would get it. */
    readonly onNotice?: (notice: ApprovalNotice) => void;
    /** Each request the page answers. */
    readonly onVisit?: (visit: PageVisit) => void;
}

/** Any static credentials: the fakes check the signature's form, not its key. */
const CREDENTIALS = { accessKeyId: lambdaEnvironment()["AWS_ACCESS_KEY_ID"] as string, secretAccessKey: "fake-secret" };
const REGION = lambdaEnvironment()["AWS_REGION"] as string;

/** A client's settings against a fake: its endpoint, bounded attempts (as the page function's). */
function clientConfig(endpoint: string, callTimeoutMs: number) {
    return {
        endpoint,
        region: REGION,
        credentials: CREDENTIALS,
        maxAttempts: 3,
        requestHandler: {
            connectionTimeout: Math.min(1000, callTimeoutMs),
            requestTimeout: callTimeoutMs,
            throwOnRequestTimeout: true,
            socketTimeout: callTimeoutMs,
        },
    };
}

/** The email subscriptions that take a message: no filter policy, or one whose every key's values hold its attribute. */
export function recipientsOf(message: PublishedMessage, subscriptions: RenderedApproval["subscriptions"]): string[] {
    return subscriptions
        .filter(({ filterPolicy }) => {
            if (filterPolicy === undefined || filterPolicy === "") {
                return true;
            }
            // The policies the channel writes: each attribute to a list of exact string values.
            const policy = JSON.parse(filterPolicy) as Record<string, unknown>;
            return Object.entries(policy).every(
                ([name, values]) =>
                    Array.isArray(values) &&
                    message.attributes[name]?.stringValue !== undefined &&
                    values.includes(message.attributes[name]?.stringValue),
            );
        })
        .map((s) => s.endpoint);
}

/** A published message as its approver reads it, the link on the page's URL taken out of the text. */
export function noticeOf(message: PublishedMessage, pageUrl: string, approval: RenderedApproval): ApprovalNotice {
    const lines = message.message.split("\n");
    const link = lines.find((line) => line.startsWith(`${pageUrl}/`));
    return {
        approver: message.attributes["approver"]?.stringValue,
        recipients: recipientsOf(message, approval.subscriptions),
        subject: message.subject,
        text: lines.map((line) => (line === link ? LINK_PLACEHOLDER : line)).join("\n"),
        link,
    };
}

/** The stack's program with the requester's environment pointed at the local page and fakes. */
function localProgram(stack: RenderedStack, environment: Readonly<Record<string, string>>): LocalProgram {
    const program = stack.program;
    return {
        ...program,
        queues: program.queues.map((queue): LocalQueue => {
            if (queue.arn !== stack.queueArn || queue.consumer === undefined) {
                return queue;
            }
            const worker = queue.consumer.worker;
            return {
                ...queue,
                consumer: {
                    ...queue.consumer,
                    worker: { ...worker, environment: { ...worker.environment, ...environment } },
                },
            };
        }),
    };
}

/** The stack's state machine, its approval requester, page and fakes on 127.0.0.1. */
export class LocalApprovalHarness {
    public readonly notices: ApprovalNotice[] = [];
    public readonly visits: PageVisit[] = [];
    /** The page's log lines (message and keys), kept rather than printed. */
    public readonly pageLogs: Array<{ readonly level: string; readonly message: string; readonly keys: unknown }> = [];

    private constructor(
        public readonly approval: RenderedApproval,
        public readonly harness: LocalCallbackHarness,
        public readonly dynamo: FakeDynamoDb,
        public readonly sns: FakeSns,
        public readonly secrets: FakeSecretsManager,
        public readonly page: ServedPage,
        public readonly store: ApprovalStore,
        private readonly inFlight: ReadonlySet<Promise<PageResponse>>,
    ) {}

    /** Starts the fakes, the page, and the harness with the requester. */
    public static async start(options: ApprovalHarnessOptions): Promise<LocalApprovalHarness> {
        const approval = options.stack.approval;
        if (approval === undefined) {
            throw new Error("The stack has no approval channel: render it with approvers.");
        }
        const pageEnv = approval.pageEnvironment;
        const tableName = pageEnv["APPROVAL_TABLE_NAME"] ?? approval.tableName;
        const secretId = pageEnv["APPROVAL_KEY_RING_SECRET_ID"] ?? approval.secretArn;
        const timeout = Number(pageEnv["APPROVAL_CALL_TIMEOUT_MS"] ?? 2000);
        const callTimeoutMs = Number.isInteger(timeout) && timeout >= 100 && timeout <= 10_000 ? timeout : 2000;

        const started: Array<{ close(): Promise<void> }> = [];
        try {
            const dynamo = await FakeDynamoDb.start(approval.tableName, approval.partitionKey);
            started.push(dynamo);
            const sns = await FakeSns.start({ topics: [approval.topicArn] });
            started.push(sns);
            // The secret as the program creates it: no value until the requester puts the first ring.
            const secrets = await FakeSecretsManager.start({
                secrets: { [approval.secretName]: null },
                arns: { [approval.secretName]: approval.secretArn },
            });
            started.push(secrets);
            const store = new ApprovalStore({
                tableName,
                client: new DynamoDBClient(clientConfig(dynamo.url, callTimeoutMs)),
            });
            // The page needs the engine's Step Functions endpoint, up once the harness starts; no link
            // exists before the requester has run, so nothing asks for the page before then.
            const ready: { handle?: (request: PageRequest) => Promise<PageResponse>; run?: LocalApprovalHarness } = {};
            const inFlight = new Set<Promise<PageResponse>>();
            const page = await serveApprovalPage(async (request) => {
                const handling =
                    ready.handle === undefined
                        ? Promise.resolve({
                              status: 503,
                              headers: { "content-type": "text/plain; charset=utf-8" },
                              body: "Starting.",
                          })
                        : ready.handle(request);
                inFlight.add(handling);
                let response: PageResponse;
                try {
                    response = await handling;
                } finally {
                    inFlight.delete(handling);
                }
                if (request.method !== "HEAD") {
                    const decision =
                        request.method === "POST"
                            ? (new URLSearchParams(request.body ?? "").get("decision") ?? undefined)
                            : undefined;
                    const visit = { method: request.method, path: request.path, status: response.status, decision };
                    ready.run?.visits.push(visit);
                    options.onVisit?.(visit);
                }
                return response;
            });
            started.push(page);
            const harness = new LocalCallbackHarness({
                stack: {
                    ...options.stack,
                    program: localProgram(options.stack, {
                        APPROVAL_PAGE_URL: page.url,
                        AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
                        AWS_ENDPOINT_URL_SNS: sns.url,
                        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
                    }),
                },
                ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
                ...(options.onTrace !== undefined ? { onTrace: options.onTrace } : {}),
            });
            const run = new LocalApprovalHarness(approval, harness, dynamo, sns, secrets, page, store, inFlight);
            ready.run = run;
            sns.onPublish((message) => {
                if (message.topicArn === approval.topicArn) {
                    const notice = noticeOf(message, page.url, approval);
                    run.notices.push(notice);
                    options.onNotice?.(notice);
                }
            });
            started.push({ close: () => harness.stop() });
            await harness.start();
            const logger = Object.fromEntries(
                (["info", "warn", "error"] as const).map((level) => [
                    level,
                    (message: string, keys?: unknown) => void run.pageLogs.push({ level, message, keys }),
                ]),
            ) as unknown as PageLogger;
            const approvalPage = new ApprovalPage({
                store,
                keyRing: new SecretsManagerKeyRing({
                    secretId,
                    client: new SecretsManagerClient(clientConfig(secrets.url, callTimeoutMs)),
                }),
                sfn: new SFNClient(clientConfig(harness.endpointUrl, callTimeoutMs)),
                logger,
            });
            ready.handle = approvalPage.handleRequest;
            return run;
        } catch (error) {
            await Promise.all(started.reverse().map((s) => s.close()));
            throw error;
        }
    }

    public startExecution(input: unknown): Execution {
        return this.harness.startExecution(input);
    }

    /**
     * The decision recorded for the approvals that were requested, if one was made: read once the page
     * has answered every request it had (a decision's last write, `delivery`, follows Step Functions'
     * answer, which may have ended the execution already).
     */
    public async decision(): Promise<ApprovalDecision | undefined> {
        while (this.inFlight.size > 0) {
            await Promise.allSettled([...this.inFlight]);
        }
        const ids = [
            ...new Set(this.notices.flatMap((n) => (n.link === undefined ? [] : [new URL(n.link).pathname.slice(1)]))),
        ];
        for (const id of ids) {
            const item: ApprovalItem | undefined = await this.store.getApproval(id);
            if (item !== undefined && item.status !== "pending") {
                return {
                    approvalId: item.approvalId,
                    decision: item.status,
                    decidedBy: item.decidedBy,
                    decidedAt: item.decidedAt,
                    comment: item.comment ?? "",
                    delivery: item.delivery,
                    deliveryError: item.deliveryError,
                };
            }
        }
        return undefined;
    }

    /** Stops the harness (the requester's process, the engine), then the page and the fakes. */
    public async stop(): Promise<void> {
        await this.harness.stop();
        await this.page.close();
        await Promise.all([this.dynamo.close(), this.sns.close(), this.secrets.close()]);
    }
}
