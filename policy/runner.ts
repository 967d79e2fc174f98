/**
 * Runs policies over a recorded program (record.ts's `recordProgram`) the way the policy engine does
 * (@pulumi/policy's server.js): `validateResource` gets each custom resource's inputs, `validateStack`
 * every resource's outputs with parent, dependencies and property dependencies as resource objects; both
 * wrapped by `unknownCheckingProxy`, with values unknown during preview replaced by the engine's unknown
 * sentinel, so that reading one throws `UnknownValueError`, and secrets unwrapped to their values, as the
 * server decodes what the engine sends. An `UnknownValueError` becomes the framework's advisory
 * "can't run policy ... during preview"; any other error fails the run. The configuration is the
 * JSON that `pulumi preview --policy-pack-config` reads, reconciled as the CLI does: the defaults of each
 * policy's configSchema, then `all`'s enforcement level, then each policy's own entry
 * (https://www.pulumi.com/docs/using-pulumi/crossguard/configuration/). Part of the library's
 * `callback-workflow/policy` entry; nothing here runs on import.
 */
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy/proxy";
import type { EnforcementLevel, Policies, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { policies as packPolicies } from "./policies";
import type { ProgramRun, Registration } from "./record";

/** The sentinel the engine sends for a value unknown during preview (@pulumi/policy's unknownStringValue). */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

export interface Finding {
    /** The policy's name. */
    readonly policy: string;
    /** Its enforcement level as the engine reports it (`remediate` reports as `mandatory`). */
    readonly level: EnforcementLevel;
    /** What the policy reported (the CLI prints the policy's description before it). */
    readonly message: string;
    /** The resource it is about; a stack policy may name none. */
    readonly urn: string | undefined;
}

export interface PolicyRun {
    /** Violations reported by policies, at their enforcement level. */
    readonly violations: readonly Finding[];
    /** "can't run policy ... during preview" advisories, as the framework reports them. */
    readonly undecided: readonly Finding[];
}

/** One policy's entry of a policy pack configuration: its enforcement level, or its properties and level. */
export type PolicyConfigEntry =
    EnforcementLevel | (Readonly<Record<string, unknown>> & { readonly enforcementLevel?: EnforcementLevel });

/**
 * A policy pack's configuration, as `--policy-pack-config` reads it: policy name → entry, and `all` →
 * the enforcement level of every policy (a policy's own entry wins).
 */
export type PolicyPackConfig = Readonly<Record<string, PolicyConfigEntry>>;

export interface RunPoliciesOptions {
    /** The policies to run (default: this package's policy pack, `policies`). */
    readonly policies?: Policies;
    /** The policy pack's configuration (policy/config.example.json is one). */
    readonly config?: PolicyPackConfig;
}

/** The enforcement level and properties an entry gives; throws on a level the engine does not know. */
function entryOf(name: string, entry: PolicyConfigEntry | undefined): { level?: EnforcementLevel; props: object } {
    if (entry === undefined) {
        return { props: {} };
    }
    const { enforcementLevel: level, ...props } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
    if (level !== undefined && !LEVELS.includes(level)) {
        throw new TypeError(
            `Policy pack config for ${name}: enforcementLevel must be one of ${LEVELS.join(", ")} (got ${JSON.stringify(level)}).`,
        );
    }
    return level === undefined ? { props } : { level, props };
}

/** The configSchema's defaults of a policy (what the CLI fills in before the given values). */
function schemaDefaults(policy: Policies[number]): Record<string, unknown> {
    const properties = policy.configSchema?.properties ?? {};
    return Object.fromEntries(
        Object.entries(properties).flatMap(([key, schema]) =>
            typeof schema === "object" && "default" in schema ? [[key, schema.default]] : [],
        ),
    );
}

/** Replaces values unknown during preview (mock `Unknown`s) with the engine's sentinel, recursively. */
export function withSentinels(value: unknown): unknown {
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
export function stackProps(registration: Registration, preview: boolean): Record<string, unknown> {
    if (!preview) {
        return { ...registration.outputs, id: `${registration.name}-id` };
    }
    const computed = Object.fromEntries(["arn", "id", "url", "name"].map((key) => [key, UNKNOWN_SENTINEL]));
    return { ...computed, ...(withSentinels(registration.inputs) as Record<string, unknown>) };
}

/** `specialSigKey` and `specialSecretSig` of @pulumi/pulumi's runtime/rpc.js: how a secret is marshalled. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * Properties as the policy server decodes what the engine sends (server.js's deserializeProperties): a
 * secret, which the mocks record and the engine sends as `{[specialSigKey]: specialSecretSig, value}`,
 * becomes its value, so that a policy reads a secret document as it reads any other.
 */
function decoded(value: unknown): unknown {
    if (typeof value !== "object" || value === null) {
        return value;
    }
    if ((value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG) {
        return decoded((value as { value?: unknown }).value);
    }
    if (Array.isArray(value)) {
        return value.map(decoded);
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) {
        return value; // assets and archives
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decoded(v)]));
}

/**
 * Whether `type` is the type of `resourceClass` (server.js's isTypeOf): its `__pulumiType`, as SDK-generated
 * resource classes have, or its `isInstance`. What `validateResourceOfType` and
 * `validateStackResourcesOfType` filter by.
 */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const candidate = resourceClass as { __pulumiType?: unknown; isInstance?: (value: unknown) => unknown } | undefined;
    const pulumiType = candidate?.__pulumiType;
    if (typeof pulumiType === "string" && pulumiType.length > 0) {
        return type === pulumiType;
    }
    return typeof candidate?.isInstance === "function" && candidate.isInstance({ __pulumiType: type }) === true;
}

