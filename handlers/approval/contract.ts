/**
 * The pending-approval item: what the requester worker stores per task, and the approval page reads and
 * decides. One DynamoDB table, partition key `approvalId` (a string); no sort key, no index.
 *
 * The task token lives ONLY in this item: never in a link, a page, a log line or a notification. A link
 * names the item by its `approvalId`, a random 128-bit (or longer) value that carries nothing.
 */
import { randomBytes } from "node:crypto";

/** Where an approval stands. `pending` until a person decides; then final. */
export type ApprovalStatus = "pending" | "approved" | "rejected";

/** A person's decision, as a POST carries it. */
export type Decision = "approve" | "reject";

/**
 * What became of telling Step Functions, once decided: `pending` between the decision's write and the
 * answer, `sent` when `SendTaskSuccess`/`SendTaskFailure` was accepted, `task-over` when Step Functions
 * said the task was already over (timed out, execution stopped, token invalid) at the first telling: the
 * decision was recorded but changed nothing; `closed` when a later telling (after one whose answer was
 * lost) found the task closed: the first may have delivered it, or the task ended otherwise (the
 * execution's history says which).
 */
export type DeliveryState = "pending" | "sent" | "task-over" | "closed";

/** The DynamoDB item, as the code sees it. */
export interface ApprovalItem {
    /**
     * At least 128 unpredictable bits, base64url: random ({@link newApprovalId}), or, as the requester makes
     * it, an HMAC of the task token with the key ring's current key (`approvalIdFor`, 256 bits), so that a
     * redelivered request finds its item. The table's partition key.
     */
    readonly approvalId: string;
    /** `$$.Task.Token`. A bearer secret: only here. */
    readonly taskToken: string;
    /** One line, shown as the page's heading (plain text: the page escapes it). */
    readonly title: string;
    /** Plain text, shown with its line breaks (escaped). */
    readonly details: string;
    /** Who asked (a name, an email, a system). */
    readonly requestedBy: string;
    /** Who may decide: ids or emails. A link is signed for one of them. */
    readonly approvers: readonly string[];
    /** `$$.StateMachine.Id`. */
    readonly stateMachineArn: string;
    /** `$$.Execution.Id`: logged with every decision. */
    readonly executionArn: string;
    /** When the item was written, ISO 8601 UTC (`Date.prototype.toISOString`). */
    readonly createdAt: string;
    /**
     * After this no decision is taken, ISO 8601 UTC (`toISOString` form: the store compares it as a
     * string). No later than the state's entered time plus the task's `TimeoutSeconds`.
     */
    readonly expiresAt: string;
    /**
     * DynamoDB TTL attribute, epoch seconds: when DynamoDB may delete the item. Later than `expiresAt`
     * (see {@link DEFAULT_RETENTION_SECONDS}), so a late click still gets "already decided" or "expired"
     * rather than "unknown". https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
     */
    readonly ttl: number;
    readonly status: ApprovalStatus;
    /** The approver who decided (one of `approvers`). */
    readonly decidedBy?: string;
    /** When, ISO 8601 UTC. */
    readonly decidedAt?: string;
    /** The approver's comment (plain text; may be empty). Sent as `cause` of a rejection. */
    readonly comment?: string;
    /** Set with the decision; see {@link DeliveryState}. */
    readonly delivery?: DeliveryState;
    /** The Step Functions error name when `delivery` is `task-over` (`TaskTimedOut`, ...). */
    readonly deliveryError?: string;
    /**
     * When the requester finished notifying every approver, ISO 8601 UTC. Absent until then: a
     * redelivered request finds the item and notifies again only while this is unset.
     */
    readonly notifiedAt?: string;
}

/**
 * The item's attribute names in DynamoDB, one per field: the requester, the page and the component's
 * table (partition key, TTL attribute) all take them from here.
 */
export const APPROVAL_ATTRIBUTES = {
    approvalId: "approvalId",
    taskToken: "taskToken",
    title: "title",
    details: "details",
    requestedBy: "requestedBy",
    approvers: "approvers",
    stateMachineArn: "stateMachineArn",
    executionArn: "executionArn",
    createdAt: "createdAt",
    expiresAt: "expiresAt",
    ttl: "ttl",
    status: "status",
    decidedBy: "decidedBy",
    decidedAt: "decidedAt",
    comment: "comment",
    delivery: "delivery",
    deliveryError: "deliveryError",
    notifiedAt: "notifiedAt",
} as const satisfies { readonly [K in keyof ApprovalItem]-?: K };

/** The table's partition key (type S). */
export const APPROVAL_PARTITION_KEY = APPROVAL_ATTRIBUTES.approvalId;
/** The table's TTL attribute (type N, epoch seconds). */
export const APPROVAL_TTL_ATTRIBUTE = APPROVAL_ATTRIBUTES.ttl;

/** How long an item is kept after it expires, by default: 7 days. */
export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;

/** Limits the store and the page enforce. */
export const APPROVAL_LIMITS = {
    /** An approval id: 22 (128 bits) to 86 (512 bits) base64url characters. */
    idPattern: /^[A-Za-z0-9_-]{22,86}$/,
    titleMaxLength: 200,
    detailsMaxLength: 10_000,
    /** One approver id or email. */
    approverMaxLength: 254,
    /** Who asked (a name, an email, a system). */
    requestedByMaxLength: 254,
    approversMax: 50,
    /** The approver's comment; it becomes `SendTaskFailure.cause` (32768 at most). */
    commentMaxLength: 2000,
} as const;

