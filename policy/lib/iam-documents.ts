/**
 * IAM policy documents as the policies read them: parsed from the JSON string (or object) a resource
 * carries, statements normalised to lists, and action patterns matched the way IAM matches them
 * (case-insensitive, `*` and `?` wildcards, `NotAction`).
 */
import { SEND_TASK_ACTIONS } from "../../components/iam";
import { containsUnknown, UNKNOWN } from "./unknowns";

/** The three actions that answer a task token: the component's own list. */
export { SEND_TASK_ACTIONS };

export interface Statement {
    readonly sid: string | undefined;
    readonly effect: string;
    /** `Action` as a list (its known entries), or undefined when the statement uses `NotAction`. */
    readonly actions: readonly string[] | undefined;
    readonly notActions: readonly string[] | undefined;
    /** `Resource` as a list (its known entries), or undefined when the statement uses `NotResource`. */
    readonly resources: readonly string[] | undefined;
    readonly notResources: readonly string[] | undefined;
    readonly principal: unknown;
    readonly condition: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
    /** The elements (`Action`, `Resource`, `Condition`, ...) that hold a value unknown during preview. */
    readonly unknowns: ReadonlySet<string>;
}

/**
 * AWS managed policies that grant the SendTask actions (with everything else in Step Functions, or
 * more), for attachments by ARN. What each grants, as AWS publishes it.
 */
export const MANAGED_POLICIES_GRANTING_SEND_TASK: Readonly<Record<string, string>> = {
    AdministratorAccess: '"*" on "*"',
    PowerUserAccess: 'every action but IAM and Organizations ("NotAction") on "*"',
    AWSStepFunctionsFullAccess: '"states:*" on "*"',
    AWSStepFunctionsConsoleFullAccess: '"states:*" on "*"',
};

/** An element that IAM allows as a string or a list of strings: its known strings, or why it is not valid. */
function strings(value: unknown, element: string, unknowns: Set<string>): string[] | undefined | { invalid: string } {
    if (value === undefined) {
        return undefined;
    }
    if (value === UNKNOWN) {
        unknowns.add(element);
        return [];
    }
    const items = Array.isArray(value) ? value : [value];
    const known: string[] = [];
    for (const item of items) {
        if (item === UNKNOWN) {
            unknowns.add(element);
        } else if (typeof item === "string") {
            known.push(item);
        } else {
            return {
                invalid: `${element} must be a string or a list of strings (got ${JSON.stringify(item) ?? String(item)})`,
            };
        }
    }
    return known;
}

/**
 * The statements of a policy document (a JSON string or an object, as a snapshot whose unknown leaves
 * are UNKNOWN), or a sentence saying why it is not a valid policy document
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).
 */
export function parseDocument(document: unknown): Statement[] | string {
    let doc: unknown = document;
    if (typeof document === "string") {
        try {
            doc = JSON.parse(document);
        } catch {
            return "the policy is not valid JSON";
        }
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        return "the policy is not a valid policy document: it is not a JSON object";
    }
    const raw = (doc as { Statement?: unknown }).Statement;
    const statements = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const parsed: Statement[] = [];
    for (const [index, s] of statements.entries()) {
        const invalid = (why: string): string => `the policy is not a valid policy document: statement ${index} ${why}`;
        if (typeof s !== "object" || s === null || Array.isArray(s)) {
            return invalid(`is not an object (got ${JSON.stringify(s) ?? String(s)})`);
        }
        const statement = s as Record<string, unknown>;
        const unknowns = new Set<string>();
        const lists: Record<string, string[] | undefined> = {};
        for (const element of ["Action", "NotAction", "Resource", "NotResource"]) {
            const list = strings(statement[element], element, unknowns);
            if (list !== undefined && !Array.isArray(list)) {
                return invalid(list.invalid);
            }
            lists[element] = list;
        }
        const effect = statement["Effect"];
        if (effect === UNKNOWN) {
            unknowns.add("Effect");
        } else if (effect !== "Allow" && effect !== "Deny") {
            return invalid(`has Effect ${JSON.stringify(effect) ?? "nothing"}: it must be "Allow" or "Deny"`);
        }
        const condition = statement["Condition"];
        if (
            condition !== undefined &&
            condition !== UNKNOWN &&
            (typeof condition !== "object" || condition === null || Array.isArray(condition))
        ) {
            return invalid(
                `has a Condition that is not an object (got ${JSON.stringify(condition) ?? typeof condition})`,
            );
        }
        for (const [element, value] of Object.entries(statement)) {
            if (containsUnknown(value)) {
                unknowns.add(element);
            }
        }
        parsed.push({
            sid: typeof statement["Sid"] === "string" ? statement["Sid"] : undefined,
            effect: typeof effect === "string" ? effect : "Unknown",
            actions: lists["Action"],
            notActions: lists["NotAction"],
            resources: lists["Resource"],
            notResources: lists["NotResource"],
            principal: statement["Principal"],
            condition: condition === UNKNOWN ? undefined : (condition as Statement["condition"]),
            unknowns,
        });
    }
    return parsed;
}

