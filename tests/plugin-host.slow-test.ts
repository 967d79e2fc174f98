/**
 * The plugin as the nodejs language host runs it, from a checkout with nothing built: what
 * `pulumi-language-nodejs` RunPlugin spawns (`node @pulumi/pulumi/cmd/run-plugin <plugin directory>
 * <engine address>`, in the consumer program's working directory), with the consumer's own tsconfig.json
 * there for run-plugin's ts-node to pick up. The plugin must build itself, print its port first and alone
 * on stdout, and answer GetSchema over gRPC with the two components under the `callback` package.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import { CALLBACK_CHANNEL_TYPE } from "../components/channel";
import { CALLBACK_WORKFLOW_TYPE } from "../components/callback-workflow";

const PULUMI = path.dirname(require.resolve("@pulumi/pulumi/package.json"));

interface GrpcModule {
    credentials: { createInsecure(): unknown };
}
interface SchemaResponse {
    getSchema(): string;
}
interface ProviderClient {
    getSchema(request: unknown, callback: (error: Error | null, response: SchemaResponse) => void): void;
    close(): void;
}

/** GetSchema over the provider protocol, with the SDK's own generated client. */
async function getSchemaOverGrpc(port: number): Promise<Record<string, unknown>> {
    /* eslint-disable @typescript-eslint/no-require-imports -- the SDK's generated gRPC stubs, untyped CommonJS */
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [PULUMI] })) as GrpcModule;
    const services = require(path.join(PULUMI, "proto", "provider_grpc_pb")) as {
        ResourceProviderClient: new (address: string, credentials: unknown) => ProviderClient;
    };
    const messages = require(path.join(PULUMI, "proto", "provider_pb")) as { GetSchemaRequest: new () => unknown };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const client = new services.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
        return await new Promise((resolve, reject) => {
            client.getSchema(new messages.GetSchemaRequest(), (error, response) =>
                error ? reject(error) : resolve(JSON.parse(response.getSchema()) as Record<string, unknown>),
            );
        });
    } finally {
        client.close();
    }
}

/** The first line the plugin prints on stdout, and everything it printed by then. */
function firstLine(child: ChildProcess, timeoutMs: number): Promise<{ line: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(
            () => reject(new Error(`no port within ${timeoutMs} ms; stderr:\n${stderr}`)),
            timeoutMs,
        );
        child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout?.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
            if (stdout.includes("\n")) {
                clearTimeout(timer);
                resolve({ line: stdout.slice(0, stdout.indexOf("\n")), stderr });
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`the plugin exited (${code}) before printing its port; stderr:\n${stderr}`));
        });
    });
}

describe("the plugin as pulumi-language-nodejs runs it, from a fresh checkout", function () {
    // A fresh checkout compiles the plugin's sources once, then GetSchema runs the analyzer.
    this.timeout(180_000);
    let work: string;
    let child: ChildProcess | undefined;

    before(() => {
        work = mkdtempSync(path.join(tmpdir(), "callback-plugin-"));
    });

    after(() => {
        if (child?.pid !== undefined && child.exitCode === null) {
            child.kill();
        }
        rmSync(work, { recursive: true, force: true });
    });

    it("must build itself, print only its port, and serve the schema of exactly the two components", async () => {
        // What a git checkout holds for the plugin (no build/), its dependencies installed.
        const checkout = path.join(work, "checkout");
        for (const entry of ["package.json", "tsconfig.json", "components", "handlers", "plugin", "types"]) {
            cpSync(path.join(REPO_ROOT, entry), path.join(checkout, entry), { recursive: true });
        }
        symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(checkout, "node_modules"), "dir");
        // The consumer's program directory, with a tsconfig.json of its own that run-plugin's ts-node loads.
        const consumer = path.join(work, "consumer");
        mkdirSync(consumer);
        writeFileSync(path.join(consumer, "Pulumi.yaml"), "name: consumer\nruntime: yaml\n");
        writeFileSync(
            path.join(consumer, "tsconfig.json"),
            JSON.stringify({ compilerOptions: { strict: false, target: "ES5", exactOptionalPropertyTypes: true } }),
        );

        child = spawn(
            process.execPath,
            [path.join(PULUMI, "cmd", "run-plugin"), path.join(checkout, "plugin"), "127.0.0.1:1"],
            { cwd: consumer, stdio: ["ignore", "pipe", "pipe"] },
        );
        const { line } = await firstLine(child, 150_000);
        assert.match(line, /^\d+$/, "the first line on stdout is the port, and only that");
        assert.ok(existsSync(path.join(checkout, "build", "plugin", "index.js")), "the plugin built itself");

        const schema = await getSchemaOverGrpc(Number(line));
        const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "plugin", "package.json"), "utf8")) as {
            version: string;
        };
        assert.equal(schema["name"], "callback");
        assert.equal(schema["version"], manifest.version);
        assert.deepEqual(
            Object.keys(schema["resources"] as object).sort(),
            [CALLBACK_CHANNEL_TYPE, CALLBACK_WORKFLOW_TYPE].sort(),
        );
    });
});
