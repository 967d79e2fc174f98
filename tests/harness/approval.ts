/**
 * The approval page as the tests run it: `serveApprovalPage` on 127.0.0.1 in front of an `ApprovalPage`
 * whose real SDK clients talk to the loopback fakes of DynamoDB (local/dynamodb-endpoint.ts) and Step
 * Functions (local/sfn-endpoint.ts), with an in-memory key ring. `seed` stores a pending approval as the
 * requester does (`newPendingApproval`, `putPending`, a link from `signLink`/`linkUrl`); the Step Functions
 * fake answers every call with `{}`, so the task waits until a responder says otherwise.
 *
 * Used by tests/approval-page.test.ts (HTTP) and tests/approval-browser.test.ts (a real browser).
 */
import { randomBytes } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
    APPROVAL_ATTRIBUTES,
    ApprovalPage,
    ApprovalStore,
    InMemoryKeyRing,
    linkUrl,
    newPendingApproval,
    serveApprovalPage,
    signLink,
    type ApprovalItem,
    type PageLogger,
    type ServedPage,
} from "../../handlers/approval";
import { FakeDynamoDb } from "../../local/dynamodb-endpoint";
import { FakeStepFunctions } from "../../local/sfn-endpoint";

export const APPROVAL_TABLE = "approvals";
export const FAKE_CREDENTIALS = { accessKeyId: "AKIDFAKEFAKEFAKE", secretAccessKey: "fake-secret" };

/** What `seed` takes: `newPendingApproval`'s fields, each with a default. */
export type SeedFields = Partial<Parameters<typeof newPendingApproval>[0]>;

export interface ApprovalRig {
    readonly dynamo: FakeDynamoDb;
    readonly sfn: FakeStepFunctions;
    readonly store: ApprovalStore;
    readonly ring: InMemoryKeyRing;
    readonly served: ServedPage;
    /** Every task token `seed` made, to check that none leaks. */
    readonly tokens: string[];
    /** Every link signature `seed` made. */
    readonly signatures: string[];
    /** An SFN client on the fake, as the page's (for a second page on the same fakes). */
    sfnClient(): SFNClient;
    /** Stores a pending approval and returns it with a link for `linkFor`, valid `linkSeconds`. */
    seed(fields?: SeedFields, linkFor?: string, linkSeconds?: number): Promise<{ item: ApprovalItem; url: string }>;
    close(): Promise<void>;
}

export async function startApprovalRig(
    options: { readonly logger?: PageLogger; readonly now?: () => Date } = {},
): Promise<ApprovalRig> {
    const [dynamo, sfn] = await Promise.all([
        FakeDynamoDb.start(APPROVAL_TABLE, APPROVAL_ATTRIBUTES.approvalId),
        FakeStepFunctions.start(),
    ]);
    const common = { region: "eu-west-1", credentials: FAKE_CREDENTIALS, maxAttempts: 1 };
    // Each attempt bounded, as the page's own client (an answer later than this is lost).
    const sfnClient = (): SFNClient =>
        new SFNClient({
            ...common,
            endpoint: sfn.url,
            requestHandler: { requestTimeout: 1000, throwOnRequestTimeout: true },
        });
    const store = new ApprovalStore({
        tableName: APPROVAL_TABLE,
        client: new DynamoDBClient({ ...common, endpoint: dynamo.url }),
    });
    const ring = InMemoryKeyRing.random("k1");
    const page = new ApprovalPage({
        store,
        keyRing: ring,
        sfn: sfnClient(),
        ...(options.logger !== undefined ? { logger: options.logger } : {}),
        ...(options.now !== undefined ? { now: options.now } : {}),
    });
    const served = await serveApprovalPage(page.handleRequest);
    const tokens: string[] = [];
    const signatures: string[] = [];

    return {
        dynamo,
        sfn,
        store,
        ring,
        served,
        tokens,
        signatures,
        sfnClient,
        async seed(fields = {}, linkFor = "alice@example.com", linkSeconds = 3600) {
            const token = `AQB${randomBytes(48).toString("base64")}+/=`;
            tokens.push(token);
            const item = newPendingApproval({
                taskToken: token,
                title: "Deploy 1.2.3 to prod",
                details: "Changes:\n- one\n- two",
                requestedBy: "release-bot",
                approvers: ["alice@example.com", "bob@example.com"],
                stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:release",
                executionArn: `arn:aws:states:eu-west-1:123456789012:execution:release:${randomBytes(4).toString("hex")}`,
                enteredTime: new Date(),
                taskTimeoutSeconds: 24 * 3600,
                ...fields,
            });
            await store.putPending(item);
            const link = signLink(await ring.load(), {
                approvalId: item.approvalId,
                approver: linkFor,
                expiresAt: Math.floor(Date.now() / 1000) + linkSeconds,
            });
            signatures.push(link.signature);
            return { item, url: linkUrl(`${served.url}/`, link) };
        },
        async close() {
            await served.close();
            await Promise.all([sfn.close(), dynamo.close()]);
        },
    };
}
