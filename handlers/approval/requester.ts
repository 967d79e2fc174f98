/**
 * The approval requester: an SQS-triggered Lambda worker that turns a callback message into a pending
 * approval and tells each approver.
 *
 * For each record (powertools `BatchProcessor`, partial batch responses: the event source mapping needs
 * `FunctionResponseTypes: ["ReportBatchItemFailures"]`,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting):
 * 1. parse the {@link ApprovalRequest} (a {@link CallbackMessage} with an `Approval` object);
 * 2. derive the approval id from the task token (HMAC, see {@link approvalIdFor}) and `putPending` the
 *    item (conditional on the id not existing);
 * 3. sign one link per approver, expiring at the item's `expiresAt`;
 * 4. notify each approver through a {@link Notifier}, then mark the item `notifiedAt`.
 *
 * Idempotency: the id is a function of the token, so a redelivered message for the same token finds its
 * item (the conditional put fails with ConditionalCheckFailedException) instead of creating a second
 * one; it then notifies only when the item is still pending and has no `notifiedAt` (the first delivery
 * failed between the put and the end of the notifications). A redelivery after a complete run sends
 * nothing. Notifications are at least once only in that window: when some approvers were told and
 * another's publish failed, the redelivery tells all of them again (the links are identical), and when
 * two copies of one message run at the same moment (a standard queue may deliver twice).
 *
 * A request that can never become an approval (a field missing or out of range, no approvers) fails its
 * task with `SendTaskFailure` error `Approval.InvalidRequest` and the record is done; a body without a
 * usable task token, and every transient error (DynamoDB, Secrets Manager, SNS or Step Functions
 * throttled, unreachable, timed out), fails the record so SQS redelivers it and, after the queue's
 * `maxReceiveCount`, moves it to the dead-letter queue.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 *
 * The task token is never logged, put in a link or in a notification: logs carry its `tokenRef`. A link
 * is a credential too: it appears only in the notification, never in a log line.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { SendTaskFailureCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { createHmac } from "node:crypto";
import { SFN_LIMITS, type CallbackMessage } from "../callback/contract";
import {
    describeError,
    parseCallbackMessage,
    receiveCount,
    redactToken,
    tokenRef,
    truncate,
} from "../callback/message";
import { APPROVAL_LIMITS, isApprover, newPendingApproval, type ApprovalItem } from "./contract";
import { SecretsManagerKeyRing } from "./key-ring";
import { linkUrl, signLink, type KeyRing, type KeyRingSnapshot } from "./links";
import { sfnClient } from "./sfn";
import { ApprovalStore } from "./store";
import { boundedAttempts } from "./sfn";

/** The error `SendTaskFailure` carries for a request the requester cannot turn into an approval. */
export const INVALID_REQUEST_ERROR = "Approval.InvalidRequest";

/** The longest `timeoutSeconds` accepted: a standard execution's one year. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 365 * 24 * 3600;

/** The approval fields of a request, under `Approval` in the message body. */
export interface ApprovalFields {
    /**
     * One line, 1 to 200 characters: the notification's subject and the page's heading (line breaks become
     * spaces; a longer title is cut and marked "… (truncated)").
     */
    readonly title: string;
    /** Plain text, at most 10 000 characters (longer is cut and marked); default empty. */
    readonly details?: string;
    /** Who may decide: 1 to 50 ids or emails, distinct. */
    readonly approvers: readonly string[];
    /** Who asked (a name, an email, a system), at most 254 characters (longer is cut and marked). */
    readonly requestedBy: string;
    /** The task's `TimeoutSeconds` (positive integer, at most a year): the approval expires by then. */
    readonly timeoutSeconds: number;
    /** An earlier expiry wanted, ISO 8601; the earlier of this and entered time + timeoutSeconds wins. */
    readonly expiresAt?: string;
}

/**
 * The message the requester reads: the callback message contract (`TaskToken`, `ExecutionId`,
 * `StateMachineId`, `EnteredTime` from the context object) plus the approval's fields. The state's
 * `MessageBody`: `{"TaskToken.$": "$$.Task.Token", "ExecutionId.$": "$$.Execution.Id",
 * "StateMachineId.$": "$$.StateMachine.Id", "EnteredTime.$": "$$.State.EnteredTime", "Approval": {...}}`.
 */
export interface ApprovalRequest extends CallbackMessage {
    /** `$$.Execution.Id`: the execution ARN. */
    readonly ExecutionId: string;
    /** `$$.StateMachine.Id`: the state machine ARN. */
    readonly StateMachineId: string;
    /** `$$.State.EnteredTime`, ISO 8601. */
    readonly EnteredTime: string;
    readonly Approval: ApprovalFields;
}

