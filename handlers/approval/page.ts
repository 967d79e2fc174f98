/**
 * The approval page, framework-free: `handleRequest({method, path, query, headers, body})` →
 * `{status, headers, body}`. `lambda.ts` adapts Lambda function URL events to it, `http-adapter.ts`
 * node:http. See docs/approval.md for the link format, the anti-forgery value and the status codes.
 *
 * - `GET`/`HEAD` of a valid link show the request and a `<form method="post">`; they never decide (a
 *   link scanner or a preview fetches links).
 * - `POST` of the same URL with the page's anti-forgery value decides: the conditional write first (a
 *   link decides once), then `SendTaskSuccess` / `SendTaskFailure`.
 *
 * Step Functions errors: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html#API_SendTaskSuccess_Errors
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html#API_SendTaskFailure_Errors
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html#API_SendTaskHeartbeat_Errors
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import {
    SendTaskFailureCommand,
    SendTaskHeartbeatCommand,
    SendTaskSuccessCommand,
    type SFNClient,
} from "@aws-sdk/client-sfn";
import { describeError, redactToken } from "../callback/message";
import { APPROVAL_LIMITS, REJECTED_ERROR, type ApprovalItem, type ApprovedOutput, type Decision } from "./contract";
import {
    escapeHtml,
    LOCAL_TIME_SCRIPT,
    LOCAL_TIME_SCRIPT_PATH,
    messagePage,
    page,
    securityHeaders,
    timeElement,
} from "./html";
import {
    issueFormToken,
    verifyFormToken,
    verifyLink,
    type KeyRing,
    type KeyRingSnapshot,
    type SignedLink,
} from "./links";
import { sfnClient } from "./sfn";
import type { ApprovalStore } from "./store";

export { sfnClient };

export interface PageRequest {
    /** `GET`, `HEAD`, `POST`, ... */
    readonly method: string;
    /** The path without the query: `<base>/<approvalId>`. */
    readonly path: string;
    /** The raw query string (without `?`) or its parsed form. */
    readonly query: string | URLSearchParams;
    /** Header names in lower case. */
    readonly headers: Readonly<Record<string, string | undefined>>;
    /** The body as text (a form: `application/x-www-form-urlencoded`). */
    readonly body?: string;
}

export interface PageResponse {
    readonly status: number;
    readonly headers: Record<string, string>;
    readonly body: string;
}

/** What the page logs with: Powertools' logger or anything with the same three methods. */
export type PageLogger = Pick<Logger, "info" | "warn" | "error">;

export interface ApprovalPageOptions {
    readonly store: ApprovalStore;
    readonly keyRing: KeyRing;
    /** Step Functions client for the heartbeat probe; default one with bounded attempts (see {@link sfnClient}). */
    readonly sfn?: SFNClient;
    /**
     * Step Functions client for `SendTaskSuccess`/`SendTaskFailure`: ONE attempt per call (`maxAttempts: 1`),
     * since an SDK retry after a lost answer gets `TaskTimedOut` for a decision that was delivered. The page
     * retries only what Step Functions says it did not apply (throttling). Default: `sfn` when given, else
     * one attempt of {@link sfnClient}.
     */
    readonly sfnSend?: SFNClient;
    readonly logger?: PageLogger;
    /** Clock (tests). */
    readonly now?: () => Date;
    /** How long a rendered page's anti-forgery value is accepted. Default 12 hours. */
    readonly formMaxAgeSeconds?: number;
    /**
     * Probe the task with `SendTaskHeartbeat` before showing the buttons and before deciding, so a task
     * already over (timed out, execution stopped) gets 410 instead of a form. Default true. A heartbeat
     * on a task without `HeartbeatSeconds` only answers whether the token is still open; on one with
     * it, it also resets the heartbeat clock (as any approver activity may).
     */
    readonly probeTask?: boolean;
    /**
     * A decision recorded but not delivered (its page's `SendTask*` and its taking-back both failed) is
     * sent again by the next visit of any of its links, once it is this old: older than any page still
     * sending it (a page's Lambda runs at most 25 s). Default 60 s.
     */
    readonly redeliverAfterSeconds?: number;
    /**
     * The channel's approvers now (env `APPROVAL_APPROVERS`): a link of someone no longer among them is
     * refused though the item lists them, so removing an approver revokes their links at once. Default:
     * the item's list alone.
     */
    readonly approvers?: readonly string[];
}

