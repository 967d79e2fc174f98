/**
 * The loopback SNS (local/sns-endpoint.ts) and Secrets Manager (local/secrets-endpoint.ts) fakes with
 * the real SDK clients pointed at them: the wire round trips, the errors the SDK maps to its exception
 * classes, injected throttling retried by the SDK, and the approval code that uses them (the requester's
 * SNS notifier, the Secrets Manager key ring and its cache rules).
 */
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { DynamoDBClient, type AttributeValue } from "@aws-sdk/client-dynamodb";
import {
    DescribeSecretCommand,
    GetSecretValueCommand,
    PutSecretValueCommand,
    ResourceExistsException,
    ResourceNotFoundException,
    SecretsManagerClient,
    SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
    CreateTopicCommand,
    InvalidParameterException,
    InvalidParameterValueException,
    NotFoundException,
    PublishCommand,
    SNSClient,
    SNSServiceException,
    ThrottledException,
    type PublishCommandInput,
} from "@aws-sdk/client-sns";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import type { SQSEvent } from "aws-lambda";
import {
    APPROVAL_ATTRIBUTES,
    ApprovalStore,
    createApprovalRequesterHandler,
    linkUrl,
    parseKeyRing,
    SecretsManagerKeyRing,
    signLink,
    snsNotifier,
    unmarshalItem,
    verifyLink,
    type KeyRingJson,
} from "../handlers/approval";
import { FakeDynamoDb } from "../local/dynamodb-endpoint";
import { FakeSecretsManager, SECRETS_INTERNAL_ERROR } from "../local/secrets-endpoint";
import { FakeStepFunctions } from "../local/sfn-endpoint";
import { FakeSns, SNS_MAX_MESSAGE_BYTES } from "../local/sns-endpoint";
import { FAKE_CREDENTIALS } from "./harness/approval";

const REGION = "us-east-1";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:approvals";
const RING_SECRET = "approval/link-keys";
const PAGE_URL = "https://approve.example.com/approval/";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const key = (): string => randomBytes(32).toString("base64");
const ringJson = (ring: KeyRingJson): string => JSON.stringify(ring);
const K1 = key();
const INITIAL_RING: KeyRingJson = { current: "k1", keys: { k1: K1 } };

/** Client options: the fake's endpoint, fake credentials, one attempt unless a retry strategy is given. */
function clientConfig(endpoint: string, retries?: number) {
    return {
        endpoint,
        region: REGION,
        credentials: FAKE_CREDENTIALS,
        ...(retries === undefined
            ? { maxAttempts: 1 }
            : // The SDK's own standard strategy (its classification of throttling and transient errors)
              // with a 5 ms backoff instead of up to a second, to keep the file fast.
              { retryStrategy: new ConfiguredRetryStrategy(retries, 5) }),
    };
}

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (error) {
        return error as Error;
    }
    assert.fail("expected a rejection");
}

/** A secret as the ApprovalChannel creates it: no value until the requester puts the first ring. */
const EMPTY_SECRET = "approval/empty-link-keys";

