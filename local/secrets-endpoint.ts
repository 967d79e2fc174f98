/**
 * An AWS Secrets Manager endpoint on 127.0.0.1 that speaks the service's wire protocol (AWS JSON 1.1)
 * for GetSecretValue, which the approval key ring makes, and PutSecretValue, with which a test or a
 * local run rotates a secret.
 *
 * Requests are `POST /`, `Content-Type: application/x-amz-json-1.1`,
 * `X-Amz-Target: secretsmanager.<Operation>`, SigV4-signed for the service `secretsmanager`; replies are
 * JSON (`CreatedDate` in epoch seconds, `SecretBinary` in base64), errors HTTP 400 (500 for
 * InternalServiceError) with `{"__type": "<Code>", "Message": ...}`, which the SDK maps to its
 * exception classes by `__type`.
 *
 * Secrets keep versions with staging labels as Secrets Manager does: GetSecretValue reads `AWSCURRENT`
 * unless given a `VersionId` or `VersionStage`; PutSecretValue adds a version (its id the
 * `ClientRequestToken`), moves `AWSCURRENT` to it (or the labels in `VersionStages`) and `AWSPREVIOUS` to
 * the version that was current; the same token with the same value again changes nothing, with another
 * value is a ResourceExistsException. A secret is found by name, full ARN or partial ARN (without the
 * six-character suffix); any other id is a ResourceNotFoundException. Other operations are refused
 * (UnknownOperationException) and recorded in `protocolErrors`.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/throttling.html
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { LoopbackServer, readBody, type InjectedFailure } from "./loopback";

const OPERATIONS = ["GetSecretValue", "PutSecretValue"] as const;
type Operation = (typeof OPERATIONS)[number];
const CURRENT = "AWSCURRENT";
const PREVIOUS = "AWSPREVIOUS";
/** The longest SecretString (characters) or SecretBinary (bytes). */
export const SECRET_MAX_SIZE = 65_536;

/** One well-formed call, whatever its answer. */
export interface SecretsCall {
    readonly operation: Operation;
    readonly body: Record<string, unknown>;
    readonly index: number;
    /** The error code it was answered with, if any (injected or not). */
    error?: string;
}

/** An error Secrets Manager answers with: its `__type`, `Message` and HTTP status. */
export type SecretsFailure = InjectedFailure;

/**
 * Throttling as AWS's JSON services answer it (a common error, not modelled by the client: the SDK
 * throws a SecretsManagerServiceException named ThrottlingException and retries it).
 */
export const SECRETS_THROTTLED: SecretsFailure = { code: "ThrottlingException", message: "Rate exceeded", status: 400 };
/** Secrets Manager failing on its side (InternalServiceError, retried by the SDK as a 500). */
export const SECRETS_INTERNAL_ERROR: SecretsFailure = {
    code: "InternalServiceError",
    message: "An error occurred on the server side.",
    status: 500,
};

/** One version of a secret. */
export interface SecretVersion {
    readonly versionId: string;
    readonly secretString?: string;
    readonly secretBinary?: Buffer;
    /** Epoch milliseconds. */
    readonly createdAt: number;
    /** Its staging labels; moved between versions by PutSecretValue. */
    readonly stages: Set<string>;
}

interface Secret {
    readonly name: string;
    readonly arn: string;
    readonly versions: SecretVersion[];
}

class SecretsError extends Error {
    constructor(
        public readonly code: string,
        message: string,
        public readonly status = 400,
    ) {
        super(message);
    }
}

const notFound = (): SecretsError =>
    new SecretsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");

/** `1 validation error detected: ...`, as AWS's request validation words it. */
const validation = (field: string, value: string | undefined, constraint: string): SecretsError =>
    new SecretsError(
        "ValidationException",
        `1 validation error detected: Value ${value === undefined ? "null" : `'${value.slice(0, 40)}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
    );

