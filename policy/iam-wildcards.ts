/** IAM: where wildcards are acceptable (iam-no-wildcards). */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { LOG_DELIVERY_ACTIONS, XRAY_ACTIONS } from "../components/iam";
import { parseDocument } from "./lib/iam-documents";
import { describe } from "./lib/stack";
import { T } from "./lib/types";

/**
 * Actions that AWS requires on `*` (no resource-level permissions): a state machine's log delivery and
 * X-Ray, the same lists the component grants (bundled into the pack from components/iam.ts).
 */
export const WILDCARD_RESOURCE_EXCEPTIONS: readonly string[] = [...LOG_DELIVERY_ACTIONS, ...XRAY_ACTIONS];

const DOCUMENT_CARRIERS: ReadonlySet<string> = new Set([T.rolePolicy, T.policy, T.userPolicy, T.groupPolicy]);

export const iamNoWildcards: ResourceValidationPolicy = {
    name: "iam-no-wildcards",
    description:
        'Checks that IAM policies allow no wildcard actions, no NotAction, and "*" resources only for the actions AWS requires there (log delivery, X-Ray).',
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            allowedOnAnyResource: {
                type: "array",
                items: { type: "string" },
                default: [...WILDCARD_RESOURCE_EXCEPTIONS],
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const { allowedOnAnyResource } = {
            allowedOnAnyResource: [...WILDCARD_RESOURCE_EXCEPTIONS] as string[],
            ...args.getConfig<{ allowedOnAnyResource?: string[] }>(),
        };
        const documents: Array<[string, unknown]> = [];
        if (DOCUMENT_CARRIERS.has(args.type)) {
            documents.push([describe(args), (args.props as { policy?: unknown }).policy]);
        } else if (args.type === T.role) {
            const inline =
                (args.props as { inlinePolicies?: Array<{ name?: string; policy?: unknown }> }).inlinePolicies ?? [];
            inline.forEach((entry, index) =>
                documents.push([
                    `${describe(args)} inline policy ${JSON.stringify(entry.name ?? index)}`,
                    entry.policy,
                ]),
            );
        }
        const allowed = allowedOnAnyResource.map((a) => a.toLowerCase());
        for (const [where, document] of documents) {
            const statements = parseDocument(document);
            if (typeof statements === "string") {
                continue;
            }
            statements.forEach((statement, index) => {
                if (statement.effect !== "Allow") {
                    return;
                }
                const name = `${where} statement ${JSON.stringify(statement.sid ?? index)}`;
                if (statement.actions === undefined) {
                    reportViolation(
                        `${name} allows everything but ${JSON.stringify(statement.notActions)} (NotAction): list the actions it needs.`,
                    );
                    return;
                }
                const wildcards = statement.actions.filter((a) => a.includes("*") || a.includes("?"));
                if (wildcards.length > 0) {
                    reportViolation(
                        `${name} allows wildcard actions ${wildcards.map((a) => JSON.stringify(a)).join(", ")}: list the actions it needs.`,
                    );
                }
                if ((statement.resources ?? []).includes("*")) {
                    const notExcepted = statement.actions.filter((a) => !allowed.includes(a.toLowerCase()));
                    if (notExcepted.length > 0) {
                        reportViolation(
                            `${name} allows ${notExcepted.map((a) => JSON.stringify(a)).join(", ")} on "*": name the resources. Only ${allowedOnAnyResource.join(", ")} may use "*" (AWS requires it for log delivery and X-Ray).`,
                        );
                    }
                }
            });
        }
    },
};
