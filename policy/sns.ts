/** SNS: topics are encrypted with KMS or refuse publishing without TLS. */
import { describe, isSet } from "./lib/stack";
import { tlsOnlyStack } from "./lib/tls";
import { T } from "./lib/types";

export const snsEncryptedOrTlsOnly = tlsOnlyStack({
    name: "sns-encrypted-or-tls-only",
    description:
        "Checks that every SNS topic is encrypted with a KMS key or has a topic policy denying sns:Publish without TLS.",
    type: T.topic,
    policyType: T.topicPolicy,
    referenceProperty: "arn",
    action: "sns:Publish",
    alternative: (topic) => isSet(topic, (props) => props["kmsMasterKeyId"]),
    message: (topic) =>
        `${describe(topic)} is neither encrypted nor TLS only: set kmsMasterKeyId (e.g. "alias/aws/sns"), or a topic policy statement {Effect: Deny, Principal: "*", Action: "sns:Publish", Condition: {Bool: {"aws:SecureTransport": "false"}}}.`,
});
