/**
 * Wire tests: the bundled artifact, in its own process, talking the real Step Functions protocol to a
 * fake endpoint on 127.0.0.1 through the real SDK (signing, retries, error parsing included).
 */
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { SQSRecord } from "aws-lambda";
import { BUNDLE_ENTRY_FILE, bundleWorker, REPO_ROOT, writeBundle } from "../components/bundle";
import { REJECTED_ERROR, WORKER_ERRORS } from "../handlers/callback";
import { FakeStepFunctions, sfnError, type Reply, type SfnCall } from "../local/sfn-endpoint";
import { LambdaProcess } from "../local/lambda-process";
import { sqsEvent, sqsRecord, tokenOf } from "./fixtures/records";

const ARTIFACT_DIR = path.join(REPO_ROOT, "dist", "callback-handler");
const THROTTLED = sfnError("ThrottlingException", "Rate exceeded");

/** Replies scripted per task token, in order; calls past the script (or for other tokens) get `{}`. */
function scriptPerToken(scripts: Map<string, Reply[]>): (call: SfnCall) => Reply | undefined {
    return (call) => scripts.get(String(call.body["taskToken"]))?.shift();
}

function callsFor(fake: FakeStepFunctions, record: SQSRecord): SfnCall[] {
    return fake.calls.filter((call) => call.body["taskToken"] === tokenOf(record));
}

