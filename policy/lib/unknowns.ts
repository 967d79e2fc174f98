/**
 * Values unknown during preview. The engine hands policies proxies that throw `UnknownValueError` when
 * an unknown is read; the framework turns that error into the advisory "can't run policy ... during
 * preview". Resource policies let it propagate. Stack policies read through {@link Undecided} so that one
 * unknown value does not hide the violations that can be decided: they report those, then rethrow the
 * first unknown so the framework says what could not be checked.
 */
import { UnknownValueError } from "@pulumi/policy/proxy";

export const UNKNOWN = Symbol("unknown during preview");
export type Maybe<T> = T | typeof UNKNOWN;

export class Undecided {
    private first: UnknownValueError | undefined;

    /** `read()`'s value, or {@link UNKNOWN} when it touches a value unknown during preview. */
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
