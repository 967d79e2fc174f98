import { strict as assert } from "node:assert";
import {
    parseCallbackMessage,
    readWorkerSettings,
    redactToken,
    tokenRef,
    WorkerConfigError,
} from "../handlers/callback";
import { truncate } from "../handlers/callback/message";

describe("worker settings", () => {
    it("must apply the defaults when nothing is set", () => {
        assert.deepEqual(readWorkerSettings({}), {
            concurrency: 10,
            heartbeatSeconds: 0,
            maxReceiveCount: 0,
            maxAttempts: 5,
            callTimeoutMs: 5000,
            retryMode: "standard",
        });
    });

    it("must read each setting from its environment variable", () => {
        assert.deepEqual(
            readWorkerSettings({
                CALLBACK_CONCURRENCY: "4",
                CALLBACK_HEARTBEAT_SECONDS: "60",
                CALLBACK_MAX_RECEIVE_COUNT: "5",
                AWS_MAX_ATTEMPTS: "3",
                AWS_RETRY_MODE: "adaptive",
                CALLBACK_CALL_TIMEOUT_MS: "2000",
            }),
            {
                concurrency: 4,
                heartbeatSeconds: 60,
                maxReceiveCount: 5,
                maxAttempts: 3,
                callTimeoutMs: 2000,
                retryMode: "adaptive",
            },
        );
    });

    it("must let options override the environment", () => {
        assert.equal(readWorkerSettings({ CALLBACK_CONCURRENCY: "4" }, { concurrency: 8 }).concurrency, 8);
    });

    it("must report every invalid setting at once, with its name, value and range", () => {
        assert.throws(
            () =>
                readWorkerSettings({
                    CALLBACK_CONCURRENCY: "0",
                    CALLBACK_HEARTBEAT_SECONDS: "1.5",
                    AWS_MAX_ATTEMPTS: "many",
                    AWS_RETRY_MODE: "legacy",
                }),
            (error: unknown) => {
                assert.ok(error instanceof WorkerConfigError);
                assert.equal(
                    error.message,
                    [
                        "Invalid callback worker settings:",
                        '- `CALLBACK_CONCURRENCY` must be an integer from 1 to 100 (got "0").',
                        '- `CALLBACK_HEARTBEAT_SECONDS` must be an integer from 0 to 900 (got "1.5").',
                        '- `AWS_MAX_ATTEMPTS` must be an integer from 1 to 10 (got "many").',
                        '- `AWS_RETRY_MODE` must be one of standard, adaptive (got "legacy").',
                    ].join("\n"),
                );
                return true;
            },
        );
    });

    it("must name the option, not the variable, when an option is invalid", () => {
        assert.throws(
            () => readWorkerSettings({}, { concurrency: 500 }),
            /option `concurrency` must be an integer from 1 to 100 \(got "500"\)/,
        );
    });
});

describe("message parsing and redaction", () => {
    it("must return the message when the body honours the contract", () => {
        const body = { TaskToken: "tok", ExecutionId: "arn:exec", Input: { a: 1 } };
        assert.deepEqual(parseCallbackMessage({ body: JSON.stringify(body) }), body);
    });

    it("must not echo the body in a parse error", () => {
        assert.throws(
            () => parseCallbackMessage({ body: "secret-token-xyz" }),
            (error: unknown) => {
                assert.ok(error instanceof Error);
                assert.equal(error.message, "Message body is not JSON (16 bytes).");
                return true;
            },
        );
    });

    it("must reference a token by a short hash, stable and distinct per token", () => {
        assert.match(tokenRef("a"), /^sha256:[0-9a-f]{12}$/);
        assert.equal(tokenRef("a"), tokenRef("a"));
        assert.notEqual(tokenRef("a"), tokenRef("b"));
        assert.equal(redactToken("x TOKEN y TOKEN", "TOKEN"), `x ${tokenRef("TOKEN")} y ${tokenRef("TOKEN")}`);
    });

    it("must truncate without splitting a surrogate pair", () => {
        assert.equal(truncate("abc", 3), "abc");
        assert.equal(truncate("abcdef", 4), "abc…");
        const cut = truncate(`ab${"😀".repeat(3)}`, 4);
        assert.equal(cut, "ab…");
        assert.ok(cut.length <= 4);
    });
});
