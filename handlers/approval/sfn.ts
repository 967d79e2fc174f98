/**
 * The Step Functions client of the approval's Lambdas (the page and the requester), in a module of its
 * own so that the requester's bundle does not take the page's.
 */
import { SFNClient } from "@aws-sdk/client-sfn";

/** A Step Functions client with bounded attempts, as the callback worker's. */
export function sfnClient(
    options: { readonly endpoint?: string; readonly callTimeoutMs?: number; readonly maxAttempts?: number } = {},
): SFNClient {
    const timeout = options.callTimeoutMs ?? 3000;
    return new SFNClient({
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        maxAttempts: options.maxAttempts ?? 3,
        requestHandler: {
            connectionTimeout: Math.min(1000, timeout),
            requestTimeout: timeout,
            throwOnRequestTimeout: true,
            socketTimeout: timeout,
        },
    });
}
