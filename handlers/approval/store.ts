/**
 * The pending-approval table, through @aws-sdk/client-dynamodb: four calls (GetItem, PutItem, and two
 * kinds of conditional UpdateItem), each bounded in time.
 *
 * A decision is one conditional UpdateItem (`#status = :pending AND #expiresAt > :now`), so of any
 * number of concurrent POSTs exactly one wins; the others fail the condition, and with
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD` the error carries the item as it was, which tells
 * "already decided by X at T" from "expired" from "unknown" without another read.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-ReturnValuesOnConditionCheckFailure
 */
import {
    ConditionalCheckFailedException,
    DynamoDBClient,
    GetItemCommand,
    PutItemCommand,
    UpdateItemCommand,
    type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import {
    APPROVAL_ATTRIBUTES as A,
    checkApprovalItem,
    type ApprovalItem,
    type ApprovalStatus,
    type Decision,
    type DeliveryState,
} from "./contract";
import { boundedAttempts } from "./sfn";

export interface ApprovalStoreOptions {
    readonly tableName: string;
    /** A client of your own; default one built from the settings below. */
    readonly client?: DynamoDBClient;
    /** An endpoint (the loopback fake, DynamoDB Local); default the region's. */
    readonly endpoint?: string;
    /** One attempt, at most, in milliseconds. Default 2000. */
    readonly callTimeoutMs?: number;
    /** Attempts per call, first included. Default 3. */
    readonly maxAttempts?: number;
}

/** What a decision's conditional write ends in. */
export type DecideOutcome =
    | { readonly kind: "decided"; readonly item: ApprovalItem }
    | {
          readonly kind: "already-decided";
          readonly status: Exclude<ApprovalStatus, "pending">;
          readonly decidedBy: string;
          readonly decidedAt: string;
          readonly item: ApprovalItem;
      }
    | { readonly kind: "expired"; readonly item: ApprovalItem }
    | { readonly kind: "unknown" };

/** A stored item is not what this code writes (a field missing or of another type). */
export class MalformedItemError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MalformedItemError";
    }
}

/** Creates a DynamoDB client with bounded attempts (as the callback worker's SFN client). */
export function dynamoDbClient(options: Omit<ApprovalStoreOptions, "tableName" | "client"> = {}): DynamoDBClient {
    return new DynamoDBClient({
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        ...boundedAttempts(options.callTimeoutMs ?? 2000, options.maxAttempts),
    });
}

const s = (value: string): AttributeValue => ({ S: value });

export function marshalItem(item: ApprovalItem): Record<string, AttributeValue> {
    const out: Record<string, AttributeValue> = {
        [A.approvalId]: s(item.approvalId),
        [A.taskToken]: s(item.taskToken),
        [A.title]: s(item.title),
        [A.details]: s(item.details),
        [A.requestedBy]: s(item.requestedBy),
        // A list, not a string set: a set cannot be empty and forgets order.
        [A.approvers]: { L: item.approvers.map(s) },
        [A.stateMachineArn]: s(item.stateMachineArn),
        [A.executionArn]: s(item.executionArn),
        [A.createdAt]: s(item.createdAt),
        [A.expiresAt]: s(item.expiresAt),
        [A.ttl]: { N: String(item.ttl) },
        [A.status]: s(item.status),
    };
    for (const field of ["decidedBy", "decidedAt", "comment", "delivery", "deliveryError", "notifiedAt"] as const) {
        const value = item[field];
        if (value !== undefined) {
            out[A[field]] = s(value);
        }
    }
    return out;
}

