/**
 * Signed approval links, the page's anti-forgery value, and the key ring both are signed with.
 *
 * A link is `<base>/<approvalId>?a=<approver>&e=<expiry>&k=<keyId>&s=<signature>`:
 * - `approvalId`: the item's id (base64url); it carries nothing, the token stays in the table;
 * - `a`: the approver the link is for (URL-encoded), one of the item's `approvers`;
 * - `e`: when the link expires, epoch seconds;
 * - `k`: the id of the key that signed it;
 * - `s`: base64url (no padding) of HMAC-SHA256(key[k], "approval-link/v1\n" + approvalId + "\n" + a +
 *   "\n" + e + "\n" + k). No field may hold a line break, so the canonical string is unambiguous.
 *
 * Verification checks the signature before the expiry (a changed `e` is `tampered`, not `expired`) and
 * compares with `timingSafeEqual`. Keys are chosen by `k` from a ring, so rotating (a new `current`,
 * the old key kept until its last link expires) keeps live links working.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { APPROVAL_LIMITS, isApprover } from "./contract";

/** A key id: short, URL-safe. */
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Keys shorter than this are refused: HMAC-SHA256 wants a key of at least its output's size. */
export const MIN_KEY_BYTES = 32;

/** The keys in force: `current` signs, every key in `keys` verifies. */
export interface KeyRingSnapshot {
    readonly current: string;
    readonly keys: ReadonlyMap<string, Buffer>;
}

/** Where keys come from (Secrets Manager in Lambda, memory in tests). */
export interface KeyRing {
    /**
     * The keys in force. `refresh: true` asks for a fresh read (a link signed with a key id the cached
     * ring does not know: the ring may have been rotated since).
     */
    load(options?: { readonly refresh?: boolean }): Promise<KeyRingSnapshot>;
}

/** A key ring as JSON stores it: `{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}`. */
export interface KeyRingJson {
    readonly current: string;
    readonly keys: Readonly<Record<string, string>>;
}

/** Parses and checks a JSON key ring (key bytes base64 or base64url); throws a message without key bytes. */
export function parseKeyRing(json: unknown): KeyRingSnapshot {
    const value = typeof json === "string" ? (JSON.parse(json) as unknown) : json;
    if (typeof value !== "object" || value === null) {
        throw new Error("A key ring must be a JSON object {current, keys}.");
    }
    const { current, keys } = value as Partial<KeyRingJson>;
    if (typeof current !== "string" || !KEY_ID_PATTERN.test(current)) {
        throw new Error("A key ring's `current` must be a key id (1 to 64 of A-Z a-z 0-9 . _ -).");
    }
    if (typeof keys !== "object" || keys === null) {
        throw new Error("A key ring's `keys` must be an object of key id → base64 key.");
    }
    const map = new Map<string, Buffer>();
    for (const [id, encoded] of Object.entries(keys)) {
        if (!KEY_ID_PATTERN.test(id)) {
            throw new Error(`Key id "${id.slice(0, 64)}" is not 1 to 64 of A-Z a-z 0-9 . _ -.`);
        }
        const bytes = typeof encoded === "string" ? Buffer.from(encoded, "base64") : Buffer.alloc(0);
        if (bytes.length < MIN_KEY_BYTES) {
            throw new Error(`Key ${id} must be at least ${MIN_KEY_BYTES} bytes, base64-encoded.`);
        }
        map.set(id, bytes);
    }
    if (!map.has(current)) {
        throw new Error(`The key ring's current key ${current} is not in its keys.`);
    }
    return { current, keys: map };
}

/** A key ring held in memory (tests, local runs). */
export class InMemoryKeyRing implements KeyRing {
    private snapshot: KeyRingSnapshot;

    constructor(ring: KeyRingJson | KeyRingSnapshot) {
        this.snapshot = ring.keys instanceof Map ? (ring as KeyRingSnapshot) : parseKeyRing(ring);
    }

    /** A ring of one fresh random key. */
    public static random(keyId = "k1"): InMemoryKeyRing {
        return new InMemoryKeyRing({ current: keyId, keys: new Map([[keyId, randomBytes(32)]]) });
    }

