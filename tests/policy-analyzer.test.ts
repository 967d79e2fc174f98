/**
 * The policy pack as the Pulumi CLI runs it: the built entry (policy/bin/index.js) in a process of its
 * own, whose `new PolicyPack(...)` starts @pulumi/policy's analyzer gRPC server and prints its port, spoken
 * to over the Analyzer service of pulumi/proto
 * (https://github.com/pulumi/pulumi/blob/master/proto/pulumi/analyzer.proto) with the generated clients
 * @pulumi/pulumi ships. The requests are built the way the engine builds them
 * (https://github.com/pulumi/pulumi/blob/master/pkg/resource/plugin/analyzer_plugin.go): properties
 * marshalled with unknowns as sentinels, secrets and assets as signature objects, internal `__` keys
 * left out; the configuration reconciled from a `--policy-pack-config` file as the CLI reconciles it
 * (https://github.com/pulumi/pulumi/blob/master/pkg/resource/analyzer/config.go). What comes back must be
 * what the in-process runner (policy/runner.ts, which most tests use) reports for the same run, deployed
 * and in preview.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as iam from "@pulumi/aws/iam";
import * as sqs from "@pulumi/aws/sqs";
import type * as grpcJs from "@grpc/grpc-js";
import type { EnforcementLevel } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import type * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import type * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import type * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import { POLICY_PACK_NAME, policies } from "../policy/policies";
import { recordProgram, REGION, type ProgramRun, type Registration } from "../policy/record";
import {
    runPolicies,
    stackProps,
    withSentinels,
    type Finding,
    type PolicyPackConfig,
    type PolicyRun,
} from "../policy/runner";
import { callbackStack, tlsPolicy } from "./fixtures/policy-stacks";

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const PACK_VERSION = (JSON.parse(readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")) as { version: string })
    .version;
const EXAMPLE_CONFIG = JSON.parse(
    readFileSync(path.join(POLICY_DIR, "config.example.json"), "utf8"),
) as PolicyPackConfig;

// The generated clients and the runtime they were generated for, from @pulumi/pulumi's own dependencies
// (the very modules the pack's server uses: message classes and credentials are checked by instanceof).
const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = fromPulumi("@grpc/grpc-js") as typeof grpcJs;
const rpc = fromPulumi("./proto/analyzer_grpc_pb") as typeof analyzerGrpc;
const pb = fromPulumi("./proto/analyzer_pb") as typeof analyzerPb;
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as typeof structPb;
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb") as typeof emptyPb;

// The signatures of @pulumi/pulumi's runtime/rpc.js (`specialSigKey` and the values beside it), which the
// engine puts in a marshalled Struct for secrets, assets and archives.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";

const LEVEL_NAMES: Record<number, EnforcementLevel> = {
    [pb.EnforcementLevel.ADVISORY]: "advisory",
    [pb.EnforcementLevel.MANDATORY]: "mandatory",
    [pb.EnforcementLevel.DISABLED]: "disabled",
    [pb.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_CODES = Object.fromEntries(Object.entries(LEVEL_NAMES).map(([code, name]) => [name, Number(code)]));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A property value as the engine marshals it for an analyzer (MarshalProperties with KeepUnknowns,
 * KeepSecrets and SkipInternalKeys): plain JSON as it is (the unknown sentinels already in place, as
 * `withSentinels` puts them), a secret as `{[sig]: secret, value}` (how the mocks record it too), an asset
 * or archive as its signature object, keys that start with `__` left out.
 */
async function marshal(value: unknown): Promise<Json> {
    if (value === null || typeof value !== "object") {
        return value === undefined ? null : (value as Json);
    }
    if (Array.isArray(value)) {
        return Promise.all(value.map(marshal));
    }
    if (pulumi.asset.Asset.isInstance(value)) {
        const a = value as unknown as { text?: Promise<string>; path?: Promise<string>; uri?: Promise<string> };
        const [key, field] = a.text ? ["text", a.text] : a.path ? ["path", a.path] : ["uri", a.uri];
        return { [SIG_KEY]: ASSET_SIG, [key]: (await field) ?? null };
    }
    if (pulumi.asset.Archive.isInstance(value)) {
        const a = value as unknown as { assets?: Promise<object>; path?: Promise<string>; uri?: Promise<string> };
        if (a.assets) {
            return { [SIG_KEY]: ARCHIVE_SIG, assets: await marshal(await a.assets) };
        }
        return a.path
            ? { [SIG_KEY]: ARCHIVE_SIG, path: await a.path }
            : { [SIG_KEY]: ARCHIVE_SIG, uri: (await a.uri) ?? null };
    }
    const fields: Record<string, Json> = {};
    for (const [key, field] of Object.entries(value)) {
        if (!key.startsWith("__") && field !== undefined) {
            fields[key] = await marshal(field);
        }
    }
    return fields;
}

