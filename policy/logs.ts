/** CloudWatch Logs: every log group has a retention. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_LIMITS } from "../components/limits";
import { describe } from "./lib/stack";

const DAYS = { min: Math.min(...AWS_LIMITS.logRetentionDays), max: Math.max(...AWS_LIMITS.logRetentionDays) };
import { T } from "./lib/types";

export const logGroupRetention: ResourceValidationPolicy = {
    name: "log-group-retention",
    description:
        "Checks that every CloudWatch log group sets a retention within the configured range (logs never expire otherwise).",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            minimumDays: { type: "integer", minimum: 1, default: DAYS.min },
            maximumDays: { type: "integer", minimum: 1, default: DAYS.max },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.logGroup) {
            return;
        }
        const config = {
            minimumDays: DAYS.min,
            maximumDays: DAYS.max,
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
