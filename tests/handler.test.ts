import { strict as assert } from "node:assert";
import {
    SendTaskFailureCommand,
    SendTaskHeartbeatCommand,
    SendTaskSuccessCommand,
    SFNClient,
    SFNServiceException,
    TaskTimedOut,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import * as sinon from "sinon";
import {
    createCallbackHandler,
    defaultProcessor,
    REJECTED_ERROR,
    SFN_LIMITS,
    TaskFailedError,
    WORKER_ERRORS,
    type CallbackProcessor,
    type JsonValue,
    type WorkerSettings,
} from "../handlers/callback";
import type { Context, SQSBatchResponse, SQSRecord } from "aws-lambda";
import { captureLogs, type CapturedLogs } from "./fixtures/logs";
import { sqsEvent, sqsRecord, tokenOf } from "./fixtures/records";

const sfn = mockClient(SFNClient);

function serviceError(name: string, fault: "client" | "server" = "client"): SFNServiceException {
    return new SFNServiceException({ name, $fault: fault, $metadata: {}, message: `${name} from the fake` });
}

function handlerWith(processor: CallbackProcessor<JsonValue, JsonValue>, settings: Partial<WorkerSettings> = {}) {
    return createCallbackHandler({ processor, settings: { maxReceiveCount: 0, ...settings } });
}

describe("callback worker (unit, mocked SDK)", () => {
    beforeEach(() => {
        sfn.reset();
        sfn.on(SendTaskSuccessCommand).resolves({});
        sfn.on(SendTaskFailureCommand).resolves({});
        sfn.on(SendTaskHeartbeatCommand).resolves({});
    });

    it("must answer SendTaskSuccess with the processor's output and report no failure", async () => {
        // Prepare
        const record = sqsRecord({ input: { order: 7 } });
        const handler = handlerWith((message) => ({ echoed: message.Input ?? null }));
        // Act
        const { result } = await captureLogs(() => handler(sqsEvent(record)));
        // Assess
        assert.deepEqual(result, { batchItemFailures: [] });
        const calls = sfn.commandCalls(SendTaskSuccessCommand);
        assert.equal(calls.length, 1);
        assert.deepEqual(calls[0]?.args[0].input, {
            taskToken: tokenOf(record),
            output: JSON.stringify({ echoed: { order: 7 } }),
        });
        assert.equal(sfn.commandCalls(SendTaskFailureCommand).length, 0);
    });

    it("must answer SendTaskFailure with the error and cause of a TaskFailedError", async () => {
        const record = sqsRecord();
        const handler = handlerWith(() => {
            throw new TaskFailedError("Approval.Rejected", "The approver said no.");
        });
        const { result } = await captureLogs(() => handler(sqsEvent(record)));
        assert.deepEqual(result, { batchItemFailures: [] });
        assert.deepEqual(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input, {
            taskToken: tokenOf(record),
            error: "Approval.Rejected",
            cause: "The approver said no.",
        });
    });

    it("must truncate error and cause to the SendTaskFailure limits", async () => {
        const handler = handlerWith(() => {
            throw new TaskFailedError("E".repeat(300), "c".repeat(40_000));
        });
        await captureLogs(() => handler(sqsEvent(sqsRecord())));
        const input = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
        assert.equal(input?.error?.length, SFN_LIMITS.errorMaxLength);
        assert.equal(input?.cause?.length, SFN_LIMITS.causeMaxLength);
        assert.ok(input?.cause?.endsWith("…"));
    });

    it("must not put the task token in a failure cause", async () => {
        const record = sqsRecord();
        const token = tokenOf(record);
        const handler = handlerWith(() => {
            throw new TaskFailedError("Leaky", `token was ${token}`);
        });
        await captureLogs(() => handler(sqsEvent(record)));
        const cause = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.cause ?? "";
        assert.ok(!cause.includes(token));
        assert.match(cause, /^token was sha256:[0-9a-f]{12}$/);
    });

    describe("poison records", () => {
        const poison = {
            "a body that is not JSON": "{not json",
            "a JSON body that is not an object": '["TaskToken"]',
            "a body without TaskToken": JSON.stringify({ MessageTitle: "no token" }),
            "a TaskToken that is not a string": JSON.stringify({ TaskToken: 42 }),
            "an empty TaskToken": JSON.stringify({ TaskToken: "" }),
            "a TaskToken over 2048 characters": JSON.stringify({ TaskToken: "A".repeat(2049) }),
        };
        const hostile: Record<string, unknown> = { ...poison, "a record without a body": undefined };
        for (const [what, body] of Object.entries(hostile)) {
            it(`must report ${what} in batchItemFailures and log it once with its messageId`, async () => {
                const bad = { ...sqsRecord({ messageId: "poison-1" }), body: body as string };
                const good = sqsRecord();
                const handler = handlerWith(defaultProcessor);
                const { result, logs } = await captureLogs(() => handler(sqsEvent(bad, good)));
                assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "poison-1" }] });
                const mentions = logs.entries.filter((e) => e["messageId"] === "poison-1");
                assert.equal(mentions.length, 1);
                assert.equal(mentions[0]?.["level"], "ERROR");
                assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 1, "the good record is still answered");
            });
        }

        it("must fail the invocation when every record of the batch is poison (nothing is deleted)", async () => {
            const handler = handlerWith(defaultProcessor);
            await captureLogs(async () => {
                await assert.rejects(handler(sqsEvent(sqsRecord({ body: "x" }), sqsRecord({ body: "{}" }))), {
                    name: "FullBatchFailureError",
                });
            });
        });
    });

    for (const name of ["TaskTimedOut", "TaskDoesNotExist"]) {
        it(`must treat ${name} from Step Functions as a task already over: record done`, async () => {
            sfn.on(SendTaskSuccessCommand).rejects(serviceError(name));
            const record = sqsRecord({ messageId: "late" });
            const { result, logs } = await captureLogs(() => handlerWith(defaultProcessor)(sqsEvent(record)));
            assert.deepEqual(result, { batchItemFailures: [] });
            const entry = logs.entries.find((e) => e["messageId"] === "late");
            assert.equal(entry?.["errorName"], name);
            assert.equal(entry?.["level"], "WARN");
        });
    }

    it("must report an InvalidToken at ERROR with its likely cause, and leave the message for the DLQ", async () => {
        sfn.on(SendTaskSuccessCommand).rejects(serviceError("InvalidToken"));
        const record = sqsRecord({ messageId: "bad-token" });
        const ok = sqsRecord();
        sfn.on(SendTaskSuccessCommand, { taskToken: tokenOf(ok) }).resolves({});
        const { result, logs } = await captureLogs(() => handlerWith(defaultProcessor)(sqsEvent(record, ok)));
        assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "bad-token" }] });
        const entry = logs.entries.find((e) => e["errorName"] === "InvalidToken" && e["level"] === "ERROR");
        assert.match(String(entry?.["message"]), /does not pass \$\$\.Task\.Token/);
    });

    for (const name of ["InvalidOutput", "ValidationException"]) {
        it(`must fail the task when Step Functions refuses the output with ${name}, not retry it forever`, async () => {
            sfn.on(SendTaskSuccessCommand).rejects(serviceError(name));
            const record = sqsRecord({ messageId: "refused" });
            const { result, logs } = await captureLogs(() => handlerWith(defaultProcessor)(sqsEvent(record)));
            assert.deepEqual(result, { batchItemFailures: [] });
            const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
            assert.equal(failure?.error, WORKER_ERRORS.outputRejected);
            assert.match(failure?.cause ?? "", new RegExp(`^Step Functions refused the processor's output: ${name}: `));
            assert.ok(logs.entries.some((e) => e["level"] === "WARN" && e["message"] === "Task failed by the worker"));
        });
    }

    it("must report the record and log at ERROR when the fallback failure is refused too", async () => {
        const record = sqsRecord({ messageId: "stuck" });
        const other = sqsRecord({ messageId: "other" });
        sfn.on(SendTaskSuccessCommand, { taskToken: tokenOf(record) }).rejects(serviceError("InvalidOutput"));
        sfn.on(SendTaskFailureCommand).rejects(serviceError("ServiceUnavailable", "server"));
        const { result, logs } = await captureLogs(() =>
            handlerWith(defaultProcessor, { maxAttempts: 1 })(sqsEvent(record, other)),
        );
        assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "stuck" }] });
        assert.ok(logs.entries.some((e) => e["level"] === "ERROR" && e["messageId"] === "stuck"));
    });

    it("must say on the last receive that the message moves to the DLQ, and carry the receive count", async () => {
        sfn.on(SendTaskSuccessCommand).rejects(serviceError("AccessDeniedException"));
        const record = sqsRecord({ messageId: "last", receiveCount: 5 });
        const { logs } = await captureLogs(() =>
            handlerWith(defaultProcessor, { maxReceiveCount: 5 })(sqsEvent(record)).catch(() => undefined),
        );
        const entry = logs.entries.find((e) => e["messageId"] === "last" && e["level"] === "ERROR");
        assert.equal(entry?.["message"], "Could not answer the task token; moving to the dead-letter queue");
        assert.equal(entry?.["receiveCount"], 5);
        const poison = await captureLogs(() =>
            handlerWith(defaultProcessor, { maxReceiveCount: 5 })(
                sqsEvent(sqsRecord({ body: "{}", receiveCount: 2 })),
            ).catch(() => undefined),
        );
        assert.equal(
            poison.logs.entries.find((e) => e["level"] === "ERROR")?.["message"],
            "Poison message: no task token to answer; it will be retried",
        );
    });

    it("must fail the task on the last receive even when the processor throws something String() cannot print", async () => {
        const record = sqsRecord({ receiveCount: 3 });
        const handler = handlerWith(
            () => {
                throw Object.create(null) as unknown;
            },
            { maxReceiveCount: 3 },
        );
        const { result } = await captureLogs(() => handler(sqsEvent(record)));
        assert.deepEqual(result, { batchItemFailures: [] });
        const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
        assert.equal(failure?.error, WORKER_ERRORS.retriesExhausted);
        assert.match(failure?.cause ?? "", /last error: object: \[object Object\]$/);
    });

    it("must redact the token from a failure's code as from its cause, URL-encoded too", async () => {
        const record = sqsRecord({ token: `tok+en/with=chars${"x".repeat(40)}` });
        const token = tokenOf(record);
        const handler = handlerWith(() => {
            throw new TaskFailedError(`E.${token}`, `see https://example.com/?t=${encodeURIComponent(token)}`);
        });
        await captureLogs(() => handler(sqsEvent(record)));
        const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
        assert.ok(!(failure?.error ?? "").includes(token.slice(0, 20)), failure?.error);
        assert.ok(!(failure?.cause ?? "").includes(encodeURIComponent(token).slice(0, 20)), failure?.cause);
        assert.match(failure?.cause ?? "", /\?t=sha256:[0-9a-f]{12}$/);
    });

    it("must honour POWERTOOLS_SERVICE_NAME, so the logs of several workflows can be told apart", async () => {
        const previous = process.env["POWERTOOLS_SERVICE_NAME"];
        process.env["POWERTOOLS_SERVICE_NAME"] = "approvals";
        try {
            const handler = handlerWith(defaultProcessor);
            const { logs } = await captureLogs(() => handler(sqsEvent(sqsRecord())));
            assert.ok(logs.entries.length > 0);
            assert.ok(logs.entries.every((e) => e["service"] === "approvals"));
        } finally {
            if (previous === undefined) {
                delete process.env["POWERTOOLS_SERVICE_NAME"];
            } else {
                process.env["POWERTOOLS_SERVICE_NAME"] = previous;
            }
        }
    });

    for (const [name, fault] of [
        ["ThrottlingException", "client"],
        ["ServiceUnavailable", "server"],
        ["AccessDeniedException", "client"],
    ] as const) {
        it(`must report the record for redelivery when SendTask fails with ${name}`, async () => {
            sfn.on(SendTaskSuccessCommand).rejects(serviceError(name, fault));
            const failing = sqsRecord({ messageId: "unanswered" });
            const other = sqsRecord();
            sfn.on(SendTaskSuccessCommand, { taskToken: tokenOf(other) }).resolves({});
            const { result } = await captureLogs(() => handlerWith(defaultProcessor)(sqsEvent(failing, other)));
            assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "unanswered" }] });
        });
    }

    it("must fail the task with Worker.OutputTooLarge when the output exceeds 256 KiB", async () => {
        const handler = handlerWith(() => ({ blob: "x".repeat(SFN_LIMITS.outputMaxBytes) }));
        const { result } = await captureLogs(() => handler(sqsEvent(sqsRecord())));
        assert.deepEqual(result, { batchItemFailures: [] });
        assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 0);
        const input = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
        assert.equal(input?.error, WORKER_ERRORS.outputTooLarge);
        assert.match(input?.cause ?? "", /is 262155 bytes; SendTaskSuccess accepts at most 262144 bytes/);
    });

    it("must refuse an output that would push the execution's state past 256 KiB with its input", async () => {
        const input = { note: "i".repeat(100 * 1024) };
        const handler = handlerWith(() => "o".repeat(160 * 1024));
        await captureLogs(() => handler(sqsEvent(sqsRecord({ input }))));
        assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 0);
        const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
        assert.equal(failure?.error, WORKER_ERRORS.outputTooLarge);
        assert.match(
            failure?.cause ?? "",
            /is 163842 bytes and the execution's input 102411: together they would exceed the 262144 bytes of an execution's state \(at most 158709 bytes of output fit\)/,
        );
        sfn.resetHistory();
        // The same output with a small input fits: answered.
        await captureLogs(() => handler(sqsEvent(sqsRecord({ input: { small: true } }))));
        assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 1);
    });

    it("must count the 256 KiB limit in UTF-8 bytes, not characters", async () => {
        const handler = handlerWith(() => "é".repeat(SFN_LIMITS.outputMaxBytes / 2));
        await captureLogs(() => handler(sqsEvent(sqsRecord())));
        assert.equal(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.error, WORKER_ERRORS.outputTooLarge);
    });

    it("must fail the task with Worker.OutputNotJson when the output cannot be serialised", async () => {
        const handler = handlerWith(() => ({ amount: BigInt(1) }) as unknown as JsonValue);
        await captureLogs(() => handler(sqsEvent(sqsRecord())));
        const input = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
        assert.equal(input?.error, WORKER_ERRORS.outputNotJson);
    });

    it("must send null when the processor returns nothing", async () => {
        const handler = handlerWith(() => undefined as unknown as JsonValue);
        await captureLogs(() => handler(sqsEvent(sqsRecord())));
        assert.equal(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output, "null");
    });

    it("must retry a record whose processor throws an unexpected error, without answering the task", async () => {
        const handler = handlerWith(
            (message) => {
                if (message.Input === "flaky") {
                    throw new Error("slow system unreachable");
                }
                return "ok";
            },
            { maxReceiveCount: 5 },
        );
        const ok = sqsRecord();
        const { result } = await captureLogs(() =>
            handler(sqsEvent(sqsRecord({ messageId: "retry-me", receiveCount: 4, input: "flaky" }), ok)),
        );
        assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "retry-me" }] });
        assert.equal(sfn.commandCalls(SendTaskFailureCommand).length, 0);
        assert.deepEqual(
            sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input.taskToken),
            [tokenOf(ok)],
        );
    });

    it("must fail the task on the last receive when the processor keeps throwing", async () => {
        const handler = handlerWith(
            () => {
                throw new RangeError("slow system unreachable");
            },
            { maxReceiveCount: 5 },
        );
        const { result } = await captureLogs(() => handler(sqsEvent(sqsRecord({ receiveCount: 5 }))));
        assert.deepEqual(result, { batchItemFailures: [] });
        assert.deepEqual(
            sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.error,
            WORKER_ERRORS.retriesExhausted,
        );
        assert.match(
            sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.cause ?? "",
            /failed on all 5 receives; last error: RangeError: slow system unreachable/,
        );
    });

    it("must process records concurrently, never more at once than the configured bound", async () => {
        let inFlight = 0;
        let peak = 0;
        const handler = handlerWith(
            async () => {
                inFlight += 1;
                peak = Math.max(peak, inFlight);
                await new Promise((resolve) => setTimeout(resolve, 5));
                inFlight -= 1;
                return "ok";
            },
            { concurrency: 3 },
        );
        const records = Array.from({ length: 10 }, () => sqsRecord());
        const { result } = await captureLogs(() => handler(sqsEvent(...records)));
        assert.deepEqual(result, { batchItemFailures: [] });
        assert.equal(peak, 3);
        assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 10);
    });

    it("must never log a whole task token", async () => {
        sfn.on(SendTaskSuccessCommand).rejects(serviceError("ThrottlingException"));
        const records = [sqsRecord(), sqsRecord(), sqsRecord({ body: JSON.stringify({ TaskToken: 5 }) })];
        const handler = handlerWith((message) => {
            throw new Error(`cannot handle ${message.TaskToken}`);
        });
        const { logs } = await captureLogs(() => handler(sqsEvent(...records)).catch(() => undefined));
        assert.ok(logs.lines.length >= 3);
        for (const record of records.slice(0, 2)) {
            const token = tokenOf(record);
            for (const line of logs.lines) {
                assert.ok(!line.includes(token.slice(0, 40)), `log line leaks a token: ${line.slice(0, 120)}`);
            }
        }
    });

    describe("heartbeats", () => {
        let clock: sinon.SinonFakeTimers;
        beforeEach(() => {
            clock = sinon.useFakeTimers({ toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
        });
        afterEach(() => clock.restore());

        it("must send SendTaskHeartbeat on the interval while the processor runs, and stop after", async () => {
            const record = sqsRecord();
            const handler = handlerWith(
                () => new Promise<JsonValue>((resolve) => setTimeout(() => resolve("done"), 3_500)),
                { heartbeatSeconds: 1 },
            );
            const { result } = await captureLogs(async () => {
                const pending = handler(sqsEvent(record));
                await clock.tickAsync(10_000);
                return pending;
            });
            assert.deepEqual(result, { batchItemFailures: [] });
            const beats = sfn.commandCalls(SendTaskHeartbeatCommand);
            assert.equal(beats.length, 4, "one on receive, then at 1, 2 and 3 s");
            assert.equal(beats[0]?.args[0].input.taskToken, tokenOf(record));
        });

        it("must beat as soon as it receives a message, before the processor runs", async () => {
            const order: string[] = [];
            sfn.on(SendTaskHeartbeatCommand).callsFake(() => {
                order.push("beat");
                return {};
            });
            const handler = handlerWith(
                () => {
                    order.push("processor");
                    return "done";
                },
                { heartbeatSeconds: 100 },
            );
            await captureLogs(() => handler(sqsEvent(sqsRecord())));
            assert.deepEqual(order, ["beat", "processor"]);
        });

        it("must not beat a fresh message before its processor (its first periodic beat is due in time)", async () => {
            const handler = handlerWith(() => "done", { heartbeatSeconds: 100 });
            await captureLogs(() => handler(sqsEvent(sqsRecord({ sentAt: Date.now() }))));
            assert.equal(sfn.commandCalls(SendTaskHeartbeatCommand).length, 0, "no call it does not need");
            assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 1);
        });

        it("must not run the processor when a heartbeat says the token is invalid, and report it at ERROR", async () => {
            sfn.on(SendTaskHeartbeatCommand).rejects(serviceError("InvalidToken"));
            let ran = false;
            const handler = handlerWith(
                () => {
                    ran = true;
                    return "x";
                },
                { heartbeatSeconds: 100 },
            );
            const record = sqsRecord({ messageId: "bad" });
            const { result, logs } = await captureLogs(() =>
                handler(sqsEvent(record, sqsRecord({ sentAt: Date.now() }))),
            );
            assert.equal(ran, true, "only the other record's processor ran");
            assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "bad" }] });
            assert.ok(logs.entries.some((e) => e["messageId"] === "bad" && e["level"] === "ERROR"));
            assert.ok(
                !logs.entries.some(
                    (e) => e["messageId"] === "bad" && e["message"] === "Heartbeat failed; the next one may succeed",
                ),
            );
        });

        it("must not run the processor again when the beat on receive says the task is over", async () => {
            sfn.on(SendTaskHeartbeatCommand).rejects(new TaskTimedOut({ $metadata: {}, message: "Task Timed Out" }));
            let ran = false;
            const handler = handlerWith(() => {
                ran = true;
                return "again";
            });
            // No heartbeats configured: a redelivered message is probed all the same.
            const { result } = await captureLogs(() => handler(sqsEvent(sqsRecord({ receiveCount: 2 }))));
            assert.deepEqual(result, { batchItemFailures: [] });
            assert.equal(ran, false);
            assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 0);
        });

        it("must stop beating once Step Functions says the task is over, even if the processor ignores its signal", async () => {
            sfn.on(SendTaskHeartbeatCommand)
                .resolvesOnce({})
                .rejects(new TaskTimedOut({ $metadata: {}, message: "Task Timed Out" }));
            const handler = handlerWith(
                () => new Promise<JsonValue>((resolve) => setTimeout(() => resolve("late"), 10_000)),
                { heartbeatSeconds: 1 },
            );
            const { result } = await captureLogs(async () => {
                const pending = handler(sqsEvent(sqsRecord()));
                await clock.tickAsync(12_000);
                return pending;
            });
            assert.deepEqual(result, { batchItemFailures: [] });
            assert.equal(sfn.commandCalls(SendTaskHeartbeatCommand).length, 2, "the beat on receive and one more");
            assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 0);
        });

        it("must abort the processor and answer nothing when a heartbeat says the task timed out", async () => {
            sfn.on(SendTaskHeartbeatCommand)
                .resolvesOnce({})
                .rejects(new TaskTimedOut({ $metadata: {}, message: "Task Timed Out" }));
            let aborted = false;
            const handler = handlerWith(
                (_message, { signal }) =>
                    new Promise<JsonValue>((resolve, reject) => {
                        signal.addEventListener("abort", () => {
                            aborted = true;
                            reject(new Error("aborted"));
                        });
                        setTimeout(() => resolve("too late"), 60_000);
                    }),
                { heartbeatSeconds: 2 },
            );
            const { result } = await captureLogs(async () => {
                const pending = handler(sqsEvent(sqsRecord()));
                await clock.tickAsync(2_100);
                return pending;
            });
            assert.ok(aborted);
            assert.deepEqual(result, { batchItemFailures: [] });
            assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 0);
            assert.equal(sfn.commandCalls(SendTaskFailureCommand).length, 0);
        });

        it("must keep going when a heartbeat fails transiently, naming the execution in its warning", async () => {
            sfn.on(SendTaskHeartbeatCommand).rejectsOnce(serviceError("ThrottlingException")).resolves({});
            const handler = handlerWith(
                () => new Promise<JsonValue>((resolve) => setTimeout(() => resolve("done"), 2_500)),
                { heartbeatSeconds: 1 },
            );
            const { result, logs } = await captureLogs(async () => {
                const pending = handler(sqsEvent(sqsRecord()));
                await clock.tickAsync(3_000);
                return pending;
            });
            assert.deepEqual(result, { batchItemFailures: [] });
            assert.equal(sfn.commandCalls(SendTaskHeartbeatCommand).length, 3);
            assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 1);
            const warning = logs.entries.find((e) => e["message"] === "Heartbeat failed; the next one may succeed");
            assert.match(String(warning?.["executionId"]), /^arn:aws:states:.*:execution:/);
        });
    });
});