async function struct(props: Record<string, unknown>): Promise<structPb.Struct> {
    return Struct.fromJavaScript((await marshal(props)) as Record<string, structPb.JavaScriptValue>);
}

/** The resource options the engine sends (marshalResourceOptions): none of the pack's policies reads them. */
function optionsOf(r: Registration): analyzerPb.AnalyzerResourceOptions {
    const timeouts = new pb.AnalyzerResourceOptions.CustomTimeouts().setCreate(0).setUpdate(0).setDelete(0);
    return new pb.AnalyzerResourceOptions()
        .setProtect(false)
        .setAliasesList([...r.aliases])
        .setParent(r.parent ?? "")
        .setCustomtimeouts(timeouts);
}

/** The default AWS provider, which the engine names as the resource's provider. */
async function providerOf(run: ProgramRun): Promise<analyzerPb.AnalyzerProviderResource> {
    const { version } = JSON.parse(readFileSync(require.resolve("@pulumi/aws/package.json"), "utf8")) as {
        version: string;
    };
    const name = `default_${version.replace(/\./g, "_")}`;
    return new pb.AnalyzerProviderResource()
        .setType("pulumi:providers:aws")
        .setName(name)
        .setUrn(`urn:pulumi:${run.stack}::${run.project}::pulumi:providers:aws::${name}`)
        .setProperties(await struct({ region: REGION, version }));
}

/**
 * Analyze: one resource and its inputs, as the engine sends it before the resource's step (the inputs as the
 * program gave them: a provider's Check, which may add defaults first, is not run here). Sent for the custom
 * resources, those the runner gives to `validateResource`.
 */
async function analyzeRequest(run: ProgramRun, r: Registration): Promise<analyzerPb.AnalyzeRequest> {
    return new pb.AnalyzeRequest()
        .setType(r.type)
        .setName(r.name)
        .setUrn(r.urn)
        .setProperties(await struct(withSentinels(r.inputs) as Record<string, unknown>))
        .setOptions(optionsOf(r))
        .setProvider(await providerOf(run));
}

/** AnalyzeStack: every resource with its outputs, parent, dependencies and property dependencies. */
async function analyzeStackRequest(run: ProgramRun): Promise<analyzerPb.AnalyzeStackRequest> {
    const provider = await providerOf(run);
    const resources = await Promise.all(
        run.resources.map(async (r) => {
            const resource = new pb.AnalyzerResource()
                .setType(r.type)
                .setName(r.name)
                .setUrn(r.urn)
                .setProperties(await struct(stackProps(r, run.preview)))
                .setOptions(optionsOf(r))
                .setParent(r.parent ?? "")
                .setDependenciesList([...r.dependencies]);
            if (r.custom) {
                resource.setProvider(provider);
            }
            for (const [key, urns] of Object.entries(r.propertyDependencies)) {
                if (urns.length > 0) {
                    resource
                        .getPropertydependenciesMap()
                        .set(key, new pb.AnalyzerPropertyDependencies().setUrnsList([...urns]));
                }
            }
            return resource;
        }),
    );
    return new pb.AnalyzeStackRequest().setResourcesList(resources);
}

