/**
 * Reading properties that may be malformed: any value may be null, a string, a number or an array where
 * an object belongs, and nothing here throws on it. A value unknown during preview reads as
 * {@link UNKNOWN} (through `peek`), so that a policy decides what it can before it gives up.
 */
import { peek } from "./stack";
import { UNKNOWN, type Maybe } from "./unknowns";

/** True for a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when a value is absent: undefined, null or the empty string. */
export function isAbsent(value: unknown): value is undefined | null | "" {
    return value === undefined || value === null || value === "";
}

/** `holder[key]` when `holder` is an object, undefined otherwise, {@link UNKNOWN} when unknown in preview. */
export function field(holder: unknown, key: string): Maybe<unknown> {
    if (holder === UNKNOWN || !isRecord(holder)) {
        return holder === UNKNOWN ? UNKNOWN : undefined;
    }
    return peek(() => holder[key]);
}

/**
 * Reads a value plainly: when `peek` found it unknown and the verdict depends on it, this throws the
 * framework's UnknownValueError, which it reports as "can't run policy ... during preview".
 */
export function readPlainly(read: () => unknown): void {
    read();
}

/** A value as messages show it: JSON, shortened. */
export function show(value: unknown): string {
    if (value === UNKNOWN) {
        return "(unknown during preview)";
    }
    try {
        const text = JSON.stringify(value) as string | undefined;
        if (text === undefined) {
            return typeof value;
        }
        return text.length > 120 ? `${text.slice(0, 117)}...` : text;
    } catch {
        return typeof value;
    }
}

/** A JSON object given as a string or as an object; undefined when it is neither. */
export function jsonObject(value: unknown): Record<string, unknown> | undefined {
    if (typeof value === "string") {
        try {
            const parsed: unknown = JSON.parse(value);
            return isRecord(parsed) ? parsed : undefined;
        } catch {
            return undefined;
        }
    }
    return isRecord(value) ? value : undefined;
}

/** The strings of a configured list; `fallback` when the configuration gives no list. */
export function stringList(value: unknown, fallback: readonly string[] = []): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [...fallback];
}