/** Step Functions' answers for a task that can no longer be answered. */
const TASK_OVER_ERRORS: ReadonlySet<string> = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/**
 * Failures that say the call was not applied: Step Functions refused it (throttling), or no connection
 * was made. Anything else (a timeout, a reset connection, a 5xx) may have been applied.
 */
const NOT_APPLIED_ERRORS: ReadonlySet<string> = new Set(["ThrottlingException", "TooManyRequestsException"]);
const NOT_CONNECTED_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/** What telling Step Functions a decision came to. */
type Delivery =
    | { readonly kind: "sent" }
    | { readonly kind: "task-over"; readonly errorName: string }
    | { readonly kind: "not-applied"; readonly errorName: string; readonly message: string }
    | { readonly kind: "unknown"; readonly errorName: string; readonly message: string };

function notApplied(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return (
        NOT_APPLIED_ERRORS.has(describeError(error).name) || (typeof code === "string" && NOT_CONNECTED_CODES.has(code))
    );
}

const HTML = "text/html; charset=utf-8";
/**
 * The most a POST body may be: the page's form with the longest comment its textarea lets through
 * (`maxlength` counts UTF-16 units, a line break as one) and the few other fields. One unit is at most 3
 * UTF-8 bytes, percent-encoded as 9 characters (a line break is sent as CR LF, `%0D%0A`: 6), so 2000
 * characters of `€` or `注` are 18,000 bytes of form.
 */
export const MAX_BODY_BYTES = APPROVAL_LIMITS.commentMaxLength * 9 + 1024;

export class ApprovalPage {
    private readonly sfn: SFNClient;
    private readonly sfnSend: SFNClient;
    private readonly logger: PageLogger;
    private readonly now: () => Date;
    private readonly formMaxAgeSeconds: number;
    private readonly probeTask: boolean;
    private readonly redeliverAfterMs: number;

    constructor(private readonly options: ApprovalPageOptions) {
        this.sfn = options.sfn ?? sfnClient();
        this.sfnSend = options.sfnSend ?? options.sfn ?? sfnClient({ maxAttempts: 1 });
        this.logger = options.logger ?? { info: () => undefined, warn: () => undefined, error: () => undefined };
        this.now = options.now ?? (() => new Date());
        this.formMaxAgeSeconds = options.formMaxAgeSeconds ?? 12 * 3600;
        this.probeTask = options.probeTask ?? true;
        this.redeliverAfterMs = (options.redeliverAfterSeconds ?? 60) * 1000;
    }

    /** Answers one request; never throws (an unexpected error is a 500 page, logged). */
    public readonly handleRequest = async (request: PageRequest): Promise<PageResponse> => {
        const method = request.method.toUpperCase();
        let response: PageResponse;
        try {
            response = await this.route(method, request);
        } catch (error) {
            const { name } = describeError(error);
            this.logger.error("Approval page failed", { errorName: name, path: safePath(request.path) });
            response = html(503, "Something went wrong", [
                "The approval service could not answer just now, and nothing was decided. Try again in a minute.",
            ]);
        }
        return method === "HEAD" ? { ...response, body: "" } : response;
    };