    public load(): Promise<KeyRingSnapshot> {
        return Promise.resolve(this.snapshot);
    }

    /** Adds a key and makes it current, keeping the others (a rotation). */
    public rotate(keyId: string, key: Buffer = randomBytes(32)): void {
        const keys = new Map(this.snapshot.keys);
        keys.set(keyId, key);
        this.snapshot = parseKeyRing({
            current: keyId,
            keys: Object.fromEntries([...keys].map(([id, bytes]) => [id, bytes.toString("base64")])),
        });
    }

    /** Drops a key (its links stop verifying). */
    public retire(keyId: string): void {
        const keys = new Map(this.snapshot.keys);
        keys.delete(keyId);
        this.snapshot = { current: this.snapshot.current, keys };
    }
}

/** The fields of a link. */
export interface LinkFields {
    readonly approvalId: string;
    readonly approver: string;
    /** Epoch seconds. */
    readonly expiresAt: number;
    readonly keyId: string;
}

export interface SignedLink extends LinkFields {
    readonly signature: string;
}

export type LinkVerification =
    | { readonly result: "ok"; readonly link: SignedLink }
    /** The signature does not match (any field changed), or its key is not in the ring. */
    | { readonly result: "tampered"; readonly unknownKey: boolean }
    /** Signed by us, but past its `e`. */
    | { readonly result: "expired"; readonly link: SignedLink }
    /** A field is missing or not of its form. */
    | { readonly result: "malformed"; readonly problem: string };

function hmac(key: Buffer, parts: readonly string[]): Buffer {
    return createHmac("sha256", key).update(parts.join("\n"), "utf8").digest();
}

function linkMac(key: Buffer, fields: LinkFields): Buffer {
    return hmac(key, ["approval-link/v1", fields.approvalId, fields.approver, String(fields.expiresAt), fields.keyId]);
}

/**
 * Constant-time comparison of a base64url MAC with the expected bytes. The text is compared, not its
 * decoding: the last of 43 characters carries 2 unused bits, and a link has one spelling only.
 */
function macMatches(expected: Buffer, given: string): boolean {
    const want = Buffer.from(expected.toString("base64url"), "utf8");
    const got = Buffer.from(given, "utf8");
    return got.length === want.length && timingSafeEqual(got, want);
}

/** Signs a link with the ring's current key. */
export function signLink(ring: KeyRingSnapshot, fields: Omit<LinkFields, "keyId">): SignedLink {
    const key = ring.keys.get(ring.current);
    if (key === undefined) {
        throw new Error(`The key ring's current key ${ring.current} is not in its keys.`);
    }
    const problem = fieldProblem({ ...fields, keyId: ring.current });
    if (problem !== undefined) {
        throw new RangeError(`Cannot sign the link: ${problem}`);
    }
    const full = { ...fields, keyId: ring.current };
    return { ...full, signature: linkMac(key, full).toString("base64url") };
}

/** The link's path and query, relative to the page's base URL (`https://…/` + this). */
export function linkPath(link: SignedLink): string {
    const query = new URLSearchParams({
        a: link.approver,
        e: String(link.expiresAt),
        k: link.keyId,
        s: link.signature,
    });
    return `${link.approvalId}?${query.toString()}`;
}