/** What one approver is sent. Never the task token. */
export interface ApprovalNotification {
    readonly approver: string;
    readonly title: string;
    readonly details: string;
    /** The approver's own signed link: a credential, only ever in the notification. */
    readonly link: string;
    /** ISO 8601 UTC. */
    readonly expiresAt: string;
    readonly requestedBy: string;
    readonly approvalId: string;
}

/** Tells one approver; a rejection is taken as transient (the record is retried). */
export type Notifier = (notification: ApprovalNotification) => Promise<void>;

/** A request that can never become an approval; its message names each problem. */
export class InvalidApprovalRequestError extends Error {
    constructor(public readonly problems: readonly string[]) {
        super(`Invalid approval request: ${problems.join(" ")}`);
        this.name = "InvalidApprovalRequestError";
    }
}

/** A value shown in an error: JSON, at most 60 characters. */
function shown(value: unknown): string {
    if (value === undefined) {
        return "nothing";
    }
    let text: string;
    try {
        text = JSON.stringify(value) ?? typeof value;
    } catch {
        text = typeof value;
    }
    return truncate(text, 60);
}

const ARN_PATTERN = /^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:\d{12}:(stateMachine|execution|express):\S+$/;

/**
 * Checks a parsed callback message against {@link ApprovalRequest}; throws
 * {@link InvalidApprovalRequestError} naming every field, its value and what is allowed. The token was
 * checked by `parseCallbackMessage` and is never shown.
 */
export function parseApprovalRequest(message: CallbackMessage): ApprovalRequest {
    const body = message as unknown as Record<string, unknown>;
    const problems: string[] = [];
    for (const [field, kind] of [
        ["ExecutionId", "execution"],
        ["StateMachineId", "stateMachine"],
    ] as const) {
        const value = body[field];
        if (typeof value !== "string" || !ARN_PATTERN.test(value) || !value.includes(`:${kind}:`)) {
            problems.push(`${field} must be a Step Functions ${kind} ARN (got ${shown(value)}).`);
        }
    }
    const entered = body["EnteredTime"];
    if (typeof entered !== "string" || Number.isNaN(Date.parse(entered))) {
        problems.push(`EnteredTime must be an ISO 8601 date, $$.State.EnteredTime (got ${shown(entered)}).`);
    }
    const approval = body["Approval"];
    if (typeof approval !== "object" || approval === null || Array.isArray(approval)) {
        problems.push(
            `Approval must be an object {title, details, approvers, requestedBy, timeoutSeconds, expiresAt} (got ${shown(approval)}).`,
        );
        throw new InvalidApprovalRequestError(problems);
    }
    const fields = approval as Record<string, unknown>;
    const { approvers, timeoutSeconds, expiresAt } = fields;
    // What the approver reads is display only: too long is cut (marked), not a reason to fail the task;
    // the title is one line.
    const text = (field: "title" | "details" | "requestedBy", max: number, optional: boolean): string | undefined => {
        const value = fields[field];
        if (optional && value === undefined) {
            return undefined;
        }
        if (typeof value !== "string" || (!optional && value.trim() === "")) {
            problems.push(`Approval.${field} must be ${optional ? "text" : "non-blank text"} (got ${shown(value)}).`);
            return undefined;
        }
        const line = field === "details" ? value : value.replace(/\s*[\r\n]+\s*/g, " ").trim();
        return line.length > max ? `${line.slice(0, max - TRUNCATED.length)}${TRUNCATED}` : line;
    };
    const title = text("title", APPROVAL_LIMITS.titleMaxLength, false);
    const details = text("details", APPROVAL_LIMITS.detailsMaxLength, true);
    const requestedBy = text("requestedBy", APPROVAL_LIMITS.requestedByMaxLength, false);
    if (!Array.isArray(approvers) || approvers.length === 0 || approvers.length > APPROVAL_LIMITS.approversMax) {
        problems.push(
            `Approval.approvers must be a list of 1 to ${APPROVAL_LIMITS.approversMax} approver ids or emails (got ${Array.isArray(approvers) ? `${approvers.length} approvers` : shown(approvers)}).`,
        );
    } else {
        approvers.forEach((approver: unknown, index) => {
            if (!isApprover(approver)) {
                problems.push(
                    `Approval.approvers[${index}] must be an id or email of 1 to ${APPROVAL_LIMITS.approverMaxLength} characters, without surrounding spaces or control characters (got ${shown(approver)}).`,
                );
            } else if (approvers.indexOf(approver) !== index) {
                problems.push(`Approval.approvers[${index}] repeats ${shown(approver)}; each approver once.`);
            }
        });
    }
    if (
        typeof timeoutSeconds !== "number" ||
        !Number.isInteger(timeoutSeconds) ||
        timeoutSeconds <= 0 ||
        timeoutSeconds > MAX_APPROVAL_TIMEOUT_SECONDS
    ) {
        problems.push(
            `Approval.timeoutSeconds must be the task's TimeoutSeconds, an integer from 1 to ${MAX_APPROVAL_TIMEOUT_SECONDS} (got ${shown(timeoutSeconds)}).`,
        );
    }
    if (expiresAt !== undefined && (typeof expiresAt !== "string" || Number.isNaN(Date.parse(expiresAt)))) {
        problems.push(`Approval.expiresAt must be an ISO 8601 date when given (got ${shown(expiresAt)}).`);
    }
    if (problems.length > 0) {
        throw new InvalidApprovalRequestError(problems);
    }
    return {
        ...(message as ApprovalRequest),
        Approval: {
            ...(fields as unknown as ApprovalFields),
            title: title as string,
            ...(details !== undefined ? { details } : {}),
            requestedBy: requestedBy as string,
        },
    };
}

