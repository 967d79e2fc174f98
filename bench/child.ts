/**
 * One worker variant in its own process, for `npm run bench`.
 *   node child.js init <file> <export>   load the module, print {"initMs": ...}, exit (cold start)
 *   node child.js serve <file> <export>  load it, then run each IPC `{ event }` and reply `{ ms }`
 * `initMs` is the time inside the import/require of the module: the SDK, the logger and the handler's
 * module-scope setup, which is what Lambda bills as init beyond the runtime's own start.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

async function load(file: string, exportName: string): Promise<{ handler: Handler; initMs: number }> {
    const start = performance.now();
    const module = (
        file.endsWith(".mjs")
            ? await import(pathToFileURL(file).href)
            : // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS handlers load through require, as in Lambda
              (require(file) as unknown)
    ) as Record<string, unknown>;
    const initMs = performance.now() - start;
    const handler = module[exportName];
    if (typeof handler !== "function") {
        throw new Error(`${file} does not export ${exportName}`);
    }
    return { handler: handler as Handler, initMs };
}

async function main(): Promise<void> {
    const [mode, file, exportName] = process.argv.slice(2);
    if ((mode !== "init" && mode !== "serve") || file === undefined || exportName === undefined) {
        throw new Error("usage: child.js init|serve <file> <export>");
    }
    const { handler, initMs } = await load(file, exportName);
    if (mode === "init") {
        process.stderr.write(`${JSON.stringify({ initMs })}\n`);
        return;
    }
    process.on("message", (message: { event: unknown; timeoutMs?: number }) => {
        const start = performance.now();
        // A Lambda context, as the runtime passes it: the worker's deadline logic runs as deployed.
        const deadline = Date.now() + (message.timeoutMs ?? 30_000);
        const context = {
            awsRequestId: `bench-${Date.now()}`,
            functionName: "callback-worker",
            getRemainingTimeInMillis: () => deadline - Date.now(),
        };
        handler(message.event, context).then(
            () => process.send?.({ ms: performance.now() - start }),
            (error: unknown) => process.send?.({ ms: performance.now() - start, error: String(error) }),
        );
    });
    // Resident memory after init, as Lambda's "Max Memory Used" sees it at the start.
    process.send?.({ ready: true, initMs, rssMb: process.memoryUsage().rss / 2 ** 20 });
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