    private async route(method: string, request: PageRequest): Promise<PageResponse> {
        const segments = request.path.split("/").filter((segment) => segment !== "");
        if (segments.slice(-2).join("/") === LOCAL_TIME_SCRIPT_PATH && (method === "GET" || method === "HEAD")) {
            return {
                status: 200,
                headers: { ...securityHeaders(), "content-type": "text/javascript; charset=utf-8" },
                body: LOCAL_TIME_SCRIPT,
            };
        }
        if (method !== "GET" && method !== "HEAD" && method !== "POST") {
            const response = html(405, "Method not allowed", ["This page only answers GET and POST."]);
            return { ...response, headers: { ...response.headers, allow: "GET, HEAD, POST" } };
        }
        const approvalId = segments.at(-1) ?? "";
        if (!APPROVAL_LIMITS.idPattern.test(approvalId)) {
            return notFound();
        }
        const query = typeof request.query === "string" ? new URLSearchParams(request.query) : request.query;
        const now = this.now();
        let ring = await this.options.keyRing.load();
        let verified = verifyLink(ring, { approvalId, query }, now);
        if (verified.result === "tampered" && verified.unknownKey) {
            // The ring may have been rotated since this instance read it.
            ring = await this.options.keyRing.load({ refresh: true });
            verified = verifyLink(ring, { approvalId, query }, now);
        }
        switch (verified.result) {
            case "malformed":
                this.logger.warn("Approval link malformed", { approvalId, reason: verified.problem });
                return html(400, "This link is incomplete", [
                    "The link is missing a part or has been cut short. Open it again from the message you received, or copy the whole link.",
                ]);
            case "tampered":
                this.logger.warn("Approval link signature does not match", {
                    approvalId,
                    unknownKey: verified.unknownKey,
                });
                return forbidden();
            case "expired":
                this.logger.info("Approval link expired", { approvalId, approver: verified.link.approver });
                return expiredPage();
            case "ok":
                break;
        }
        const link = verified.link;
        let form: URLSearchParams | undefined;
        if (method === "POST") {
            const refused = this.checkPost(request, ring, link, now);
            if (refused !== undefined) {
                return refused;
            }
            form = new URLSearchParams(request.body ?? "");
        }

        const item = await this.options.store.getApproval(approvalId);
        if (item === undefined) {
            this.logger.info("Approval unknown", { approvalId });
            return notFound();
        }
        const logKeys = { approvalId, approver: link.approver, executionId: item.executionArn };
        if (!item.approvers.includes(link.approver)) {
            this.logger.warn("Approval link for someone not among the approvers", logKeys);
            return forbidden();
        }
        if (this.options.approvers !== undefined && !this.options.approvers.includes(link.approver)) {
            this.logger.warn("Approval link for someone no longer an approver of the channel", logKeys);
            return forbidden();
        }
        if (item.status !== "pending") {
            return decidedPage(await this.redeliver(item, now, logKeys));
        }
        if (now.getTime() >= Date.parse(item.expiresAt)) {
            return expiredPage();
        }
        if (this.probeTask) {
            const over = await this.taskOver(item, logKeys);
            if (over !== undefined) {
                return taskOverPage(false);
            }
        }
        if (form === undefined) {
            return this.requestPage(item, ring, link, now);
        }
        return this.decide(item, link, form, now, logKeys);
    }