/** A string field of the request within its length bounds, or undefined; `secret` keeps its value out of errors. */
function optionalString(
    body: Record<string, unknown>,
    field: string,
    wire: string,
    [min, max]: readonly [number, number],
    secret = false,
): string | undefined {
    const value = body[field];
    if (value === undefined || value === null) {
        return undefined;
    }
    if (typeof value !== "string") {
        throw new SecretsError("SerializationException", `${field} must be a string.`);
    }
    if (value.length < min || value.length > max) {
        throw validation(
            wire,
            secret ? "***" : value,
            `Member must have length ${value.length < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`,
        );
    }
    return value;
}

export interface FakeSecretsManagerOptions {
    /**
     * The secrets that exist, name → SecretString (each one version, `AWSCURRENT`), or `null` for a secret
     * with no value yet (as `aws.secretsmanager.Secret` creates it without a version).
     */
    readonly secrets: Readonly<Record<string, string | null>>;
    /** For the ARNs. Default us-east-1. */
    readonly region?: string;
    /** For the ARNs. Default 123456789012. */
    readonly accountId?: string;
    /**
     * A secret's ARN, by name, when it must be a given one (a rendered stack's, which its functions are
     * configured with). Default: the name, a hyphen and six random characters, as Secrets Manager makes it.
     */
    readonly arns?: Readonly<Record<string, string>>;
}

/** The Secrets Manager fake: start it, point a client's `endpoint` at {@link FakeSecretsManager.url}. */
export class FakeSecretsManager {
    /** Every call of a served operation, in order, failed ones included. */
    public readonly calls: SecretsCall[] = [];
    /** Requests refused for breaking the protocol or leaving the subset. */
    public readonly protocolErrors: string[] = [];
    private readonly secrets = new Map<string, Secret>();
    private failures: SecretsFailure[] = [];
    private server!: LoopbackServer;

    private constructor(private readonly options: FakeSecretsManagerOptions) {
        this.load();
    }

    /** Starts the endpoint on an ephemeral port of 127.0.0.1 with `options.secrets`. */
    public static async start(options: FakeSecretsManagerOptions): Promise<FakeSecretsManager> {
        const fake = new FakeSecretsManager(options);
        fake.server = await LoopbackServer.start((req, res) => fake.handle(req, res));
        return fake;
    }

    public get url(): string {
        return this.server.url;
    }

    /** A secret's ARN (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`). */
    public arnOf(name: string): string {
        const secret = this.secrets.get(name);
        if (secret === undefined) {
            throw new Error(`No secret ${name}.`);
        }
        return secret.arn;
    }

    /** A secret's versions, oldest first. */
    public versionsOf(name: string): readonly SecretVersion[] {
        return this.secrets.get(name)?.versions ?? [];
    }

    /** Answers the next `count` calls with `failure` (default throttling) instead of serving them. */
    public failNext(count: number, failure: SecretsFailure = SECRETS_THROTTLED): void {
        for (let i = 0; i < count; i++) {
            this.failures.push(failure);
        }
    }

    /** Forgets calls, protocol errors and pending failures, and puts the initial secrets back. */
    public reset(): void {
        this.calls.length = 0;
        this.protocolErrors.length = 0;
        this.failures = [];
        this.load();
    }

    public close(): Promise<void> {
        return this.server.close();
    }

