/**
 * The AWS clients' settings of the approval's Lambdas (the page and the requester): every attempt
 * bounded, as the callback worker's (see handlers/callback/worker.ts: without `throwOnRequestTimeout`,
 * @smithy/node-http-handler 4.x only warns when `requestTimeout` passes, and a black-holed connection
 * holds the call forever). The Step Functions client is in this module of its own so that the
 * requester's bundle does not take the page's.
 */
import { SFNClient } from "@aws-sdk/client-sfn";

/** `maxAttempts` attempts of at most `callTimeoutMs` each, the connection within a second. */
export function boundedAttempts(callTimeoutMs: number, maxAttempts = 3) {
    return {
        maxAttempts,
        requestHandler: {
            connectionTimeout: Math.min(1000, callTimeoutMs),
            requestTimeout: callTimeoutMs,
            throwOnRequestTimeout: true,
            socketTimeout: callTimeoutMs,
        },
    };
}

/** A Step Functions client with bounded attempts, as the callback worker's. */
export function sfnClient(
    options: { readonly endpoint?: string; readonly callTimeoutMs?: number; readonly maxAttempts?: number } = {},
): SFNClient {
    return new SFNClient({
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        ...boundedAttempts(options.callTimeoutMs ?? 3000, options.maxAttempts),
    });
}