    /** Refuses a POST not sent by a page of ours: cross-site, not a form, or without a valid value. */
    private checkPost(
        request: PageRequest,
        ring: KeyRingSnapshot,
        link: SignedLink,
        now: Date,
    ): PageResponse | undefined {
        const site = request.headers["sec-fetch-site"];
        if (site === "cross-site" || site === "same-site") {
            this.logger.warn("Approval POST from another site refused", { approvalId: link.approvalId, site });
            return forbidden();
        }
        const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== "application/x-www-form-urlencoded") {
            return html(415, "Not a form", ["Decide with the buttons on the approval page."]);
        }
        if (Buffer.byteLength(request.body ?? "", "utf8") > MAX_BODY_BYTES) {
            return html(413, "Too long", ["The comment is too long."]);
        }
        const form = new URLSearchParams(request.body ?? "");
        const check = verifyFormToken(
            ring,
            link,
            { nonce: form.get("n") ?? "", issuedAt: form.get("i") ?? "", mac: form.get("f") ?? "" },
            now,
            this.formMaxAgeSeconds,
        );
        if (check === "ok") {
            return undefined;
        }
        this.logger.warn("Approval POST without a valid anti-forgery value", {
            approvalId: link.approvalId,
            approver: link.approver,
            reason: check,
        });
        if (check === "stale") {
            return html(403, "This page is out of date", [
                "The page was opened too long ago. Open the link again from the message you received, then decide.",
            ]);
        }
        return forbidden();
    }

    /** `undefined` when the task still waits (or Step Functions could not say); else the error name. */
    private async taskOver(item: ApprovalItem, logKeys: Record<string, string>): Promise<string | undefined> {
        try {
            await this.sfn.send(new SendTaskHeartbeatCommand({ taskToken: item.taskToken }));
            return undefined;
        } catch (error) {
            const { name, message } = describeError(error);
            if (TASK_OVER_ERRORS.has(name)) {
                this.logger.info("Approval's task is already over", { ...logKeys, errorName: name });
                return name;
            }
            // Unknown (throttled, unreachable): show the form; the decision finds out.
            this.logger.warn("Could not probe the approval's task", {
                ...logKeys,
                errorName: name,
                errorMessage: redactToken(message, item.taskToken),
            });
            return undefined;
        }
    }

    private requestPage(item: ApprovalItem, ring: KeyRingSnapshot, link: SignedLink, now: Date): PageResponse {
        const token = issueFormToken(ring, link, now);
        const content = `<h1>${escapeHtml(item.title)}</h1>
<p class="details">${escapeHtml(item.details)}</p>
<dl>
<dt>Requested by</dt><dd>${escapeHtml(item.requestedBy)}</dd>
<dt>Requested</dt><dd>${timeElement(item.createdAt)}</dd>
<dt>Expires</dt><dd>${timeElement(item.expiresAt)}</dd>
<dt>You are</dt><dd>${escapeHtml(link.approver)}</dd>
</dl>
<form method="post">
<input type="hidden" name="n" value="${escapeHtml(token.nonce)}">
<input type="hidden" name="i" value="${token.issuedAt}">
<input type="hidden" name="f" value="${escapeHtml(token.mac)}">
<label for="comment">Comment (optional; a rejection's reason)</label>
<textarea id="comment" name="comment" rows="4" maxlength="${APPROVAL_LIMITS.commentMaxLength}"></textarea>
<div class="actions">
<button type="submit" name="decision" value="approve" class="approve">Approve</button>
<button type="submit" name="decision" value="reject" class="reject">Reject</button>
</div>
</form>
<p class="hint">Nothing is decided until you press a button. Each link decides once.</p>`;
        return {
            status: 200,
            headers: { ...securityHeaders(), "content-type": HTML },
            body: page(item.title, content, { script: true }),
        };
    }

    private async decide(
        item: ApprovalItem,
        link: SignedLink,
        form: URLSearchParams,
        now: Date,
        logKeys: Record<string, string>,
    ): Promise<PageResponse> {
        const raw = form.get("decision");
        if (raw !== "approve" && raw !== "reject") {
            return html(400, "No decision", ["Press Approve or Reject on the approval page."]);
        }
        const decision: Decision = raw;
        const comment = (form.get("comment") ?? "").replace(/\r\n/g, "\n").trim();
        if (comment.length > APPROVAL_LIMITS.commentMaxLength) {
            return html(400, "Comment too long", [
                `A comment is at most ${APPROVAL_LIMITS.commentMaxLength} characters. Go back, shorten it, and decide again.`,
            ]);
        }
        const outcome = await this.options.store.decide(item.approvalId, decision, link.approver, comment, now);
        switch (outcome.kind) {
            case "unknown":
                return notFound();
            case "expired":
                return expiredPage();
            case "already-decided":
                this.logger.info("Approval already decided; nothing sent", {
                    ...logKeys,
                    decidedBy: outcome.decidedBy,
                });
                return decidedPage(await this.redeliver(outcome.item, now, logKeys));
            case "decided":
                break;
        }
        const decided = outcome.item;
        const decidedAt = decided.decidedAt ?? now.toISOString();
        const entry = { ...logKeys, decision };
        const delivery = await this.send(decided);
        if (delivery.kind === "task-over") {
            this.logger.warn("Approval recorded, but its task was already over", {
                ...entry,
                errorName: delivery.errorName,
            });
            await this.options.store
                .markDelivery(item.approvalId, "task-over", delivery.errorName)
                .catch((markError: unknown) => {
                    this.logger.error("Could not mark the approval's task as over", {
                        ...entry,
                        errorName: describeError(markError).name,
                    });
                });
            return taskOverPage(true);
        }
        if (delivery.kind === "unknown") {
            // It may have been applied: never taken back. The next visit of a link sends it again.
            this.logger.error("Could not confirm the decision to Step Functions; the next visit tells it again", {
                ...entry,
                errorName: delivery.errorName,
                errorMessage: redactToken(delivery.message, decided.taskToken),
            });
            return unconfirmedPage();
        }
        if (delivery.kind === "not-applied") {
            this.logger.error("Step Functions refused the decision; taking it back", {
                ...entry,
                errorName: delivery.errorName,
                errorMessage: redactToken(delivery.message, decided.taskToken),
            });
            let reverted = false;
            try {
                reverted = await this.options.store.revertDecision(item.approvalId, decidedAt);
            } catch (revertError) {
                this.logger.error("Could not take the undelivered decision back", {
                    ...entry,
                    errorName: describeError(revertError).name,
                });
            }
            return reverted
                ? html(503, "Not decided yet", [
                      "The workflow could not be reached, so your decision was not recorded. Go back and try again in a minute.",
                  ])
                : unconfirmedPage();
        }
        this.logger.info("Approval decided", entry);
        await this.options.store.markDelivery(item.approvalId, "sent").catch((markError: unknown) => {
            this.logger.warn("Could not mark the approval as delivered", {
                ...entry,
                errorName: describeError(markError).name,
            });
        });
        return html(200, decision === "approve" ? "Approved" : "Rejected", [
            `${decision === "approve" ? "Approved" : "Rejected"} by ${escapeHtml(link.approver)} at ${timeElement(decidedAt)}. Thank you: the workflow goes on.`,
        ]);
    }

    /**
     * Tells Step Functions a recorded decision (`SendTaskSuccess` with who decided, or `Approval.Rejected`),
     * one attempt at a time: again (up to 3 attempts, with a short pause) only when it was not applied.
     */
    private async send(item: ApprovalItem): Promise<Delivery> {
        const output: ApprovedOutput = {
            decision: "approved",
            approver: item.decidedBy ?? "",
            comment: item.comment ?? "",
            decidedAt: item.decidedAt ?? "",
        };
        for (let attempt = 1; ; attempt += 1) {
            try {
                if (item.status === "approved") {
                    await this.sfnSend.send(
                        new SendTaskSuccessCommand({ taskToken: item.taskToken, output: JSON.stringify(output) }),
                    );
                } else {
                    await this.sfnSend.send(
                        new SendTaskFailureCommand({
                            taskToken: item.taskToken,
                            error: REJECTED_ERROR,
                            cause: item.comment ?? "",
                        }),
                    );
                }
                return { kind: "sent" };
            } catch (error) {
                const { name, message } = describeError(error);
                if (TASK_OVER_ERRORS.has(name)) {
                    return { kind: "task-over", errorName: name };
                }
                if (!notApplied(error)) {
                    return { kind: "unknown", errorName: name, message };
                }
                if (attempt >= 3) {
                    return { kind: "not-applied", errorName: name, message };
                }
                await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** (attempt - 1)));
            }
        }
    }

    /**
     * A decided item whose decision was never delivered (`delivery: pending`, older than any page still
     * sending it): sends it again and records the outcome, so a visit repairs what a failed page left.
     * Returns the item as it now stands (unchanged when nothing was to be done or Step Functions failed).
     */
    private async redeliver(item: ApprovalItem, now: Date, logKeys: Record<string, string>): Promise<ApprovalItem> {
        const decidedAt = item.decidedAt === undefined ? NaN : Date.parse(item.decidedAt);
        if (
            item.status === "pending" ||
            item.delivery !== "pending" ||
            !(now.getTime() - decidedAt >= this.redeliverAfterMs)
        ) {
            return item;
        }
        const entry = { ...logKeys, decision: item.status, decidedBy: item.decidedBy ?? "" };
        const told = await this.send(item);
        if (told.kind === "unknown" || told.kind === "not-applied") {
            this.logger.error("Could not redeliver the recorded decision; the next visit tries again", {
                ...entry,
                errorName: told.errorName,
                errorMessage: redactToken(told.message, item.taskToken),
            });
            return item;
        }
        // Closed now: an earlier telling whose answer was lost may have delivered it, or the task ended.
        const delivery: "sent" | "closed" = told.kind === "sent" ? "sent" : "closed";
        const errorName = told.kind === "task-over" ? told.errorName : undefined;
        const recorded = await this.options.store
            .markRedelivered(item.approvalId, delivery, errorName)
            .catch((markError: unknown) => {
                this.logger.warn("Could not mark the redelivered decision", {
                    ...entry,
                    errorName: describeError(markError).name,
                });
                return false;
            });
        this.logger.info(
            delivery === "sent" ? "Approval decided (redelivered)" : "Redelivered decision found its task closed",
            { ...entry, ...(errorName !== undefined ? { errorName } : {}), recorded },
        );
        return recorded
            ? { ...item, delivery, ...(errorName !== undefined ? { deliveryError: errorName } : {}) }
            : item;
    }
}

