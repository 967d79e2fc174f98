/**
 * Runs the pack's policies over a recorded program run the way the policy engine does (see
 * @pulumi/policy's server.js): `validateResource` gets each resource's inputs, `validateStack` every
 * resource's outputs with parent, dependencies and property dependencies as resource objects; both
 * wrapped by `unknownCheckingProxy`, with values unknown during preview replaced by the engine's unknown
 * sentinel, so that reading one throws `UnknownValueError`. Such an error becomes the framework's
 * advisory "can't run policy ... during preview"; any other error fails the run.
 */
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy/proxy";
import type { EnforcementLevel, Policies, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import type { ProgramRun, Registration } from "../../local/pulumi-program";

/** The sentinel the engine sends for a value unknown during preview (@pulumi/policy's unknownStringValue). */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface Finding {
    readonly policy: string;
    readonly level: EnforcementLevel;
    readonly message: string;
    readonly urn: string | undefined;
}

export interface PolicyRun {
    /** Violations reported by policies, at their enforcement level. */
    readonly violations: readonly Finding[];
    /** "can't run policy ... during preview" advisories, as the framework reports them. */
    readonly undecided: readonly Finding[];
}

export interface PolicyRunOptions {
    /** Each policy's configuration, by policy name; `enforcementLevel` overrides the default. */
    readonly config?: Readonly<
        Record<string, Readonly<Record<string, unknown>> & { enforcementLevel?: EnforcementLevel }>
    >;
}

/** Replaces values unknown during preview (mock `Unknown`s) with the engine's sentinel, recursively. */
function withSentinels(value: unknown): unknown {
    if (typeof value !== "object" || value === null) {
        return value;
    }
    if ((value as { __pulumiUnknown?: unknown }).__pulumiUnknown === true) {
        return UNKNOWN_SENTINEL;
    }
    if (Array.isArray(value)) {
        return value.map(withSentinels);
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) {
        return value; // assets and archives: passed as they are
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withSentinels(v)]));
}

/** A resource's outputs as the engine has them: after deployment the mock's state; in preview, inputs and unknown computed outputs. */
function stackProps(registration: Registration, preview: boolean): Record<string, unknown> {
    if (!preview) {
        return { ...registration.outputs, id: `${registration.name}-id` };
    }
    const computed = Object.fromEntries(["arn", "id", "url", "name"].map((key) => [key, UNKNOWN_SENTINEL]));
    return { ...computed, ...(withSentinels(registration.inputs) as Record<string, unknown>) };
}

function isStackPolicy(policy: Policies[number]): policy is StackValidationPolicy {
    return "validateStack" in policy && policy.validateStack !== undefined;
}

export async function runPolicies(
    run: ProgramRun,
    policies: Policies,
    options: PolicyRunOptions & { readonly preview?: boolean } = {},
): Promise<PolicyRun> {
    const preview = options.preview ?? false;
    const violations: Finding[] = [];
    const undecided: Finding[] = [];
    const custom = run.resources.filter((r) => r.custom);

    // Stack view: resource objects linked by URN, as server.js builds them.
    const byUrn = new Map<string, PolicyResource>();
    const stackResources: PolicyResource[] = run.resources.map((r) => {
        const resource: PolicyResource = {
            type: r.type,
            props: unknownCheckingProxy(stackProps(r, preview)),
            urn: r.urn,
            name: r.name,
            opts: {
                protect: false,
                ignoreChanges: [],
                aliases: [],
                additionalSecretOutputs: [],
                customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            },
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        };
        byUrn.set(r.urn, resource);
        return resource;
    });
    run.resources.forEach((r, index) => {
        const resource = stackResources[index] as PolicyResource & { parent?: PolicyResource };
        if (r.parent !== undefined && byUrn.has(r.parent)) {
            resource.parent = byUrn.get(r.parent);
        }
        resource.dependencies = r.dependencies.flatMap((urn) =>
            byUrn.has(urn) ? [byUrn.get(urn) as PolicyResource] : [],
        );
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            resource.propertyDependencies[key] = urns.flatMap((urn) =>
                byUrn.has(urn) ? [byUrn.get(urn) as PolicyResource] : [],
            );
        }
    });

    for (const policy of policies) {
        const config = options.config?.[policy.name] ?? {};
        const level = config.enforcementLevel ?? policy.enforcementLevel ?? "advisory";
        if (level === "disabled") {
            continue;
        }
        const reported = level === "remediate" ? "mandatory" : level;
        const report = (urn: string | undefined) => (message: string, violationUrn?: string) => {
            violations.push({ policy: policy.name, level: reported, message, urn: violationUrn ?? urn });
        };
        const getConfig = <T extends object>(): T => config as T;
        const notApplicable = (reason?: string): never => {
            throw new NotApplicable(reason);
        };
        const attempt = async (urn: string | undefined, validate: () => unknown): Promise<void> => {
            try {
                await validate();
            } catch (error) {
                if (error instanceof UnknownValueError) {
                    const message = `can't run policy '${policy.name}' during preview: ${(error as Error).message}`;
                    undecided.push({ policy: policy.name, level: "advisory", message, urn });
                } else if (!(error instanceof NotApplicable)) {
                    throw error;
                }
            }
        };
        if (isStackPolicy(policy)) {
            await attempt(undefined, () =>
                policy.validateStack(
                    { resources: stackResources, getConfig, notApplicable } as never,
                    report(undefined),
                ),
            );
            continue;
        }
        const resourcePolicy = policy;
        const validations =
            resourcePolicy.validateResource === undefined ? [] : [resourcePolicy.validateResource].flat();
        for (const registration of custom) {
            const props = unknownCheckingProxy(withSentinels(registration.inputs) as Record<string, unknown>);
            for (const validation of validations) {
                await attempt(registration.urn, () =>
                    validation(
                        {
                            type: registration.type,
                            props,
                            urn: registration.urn,
                            name: registration.name,
                            opts: stackResources[0]?.opts,
                            getConfig,
                            notApplicable,
                            isType: () => false,
                            asType: () => undefined,
                        } as never,
                        report(registration.urn),
                    ),
                );
            }
        }
    }
    return { violations, undecided };
}

class NotApplicable extends Error {
    constructor(reason?: string) {
        super(reason);
        this.name = "NotApplicable";
    }
}
