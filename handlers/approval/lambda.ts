/**
 * The approval page as a Lambda function URL handler. Function URLs send payload format 2.0
 * (`requestContext.http.method`, `rawPath`, `rawQueryString`, `headers` in lower case, `body`,
 * `isBase64Encoded`) and take `{statusCode, headers, body}` back.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 *
 * Settings from the environment (the component sets them):
 * - `APPROVAL_TABLE_NAME`: the pending-approval table;
 * - `APPROVAL_KEY_RING_SECRET_ID`: the Secrets Manager secret holding the JSON key ring;
 * - `APPROVAL_CALL_TIMEOUT_MS`: one attempt of any AWS call, at most (default 2000);
 * - the SDK's own `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SFN`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from "aws-lambda";
import { SecretsManagerKeyRing } from "./key-ring";
import { ApprovalPage, MAX_BODY_BYTES, sfnClient, tooLarge, type PageRequest, type PageResponse } from "./page";
import { ApprovalStore } from "./store";

/** The page's request from a function URL event. */
export function fromFunctionUrlEvent(event: LambdaFunctionURLEvent): PageRequest | PageResponse {
    const raw = event.body ?? "";
    // Base64 grows the body by a third; a body past the limit is refused before it is decoded.
    if (raw.length > MAX_BODY_BYTES * 2) {
        return tooLarge();
    }
    const body = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) {
        if (value !== undefined) {
            headers[name.toLowerCase()] = value;
        }
    }
    return {
        method: event.requestContext.http.method,
        path: event.rawPath,
        query: event.rawQueryString ?? "",
        headers,
        body,
    };
}

export function toFunctionUrlResult(response: PageResponse): LambdaFunctionURLResult {
    return { statusCode: response.status, headers: response.headers, body: response.body, isBase64Encoded: false };
}

export type FunctionUrlHandler = (event: LambdaFunctionURLEvent, context?: Context) => Promise<LambdaFunctionURLResult>;

/** Adapts an approval page to function URL events. */
export function createFunctionUrlHandler(pageOf: ApprovalPage, logger?: Logger): FunctionUrlHandler {
    return async (event, context) => {
        if (context !== undefined) {
            logger?.addContext(context);
        }
        const request = fromFunctionUrlEvent(event);
        const response = "status" in request ? request : await pageOf.handleRequest(request);
        return toFunctionUrlResult(response);
    };
}

/** The handler built from the environment; call it at module scope (clients are made once). */
export function createApprovalPageHandler(env: NodeJS.ProcessEnv = process.env): FunctionUrlHandler {
    const tableName = env["APPROVAL_TABLE_NAME"];
    const secretId = env["APPROVAL_KEY_RING_SECRET_ID"];
    if (!tableName || !secretId) {
        throw new Error("The approval page needs APPROVAL_TABLE_NAME and APPROVAL_KEY_RING_SECRET_ID.");
    }
    const timeout = Number(env["APPROVAL_CALL_TIMEOUT_MS"] ?? 2000);
    const callTimeoutMs = Number.isInteger(timeout) && timeout >= 100 && timeout <= 10_000 ? timeout : 2000;
    const logger = new Logger(env["POWERTOOLS_SERVICE_NAME"] ? {} : { serviceName: "approval-page" });
    const approvers = parseApprovers(env["APPROVAL_APPROVERS"]);
    const approvalPage = new ApprovalPage({
        store: new ApprovalStore({ tableName, callTimeoutMs }),
        keyRing: new SecretsManagerKeyRing({ secretId, callTimeoutMs }),
        sfn: sfnClient({ callTimeoutMs }),
        // One attempt per SendTask*: a retry after a lost answer would see the delivered task as closed.
        sfnSend: sfnClient({ callTimeoutMs, maxAttempts: 1 }),
        ...(approvers !== undefined ? { approvers } : {}),
        logger,
    });
    return createFunctionUrlHandler(approvalPage, logger);
}

/** `APPROVAL_APPROVERS`: the channel's approvers as a JSON list of strings, or unset. */
function parseApprovers(raw: string | undefined): string[] | undefined {
    if (raw === undefined || raw === "") {
        return undefined;
    }
    let list: unknown;
    try {
        list = JSON.parse(raw);
    } catch {
        list = undefined;
    }
    if (!Array.isArray(list) || !list.every((a) => typeof a === "string")) {
        throw new Error("APPROVAL_APPROVERS must be a JSON list of approver ids.");
    }
    return list;
}