describe(`bundled worker on the wire (Node ${process.versions.node})`, function () {
    this.timeout(20_000);
    let fake: FakeStepFunctions;
    let lambda: LambdaProcess;

    before(async () => {
        assert.ok(
            existsSync(path.join(ARTIFACT_DIR, BUNDLE_ENTRY_FILE)),
            `${ARTIFACT_DIR}/${BUNDLE_ENTRY_FILE} is missing: run \`npm run build\` first (npm test does).`,
        );
        fake = await FakeStepFunctions.start();
        lambda = await LambdaProcess.start(path.join(ARTIFACT_DIR, BUNDLE_ENTRY_FILE), {
            AWS_ENDPOINT_URL_SFN: fake.url,
            // Two attempts keep the SDK's backoff (up to 0.5 s after a throttle) short in tests.
            AWS_MAX_ATTEMPTS: "2",
            CALLBACK_MAX_RECEIVE_COUNT: "5",
            CALLBACK_CALL_TIMEOUT_MS: "1000",
        });
    });
    beforeEach(() => fake.reset());
    afterEach(() => assert.deepEqual(fake.protocolErrors, [], "every request followed the protocol"));
    after(async () => {
        await lambda?.stop();
        await fake?.close();
    });

    it("must be the bundle that the sources give, byte for byte (deterministic build)", async () => {
        const [first, second] = [await bundleWorker(), await bundleWorker()];
        assert.equal(first.sha256, second.sha256);
        for (const [name, text] of first.files) {
            const written = await readFile(path.join(ARTIFACT_DIR, name), "utf8");
            assert.ok(written === text, `${name} differs from a fresh bundle of the sources: run \`npm run build\``);
            assert.ok(!text.includes(REPO_ROOT), `${name} embeds the absolute path of the clone`);
        }
    });

    it("must answer SendTaskSuccess over the real protocol", async () => {
        const record = sqsRecord({ input: { order: 1 } });
        const reply = await lambda.invoke(sqsEvent(record));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [] } });
        const [call] = fake.calls;
        assert.equal(fake.calls.length, 1);
        assert.equal(call?.operation, "SendTaskSuccess");
        assert.equal(call?.headers["x-amz-target"], "AWSStepFunctions.SendTaskSuccess");
        assert.equal(call?.headers["content-type"], "application/x-amz-json-1.0");
        assert.match(
            String(call?.headers.authorization),
            /Credential=AKIDFAKEFAKEFAKE\/\d{8}\/eu-west-1\/states\/aws4_request/,
        );
        assert.equal(call?.body["taskToken"], tokenOf(record));
        assert.equal((JSON.parse(String(call?.body["output"])) as { status: string }).status, "completed");
    });

    it("must answer SendTaskFailure when the processor rejects", async () => {
        const record = sqsRecord({ input: { decision: "reject", reason: "Over budget." } });
        const reply = await lambda.invoke(sqsEvent(record));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [] } });
        assert.deepEqual(
            fake.calls.map((c) => [c.operation, c.body["error"], c.body["cause"]]),
            [["SendTaskFailure", REJECTED_ERROR, "Over budget."]],
        );
    });

    for (const code of ["TaskTimedOut", "TaskDoesNotExist"]) {
        it(`must mark the record done when Step Functions answers ${code}`, async () => {
            fake.respond(() => sfnError(code, "Task is over"));
            const reply = await lambda.invoke(sqsEvent(sqsRecord()));
            assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [] } });
            assert.equal(fake.calls.length, 1, "not retried");
        });
    }

    it("must retry throttling and succeed (throttle, ok)", async () => {
        const record = sqsRecord();
        fake.respond(scriptPerToken(new Map([[tokenOf(record), [THROTTLED]]])));
        const reply = await lambda.invoke(sqsEvent(record));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [] } });
        assert.equal(callsFor(fake, record).length, 2);
    });

    it("must retry a 5xx and a dropped connection and succeed", async () => {
        const fiveHundred = sqsRecord();
        const dropped = sqsRecord();
        fake.respond(
            scriptPerToken(
                new Map<string, Reply[]>([
                    [tokenOf(fiveHundred), [sfnError("ServiceUnavailable", "Try again", 503)]],
                    [tokenOf(dropped), [{ drop: true }]],
                ]),
            ),
        );
        const reply = await lambda.invoke(sqsEvent(fiveHundred, dropped));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [] } });
        assert.equal(callsFor(fake, fiveHundred).length, 2);
        assert.equal(callsFor(fake, dropped).length, 2);
    });

    it("must leave a record for redelivery when throttling outlasts the retries (never deleted unanswered)", async () => {
        const record = sqsRecord({ messageId: "throttled-forever" });
        const other = sqsRecord();
        fake.respond((call) => (call.body["taskToken"] === tokenOf(record) ? THROTTLED : undefined));
        const reply = await lambda.invoke(sqsEvent(record, other));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [{ itemIdentifier: "throttled-forever" }] } });
        assert.equal(callsFor(fake, record).length, 2, "AWS_MAX_ATTEMPTS=2 attempts");
    });

    it("must fail the whole invocation when no record of the batch could be answered", async () => {
        fake.respond(() => ({ drop: true }));
        const reply = await lambda.invoke(sqsEvent(sqsRecord(), sqsRecord()));
        assert.equal(reply.ok, false);
        assert.equal(!reply.ok && reply.error.name, "FullBatchFailureError");
    });

    it("must sort a mixed batch: only the unanswerable records are reported", async () => {
        const approve = sqsRecord({ messageId: "approve" });
        const reject = sqsRecord({ messageId: "reject", input: { decision: "reject" } });
        const poison = sqsRecord({ messageId: "poison", body: '{"TaskToken": null}' });
        const over = sqsRecord({ messageId: "over" });
        const throttled = sqsRecord({ messageId: "throttled" });
        const recovers = sqsRecord({ messageId: "recovers" });
        fake.respond(
            scriptPerToken(
                new Map<string, Reply[]>([
                    [tokenOf(over), [sfnError("TaskTimedOut", "Task Timed Out")]],
                    [tokenOf(throttled), [THROTTLED, THROTTLED]],
                    [tokenOf(recovers), [THROTTLED]],
                ]),
            ),
        );
        const reply = await lambda.invoke(sqsEvent(approve, reject, poison, over, throttled, recovers));
        assert.ok(reply.ok);
        assert.deepEqual(reply.result.batchItemFailures.map((f) => f.itemIdentifier).sort(), ["poison", "throttled"]);
        assert.equal(callsFor(fake, reject)[0]?.operation, "SendTaskFailure");
    });

    it("must end a call to a black-holed endpoint at its timeout, and report only the unanswered record", async () => {
        const hung = sqsRecord({ messageId: "hung" });
        const fine = sqsRecord({ messageId: "fine" });
        fake.respond((call) => (call.body["taskToken"] === tokenOf(hung) ? { hang: true } : undefined));
        const started = Date.now();
        const reply = await lambda.invoke(sqsEvent(hung, fine), { timeoutMs: 10_000 });
        const took = Date.now() - started;
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [{ itemIdentifier: "hung" }] } });
        // Two attempts of at most 1 s each, and the SDK's backoff between them: well inside the 10 s timeout.
        assert.ok(took < 6_000, `the hung call ended at its timeout, not at Lambda's (${took} ms)`);
        assert.equal(callsFor(fake, hung).length, 2, "the SDK retried the timed-out attempt once");
    });

    it("must return before Lambda's timeout when the endpoint hangs, reporting what it could not answer", async () => {
        const records = [sqsRecord({ messageId: "a" }), sqsRecord({ messageId: "b" })];
        fake.respond(() => ({ hang: true }));
        const reply = await lambda.invoke(sqsEvent(...records), { timeoutMs: 2_000 });
        // Not the runtime's "Task timed out": the worker returned (every record failed, so the batch fails).
        assert.equal(reply.ok, false);
        assert.equal(!reply.ok && reply.error.name, "FullBatchFailureError");
    });

    it("must report an InvalidToken at ERROR, not as a task already over", async () => {
        const record = sqsRecord({ messageId: "invalid" });
        fake.respond((call) =>
            call.body["taskToken"] === tokenOf(record) ? sfnError("InvalidToken", "Invalid Token") : undefined,
        );
        const reply = await lambda.invoke(sqsEvent(record, sqsRecord()));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [{ itemIdentifier: "invalid" }] } });
        assert.ok(lambda.logs.some((e) => e["level"] === "ERROR" && e["errorName"] === "InvalidToken"));
    });

    it("must fail the task when Step Functions refuses the output (InvalidOutput), over the real protocol", async () => {
        const record = sqsRecord();
        fake.respond((call) =>
            call.operation === "SendTaskSuccess" ? sfnError("InvalidOutput", "Invalid output") : undefined,
        );
        const reply = await lambda.invoke(sqsEvent(record));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [] } });
        assert.deepEqual(
            callsFor(fake, record).map((c) => [c.operation, c.body["error"]]),
            [
                ["SendTaskSuccess", undefined],
                ["SendTaskFailure", WORKER_ERRORS.outputRejected],
            ],
        );
    });

    it("must never write a whole task token to its logs", async () => {
        const records = [sqsRecord(), sqsRecord({ input: { decision: "reject" } })];
        fake.respond(() => sfnError("InvalidToken", `Invalid token ${tokenOf(records[0] as SQSRecord)}`));
        await lambda.invoke(sqsEvent(...records));
        assert.ok(lambda.logs.length > 0);
        for (const record of records) {
            assert.ok(!lambda.lines.some((line) => line.includes(tokenOf(record).slice(0, 40))));
        }
    });

    it("must write structured JSON logs that name the message and the token by reference", async () => {
        const record = sqsRecord({ messageId: "logged" });
        await lambda.invoke(sqsEvent(record));
        const entry = lambda.logs.find((e) => e["messageId"] === "logged");
        assert.equal(entry?.["message"], "Task answered");
        assert.equal(entry?.["service"], "callback-worker");
        assert.match(String(entry?.["tokenRef"]), /^sha256:[0-9a-f]{12}$/);
        assert.equal(entry?.["function_name"], "callback-worker");
    });
});

