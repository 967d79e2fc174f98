/**
 * TLS-only resource policies, shared by the SQS and SNS policies: a resource counts as TLS only when a
 * resource policy (its own `policy`, or a separate policy resource that refers to it) denies the action
 * to everyone when `aws:SecureTransport` is false.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { actionMatches, parseDocument, type Statement } from "./iam-documents";
import { ofType, referenced } from "./stack";
import { UNKNOWN, Undecided, type Maybe } from "./unknowns";

/** True when a resource policy denies `action` to everyone without TLS (`aws:SecureTransport` false). */
export function deniesInsecureTransport(statements: readonly Statement[], action: string): boolean {
    return statements.some((statement) => {
        const secure =
            statement.condition?.["Bool"]?.["aws:SecureTransport"] ??
            statement.condition?.["BoolIfExists"]?.["aws:SecureTransport"];
        const principal = statement.principal as { AWS?: unknown } | string | undefined;
        const everyone = principal === "*" || (typeof principal === "object" && principal.AWS === "*");
        const covers = (statement.actions ?? []).some((pattern) => actionMatches(pattern, action));
        return statement.effect === "Deny" && everyone && covers && String(secure) === "false";
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
    readonly alternative?: (resource: PolicyResource, undecided: Undecided) => Maybe<boolean>;
    readonly message: (resource: PolicyResource) => string;
}): StackValidationPolicy {
    return {
        name: options.name,
        description: options.description,
        enforcementLevel: "advisory",
        validateStack: (args, reportViolation) => {
            const undecided = new Undecided();
            const targets = ofType(args.resources, options.type);
            const documents = new Map<PolicyResource, unknown[]>(targets.map((t) => [t, []]));
            for (const target of targets) {
                const own = undecided.read(() => target.props["policy"] as unknown);
                if (own !== undefined && own !== "") {
                    documents.get(target)?.push(own);
                }
            }
            for (const policy of ofType(args.resources, options.policyType)) {
                const document = undecided.read(() => policy.props["policy"] as unknown);
                for (const target of referenced(policy, options.referenceProperty, targets, undecided)) {
                    documents.get(target)?.push(document);
                }
            }
            for (const [target, docs] of documents) {
                const alternative = options.alternative?.(target, undecided);
                if (alternative === true) {
                    continue;
                }
                if (docs.includes(UNKNOWN) || alternative === UNKNOWN) {
                    continue;
                }
                const denies = docs.some((doc) => {
                    const statements = parseDocument(doc);
                    return typeof statements !== "string" && deniesInsecureTransport(statements, options.action);
                });
                if (!denies) {
                    reportViolation(options.message(target), target.urn);
                }
            }
            undecided.finish();
        },
    };
}
