/**
 * IAM: who may answer task tokens (sendtask-least-privilege).
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { callbackTasks, parseDefinition } from "./lib/asl";
import {
    isExactStateMachineArn,
    managedPolicyName,
    MANAGED_POLICIES_GRANTING_SEND_TASK,
    parseDocument,
    SEND_TASK_ACTIONS,
    sendTaskActionsGranted,
    trusts,
    type Statement,
} from "./lib/iam-documents";
import { describe, isSqsSource, ofType, peek, referenced } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN, Undecided, type Maybe } from "./lib/unknowns";

/** Where a policy document is held, and by whom. */
interface Grant {
    /** The resource carrying the document or the attachment, for messages and URNs. */
    readonly carrier: PolicyResource;
    /** How the document is reached, for messages: `RolePolicy "x"`, `Role "r" inline policy "p"`, ... */
    readonly via: string;
    readonly holderKind: "role" | "user" | "group" | "none";
    /** The holding role in this stack, when the holder is one. */
    readonly role: PolicyResource | undefined;
    /** The statements, UNKNOWN in preview, or why they cannot be read. */
    readonly statements: Maybe<Statement[] | string>;
    /** An AWS managed policy attached by ARN, by name. */
    readonly managed?: string;
}

function statementsOf(document: Maybe<unknown>): Maybe<Statement[] | string> {
    return document === UNKNOWN ? UNKNOWN : parseDocument(document);
}

/** Every IAM grant in the stack: inline, standalone and attached policies, managed policies by ARN. */
export function grants(resources: readonly PolicyResource[], undecided: Undecided): Grant[] {
    const roles = ofType(resources, T.role);
    const policies = ofType(resources, T.policy);
    const found: Grant[] = [];
    const roleOf = (carrier: PolicyResource, property: string): PolicyResource | undefined =>
        referenced(carrier, property, roles, undecided)[0];

    for (const rp of ofType(resources, T.rolePolicy)) {
        const role = roleOf(rp, "role");
        const document = undecided.read(() => rp.props["policy"] as unknown);
        found.push({ carrier: rp, via: describe(rp), holderKind: "role", role, statements: statementsOf(document) });
    }
    for (const role of roles) {
        const inline = undecided.read(() => role.props["inlinePolicies"] as unknown);
        if (Array.isArray(inline)) {
            for (const [index, entry] of (inline as Array<{ name?: string; policy?: unknown }>).entries()) {
                const document = undecided.read(() => entry.policy);
                found.push({
                    carrier: role,
                    via: `${describe(role)} inline policy ${JSON.stringify(entry.name ?? index)}`,
                    holderKind: "role",
                    role,
                    statements: statementsOf(document),
                });
            }
        }
        const managed = undecided.read(() => role.props["managedPolicyArns"] as unknown);
        if (Array.isArray(managed)) {
            for (const arn of managed) {
                const name = typeof arn === "string" ? managedPolicyName(arn) : undefined;
                if (name !== undefined) {
                    found.push({
                        carrier: role,
                        via: `${describe(role)} managedPolicyArns`,
                        holderKind: "role",
                        role,
                        statements: [],
                        managed: name,
                    });
                }
            }
        }
    }
    for (const [type, kind, property] of [
        [T.userPolicy, "user", "user"],
        [T.groupPolicy, "group", "group"],
    ] as const) {
        for (const carrier of ofType(resources, type)) {
            const document = undecided.read(() => carrier.props["policy"] as unknown);
            found.push({
                carrier,
                via: `${describe(carrier)} (${kind} ${JSON.stringify(peek(() => carrier.props[property] as unknown))})`,
                holderKind: kind,
                role: undefined,
                statements: statementsOf(document),
            });
        }
    }

    // Standalone policies: checked on their own, and again for every holder they are attached to.
    const attached = new Set<PolicyResource>();
    const attachments: Array<[PolicyResource, "role" | "user" | "group", PolicyResource | undefined]> = [];
    for (const att of ofType(resources, T.rolePolicyAttachment)) {
        attachments.push([att, "role", roleOf(att, "role")]);
    }
    for (const att of ofType(resources, T.userPolicyAttachment)) {
        attachments.push([att, "user", undefined]);
    }
    for (const att of ofType(resources, T.groupPolicyAttachment)) {
        attachments.push([att, "group", undefined]);
    }
    for (const att of ofType(resources, T.policyAttachment)) {
        for (const role of referenced(att, "roles", roles, undecided)) {
            attachments.push([att, "role", role]);
        }
        for (const kind of ["users", "groups"] as const) {
            const holders = undecided.read(() => att.props[kind] as unknown);
            if (Array.isArray(holders) && holders.length > 0) {
                attachments.push([att, kind === "users" ? "user" : "group", undefined]);
            }
        }
    }
    for (const [att, kind, role] of attachments) {
        const arn = undecided.read(() => att.props["policyArn"] as unknown);
        const managed = typeof arn === "string" ? managedPolicyName(arn) : undefined;
        if (managed !== undefined) {
            found.push({ carrier: att, via: describe(att), holderKind: kind, role, statements: [], managed });
            continue;
        }
        for (const policy of referenced(att, "policyArn", policies, undecided)) {
            attached.add(policy);
            const document = undecided.read(() => policy.props["policy"] as unknown);
            found.push({
                carrier: att,
                via: `${describe(policy)} attached by ${describe(att)}`,
                holderKind: kind,
                role,
                statements: statementsOf(document),
            });
        }
    }
    for (const policy of policies.filter((p) => !attached.has(p))) {
        const document = undecided.read(() => policy.props["policy"] as unknown);
        found.push({
            carrier: policy,
            via: describe(policy),
            holderKind: "none",
            role: undefined,
            statements: statementsOf(document),
        });
    }
    return found;
}

