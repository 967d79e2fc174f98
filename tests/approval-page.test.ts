/**
 * The approval page over HTTP: node:http on 127.0.0.1 in front of `handleRequest`, the real SDK clients
 * talking to loopback fakes of DynamoDB (local/dynamodb-endpoint.ts) and Step Functions
 * (local/sfn-endpoint.ts), set up by tests/harness/approval.ts. Every response, log line and request URL
 * is kept, and checked for the task token at the end.
 */
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import {
    ApprovalPage,
    createApprovalPageHandler,
    createFunctionUrlHandler,
    escapeHtml,
    InMemoryKeyRing,
    MAX_BODY_BYTES,
    linkUrl,
    REJECTED_ERROR,
    SecretsManagerKeyRing,
    signLink,
    verifyLink,
    type ApprovalStore,
    type PageLogger,
    type PageRequest,
    type PageResponse,
    type ServedPage,
} from "../handlers/approval";
import type { FakeDynamoDb } from "../local/dynamodb-endpoint";
import { sfnError, type FakeStepFunctions } from "../local/sfn-endpoint";
import { captureLogs } from "./fixtures/logs";
import { FAKE_CREDENTIALS as CREDENTIALS, startApprovalRig, type ApprovalRig } from "./harness/approval";

/** The text with its first character changed (to another base64url character). */
function alter(text: string): string {
    return `${text.startsWith("A") ? "B" : "A"}${text.slice(1)}`;
}

interface Seen {
    readonly url: string;
    readonly method: string;
    readonly status: number;
    readonly headers: Headers;
    readonly body: string;
}