describe("a custom worker bundled with bundleWorker", function () {
    this.timeout(20_000);
    let dir: string;
    let fake: FakeStepFunctions;
    let lambda: LambdaProcess;

    before(async () => {
        dir = await mkdtemp(path.join(tmpdir(), "echo-worker-"));
        await writeBundle(await bundleWorker({ entry: "tests/fixtures/echo-worker.ts" }), dir);
        fake = await FakeStepFunctions.start();
        lambda = await LambdaProcess.start(path.join(dir, BUNDLE_ENTRY_FILE), {
            AWS_ENDPOINT_URL_SFN: fake.url,
            CALLBACK_HEARTBEAT_SECONDS: "1",
        });
    });
    beforeEach(() => fake.reset());
    after(async () => {
        await lambda?.stop();
        await fake?.close();
        await rm(dir, { recursive: true, force: true });
    });

    it("must beat on receive, then send the processor's output", async () => {
        await lambda.invoke(sqsEvent(sqsRecord({ input: { a: [1, 2] } })));
        assert.deepEqual(
            fake.calls.map((c) => c.operation),
            ["SendTaskHeartbeat", "SendTaskSuccess"],
        );
        assert.deepEqual(JSON.parse(String(fake.calls[1]?.body["output"])), { echo: { a: [1, 2] } });
    });

    it("must fail the task, not crash, when the output is over 256 KiB", async () => {
        const reply = await lambda.invoke(sqsEvent(sqsRecord({ input: { outputBytes: 300_000 } })));
        assert.deepEqual(reply, { ok: true, result: { batchItemFailures: [] } });
        assert.deepEqual(
            fake.calls.map((c) => [c.operation, c.body["error"]]),
            [
                ["SendTaskHeartbeat", undefined],
                ["SendTaskFailure", WORKER_ERRORS.outputTooLarge],
            ],
        );
    });

    it("must heartbeat while a slow processor runs", async () => {
        const record = sqsRecord({ input: { sleepMs: 1_300 } });
        await lambda.invoke(sqsEvent(record));
        assert.deepEqual(
            callsFor(fake, record).map((c) => c.operation),
            ["SendTaskHeartbeat", "SendTaskHeartbeat", "SendTaskSuccess"],
            "one beat on receive, one after a second",
        );
    });
});