/** True when the IAM action pattern (`states:Send*`, `*`, `states:sendtasksuccess`) matches `action`. */
export function actionMatches(pattern: string, action: string): boolean {
    const regex = new RegExp(
        `^${pattern
            .split("")
            .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
            .join("")}$`,
        "i",
    );
    return regex.test(action);
}

/** True when an Allow statement grants `action` (through `Action` or `NotAction`). */
export function allows(statement: Statement, action: string): boolean {
    if (statement.effect !== "Allow") {
        return false;
    }
    if (statement.actions !== undefined) {
        return statement.actions.some((pattern) => actionMatches(pattern, action));
    }
    return (
        statement.notActions !== undefined && !statement.notActions.some((pattern) => actionMatches(pattern, action))
    );
}

/** The SendTask actions an Allow statement grants. */
export function sendTaskActionsGranted(statement: Statement): string[] {
    return SEND_TASK_ACTIONS.filter((action) => allows(statement, action));
}

/** The name of an AWS managed policy from its ARN (`arn:aws:iam::aws:policy/…/Name`), else undefined. */
export function managedPolicyName(arn: string): string | undefined {
    const match = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
    return match?.[1];
}

/**
 * A state machine or activity name as AWS allows it: 1 to 80 characters, none of them whitespace,
 * brackets, wildcards, `"#%\\^|~`$&,;:/` or control characters; dots allowed
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html).
 */
// eslint-disable-next-line no-control-regex -- control characters are what AWS forbids in the name
const STEP_FUNCTIONS_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/** The kind of an ARN that names exactly one state machine or activity (no wildcard), else undefined. */
export function stepFunctionsArnKind(resource: string): "stateMachine" | "activity" | undefined {
    const match = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(stateMachine|activity):(.+)$/.exec(resource);
    if (match === null || !STEP_FUNCTIONS_NAME.test(match[2] ?? "")) {
        return undefined;
    }
    return match[1] === "activity" ? "activity" : "stateMachine";
}

/** True for a state machine ARN that names exactly one state machine (no wildcard). */
export function isExactStateMachineArn(resource: string): boolean {
    return stepFunctionsArnKind(resource) === "stateMachine";
}

/** True when a trust policy lets `service` assume the role. */
export function trusts(document: unknown, service: string): boolean {
    const statements = parseDocument(document);
    if (typeof statements === "string") {
        return false;
    }
    return statements.some((s) => {
        if (s.effect !== "Allow" || !(s.actions ?? []).some((a) => actionMatches(a, "sts:AssumeRole"))) {
            return false;
        }
        const principal = s.principal as { Service?: unknown } | undefined;
        const services = principal?.Service;
        return services === service || (Array.isArray(services) && services.includes(service));
    });
}
