/**
 * Every policy of the pack, in one list, importable without constructing the pack (constructing a
 * PolicyPack starts the analyzer's gRPC server).
 */
import type { Policies } from "@pulumi/policy";
import { httpApiAccessLogs, httpApiThrottled } from "./apigateway";
import { dynamodbTableEncryptedWithKms, dynamodbTablePointInTimeRecovery } from "./dynamodb";
import { sendTaskLeastPrivilege } from "./iam";
import { iamNoWildcards } from "./iam-wildcards";
import { lambdaRuntimeSupported, sqsVisibilityCoversWorker } from "./lambda";
import { kmsKeyRotation } from "./kms";
import { lambdaFunctionUrlAuth } from "./lambda-urls";
import { logGroupRetention } from "./logs";
import { snsEncryptedOrTlsOnly } from "./sns";
import { snsSubscriptionHasDlq } from "./sns-subscriptions";
import { sqsEncrypted, sqsQueueHasDlq, sqsTlsOnly } from "./sqs";
import {
    callbackNeedsStandardWorkflow,
    callbackTaskHasTimeout,
    stateMachineDefinitionValid,
    stateMachineLogging,
    stateMachineTracing,
} from "./stepfunctions";
import { stateMachineLogsAllEvents } from "./stepfunctions-logs";

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
    snsSubscriptionHasDlq,
    lambdaFunctionUrlAuth,
    kmsKeyRotation,
    stateMachineLogsAllEvents,
    dynamodbTableEncryptedWithKms,
    dynamodbTablePointInTimeRecovery,
    httpApiThrottled,
    httpApiAccessLogs,
];