interface PolicyConfigEntry {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

/**
 * The Configure request the CLI sends for a `--policy-pack-config` file (ReconcilePolicyPackConfig): every
 * policy GetAnalyzerInfo lists, at its level with its schema's defaults; then `all`'s level; then each
 * entry of the file, its level and its properties over the defaults.
 */
function reconcile(info: analyzerPb.AnalyzerInfo, file: PolicyPackConfig): Map<string, PolicyConfigEntry> {
    const result = new Map<string, PolicyConfigEntry>();
    for (const policy of info.getPoliciesList()) {
        const schema = (policy.getConfigschema()?.getProperties()?.toJavaScript() ?? {}) as Record<
            string,
            { default?: unknown }
        >;
        const defaults = Object.entries(schema).flatMap(([k, v]): [string, unknown][] =>
            "default" in v ? [[k, v.default]] : [],
        );
        result.set(policy.getName(), {
            enforcementLevel: LEVEL_NAMES[policy.getEnforcementlevel()] ?? "advisory",
            properties: Object.fromEntries(defaults),
        });
    }
    const entries = Object.entries(file).map(([name, entry]) => {
        const { enforcementLevel, ...properties } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
        return [name, { enforcementLevel, properties }] as const;
    });
    const all = entries.find(([name]) => name === "all")?.[1].enforcementLevel;
    if (all !== undefined) {
        for (const entry of result.values()) {
            entry.enforcementLevel = all;
        }
    }
    for (const [name, given] of entries) {
        const entry = result.get(name) ?? { enforcementLevel: "advisory", properties: {} };
        result.set(name, {
            enforcementLevel: given.enforcementLevel ?? entry.enforcementLevel,
            properties: { ...entry.properties, ...given.properties },
        });
    }
    return result;
}

function configureRequest(config: Map<string, PolicyConfigEntry>): analyzerPb.ConfigureAnalyzerRequest {
    const request = new pb.ConfigureAnalyzerRequest();
    for (const [name, entry] of config) {
        const policyConfig = new pb.PolicyConfig()
            .setEnforcementlevel(LEVEL_CODES[entry.enforcementLevel] ?? pb.EnforcementLevel.ADVISORY)
            .setProperties(Struct.fromJavaScript(entry.properties as Record<string, structPb.JavaScriptValue>));
        request.getPolicyconfigMap().set(name, policyConfig);
    }
    return request;
}

/** A diagnostic as the CLI shows it: policy, level, message, and the URN it is about. */
interface Diagnostic {
    readonly policy: string;
    readonly level: EnforcementLevel;
    readonly message: string;
    readonly urn: string | undefined;
}

/**
 * What the wire says: the engine attributes an Analyze diagnostic without URN to the resource analyzed; a
 * stack diagnostic without one is about the stack.
 */
function fromWire(diagnostics: analyzerPb.AnalyzeDiagnostic[], analyzed?: string): Diagnostic[] {
    return diagnostics.map((d) => {
        assert.equal(d.getPolicypackname(), POLICY_PACK_NAME);
        assert.equal(d.getPolicypackversion(), PACK_VERSION);
        return {
            policy: d.getPolicyname(),
            level: LEVEL_NAMES[d.getEnforcementlevel()] ?? "advisory",
            message: d.getMessage(),
            urn: d.getUrn() || analyzed,
        };
    });
}

const DESCRIPTIONS = new Map(policies.map((p) => [p.name, p.description]));

/**
 * The same run as the runner reports it, in the wire's words. Two differences of form, both the
 * framework's (server.js): a violation's message is the policy's description, a newline and what the
 * policy reported (the runner keeps the latter, the CLI prints the description itself); and the preview
 * advisory names the pack, `can't run policy '<name>' from policy pack '<pack>@v<version>' during
 * preview: …`, where the runner, which may run policies of any pack, says `can't run policy '<name>'
 * during preview: …`.
 */
function asOnTheWire(violations: readonly Finding[], undecided: readonly Finding[]): Diagnostic[] {
    const pack = `'${POLICY_PACK_NAME}@v${PACK_VERSION}'`;
    return [
        ...violations.map((f) => ({
            ...f,
            message:
                f.message === "" ? String(DESCRIPTIONS.get(f.policy)) : `${DESCRIPTIONS.get(f.policy)}\n${f.message}`,
        })),
        ...undecided.map((f) => ({
            ...f,
            message: f.message.replace(
                /^can't run policy '([^']+)' during preview: /,
                `can't run policy '$1' from policy pack ${pack} during preview: `,
            ),
        })),
    ];
}

const sorted = (diagnostics: readonly Diagnostic[]): Diagnostic[] =>
    [...diagnostics].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** The callback stack with defects the pack must report: a queue without DLQ, SendTask on "*", a DLQ unencrypted, a secret grant (with s3:GetObject on "*"). */
function defectiveStack(): void {
    callbackStack({
        workerStatements: (statements) =>
            statements.map((s) => (s.Sid === "AnswerTaskTokens" ? { ...s, Resource: "*" } : s)),
        dlq: { sqsManagedSseEnabled: false },
        extra: ({ workerRole }) => {
            const orphan = new sqs.Queue("orphan", { sqsManagedSseEnabled: true });
            tlsPolicy("orphan-policy", orphan);
            // A document the program keeps secret: the engine sends it wrapped, the server unwraps it.
            new iam.RolePolicy("secret-policy", {
                role: workerRole.id,
                policy: pulumi.secret(
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "Answer", Effect: "Allow", Action: "states:SendTaskSuccess", Resource: "*" },
                            { Sid: "ReadAll", Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
                        ],
                    }),
                ),
            });
        },
    });
}

