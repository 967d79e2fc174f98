/** Finding resources of a stack and the resources they refer to, in preview as after deployment. */
import type { PolicyResource } from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy/proxy";
import { UNKNOWN, type Maybe, type Undecided } from "./unknowns";

export function ofType(resources: readonly PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type);
}

/** Reads a value without recording an unknown: for matching candidates, where another may match. */
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

/** The identifiers other resources use to refer to `resource`: its ARN, name, id and URL where known. */
function identifiers(resource: PolicyResource): string[] {
    return ["arn", "name", "id", "url"].flatMap((key) => {
        const value = peek(() => resource.props[key] as unknown);
        return typeof value === "string" ? [value] : [];
    });
}

/**
 * The resources among `candidates` that `resource.props[property]` refers to: first through the
 * engine's property dependencies (known in preview, before any ARN exists), then by value (an ARN, name
 * or URL given as a literal, or known after deployment). A value unknown during preview is recorded in
 * `undecided` when nothing else tells.
 */
export function referenced(
    resource: PolicyResource,
    property: string,
    candidates: readonly PolicyResource[],
    undecided: Undecided,
): PolicyResource[] {
    const throughDependencies = (resource.propertyDependencies[property] ?? []).filter((d) => candidates.includes(d));
    if (throughDependencies.length > 0) {
        return throughDependencies;
    }
    const value = undecided.read(() => resource.props[property] as unknown);
    if (value === UNKNOWN || value === undefined) {
        return [];
    }
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
    return candidates.filter((candidate) => identifiers(candidate).some((id) => values.includes(id)));
}

/** How a resource is named in messages: its type's short name and logical name. */
export function describe(resource: Pick<PolicyResource, "type" | "name">): string {
    const short = resource.type.split(":").pop() ?? resource.type;
    return `${short} "${resource.name}"`;
}

/** True when an event source mapping reads from SQS: a queue of this stack, or an SQS ARN. */
export function isSqsSource(mapping: PolicyResource, queues: readonly PolicyResource[], undecided: Undecided): boolean {
    if (referenced(mapping, "eventSourceArn", queues, undecided).length > 0) {
        return true;
    }
    const source = peek(() => mapping.props["eventSourceArn"] as unknown);
    if (source === UNKNOWN) {
        undecided.read(() => mapping.props["eventSourceArn"] as unknown);
        return false;
    }
    return typeof source === "string" && source.includes(":sqs:");
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