/** The mark at the end of a text cut to its limit. */
export const TRUNCATED = " … (truncated)";

/**
 * The approval id of a task token: base64url(HMAC-SHA256(ring's current key, "approval-id/v1\n" +
 * token)), 43 characters (256 bits). Deterministic, so a redelivery finds the same item; keyed, so the
 * id (which travels in links and logs) tells nothing about the token and cannot be computed without the
 * key. A key rotation between two deliveries of one message gives a second id (and a second approval,
 * both answering the same token: the first decision wins, the other gets "task over").
 */
export function approvalIdFor(ring: KeyRingSnapshot, taskToken: string): string {
    const key = ring.keys.get(ring.current);
    if (key === undefined) {
        throw new Error(`The key ring's current key ${ring.current} is not in its keys.`);
    }
    return createHmac("sha256", key).update(`approval-id/v1\n${taskToken}`, "utf8").digest("base64url");
}

/** The notification's subject as SNS takes it: ASCII printable, at most 100 characters. */
export function snsSubject(title: string): string {
    // https://docs.aws.amazon.com/sns/latest/api/API_Publish.html: Subject is ASCII, starting with a
    // letter, number or punctuation mark, no line breaks or control characters, under 100 characters.
    const ascii = title.replace(/[^\x20-\x7e]/g, "?").trim();
    return truncate(ascii === "" ? "Approval requested" : ascii, 99).replace(/…$/, "...");
}

/** The body of an approver's email. */
export function notificationText(notification: ApprovalNotification): string {
    // The link first, the workflow's details last and quoted: details come from the execution's input,
    // so they must not pass for this message's own words (a link of their own, "approve here").
    return [
        `${notification.requestedBy} asks for your approval: ${notification.title}`,
        "",
        `Approve or reject (this link is yours alone; do not forward it):`,
        notification.link,
        "",
        `The request expires at ${notification.expiresAt}.`,
        ...(notification.details.trim() !== ""
            ? [
                  "",
                  "Details, as the workflow gave them (not written by us; the page shows them too):",
                  ...notification.details.split(/\r?\n/).map((line) => `> ${line}`),
              ]
            : []),
    ].join("\n");
}

export interface SnsNotifierOptions {
    readonly topicArn: string;
    /** A client of your own; default one with bounded attempts. */
    readonly client?: SNSClient;
    /** One attempt, at most, in milliseconds. Default 2000. */
    readonly callTimeoutMs?: number;
}

/**
 * A notifier publishing one SNS message per approver, with the message attribute `approver`: each
 * approver's email subscription carries the filter policy `{"approver": ["<id>"]}` and so receives only
 * its own link. https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
 */
export function snsNotifier(options: SnsNotifierOptions): Notifier {
    const timeout = options.callTimeoutMs ?? 2000;
    const client = options.client ?? new SNSClient(boundedAttempts(timeout));
    return async (notification) => {
        await client.send(
            new PublishCommand({
                TopicArn: options.topicArn,
                Subject: snsSubject(notification.title),
                Message: notificationText(notification),
                MessageAttributes: { approver: { DataType: "String", StringValue: notification.approver } },
            }),
        );
    };
}

/** The logger's part the requester uses. */
export type RequesterLogger = Pick<Logger, "info" | "warn" | "error">;