export function unmarshalItem(raw: Record<string, AttributeValue>): ApprovalItem {
    const str = (name: string, optional = false): string | undefined => {
        const value = raw[name]?.S;
        if (value === undefined && !optional) {
            throw new MalformedItemError(`The approval item has no string attribute ${name}.`);
        }
        return value;
    };
    const required = (name: string): string => str(name) as string;
    const status = required(A.status);
    if (status !== "pending" && status !== "approved" && status !== "rejected") {
        throw new MalformedItemError(`The approval item's status is not pending, approved or rejected.`);
    }
    const approvers = raw[A.approvers]?.L?.map((value) => value.S);
    if (approvers === undefined || approvers.some((value) => value === undefined)) {
        throw new MalformedItemError(`The approval item's ${A.approvers} is not a list of strings.`);
    }
    const ttl = Number(raw[A.ttl]?.N);
    const optional = Object.fromEntries(
        (["decidedBy", "decidedAt", "comment", "delivery", "deliveryError", "notifiedAt"] as const).flatMap((field) => {
            const value = str(A[field], true);
            return value === undefined ? [] : [[field, value]];
        }),
    ) as Pick<ApprovalItem, "decidedBy" | "decidedAt" | "comment" | "delivery" | "deliveryError" | "notifiedAt">;
    return {
        approvalId: required(A.approvalId),
        taskToken: required(A.taskToken),
        title: required(A.title),
        details: required(A.details),
        requestedBy: required(A.requestedBy),
        approvers: approvers as string[],
        stateMachineArn: required(A.stateMachineArn),
        executionArn: required(A.executionArn),
        createdAt: required(A.createdAt),
        expiresAt: required(A.expiresAt),
        ttl: Number.isFinite(ttl) ? ttl : 0,
        status,
        ...optional,
    };
}

/** Every attribute name of an expression as `#name`, so reserved words (`status`, `ttl`, `comment`) are safe. */
const NAMES = Object.fromEntries(Object.values(A).map((name) => [`#${name}`, name]));
function namesIn(expression: string): Record<string, string> {
    return Object.fromEntries(Object.entries(NAMES).filter(([alias]) => new RegExp(`${alias}\\b`).test(expression)));
}

export class ApprovalStore {
    private readonly client: DynamoDBClient;
    private readonly tableName: string;

    constructor(options: ApprovalStoreOptions) {
        this.tableName = options.tableName;
        this.client = options.client ?? dynamoDbClient(options);
    }

    /** The item, read strongly consistent (a decision just written is seen), or undefined. */
    public async getApproval(approvalId: string): Promise<ApprovalItem | undefined> {
        const reply = await this.client.send(
            new GetItemCommand({
                TableName: this.tableName,
                Key: { [A.approvalId]: s(approvalId) },
                ConsistentRead: true,
            }),
        );
        return reply.Item === undefined ? undefined : unmarshalItem(reply.Item);
    }

    /** Stores a new pending item; fails (ConditionalCheckFailedException) when its id exists. */
    public async putPending(item: ApprovalItem): Promise<void> {
        const problems = checkApprovalItem(item);
        if (problems.length > 0) {
            throw new RangeError(`Not a valid pending approval: ${problems.join(" ")}`);
        }
        const condition = `attribute_not_exists(#${A.approvalId})`;
        await this.client.send(
            new PutItemCommand({
                TableName: this.tableName,
                Item: marshalItem(item),
                ConditionExpression: condition,
                ExpressionAttributeNames: namesIn(condition),
            }),
        );
    }

