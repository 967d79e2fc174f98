/**
 * IAM: who may answer task tokens (sendtask-least-privilege), judged by the grant itself, whoever holds
 * it: the SendTask actions named (no wildcard), on exact state machine or activity ARNs, never held by
 * a state machine's own role.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { tokenTasks, parseDefinition } from "./lib/asl";
import {
    actionMatches,
    managedPolicyName,
    MANAGED_POLICIES_GRANTING_SEND_TASK,
    parseDocument,
    SEND_TASK_ACTIONS,
    sendTaskActionsGranted,
    stepFunctionsArnKind,
    type Statement,
} from "./lib/iam-documents";
import { describe, ofType, propsOf, referencedAt, refersTo, type Reference } from "./lib/stack";
import { T } from "./lib/types";
import { at, UNKNOWN, Undecided, type Maybe } from "./lib/unknowns";

/** Where a policy document is held, and by whom. */
interface Grant {
    /** The resource carrying the document or the attachment, for messages and URNs. */
    readonly carrier: PolicyResource;
    /** How the document is reached, for messages: `RolePolicy "x"`, `Role "r" inline policy "p"`, ... */
    readonly via: string;
    readonly holderKind: "role" | "user" | "group" | "none";
    /** The holding role in this stack, when the holder is one (certain, or maybe while unknown). */
    readonly role: Reference;
    /** The statements, UNKNOWN in preview, or why they cannot be read. */
    readonly statements: Maybe<Statement[] | string>;
    /** An AWS managed policy attached by ARN, by name. */
    readonly managed?: string;
}

const NO_ROLE: Reference = { found: [], maybe: [], unknown: false };

function statementsOf(document: Maybe<unknown>): Maybe<Statement[] | string> {
    return document === UNKNOWN ? UNKNOWN : parseDocument(document);
}

/** Every IAM grant in the stack: inline, standalone and attached policies, managed policies by ARN. */
export function grants(resources: readonly PolicyResource[]): Grant[] {
    const roles = ofType(resources, T.role);
    const policies = ofType(resources, T.policy);
    const found: Grant[] = [];
    const documentOf = (carrier: PolicyResource): Maybe<Statement[] | string> =>
        statementsOf(propsOf(carrier)["policy"]);
    /** Standalone policies some holder has: checked for each holder, not again on their own. */
    const heldByRoles = new Set<PolicyResource>();

    for (const rp of ofType(resources, T.rolePolicy)) {
        const role = referencedAt(rp, ["role"], roles);
        found.push({ carrier: rp, via: describe(rp), holderKind: "role", role, statements: documentOf(rp) });
    }
    for (const role of roles) {
        const props = propsOf(role);
        const self: Reference = { found: [role], maybe: [], unknown: false };
        const inline = props["inlinePolicies"];
        if (Array.isArray(inline)) {
            for (const [index, entry] of inline.entries()) {
                const name = at(entry, "name");
                found.push({
                    carrier: role,
                    via: `${describe(role)} inline policy ${JSON.stringify(typeof name === "string" ? name : index)}`,
                    holderKind: "role",
                    role: self,
                    statements: statementsOf(at(entry, "policy")),
                });
            }
        }
        // Policies of this stack attached through managedPolicyArns are held by the role too.
        const ownPolicies = referencedAt(role, ["managedPolicyArns"], policies);
        for (const policy of [...ownPolicies.found, ...ownPolicies.maybe]) {
            heldByRoles.add(policy);
            found.push({
                carrier: role,
                via: `${describe(policy)} attached by ${describe(role)} managedPolicyArns`,
                holderKind: "role",
                role: self,
                statements: documentOf(policy),
            });
        }
        const managed = props["managedPolicyArns"];
        for (const arn of Array.isArray(managed) ? managed : []) {
            const name = typeof arn === "string" ? managedPolicyName(arn) : undefined;
            if (name !== undefined) {
                found.push({
                    carrier: role,
                    via: `${describe(role)} managedPolicyArns`,
                    holderKind: "role",
                    role: self,
                    statements: [],
                    managed: name,
                });
            }
        }
    }
    for (const [type, kind, property] of [
        [T.userPolicy, "user", "user"],
        [T.groupPolicy, "group", "group"],
    ] as const) {
        for (const carrier of ofType(resources, type)) {
            const holder = propsOf(carrier)[property];
            found.push({
                carrier,
                via: `${describe(carrier)} (${kind} ${typeof holder === "string" ? JSON.stringify(holder) : "unknown"})`,
                holderKind: kind,
                role: NO_ROLE,
                statements: documentOf(carrier),
            });
        }
    }

    // Standalone policies: checked for every holder they are attached to, or on their own.
    const attached = heldByRoles;
    const attachments: Array<[PolicyResource, "role" | "user" | "group", Reference]> = [];
    for (const att of ofType(resources, T.rolePolicyAttachment)) {
        attachments.push([att, "role", referencedAt(att, ["role"], roles)]);
    }
    for (const att of ofType(resources, T.userPolicyAttachment)) {
        attachments.push([att, "user", NO_ROLE]);
    }
    for (const att of ofType(resources, T.groupPolicyAttachment)) {
        attachments.push([att, "group", NO_ROLE]);
    }
    for (const att of ofType(resources, T.policyAttachment)) {
        const held = referencedAt(att, ["roles"], roles);
        for (const role of held.found) {
            attachments.push([att, "role", { found: [role], maybe: [], unknown: false }]);
        }
        if (held.maybe.length > 0) {
            attachments.push([att, "role", { found: [], maybe: held.maybe, unknown: true }]);
        }
        for (const kind of ["users", "groups"] as const) {
            const holders = propsOf(att)[kind];
            if (Array.isArray(holders) && holders.length > 0) {
                attachments.push([att, kind === "users" ? "user" : "group", NO_ROLE]);
            }
        }
    }
    for (const [att, kind, role] of attachments) {
        const arn = propsOf(att)["policyArn"];
        const managed = typeof arn === "string" ? managedPolicyName(arn) : undefined;
        if (managed !== undefined) {
            found.push({ carrier: att, via: describe(att), holderKind: kind, role, statements: [], managed });
            continue;
        }
        const reference = referencedAt(att, ["policyArn"], policies);
        for (const policy of [...reference.found, ...reference.maybe]) {
            attached.add(policy);
            found.push({
                carrier: att,
                via: `${describe(policy)} attached by ${describe(att)}`,
                holderKind: kind,
                role,
                statements: documentOf(policy),
            });
        }
    }
    for (const policy of policies.filter((p) => !attached.has(p))) {
        found.push({
            carrier: policy,
            via: describe(policy),
            holderKind: "none",
            role: NO_ROLE,
            statements: documentOf(policy),
        });
    }
    return found;
}

