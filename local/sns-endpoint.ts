/**
 * An Amazon SNS endpoint on 127.0.0.1 that speaks the service's wire protocol (AWS Query, API version
 * 2010-03-31) for the one call the approval requester makes: Publish to a standard topic.
 *
 * Requests are `POST /`, `Content-Type: application/x-www-form-urlencoded`, SigV4-signed for the
 * service `sns`, with a form body as `@aws-sdk/client-sns` writes it:
 * `Action=Publish&Version=2010-03-31&Message=...&TopicArn=...&Subject=...` and each message attribute as
 * `MessageAttributes.entry.<n>.Name`, `...Value.DataType`, `...Value.StringValue` or
 * `...Value.BinaryValue` (base64). The SDK sends no `x-amzn-query-mode` header: SNS is plain AWS Query,
 * not the JSON protocol with query compatibility. Replies are XML in the namespace
 * `http://sns.amazonaws.com/doc/2010-03-31/`: `<PublishResponse><PublishResult><MessageId>` and
 * `<ResponseMetadata><RequestId>`, or `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`
 * with the HTTP status of the error (NotFound 404, InvalidParameter 400, Throttled 429, ...), which the
 * SDK maps to its exception classes by `Code` (the `awsQueryError` trait of each error shape).
 *
 * Publish is validated as the API reference describes it: a known topic (NotFound otherwise), a
 * non-empty `Message` of at most 256 KiB counted with its attributes' names, types and values
 * (InvalidParameter), a `Subject` of printable ASCII, not starting with a space, under 100 characters
 * (InvalidParameter), message attributes with a valid name, a `String`/`Number`/`Binary` type and a
 * non-empty value of that type (ParameterValueInvalid), `MessageStructure=json` with a `default` entry.
 * Anything else (other actions, `TargetArn`/`PhoneNumber`, FIFO topics, unknown parameters) is refused
 * and recorded in `protocolErrors`, so a caller growing beyond the subset fails loudly here.
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 * https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { LoopbackServer, readBody, type InjectedFailure } from "./loopback";

/** The Query API version SNS speaks. */
export const SNS_API_VERSION = "2010-03-31";
const XML_NAMESPACE = `http://sns.amazonaws.com/doc/${SNS_API_VERSION}/`;
/** Message and attributes together, at most (262,144 bytes). */
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;
const TOPIC_ARN = /^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const PUBLISH_PARAMETERS = new Set([
    "Action",
    "Version",
    "TopicArn",
    "TargetArn",
    "PhoneNumber",
    "Message",
    "Subject",
    "MessageStructure",
    "MessageDeduplicationId",
    "MessageGroupId",
]);
const ATTRIBUTE_PARAMETER =
    /^MessageAttributes\.entry\.([1-9][0-9]*)\.(Name|Value\.DataType|Value\.StringValue|Value\.BinaryValue)$/;

/** One message attribute as published. */
export interface SnsMessageAttribute {
    readonly dataType: string;
    readonly stringValue?: string;
    readonly binaryValue?: Buffer;
}

/** A message the endpoint accepted. */
export interface PublishedMessage {
    readonly messageId: string;
    readonly topicArn: string;
    readonly subject?: string;
    readonly message: string;
    /** `json` when the message is a JSON object of per-protocol messages. */
    readonly messageStructure?: string;
    readonly messageGroupId?: string;
    readonly attributes: Readonly<Record<string, SnsMessageAttribute>>;
    /** Zero-based index among the messages published. */
    readonly index: number;
}

/** One well-formed request (the Action and Version understood), whatever its answer. */
export interface SnsCall {
    readonly action: string;
    /** The form's parameters, decoded. */
    readonly params: Readonly<Record<string, string>>;
    readonly index: number;
    /** The error code it was answered with, if any (injected or not). */
    error?: string;
}

/** An error SNS answers with: its `Code`, `Message` and HTTP status (`Type` is Receiver from 500 on). */
export type SnsFailure = InjectedFailure;

/** SNS throttling a caller: the SDK maps it to ThrottledException and retries it. */
export const SNS_THROTTLED: SnsFailure = { code: "Throttled", message: "Rate exceeded", status: 429 };
/** An internal error (InternalErrorException, retried by the SDK as a 500). */
export const SNS_INTERNAL_ERROR: SnsFailure = {
    code: "InternalError",
    message: "Internal Error",
    status: 500,
};

class SnsError extends Error {
    constructor(
        public readonly code: string,
        message: string,
        public readonly status = 400,
    ) {
        super(message);
    }
}

