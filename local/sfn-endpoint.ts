/**
 * A Step Functions endpoint on 127.0.0.1 that speaks the service's wire protocol (AWS JSON 1.0), for
 * SendTaskSuccess/Failure/Heartbeat, StartExecution and DescribeExecution:
 * `POST /`, `Content-Type: application/x-amz-json-1.0`, `X-Amz-Target: AWSStepFunctions.<Operation>`,
 * SigV4-signed; errors as HTTP 4xx/5xx with `{"__type": "...#Code", "message": ...}`.
 *
 * Point a real SDK client at it with `AWS_ENDPOINT_URL_SFN`. Each call is recorded; a responder decides
 * the reply (default: `{}` with 200), can add latency, drop the connection, or never answer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { LoopbackServer, readBody } from "./loopback";

export interface SfnCall {
    /** The operation, from `X-Amz-Target` (`SendTaskSuccess`, ...). */
    readonly operation: string;
    readonly body: Record<string, unknown>;
    readonly headers: IncomingMessage["headers"];
    /** Zero-based index among all calls this endpoint received. */
    readonly index: number;
}

/** What the endpoint does with one call. */
export type Reply =
    | { readonly status: number; readonly body: unknown; readonly delayMs?: number }
    | { readonly drop: true }
    /** A black hole: the request is read and never answered, the connection kept open. */
    | { readonly hang: true };

export type Responder = (call: SfnCall) => Reply | undefined;

/** An error reply as Step Functions sends it. */
export function sfnError(code: string, message: string, status = 400): Reply {
    return { status, body: sfnErrorBody(code, message) };
}

/** The operations served, each with the request fields Step Functions requires. */
const REQUIRED_FIELDS: Readonly<Record<string, readonly string[]>> = {
    SendTaskSuccess: ["taskToken", "output"],
    SendTaskFailure: ["taskToken"],
    SendTaskHeartbeat: ["taskToken"],
    StartExecution: ["stateMachineArn"],
    DescribeExecution: ["executionArn"],
};

export class FakeStepFunctions {
    /** Every well-formed call received, in order. */
    public readonly calls: SfnCall[] = [];
    /** Requests refused for breaking the protocol (wrong method, path, headers or body). */
    public readonly protocolErrors: string[] = [];
    private responder: Responder = () => undefined;
    private server!: LoopbackServer;

    private constructor(
        /** Latency added to every reply, in milliseconds. */
        public latencyMs: number,
    ) {}

    /** Starts the endpoint on an ephemeral port of 127.0.0.1. */
    public static async start(options: { latencyMs?: number } = {}): Promise<FakeStepFunctions> {
        const fake = new FakeStepFunctions(options.latencyMs ?? 0);
        fake.server = await LoopbackServer.start((req, res) => fake.handle(req, res));
        return fake;
    }

    public get url(): string {
        return this.server.url;
    }

    /** Sets how the next calls are answered; `undefined` from the responder means `{}` with 200. */
    public respond(responder: Responder): void {
        this.responder = responder;
    }

    /** Calls of one operation, or of all. */
    public callsOf(operation?: string): SfnCall[] {
        return operation === undefined ? this.calls : this.calls.filter((c) => c.operation === operation);
    }

    public reset(): void {
        this.calls.length = 0;
        this.protocolErrors.length = 0;
        this.responder = () => undefined;
        this.latencyMs = 0;
    }

    public close(): Promise<void> {
        return this.server.close();
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const raw = await readBody(req);
        const target = String(req.headers["x-amz-target"] ?? "");
        const problem =
            req.method !== "POST"
                ? `method ${req.method}`
                : req.url !== "/"
                  ? `path ${req.url}`
                  : req.headers["content-type"] !== "application/x-amz-json-1.0"
                    ? `content-type ${req.headers["content-type"]}`
                    : !String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")
                      ? "no SigV4 authorization"
                      : !target.startsWith("AWSStepFunctions.") || !(target.slice(17) in REQUIRED_FIELDS)
                        ? `target ${target}`
                        : undefined;
        let body: Record<string, unknown>;
        try {
            body = raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
        } catch {
            this.protocolErrors.push(`body is not JSON: ${raw.slice(0, 80)}`);
            return this.write(res, 400, { __type: "SerializationException", message: "Body is not JSON." });
        }
        if (problem !== undefined) {
            this.protocolErrors.push(problem);
            return this.write(res, 400, { __type: "UnknownOperationException", message: problem });
        }
        const missing = (REQUIRED_FIELDS[target.slice(17)] ?? []).filter(
            (field) => typeof body[field] !== "string" || body[field] === "",
        );
        if (missing.length > 0) {
            this.protocolErrors.push(`${target} without ${missing.join(", ")}`);
            return this.write(res, 400, sfnErrorBody("ValidationException", `${missing.join(", ")} is required.`));
        }
        const call: SfnCall = { operation: target.slice(17), body, headers: req.headers, index: this.calls.length };
        this.calls.push(call);
        const reply = this.responder(call) ?? { status: 200, body: {} };
        if ("hang" in reply) {
            return; // the socket stays open until the client gives up or the endpoint closes
        }
        const delay = this.latencyMs + ("delayMs" in reply ? (reply.delayMs ?? 0) : 0);
        if (delay > 0) {
            await new Promise((resolve) => setTimeout(resolve, delay));
        }
        if ("drop" in reply) {
            req.socket.destroy();
            return;
        }
        this.write(res, reply.status, reply.body);
    }

    private write(res: ServerResponse, status: number, body: unknown): void {
        const text = JSON.stringify(body);
        res.writeHead(status, {
            "content-type": "application/x-amz-json-1.0",
            "content-length": Buffer.byteLength(text),
            "x-amzn-requestid": `fake-${this.calls.length}`,
        });
        res.end(text);
    }
}

function sfnErrorBody(code: string, message: string): unknown {
    return { __type: `com.amazonaws.swf.service.v2.model#${code}`, message };
}
