// @pulumi/policy exports these two from its index, but its published proxy.d.ts is empty (the
// declarations are stripped as internal). These are their signatures, from its proxy.js.
declare module "@pulumi/policy/proxy" {
    /** Wraps resource properties so that reading a value unknown during preview throws UnknownValueError. */
    export function unknownCheckingProxy<T extends object>(toProxy: T): T;
    /** Thrown when a policy reads a value that is unknown during preview. */
    export class UnknownValueError extends Error {
        constructor(unknownTypeSentinel: string, props: readonly string[]);
        readonly props: readonly string[];
    }
}