/** A decision recorded whose delivery is not confirmed: the next visit of a link tells the workflow again. */
function unconfirmedPage(): PageResponse {
    return html(503, "Decision not confirmed", [
        "Your decision was recorded, but the workflow did not confirm it. Open this link again in a few minutes: the page tells the workflow again. You need not decide again.",
    ]);
}

/** The answer to a request body past {@link MAX_BODY_BYTES}, refused by an adapter before it is read whole. */
export function tooLarge(): PageResponse {
    return html(413, "Too long", ["The request is too long. Go back, shorten the comment, and decide again."]);
}

function html(status: number, heading: string, paragraphs: readonly string[]): PageResponse {
    return {
        status,
        headers: { ...securityHeaders(), "content-type": HTML },
        body: messagePage(heading, paragraphs),
    };
}

function notFound(): PageResponse {
    return html(404, "No such approval", [
        "There is no approval request at this link. It may have been removed after it expired.",
    ]);
}

function forbidden(): PageResponse {
    return html(403, "This link is not valid", [
        "The link has been changed or is not for this approval. Open it again from the message you received; nothing was decided.",
    ]);
}

function expiredPage(): PageResponse {
    return html(410, "This request has expired", [
        "The time to decide has passed; nothing was decided. Ask the requester to start a new request if it is still needed.",
    ]);
}