describe("approval fakes: SNS and Secrets Manager on loopback, real SDK clients", function () {
    this.timeout(10_000);
    let sns: FakeSns;
    let secrets: FakeSecretsManager;
    let snsClient: SNSClient;
    let secretsClient: SecretsManagerClient;

    before(async () => {
        [sns, secrets] = await Promise.all([
            FakeSns.start({ topics: [TOPIC] }),
            FakeSecretsManager.start({
                secrets: { [RING_SECRET]: ringJson(INITIAL_RING), other: "plain text", [EMPTY_SECRET]: null },
            }),
        ]);
        snsClient = new SNSClient(clientConfig(sns.url));
        secretsClient = new SecretsManagerClient(clientConfig(secrets.url));
    });
    beforeEach(() => {
        sns.reset();
        secrets.reset();
    });
    afterEach(() => {
        assert.deepEqual(sns.protocolErrors, [], "every SNS request followed the protocol");
        assert.deepEqual(secrets.protocolErrors, [], "every Secrets Manager request followed the protocol");
    });
    after(async () => {
        snsClient?.destroy();
        secretsClient?.destroy();
        await Promise.all([sns?.close(), secrets?.close()]);
    });

    describe("SNS (AWS Query, XML)", () => {
        const publish = (input: Partial<PublishCommandInput>) =>
            snsClient.send(new PublishCommand({ TopicArn: TOPIC, Message: "hello", ...input }));

        it("publishes: subject, a unicode message and message attributes arrive as sent", async () => {
            const message = "Déploiement ✓ 🎉 <b>&amp;</b> + = %20 a&b\nsecond line";
            const next = sns.nextPublish();
            const reply = await publish({
                Subject: "Deploy 1.2.3 to prod?",
                Message: message,
                MessageAttributes: {
                    approver: { DataType: "String", StringValue: "alice@example.com" },
                    attempt: { DataType: "Number", StringValue: "-1.5e3" },
                    digest: { DataType: "Binary", BinaryValue: Buffer.from([0, 1, 254, 255]) },
                    tags: { DataType: "String.Array", StringValue: '["a", 1, true]' },
                },
            });
            const published = await next;
            assert.match(reply.MessageId ?? "", UUID);
            assert.equal(reply.$metadata.httpStatusCode, 200);
            assert.match(reply.$metadata.requestId ?? "", UUID);
            assert.equal(published.messageId, reply.MessageId);
            assert.equal(published.topicArn, TOPIC);
            assert.equal(published.subject, "Deploy 1.2.3 to prod?");
            assert.equal(published.message, message);
            assert.deepEqual(published.attributes, {
                approver: { dataType: "String", stringValue: "alice@example.com" },
                attempt: { dataType: "Number", stringValue: "-1.5e3" },
                digest: { dataType: "Binary", binaryValue: Buffer.from([0, 1, 254, 255]) },
                tags: { dataType: "String.Array", stringValue: '["a", 1, true]' },
            });
            assert.deepEqual(sns.published, [published]);
            // The form the SDK wrote, as the fake decoded it.
            const [call] = sns.calls;
            assert.equal(call?.action, "Publish");
            assert.equal(call?.params["Version"], "2010-03-31");
            assert.equal(call?.params["MessageAttributes.entry.1.Name"], "approver");
            assert.equal(call?.params["MessageAttributes.entry.1.Value.DataType"], "String");
            assert.equal(call?.params["MessageAttributes.entry.1.Value.StringValue"], "alice@example.com");
        });

        it("answers in the Query protocol's XML, errors as an ErrorResponse", async () => {
            const post = (form: string, authorization: string) =>
                fetch(sns.url, {
                    method: "POST",
                    headers: { "content-type": "application/x-www-form-urlencoded", authorization },
                    body: form,
                });
            const auth =
                "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00";
            const ok = await post(
                `Action=Publish&Version=2010-03-31&TopicArn=${encodeURIComponent(TOPIC)}&Message=hi`,
                auth,
            );
            assert.equal(ok.status, 200);
            assert.equal(ok.headers.get("content-type"), "text/xml");
            assert.match(
                await ok.text(),
                /^<\?xml version="1\.0"\?>\n<PublishResponse xmlns="http:\/\/sns\.amazonaws\.com\/doc\/2010-03-31\/"><PublishResult><MessageId>[0-9a-f-]{36}<\/MessageId><\/PublishResult><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/PublishResponse>\n$/,
            );
            const missing = await post(
                `Action=Publish&Version=2010-03-31&TopicArn=${encodeURIComponent(`${TOPIC}-gone`)}&Message=hi`,
                auth,
            );
            assert.equal(missing.status, 404);
            assert.match(
                await missing.text(),
                /^<\?xml version="1\.0"\?>\n<ErrorResponse xmlns="http:\/\/sns\.amazonaws\.com\/doc\/2010-03-31\/"><Error><Type>Sender<\/Type><Code>NotFound<\/Code><Message>Topic does not exist<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>\n$/,
            );
            // Signed for another service: refused before anything is read.
            const wrongScope = await post("Action=Publish&Version=2010-03-31", auth.replace("/sns/", "/sqs/"));
            assert.equal(wrongScope.status, 403);
            assert.match(await wrongScope.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
            assert.equal(sns.protocolErrors.length, 1);
            sns.protocolErrors.length = 0;
        });

        it("refuses what SNS refuses, with the exceptions the SDK maps its codes to", async () => {
            const cases: Array<[string, Partial<PublishCommandInput>, new (...args: never[]) => Error]> = [
                ["unknown topic", { TopicArn: `${TOPIC}-gone` }, NotFoundException],
                ["malformed topic ARN", { TopicArn: "approvals" }, InvalidParameterException],
                ["empty message", { Message: "" }, InvalidParameterException],
                ["message over 256 KiB", { Message: "x".repeat(SNS_MAX_MESSAGE_BYTES + 1) }, InvalidParameterException],
                [
                    "message at 256 KiB plus an attribute",
                    {
                        Message: "é".repeat(SNS_MAX_MESSAGE_BYTES / 2),
                        MessageAttributes: { approver: { DataType: "String", StringValue: "a" } },
                    },
                    InvalidParameterException,
                ],
                ["subject with a line break", { Subject: "Deploy\nnow" }, InvalidParameterException],
                ["subject of 100 characters", { Subject: "s".repeat(100) }, InvalidParameterException],
                ["subject not ASCII", { Subject: "Déploiement" }, InvalidParameterException],
                ["subject starting with a space", { Subject: " Deploy" }, InvalidParameterException],
                ["empty subject", { Subject: "" }, InvalidParameterException],
                [
                    "attribute type not String, Number or Binary",
                    { MessageAttributes: { approver: { DataType: "string", StringValue: "a" } } },
                    InvalidParameterValueException,
                ],
                [
                    "attribute without a value",
                    { MessageAttributes: { approver: { DataType: "String" } } },
                    InvalidParameterValueException,
                ],
                [
                    "attribute with an empty value",
                    { MessageAttributes: { approver: { DataType: "String", StringValue: "" } } },
                    InvalidParameterValueException,
                ],
                [
                    "Number attribute not a number",
                    { MessageAttributes: { n: { DataType: "Number", StringValue: "ten" } } },
                    InvalidParameterValueException,
                ],
                [
                    "attribute name AWS-reserved",
                    { MessageAttributes: { "AWS.approver": { DataType: "String", StringValue: "a" } } },
                    InvalidParameterValueException,
                ],
                [
                    "JSON structure without a default",
                    { MessageStructure: "json", Message: '{"email": "hi"}' },
                    InvalidParameterException,
                ],
            ];
            for (const [what, input, type] of cases) {
                const error = await rejection(publish(input));
                assert.ok(error instanceof type, `${what}: ${error.name} ${error.message}`);
                assert.ok(error instanceof SNSServiceException, what);
                assert.equal(error.$fault, "client", what);
            }
            assert.equal((await rejection(publish({ TopicArn: `${TOPIC}-gone` }))).message, "Topic does not exist");
            assert.equal(sns.published.length, 0, "nothing refused was published");
            // The bounds themselves are accepted.
            await publish({ Subject: "s".repeat(99) });
            await publish({ Message: "é".repeat(SNS_MAX_MESSAGE_BYTES / 2) });
            await publish({ MessageStructure: "json", Message: '{"default": "hi", "email": "hello"}' });
            assert.equal(sns.published.length, 3);
        });

        it("refuses other actions with the SNS error shape", async () => {
            const error = await rejection(snsClient.send(new CreateTopicCommand({ Name: "another" })));
            assert.ok(error instanceof SNSServiceException);
            assert.equal(error.name, "InvalidAction");
            assert.equal(error.message, "Could not find operation CreateTopic for version 2010-03-31");
            assert.equal(error.$metadata.httpStatusCode, 400);
            assert.deepEqual(sns.calls, []);
            assert.equal(sns.protocolErrors.length, 1);
            sns.protocolErrors.length = 0;
        });

        it("injected throttling is retried by the SDK, and surfaces as ThrottledException past its attempts", async () => {
            const client = new SNSClient(clientConfig(sns.url, 3));
            sns.failNext(2);
            const reply = await client.send(new PublishCommand({ TopicArn: TOPIC, Message: "after two throttles" }));
            assert.equal(reply.$metadata.attempts, 3);
            assert.deepEqual(
                sns.calls.map((call) => call.error),
                ["Throttled", "Throttled", undefined],
            );
            assert.equal(sns.published.length, 1);
            assert.equal(sns.published[0]?.messageId, reply.MessageId);
            sns.failNext(3);
            const error = await rejection(client.send(new PublishCommand({ TopicArn: TOPIC, Message: "never" })));
            client.destroy();
            assert.ok(error instanceof ThrottledException, error.name);
            assert.equal(error.$metadata.httpStatusCode, 429);
            assert.equal(error.$metadata.attempts, 3);
            assert.equal(sns.calls.length, 6);
            assert.equal(sns.published.length, 1);
        });

        it("the requester's snsNotifier publishes once per approver with the approver attribute", async () => {
            const dynamo = await FakeDynamoDb.start("approvals", APPROVAL_ATTRIBUTES.approvalId);
            const sfn = await FakeStepFunctions.start();
            const dynamoClient = new DynamoDBClient(clientConfig(dynamo.url));
            const sfnClient = new SFNClient(clientConfig(sfn.url));
            const keyRing = new SecretsManagerKeyRing({ secretId: RING_SECRET, client: secretsClient });
            const token = `AQB${randomBytes(48).toString("base64")}`;
            const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
            try {
                const handler = createApprovalRequesterHandler({
                    store: new ApprovalStore({ tableName: "approvals", client: dynamoClient }),
                    keyRing,
                    notifier: snsNotifier({ topicArn: TOPIC, client: snsClient }),
                    sfn: sfnClient,
                    pageUrl: PAGE_URL,
                    logger: quiet,
                });
                const approvers = ["alice@example.com", "bob@example.com", "carol"];
                const event: SQSEvent = {
                    Records: [
                        {
                            messageId: "m-1",
                            receiptHandle: "rh-1",
                            body: JSON.stringify({
                                TaskToken: token,
                                ExecutionId: "arn:aws:states:us-east-1:123456789012:execution:deploy:run-1",
                                StateMachineId: "arn:aws:states:us-east-1:123456789012:stateMachine:deploy",
                                EnteredTime: new Date().toISOString(),
                                Approval: {
                                    title: "Déploiement 1.2.3 — prod",
                                    details: "Changes: ✓ one",
                                    approvers,
                                    requestedBy: "release-bot",
                                    timeoutSeconds: 3600,
                                },
                            }),
                            attributes: {
                                ApproximateReceiveCount: "1",
                                SentTimestamp: String(Date.now()),
                                SenderId: "AIDA",
                                ApproximateFirstReceiveTimestamp: String(Date.now()),
                            },
                            messageAttributes: {},
                            md5OfBody: "",
                            eventSource: "aws:sqs",
                            eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:approvals",
                            awsRegion: REGION,
                        },
                    ],
                };
                const reply = await handler(event);
                assert.deepEqual(reply.batchItemFailures, []);
                assert.deepEqual(dynamo.protocolErrors, []);
                assert.deepEqual(sfn.calls, [], "a valid request does not answer the task");
                assert.deepEqual(
                    sns.published.map((message) => message.attributes),
                    approvers.map((approver) => ({ approver: { dataType: "String", stringValue: approver } })),
                );
                const item = unmarshalItem([...dynamo.items.values()][0] as unknown as Record<string, AttributeValue>);
                const ring = await keyRing.load();
                for (const [index, message] of sns.published.entries()) {
                    assert.equal(message.topicArn, TOPIC);
                    assert.equal(message.subject, "D?ploiement 1.2.3 ? prod", "the title made ASCII");
                    assert.ok(message.message.includes("Déploiement 1.2.3 — prod"), "the message keeps unicode");
                    assert.ok(!message.message.includes(token), "no task token in a notification");
                    const link = new URL(/https:\/\/\S+/.exec(message.message)?.[0] ?? "");
                    const verified = verifyLink(
                        ring,
                        { approvalId: link.pathname.split("/").pop() ?? "", query: link.searchParams },
                        new Date(),
                    );
                    assert.equal(verified.result, "ok");
                    assert.equal(verified.result === "ok" && verified.link.approver, approvers[index]);
                    assert.equal(verified.result === "ok" && verified.link.approvalId, item.approvalId);
                }
                assert.deepEqual(
                    secrets.calls.map((call) => [call.operation, call.body["SecretId"]]),
                    [["GetSecretValue", RING_SECRET]],
                );
            } finally {
                dynamoClient.destroy();
                sfnClient.destroy();
                await Promise.all([dynamo.close(), sfn.close()]);
            }
        });
    });

    describe("Secrets Manager (JSON 1.1)", () => {
        it("GetSecretValue by name, ARN or partial ARN; PutSecretValue makes a new AWSCURRENT", async () => {
            const arn = secrets.arnOf(RING_SECRET);
            assert.match(
                arn,
                /^arn:aws:secretsmanager:us-east-1:123456789012:secret:approval\/link-keys-[A-Za-z0-9]{6}$/,
            );
            const before = Date.now();
            const byName = await secretsClient.send(new GetSecretValueCommand({ SecretId: RING_SECRET }));
            assert.equal(byName.ARN, arn);
            assert.equal(byName.Name, RING_SECRET);
            assert.equal(byName.SecretString, ringJson(INITIAL_RING));
            assert.deepEqual(byName.VersionStages, ["AWSCURRENT"]);
            assert.match(byName.VersionId ?? "", UUID);
            assert.ok(byName.CreatedDate instanceof Date && byName.CreatedDate.getTime() <= before);
            for (const id of [arn, arn.slice(0, -7)]) {
                const reply = await secretsClient.send(new GetSecretValueCommand({ SecretId: id }));
                assert.equal(reply.VersionId, byName.VersionId, id);
            }
            const rotated = ringJson({ current: "k2", keys: { k1: K1, k2: key() } });
            const put = await secretsClient.send(new PutSecretValueCommand({ SecretId: arn, SecretString: rotated }));
            assert.equal(put.ARN, arn);
            assert.equal(put.Name, RING_SECRET);
            assert.deepEqual(put.VersionStages, ["AWSCURRENT"]);
            const current = await secretsClient.send(new GetSecretValueCommand({ SecretId: RING_SECRET }));
            assert.equal(current.VersionId, put.VersionId);
            assert.equal(current.SecretString, rotated);
            assert.ok((current.CreatedDate?.getTime() ?? 0) >= before);
            const previous = await secretsClient.send(
                new GetSecretValueCommand({ SecretId: RING_SECRET, VersionStage: "AWSPREVIOUS" }),
            );
            assert.equal(previous.VersionId, byName.VersionId);
            assert.deepEqual(previous.VersionStages, ["AWSPREVIOUS"]);
            const byVersion = await secretsClient.send(
                new GetSecretValueCommand({ SecretId: RING_SECRET, VersionId: byName.VersionId }),
            );
            assert.equal(byVersion.SecretString, ringJson(INITIAL_RING));
            // The same token and value again is idempotent; another value under it is refused.
            const token = put.VersionId as string;
            const again = await secretsClient.send(
                new PutSecretValueCommand({ SecretId: RING_SECRET, SecretString: rotated, ClientRequestToken: token }),
            );
            assert.equal(again.VersionId, token);
            assert.equal(secrets.versionsOf(RING_SECRET).length, 2);
            const changed = await rejection(
                secretsClient.send(
                    new PutSecretValueCommand({ SecretId: RING_SECRET, SecretString: "{}", ClientRequestToken: token }),
                ),
            );
            assert.ok(changed instanceof ResourceExistsException, changed.name);
            // Binary secrets travel as base64.
            const binary = Buffer.from([0, 1, 2, 250]);
            await secretsClient.send(new PutSecretValueCommand({ SecretId: "other", SecretBinary: binary }));
            const read = await secretsClient.send(new GetSecretValueCommand({ SecretId: "other" }));
            assert.deepEqual(Buffer.from(read.SecretBinary ?? []), binary);
            assert.equal(read.SecretString, undefined);
        });

        it("refuses unknown secrets, versions and operations with the exceptions the SDK maps", async () => {
            for (const input of [
                { SecretId: "approval/unknown" },
                { SecretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:approval/unknown-AbCdEf" },
                { SecretId: RING_SECRET, VersionStage: "AWSPENDING" },
                { SecretId: RING_SECRET, VersionId: "00000000-0000-0000-0000-000000000000" },
            ]) {
                const error = await rejection(secretsClient.send(new GetSecretValueCommand(input)));
                assert.ok(error instanceof ResourceNotFoundException, `${JSON.stringify(input)}: ${error.name}`);
                assert.equal(error.$metadata.httpStatusCode, 400);
            }
            const missing = await rejection(
                secretsClient.send(new PutSecretValueCommand({ SecretId: "approval/unknown", SecretString: "{}" })),
            );
            assert.ok(missing instanceof ResourceNotFoundException);
            assert.equal(missing.message, "Secrets Manager can't find the specified secret.");
            const other = await rejection(secretsClient.send(new DescribeSecretCommand({ SecretId: RING_SECRET })));
            assert.ok(other instanceof SecretsManagerServiceException);
            assert.equal(other.name, "UnknownOperationException");
            assert.deepEqual(secrets.protocolErrors, ["target secretsmanager.DescribeSecret"]);
            secrets.protocolErrors.length = 0;
            const ring = new SecretsManagerKeyRing({ secretId: "approval/unknown", client: secretsClient });
            assert.ok((await rejection(ring.load())) instanceof ResourceNotFoundException);
        });

        it("the key ring loads from the fake and sees a rotation when a link names an unknown key", async () => {
            let now = 1_000_000;
            const ring = new SecretsManagerKeyRing({
                secretId: secrets.arnOf(RING_SECRET),
                client: secretsClient,
                now: () => now,
            });
            const first = await ring.load();
            assert.equal(first.current, "k1");
            assert.deepEqual([...first.keys.keys()], ["k1"]);
            assert.equal(await ring.load(), first, "cached");
            // Rotation: k2 added and made current.
            const rotated: KeyRingJson = { current: "k2", keys: { k1: K1, k2: key() } };
            await secretsClient.send(
                new PutSecretValueCommand({ SecretId: RING_SECRET, SecretString: ringJson(rotated) }),
            );
            now += 1000;
            assert.equal(await ring.load(), first, "within maxAgeMs the cached ring is used");
            // A link signed by an instance that already has the new ring names k2, unknown here.
            const link = new URL(
                linkUrl(
                    PAGE_URL,
                    signLink(parseKeyRing(rotated), {
                        approvalId: randomBytes(16).toString("base64url"),
                        approver: "alice@example.com",
                        expiresAt: Math.floor(Date.now() / 1000) + 3600,
                    }),
                ),
            );
            const raw = { approvalId: link.pathname.split("/").pop() ?? "", query: link.searchParams };
            assert.deepEqual(verifyLink(first, raw, new Date()), { result: "tampered", unknownKey: true });
            const refreshed = await ring.load({ refresh: true });
            assert.equal(refreshed.current, "k2");
            assert.equal(verifyLink(refreshed, raw, new Date()).result, "ok");
            const reads = () => secrets.calls.filter((call) => call.operation === "GetSecretValue").length;
            assert.equal(reads(), 2);
            // Another rotation: forced refreshes at most every minRefreshIntervalMs (30 s).
            const third: KeyRingJson = { current: "k3", keys: { ...rotated.keys, k3: key() } };
            await secretsClient.send(
                new PutSecretValueCommand({ SecretId: RING_SECRET, SecretString: ringJson(third) }),
            );
            now += 29_000;
            assert.equal((await ring.load({ refresh: true })).current, "k2", "refresh refused within 30 s");
            assert.equal(reads(), 2);
            now += 1000;
            assert.equal((await ring.load({ refresh: true })).current, "k3");
            assert.equal(reads(), 3);
            // Without a refresh the ring is read again once maxAgeMs (5 minutes) has passed.
            await secretsClient.send(
                new PutSecretValueCommand({ SecretId: RING_SECRET, SecretString: ringJson(INITIAL_RING) }),
            );
            now += 5 * 60_000 - 1;
            assert.equal((await ring.load()).current, "k3");
            now += 1;
            assert.equal((await ring.load()).current, "k1");
            assert.equal(reads(), 4);
        });

        it("injected throttling is retried by the SDK; past its attempts the key ring keeps its last ring", async () => {
            const client = new SecretsManagerClient(clientConfig(secrets.url, 3));
            let now = 0;
            const ring = new SecretsManagerKeyRing({ secretId: RING_SECRET, client, now: () => now });
            try {
                secrets.failNext(2);
                const loaded = await ring.load();
                assert.equal(loaded.current, "k1");
                assert.deepEqual(
                    secrets.calls.map((call) => call.error),
                    ["ThrottlingException", "ThrottlingException", undefined],
                );
                secrets.failNext(3);
                const direct = await rejection(client.send(new GetSecretValueCommand({ SecretId: RING_SECRET })));
                assert.ok(direct instanceof SecretsManagerServiceException);
                assert.equal(direct.name, "ThrottlingException");
                assert.equal(direct.$metadata.attempts, 3);
                // Secrets Manager failing on its side past the retries: the ring read before still serves.
                secrets.failNext(3, SECRETS_INTERNAL_ERROR);
                now += 60_000;
                assert.equal(await ring.load({ refresh: true }), loaded);
                assert.equal(secrets.calls.length, 9);
                assert.deepEqual(
                    secrets.calls.slice(6).map((call) => call.error),
                    ["InternalServiceError", "InternalServiceError", "InternalServiceError"],
                );
            } finally {
                client.destroy();
            }
        });

        it("the requester's key ring makes the first ring of an empty secret once, however many instances race", async () => {
            const page = new SecretsManagerKeyRing({ secretId: EMPTY_SECRET, client: secretsClient });
            const refused = await rejection(page.load());
            assert.equal(refused.name, "ResourceNotFoundException", "the page never writes the ring");
            const requesters = [1, 2, 3].map(
                () =>
                    new SecretsManagerKeyRing({ secretId: EMPTY_SECRET, client: secretsClient, createIfMissing: true }),
            );
            const rings = await Promise.all(requesters.map((ring) => ring.load()));
            assert.equal(secrets.versionsOf(EMPTY_SECRET).length, 1, "one version: the first put wins");
            for (const ring of rings) {
                assert.equal(ring.current, "k1");
                assert.deepEqual(ring.keys, rings[0]?.keys, "every instance signs with the winner's key");
            }
            assert.equal(rings[0]?.keys.get("k1")?.length, 32);
            assert.deepEqual((await page.load()).keys, rings[0]?.keys, "the page reads what the requester made");
        });
    });
});