const ALLOWED_ACTIONS = SEND_TASK_ACTIONS.map((a) => a.toLowerCase());
const ALLOWED = SEND_TASK_ACTIONS.join(", ");

export const sendTaskLeastPrivilege: StackValidationPolicy = {
    name: "sendtask-least-privilege",
    description:
        "Checks that states:SendTaskSuccess/Failure/Heartbeat are granted only as those three actions, on exact ARNs of this stack's callback state machines, to the role of a Lambda worker triggered by SQS, and never to a state machine's own role.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedStateMachineArns: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "State machines of other stacks whose tokens a worker in this stack may answer.",
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
        const stateMachineRoles = new Set(stateMachines.flatMap((sm) => referenced(sm, "roleArn", roles, undecided)));
        const queues = ofType(resources, T.queue);
        const sqsTriggered = new Set(
            ofType(resources, T.eventSourceMapping)
                .filter((m) => isSqsSource(m, queues, undecided))
                .flatMap((m) => referenced(m, "functionName", ofType(resources, T.lambdaFunction), undecided)),
        );
        const workerRoles = new Set([...sqsTriggered].flatMap((fn) => referenced(fn, "role", roles, undecided)));
        // State machines of this stack by ARN, each with whether it waits for tokens (assumed so while its
        // definition is unknown). A machine whose ARN is unknown (preview) may be the one an ARN names.
        const callbackMachines = new Map<string, boolean>();
        const unknownArns: PolicyResource[] = [];
        for (const sm of stateMachines) {
            const arn = peek(() => sm.props["arn"] as unknown);
            const definition = peek(() => sm.props["definition"] as unknown);
            if (typeof arn === "string") {
                const parsed = definition === UNKNOWN ? undefined : parseDefinition(definition);
                callbackMachines.set(arn, parsed === undefined || callbackTasks(parsed).length > 0);
            } else if (arn === UNKNOWN) {
                unknownArns.push(sm);
            }
        }

        for (const grant of grants(resources, undecided)) {
            const holder = grant.role ? describe(grant.role) : grant.holderKind;
            if (grant.managed !== undefined) {
                const grantsWhat = MANAGED_POLICIES_GRANTING_SEND_TASK[grant.managed];
                if (grantsWhat !== undefined) {
                    reportViolation(
                        `${grant.via} attaches the AWS managed policy ${grant.managed}, which grants ${grantsWhat} and so ${ALLOWED} on every state machine: grant only those three actions on your state machine's ARN, in an inline policy of the worker's role.`,
                        grant.carrier.urn,
                    );
                }
                continue;
            }
            if (grant.statements === UNKNOWN) {
                continue;
            }
            if (typeof grant.statements === "string") {
                reportViolation(`${grant.via}: ${grant.statements}.`, grant.carrier.urn);
                continue;
            }
            let holdsSendTask = false;
            for (const [index, statement] of grant.statements.entries()) {
                const granted = sendTaskActionsGranted(statement);
                if (granted.length === 0) {
                    continue;
                }
                holdsSendTask = true;
                const name = `${grant.via} statement ${JSON.stringify(statement.sid ?? index)}`;
                const extra =
                    statement.actions === undefined
                        ? [`NotAction ${JSON.stringify(statement.notActions)}`]
                        : statement.actions.filter((a) => !ALLOWED_ACTIONS.includes(a.toLowerCase()));
                if (extra.length > 0) {
                    reportViolation(
                        `${name} grants ${granted.join(", ")} through ${extra.map((a) => JSON.stringify(a)).join(", ")}: a statement that allows SendTask must name only ${ALLOWED}.`,
                        grant.carrier.urn,
                    );
                }
                const resourcesNamed = statement.resources ?? [];
                const inexact =
                    statement.resources === undefined
                        ? [`NotResource ${JSON.stringify(statement.notResources)}`]
                        : resourcesNamed.filter((r) => !isExactStateMachineArn(r));
                if (inexact.length > 0) {
                    reportViolation(
                        `${name} grants ${granted.join(", ")} on ${inexact.map((r) => JSON.stringify(r)).join(", ")}: the resources must be exact state machine ARNs (arn:<partition>:states:<region>:<account>:stateMachine:<name>, no wildcard).`,
                        grant.carrier.urn,
                    );
                }
                if (grant.holderKind === "none") {
                    continue;
                }
                for (const arn of resourcesNamed.filter(isExactStateMachineArn)) {
                    const inStack = callbackMachines.get(arn);
                    if (inStack === false) {
                        reportViolation(
                            `${name} grants ${granted.join(", ")} on ${arn}, a state machine of this stack with no .waitForTaskToken task: nothing there waits for a token.`,
                            grant.carrier.urn,
                        );
                    } else if (inStack === undefined && !allowedStateMachineArns.includes(arn)) {
                        if (unknownArns.length > 0) {
                            undecided.read(() => unknownArns[0]?.props["arn"] as unknown);
                            continue;
                        }
                        reportViolation(
                            `${name} grants ${granted.join(", ")} on ${arn}, which is not a state machine of this stack: add it to this policy's allowedStateMachineArns if a worker here answers another stack's tokens.`,
                            grant.carrier.urn,
                        );
                    }
                }
            }
            if (!holdsSendTask || grant.holderKind === "none") {
                continue;
            }
            if (grant.holderKind !== "role") {
                reportViolation(
                    `${grant.via} gives SendTask permissions to a ${grant.holderKind}: only the role of the Lambda worker that the queue triggers may answer task tokens.`,
                    grant.carrier.urn,
                );
            } else if (grant.role !== undefined && stateMachineRoles.has(grant.role)) {
                reportViolation(
                    `${grant.via} gives SendTask permissions to ${holder}, the role of a state machine: a state machine must not answer its own tokens; grant them to the worker's role only.`,
                    grant.carrier.urn,
                );
            } else if (grant.role !== undefined) {
                const assumeRole = peek(() => grant.role?.props["assumeRolePolicy"] as unknown);
                const lambdaAssumes = assumeRole === UNKNOWN || trusts(assumeRole, "lambda.amazonaws.com");
                if (!lambdaAssumes || !workerRoles.has(grant.role)) {
                    const reason = !lambdaAssumes
                        ? "which Lambda cannot assume"
                        : "which no SQS-triggered Lambda function in this stack uses";
                    reportViolation(
                        `${grant.via} gives SendTask permissions to ${holder}, ${reason}: only the role of the Lambda worker that an SQS event source mapping triggers may answer task tokens.`,
                        grant.carrier.urn,
                    );
                }
            }
        }
        undecided.finish();
    },
};