    private load(): void {
        const region = this.options.region ?? "us-east-1";
        const account = this.options.accountId ?? "123456789012";
        for (const [name, value] of Object.entries(this.options.secrets)) {
            if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
                throw new Error(`Not a secret name: ${name}`);
            }
            // An ARN ends in the name, a hyphen and six random characters; kept across reset().
            const given = this.options.arns?.[name];
            if (
                given !== undefined &&
                !(
                    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(given) &&
                    given.slice(0, -7).endsWith(`:secret:${name}`)
                )
            ) {
                throw new Error(`Not an ARN of secret ${name}: ${given} (it ends in the name and six characters).`);
            }
            const arn =
                this.secrets.get(name)?.arn ??
                given ??
                `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${randomBytes(6).toString("base64url").replace(/[-_]/g, "x").slice(0, 6)}`;
            this.secrets.set(name, {
                name,
                arn,
                versions:
                    value === null
                        ? []
                        : [
                              {
                                  versionId: randomUUID(),
                                  secretString: value,
                                  createdAt: Date.now(),
                                  stages: new Set([CURRENT]),
                              },
                          ],
            });
        }
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const raw = await readBody(req);
        const target = String(req.headers["x-amz-target"] ?? "");
        const operation = target.startsWith("secretsmanager.") ? target.slice(15) : "";
        const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/([a-z0-9-]+)\/aws4_request,/.exec(
            String(req.headers.authorization ?? ""),
        );
        const problem =
            req.method !== "POST" || req.url !== "/"
                ? `${req.method} ${req.url}`
                : req.headers["content-type"] !== "application/x-amz-json-1.1"
                  ? `content-type ${req.headers["content-type"]}`
                  : scope === null
                    ? "no SigV4 authorization"
                    : scope[1] !== "secretsmanager"
                      ? `Credential should be scoped to correct service: 'secretsmanager' (got '${scope[1]}').`
                      : !(OPERATIONS as readonly string[]).includes(operation)
                        ? `target ${target}`
                        : undefined;
        if (problem !== undefined) {
            this.protocolErrors.push(problem);
            return this.write(res, 400, { __type: "UnknownOperationException", Message: problem });
        }
        let body: Record<string, unknown>;
        try {
            const parsed = JSON.parse(raw) as unknown;
            if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
                throw new SyntaxError("not an object");
            }
            body = parsed as Record<string, unknown>;
        } catch {
            this.protocolErrors.push("body is not a JSON object");
            return this.write(res, 400, { __type: "SerializationException", Message: "Body is not a JSON object." });
        }
        const call: SecretsCall = { operation: operation as Operation, body, index: this.calls.length };
        this.calls.push(call);
        const failure = this.failures.shift();
        if (failure !== undefined) {
            call.error = failure.code;
            return this.write(res, failure.status, { __type: failure.code, Message: failure.message });
        }
        try {
            this.write(res, 200, call.operation === "GetSecretValue" ? this.get(body) : this.put(body));
        } catch (error) {
            if (!(error instanceof SecretsError)) {
                throw error;
            }
            call.error = error.code;
            if (error.code === "SerializationException") {
                this.protocolErrors.push(`${operation}: ${error.message}`);
            }
            this.write(res, error.status, { __type: error.code, Message: error.message });
        }
    }

    /** The secret a `SecretId` names: its name, its ARN, or its ARN without the random suffix. */
    private find(body: Record<string, unknown>): Secret {
        const id = optionalString(body, "SecretId", "secretId", [1, 2048]);
        if (id === undefined) {
            throw validation("secretId", undefined, "Member must not be null");
        }
        for (const secret of this.secrets.values()) {
            if (id === secret.name || id === secret.arn || id === secret.arn.slice(0, -7)) {
                return secret;
            }
        }
        throw notFound();
    }

    private get(body: Record<string, unknown>): Record<string, unknown> {
        const secret = this.find(body);
        const versionId = optionalString(body, "VersionId", "versionId", [32, 64]);
        const stage = optionalString(body, "VersionStage", "versionStage", [1, 256]);
        let version: SecretVersion | undefined;
        if (versionId !== undefined) {
            version = secret.versions.find((v) => v.versionId === versionId);
            if (version === undefined) {
                throw new SecretsError(
                    "ResourceNotFoundException",
                    `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
                );
            }
        }
        const wanted = stage ?? (versionId === undefined ? CURRENT : undefined);
        if (wanted !== undefined) {
            const staged = secret.versions.find((v) => v.stages.has(wanted));
            if (staged === undefined || (version !== undefined && staged !== version)) {
                throw new SecretsError(
                    "ResourceNotFoundException",
                    `Secrets Manager can't find the specified secret value for staging label: ${wanted}`,
                );
            }
            version = staged;
        }
        const found = version as SecretVersion;
        return {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: found.versionId,
            ...(found.secretString !== undefined ? { SecretString: found.secretString } : {}),
            ...(found.secretBinary !== undefined ? { SecretBinary: found.secretBinary.toString("base64") } : {}),
            VersionStages: [...found.stages],
            CreatedDate: found.createdAt / 1000,
        };
    }

    private put(body: Record<string, unknown>): Record<string, unknown> {
        const secret = this.find(body);
        const token = optionalString(body, "ClientRequestToken", "clientRequestToken", [32, 64]) ?? randomUUID();
        const secretString = optionalString(body, "SecretString", "secretString", [0, SECRET_MAX_SIZE], true);
        const encoded = body["SecretBinary"];
        if (encoded !== undefined && (typeof encoded !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded))) {
            throw new SecretsError("SerializationException", "SecretBinary must be base64.");
        }
        const secretBinary = typeof encoded === "string" ? Buffer.from(encoded, "base64") : undefined;
        if (secretBinary !== undefined && (secretBinary.length === 0 || secretBinary.length > SECRET_MAX_SIZE)) {
            throw validation("secretBinary", "***", `Member must have length between 1 and ${SECRET_MAX_SIZE}`);
        }
        if (secretString !== undefined && secretBinary !== undefined) {
            throw new SecretsError(
                "InvalidParameterException",
                "You can't specify both a binary secret value and a string secret value in the same secret.",
            );
        }
        if (secretString === undefined && secretBinary === undefined) {
            throw new SecretsError("InvalidRequestException", "You must provide either SecretString or SecretBinary.");
        }
        const stagesGiven = body["VersionStages"];
        if (
            stagesGiven !== undefined &&
            (!Array.isArray(stagesGiven) ||
                stagesGiven.length < 1 ||
                stagesGiven.length > 20 ||
                stagesGiven.some((s) => typeof s !== "string" || s.length < 1 || s.length > 256))
        ) {
            throw validation("versionStages", "[...]", "Member must be 1 to 20 labels of 1 to 256 characters");
        }
        const existing = secret.versions.find((v) => v.versionId === token);
        if (existing !== undefined) {
            const same =
                existing.secretString === secretString &&
                (existing.secretBinary === undefined) === (secretBinary === undefined) &&
                (secretBinary === undefined || existing.secretBinary?.equals(secretBinary) === true);
            if (!same) {
                throw new SecretsError(
                    "ResourceExistsException",
                    "You can't modify an existing version, you can only create a new version.",
                );
            }
            return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
        }
        const labels = new Set((stagesGiven as string[] | undefined) ?? [CURRENT]);
        const current = secret.versions.find((v) => v.stages.has(CURRENT));
        if (current === undefined) {
            labels.add(CURRENT); // a secret's first version is current whatever the labels
        }
        for (const version of secret.versions) {
            for (const label of labels) {
                version.stages.delete(label);
            }
        }
        if (labels.has(CURRENT) && current !== undefined) {
            for (const version of secret.versions) {
                version.stages.delete(PREVIOUS);
            }
            current.stages.add(PREVIOUS);
        }
        secret.versions.push({
            versionId: token,
            ...(secretString !== undefined ? { secretString } : {}),
            ...(secretBinary !== undefined ? { secretBinary } : {}),
            createdAt: Date.now(),
            stages: labels,
        });
        return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...labels] };
    }

    private write(res: ServerResponse, status: number, body: unknown): void {
        const text = JSON.stringify(body);
        res.writeHead(status, {
            "content-type": "application/x-amz-json-1.1",
            "content-length": Buffer.byteLength(text),
            "x-amzn-requestid": randomUUID(),
        });
        res.end(text);
    }
}
