/**
 * CallbackWorkflow: the Step Functions wait-for-callback pattern with production defaults, as one
 * Pulumi component. The class only wires resources; documents, the definition and defaults are pure
 * functions in `iam.ts`, `definition.ts` and `settings.ts`.
 */
// Service modules rather than the package root: the root's type declarations cover every AWS service
// and double the project's type-check time.
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import { getRegionOutput } from "@pulumi/aws/getRegion";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as lambda from "@pulumi/aws/lambda";
import * as sfn from "@pulumi/aws/sfn";
import * as sns from "@pulumi/aws/sns";
import * as sqs from "@pulumi/aws/sqs";
import * as pulumi from "@pulumi/pulumi";
import { renderDefinition } from "./asl";
import { BUNDLE_HANDLER, bundleWorkerOnce, type LambdaRuntime } from "./bundle";
import { callbackDefinition } from "./definition";
import { callTimeoutMsFor, queueAgeAlarmSeconds, workerHeartbeatInterval } from "./limits";
import {
    assumeRolePolicy,
    denyInsecureTransport,
    logDeliveryKeyStatement,
    policyDocument,
    renderPolicy,
    stateMachineKeyStatement,
    stateMachineServiceStatements,
    workerStatements,
    workflowKeyPolicy,
    type PolicyStatement,
} from "./iam";
import { argProblems, resolveArgs, type CallbackWorkflowArgs, type ResolvedArgs } from "./settings";

export type { CallbackWorkflowArgs } from "./settings";

/** The component's type token (`<package>:<module>:<type>`); never rename it without an alias. */
export const CALLBACK_WORKFLOW_TYPE = "callback:index:CallbackWorkflow";

/** The worker's code: the bundle of its entry, as an archive of `index.mjs` and its source map. */
function workerCode(entry: string | undefined, runtime: LambdaRuntime): Promise<pulumi.asset.AssetArchive> {
    return bundleWorkerOnce({ ...(entry !== undefined ? { entry } : {}), runtime }).then(
        (bundle) =>
            new pulumi.asset.AssetArchive(
                Object.fromEntries([...bundle.files].map(([name, text]) => [name, new pulumi.asset.StringAsset(text)])),
            ),
    );
}

