/**
 * IAM policy documents as the policies read them: parsed from the JSON string (or object) a resource
 * carries, statements normalised to lists, and action patterns matched the way IAM matches them
 * (case-insensitive, `*` and `?` wildcards, `NotAction`).
 */
import { SEND_TASK_ACTIONS } from "../../components/iam";

/** The three actions that answer a task token: the component's own list. */
export { SEND_TASK_ACTIONS };

export interface Statement {
    readonly sid: string | undefined;
    readonly effect: string;
    /** `Action` as a list, or undefined when the statement uses `NotAction`. */
    readonly actions: readonly string[] | undefined;
    readonly notActions: readonly string[] | undefined;
    /** `Resource` as a list, or undefined when the statement uses `NotResource`. */
    readonly resources: readonly string[] | undefined;
    readonly notResources: readonly string[] | undefined;
    readonly principal: unknown;
    readonly condition: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
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

function list(value: unknown): string[] | undefined {
    if (value === undefined || value === null) {
        return undefined;
    }
    return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

/**
 * The statements of a policy document (a JSON string or an object), or a sentence saying why it cannot
 * be read.
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
    if (typeof doc !== "object" || doc === null) {
        return "the policy is not a JSON object";
    }
    const raw = (doc as { Statement?: unknown }).Statement;
    const statements = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    return statements.map((s: Record<string, unknown>) => ({
        sid: typeof s["Sid"] === "string" ? s["Sid"] : undefined,
        effect: String(s["Effect"]),
        actions: list(s["Action"]),
        notActions: list(s["NotAction"]),
        resources: list(s["Resource"]),
        notResources: list(s["NotResource"]),
        principal: s["Principal"],
        condition: (s["Condition"] ?? undefined) as Statement["condition"],
    }));
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

/** True for a state machine ARN that names exactly one state machine (no wildcard). */
export function isExactStateMachineArn(resource: string): boolean {
    return /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/.test(resource);
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
        return (list(principal?.Service) ?? []).includes(service);
    });
}
