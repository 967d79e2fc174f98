/**
 * KMS: customer managed keys that AWS KMS can rotate do rotate. Automatic rotation exists only for
 * symmetric encryption keys whose key material AWS KMS generates; asymmetric keys, HMAC keys, keys in
 * custom key stores (CloudHSM or external) and keys with imported material cannot rotate automatically,
 * and a multi-Region key rotates through its primary key
 * (https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html). Keys with imported material
 * are aws.kms.ExternalKey resources and replicas aws.kms.ReplicaKey, which this policy does not read.
 * Nearest rules: cdk-nag AwsSolutions-KMS5, Checkov CKV_AWS_7.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN } from "./lib/unknowns";
import { field, isAbsent, readPlainly, show } from "./lib/values";

/** The key usages of KMS (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html). */
const KEY_USAGES = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"];

export const kmsKeyRotation: ResourceValidationPolicy = {
    name: "kms-key-rotation",
    description:
        "Checks that every symmetric encryption KMS key in AWS KMS's own key store has automatic rotation on (enableKeyRotation: true); asymmetric, HMAC and custom key store keys cannot rotate and are exempt.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.kmsKey) {
            return;
        }
        const props: unknown = args.props;
        const read = (key: string) => () => (args.props as Record<string, unknown>)[key];
        const rotation = field(props, "enableKeyRotation");
        if (rotation === true) {
            return;
        }
        // In a custom key store (an ID unknown in preview is an ID): cannot rotate automatically.
        if (!isAbsent(field(props, "customKeyStoreId")) || !isAbsent(field(props, "xksKeyId"))) {
            return;
        }
        const usage = field(props, "keyUsage");
        const specKey = isAbsent(field(props, "customerMasterKeySpec")) ? "keySpec" : "customerMasterKeySpec";
        const spec = field(props, specKey);
        if (usage !== UNKNOWN && !isAbsent(usage) && (typeof usage !== "string" || !KEY_USAGES.includes(usage))) {
            reportViolation(
                `${describe(args)}: keyUsage ${show(usage)} is not valid: it must be one of ${KEY_USAGES.join(", ")} (default ENCRYPT_DECRYPT).`,
            );
            return;
        }
        if (spec !== UNKNOWN && !isAbsent(spec) && typeof spec !== "string") {
            reportViolation(
                `${describe(args)}: ${specKey} ${show(spec)} is not valid: it must be a key spec such as SYMMETRIC_DEFAULT (the default), RSA_2048 or HMAC_256.`,
            );
            return;
        }
        // Known to be asymmetric or HMAC: exempt, whatever else is unknown.
        if (
            (typeof usage === "string" && usage !== "ENCRYPT_DECRYPT") ||
            (typeof spec === "string" && spec !== "SYMMETRIC_DEFAULT")
        ) {
            return;
        }
        if (usage === UNKNOWN || spec === UNKNOWN) {
            readPlainly(usage === UNKNOWN ? read("keyUsage") : read(specKey));
            return;
        }
        if (rotation === UNKNOWN) {
            readPlainly(read("enableKeyRotation"));
            return;
        }
        if (!isAbsent(rotation) && rotation !== false) {
            reportViolation(
                `${describe(args)}: enableKeyRotation ${show(rotation)} is not valid: set enableKeyRotation: true (a boolean).`,
            );
            return;
        }
        reportViolation(
            `${describe(args)} is a symmetric encryption key without automatic rotation (enableKeyRotation ${show(rotation ?? false)}): set enableKeyRotation: true (KMS then rotates its key material every rotationPeriodInDays, 365 by default, and keeps the old material to decrypt).`,
        );
    },
};
