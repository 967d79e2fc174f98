/**
 * The link key ring read from AWS Secrets Manager: one secret whose `SecretString` is the JSON ring
 * `{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}` (see `parseKeyRing`).
 *
 * Rotation: add a key and make it `current`; keep the old one until its last link has expired (the
 * longest approval), then drop it. Instances pick the new ring up within `maxAgeMs`, or at once when a
 * link names a key id they do not know (a refresh at most every `minRefreshIntervalMs`).
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
import { randomBytes } from "node:crypto";
import {
    GetSecretValueCommand,
    PutSecretValueCommand,
    ResourceExistsException,
    ResourceNotFoundException,
    SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { MIN_KEY_BYTES, parseKeyRing, type KeyRing, type KeyRingSnapshot } from "./links";
import { boundedAttempts } from "./sfn";

/**
 * The first ring's `ClientRequestToken`: every instance that finds the secret empty puts its ring as this
 * one version, so only one is ever created; the others get ResourceExistsException and read the winner's.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 */
export const INITIAL_RING_TOKEN = "approval-link-keys-initial-ring-v1";

export interface SecretsManagerKeyRingOptions {
    /** The secret's name or ARN. */
    readonly secretId: string;
    /** A client of your own (endpoint, credentials); default one with the timeouts below. */
    readonly client?: SecretsManagerClient;
    /** How long a ring read is used before it is read again. Default 5 minutes. */
    readonly maxAgeMs?: number;
    /** Forced refreshes (unknown key id) at most this often. Default 30 s. */
    readonly minRefreshIntervalMs?: number;
    /** One attempt of GetSecretValue, at most. Default 2000 ms. */
    readonly callTimeoutMs?: number;
    /**
     * When the secret has no value yet, put a first ring (`{"current": "k1", "keys": {"k1": 32 random
     * bytes}}`) into it: the key is made in Lambda and never passes through Pulumi's state. The requester
     * does this (it needs `secretsmanager:PutSecretValue`); the page only reads. Default false.
     */
    readonly createIfMissing?: boolean;
    /** Clock (tests). */
    readonly now?: () => number;
}

export class SecretsManagerKeyRing implements KeyRing {
    private readonly client: SecretsManagerClient;
    private readonly maxAgeMs: number;
    private readonly minRefreshIntervalMs: number;
    private readonly now: () => number;
    private cached: { readonly ring: KeyRingSnapshot; readonly at: number } | undefined;
    private inFlight: Promise<KeyRingSnapshot> | undefined;
    private lastForced = -Infinity;

    constructor(private readonly options: SecretsManagerKeyRingOptions) {
        const timeout = options.callTimeoutMs ?? 2000;
        this.client = options.client ?? new SecretsManagerClient(boundedAttempts(timeout));
        this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
        this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 30_000;
        this.now = options.now ?? Date.now;
    }

    public async load(options: { readonly refresh?: boolean } = {}): Promise<KeyRingSnapshot> {
        const now = this.now();
        const forced = options.refresh === true && now - this.lastForced >= this.minRefreshIntervalMs;
        if (this.cached !== undefined && !forced && now - this.cached.at < this.maxAgeMs) {
            return this.cached.ring;
        }
        if (forced) {
            this.lastForced = now;
        }
        this.inFlight ??= this.read().finally(() => {
            this.inFlight = undefined;
        });
        try {
            return await this.inFlight;
        } catch (error) {
            // A ring read before still verifies links: better than refusing every approver while
            // Secrets Manager is unreachable. It is retried on the next call.
            if (this.cached !== undefined) {
                return this.cached.ring;
            }
            throw error;
        }
    }

    private async read(): Promise<KeyRingSnapshot> {
        let reply;
        try {
            reply = await this.client.send(new GetSecretValueCommand({ SecretId: this.options.secretId }));
        } catch (error) {
            if (!(error instanceof ResourceNotFoundException) || this.options.createIfMissing !== true) {
                throw error;
            }
            await this.createFirstRing();
            reply = await this.client.send(new GetSecretValueCommand({ SecretId: this.options.secretId }));
        }
        if (typeof reply.SecretString !== "string") {
            throw new Error(`Secret ${this.options.secretId} has no SecretString (a JSON key ring is expected).`);
        }
        let ring: KeyRingSnapshot;
        try {
            ring = parseKeyRing(reply.SecretString);
        } catch (error) {
            // Never the secret's text in the message, nor JSON.parse's error as the cause (its message
            // quotes the text): it holds the keys.
            const reason = error instanceof SyntaxError ? "it is not JSON" : (error as Error).message;
            // eslint-disable-next-line preserve-caught-error
            throw new Error(`Secret ${this.options.secretId} is not a key ring: ${reason}`);
        }
        this.cached = { ring, at: this.now() };
        return ring;
    }

    /** Puts the first ring, once for all instances (see {@link INITIAL_RING_TOKEN}). */
    private async createFirstRing(): Promise<void> {
        const ring = { current: "k1", keys: { k1: randomBytes(MIN_KEY_BYTES).toString("base64") } };
        try {
            await this.client.send(
                new PutSecretValueCommand({
                    SecretId: this.options.secretId,
                    SecretString: JSON.stringify(ring),
                    ClientRequestToken: INITIAL_RING_TOKEN,
                }),
            );
        } catch (error) {
            // Another instance put its ring first: that one is the ring.
            if (!(error instanceof ResourceExistsException)) {
                throw error;
            }
        }
    }
}