describe("approval page (HTTP, loopback DynamoDB and Step Functions)", function () {
    this.timeout(10_000);
    let dynamo: FakeDynamoDb;
    let sfn: FakeStepFunctions;
    let store: ApprovalStore;
    let ring: InMemoryKeyRing;
    let served: ServedPage;
    let rig: ApprovalRig;
    let offsetMs = 0;
    const now = (): Date => new Date(Date.now() + offsetMs);
    const logs: Array<{ level: string; message: string; keys: unknown }> = [];
    const seen: Seen[] = [];

    const logger: PageLogger = {
        info: (message: string, keys?: unknown) => void logs.push({ level: "info", message, keys }),
        warn: (message: string, keys?: unknown) => void logs.push({ level: "warn", message, keys }),
        error: (message: string, keys?: unknown) => void logs.push({ level: "error", message, keys }),
    } as PageLogger;

    before(async () => {
        rig = await startApprovalRig({ logger, now });
        ({ dynamo, sfn, store, ring, served } = rig);
    });
    beforeEach(() => {
        sfn.reset();
        offsetMs = 0;
    });
    afterEach(() => {
        assert.deepEqual(dynamo.protocolErrors, [], "every DynamoDB request was in the subset and well-formed");
        assert.deepEqual(sfn.protocolErrors, [], "every Step Functions request followed the protocol");
    });
    after(async () => {
        await rig?.close();
    });

    /** Stores a pending approval and returns it with a link for `approver`. */
    const seed: ApprovalRig["seed"] = (...args) => rig.seed(...args);

    async function request(url: string, init: RequestInit = {}): Promise<Seen> {
        const response = await fetch(url, { redirect: "manual", ...init });
        const result: Seen = {
            url,
            method: init.method ?? "GET",
            status: response.status,
            headers: response.headers,
            body: await response.text(),
        };
        seen.push(result);
        return result;
    }

    /** The hidden fields of a page's form. */
    function hiddenFields(body: string): Record<string, string> {
        const fields: Record<string, string> = {};
        for (const match of body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) {
            fields[match[1] as string] = match[2] as string;
        }
        assert.deepEqual(Object.keys(fields).sort(), ["f", "i", "n"], "the form carries n, i and f");
        return fields;
    }

    function post(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Seen> {
        return request(url, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
            body: new URLSearchParams(fields).toString(),
        });
    }

    async function openAndDecide(url: string, decision: "approve" | "reject", comment = ""): Promise<Seen> {
        const page = await request(url);
        assert.equal(page.status, 200);
        return post(url, { ...hiddenFields(page.body), decision, comment });
    }

    const answers = (): string[] =>
        sfn.calls.filter((c) => c.operation !== "SendTaskHeartbeat").map((c) => c.operation);

    it("must decide nothing on two GETs and a HEAD (a link scanner)", async () => {
        const { item, url } = await seed();
        const first = await request(url);
        const second = await request(url);
        const head = await request(url, { method: "HEAD" });
        assert.deepEqual([first.status, second.status, head.status], [200, 200, 200]);
        assert.equal(head.body, "");
        assert.match(first.body, /<form method="post">/);
        assert.match(first.body, /<button type="submit" name="decision" value="approve"/);
        assert.match(first.body, /<button type="submit" name="decision" value="reject"/);
        assert.match(first.body, /<label for="comment">/);
        assert.match(first.body, /<html lang="en">/);
        assert.match(first.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
        assert.match(first.body, /<time datetime="[0-9T:.-]+Z">[^<]+ UTC<\/time>/);
        assert.deepEqual(answers(), [], "no SendTaskSuccess or SendTaskFailure");
        assert.equal((await store.getApproval(item.approvalId))?.status, "pending");
        assert.equal(dynamo.callsOf("UpdateItem").length, 0, "no write");
    });

    it("must send SendTaskSuccess with {decision, approver, comment, decidedAt} on Approve", async () => {
        const { item, url } = await seed();
        const decided = await openAndDecide(url, "approve", "Looks good.");
        assert.equal(decided.status, 200);
        assert.match(decided.body, /Approved by alice@example\.com/);
        assert.doesNotMatch(decided.body, /<form/);
        const [call] = sfn.callsOf("SendTaskSuccess");
        assert.equal(sfn.callsOf("SendTaskSuccess").length, 1);
        assert.equal(call?.body["taskToken"], item.taskToken);
        const output = JSON.parse(String(call?.body["output"])) as Record<string, unknown>;
        const stored = await store.getApproval(item.approvalId);
        assert.deepEqual(output, {
            decision: "approved",
            approver: "alice@example.com",
            comment: "Looks good.",
            decidedAt: stored?.decidedAt,
        });
        assert.equal(stored?.status, "approved");
        assert.equal(stored?.decidedBy, "alice@example.com");
        assert.equal(stored?.delivery, "sent");
        const entry = logs.find((l) => l.message === "Approval decided");
        assert.deepEqual(entry?.keys, {
            approvalId: item.approvalId,
            approver: "alice@example.com",
            executionId: item.executionArn,
            decision: "approve",
        });
    });

    it("must send SendTaskFailure Approval.Rejected with the comment as cause on Reject", async () => {
        const { item, url } = await seed();
        const decided = await openAndDecide(url, "reject", "Not during the freeze.");
        assert.equal(decided.status, 200);
        assert.match(decided.body, /Rejected by alice@example\.com/);
        assert.deepEqual(
            sfn.callsOf("SendTaskFailure").map((c) => [c.body["taskToken"], c.body["error"], c.body["cause"]]),
            [[item.taskToken, REJECTED_ERROR, "Not during the freeze."]],
        );
        assert.equal((await store.getApproval(item.approvalId))?.status, "rejected");
    });

    it("must take the longest comment the textarea allows in any script, and refuse one character more", async () => {
        // maxlength counts UTF-16 units: 2000 × "€" (3 UTF-8 bytes, 9 percent-encoded) is an 18 kB form.
        const longest = "€".repeat(2000);
        const { item, url } = await seed();
        const decided = await openAndDecide(url, "reject", longest);
        assert.equal(decided.status, 200, decided.body);
        assert.deepEqual(
            sfn.callsOf("SendTaskFailure").map((c) => c.body["cause"]),
            [longest],
        );
        assert.equal((await store.getApproval(item.approvalId))?.comment, longest);
        const { url: other } = await seed();
        const tooLong = await openAndDecide(other, "approve", `${longest}€`);
        assert.equal(tooLong.status, 400);
        assert.match(tooLong.body, /at most 2000 characters/);
        // A body past any form's size is refused before it is read whole, as a page (its headers are checked below).
        const huge = await post(other, { comment: "x".repeat(MAX_BODY_BYTES + 1) });
        assert.equal(huge.status, 413);
        assert.match(huge.body, /too long/);
        assert.equal(answers().length, 1, "the one rejection only");
    });

    it("must answer a second POST (another tab, a replay) with 409 and call nothing", async () => {
        const { url } = await seed();
        const page = await request(url);
        const fields = { ...hiddenFields(page.body), decision: "approve", comment: "" };
        assert.equal((await post(url, fields)).status, 200);
        sfn.reset();
        const replay = await post(url, { ...fields, decision: "reject" });
        assert.equal(replay.status, 409);
        assert.match(replay.body, /already approved by alice@example\.com at <time datetime=/);
        assert.deepEqual(sfn.calls, [], "not even a heartbeat");
        const again = await request(url);
        assert.equal(again.status, 409, "the link's GET says so too");
        assert.doesNotMatch(again.body, /<form/);
    });

    it("must send exactly one SendTask for two concurrent POSTs", async () => {
        const { url } = await seed();
        const [pageA, pageB] = await Promise.all([request(url), request(url)]);
        const results = await Promise.all([
            post(url, { ...hiddenFields(pageA?.body ?? ""), decision: "approve" }),
            post(url, { ...hiddenFields(pageB?.body ?? ""), decision: "reject", comment: "no" }),
        ]);
        assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
        assert.equal(answers().length, 1);
    });

    it("must refuse a tampered signature, another approver and a changed expiry with 403", async () => {
        const { url } = await seed();
        const parsed = new URL(url);
        const variants: Array<[string, (q: URLSearchParams) => void]> = [
            ["signature", (q) => q.set("s", alter(q.get("s") ?? ""))],
            ["approver", (q) => q.set("a", "bob@example.com")],
            ["expiry", (q) => q.set("e", String(Number(q.get("e")) + 3600))],
            ["key id", (q) => q.set("k", "k9")],
        ];
        for (const [what, change] of variants) {
            const changed = new URL(parsed);
            change(changed.searchParams);
            const reply = await request(changed.toString());
            assert.equal(reply.status, 403, what);
            assert.doesNotMatch(reply.body, /<form/, what);
        }
        // Signed by us, but for someone who is not an approver of this item.
        const { item } = await seed();
        const outsider = signLink(await ring.load(), {
            approvalId: item.approvalId,
            approver: "mallory@example.com",
            expiresAt: Math.floor(Date.now() / 1000) + 600,
        });
        assert.equal((await request(linkUrl(served.url, outsider))).status, 403);
        assert.equal((await request(`${served.url}/${item.approvalId}`)).status, 400, "no link fields: malformed");
        assert.deepEqual(answers(), []);
    });

    it("must refuse a POST without, or with another page's, anti-forgery value, or from another site", async () => {
        const { url } = await seed();
        const { url: other } = await seed();
        assert.equal((await post(url, { decision: "approve" })).status, 403, "none");
        const otherFields = hiddenFields((await request(other)).body);
        assert.equal((await post(url, { ...otherFields, decision: "approve" })).status, 403, "another approval's");
        const fields = hiddenFields((await request(url)).body);
        assert.equal(
            (await post(url, { ...fields, f: alter(fields["f"] ?? ""), decision: "approve" })).status,
            403,
            "altered",
        );
        assert.equal(
            (await post(url, { ...fields, decision: "approve" }, { "sec-fetch-site": "cross-site" })).status,
            403,
            "cross-site",
        );
        assert.deepEqual(answers(), [], "nothing decided");
        assert.equal((await post(url, { ...fields, decision: "approve" })).status, 200, "the real one still works");

        const { url: longLived } = await seed({}, "alice@example.com", 20 * 3600);
        const oldFields = hiddenFields((await request(longLived)).body);
        offsetMs = 12 * 3600 * 1000 + 60_000; // the page was opened more than 12 hours ago
        const stale = await post(longLived, { ...oldFields, decision: "approve" });
        assert.equal(stale.status, 403);
        assert.match(stale.body, /out of date/);
        assert.equal(answers().length, 1, "only the real one decided");
    });

    it("must answer an unknown id with 404 and an expired link or approval with 410", async () => {
        const id = randomBytes(16).toString("base64url");
        const unknown = signLink(await ring.load(), {
            approvalId: id,
            approver: "alice@example.com",
            expiresAt: Math.floor(Date.now() / 1000) + 600,
        });
        assert.equal((await request(linkUrl(served.url, unknown))).status, 404);

        const { url } = await seed({}, "alice@example.com", 60);
        const fields = hiddenFields((await request(url)).body);
        offsetMs = 61_000;
        const expiredGet = await request(url);
        assert.equal(expiredGet.status, 410);
        assert.match(expiredGet.body, /expired/);
        assert.equal((await post(url, { ...fields, decision: "approve" })).status, 410);

        offsetMs = 0;
        const { url: shortLived } = await seed({ taskTimeoutSeconds: 30 }); // the item expires before the link
        const shortFields = hiddenFields((await request(shortLived)).body);
        offsetMs = 31_000;
        assert.equal((await request(shortLived)).status, 410);
        assert.equal((await post(shortLived, { ...shortFields, decision: "approve" })).status, 410);
        assert.deepEqual(answers(), []);
    });

    it("must keep a link signed with a rotated-out key valid while the key is in the ring", async () => {
        const { url } = await seed();
        assert.match(url, /k=k1/);
        ring.rotate("k2");
        const page = await request(url);
        assert.equal(page.status, 200);
        const { url: fresh } = await seed();
        assert.match(fresh, /k=k2/, "new links are signed with the current key");
        assert.equal((await post(url, { ...hiddenFields(page.body), decision: "approve" })).status, 200);
        ring.retire("k1");
        const { url: another } = await seed();
        const byOld = signLink(
            { current: "k1", keys: new Map([["k1", randomBytes(32)]]) },
            { approvalId: new URL(another).pathname.slice(1), approver: "alice@example.com", expiresAt: 2e9 },
        );
        assert.equal((await request(linkUrl(served.url, byOld))).status, 403, "a retired key no longer verifies");
    });

    it("must show 410 without buttons when the task is already over", async () => {
        for (const code of ["TaskTimedOut", "TaskDoesNotExist"]) {
            const { url } = await seed();
            sfn.respond((call) => (call.operation === "SendTaskHeartbeat" ? sfnError(code, "over") : undefined));
            const reply = await request(url);
            assert.equal(reply.status, 410, code);
            assert.match(reply.body, /no longer waiting/);
            assert.doesNotMatch(reply.body, /<form|<button/);
        }
        assert.deepEqual(answers(), []);
    });

    it("must say 410 and mark the item when SendTaskSuccess finds the task over after recording", async () => {
        const { item, url } = await seed();
        sfn.respond((call) => (call.operation === "SendTaskSuccess" ? sfnError("TaskTimedOut", "over") : undefined));
        const reply = await openAndDecide(url, "approve");
        assert.equal(reply.status, 410);
        assert.match(reply.body, /recorded, but the workflow had already stopped waiting/);
        const stored = await store.getApproval(item.approvalId);
        assert.equal(stored?.status, "approved");
        assert.equal(stored?.delivery, "task-over");
        assert.equal(stored?.deliveryError, "TaskTimedOut");
    });

    it("must take the decision back (503) when Step Functions refuses it (throttled), so it can be retried", async () => {
        const { item, url } = await seed();
        const page = await request(url);
        sfn.respond((call) =>
            call.operation === "SendTaskSuccess" ? sfnError("ThrottlingException", "Rate exceeded") : undefined,
        );
        const fields = { ...hiddenFields(page.body), decision: "approve" };
        const failed = await post(url, fields);
        assert.equal(failed.status, 503);
        assert.match(failed.body, /not recorded/);
        assert.equal(sfn.callsOf("SendTaskSuccess").length, 3, "the page retries what was not applied");
        assert.equal((await store.getApproval(item.approvalId))?.status, "pending");
        sfn.respond(() => undefined);
        assert.equal((await post(url, fields)).status, 200);
        assert.equal((await store.getApproval(item.approvalId))?.delivery, "sent");
    });

    it("must keep a decision that may have been applied (5xx, timeout), never take it back, and tell it again later", async () => {
        for (const failure of ["503", "lost answer"] as const) {
            sfn.reset();
            offsetMs = 0;
            const { item, url } = await seed();
            let told = 0;
            // A 503, or an answer that arrives after the client gave up: Step Functions may have applied it.
            sfn.respond((call) => {
                if (call.operation !== "SendTaskSuccess") {
                    return undefined;
                }
                told += 1;
                if (told > 1) {
                    return sfnError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
                }
                return failure === "503"
                    ? sfnError("ServiceUnavailable", "down", 503)
                    : { status: 200, body: {}, delayMs: 1_500 };
            });
            const answer = await openAndDecide(url, "approve", "ok");
            assert.equal(answer.status, 503, failure);
            assert.match(answer.body, /recorded, but the workflow did not confirm it/);
            assert.equal(told, 1, "one attempt: an SDK retry would see the delivered task as closed");
            const kept = await store.getApproval(item.approvalId);
            assert.deepEqual([kept?.status, kept?.delivery], ["approved", "pending"], "never taken back");
            offsetMs = 61_000;
            const later = await request(url);
            assert.equal(later.status, 409);
            assert.match(later.body, /it received this decision, or it stopped waiting before/);
            assert.equal(
                (await store.getApproval(item.approvalId))?.delivery,
                "closed",
                "not 'task-over': it may have been delivered",
            );
        }
    });

    it("must refuse the links of someone no longer among the channel's approvers (APPROVAL_APPROVERS)", async () => {
        const { item, url } = await seed({}, "bob@example.com");
        // The same fakes, a page that knows the channel's approvers now: bob has been removed.
        const current = new ApprovalPage({
            store,
            keyRing: ring,
            sfn: rig.sfnClient(),
            approvers: ["alice@example.com"],
            logger,
        });
        const link = new URL(url);
        const asked = await current.handleRequest({
            method: "GET",
            path: link.pathname,
            query: link.search.slice(1),
            headers: {},
        });
        assert.equal(asked.status, 403);
        assert.ok(logs.some((l) => l.message === "Approval link for someone no longer an approver of the channel"));
        assert.equal((await store.getApproval(item.approvalId))?.status, "pending");
        assert.equal((await request(url)).status, 200, "a page without the list goes by the item's");
    });

    it("must redeliver a recorded, undelivered decision on the next visit of a link, once it is a minute old", async () => {
        // A page that recorded the decision and then could neither tell Step Functions nor take it back.
        const { item, url } = await seed();
        const decided = await store.decide(item.approvalId, "approve", "bob@example.com", "ship it", new Date());
        assert.equal(decided.kind, "decided");
        const fresh = await request(url);
        assert.equal(fresh.status, 409);
        assert.match(fresh.body, /already approved by bob@example.com/);
        assert.match(fresh.body, /has not been told yet/);
        assert.deepEqual(answers(), [], "a page may still be sending it: nothing sent yet");

        offsetMs = 61_000;
        sfn.respond((call) =>
            call.operation === "SendTaskSuccess" ? sfnError("ThrottlingException", "slow", 400) : undefined,
        );
        assert.equal((await request(url)).status, 409);
        assert.equal(
            (await store.getApproval(item.approvalId))?.delivery,
            "pending",
            "a failed redelivery is retried later",
        );
        sfn.reset();

        const repaired = await request(url);
        assert.equal(repaired.status, 409);
        assert.doesNotMatch(repaired.body, /has not been told yet/);
        const sent = sfn.calls.filter((c) => c.operation === "SendTaskSuccess");
        assert.equal(sent.length, 1);
        const body = sent[0]?.body as { taskToken: string; output: string };
        assert.equal(body.taskToken, item.taskToken);
        assert.deepEqual(JSON.parse(body.output), {
            decision: "approved",
            approver: "bob@example.com",
            comment: "ship it",
            decidedAt: decided.kind === "decided" ? decided.item.decidedAt : "",
        });
        assert.equal((await store.getApproval(item.approvalId))?.delivery, "sent");
        await request(url);
        assert.equal(answers().length, 1, "delivered once");
        assert.ok(logs.some((l) => l.message === "Approval decided (redelivered)"));
    });

    it("must show HTML in the title, details and requester as text", async () => {
        const { url } = await seed({
            title: `<script>alert(1)</script> & "quotes"`,
            details: `<img src=x onerror=alert(2)>\n<b>bold</b>`,
            requestedBy: `<a href="https://evil.example">me</a>`,
        });
        const reply = await request(url);
        assert.equal(reply.status, 200);
        assert.doesNotMatch(reply.body, /<script>alert|<img src=x|<b>bold|<a href="https:\/\/evil/);
        assert.ok(reply.body.includes(escapeHtml(`<script>alert(1)</script> & "quotes"`)));
        assert.ok(reply.body.includes("&#60;img src=x onerror=alert(2)&#62;\n&#60;b&#62;bold&#60;/b&#62;"));
        assert.equal((reply.body.match(/<script/g) ?? []).length, 1, "only the external local-time script");
        assert.match(reply.body, /<script src="assets\/local-time\.js" defer><\/script>/);
    });

    it("must serve the local-time script under the same headers, and refuse other methods", async () => {
        const script = await request(`${served.url}/assets/local-time.js`);
        assert.equal(script.status, 200);
        assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
        assert.match(script.body, /toLocaleString/);
        const put = await request(`${served.url}/${randomBytes(16).toString("base64url")}`, { method: "PUT" });
        assert.equal(put.status, 405);
        assert.equal(put.headers.get("allow"), "GET, HEAD, POST");
        assert.equal((await request(`${served.url}/`)).status, 404);
    });

    it("must serve the same page through a Lambda function URL event (payload 2.0, base64 body)", async () => {
        const { item, url } = await seed();
        const pageOf = new ApprovalPage({
            store,
            keyRing: ring,
            sfn: rig.sfnClient(),
            logger,
        });
        const handler = createFunctionUrlHandler(pageOf);
        const parsed = new URL(url);
        const event = (method: string, body?: string): LambdaFunctionURLEvent =>
            ({
                version: "2.0",
                routeKey: "$default",
                rawPath: parsed.pathname,
                rawQueryString: parsed.search.slice(1),
                headers: {
                    "content-type": "application/x-www-form-urlencoded",
                    host: "abc.lambda-url.eu-west-1.on.aws",
                },
                requestContext: { http: { method, path: parsed.pathname } },
                isBase64Encoded: body !== undefined,
                ...(body !== undefined ? { body: Buffer.from(body).toString("base64") } : {}),
            }) as unknown as LambdaFunctionURLEvent;
        const shown = (await handler(event("GET"))) as {
            statusCode: number;
            body: string;
            headers: Record<string, string>;
        };
        assert.equal(shown.statusCode, 200);
        assert.match(shown.headers["content-security-policy"] ?? "", /default-src 'none'/);
        const fields = hiddenFields(shown.body);
        const decided = (await handler(
            event("POST", new URLSearchParams({ ...fields, decision: "approve" }).toString()),
        )) as {
            statusCode: number;
        };
        assert.equal(decided.statusCode, 200);
        assert.equal((await store.getApproval(item.approvalId))?.status, "approved");
        seen.push({
            url,
            method: "lambda",
            status: shown.statusCode,
            headers: new Headers(shown.headers),
            body: shown.body,
        });
    });

    it("must log through Powertools without the token or the signature", async () => {
        const { item, url } = await seed();
        const pageOf = new ApprovalPage({
            store,
            keyRing: ring,
            sfn: rig.sfnClient(),
            logger: new Logger({ serviceName: "approval-page-test" }),
        });
        const parsed = new URL(url);
        const base: PageRequest = { method: "GET", path: parsed.pathname, query: parsed.search.slice(1), headers: {} };
        const { result, logs: captured } = await captureLogs(async (): Promise<PageResponse> => {
            const shown = await pageOf.handleRequest(base);
            return pageOf.handleRequest({
                ...base,
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded" },
                body: new URLSearchParams({ ...hiddenFields(shown.body), decision: "approve" }).toString(),
            });
        });
        assert.equal(result.status, 200);
        const entry = captured.entries.find((e) => e["message"] === "Approval decided");
        assert.equal(entry?.["approvalId"], item.approvalId);
        assert.equal(entry?.["executionId"], item.executionArn);
        const text = captured.lines.join("\n");
        assert.ok(!text.includes(item.taskToken), "no token in Powertools' lines");
        assert.ok(!text.includes(parsed.searchParams.get("s") ?? "-"), "no signature in Powertools' lines");
    });

    it("must put the security headers on every response, and the token in none (nor a log line, nor a URL)", () => {
        assert.ok(seen.length > 40, `${seen.length} responses seen`);
        for (const response of seen) {
            const where = `${response.method} ${response.status} ${response.url}`;
            const csp = response.headers.get("content-security-policy") ?? "";
            for (const directive of [
                "default-src 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
                "base-uri 'none'",
            ]) {
                assert.ok(csp.includes(directive), `${where}: CSP has ${directive}`);
            }
            assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/]+=*'/, where);
            assert.equal(response.headers.get("x-content-type-options"), "nosniff", where);
            assert.equal(response.headers.get("referrer-policy"), "no-referrer", where);
            assert.equal(response.headers.get("cache-control"), "no-store", where);
            assert.equal(response.headers.get("set-cookie"), null, where);
        }
        const everything = [
            ...seen.map((r) => `${r.url}\n${JSON.stringify([...r.headers])}\n${r.body}`),
            ...logs.map((l) => `${l.message} ${JSON.stringify(l.keys)}`),
        ].join("\n");
        assert.ok(rig.tokens.length > 10);
        for (const token of rig.tokens) {
            for (const form of [token, encodeURIComponent(token), escapeHtml(token)]) {
                assert.ok(!everything.includes(form), "a task token appears in a response, a URL or a log line");
            }
        }
        const logText = logs.map((l) => JSON.stringify(l.keys)).join("\n");
        for (const signature of rig.signatures) {
            assert.ok(!logText.includes(signature), "a link signature appears in a log line");
        }
    });
});

describe("approval links and key rings", () => {
    it("must verify a link it signed, and tell malformed, tampered and expired apart", async () => {
        const ring = await InMemoryKeyRing.random("k1").load();
        const approvalId = randomBytes(16).toString("base64url");
        const link = signLink(ring, { approvalId, approver: "a@example.com", expiresAt: 2_000_000_000 });
        const query = new URLSearchParams({
            a: link.approver,
            e: String(link.expiresAt),
            k: link.keyId,
            s: link.signature,
        });
        const at = new Date(1_900_000_000_000);
        assert.equal(verifyLink(ring, { approvalId, query }, at).result, "ok");
        assert.equal(verifyLink(ring, { approvalId, query }, new Date(2_000_000_000_000)).result, "expired");
        assert.equal(verifyLink(ring, { approvalId: alter(approvalId), query }, at).result === "ok", false);
        const twice = new URLSearchParams(query);
        twice.append("a", "b@example.com");
        assert.equal(verifyLink(ring, { approvalId, query: twice }, at).result, "malformed");
        const noSig = new URLSearchParams(query);
        noSig.delete("s");
        assert.equal(verifyLink(ring, { approvalId, query: noSig }, at).result, "malformed");
        const longSig = new URLSearchParams(query);
        longSig.set("s", `${link.signature}AAAA`);
        assert.equal(verifyLink(ring, { approvalId, query: longSig }, at).result, "tampered");
        // The 43rd character carries 2 unused bits: a twin spelling decodes to the same MAC, and is refused.
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const twin = alphabet[alphabet.indexOf(link.signature.slice(-1)) ^ 1] ?? "";
        const twinQuery = new URLSearchParams(query);
        twinQuery.set("s", `${link.signature.slice(0, -1)}${twin}`);
        assert.deepEqual(Buffer.from(twinQuery.get("s") ?? "", "base64url"), Buffer.from(link.signature, "base64url"));
        assert.equal(verifyLink(ring, { approvalId, query: twinQuery }, at).result, "tampered");
        assert.throws(() => signLink(ring, { approvalId, approver: "a\nb", expiresAt: 1 }), /control characters/);
    });

    it("must round-trip an approver with + and @ through the link's query", async () => {
        const ring = await InMemoryKeyRing.random("k1").load();
        const approvalId = randomBytes(16).toString("base64url");
        const link = signLink(ring, { approvalId, approver: "ops+approvals@example.com", expiresAt: 2_000_000_000 });
        const url = new URL(linkUrl("https://approvals.example.com/base", link));
        assert.equal(url.pathname, `/base/${approvalId}`);
        const verified = verifyLink(ring, { approvalId, query: url.searchParams }, new Date(1_900_000_000_000));
        assert.equal(verified.result, "ok");
        assert.equal(verified.result === "ok" && verified.link.approver, "ops+approvals@example.com");
    });

    it("must build the Lambda handler from the environment, and name what is missing", () => {
        assert.throws(() => createApprovalPageHandler({}), /APPROVAL_TABLE_NAME and APPROVAL_KEY_RING_SECRET_ID/);
        const handler = createApprovalPageHandler({
            APPROVAL_TABLE_NAME: "approvals",
            APPROVAL_KEY_RING_SECRET_ID: "approval-keys",
            AWS_REGION: "eu-west-1",
        });
        assert.equal(typeof handler, "function");
    });

    it("must read the key ring from Secrets Manager once per max age, refresh for an unknown key, and never echo it", async () => {
        const secrets = mockClient(SecretsManagerClient);
        const key = (): string => randomBytes(32).toString("base64");
        let clock = 0;
        secrets
            .on(GetSecretValueCommand)
            .resolvesOnce({ SecretString: JSON.stringify({ current: "k1", keys: { k1: key() } }) })
            .resolves({ SecretString: JSON.stringify({ current: "k2", keys: { k1: key(), k2: key() } }) });
        const keyRing = new SecretsManagerKeyRing({
            secretId: "approval-keys",
            client: new SecretsManagerClient({ region: "eu-west-1", credentials: CREDENTIALS }),
            maxAgeMs: 1000,
            minRefreshIntervalMs: 100,
            now: () => clock,
        });
        assert.equal((await keyRing.load()).current, "k1");
        assert.equal((await keyRing.load()).current, "k1");
        assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 1, "cached");
        clock = 200;
        assert.equal((await keyRing.load({ refresh: true })).current, "k2", "refreshed for an unknown key id");
        clock = 250;
        await keyRing.load({ refresh: true });
        assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 2, "forced refreshes are rate-limited");
        secrets.reset();
        secrets.on(GetSecretValueCommand).rejects(new Error("unreachable"));
        clock = 5000;
        assert.equal((await keyRing.load()).current, "k2", "the last ring read still serves when the read fails");

        const leaked = "c2VjcmV0LWtleS1ieXRlcw";
        secrets.reset();
        secrets.on(GetSecretValueCommand).resolves({ SecretString: `{"current": "k1", "keys": {"k1": "${leaked}"` });
        const broken = new SecretsManagerKeyRing({
            secretId: "approval-keys",
            client: new SecretsManagerClient({ region: "eu-west-1", credentials: CREDENTIALS }),
        });
        await assert.rejects(
            broken.load(),
            (error: Error) => !error.message.includes(leaked) && /not JSON/.test(error.message),
        );
        secrets.restore();
    });
});
