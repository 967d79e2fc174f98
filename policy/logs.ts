/** CloudWatch Logs: every log group has a retention. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe } from "./lib/stack";
import { T } from "./lib/types";

export const logGroupRetention: ResourceValidationPolicy = {
    name: "log-group-retention",
    description:
        "Checks that every CloudWatch log group sets a retention within the configured range (logs never expire otherwise).",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            minimumDays: { type: "integer", minimum: 1, default: 1 },
            maximumDays: { type: "integer", minimum: 1, default: 3653 },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.logGroup) {
            return;
        }
        const config = {
            minimumDays: 1,
            maximumDays: 3653,
            ...args.getConfig<{ minimumDays?: number; maximumDays?: number }>(),
        };
        const days = (args.props as { retentionInDays?: number }).retentionInDays;
        if (days === undefined || days === 0) {
            reportViolation(
                `${describe(args)} keeps logs forever: set retentionInDays from ${config.minimumDays} to ${config.maximumDays}.`,
            );
        } else if (days < config.minimumDays || days > config.maximumDays) {
            reportViolation(
                `${describe(args)}: retentionInDays must be from ${config.minimumDays} to ${config.maximumDays} (got ${days}).`,
            );
        }
    },
};
