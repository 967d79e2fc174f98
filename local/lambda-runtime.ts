/**
 * The child side of {@link LambdaProcess}: imports the bundle (Lambda's init phase), then answers each
 * `{ event }` message with the handler's result, as Lambda's runtime interface would.
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

async function main(): Promise<void> {
    const entry = process.argv[2];
    const exportName = process.argv[3] ?? "handler";
    if (entry === undefined) {
        throw new Error("usage: lambda-runtime <entry file> [export name]");
    }
    const functionName = process.env["AWS_LAMBDA_FUNCTION_NAME"] ?? "callback-worker";
    let handler: Handler;
    try {
        const module = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
        const exported = module[exportName];
        if (typeof exported !== "function") {
            throw new Error(`${entry} does not export a function named ${exportName}`);
        }
        handler = exported as Handler;
    } catch (error) {
        process.send?.({
            ready: false,
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
        return;
    }
    process.on("message", (message: { event: unknown; timeoutMs?: number }) => {
        const deadline = Date.now() + (message.timeoutMs ?? 30_000);
        const context = {
            awsRequestId: randomUUID(),
            functionName,
            functionVersion: "$LATEST",
            invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
            memoryLimitInMB: "256",
            logGroupName: `/aws/lambda/${functionName}`,
            logStreamName: "fake",
            callbackWaitsForEmptyEventLoop: true,
            getRemainingTimeInMillis: () => deadline - Date.now(),
        };
        handler(message.event, context).then(
            (result) => process.send?.({ ok: true, result }),
            (error: unknown) =>
                process.send?.({
                    ok: false,
                    error:
                        error instanceof Error
                            ? { name: error.name, message: error.message }
                            : { name: "Error", message: String(error) },
                }),
        );
    });
    process.send?.({ ready: true });
}

void main();
