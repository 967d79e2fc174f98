import { createHash } from "node:crypto";
import type { SQSRecord } from "aws-lambda";
import { SFN_LIMITS, type CallbackMessage, type JsonValue } from "./contract";
import { PoisonMessageError } from "./errors";

/**
 * Parses and checks one SQS record's body against the {@link CallbackMessage} contract.
 * Throws {@link PoisonMessageError} (never echoing the body, which holds the token) when the record
 * cannot be answered.
 */
export function parseCallbackMessage(record: Pick<SQSRecord, "body">): CallbackMessage {
    if (typeof record.body !== "string") {
        throw new PoisonMessageError(`Message body must be a string (got ${typeof record.body}).`);
    }
    let body: unknown;
    try {
        body = JSON.parse(record.body);
    } catch {
        throw new PoisonMessageError(`Message body is not JSON (${Buffer.byteLength(record.body)} bytes).`);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        const kind = body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`;
        throw new PoisonMessageError(`Message body must be a JSON object with a TaskToken (got ${kind}).`);
    }
    const token = (body as Record<string, JsonValue>)["TaskToken"];
    if (token === undefined) {
        throw new PoisonMessageError("Message body has no TaskToken.");
    }
    if (typeof token !== "string") {
        throw new PoisonMessageError(`TaskToken must be a string (got ${token === null ? "null" : typeof token}).`);
    }
    if (token.length === 0 || token.length > SFN_LIMITS.taskTokenMaxLength) {
        throw new PoisonMessageError(
            `TaskToken must be 1 to ${SFN_LIMITS.taskTokenMaxLength} characters (got ${token.length}).`,
        );
    }
    return body as unknown as CallbackMessage;
}

/**
 * A short, stable reference to a task token for logs: the first 12 hex digits of its SHA-256. It
 * correlates log lines of one task without giving anyone the bearer secret.
 */
export function tokenRef(token: string): string {
    return `sha256:${createHash("sha256").update(token).digest("hex").slice(0, 12)}`;
}

/**
 * Replaces every occurrence of `token` in `text` with its {@link tokenRef}, in the encodings a token
 * travels in: as it is, URL-encoded (`encodeURIComponent`, and with `+` for spaces as forms send it) and
 * JSON-escaped.
 */
export function redactToken(text: string, token: string): string {
    if (token === "") {
        return text;
    }
    const ref = tokenRef(token);
    const forms = new Set([
        token,
        encodeURIComponent(token),
        encodeURIComponent(token).replace(/%20/g, "+"),
        JSON.stringify(token).slice(1, -1),
    ]);
    let redacted = text;
    for (const form of [...forms].sort((a, b) => b.length - a.length)) {
        if (redacted.includes(form)) {
            redacted = redacted.split(form).join(ref);
        }
    }
    return redacted;
}

/**
 * A description of any thrown value that cannot itself throw: `String()` throws for some values (an
 * object without a prototype, a `toString` that throws), and a catch block must not lose the error.
 */
export function describeError(error: unknown): { readonly name: string; readonly message: string } {
    if (error instanceof Error) {
        return { name: safeString(error.name), message: safeString(error.message) };
    }
    return { name: typeof error, message: safeString(error) };
}

function safeString(value: unknown): string {
    try {
        return String(value);
    } catch {
        try {
            return Object.prototype.toString.call(value);
        } catch {
            return "[unprintable value]";
        }
    }
}

/**
 * Shortens `text` to at most `max` UTF-16 code units, ending with "…" when cut, never splitting a
 * surrogate pair.
 */
export function truncate(text: string, max: number): string {
    if (text.length <= max) {
        return text;
    }
    let end = max - 1;
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
        end -= 1;
    }
    return `${text.slice(0, end)}…`;
}

/** `ApproximateReceiveCount` of a record, 1 when absent or malformed. */
export function receiveCount(record: Pick<SQSRecord, "attributes">): number {
    const count = Number(record.attributes?.ApproximateReceiveCount);
    return Number.isInteger(count) && count > 0 ? count : 1;
}