describe("callback worker: the invocation's deadline", () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => {
        sfn.reset();
        sfn.on(SendTaskSuccessCommand).resolves({});
        sfn.on(SendTaskFailureCommand).resolves({});
        sfn.on(SendTaskHeartbeatCommand).resolves({});
        clock = sinon.useFakeTimers({
            toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout", "Date"],
        });
    });
    afterEach(() => clock.restore());

    /** A Lambda context whose remaining time counts down from `timeoutMs` on the fake clock. */
    function lambdaContext(timeoutMs: number): Context {
        const deadline = Date.now() + timeoutMs;
        return { getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
    }

    /** Runs the handler on the fake clock; resolves with its result and when it returned (ms after start). */
    async function run(
        handler: ReturnType<typeof handlerWith>,
        records: SQSRecord[],
        timeoutMs: number,
    ): Promise<{ result: SQSBatchResponse; returnedAtMs: number; logs: CapturedLogs }> {
        const start = Date.now();
        let returnedAtMs = -1;
        const { result, logs } = await captureLogs(async () => {
            const pending = handler(sqsEvent(...records), lambdaContext(timeoutMs)).then((r) => {
                returnedAtMs = Date.now() - start;
                return r;
            });
            await clock.tickAsync(timeoutMs * 3);
            return pending;
        });
        return { result, returnedAtMs, logs };
    }

    const never = (): Promise<JsonValue> => new Promise<JsonValue>(() => undefined);

    it("must abandon a processor that never resolves at the start margin, report it, and return the others", async () => {
        const fast = sqsRecord({ messageId: "fast" });
        const stuck = sqsRecord({ messageId: "stuck" });
        const handler = handlerWith((message) => (tokenOf(stuck) === message.TaskToken ? never() : "done"), {
            callTimeoutMs: 1000,
        });
        const { result, returnedAtMs } = await run(handler, [fast, stuck], 5000);
        assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "stuck" }] });
        assert.equal(sfn.commandCalls(SendTaskSuccessCommand).length, 1, "the fast record is answered");
        assert.ok(returnedAtMs < 5000, `returned before Lambda's timeout (at ${returnedAtMs} ms)`);
    });

    it("must not start a processor when its first beat took the time it would have had", async () => {
        const started: string[] = [];
        const slow = sqsRecord({ messageId: "slow-beat", receiveCount: 2 });
        sfn.on(SendTaskHeartbeatCommand, { taskToken: tokenOf(slow) }).callsFake(
            () => new Promise((resolve) => setTimeout(() => resolve({}), 4000)),
        );
        const handler = handlerWith(
            (_message, { messageId }) => {
                started.push(messageId);
                return "done";
            },
            { callTimeoutMs: 1000, heartbeatSeconds: 10 },
        );
        const { result } = await run(handler, [slow, sqsRecord({ messageId: "fresh" })], 5000);
        assert.deepEqual(started, ["fresh"], "4 s of the 5 s went to the beat: 1 s left, 1.5 s needed");
        assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: "slow-beat" }]);
    });

    it("must not start a record, nor its processor, without the start margin left", async () => {
        const started: string[] = [];
        const records = ["a", "b", "c"].map((messageId) => sqsRecord({ messageId }));
        const handler = handlerWith(
            (_message, { messageId }) => {
                started.push(messageId);
                return new Promise<JsonValue>((resolve) => setTimeout(() => resolve("ok"), 2000));
            },
            { concurrency: 1, callTimeoutMs: 1000 },
        );
        const { result, returnedAtMs, logs } = await run(handler, records, 5000);
        // a: 0–2 s, answered. b: starts at 2 s, abandoned at 3.5 s (5 s − 1 s call − 0.5 s). c: never started.
        assert.ok(
            logs.entries.some(
                (e) =>
                    e["messageId"] === "c" &&
                    e["message"] === "Out of time in this invocation, record not started; it will be retried",
            ),
        );
        assert.deepEqual(started, ["a", "b"]);
        assert.deepEqual(
            result.batchItemFailures.map((f) => f.itemIdentifier),
            ["b", "c"],
        );
        assert.ok(returnedAtMs <= 4500, `returned by the finish margin (at ${returnedAtMs} ms)`);
    });

    it("must fail the task on the last receive when the processor runs out of time, within the margin", async () => {
        const record = sqsRecord({ messageId: "slow", receiveCount: 5 });
        const handler = handlerWith(never, { maxReceiveCount: 5, callTimeoutMs: 1000 });
        const { result } = await run(handler, [record], 5000);
        assert.deepEqual(result, { batchItemFailures: [] });
        const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
        assert.equal(failure?.error, WORKER_ERRORS.retriesExhausted);
        assert.match(failure?.cause ?? "", /did not finish within the invocation/);
    });

    it("must return by the finish margin when a Step Functions call hangs, reporting the unanswered record", async () => {
        const record = sqsRecord({ messageId: "hung" });
        sfn.on(SendTaskSuccessCommand, { taskToken: tokenOf(record) }).callsFake(() => new Promise(() => undefined));
        const { result, returnedAtMs } = await run(
            handlerWith(defaultProcessor, { callTimeoutMs: 1000 }),
            [record, sqsRecord()],
            4000,
        );
        assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "hung" }] });
        assert.ok(returnedAtMs <= 3500 && returnedAtMs >= 3000, `returned at the finish margin (${returnedAtMs} ms)`);
    });
});

describe("default processor", () => {
    const context = {
        messageId: "m-1",
        receiveCount: 2,
        tokenRef: "sha256:000000000000",
        signal: new AbortController().signal,
    } as Parameters<typeof defaultProcessor>[1];

    it("must complete with a summary of the message, without the token or the input", async () => {
        const output = await defaultProcessor(
            { TaskToken: "secret-token", MessageTitle: "Title", ExecutionId: "arn:exec", Input: { big: "x" } },
            context,
        );
        assert.deepEqual(output, {
            status: "completed",
            message: "Callback task completed successfully.",
            title: "Title",
            executionId: "arn:exec",
            messageId: "m-1",
            receiveCount: 2,
        });
    });

    it("must reject with Callback.Rejected and the given reason when the input says so", () => {
        assert.throws(
            () =>
                defaultProcessor(
                    { TaskToken: "t", Input: { decision: "reject", reason: "Budget exceeded." } },
                    context,
                ),
            (error: unknown) =>
                error instanceof TaskFailedError &&
                error.error === REJECTED_ERROR &&
                error.message === "Budget exceeded.",
        );
    });
});