/** The full link on `baseUrl` (which ends with `/` or gets one). */
export function linkUrl(baseUrl: string, link: SignedLink): string {
    return `${baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`}${linkPath(link)}`;
}

function fieldProblem(fields: LinkFields): string | undefined {
    if (!APPROVAL_LIMITS.idPattern.test(fields.approvalId)) {
        return "the approval id is not 22 to 86 base64url characters";
    }
    if (!isApprover(fields.approver)) {
        return "the approver is empty, too long or has control characters";
    }
    if (!Number.isSafeInteger(fields.expiresAt) || fields.expiresAt <= 0) {
        return "the expiry is not epoch seconds";
    }
    if (!KEY_ID_PATTERN.test(fields.keyId)) {
        return "the key id is not 1 to 64 of A-Z a-z 0-9 . _ -";
    }
    return undefined;
}

/** The raw fields of a request: the approval id from the path, the rest from the query. */
export interface RawLink {
    readonly approvalId: string;
    readonly query: URLSearchParams;
}

/** Verifies a link against the ring at `now`. */
export function verifyLink(ring: KeyRingSnapshot, raw: RawLink, now: Date): LinkVerification {
    const one = (name: string): string | undefined => {
        const values = raw.query.getAll(name);
        return values.length === 1 ? values[0] : undefined;
    };
    const [approver, expiry, keyId, signature] = [one("a"), one("e"), one("k"), one("s")];
    if (approver === undefined || expiry === undefined || keyId === undefined || signature === undefined) {
        return { result: "malformed", problem: "the link needs exactly one each of a, e, k and s" };
    }
    if (!/^[1-9][0-9]{0,15}$/.test(expiry)) {
        return { result: "malformed", problem: "e is not epoch seconds" };
    }
    const fields: LinkFields = { approvalId: raw.approvalId, approver, expiresAt: Number(expiry), keyId };
    const problem = fieldProblem(fields);
    if (problem !== undefined) {
        return { result: "malformed", problem };
    }
    const key = ring.keys.get(keyId);
    if (key === undefined) {
        return { result: "tampered", unknownKey: true };
    }
    if (!macMatches(linkMac(key, fields), signature)) {
        return { result: "tampered", unknownKey: false };
    }
    const link = { ...fields, signature };
    if (now.getTime() >= fields.expiresAt * 1000) {
        return { result: "expired", link };
    }
    return { result: "ok", link };
}

/**
 * The anti-forgery value of one rendered page, verified without server state: the GET issues a fresh
 * nonce and the time, and `f` = HMAC-SHA256(key[link's k], "approval-form/v1\n" + approvalId + "\n" +
 * approver + "\n" + nonce + "\n" + issuedAt), all three in hidden fields. A POST must carry a matching
 * `f`, issued no more than `maxAgeSeconds` ago: so a decision comes from a page this service rendered
 * for this approval and approver (not from a link alone, nor a form another site built). Replays of a
 * form are harmless: the conditional write decides once.
 */
export interface FormToken {
    readonly nonce: string;
    /** Epoch seconds. */
    readonly issuedAt: number;
    readonly mac: string;
}

function formMac(key: Buffer, link: LinkFields, nonce: string, issuedAt: number): Buffer {
    return hmac(key, ["approval-form/v1", link.approvalId, link.approver, nonce, String(issuedAt)]);
}

export function issueFormToken(ring: KeyRingSnapshot, link: LinkFields, now: Date): FormToken {
    const key = ring.keys.get(link.keyId);
    if (key === undefined) {
        throw new Error(`Key ${link.keyId} is not in the ring.`);
    }
    const nonce = randomBytes(16).toString("base64url");
    const issuedAt = Math.floor(now.getTime() / 1000);
    return { nonce, issuedAt, mac: formMac(key, link, nonce, issuedAt).toString("base64url") };
}

export type FormVerification = "ok" | "missing" | "wrong" | "stale";

export function verifyFormToken(
    ring: KeyRingSnapshot,
    link: LinkFields,
    form: { readonly nonce?: string; readonly issuedAt?: string; readonly mac?: string },
    now: Date,
    maxAgeSeconds: number,
): FormVerification {
    if (!form.nonce || !form.issuedAt || !form.mac) {
        return "missing";
    }
    const key = ring.keys.get(link.keyId);
    if (key === undefined || !/^[A-Za-z0-9_-]{22}$/.test(form.nonce) || !/^[1-9][0-9]{0,15}$/.test(form.issuedAt)) {
        return "wrong";
    }
    const issuedAt = Number(form.issuedAt);
    if (!macMatches(formMac(key, link, form.nonce, issuedAt), form.mac)) {
        return "wrong";
    }
    const age = now.getTime() / 1000 - issuedAt;
    // A minute of clock skew between Lambda instances is tolerated; older than maxAge is refused.
    return age < -60 || age > maxAgeSeconds ? "stale" : "ok";
}
