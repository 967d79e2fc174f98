/**
 * TLS-only resource policies, shared by the SQS and SNS policies: a resource counts as TLS only when a
 * resource policy (its own `policy`, or a separate policy resource that refers to it) denies the action
 * to everyone when `aws:SecureTransport` is false.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { actionMatches, parseDocument, type Statement } from "./iam-documents";
import { describe, ofType, propsOf, referencedAt } from "./stack";
import { containsUnknown, UNKNOWN, Undecided, type Maybe } from "./unknowns";

/** The values a condition gives `key` under `operator`; condition keys are case-insensitive in IAM. */
export function conditionValues(statement: Statement, operator: string, key: string): unknown[] {
    const block = statement.condition?.[operator];
    if (typeof block !== "object" || block === null) {
        return [];
    }
    return Object.entries(block).flatMap(([k, v]) =>
        k.toLowerCase() === key.toLowerCase() ? (Array.isArray(v) ? (v as unknown[]) : [v]) : [],
    );
}

/** True when a principal is everyone: `"*"`, `{AWS: "*"}` or `{AWS: ["*"]}`. */
export function isEveryone(principal: unknown): boolean {
    if (principal === "*") {
        return true;
    }
    if (typeof principal !== "object" || principal === null) {
        return false;
    }
    const aws = (principal as { AWS?: unknown }).AWS;
    return aws === "*" || (Array.isArray(aws) && aws.includes("*"));
}

/**
 * True when a resource policy denies `action` to everyone without TLS (`aws:SecureTransport` false,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport).
 */
export function deniesInsecureTransport(statements: readonly Statement[], action: string): boolean {
    return statements.some((statement) => {
        const secure = [
            ...conditionValues(statement, "Bool", "aws:SecureTransport"),
            ...conditionValues(statement, "BoolIfExists", "aws:SecureTransport"),
        ];
        const covers = (statement.actions ?? []).some((pattern) => actionMatches(pattern, action));
        return (
            statement.effect === "Deny" &&
            isEveryone(statement.principal) &&
            covers &&
            secure.length > 0 &&
            secure.every((value) => String(value).toLowerCase() === "false")
        );
    });
}

/**
 * For each resource of `type`, whether some resource policy (its own `policyProperty`, or a policy
 * resource of `policyType` referring to it through `referenceProperty`) denies `action` without TLS.
 */
export function tlsOnlyStack(options: {
    readonly name: string;
    readonly description: string;
    readonly type: string;
    readonly policyType: string;
    readonly referenceProperty: string;
    readonly action: string;
    readonly alternative?: (resource: PolicyResource) => Maybe<boolean>;
    readonly message: (resource: PolicyResource) => string;
}): StackValidationPolicy {
    return {
        name: options.name,
        description: options.description,
        enforcementLevel: "advisory",
        validateStack: (args, reportViolation) => {
            const undecided = new Undecided();
            const targets = ofType(args.resources, options.type);
            /** Documents by target; `maybe` marks a policy resource that may be the target's. */
            const documents = new Map<PolicyResource, Array<{ document: unknown; maybe: boolean }>>(
                targets.map((t) => [t, []]),
            );
            for (const target of targets) {
                const own = propsOf(target)["policy"];
                if (own !== undefined && own !== null && own !== "") {
                    documents.get(target)?.push({ document: own, maybe: false });
                }
            }
            for (const policy of ofType(args.resources, options.policyType)) {
                const document = propsOf(policy)["policy"];
                const reference = referencedAt(policy, [options.referenceProperty], targets);
                reference.found.forEach((t) => documents.get(t)?.push({ document, maybe: false }));
                reference.maybe.forEach((t) => documents.get(t)?.push({ document, maybe: true }));
            }
            for (const [target, docs] of documents) {
                const alternative = options.alternative?.(target);
                if (alternative === true) {
                    continue;
                }
                const denies = docs.some(({ document, maybe }) => {
                    const statements = parseDocument(document);
                    return (
                        !maybe && typeof statements !== "string" && deniesInsecureTransport(statements, options.action)
                    );
                });
                if (denies) {
                    continue;
                }
                const open = docs.some(
                    ({ document, maybe }) => maybe || containsUnknown(document) || document === UNKNOWN,
                );
                if (open || alternative === UNKNOWN) {
                    undecided.note(`the resource policies of ${describe(target)}`);
                    continue;
                }
                reportViolation(options.message(target), target.urn);
            }
            undecided.finish();
        },
    };
}
