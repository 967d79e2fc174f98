/**
 * Every policy of the pack, in one list, importable without constructing the pack (constructing a
 * PolicyPack starts the analyzer's gRPC server).
 */
import type { Policies } from "@pulumi/policy";
import { sendTaskLeastPrivilege } from "./iam";
import { iamNoWildcards } from "./iam-wildcards";
import { lambdaRuntimeSupported, sqsVisibilityCoversWorker } from "./lambda";
import { logGroupRetention } from "./logs";
import { snsEncryptedOrTlsOnly } from "./sns";
import { sqsEncrypted, sqsQueueHasDlq, sqsTlsOnly } from "./sqs";
import {
    callbackNeedsStandardWorkflow,
    callbackTaskHasTimeout,
    stateMachineDefinitionValid,
    stateMachineLogging,
    stateMachineTracing,
} from "./stepfunctions";

export const POLICY_PACK_NAME = "callback-guardrails";

export const policies: Policies = [
    // Mandatory by default.
    sqsQueueHasDlq,
    sendTaskLeastPrivilege,
    callbackTaskHasTimeout,
    callbackNeedsStandardWorkflow,
    stateMachineDefinitionValid,
    sqsVisibilityCoversWorker,
    // Advisory by default.
    sqsEncrypted,
    sqsTlsOnly,
    snsEncryptedOrTlsOnly,
    stateMachineLogging,
    stateMachineTracing,
    lambdaRuntimeSupported,
    logGroupRetention,
    iamNoWildcards,
];
