/**
 * Values unknown during preview. The engine hands policies proxies that throw `UnknownValueError` when
 * an unknown is read; the framework turns that error into the advisory "can't run policy ... during
 * preview". Resource policies let it propagate. Stack policies never read a proxy directly: they read a
 * {@link snapshot} of each resource (plain data, every unknown leaf replaced by {@link UNKNOWN}), decide
 * everything that does not depend on an unknown, note through {@link Undecided} what does, and rethrow
 * once at the end so the framework says what could not be checked yet.
 */
import { UnknownValueError } from "@pulumi/policy/proxy";

export const UNKNOWN = Symbol("unknown during preview");
export type Maybe<T> = T | typeof UNKNOWN;

/** @pulumi/policy's sentinel for an unknown string (proxy.js `unknownStringValue`). */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function isPlainObject(value: object): boolean {
    const prototype: unknown = Object.getPrototypeOf(value);
    return prototype === Object.prototype || prototype === null;
}

const snapshots = new WeakMap<object, unknown>();

/**
 * A deep copy of `value` (resource properties as the engine passes them) as plain data: every value the
 * engine's proxy reports as unknown becomes {@link UNKNOWN}. Reading it never throws. Objects that are
 * not plain data (assets, archives) are kept as they are. Memoised per object: every stack policy of a
 * run reads the same resources.
 */
export function snapshot(value: unknown): unknown {
    if (typeof value !== "object" || value === null) {
        return value;
    }
    const cached = snapshots.get(value);
    if (cached !== undefined) {
        return cached;
    }
    let copy: unknown;
    if (Array.isArray(value)) {
        const items: unknown[] = [];
        for (let index = 0; index < value.length; index++) {
            items.push(snapshot(readOrUnknown(() => (value as unknown[])[index])));
        }
        copy = items;
    } else if (isPlainObject(value)) {
        const entries: Record<string, unknown> = {};
        for (const key of Object.keys(value)) {
            entries[key] = snapshot(readOrUnknown(() => (value as Record<string, unknown>)[key]));
        }
        copy = entries;
    } else {
        copy = value;
    }
    snapshots.set(value, copy);
    return copy;
}

function readOrUnknown(read: () => unknown): unknown {
    try {
        return read();
    } catch (error) {
        if (error instanceof UnknownValueError) {
            return UNKNOWN;
        }
        throw error;
    }
}

/** True when `value` holds an unknown anywhere inside. */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) {
        return true;
    }
    if (typeof value !== "object" || value === null) {
        return false;
    }
    return Object.values(value).some(containsUnknown);
}

/** The value at `path` inside a snapshot: undefined where a step is missing, UNKNOWN where one is unknown. */
export function at(value: unknown, ...path: ReadonlyArray<string | number>): unknown {
    let current = value;
    for (const step of path) {
        if (current === UNKNOWN) {
            return UNKNOWN;
        }
        if (typeof current !== "object" || current === null) {
            return undefined;
        }
        current = (current as Record<string | number, unknown>)[step];
    }
    return current;
}

/**
 * What a stack policy could not decide in preview. {@link Undecided.note} records it; {@link Undecided.finish}
 * rethrows the first as the engine's `UnknownValueError`, after the decidable violations were reported.
 */
export class Undecided {
    private first: UnknownValueError | undefined;

    /** Records that `what` (such as `Queue "work" redrivePolicy`) is unknown and a verdict waits on it. */
    public note(what: string): void {
        if (this.first === undefined) {
            const error = new UnknownValueError(UNKNOWN_STRING, [what]);
            error.message = `${what} can't be known during preview`;
            this.first = error;
        }
    }

    /**
     * `read()`'s value, or {@link UNKNOWN} when it reads a value unknown during preview through the
     * engine's proxy (recorded like {@link Undecided.note}).
     */
    public read<T>(read: () => T): Maybe<T> {
        try {
            return read();
        } catch (error) {
            if (error instanceof UnknownValueError) {
                this.first ??= error;
                return UNKNOWN;
            }
            throw error;
        }
    }

    /** Rethrows the first unknown met, after the decidable violations were reported. */
    public finish(): void {
        if (this.first !== undefined) {
            throw this.first;
        }
    }
}
