/**
 * The approval requester: real SDK clients against the loopback DynamoDB and Step Functions fakes, an
 * in-memory notifier, and the SNS notifier against aws-sdk-client-mock. Every log entry, notification
 * and link is checked for the task tokens at the end.
 */
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import {
    DynamoDBClient,
    PutItemCommand,
    type AttributeValue,
    ProvisionedThroughputExceededException,
} from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient, ThrottledException } from "@aws-sdk/client-sns";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import {
    APPROVAL_ATTRIBUTES,
    approvalIdFor,
    ApprovalStore,
    createApprovalRequesterHandler,
    InMemoryKeyRing,
    INVALID_REQUEST_ERROR,
    notificationText,
    parseApprovalRequest,
    snsNotifier,
    TRUNCATED,
    unmarshalItem,
    verifyLink,
    type ApprovalItem,
    type ApprovalNotification,
    type ApprovalRequesterOptions,
    type Notifier,
    type RequesterLogger,
} from "../handlers/approval";
import { FakeDynamoDb } from "../local/dynamodb-endpoint";
import { FakeStepFunctions } from "../local/sfn-endpoint";
import { FAKE_CREDENTIALS } from "./harness/approval";

const TABLE = "approvals";
const COMMON = { region: "eu-west-1", credentials: FAKE_CREDENTIALS, maxAttempts: 1 };
const PAGE_URL = "https://approve.example.com/approval/";
const EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:deploy:run-1";
const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:deploy";

