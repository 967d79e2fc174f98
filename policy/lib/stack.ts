/**
 * Finding resources of a stack and the resources they refer to, in preview as after deployment. Stack
 * policies read resources through {@link propsOf} (a snapshot: plain data, unknown leaves marked
 * {@link UNKNOWN}), never through the engine's proxy, so one unknown value never aborts a policy.
 */
import type { PolicyResource } from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy/proxy";
import { at, containsUnknown, snapshot, UNKNOWN, type Maybe } from "./unknowns";

export function ofType(resources: readonly PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type);
}

/** A resource's properties as plain data, unknown leaves marked {@link UNKNOWN}; `{}` when they are not an object. */
export function propsOf(resource: Pick<PolicyResource, "props">): Record<string, unknown> {
    const props = snapshot(resource.props);
    return typeof props === "object" && props !== null && !Array.isArray(props)
        ? (props as Record<string, unknown>)
        : {};
}

/** Reads a value without recording an unknown: for resource policies, where the proxy is read directly. */
export function peek<T>(read: () => T): Maybe<T> {
    try {
        return read();
    } catch (error) {
        if (error instanceof UnknownValueError) {
            return UNKNOWN;
        }
        throw error;
    }
}

/**
 * Whether `value` (an ARN, name, id or URL) names `candidate`: `yes`, `no`, or `maybe` when only the
 * candidate's unknown name could tell (in preview).
 */
export function refersTo(value: string, candidate: PolicyResource): "yes" | "no" | "maybe" {
    const props = propsOf(candidate);
    const ids = ["arn", "name", "id", "url"].map((key) => props[key]);
    if (ids.includes(value)) {
        return "yes";
    }
    if (props["arn"] !== UNKNOWN) {
        return "no";
    }
    // In preview a new resource's ARN and URL are unknown. Named explicitly, a literal ending in its name
    // may name it (or the same name in another account or region). Autonamed, it will be called `<namePrefix or logical name->` and a random suffix
    // (https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming): only a literal whose last
    // segment starts so may name it.
    const last = value.split(/[:/]/).pop() ?? value;
    const name = props["name"];
    if (typeof name === "string") {
        // The name matches, but the account and region only the ARN would show.
        return name !== "" && last === name ? "maybe" : "no";
    }
    const prefix = props["namePrefix"];
    const start = typeof prefix === "string" ? prefix : `${String(candidate.name)}-`;
    return last.startsWith(start) ? "maybe" : "no";
}

/** The resources a reference names: `found` for certain, `maybe` when only an unknown value could tell. */
export interface Reference {
    readonly found: PolicyResource[];
    readonly maybe: PolicyResource[];
    /** True when the value at the path is unknown (wholly or in part). */
    readonly unknown: boolean;
}

function unknownLeaves(value: unknown): number {
    if (value === UNKNOWN) {
        return 1;
    }
    if (typeof value !== "object" || value === null) {
        return 0;
    }
    return Object.values(value).reduce<number>((sum, v) => sum + unknownLeaves(v), 0);
}

/**
 * The resources among `candidates` that the value at `path` in `resource`'s properties refers to. A
 * known value (a string or a list of strings) is matched against the candidates' ARNs, names, ids and
 * URLs. An unknown one is resolved through the engine's property dependencies of the path's top-level
 * property: certainly when that property holds no other unknown, else as `maybe`.
 */
export function referencedAt(
    resource: PolicyResource,
    path: ReadonlyArray<string | number>,
    candidates: readonly PolicyResource[],
): Reference {
    const [top] = path;
    if (top === undefined) {
        return { found: [], maybe: [], unknown: false };
    }
    const props = propsOf(resource);
    const value = at(props, ...path);
    const strings = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
    const found = candidates.filter((candidate) => strings.some((s) => refersTo(s, candidate) === "yes"));
    const named = candidates.filter(
        (candidate) => !found.includes(candidate) && strings.some((s) => refersTo(s, candidate) === "maybe"),
    );
    const dependencies = (safeDependencies(resource)[String(top)] ?? []).filter(
        (d) => candidates.includes(d) && !found.includes(d),
    );
    if (!containsUnknown(value)) {
        // A transformed value (not an identifier) of a top-level property: its dependencies tell.
        const direct =
            path.length === 1 && found.length === 0 && named.length === 0 && value !== undefined && value !== null;
        return { found: direct ? dependencies : found, maybe: named, unknown: false };
    }
    const exact = unknownLeaves(at(props, top)) === unknownLeaves(value);
    const others = dependencies.filter((d) => !named.includes(d));
    return exact
        ? { found: [...found, ...others], maybe: named, unknown: true }
        : { found, maybe: [...named, ...others], unknown: true };
}

function safeDependencies(resource: PolicyResource): Readonly<Record<string, readonly PolicyResource[]>> {
    const dependencies = resource.propertyDependencies as unknown;
    return typeof dependencies === "object" && dependencies !== null
        ? (dependencies as Record<string, PolicyResource[]>)
        : {};
}

/** How a resource is named in messages: its type's short name and logical name. */
export function describe(resource: Pick<PolicyResource, "type" | "name">): string {
    const short = String(resource.type).split(":").pop() ?? resource.type;
    return `${short} "${resource.name}"`;
}

/**
 * True when a property is set. A value unknown during preview is set: it will hold whatever the
 * resource it comes from returns (a key ARN, a log group ARN).
 */
export function isSet(
    resource: Pick<PolicyResource, "props">,
    read: (props: Record<string, unknown>) => unknown,
): boolean {
    const value = peek(() => read(resource.props));
    return value === UNKNOWN || (value !== undefined && value !== null && value !== "");
}

/** A string property of a snapshot, or UNKNOWN, or undefined for anything else. */
export function stringAt(value: unknown, ...path: ReadonlyArray<string | number>): Maybe<string> | undefined {
    const found = at(value, ...path);
    return found === UNKNOWN || typeof found === "string" ? found : undefined;
}

/** A number property of a snapshot (numeric strings too, as the engine may pass them), UNKNOWN, or undefined. */
export function numberAt(value: unknown, ...path: ReadonlyArray<string | number>): Maybe<number> | undefined {
    const found = at(value, ...path);
    if (found === UNKNOWN) {
        return UNKNOWN;
    }
    const number = typeof found === "string" && found.trim() !== "" ? Number(found) : found;
    return typeof number === "number" && Number.isFinite(number) ? number : undefined;
}