export interface ApprovalRequesterOptions {
    readonly store: ApprovalStore;
    readonly keyRing: KeyRing;
    readonly notifier: Notifier;
    readonly sfn: SFNClient;
    /** The approval page's base URL (env `APPROVAL_PAGE_URL`). */
    readonly pageUrl: string;
    readonly logger?: RequesterLogger;
    readonly now?: () => Date;
}

export type ApprovalRequesterHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** What became of one record (a record that throws is failed instead). */
export type RequestOutcome = "requested" | "already-requested" | "invalid-request" | "task-over";

/** Step Functions' answers that mean the task is already over. */
const TASK_OVER = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/** Creates the requester's handler; call it at module scope. */
export function createApprovalRequesterHandler(options: ApprovalRequesterOptions): ApprovalRequesterHandler {
    let pageUrl: URL;
    try {
        pageUrl = new URL(options.pageUrl);
    } catch {
        throw new Error(`APPROVAL_PAGE_URL must be an absolute http(s) URL (got ${shown(options.pageUrl)}).`);
    }
    if (pageUrl.protocol !== "https:" && pageUrl.protocol !== "http:") {
        throw new Error(`APPROVAL_PAGE_URL must be an http(s) URL (got ${shown(options.pageUrl)}).`);
    }
    const logger: RequesterLogger =
        options.logger ??
        new Logger(process.env["POWERTOOLS_SERVICE_NAME"] ? {} : { serviceName: "approval-requester" });
    const now = options.now ?? (() => new Date());

    const failTask = async (token: string, cause: string, keys: Record<string, unknown>): Promise<RequestOutcome> => {
        try {
            await options.sfn.send(
                new SendTaskFailureCommand({
                    taskToken: token,
                    error: INVALID_REQUEST_ERROR,
                    cause: truncate(redactToken(cause, token), SFN_LIMITS.causeMaxLength),
                }),
            );
        } catch (error) {
            const { name, message } = describeError(error);
            if (TASK_OVER.has(name)) {
                logger.warn("Invalid approval request for a task already over; record done", {
                    ...keys,
                    errorName: name,
                });
                return "task-over";
            }
            throw new Error(`SendTaskFailure failed: ${name}: ${redactToken(message, token)}`, { cause: error });
        }
        logger.warn("Invalid approval request; task failed", {
            ...keys,
            error: INVALID_REQUEST_ERROR,
            cause: redactToken(cause, token),
        });
        return "invalid-request";
    };

    const notifyAll = async (
        item: ApprovalItem,
        ring: KeyRingSnapshot,
        keys: Record<string, unknown>,
    ): Promise<void> => {
        const expiry = Math.floor(Date.parse(item.expiresAt) / 1000);
        for (const approver of item.approvers) {
            const link = linkUrl(
                pageUrl.toString(),
                signLink(ring, { approvalId: item.approvalId, approver, expiresAt: expiry }),
            );
            await options.notifier({
                approver,
                title: item.title,
                details: item.details,
                link,
                expiresAt: item.expiresAt,
                requestedBy: item.requestedBy,
                approvalId: item.approvalId,
            });
        }
        await options.store.markNotified(item.approvalId, now());
        logger.info("Approvers notified", { ...keys, approvers: item.approvers.length });
    };

    const handleRecord = async (record: SQSRecord): Promise<RequestOutcome> => {
        const count = receiveCount(record);
        const base = { messageId: record.messageId, receiveCount: count };
        let message: CallbackMessage;
        try {
            message = parseCallbackMessage(record);
        } catch (error) {
            logger.error("Poison message: no task token to answer; it will be retried, then dead-lettered", {
                ...base,
                reason: describeError(error).message,
            });
            throw error;
        }
        const token = message.TaskToken;
        const keys: Record<string, unknown> = {
            ...base,
            tokenRef: tokenRef(token),
            ...(typeof message.ExecutionId === "string" ? { executionId: message.ExecutionId } : {}),
        };
        try {
            let request: ApprovalRequest;
            let fresh: ApprovalItem;
            const ring = await options.keyRing.load();
            try {
                request = parseApprovalRequest(message);
                fresh = newPendingApproval({
                    taskToken: token,
                    title: request.Approval.title,
                    details: request.Approval.details ?? "",
                    requestedBy: request.Approval.requestedBy,
                    approvers: request.Approval.approvers,
                    stateMachineArn: request.StateMachineId,
                    executionArn: request.ExecutionId,
                    enteredTime: request.EnteredTime,
                    taskTimeoutSeconds: request.Approval.timeoutSeconds,
                    ...(request.Approval.expiresAt !== undefined ? { expiresAt: request.Approval.expiresAt } : {}),
                    now: now(),
                });
            } catch (error) {
                const cause =
                    error instanceof InvalidApprovalRequestError
                        ? error.message
                        : `Invalid approval request: ${describeError(error).message}`;
                return await failTask(token, cause, keys);
            }
            const item: ApprovalItem = { ...fresh, approvalId: approvalIdFor(ring, token) };
            keys["approvalId"] = item.approvalId;
            if (Date.parse(item.expiresAt) <= now().getTime()) {
                return await failTask(token, `The approval would expire at ${item.expiresAt}, which has passed.`, keys);
            }
            try {
                await options.store.putPending(item);
            } catch (error) {
                if (!(error instanceof ConditionalCheckFailedException)) {
                    throw error;
                }
                const stored = await options.store.getApproval(item.approvalId);
                if (stored === undefined || stored.taskToken !== token) {
                    throw new Error(
                        stored === undefined
                            ? "The approval's conditional put failed, yet the item cannot be read."
                            : "The approval id exists for another task token.",
                        { cause: error },
                    );
                }
                if (stored.notifiedAt !== undefined || stored.status !== "pending") {
                    logger.info("Approval already requested; nothing sent again", keys);
                    return "already-requested";
                }
                logger.info("Approval stored by an earlier delivery, approvers not all notified; notifying", keys);
                await notifyAll(stored, ring, keys);
                return "requested";
            }
            logger.info("Approval requested", { ...keys, expiresAt: item.expiresAt });
            await notifyAll(item, ring, keys);
            return "requested";
        } catch (error) {
            const { name, message: text } = describeError(error);
            logger.error("Could not request the approval; it will be retried, then dead-lettered", {
                ...keys,
                errorName: name,
                // A notifier's error may quote what it posted (a chat webhook echoing it): no link's signature.
                errorMessage: redactToken(text, token).replace(/\S*[?&]s=[A-Za-z0-9_-]+\S*/g, "[link redacted]"),
            });
            throw error;
        }
    };

    return async (event, context) => {
        if (context !== undefined && logger instanceof Logger) {
            logger.addContext(context);
        }
        return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
            ...(context ? { context } : {}),
        });
    };
}