function isStackPolicy(policy: Policies[number]): policy is StackValidationPolicy {
    return "validateStack" in policy && policy.validateStack !== undefined;
}

/**
 * Runs `options.policies` (default: this pack's) over `run`, deployed or in preview as it was recorded,
 * and returns what they report. Throws what a policy throws, but for values unknown in preview.
 */
export async function runPolicies(run: ProgramRun, options: RunPoliciesOptions = {}): Promise<PolicyRun> {
    const preview = run.preview;
    const policies = options.policies ?? packPolicies;
    const config = options.config ?? {};
    const all = entryOf("all", config["all"]).level;
    const violations: Finding[] = [];
    const undecided: Finding[] = [];
    const custom = run.resources.filter((r) => r.custom);

    // Stack view: resource objects linked by URN, as server.js builds them.
    const byUrn = new Map<string, PolicyResource>();
    const stackResources: PolicyResource[] = run.resources.map((r) => {
        const props = unknownCheckingProxy(decoded(stackProps(r, preview)) as Record<string, unknown>);
        const resource: PolicyResource = {
            type: r.type,
            props,
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
            isType: (resourceClass) => isTypeOf(r.type, resourceClass),
            asType: (resourceClass) => (isTypeOf(r.type, resourceClass) ? props : undefined) as never,
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
        const given = entryOf(policy.name, config[policy.name]);
        const level = given.level ?? all ?? policy.enforcementLevel ?? "advisory";
        if (level === "disabled") {
            continue;
        }
        const properties = { ...schemaDefaults(policy), ...given.props };
        const reported = level === "remediate" ? "mandatory" : level;
        const report = (urn: string | undefined) => (message: string, violationUrn?: string) => {
            violations.push({ policy: policy.name, level: reported, message, urn: violationUrn ?? urn });
        };
        const getConfig = <T extends object>(): T => ({ ...properties }) as T;
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
                    { resources: stackResources, getConfig, notApplicable, stackTags: new Map() },
                    report(undefined),
                ),
            );
            continue;
        }
        const resourcePolicy = policy;
        const validations =
            resourcePolicy.validateResource === undefined ? [] : [resourcePolicy.validateResource].flat();
        for (const registration of custom) {
            const props = unknownCheckingProxy(decoded(withSentinels(registration.inputs)) as Record<string, unknown>);
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
                            stackTags: new Map(),
                            isType: (resourceClass: unknown) => isTypeOf(registration.type, resourceClass),
                            asType: (resourceClass: unknown) =>
                                isTypeOf(registration.type, resourceClass) ? props : undefined,
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