/** Throws one error listing every invalid argument (`pulumi.InputPropertiesError`, as pulumi-eks does). */
/**
 * The longest name a workflow may have: its children are autonamed from it, and the longest,
 * `<name>-worker-role-<7 hex>`, must fit IAM's 64 characters for a role name.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
export const MAX_NAME_LENGTH = 64 - "-worker-role".length - "-0123456".length;

function validate(name: string, args: CallbackWorkflowArgs): ResolvedArgs {
    const problems = [
        ...(/^[A-Za-z0-9_-]+$/.test(name) && name.length <= MAX_NAME_LENGTH
            ? []
            : [
                  {
                      key: "name",
                      reason: `must be 1 to ${MAX_NAME_LENGTH} letters, digits, hyphens or underscores: the names of its resources are built from it (the longest, "${name}-worker-role-" and 7 characters, must fit IAM's 64; SQS queue names take no other characters) (got ${JSON.stringify(name)}, ${name.length} characters).`,
                  },
              ]),
        ...argProblems(args),
    ];
    if (problems.length > 0) {
        throw new pulumi.InputPropertiesError({
            message: `Invalid arguments for CallbackWorkflow "${name}":\n${problems.map((p) => `- \`${p.key}\` ${p.reason}`).join("\n")}`,
            errors: problems.map((p) => ({ propertyPath: p.key, reason: p.reason })),
        });
    }
    return resolveArgs(args);
}

export class CallbackWorkflow extends pulumi.ComponentResource {
    public readonly stateMachineArn: pulumi.Output<string>;
    public readonly stateMachineName: pulumi.Output<string>;
    public readonly queueUrl: pulumi.Output<string>;
    public readonly queueArn: pulumi.Output<string>;
    public readonly dlqUrl: pulumi.Output<string>;
    public readonly dlqArn: pulumi.Output<string>;
    public readonly topicArn: pulumi.Output<string>;
    public readonly workerName: pulumi.Output<string>;
    public readonly workerArn: pulumi.Output<string>;
    public readonly workerLogGroupName: pulumi.Output<string>;
    public readonly stateMachineLogGroupName: pulumi.Output<string>;
    /** Where alarms go; undefined when alarms are off. */
    public readonly alarmTopicArn: pulumi.Output<string> | undefined;
    /** The customer managed key of the queues and topic, when there is one. */
    public readonly kmsKeyArn: pulumi.Output<string> | undefined;

    constructor(name: string, args: CallbackWorkflowArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        // Validated before anything is registered: a bad argument leaves no half-made component behind.
        const settings = validate(name, args);
        super(CALLBACK_WORKFLOW_TYPE, name, {}, opts);
        const parent = { parent: this };
        const tags = { ...settings.tags, "callback-workflow": name };
        const partition = getPartitionOutput({}, parent).partition;
        const accountId = getCallerIdentityOutput({}, parent).accountId;

        // Encryption: SQS-managed SSE and AWS-managed keys by default, or one customer key for everything that
        // holds task data: the queues, the topics, the log groups and the state machine.
        const key =
            settings.kmsKey === "create"
                ? new kms.Key(
                      `${name}-key`,
                      {
                          description: `Encrypts the queues, topics, log groups and state machine of callback workflow ${name}.`,
                          enableKeyRotation: true,
                          deletionWindowInDays: 30,
                          policy: renderPolicy(
                              workflowKeyPolicy({
                                  partition,
                                  region: getRegionOutput({}, parent).region,
                                  accountId,
                                  name,
                              }),
                          ),
                          tags,
                      },
                      parent,
                  )
                : undefined;
        const kmsKeyArn: pulumi.Input<string> | undefined = key?.arn ?? settings.kmsKey;
        const queueEncryption =
            kmsKeyArn !== undefined
                ? { kmsMasterKeyId: kmsKeyArn, kmsDataKeyReusePeriodSeconds: 300 }
                : { sqsManagedSseEnabled: true };

        // Queues: the DLQ outlives the work queue; the work queue's visibility covers 6 worker timeouts.
        const dlq = new sqs.Queue(
            `${name}-dlq`,
            { ...queueEncryption, messageRetentionSeconds: settings.dlqRetentionSeconds, tags },
            parent,
        );
        const queue = new sqs.Queue(
            `${name}-queue`,
            {
                ...queueEncryption,
                visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
                messageRetentionSeconds: settings.queueRetentionSeconds,
                redrivePolicy: pulumi.jsonStringify({
                    deadLetterTargetArn: dlq.arn,
                    maxReceiveCount: settings.maxReceiveCount,
                }),
                tags,
            },
            parent,
        );
        new sqs.RedriveAllowPolicy(
            `${name}-dlq-redrive-allow`,
            {
                queueUrl: dlq.url,
                redriveAllowPolicy: pulumi.jsonStringify({
                    redrivePermission: "byQueue",
                    sourceQueueArns: [queue.arn],
                }),
            },
            parent,
        );
        for (const [suffix, q] of [
            ["queue", queue],
            ["dlq", dlq],
        ] as const) {
            new sqs.QueuePolicy(
                `${name}-${suffix}-policy`,
                { queueUrl: q.url, policy: renderPolicy([denyInsecureTransport(q.arn, "sqs:*")]) },
                parent,
            );
        }

        // Notification topic: encrypted, TLS only, optional subscriptions.
        const topic = new sns.Topic(`${name}-topic`, { kmsMasterKeyId: kmsKeyArn ?? "alias/aws/sns", tags }, parent);
        new sns.TopicPolicy(
            `${name}-topic-policy`,
            { arn: topic.arn, policy: renderPolicy([denyInsecureTransport(topic.arn, "sns:Publish")]) },
            parent,
        );
        settings.subscriptions.forEach((subscription, index) => {
            new sns.TopicSubscription(
                `${name}-subscription-${index}`,
                { topic: topic.arn, protocol: subscription.protocol, endpoint: subscription.endpoint },
                parent,
            );
        });

        // Log groups, each with its retention. The state machine's sits under /aws/vendedlogs/ as AWS advises.
        const logEncryption = kmsKeyArn !== undefined ? { kmsKeyId: kmsKeyArn } : {};
        const stateMachineLogs = new cloudwatch.LogGroup(
            `${name}-sfn-logs`,
            {
                namePrefix: `/aws/vendedlogs/states/${name}-`,
                retentionInDays: settings.logRetentionDays,
                ...logEncryption,
                tags,
            },
            parent,
        );
        const workerLogs = new cloudwatch.LogGroup(
            `${name}-worker-logs`,
            {
                namePrefix: `/aws/lambda/${name}-worker-`,
                retentionInDays: settings.logRetentionDays,
                ...logEncryption,
                tags,
            },
            parent,
        );

        // State machine: role = union of what its tasks declared + log delivery and X-Ray on "*".
        const { definition, statements: taskStatements } = callbackDefinition({
            queueUrl: queue.url,
            queueArn: queue.arn,
            topicArn: topic.arn,
            ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}),
            taskTimeoutSeconds: settings.taskTimeoutSeconds,
            ...(settings.heartbeatSeconds !== undefined ? { heartbeatSeconds: settings.heartbeatSeconds } : {}),
            messageTitle: settings.messageTitle,
        });
        const stateMachineRole = new iam.Role(
            `${name}-sfn-role`,
            { assumeRolePolicy: pulumi.jsonStringify(assumeRolePolicy("states.amazonaws.com", accountId)), tags },
            parent,
        );
        const logging = settings.stateMachineLogLevel !== "OFF";
        const stateMachineStatements: PolicyStatement[] = [
            ...taskStatements,
            ...stateMachineServiceStatements({ logging, tracing: settings.tracing }),
            ...(kmsKeyArn !== undefined && logging ? [logDeliveryKeyStatement(kmsKeyArn, partition, accountId)] : []),
        ];
        const stateMachinePolicy = new iam.RolePolicy(
            `${name}-sfn-policy`,
            { role: stateMachineRole.id, policy: renderPolicy(stateMachineStatements) },
            parent,
        );
        const stateMachine = new sfn.StateMachine(
            `${name}-state-machine`,
            {
                type: "STANDARD",
                roleArn: stateMachineRole.arn,
                definition: renderDefinition(definition, partition, "STANDARD"),
                loggingConfiguration: {
                    level: settings.stateMachineLogLevel,
                    includeExecutionData: settings.includeExecutionData,
                    ...(logging ? { logDestination: pulumi.interpolate`${stateMachineLogs.arn}:*` } : {}),
                },
                tracingConfiguration: { enabled: settings.tracing },
                ...(kmsKeyArn !== undefined
                    ? {
                          encryptionConfiguration: {
                              type: "CUSTOMER_MANAGED_KMS_KEY",
                              kmsKeyId: kmsKeyArn,
                              kmsDataKeyReusePeriodSeconds: 300,
                          },
                      }
                    : {}),
                tags,
            },
            // AWS checks log delivery permissions when the state machine is created.
            { ...parent, dependsOn: [stateMachinePolicy] },
        );
        // The machine's own use of its key, scoped to its own ARN (known once it exists; executions start after).
        if (kmsKeyArn !== undefined) {
            new iam.RolePolicy(
                `${name}-sfn-key-policy`,
                {
                    role: stateMachineRole.id,
                    policy: renderPolicy([
                        stateMachineKeyStatement("EncryptOwnExecutionData", kmsKeyArn, stateMachine.arn),
                    ]),
                },
                parent,
            );
        }

        // Worker: its own role, scoped to its queue, its state machine and its log group.
        const workerRole = new iam.Role(
            `${name}-worker-role`,
            { assumeRolePolicy: pulumi.jsonStringify(assumeRolePolicy("lambda.amazonaws.com", accountId)), tags },
            parent,
        );
        const workerPolicy = new iam.RolePolicy(
            `${name}-worker-policy`,
            {
                role: workerRole.id,
                policy: renderPolicy(
                    workerStatements({
                        queueArn: queue.arn,
                        stateMachineArn: stateMachine.arn,
                        logGroupArn: workerLogs.arn,
                        ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}),
                    }),
                ),
            },
            parent,
        );
        const worker = new lambda.Function(
            `${name}-worker`,
            {
                runtime: settings.runtime,
                architectures: ["arm64"],
                handler: BUNDLE_HANDLER,
                code: workerCode(settings.workerEntry, settings.runtime),
                role: workerRole.arn,
                memorySize: settings.workerMemoryMb,
                timeout: settings.workerTimeoutSeconds,
                loggingConfig: { logFormat: "Text", logGroup: workerLogs.name },
                environment: {
                    variables: {
                        // Readable stack traces. Free on Node 24, which loads source maps lazily; on Node
                        // 22 they cost 15 ms and 7 MiB per cold start (npm run bench), so not there.
                        ...(settings.runtime === "nodejs24.x" ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
                        POWERTOOLS_SERVICE_NAME: name,
                        POWERTOOLS_LOG_LEVEL: settings.workerLogLevel,
                        CALLBACK_CONCURRENCY: String(settings.workerConcurrency),
                        CALLBACK_HEARTBEAT_SECONDS: String(
                            workerHeartbeatInterval(settings.heartbeatSeconds, settings.workerTimeoutSeconds),
                        ),
                        CALLBACK_CALL_TIMEOUT_MS: String(callTimeoutMsFor(settings.workerTimeoutSeconds)),
                        CALLBACK_MAX_RECEIVE_COUNT: String(settings.maxReceiveCount),
                    },
                },
                tags,
            },
            { ...parent, dependsOn: [workerPolicy] },
        );
        new lambda.EventSourceMapping(
            `${name}-trigger`,
            {
                eventSourceArn: queue.arn,
                functionName: worker.arn,
                batchSize: settings.batchSize,
                maximumBatchingWindowInSeconds: settings.batchingWindowSeconds,
                functionResponseTypes: ["ReportBatchItemFailures"],
                scalingConfig: { maximumConcurrency: settings.maxConcurrency },
                tags,
            },
            // The worker must be able to answer tokens before it receives the first message.
            { ...parent, dependsOn: [workerPolicy] },
        );

        // Alarms: the DLQ is only useful if someone is told; so are failed, timed-out and aborted executions.
        let alarmTopicArn: pulumi.Output<string> | undefined;
        if (settings.alarms) {
            const created =
                settings.alarmTopicArn !== undefined
                    ? undefined
                    : this.createAlarmTopic(name, settings, kmsKeyArn, partition, accountId, tags);
            alarmTopicArn = created?.arn ?? pulumi.output(settings.alarmTopicArn as pulumi.Input<string>);
            // After the topic's policy: an alarm that fires before CloudWatch may publish is lost.
            this.createAlarms(name, settings, alarmTopicArn, { queue, dlq, stateMachine }, tags, created?.policy);
        }

        this.stateMachineArn = stateMachine.arn;
        this.stateMachineName = stateMachine.name;
        this.queueUrl = queue.url;
        this.queueArn = queue.arn;
        this.dlqUrl = dlq.url;
        this.dlqArn = dlq.arn;
        this.topicArn = topic.arn;
        this.workerName = worker.name;
        this.workerArn = worker.arn;
        this.workerLogGroupName = workerLogs.name;
        this.stateMachineLogGroupName = stateMachineLogs.name;
        this.alarmTopicArn = alarmTopicArn;
        this.kmsKeyArn = key?.arn ?? (kmsKeyArn !== undefined ? pulumi.output(kmsKeyArn) : undefined);
        this.registerOutputs({
            stateMachineArn: this.stateMachineArn,
            stateMachineName: this.stateMachineName,
            queueUrl: this.queueUrl,
            queueArn: this.queueArn,
            dlqUrl: this.dlqUrl,
            dlqArn: this.dlqArn,
            topicArn: this.topicArn,
            workerName: this.workerName,
            workerArn: this.workerArn,
            workerLogGroupName: this.workerLogGroupName,
            stateMachineLogGroupName: this.stateMachineLogGroupName,
            alarmTopicArn: this.alarmTopicArn,
            kmsKeyArn: this.kmsKeyArn,
        });
    }

    /**
     * A topic for alarms: TLS only, CloudWatch allowed to publish from this account. Encrypted only with
     * the customer key, whose policy must let CloudWatch use it (a created key's does; see
     * `workflowKeyPolicy`); the AWS-managed SNS key would silently drop alarm notifications, since
     * CloudWatch cannot use it.
     */
    private createAlarmTopic(
        name: string,
        settings: ResolvedArgs,
        kmsKeyArn: pulumi.Input<string> | undefined,
        partition: pulumi.Output<string>,
        accountId: pulumi.Output<string>,
        tags: Record<string, string>,
    ): { arn: pulumi.Output<string>; policy: sns.TopicPolicy } {
        const parent = { parent: this };
        const topic = new sns.Topic(
            `${name}-alarms`,
            { ...(kmsKeyArn !== undefined ? { kmsMasterKeyId: kmsKeyArn } : {}), tags },
            parent,
        );
        const policy = new sns.TopicPolicy(
            `${name}-alarms-policy`,
            {
                arn: topic.arn,
                policy: pulumi.jsonStringify(
                    policyDocument([
                        {
                            Sid: "CloudWatchAlarmsPublish",
                            Effect: "Allow",
                            Principal: { Service: "cloudwatch.amazonaws.com" },
                            Action: "sns:Publish",
                            Resource: topic.arn,
                            Condition: {
                                ArnLike: {
                                    "aws:SourceArn": pulumi.interpolate`arn:${partition}:cloudwatch:*:${accountId}:alarm:*`,
                                },
                            },
                        },
                        denyInsecureTransport(topic.arn, "sns:Publish"),
                    ]),
                ),
            },
            parent,
        );
        settings.alarmEmails.forEach((email, index) => {
            new sns.TopicSubscription(
                `${name}-alarm-email-${index}`,
                { topic: topic.arn, protocol: "email", endpoint: email },
                parent,
            );
        });
        return { arn: topic.arn, policy };
    }

    private createAlarms(
        name: string,
        settings: ResolvedArgs,
        topicArn: pulumi.Output<string>,
        { queue, dlq, stateMachine }: { queue: sqs.Queue; dlq: sqs.Queue; stateMachine: sfn.StateMachine },
        tags: Record<string, string>,
        topicPolicy: sns.TopicPolicy | undefined,
    ): void {
        const parent = { parent: this, ...(topicPolicy ? { dependsOn: [topicPolicy] } : {}) };
        const common = {
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            evaluationPeriods: 1,
            period: 60,
            treatMissingData: "notBreaching",
            alarmActions: [topicArn],
            okActions: [topicArn],
            tags,
        };
        new cloudwatch.MetricAlarm(
            `${name}-dlq-not-empty`,
            {
                ...common,
                alarmDescription: `Messages in the dead-letter queue of callback workflow ${name}: tasks that no worker could answer.`,
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                dimensions: { QueueName: dlq.name },
                statistic: "Maximum",
            },
            parent,
        );
        const age = queueAgeAlarmSeconds(settings.taskTimeoutSeconds, settings.heartbeatSeconds);
        new cloudwatch.MetricAlarm(
            `${name}-queue-oldest-message`,
            {
                ...common,
                threshold: age,
                alarmDescription: `The oldest task message of callback workflow ${name} has waited over ${age} s: work is waiting and no worker is answering; its task fails ${settings.heartbeatSeconds !== undefined ? `after ${settings.heartbeatSeconds} s without a heartbeat` : `at its ${settings.taskTimeoutSeconds} s timeout`}.`,
                namespace: "AWS/SQS",
                metricName: "ApproximateAgeOfOldestMessage",
                dimensions: { QueueName: queue.name },
                statistic: "Maximum",
            },
            parent,
        );
        for (const [suffix, metricName, what] of [
            ["executions-failed", "ExecutionsFailed", "failed"],
            // Fires when an execution outlives its callback task by EXECUTION_GRACE_SECONDS: stuck elsewhere.
            ["executions-timed-out", "ExecutionsTimedOut", "timed out (stuck past their task's timeout)"],
            ["executions-aborted", "ExecutionsAborted", "were aborted"],
        ] as const) {
            new cloudwatch.MetricAlarm(
                `${name}-${suffix}`,
                {
                    ...common,
                    alarmDescription: `Executions of callback workflow ${name} ${what}.`,
                    namespace: "AWS/States",
                    metricName,
                    dimensions: { StateMachineArn: stateMachine.arn },
                    statistic: "Sum",
                },
                parent,
            );
        }
    }
}
