/**
 * Every policy of the pack, in one list, importable without constructing the pack (constructing a
 * PolicyPack starts the analyzer's gRPC server).
 */
import type {
    Policies,
    Policy,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy/proxy";
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

/** The start of the violation a policy reports when it fails on input it did not foresee. */
export const POLICY_FAILURE = "could not judge this input";

/**
 * The policy as the pack runs it: an exception other than the engine's UnknownValueError (which the
 * framework reports as "can't run policy ... during preview") becomes a violation that names the
 * policy, the resource and the error, at the policy's level, instead of failing the whole preview. The
 * policies are written not to throw on any input (the fuzz test feeds them malformed documents); this
 * is the last line, so that a mistake of ours is a readable finding and never an engine error.
 */
export function guarded<P extends Policy>(policy: P): P {
    const failure = (error: unknown, where: string): string =>
        `${policy.name} ${POLICY_FAILURE}${where}: ${error instanceof Error ? error.message : String(error)}. Please report this as a bug of the ${POLICY_PACK_NAME} pack.`;
    /** Runs `validate` with `args` whose notApplicable is watched: its exception, and unknowns, go through. */
    const run = async <A extends { notApplicable: (reason?: string) => never }>(
        args: A,
        validate: (args: A) => unknown,
        onFailure: (error: unknown) => void,
    ): Promise<void> => {
        let declined = false;
        const watched = {
            ...args,
            notApplicable: (reason?: string): never => {
                declined = true;
                return args.notApplicable(reason);
            },
        };
        try {
            await validate(watched);
        } catch (error) {
            if (declined || error instanceof UnknownValueError) {
                throw error;
            }
            onFailure(error);
        }
    };
    if ("validateStack" in policy && policy.validateStack !== undefined) {
        const stack = policy as unknown as StackValidationPolicy;
        const validateStack = stack.validateStack;
        return {
            ...policy,
            validateStack: (args: StackValidationArgs, report: ReportViolation) =>
                run(
                    args,
                    (watched) => validateStack(watched, report),
                    (error) => report(failure(error, "")),
                ),
        };
    }
    const resource = policy as unknown as ResourceValidationPolicy;
    const validations = resource.validateResource === undefined ? [] : [resource.validateResource].flat();
    return {
        ...policy,
        validateResource: validations.map(
            (validate): NonNullable<ResourceValidationPolicy["validateResource"]> =>
                (args, report) =>
                    run(
                        args,
                        (watched) => validate(watched, report),
                        (error) => report(failure(error, ` for ${String(args.type)} "${String(args.name)}"`)),
                    ),
        ),
    };
}

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
].map(guarded);
