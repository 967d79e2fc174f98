/**
 * Runs a bundled worker the way Lambda does: loaded once in its own Node process (init), then invoked
 * with SQS events (warm invocations), with only the environment Lambda would give it.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import * as path from "node:path";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";

/**
 * The environment a worker process starts with: PATH, a region and fake credentials (so the SDK signs
 * requests for the loopback fake), nothing inherited that could reach a real account.
 */
export function lambdaEnvironment(): Record<string, string> {
    return {
        PATH: process.env["PATH"] ?? "",
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "AKIDFAKEFAKEFAKE",
        AWS_SECRET_ACCESS_KEY: "fake-secret",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
}

export type InvokeResult =
    | { readonly ok: true; readonly result: SQSBatchResponse }
    | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

export class LambdaProcess {
    /** Everything the process wrote to stdout and stderr, line by line. */
    public readonly lines: string[] = [];

    private constructor(private readonly child: ChildProcess) {
        const collect = (chunk: Buffer): void => {
            this.lines.push(
                ...chunk
                    .toString("utf8")
                    .split("\n")
                    .filter((line) => line.trim() !== ""),
            );
        };
        child.stdout?.on("data", collect);
        child.stderr?.on("data", collect);
    }

    /**
     * Starts a process that imports `entryFile` (a module exporting `handler`, or `options.exportName`).
     * `env` is the whole environment besides PATH: fake credentials and region are added; nothing else
     * is inherited.
     */
    public static async start(
        entryFile: string,
        env: Record<string, string>,
        options: { readonly exportName?: string } = {},
    ): Promise<LambdaProcess> {
        const child = fork(path.join(__dirname, "lambda-runtime.js"), [entryFile, options.exportName ?? "handler"], {
            env: {
                ...lambdaEnvironment(),
                AWS_LAMBDA_FUNCTION_NAME: "callback-worker",
                POWERTOOLS_SERVICE_NAME: "callback-worker",
                ...env,
            },
            execArgv: ["--enable-source-maps"],
            stdio: ["ignore", "pipe", "pipe", "ipc"],
        });
        const lambda = new LambdaProcess(child);
        const [ready] = (await once(child, "message")) as [{ ready?: boolean; error?: string }];
        if (!ready.ready) {
            child.kill();
            throw new Error(`The bundle failed to load: ${ready.error ?? "unknown"}\n${lambda.lines.join("\n")}`);
        }
        return lambda;
    }

    /**
     * Invokes the handler with `event`; its context's `getRemainingTimeInMillis()` counts down from
     * `timeoutMs` (the function's timeout; default 30 s). As Lambda does, an invocation still running at
     * its timeout is stopped: the process is killed and the result is the runtime's timeout error.
     */
    public async invoke(event: SQSEvent, options: { readonly timeoutMs?: number } = {}): Promise<InvokeResult> {
        const timeoutMs = options.timeoutMs ?? 30_000;
        this.child.send({ event, timeoutMs });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<InvokeResult>((resolve) => {
            timer = setTimeout(() => {
                this.child.kill("SIGKILL");
                resolve({
                    ok: false,
                    error: { name: "Sandbox.Timedout", message: `Task timed out after ${timeoutMs / 1000} seconds` },
                });
            }, timeoutMs);
        });
        try {
            return await Promise.race([once(this.child, "message").then(([reply]) => reply as InvokeResult), timedOut]);
        } finally {
            clearTimeout(timer);
        }
    }

    /** The JSON log entries written so far. */
    public get logs(): Array<Record<string, unknown>> {
        return parseEntries(this.lines);
    }

    public async stop(): Promise<void> {
        if (this.child.exitCode === null) {
            this.child.kill();
            await once(this.child, "exit");
        }
    }
}

/** The lines of `lines` that are JSON objects: structured log entries. */
export function parseEntries(lines: readonly string[]): Array<Record<string, unknown>> {
    return lines.flatMap((line) => {
        try {
            const value: unknown = JSON.parse(line);
            return isRecord(value) ? [value] : [];
        } catch {
            return [];
        }
    });
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