describe("the policy pack over the Pulumi CLI's Analyzer protocol", function () {
    this.timeout(20_000);

    let child: ChildProcessWithoutNullStreams | undefined;
    let client: analyzerGrpc.AnalyzerClient | undefined;
    let stderr = "";
    /**
     * The defective stack recorded and judged in process, deployed and in preview: started in `before`, while
     * the pack starts, each test awaiting its own.
     */
    let judged: Record<"deployed" | "in preview", Promise<{ run: ProgramRun; inProcess: PolicyRun }>>;

    /** A unary call of the client, as a promise. */
    const call = <Req, Res>(method: string, request: Req): Promise<Res> =>
        new Promise((resolve, reject) => {
            const fn = (client as unknown as Record<string, (r: Req, cb: (e: Error | null, res: Res) => void) => void>)[
                method
            ];
            assert.ok(fn && client, `no client method ${method}`);
            fn.call(client, request, (error, response) => (error ? reject(error) : resolve(response)));
        });

    /** Configures the pack as `--policy-pack-config policy/config.example.json` does. */
    const configureLikeExample = async (): Promise<void> => {
        const info = await call<emptyPb.Empty, analyzerPb.AnalyzerInfo>("getAnalyzerInfo", new Empty());
        await call("configure", configureRequest(reconcile(info, EXAMPLE_CONFIG)));
    };

    before(async function () {
        const judge = async (preview: boolean) => {
            const run = await recordProgram(defectiveStack, { preview });
            return { run, inProcess: await runPolicies(run, { config: EXAMPLE_CONFIG }) };
        };
        judged = { deployed: judge(false), "in preview": judge(true) }; // recordProgram runs them one at a time
        // A failure is the test's to report, not an unhandled rejection here.
        for (const judging of Object.values(judged)) {
            void judging.catch(() => undefined);
        }
        // As the Node.js language host runs a policy pack (RunPlugin of pulumi-language-nodejs): in the pack's
        // directory, stdout read for the port. It goes through @pulumi/pulumi's cmd/run-policy-pack, which
        // takes `<engine-address> <pack-dir>` and hands the pack an argv without them; @pulumi/policy reads no
        // argv (only ./package.json's version from the working directory), so the entry runs here directly.
        child = spawn(process.execPath, ["--enable-source-maps", path.join(POLICY_DIR, "bin", "index.js")], {
            cwd: POLICY_DIR,
            stdio: ["pipe", "pipe", "pipe"],
            env: { ...process.env, PULUMI_NODEJS_PROJECT: "project", PULUMI_NODEJS_STACK: "test" },
        });
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        const started = child;
        const port = await new Promise<number>((resolve, reject) => {
            let stdout = "";
            const timer = setTimeout(() => reject(new Error(`no port within 15 s; stderr: ${stderr}`)), 15_000);
            started.stdout.setEncoding("utf8").on("data", (chunk: string) => {
                stdout += chunk;
                const line = /^(\d+)\r?\n/.exec(stdout);
                if (line) {
                    clearTimeout(timer);
                    resolve(Number(line[1]));
                }
            });
            started.once("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`the pack exited (${code}) before printing its port; stderr: ${stderr}`));
            });
        });
        client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(async function () {
        client?.close();
        if (child && child.exitCode === null && child.signalCode === null) {
            const exited = once(child, "exit");
            child.kill();
            await exited;
        }
    });

    it("must serve its name, version and every policy of policies.ts with level, description and config schema", async () => {
        const plugin = await call<emptyPb.Empty, { getVersion(): string }>("getPluginInfo", new Empty());
        const policyPackage = fromPulumi.resolve("@pulumi/policy/package.json", { paths: [POLICY_DIR] });
        // @pulumi/policy's own version (its package.json spells it `v1.21.0`; the CLI parses either with
        // semver.ParseTolerant).
        const { version } = JSON.parse(readFileSync(policyPackage, "utf8")) as { version: string };
        assert.equal(plugin.getVersion(), version.replace(/^v/, ""));

        const info = await call<emptyPb.Empty, analyzerPb.AnalyzerInfo>("getAnalyzerInfo", new Empty());
        assert.equal(info.getName(), POLICY_PACK_NAME);
        assert.equal(info.getVersion(), PACK_VERSION);
        assert.equal(info.getSupportsconfig(), true);
        assert.equal(info.getInitialconfigMap().getLength(), 0);
        assert.deepEqual(
            info.getPoliciesList().map((p) => ({
                name: p.getName(),
                description: p.getDescription(),
                level: LEVEL_NAMES[p.getEnforcementlevel()],
                type: p.getPolicyType(),
                schema: p.hasConfigschema()
                    ? {
                          properties: p.getConfigschema()?.getProperties()?.toJavaScript(),
                          required: p.getConfigschema()?.getRequiredList(),
                      }
                    : undefined,
            })),
            policies.map((p) => ({
                name: p.name,
                description: p.description,
                level: p.enforcementLevel ?? "advisory",
                type: "validateStack" in p ? pb.PolicyType.POLICY_TYPE_STACK : pb.PolicyType.POLICY_TYPE_RESOURCE,
                schema: p.configSchema
                    ? { properties: p.configSchema.properties ?? {}, required: p.configSchema.required ?? [] }
                    : undefined,
            })),
        );
    });

    it("must take the stack's configuration and answer Handshake as an analyzer that predates it", async () => {
        const stack = new pb.AnalyzerStackConfigureRequest().setStack("test").setProject("project").setDryRun(true);
        stack.getTagsMap().set("team", "payments");
        await call("configureStack", stack);
        // The engine sends the pack's directory as both directories, and takes Unimplemented as a pack that
        // predates Handshake (NewPolicyAnalyzer in pkg/resource/plugin/analyzer_plugin.go of pulumi/pulumi).
        const handshake = new pb.AnalyzerHandshakeRequest()
            .setEngineAddress("127.0.0.1:1")
            .setRootDirectory(POLICY_DIR)
            .setProgramDirectory(POLICY_DIR);
        await assert.rejects(
            call("handshake", handshake),
            (error: { code?: number }) => error.code === grpc.status.UNIMPLEMENTED,
        );
    });

    for (const preview of [false, true]) {
        const mode = preview ? "in preview" : "deployed";
        it(`must report over the wire what the runner reports, ${mode}, configured like config.example.json`, async () => {
            await configureLikeExample();
            const { run, inProcess } = await judged[mode];
            // Analyze for each resource at once, as the engine's step generator sends them, then AnalyzeStack.
            const analyzed = await Promise.all(
                run.resources
                    .filter((resource) => resource.custom)
                    .map(async (r) => {
                        const response = await call<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>(
                            "analyze",
                            await analyzeRequest(run, r),
                        );
                        return fromWire(response.getDiagnosticsList(), r.urn);
                    }),
            );
            const stack = await call<analyzerPb.AnalyzeStackRequest, analyzerPb.AnalyzeResponse>(
                "analyzeStack",
                await analyzeStackRequest(run),
            );
            const wire = [...analyzed.flat(), ...fromWire(stack.getDiagnosticsList())];

            assert.deepEqual(sorted(wire), sorted(asOnTheWire(inProcess.violations, inProcess.undecided)));
            // The secret document went over the wire wrapped, as the engine sends it, and was judged all the same.
            const secret = run.resources.find((r) => r.name === "secret-policy");
            assert.ok(secret);
            const sent = (await analyzeRequest(run, secret)).getProperties()?.toJavaScript()["policy"];
            assert.equal((sent as Record<string, unknown> | undefined)?.[SIG_KEY], SECRET_SIG);
            assert.ok(wire.some((d) => d.policy === "sendtask-least-privilege" && d.urn === secret.urn));
            // The defects are there to be seen, at the levels the configuration gives.
            const seen = new Set(wire.map((d) => `${d.policy} ${d.level}`));
            for (const expected of [
                "sqs-queue-has-dlq mandatory",
                "sendtask-least-privilege mandatory",
                "iam-no-wildcards mandatory",
                "sqs-encrypted mandatory",
            ]) {
                assert.ok(seen.has(expected), `${expected} in ${[...seen].join(", ")}`);
            }
        });
    }

    it("must remediate an unencrypted queue at the remediate level, which the engine asks before it analyzes", async () => {
        await configureLikeExample();
        const run = await recordProgram(() => {
            new sqs.Queue("plain", { sqsManagedSseEnabled: false, visibilityTimeoutSeconds: 30 });
        });
        const [queue] = run.resources;
        assert.ok(queue);
        const request = await analyzeRequest(run, queue);
        const remediated = await call<analyzerPb.AnalyzeRequest, analyzerPb.RemediateResponse>("remediate", request);
        assert.deepEqual(
            remediated.getRemediationsList().map((r) => [r.getPolicyname(), r.getProperties()?.toJavaScript()]),
            [["sqs-encrypted", { sqsManagedSseEnabled: true, visibilityTimeoutSeconds: 30 }]],
        );
        // The engine then analyzes the remediated inputs (remediations first, then analysis: GenerateSteps in
        // https://github.com/pulumi/pulumi/blob/master/pkg/resource/deploy/step_generator.go), so sqs-encrypted
        // has nothing left to report. The runner does not remediate: like Analyze of the inputs as written, it
        // reports the violation at remediate's reported level, mandatory.
        const remediatedProps = remediated.getRemediationsList()[0]?.getProperties();
        assert.ok(remediatedProps);
        const after = await call<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>(
            "analyze",
            (await analyzeRequest(run, queue)).setProperties(remediatedProps),
        );
        assert.deepEqual(
            fromWire(after.getDiagnosticsList(), queue.urn).filter((d) => d.policy === "sqs-encrypted"),
            [],
        );
        const before = await call<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>("analyze", request);
        const inProcess = await runPolicies(run, { config: EXAMPLE_CONFIG });
        assert.deepEqual(
            fromWire(before.getDiagnosticsList(), queue.urn).filter((d) => d.policy === "sqs-encrypted"),
            asOnTheWire(inProcess.violations, []).filter((d) => d.policy === "sqs-encrypted"),
        );
    });

    for (const [what, policy] of [
        ["a JSON string", JSON.stringify({ Statement: [null] })],
        ["an object", { Statement: [null] }],
    ] as const) {
        it(`must answer a document with a null statement (${what}) with diagnostics, not a gRPC error`, async () => {
            await configureLikeExample();
            const run = await recordProgram(() => {
                new iam.RolePolicy("bad", { role: "worker-role", policy: policy as string });
            });
            const inProcess = await runPolicies(run, { config: EXAMPLE_CONFIG });
            const [bad] = run.resources;
            assert.ok(bad);
            const analyzed = await call<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>(
                "analyze",
                await analyzeRequest(run, bad),
            );
            const stack = await call<analyzerPb.AnalyzeStackRequest, analyzerPb.AnalyzeResponse>(
                "analyzeStack",
                await analyzeStackRequest(run),
            );
            const wire = [...fromWire(analyzed.getDiagnosticsList(), bad.urn), ...fromWire(stack.getDiagnosticsList())];
            assert.deepEqual(sorted(wire), sorted(asOnTheWire(inProcess.violations, inProcess.undecided)));
            assert.ok(
                wire.some((d) => d.urn === bad.urn && / is not a valid policy document: /.test(d.message)),
                JSON.stringify(wire),
            );
        });
    }
});