/**
 * The requester built from the environment (call at module scope):
 * - `APPROVAL_TABLE_NAME`, `APPROVAL_KEY_RING_SECRET_ID` (as the page);
 * - `APPROVAL_PAGE_URL`: the page's base URL (the function URL);
 * - `APPROVAL_TOPIC_ARN`: the SNS topic approvers subscribe to (filter policy on `approver`), unless
 *   `overrides.notifier` is given;
 * - `APPROVAL_CALL_TIMEOUT_MS`: one attempt of any AWS call, at most (default 2000).
 */
export function createApprovalRequesterHandlerFromEnv(
    env: NodeJS.ProcessEnv = process.env,
    overrides: Partial<ApprovalRequesterOptions> = {},
): ApprovalRequesterHandler {
    // A notifier of one's own (a chat tool's) needs no topic.
    const missing = [
        "APPROVAL_TABLE_NAME",
        "APPROVAL_KEY_RING_SECRET_ID",
        "APPROVAL_PAGE_URL",
        ...(overrides.notifier === undefined ? ["APPROVAL_TOPIC_ARN"] : []),
    ].filter((name) => !env[name]);
    if (missing.length > 0) {
        throw new Error(`The approval requester needs ${missing.join(", ")}.`);
    }
    const timeout = Number(env["APPROVAL_CALL_TIMEOUT_MS"] ?? 2000);
    const callTimeoutMs = Number.isInteger(timeout) && timeout >= 100 && timeout <= 10_000 ? timeout : 2000;
    return createApprovalRequesterHandler({
        store: new ApprovalStore({ tableName: env["APPROVAL_TABLE_NAME"] as string, callTimeoutMs }),
        // The requester makes the first ring when the secret is empty; the page only reads it.
        keyRing: new SecretsManagerKeyRing({
            secretId: env["APPROVAL_KEY_RING_SECRET_ID"] as string,
            callTimeoutMs,
            createIfMissing: true,
        }),
        notifier: overrides.notifier ?? snsNotifier({ topicArn: env["APPROVAL_TOPIC_ARN"] as string, callTimeoutMs }),
        sfn: sfnClient({ callTimeoutMs }),
        pageUrl: env["APPROVAL_PAGE_URL"] as string,
        ...overrides,
    });
}