    /**
     * Records a decision, once: only while the item is pending and not expired at `now`. The winner gets
     * the decided item (`delivery: pending`); every other caller a typed outcome.
     */
    public async decide(
        approvalId: string,
        decision: Decision,
        approver: string,
        comment: string,
        now: Date,
    ): Promise<DecideOutcome> {
        const update = `SET #${A.status} = :status, #${A.decidedBy} = :approver, #${A.decidedAt} = :now, #${A.comment} = :comment, #${A.delivery} = :delivery`;
        const condition = `attribute_exists(#${A.approvalId}) AND #${A.status} = :pending AND #${A.expiresAt} > :now`;
        try {
            const reply = await this.client.send(
                new UpdateItemCommand({
                    TableName: this.tableName,
                    Key: { [A.approvalId]: s(approvalId) },
                    UpdateExpression: update,
                    ConditionExpression: condition,
                    ExpressionAttributeNames: namesIn(`${update} ${condition}`),
                    ExpressionAttributeValues: {
                        ":status": s(decision === "approve" ? "approved" : "rejected"),
                        ":approver": s(approver),
                        ":now": s(now.toISOString()),
                        ":comment": s(comment),
                        ":delivery": s("pending" satisfies DeliveryState),
                        ":pending": s("pending" satisfies ApprovalStatus),
                    },
                    ReturnValues: "ALL_NEW",
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                }),
            );
            if (reply.Attributes === undefined) {
                throw new MalformedItemError("UpdateItem with ReturnValues ALL_NEW returned no attributes.");
            }
            return { kind: "decided", item: unmarshalItem(reply.Attributes) };
        } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException)) {
                throw error;
            }
            if (error.Item === undefined) {
                return { kind: "unknown" };
            }
            const item = unmarshalItem(error.Item);
            if (item.status !== "pending") {
                return {
                    kind: "already-decided",
                    status: item.status,
                    decidedBy: item.decidedBy ?? "someone",
                    decidedAt: item.decidedAt ?? "an unknown time",
                    item,
                };
            }
            return { kind: "expired", item };
        }
    }

    /** Records what Step Functions said to the decision (`sent`, or `task-over` with its error name). */
    public markDelivery(approvalId: string, delivery: DeliveryState, errorName?: string): Promise<void> {
        const { update, values } = deliveryUpdate(delivery, errorName);
        return this.setOnExisting(approvalId, update, values);
    }

    /**
     * Records a redelivered decision's outcome, only while the decision is still undelivered: of two pages
     * redelivering at once, the first answer is kept. Returns whether it was recorded.
     */
    public markRedelivered(approvalId: string, delivery: DeliveryState, errorName?: string): Promise<boolean> {
        const { update, values } = deliveryUpdate(delivery, errorName);
        return this.updateIf(approvalId, update, `#${A.delivery} = :undelivered`, {
            ...values,
            ":undelivered": s("pending" satisfies DeliveryState),
        });
    }

    /**
     * Records that the requester notified every approver (`notifiedAt`), so a redelivered request does
     * not notify them again. Only on an existing item.
     */
    public markNotified(approvalId: string, at: Date): Promise<void> {
        return this.setOnExisting(approvalId, `SET #${A.notifiedAt} = :at`, { ":at": s(at.toISOString()) });
    }

    /** Applies `update` to an item that exists (never creates one); ConditionalCheckFailed when there is none. */
    private async setOnExisting(
        approvalId: string,
        update: string,
        values: Record<string, AttributeValue>,
    ): Promise<void> {
        await this.update(approvalId, update, `attribute_exists(#${A.approvalId})`, values);
    }

    /**
     * Takes back a decision that Step Functions could not be told (throttled, unreachable), so the
     * approver can try again: only the decision written at `decidedAt` and still undelivered. Returns
     * whether it was taken back.
     */
    public revertDecision(approvalId: string, decidedAt: string): Promise<boolean> {
        return this.updateIf(
            approvalId,
            `SET #${A.status} = :pending REMOVE #${A.decidedBy}, #${A.decidedAt}, #${A.comment}, #${A.delivery}`,
            `#${A.decidedAt} = :decidedAt AND #${A.delivery} = :undelivered`,
            { ":pending": s("pending"), ":decidedAt": s(decidedAt), ":undelivered": s("pending") },
        );
    }

    /** A conditional UpdateItem: whether the condition held (and the update was applied). */
    private async updateIf(
        approvalId: string,
        update: string,
        condition: string,
        values: Record<string, AttributeValue>,
    ): Promise<boolean> {
        try {
            await this.update(approvalId, update, condition, values);
            return true;
        } catch (error) {
            if (error instanceof ConditionalCheckFailedException) {
                return false;
            }
            throw error;
        }
    }

    /** One conditional UpdateItem of an approval, its attribute names taken from the expressions. */
    private async update(
        approvalId: string,
        update: string,
        condition: string,
        values: Record<string, AttributeValue>,
    ): Promise<void> {
        await this.client.send(
            new UpdateItemCommand({
                TableName: this.tableName,
                Key: { [A.approvalId]: s(approvalId) },
                UpdateExpression: update,
                ConditionExpression: condition,
                ExpressionAttributeNames: namesIn(`${update} ${condition}`),
                ExpressionAttributeValues: values,
            }),
        );
    }
}

/** The update recording what became of telling Step Functions (and its error name, when it says one). */
function deliveryUpdate(
    delivery: DeliveryState,
    errorName: string | undefined,
): { update: string; values: Record<string, AttributeValue> } {
    return errorName === undefined
        ? { update: `SET #${A.delivery} = :delivery`, values: { ":delivery": s(delivery) } }
        : {
              update: `SET #${A.delivery} = :delivery, #${A.deliveryError} = :error`,
              values: { ":delivery": s(delivery), ":error": s(errorName) },
          };
}