/** The error `SendTaskFailure` carries when an approver rejects. */
export const REJECTED_ERROR = "Approval.Rejected";

/** The output `SendTaskSuccess` carries when an approver approves. */
export interface ApprovedOutput {
    readonly decision: "approved";
    readonly approver: string;
    readonly comment: string;
    readonly decidedAt: string;
}

/** A fresh approval id: 16 random bytes (128 bits), base64url without padding (22 characters). */
export function newApprovalId(bytes = 16): string {
    if (!Number.isInteger(bytes) || bytes < 16 || bytes > 64) {
        throw new RangeError("An approval id needs 16 to 64 random bytes.");
    }
    return randomBytes(bytes).toString("base64url");
}

/** Whether `text` is one approver id: printable, no control characters, not blank. */
export function isApprover(text: unknown): text is string {
    return (
        typeof text === "string" &&
        text.trim() === text &&
        text.length > 0 &&
        text.length <= APPROVAL_LIMITS.approverMaxLength &&
        // eslint-disable-next-line no-control-regex
        !/[\u0000-\u001f\u007f]/.test(text)
    );
}

/** What the requester knows when it creates an approval. */
export interface NewApproval extends Pick<
    ApprovalItem,
    "taskToken" | "title" | "details" | "requestedBy" | "approvers" | "stateMachineArn" | "executionArn"
> {
    /** `$$.State.EnteredTime`. */
    readonly enteredTime: string | Date;
    /** The task's `TimeoutSeconds`: the approval expires no later than entered time plus this. */
    readonly taskTimeoutSeconds: number;
    /** An earlier expiry wanted (optional); the later of the two is never taken. */
    readonly expiresAt?: string | Date;
    readonly retentionSeconds?: number;
    readonly now?: Date;
}

/** Builds a pending item: a fresh id, `expiresAt` capped by the task timeout, `ttl` after it. */
export function newPendingApproval(request: NewApproval): ApprovalItem {
    const now = request.now ?? new Date();
    const entered = new Date(request.enteredTime);
    if (Number.isNaN(entered.getTime())) {
        throw new RangeError("enteredTime is not a date.");
    }
    if (!Number.isInteger(request.taskTimeoutSeconds) || request.taskTimeoutSeconds <= 0) {
        throw new RangeError("taskTimeoutSeconds must be a positive integer.");
    }
    let expires = entered.getTime() + request.taskTimeoutSeconds * 1000;
    if (request.expiresAt !== undefined) {
        const wanted = new Date(request.expiresAt).getTime();
        if (Number.isNaN(wanted)) {
            throw new RangeError("expiresAt is not a date.");
        }
        expires = Math.min(expires, wanted);
    }
    const expiresAt = new Date(expires).toISOString();
    return {
        approvalId: newApprovalId(),
        taskToken: request.taskToken,
        title: request.title,
        details: request.details,
        requestedBy: request.requestedBy,
        approvers: [...request.approvers],
        stateMachineArn: request.stateMachineArn,
        executionArn: request.executionArn,
        createdAt: now.toISOString(),
        expiresAt,
        ttl: Math.ceil(expires / 1000) + (request.retentionSeconds ?? DEFAULT_RETENTION_SECONDS),
        status: "pending",
    };
}

/** Problems with an item before it is stored (empty when valid). */
export function checkApprovalItem(item: ApprovalItem): string[] {
    const problems: string[] = [];
    if (!APPROVAL_LIMITS.idPattern.test(item.approvalId)) {
        problems.push("approvalId must be 22 to 86 base64url characters (at least 128 random bits).");
    }
    if (typeof item.taskToken !== "string" || item.taskToken.length === 0 || item.taskToken.length > 2048) {
        problems.push("taskToken must be 1 to 2048 characters.");
    }
    if (
        typeof item.title !== "string" ||
        item.title.length === 0 ||
        item.title.length > APPROVAL_LIMITS.titleMaxLength
    ) {
        problems.push(`title must be 1 to ${APPROVAL_LIMITS.titleMaxLength} characters.`);
    }
    if (typeof item.details !== "string" || item.details.length > APPROVAL_LIMITS.detailsMaxLength) {
        problems.push(`details must be at most ${APPROVAL_LIMITS.detailsMaxLength} characters.`);
    }
    if (typeof item.requestedBy !== "string" || item.requestedBy.length === 0) {
        problems.push("requestedBy must be set.");
    }
    if (
        !Array.isArray(item.approvers) ||
        item.approvers.length === 0 ||
        item.approvers.length > APPROVAL_LIMITS.approversMax ||
        !item.approvers.every(isApprover)
    ) {
        problems.push(`approvers must be 1 to ${APPROVAL_LIMITS.approversMax} ids without control characters.`);
    }
    for (const field of ["createdAt", "expiresAt"] as const) {
        const value = item[field];
        if (typeof value !== "string" || Number.isNaN(Date.parse(value)) || new Date(value).toISOString() !== value) {
            problems.push(`${field} must be an ISO 8601 UTC date as toISOString() writes it.`);
        }
    }
    if (!Number.isInteger(item.ttl) || item.ttl * 1000 < Date.parse(item.expiresAt)) {
        problems.push("ttl must be epoch seconds no earlier than expiresAt.");
    }
    if (item.status !== "pending") {
        problems.push("a new item's status must be pending.");
    }
    return problems;
}
