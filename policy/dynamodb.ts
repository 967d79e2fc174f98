/**
 * DynamoDB: tables are encrypted with a KMS key (AWS managed aws/dynamodb or customer managed) rather
 * than the AWS owned default, whose use shows in no CloudTrail log and no key policy
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html); and they keep
 * point-in-time recovery, which restores a table to any second of its recovery period, 35 days by
 * default (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html).
 * Nearest rules: cdk-nag DynamoDBTableEncryptedKMS (NIST/HIPAA packs) and AwsSolutions-DDB3, Checkov
 * CKV_AWS_119 and CKV_AWS_28.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN, type Maybe } from "./lib/unknowns";
import { field, isAbsent, isRecord, readPlainly, show, stringList } from "./lib/values";

type Switch = "on" | "off" | { readonly invalid: string };

/** Whether `props[block].enabled` is true; UNKNOWN when the block or its `enabled` is unknown in preview. */
function enabledIn(props: unknown, block: string): Maybe<Switch> {
    const settings = field(props, block);
    if (settings === UNKNOWN) {
        return UNKNOWN;
    }
    if (isAbsent(settings)) {
        return "off";
    }
    if (!isRecord(settings)) {
        return { invalid: `${block} ${show(settings)} is not valid` };
    }
    const enabled = field(settings, "enabled");
    if (enabled === UNKNOWN) {
        return UNKNOWN;
    }
    if (enabled === true) {
        return "on";
    }
    return isAbsent(enabled) || enabled === false
        ? "off"
        : { invalid: `${block}.enabled ${show(enabled)} is not valid` };
}

/** Reads `props[block].enabled` plainly (it was unknown). */
const readEnabled = (props: unknown, block: string) => () =>
    ((props as Record<string, unknown>)[block] as Record<string, unknown>)["enabled"];

export const dynamodbTableEncryptedWithKms: ResourceValidationPolicy = {
    name: "dynamodb-table-encrypted-with-kms",
    description:
        "Checks that every DynamoDB table is encrypted with a KMS key (serverSideEncryption.enabled: the AWS managed key, or kmsKeyArn), not the AWS owned default; requireCustomerManagedKey asks for kmsKeyArn.",
    enforcementLevel: "advisory",
    configSchema: { properties: { requireCustomerManagedKey: { type: "boolean", default: false } } },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.dynamodbTable) {
            return;
        }
        const { requireCustomerManagedKey } = {
            requireCustomerManagedKey: false,
            ...args.getConfig<{ requireCustomerManagedKey?: boolean }>(),
        };
        const fix = requireCustomerManagedKey
            ? "set serverSideEncryption: {enabled: true, kmsKeyArn: <customer managed key ARN>}"
            : "set serverSideEncryption: {enabled: true} (the AWS managed key aws/dynamodb) or with kmsKeyArn (a customer managed key)";
        const encryption = enabledIn(args.props, "serverSideEncryption");
        if (encryption === UNKNOWN) {
            readPlainly(readEnabled(args.props, "serverSideEncryption"));
            return;
        }
        if (typeof encryption === "object") {
            reportViolation(`${describe(args)}: ${encryption.invalid}: ${fix}.`);
            return;
        }
        if (encryption === "off") {
            reportViolation(
                `${describe(args)} is encrypted only with the AWS owned key (serverSideEncryption not enabled), whose use no CloudTrail log and no key policy shows: ${fix}.`,
            );
            return;
        }
        if (requireCustomerManagedKey) {
            const key = field(field(args.props, "serverSideEncryption"), "kmsKeyArn");
            if (key === UNKNOWN || (typeof key === "string" && key !== "")) {
                return; // an ARN unknown in preview is a key's ARN
            }
            reportViolation(
                isAbsent(key)
                    ? `${describe(args)} is encrypted with the AWS managed key aws/dynamodb, but this policy's requireCustomerManagedKey asks for a customer managed key: ${fix}.`
                    : `${describe(args)}: serverSideEncryption.kmsKeyArn ${show(key)} is not valid: ${fix}.`,
            );
        }
    },
};

export const dynamodbTablePointInTimeRecovery: ResourceValidationPolicy = {
    name: "dynamodb-table-point-in-time-recovery",
    description:
        "Checks that every DynamoDB table has point-in-time recovery on (pointInTimeRecovery.enabled), but those listed in exemptTables.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            exemptTables: {
                type: "array",
                items: { type: "string" },
                default: [],
                description:
                    "Tables that need no point-in-time recovery (a dev stack's, a cache): logical names of aws.dynamodb.Table resources, or table names.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.dynamodbTable) {
            return;
        }
        const config = { exemptTables: [] as string[], ...args.getConfig<{ exemptTables?: string[] }>() };
        const exempt = stringList(config.exemptTables);
        if (exempt.includes(args.name)) {
            return;
        }
        const recovery = enabledIn(args.props, "pointInTimeRecovery");
        if (recovery === "on") {
            return;
        }
        const tableName = field(args.props, "name");
        if (typeof tableName === "string" && exempt.includes(tableName)) {
            return;
        }
        if (recovery === UNKNOWN) {
            readPlainly(readEnabled(args.props, "pointInTimeRecovery"));
            return;
        }
        if (tableName === UNKNOWN && exempt.length > 0) {
            readPlainly(() => (args.props as Record<string, unknown>)["name"]);
            return;
        }
        const fix = `set pointInTimeRecovery: {enabled: true}, or list "${args.name}" in this policy's exemptTables if the table can be lost (a dev stack's)`;
        reportViolation(
            typeof recovery === "object"
                ? `${describe(args)}: ${recovery.invalid}: ${fix}.`
                : `${describe(args)} has no point-in-time recovery, so a bad write or delete cannot be undone: ${fix}.`,
        );
    },
};