const ALLOWED = SEND_TASK_ACTIONS.join(", ");

/** What a state machine or activity ARN of this stack is: whether tokens are answered there. */
interface Answerable {
    readonly what: string;
    /** Whether something there waits for a token (a machine assumed to while its definition is unknown). */
    readonly waits: boolean;
}

export const sendTaskLeastPrivilege: StackValidationPolicy = {
    name: "sendtask-least-privilege",
    description:
        "Checks that states:SendTaskSuccess/Failure/Heartbeat are granted by name (no wildcard, no NotAction) on exact ARNs of this stack's state machines that wait for task tokens or of its activities (or allow-listed ones), whoever holds them, and never to a state machine's own role.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedStateMachineArns: {
                type: "array",
                items: { type: "string" },
                default: [],
                description:
                    "State machines and activities of other stacks whose task tokens a principal of this stack may answer.",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const { allowedStateMachineArns } = {
            allowedStateMachineArns: [] as string[],
            ...args.getConfig<{ allowedStateMachineArns?: string[] }>(),
        };
        const undecided = new Undecided();
        const resources = args.resources;
        const roles = ofType(resources, T.role);
        const stateMachines = ofType(resources, T.stateMachine);
        const ownRoles = stateMachines.map((sm) => referencedAt(sm, ["roleArn"], roles));
        const stateMachineRoles = new Set(ownRoles.flatMap((r) => r.found));
        const maybeStateMachineRoles = new Set(ownRoles.flatMap((r) => r.maybe));

        // The state machines and activities of this stack that a literal or known ARN can name.
        const answerable = new Map<string, Answerable>();
        for (const sm of stateMachines) {
            const props = propsOf(sm);
            const entry = { what: describe(sm), waits: waitsOf(sm) };
            for (const key of ["arn", "id"]) {
                const value = props[key];
                if (typeof value === "string") {
                    answerable.set(value, entry);
                }
            }
        }
        for (const activity of ofType(resources, T.activity)) {
            const value = propsOf(activity)["arn"] ?? propsOf(activity)["id"];
            if (typeof value === "string") {
                answerable.set(value, { what: describe(activity), waits: true });
            }
        }
        // In preview a new resource's ARN is unknown: a literal ARN may still name it (refersTo).
        const inStack = (arn: string): Answerable | undefined | typeof UNKNOWN => {
            const known = answerable.get(arn);
            if (known !== undefined) {
                return known;
            }
            const kind = stepFunctionsArnKind(arn);
            const candidates = kind === "activity" ? ofType(resources, T.activity) : stateMachines;
            let maybe = false;
            for (const candidate of candidates) {
                const verdict = refersTo(arn, candidate);
                if (verdict === "yes") {
                    return { what: describe(candidate), waits: kind === "activity" || waitsOf(candidate) };
                }
                maybe ||= verdict === "maybe";
            }
            return maybe ? UNKNOWN : undefined;
        };

        for (const grant of grants(resources)) {
            if (grant.managed !== undefined) {
                const grantsWhat = Object.hasOwn(MANAGED_POLICIES_GRANTING_SEND_TASK, grant.managed)
                    ? MANAGED_POLICIES_GRANTING_SEND_TASK[grant.managed]
                    : undefined;
                if (grantsWhat !== undefined) {
                    reportViolation(
                        `${grant.via} attaches the AWS managed policy ${grant.managed}, which grants ${grantsWhat} and so ${ALLOWED} on every state machine: grant only those actions, on your state machine's ARN.`,
                        grant.carrier.urn,
                    );
                }
                continue;
            }
            if (grant.statements === UNKNOWN) {
                undecided.note(`the policy of ${grant.via}`);
                continue;
            }
            if (typeof grant.statements === "string") {
                reportViolation(`${grant.via}: ${grant.statements}.`, grant.carrier.urn);
                continue;
            }
            let holdsSendTask = false;
            for (const [index, statement] of grant.statements.entries()) {
                const granted = statement.effect === "Allow" ? sendTaskActionsGranted(statement) : [];
                const name = `${grant.via} statement ${JSON.stringify(statement.sid ?? index)}`;
                if (granted.length === 0) {
                    if (
                        statement.unknowns.has("Effect") ||
                        statement.unknowns.has("Action") ||
                        statement.unknowns.has("NotAction")
                    ) {
                        undecided.note(`whether ${name} grants SendTask`);
                    }
                    continue;
                }
                holdsSendTask = true;
                const wildcards =
                    statement.actions === undefined
                        ? [`NotAction ${JSON.stringify(statement.notActions)}`]
                        : statement.actions
                              .filter(
                                  (a) => /[*?]/.test(a) && SEND_TASK_ACTIONS.some((action) => actionMatches(a, action)),
                              )
                              .map((a) => JSON.stringify(a));
                if (wildcards.length > 0) {
                    reportViolation(
                        `${name} grants ${granted.join(", ")} through ${wildcards.join(", ")}: name the actions (${ALLOWED}) instead of a wildcard, which also grants whatever AWS adds to it.`,
                        grant.carrier.urn,
                    );
                }
                if (statement.unknowns.has("Resource")) {
                    undecided.note(`the resources of ${name}`);
                }
                const named = statement.resources ?? [];
                const inexact =
                    statement.resources === undefined
                        ? [`NotResource ${JSON.stringify(statement.notResources)}`]
                        : named.filter((r) => stepFunctionsArnKind(r) === undefined).map((r) => JSON.stringify(r));
                if (inexact.length > 0) {
                    reportViolation(
                        `${name} grants ${granted.join(", ")} on ${inexact.join(", ")}: the resources must be exact ARNs of state machines (arn:<partition>:states:<region>:<account>:stateMachine:<name>) or activities (…:activity:<name>), no wildcard.`,
                        grant.carrier.urn,
                    );
                }
                if (grant.holderKind === "none") {
                    continue;
                }
                for (const arn of named.filter((r) => stepFunctionsArnKind(r) !== undefined)) {
                    if (allowedStateMachineArns.includes(arn)) {
                        continue;
                    }
                    const target = inStack(arn);
                    if (target === UNKNOWN) {
                        undecided.note(`whether ${arn} is a state machine or activity of this stack`);
                        continue;
                    }
                    if (target !== undefined) {
                        if (!target.waits) {
                            reportViolation(
                                `${name} grants ${granted.join(", ")} on ${arn}, ${target.what} of this stack, which has no .waitForTaskToken or activity task: nothing there waits for a token.`,
                                grant.carrier.urn,
                            );
                        }
                        continue;
                    }
                    reportViolation(
                        `${name} grants ${granted.join(", ")} on ${arn}, which is not a state machine or activity of this stack: add it to this policy's allowedStateMachineArns if a principal here answers another stack's tokens.`,
                        grant.carrier.urn,
                    );
                }
            }
            if (!holdsSendTask) {
                continue;
            }
            const own = grant.role.found.find((role) => stateMachineRoles.has(role));
            if (own !== undefined) {
                reportViolation(
                    `${grant.via} gives SendTask permissions to ${describe(own)}, the role of a state machine: a state machine must not answer its own tokens; grant them to the role of whatever does the work.`,
                    grant.carrier.urn,
                );
            } else if (
                grant.role.maybe.length > 0 ||
                grant.role.found.some((role) => maybeStateMachineRoles.has(role))
            ) {
                undecided.note(`whether ${grant.via} is held by a state machine's role`);
            }
        }
        undecided.finish();
    },
};

/** Whether a state machine's definition waits for tokens (assumed so while it is unknown). */
function waitsOf(stateMachine: PolicyResource): boolean {
    const definition = propsOf(stateMachine)["definition"];
    const parsed = definition === UNKNOWN || definition === undefined ? undefined : parseDefinition(definition);
    return parsed === undefined || tokenTasks(parsed).length > 0;
}