const invalidParameter = (message: string): SnsError => new SnsError("InvalidParameter", message);
const invalidValue = (message: string): SnsError => new SnsError("ParameterValueInvalid", message);

/** Text that XML 1.0 can carry, escaped. */
function xmlText(text: string): string {
    return text
        .replace(/[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, "?")
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;")
        .replace(/'/g, "&apos;");
}

/** A name or value quoted in an error message, at most 60 characters. */
function quoted(text: string): string {
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** Validates one message attribute as SNS does; returns its size in bytes. */
function checkAttribute(name: string, value: SnsMessageAttribute): number {
    if (
        !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
        name.startsWith(".") ||
        name.endsWith(".") ||
        name.includes("..") ||
        /^(aws|amazon)\./i.test(name)
    ) {
        throw invalidValue(
            `The message attribute name '${quoted(name)}' is invalid: 1 to 256 of A-Z a-z 0-9 _ - ., not starting or ending with a period, no two periods in a row, not starting with AWS. or Amazon.`,
        );
    }
    const type = value.dataType;
    const base = /^(String|Number|Binary)(\.[\x21-\x7e]+)?$/.exec(type)?.[1];
    if (base === undefined || type.length > 256) {
        throw invalidValue(
            `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
        );
    }
    const field = base === "Binary" ? "Binary" : "String";
    const given = field === "Binary" ? value.binaryValue?.length : value.stringValue?.length;
    if (given === undefined || given === 0) {
        throw invalidValue(
            `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`,
        );
    }
    if ((field === "Binary" ? value.stringValue : value.binaryValue) !== undefined) {
        throw invalidValue(`The message attribute '${name}' with type '${type}' must use field '${field}'.`);
    }
    const text = value.stringValue ?? "";
    if (base === "Number" && !/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text.trim())) {
        throw invalidValue(`Could not cast message attribute '${name}' value to number.`);
    }
    if (type === "String.Array") {
        let parsed: unknown;
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = undefined;
        }
        if (!Array.isArray(parsed) || parsed.some((item) => typeof item === "object" && item !== null)) {
            throw invalidValue(
                `The message attribute '${name}' of type 'String.Array' must be a JSON array of strings, numbers, booleans or nulls.`,
            );
        }
    }
    return (
        Buffer.byteLength(name) +
        Buffer.byteLength(type) +
        (field === "Binary" ? (value.binaryValue?.length ?? 0) : Buffer.byteLength(text))
    );
}

/** Reads the `MessageAttributes.entry.<n>.*` parameters into a map. */
function readAttributes(params: Readonly<Record<string, string>>): Record<string, SnsMessageAttribute> {
    const entries = new Map<number, Record<string, string>>();
    for (const [key, value] of Object.entries(params)) {
        const match = ATTRIBUTE_PARAMETER.exec(key);
        if (match !== null) {
            const entry = entries.get(Number(match[1])) ?? {};
            entry[match[2] as string] = value;
            entries.set(Number(match[1]), entry);
        }
    }
    const attributes: Record<string, SnsMessageAttribute> = {};
    for (const index of [...entries.keys()].sort((a, b) => a - b)) {
        const entry = entries.get(index) as Record<string, string>;
        const name = entry["Name"];
        const dataType = entry["Value.DataType"];
        if (name === undefined || dataType === undefined) {
            throw invalidParameter(
                `Invalid parameter: MessageAttributes.entry.${index} needs a Name and a Value.DataType.`,
            );
        }
        if (Object.hasOwn(attributes, name)) {
            throw invalidValue(`The message attribute '${quoted(name)}' is given more than once.`);
        }
        const binary = entry["Value.BinaryValue"];
        if (binary !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(binary)) {
            throw invalidValue(`The message attribute '${quoted(name)}' has a BinaryValue that is not base64.`);
        }
        attributes[name] = {
            dataType,
            ...(entry["Value.StringValue"] !== undefined ? { stringValue: entry["Value.StringValue"] } : {}),
            ...(binary !== undefined ? { binaryValue: Buffer.from(binary, "base64") } : {}),
        };
    }
    return attributes;
}

export interface FakeSnsOptions {
    /** The topics that exist, as ARNs (`arn:aws:sns:<region>:<account>:<name>`); standard topics only. */
    readonly topics: readonly string[];
}

/** The SNS fake: start it, point a client's `endpoint` at {@link FakeSns.url}, read {@link FakeSns.published}. */
export class FakeSns {
    /** Every request with a known Action and Version, in order, failed ones included. */
    public readonly calls: SnsCall[] = [];
    /** Requests refused for breaking the protocol or leaving the subset (wrong method, header, action...). */
    public readonly protocolErrors: string[] = [];
    /** Every message accepted, in order. */
    public readonly published: PublishedMessage[] = [];
    private readonly topics = new Set<string>();
    private readonly listeners = new Set<(message: PublishedMessage) => void>();
    private failures: SnsFailure[] = [];
    private server!: LoopbackServer;

    private constructor(options: FakeSnsOptions) {
        for (const topic of options.topics) {
            this.addTopic(topic);
        }
    }

    /** Starts the endpoint on an ephemeral port of 127.0.0.1. */
    public static async start(options: FakeSnsOptions): Promise<FakeSns> {
        const fake = new FakeSns(options);
        fake.server = await LoopbackServer.start((req, res) => fake.handle(req, res));
        return fake;
    }

    public get url(): string {
        return this.server.url;
    }

    /** Makes a topic exist. */
    public addTopic(topicArn: string): void {
        if (!TOPIC_ARN.test(topicArn)) {
            throw new Error(`Not an SNS topic ARN: ${topicArn}`);
        }
        if (topicArn.endsWith(".fifo")) {
            throw new Error(`The SNS fake serves standard topics only, not ${topicArn}.`);
        }
        this.topics.add(topicArn);
    }

    /** Answers the next `count` calls with `failure` (default throttling) instead of serving them. */
    public failNext(count: number, failure: SnsFailure = SNS_THROTTLED): void {
        for (let i = 0; i < count; i++) {
            this.failures.push(failure);
        }
    }

    /** Calls `listener` with each message accepted from now on; returns a function that stops it. */
    public onPublish(listener: (message: PublishedMessage) => void): () => void {
        this.listeners.add(listener);
        return () => void this.listeners.delete(listener);
    }

    /** The next message accepted after this call; rejects after `timeoutMs`. */
    public nextPublish(timeoutMs = 5000): Promise<PublishedMessage> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                stop();
                reject(new Error(`No message was published within ${timeoutMs} ms.`));
            }, timeoutMs);
            timer.unref();
            const stop = this.onPublish((message) => {
                clearTimeout(timer);
                stop();
                resolve(message);
            });
        });
    }

    /** Forgets calls, messages, protocol errors and pending failures; the topics stay. */
    public reset(): void {
        this.calls.length = 0;
        this.protocolErrors.length = 0;
        this.published.length = 0;
        this.failures = [];
    }

    public close(): Promise<void> {
        this.listeners.clear();
        return this.server.close();
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const raw = await readBody(req);
        const authorization = String(req.headers.authorization ?? "");
        const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/([a-z0-9-]+)\/aws4_request,/.exec(
            authorization,
        );
        const problem =
            req.method !== "POST"
                ? { code: "InvalidAction", status: 400, text: `method ${req.method}` }
                : req.url !== "/"
                  ? { code: "InvalidAction", status: 400, text: `path ${req.url}` }
                  : req.headers["content-type"] !== "application/x-www-form-urlencoded"
                    ? { code: "InvalidAction", status: 400, text: `content-type ${req.headers["content-type"]}` }
                    : scope === null
                      ? { code: "MissingAuthenticationToken", status: 403, text: "no SigV4 authorization" }
                      : scope[1] !== "sns"
                        ? {
                              code: "SignatureDoesNotMatch",
                              status: 403,
                              text: `Credential should be scoped to correct service: 'sns' (got '${scope[1]}').`,
                          }
                        : undefined;
        if (problem !== undefined) {
            this.protocolErrors.push(problem.text);
            return this.writeError(res, new SnsError(problem.code, problem.text, problem.status));
        }
        const form = new URLSearchParams(raw);
        const params: Record<string, string> = {};
        for (const [key, value] of form) {
            if (Object.hasOwn(params, key)) {
                this.protocolErrors.push(`parameter ${key} given twice`);
                return this.writeError(res, invalidParameter(`Invalid parameter: ${key} is given more than once.`));
            }
            params[key] = value;
        }
        const action = params["Action"] ?? "";
        if (params["Version"] !== SNS_API_VERSION || action !== "Publish") {
            const text = `Could not find operation ${action} for version ${params["Version"] ?? ""}`;
            this.protocolErrors.push(text);
            return this.writeError(res, new SnsError("InvalidAction", text));
        }
        const unknown = Object.keys(params).filter(
            (key) => !PUBLISH_PARAMETERS.has(key) && !ATTRIBUTE_PARAMETER.test(key),
        );
        if (unknown.length > 0) {
            this.protocolErrors.push(`Publish with unknown parameters ${unknown.join(", ")}`);
            return this.writeError(res, invalidParameter(`Invalid parameter: ${unknown.join(", ")}`));
        }
        const call: SnsCall = { action, params, index: this.calls.length };
        this.calls.push(call);
        const failure = this.failures.shift();
        if (failure !== undefined) {
            call.error = failure.code;
            return this.writeError(res, new SnsError(failure.code, failure.message, failure.status));
        }
        let published: PublishedMessage;
        try {
            published = this.publish(params);
        } catch (error) {
            if (!(error instanceof SnsError)) {
                throw error;
            }
            call.error = error.code;
            return this.writeError(res, error);
        }
        this.published.push(published);
        for (const listener of [...this.listeners]) {
            listener(published);
        }
        const requestId = randomUUID();
        this.write(
            res,
            200,
            `<PublishResponse xmlns="${XML_NAMESPACE}"><PublishResult><MessageId>${published.messageId}</MessageId>` +
                `</PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
            requestId,
        );
    }

    private publish(params: Readonly<Record<string, string>>): PublishedMessage {
        if (params["TargetArn"] !== undefined || params["PhoneNumber"] !== undefined) {
            this.protocolErrors.push("Publish to a TargetArn or PhoneNumber (the fake serves topics only)");
            throw invalidParameter("Invalid parameter: the SNS fake publishes to topics only (TopicArn).");
        }
        const topicArn = params["TopicArn"];
        if (topicArn === undefined || topicArn === "") {
            throw invalidParameter("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
        }
        if (!TOPIC_ARN.test(topicArn)) {
            throw invalidParameter("Invalid parameter: TopicArn");
        }
        const message = params["Message"];
        if (message === undefined || message === "") {
            throw invalidParameter("Invalid parameter: Empty message");
        }
        const subject = params["Subject"];
        if (subject !== undefined && !/^[\x21-\x7e][\x20-\x7e]{0,98}$/.test(subject)) {
            // ASCII that begins with a letter, number or punctuation mark, no line breaks or control
            // characters, under 100 characters.
            throw invalidParameter("Invalid parameter: Subject");
        }
        const structure = params["MessageStructure"];
        if (structure !== undefined) {
            if (structure !== "json") {
                throw invalidParameter("Invalid parameter: MessageStructure");
            }
            let parsed: unknown;
            try {
                parsed = JSON.parse(message);
            } catch {
                throw invalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse");
            }
            if (
                typeof parsed !== "object" ||
                parsed === null ||
                typeof (parsed as Record<string, unknown>)["default"] !== "string"
            ) {
                throw invalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body");
            }
        }
        if (params["MessageDeduplicationId"] !== undefined) {
            throw invalidParameter(
                "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            );
        }
        const attributes = readAttributes(params);
        let size = Buffer.byteLength(message);
        for (const [name, value] of Object.entries(attributes)) {
            size += checkAttribute(name, value);
        }
        if (size > SNS_MAX_MESSAGE_BYTES) {
            throw invalidParameter("Invalid parameter: Message too long");
        }
        if (!this.topics.has(topicArn)) {
            throw new SnsError("NotFound", "Topic does not exist", 404);
        }
        const group = params["MessageGroupId"];
        return {
            messageId: randomUUID(),
            topicArn,
            ...(subject !== undefined ? { subject } : {}),
            message,
            ...(structure !== undefined ? { messageStructure: structure } : {}),
            ...(group !== undefined ? { messageGroupId: group } : {}),
            attributes,
            index: this.published.length,
        };
    }

    private writeError(res: ServerResponse, error: SnsError): void {
        const type = error.status >= 500 ? "Receiver" : "Sender";
        const requestId = randomUUID();
        this.write(
            res,
            error.status,
            `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${type}</Type><Code>${xmlText(error.code)}</Code>` +
                `<Message>${xmlText(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
            requestId,
        );
    }

    private write(res: ServerResponse, status: number, xml: string, requestId: string): void {
        const text = `<?xml version="1.0"?>\n${xml}\n`;
        res.writeHead(status, {
            "content-type": "text/xml",
            "content-length": Buffer.byteLength(text),
            "x-amzn-requestid": requestId,
        });
        res.end(text);
    }
}