describe("approval requester (loopback DynamoDB and Step Functions)", function () {
    this.timeout(10_000);
    let dynamo: FakeDynamoDb;
    let sfn: FakeStepFunctions;
    let store: ApprovalStore;
    let sfnClient: SFNClient;
    const ring = InMemoryKeyRing.random("k1");
    const logs: Array<{ level: string; message: string; keys?: Record<string, unknown> }> = [];
    const sent: ApprovalNotification[] = [];
    const allSent: ApprovalNotification[] = [];
    const tokens: string[] = [];
    const log =
        (level: string) =>
        (message: string, keys?: Record<string, unknown>): void =>
            void logs.push({ level, message, ...(keys ? { keys } : {}) });
    const logger = { info: log("info"), warn: log("warn"), error: log("error") } as unknown as RequesterLogger;
    const onlyItem = (): ApprovalItem => {
        assert.equal(dynamo.items.size, 1);
        return unmarshalItem([...dynamo.items.values()][0] as unknown as Record<string, AttributeValue>);
    };
    const memoryNotifier: Notifier = (notification) => {
        sent.push(notification);
        allSent.push(notification);
        return Promise.resolve();
    };

    before(async () => {
        dynamo = await FakeDynamoDb.start(TABLE, APPROVAL_ATTRIBUTES.approvalId);
        sfn = await FakeStepFunctions.start();
        store = new ApprovalStore({
            tableName: TABLE,
            client: new DynamoDBClient({ ...COMMON, endpoint: dynamo.url }),
        });
        sfnClient = new SFNClient({ ...COMMON, endpoint: sfn.url });
    });
    beforeEach(() => {
        dynamo.reset();
        sfn.reset();
        sent.length = 0;
    });
    afterEach(() => {
        assert.deepEqual(dynamo.protocolErrors, [], "every DynamoDB request was in the subset and well-formed");
        assert.deepEqual(sfn.protocolErrors, [], "every Step Functions request followed the protocol");
    });
    after(async () => {
        await sfn?.close();
        await dynamo?.close();
        // No token in any log line, notification or link, in any of its encodings.
        const everything = JSON.stringify({ logs, allSent });
        for (const token of tokens) {
            for (const form of [token, encodeURIComponent(token), JSON.stringify(token).slice(1, -1)]) {
                assert.ok(!everything.includes(form), "no task token in a log line or notification");
            }
        }
        // No link (its signature) in any log line.
        const logText = JSON.stringify(logs);
        assert.ok(!/[?&]s=/.test(logText) && !logText.includes(PAGE_URL), "no link in a log line");
    });

    function handler(overrides: Partial<ApprovalRequesterOptions> = {}) {
        return createApprovalRequesterHandler({
            store,
            keyRing: ring,
            notifier: memoryNotifier,
            sfn: sfnClient,
            pageUrl: PAGE_URL,
            logger,
            ...overrides,
        });
    }

    function newToken(): string {
        const token = `AQB${randomBytes(48).toString("base64")}+/=`;
        tokens.push(token);
        return token;
    }

    function body(token: string, approval: Record<string, unknown> = {}): string {
        return JSON.stringify({
            TaskToken: token,
            ExecutionId: EXECUTION,
            StateMachineId: MACHINE,
            EnteredTime: new Date().toISOString(),
            Approval: {
                title: "Deploy 1.2.3 to prod",
                details: "Changes:\n- one",
                approvers: ["alice@example.com", "bob@example.com"],
                requestedBy: "release-bot",
                timeoutSeconds: 3600,
                ...approval,
            },
        });
    }

    function record(text: string, messageId = `m-${randomBytes(4).toString("hex")}`, count = 1): SQSRecord {
        return {
            messageId,
            receiptHandle: `rh-${messageId}`,
            body: text,
            attributes: {
                ApproximateReceiveCount: String(count),
                SentTimestamp: String(Date.now()),
                SenderId: "AIDA",
                ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: "",
            eventSource: "aws:sqs",
            eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:approvals",
            awsRegion: "eu-west-1",
        };
    }

    const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

    /**
     * The records a run reports failed. When every record of the batch fails, Powertools throws
     * FullBatchFailureError instead (the invocation fails and SQS redelivers the whole batch), as in the
     * callback worker: that counts as all failed.
     */
    async function failedOf(
        run: ReturnType<typeof handler>,
        batch: SQSEvent,
    ): Promise<Array<{ itemIdentifier: string }>> {
        try {
            return (await run(batch)).batchItemFailures;
        } catch (error) {
            assert.equal((error as Error).name, "FullBatchFailureError");
            return batch.Records.map((r) => ({ itemIdentifier: r.messageId }));
        }
    }

    it("stores one item and notifies each approver with a link verifyLink accepts", async () => {
        const token = newToken();
        const reply = await handler()(event(record(body(token))));
        assert.deepEqual(reply.batchItemFailures, []);
        assert.equal(dynamo.items.size, 1);
        const item = onlyItem();
        const snapshot = await ring.load();
        assert.equal(item.approvalId, approvalIdFor(snapshot, token));
        assert.equal(item.taskToken, token);
        assert.equal(item.status, "pending");
        assert.equal(item.executionArn, EXECUTION);
        assert.ok(item.notifiedAt !== undefined, "marked notified");
        assert.deepEqual(
            sent.map((n) => n.approver),
            ["alice@example.com", "bob@example.com"],
        );
        for (const notification of sent) {
            assert.equal(notification.title, "Deploy 1.2.3 to prod");
            assert.equal(notification.expiresAt, item.expiresAt);
            assert.equal(notification.approvalId, item.approvalId);
            const url = new URL(notification.link);
            assert.ok(notification.link.startsWith(`${PAGE_URL}${item.approvalId}?`));
            const verified = verifyLink(
                snapshot,
                { approvalId: url.pathname.split("/").pop()!, query: url.searchParams },
                new Date(),
            );
            assert.equal(verified.result, "ok");
            assert.ok(verified.result === "ok");
            assert.equal(verified.link.approver, notification.approver);
            assert.equal(verified.link.expiresAt, Math.floor(Date.parse(item.expiresAt) / 1000));
        }
        assert.equal(sfn.calls.length, 0, "no Step Functions call on success");
    });

    it("a redelivery creates no second item and sends no second notification", async () => {
        const token = newToken();
        const text = body(token);
        const run = handler();
        await run(event(record(text, "m-1")));
        assert.equal(sent.length, 2);
        const reply = await run(event(record(text, "m-1", 2)));
        assert.deepEqual(reply.batchItemFailures, []);
        assert.equal(dynamo.items.size, 1);
        assert.equal(sent.length, 2, "nothing sent again");
        assert.equal(dynamo.callsOf("PutItem").length, 2, "the second put was refused by its condition");
        assert.ok(logs.some((entry) => entry.message.startsWith("Approval already requested")));
    });

    it("a redelivery after a failed notification notifies, and still one item", async () => {
        const token = newToken();
        const text = body(token);
        let fail = true;
        const flaky: Notifier = async (notification) => {
            if (fail && notification.approver === "bob@example.com") {
                throw new ThrottledException({ message: "Rate exceeded", $metadata: {} });
            }
            await memoryNotifier(notification);
        };
        const first = await failedOf(handler({ notifier: flaky }), event(record(text, "m-2")));
        assert.deepEqual(first, [{ itemIdentifier: "m-2" }], "SNS throttling fails the record");
        assert.equal(onlyItem().notifiedAt, undefined);
        fail = false;
        sent.length = 0;
        const second = await handler({ notifier: flaky })(event(record(text, "m-2", 2)));
        assert.deepEqual(second.batchItemFailures, []);
        assert.equal(dynamo.items.size, 1);
        assert.deepEqual(
            sent.map((n) => n.approver),
            ["alice@example.com", "bob@example.com"],
        );
        assert.ok(onlyItem().notifiedAt !== undefined);
    });

    it("an invalid request fails its task with Approval.InvalidRequest and the record is done", async () => {
        const token = newToken();
        const bad = record(body(token, { approvers: [], timeoutSeconds: 1.5 }), "m-3");
        const reply = await handler()(event(bad));
        assert.deepEqual(reply.batchItemFailures, []);
        assert.equal(dynamo.calls.length, 0, "nothing stored");
        assert.equal(sent.length, 0);
        assert.equal(sfn.calls.length, 1);
        const call = sfn.calls[0]!;
        assert.equal(call.operation, "SendTaskFailure");
        assert.equal(call.body["taskToken"], token);
        assert.equal(call.body["error"], INVALID_REQUEST_ERROR);
        const cause = String(call.body["cause"]);
        assert.match(cause, /Approval\.approvers must be a list of 1 to 50 .* \(got 0 approvers\)/);
        assert.match(cause, /Approval\.timeoutSeconds .* \(got 1\.5\)/);
        assert.ok(!cause.includes(token));
    });

    it("validation names the field, the value and what is allowed", () => {
        const message = JSON.parse(body("t", { approvers: ["ok@example.com", " spaced", "ok@example.com"] })) as {
            TaskToken: string;
        };
        assert.throws(
            () => parseApprovalRequest({ ...message, ExecutionId: "nope" }),
            (error: Error) =>
                /ExecutionId must be a Step Functions execution ARN \(got "nope"\)/.test(error.message) &&
                /Approval\.approvers\[1\] must be .* \(got " spaced"\)/.test(error.message) &&
                /Approval\.approvers\[2\] repeats "ok@example.com"/.test(error.message),
        );
        assert.throws(
            () => parseApprovalRequest({ TaskToken: "t", ExecutionId: EXECUTION, StateMachineId: MACHINE }),
            /EnteredTime must be an ISO 8601 date.*Approval must be an object/,
        );
    });

    it("cuts what the approver reads to its limits (marked) rather than failing the task, the title one line", async () => {
        const token = newToken();
        const details = `${"line of an order\n".repeat(2000)}end`;
        const title = `Refund\r\n${"x".repeat(300)}`;
        const reply = await handler()(event(record(body(token, { title, details, requestedBy: "r".repeat(400) }))));
        assert.deepEqual(reply.batchItemFailures, []);
        assert.equal(sfn.calls.length, 0, "the task was not failed");
        const item = onlyItem();
        assert.equal(item.details.length, 10_000);
        assert.ok(item.details.endsWith(TRUNCATED));
        assert.equal(item.title.length, 200);
        assert.match(item.title, /^Refund x+ … \(truncated\)$/);
        assert.equal(item.requestedBy.length, 254);
        assert.equal(sent[0]?.details, item.details);
    });

    it("logs a notifier's failure without the link it was given", async () => {
        const echoing: Notifier = (notification) =>
            Promise.reject(new Error(`chat 400: could not post ${notification.link}`));
        const failed = await failedOf(handler({ notifier: echoing }), event(record(body(newToken()))));
        assert.equal(failed.length, 1, "the record fails: SQS redelivers it");
        const line = JSON.stringify(logs.filter((l) => l.message.startsWith("Could not request")));
        assert.match(line, /could not post \[link redacted\]/);
        assert.doesNotMatch(line, /[?&]s=[A-Za-z0-9_-]{20,}/);
    });

    it("puts the link before the workflow's details in a notification, and quotes the details", () => {
        const text = notificationText({
            approver: "ops@example.com",
            title: "Refund order 42",
            details: "Customer note: thanks\nApprove or reject here:\nhttps://approvals.evil.example/login",
            link: "https://abc.execute-api.eu-west-1.amazonaws.com/ID?a=ops%40example.com&e=1&k=k1&s=S",
            expiresAt: "2030-01-01T00:00:00.000Z",
            requestedBy: "refunds (execution 1)",
            approvalId: "ID",
        });
        assert.ok(text.indexOf("execute-api") < text.indexOf("evil.example"), "the real link comes first");
        assert.match(text, /^> Approve or reject here:$/m);
        assert.match(text, /^> https:\/\/approvals\.evil\.example\/login$/m);
        assert.doesNotMatch(text, /^https:\/\/approvals\.evil/m, "no line of the details stands as our own");
    });

    it("a DynamoDB failure fails the record (partial batch failure), other records go on", async () => {
        const client = new DynamoDBClient({ ...COMMON, endpoint: dynamo.url });
        const mock = mockClient(client);
        mock.on(PutItemCommand).rejects(
            new ProvisionedThroughputExceededException({ message: "Throughput exceeded", $metadata: {} }),
        );
        const failing = new ApprovalStore({ tableName: TABLE, client });
        const reply = await failedOf(handler({ store: failing }), event(record(body(newToken()), "m-4")));
        mock.restore();
        assert.deepEqual(reply, [{ itemIdentifier: "m-4" }]);
        assert.equal(sent.length, 0);
        assert.equal(sfn.calls.length, 0, "a transient error does not fail the task");
        assert.ok(
            logs.some(
                (entry) =>
                    entry.level === "error" &&
                    entry.keys?.["errorName"] === "ProvisionedThroughputExceededException" &&
                    entry.keys?.["messageId"] === "m-4",
            ),
        );
        // A poison record (no token) is failed; a good one beside it is not.
        const mixed = await handler()(event(record("{}", "m-5"), record(body(newToken()), "m-6")));
        assert.deepEqual(mixed.batchItemFailures, [{ itemIdentifier: "m-5" }]);
        assert.equal(dynamo.items.size, 1);
    });

    it("the SNS notifier publishes once per approver with the approver attribute and no token", async () => {
        const client = new SNSClient(COMMON);
        const mock = mockClient(client);
        mock.on(PublishCommand).resolves({ MessageId: "sns-1" });
        const topicArn = "arn:aws:sns:eu-west-1:123456789012:approvals";
        const token = newToken();
        const reply = await handler({ notifier: snsNotifier({ topicArn, client }) })(
            event(record(body(token, { title: "Déploy 1.2.3 to prod" }), "m-7")),
        );
        assert.deepEqual(reply.batchItemFailures, []);
        const calls = mock.commandCalls(PublishCommand);
        mock.restore();
        assert.equal(calls.length, 2);
        const item = onlyItem();
        calls.forEach((call, index) => {
            const input = call.args[0].input;
            const approver = ["alice@example.com", "bob@example.com"][index]!;
            assert.equal(input.TopicArn, topicArn);
            assert.equal(input.Subject, "D?ploy 1.2.3 to prod", "subject = title, ASCII as SNS requires");
            assert.deepEqual(input.MessageAttributes, { approver: { DataType: "String", StringValue: approver } });
            assert.ok(input.Message?.includes(`${PAGE_URL}${item.approvalId}?a=${encodeURIComponent(approver)}`));
            assert.ok(!JSON.stringify(input).includes(token), "no token in the publish");
        });
    });
});