function taskOverPage(recorded: boolean): PageResponse {
    return html(410, "The workflow is no longer waiting", [
        recorded
            ? "Your decision was recorded, but the workflow had already stopped waiting (it timed out or was stopped), so it changed nothing."
            : "The workflow stopped waiting for this decision (it timed out or was stopped). There is nothing left to decide.",
    ]);
}

function decidedPage(item: ApprovalItem): PageResponse {
    const verb = item.status === "approved" ? "approved" : "rejected";
    const by = escapeHtml(item.decidedBy ?? "someone");
    const at = item.decidedAt !== undefined ? timeElement(item.decidedAt) : "an unknown time";
    const paragraphs = [`This request was already ${verb} by ${by} at ${at}. Nothing more was done.`];
    if (item.delivery === "task-over") {
        paragraphs.push("The workflow had already stopped waiting when it was decided.");
    } else if (item.delivery === "closed") {
        paragraphs.push(
            "The workflow is no longer waiting: it received this decision, or it stopped waiting before (timed out or stopped). Its execution history says which.",
        );
    } else if (item.delivery === "pending") {
        paragraphs.push(
            "The workflow has not been told yet; open this link again in a few minutes and the page tells it again.",
        );
    }
    return html(409, `Already ${verb}`, paragraphs);
}

/** A path for logs: an approval id is not secret, a query never reaches here. */
function safePath(path: string): string {
    return path.slice(0, 200);
}
