/**
 * CallbackWorkflow: the Step Functions wait-for-callback pattern with production defaults, as one
 * Pulumi component: a {@link CallbackChannel} (queue, DLQ, worker), a {@link Workflow} running the
 * seed's definition on it, and the notification topic. Its resources sit where the 0.1.0 release
 * registered them (aliases), so upgrading replaces nothing.
 */
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import * as sns from "@pulumi/aws/sns";
import * as pulumi from "@pulumi/pulumi";
import {
    APPROVAL_CHANNEL_SETTINGS,
    APPROVAL_CHANNEL_TYPE,
    ApprovalChannel,
    DEFAULT_REQUEST_AGE_ALARM_SECONDS,
    INNER_CHANNEL,
    type ApprovalChannelArgs,
    type WithInnerChannel,
} from "./approval";
import {
    CallbackChannel,
    CHANNEL_SETTINGS,
    MOVED_FROM,
    workerProblems,
    type CallbackChannelArgs,
    type WithMovedFrom,
} from "./channel";
import { callbackDefinition } from "./definition";
import { denyInsecureTransport, renderPolicy } from "./iam";
import { queueAgeAlarmSeconds } from "./limits";
import { alarmTopicOf, createComponentKey } from "./resources";
import {
    argProblems,
    nameProblems,
    resolveArgs,
    unknownArgProblems,
    type CallbackWorkflowArgs,
    type ResolvedArgs,
} from "./settings";
import { Workflow, WORKFLOW_SETTINGS, type WorkflowArgs } from "./workflow";

export type { CallbackWorkflowArgs } from "./settings";
export { MAX_NAME_LENGTH } from "./settings";

/** The component's type token (`<package>:<module>:<type>`); never rename it without an alias. */
export const CALLBACK_WORKFLOW_TYPE = "callback:index:CallbackWorkflow";

/** The argument names a CallbackWorkflow takes: its channel's and its workflow's settings, and its own. */
export const CALLBACK_WORKFLOW_ARG_KEYS: readonly string[] = [
    ...new Set<keyof CallbackWorkflowArgs>([
        ...CHANNEL_SETTINGS,
        ...WORKFLOW_SETTINGS,
        "taskTimeoutSeconds",
        "subscriptions",
        "messageTitle",
        "approvers",
    ]),
];

/** Throws one error listing every invalid argument (`pulumi.InputPropertiesError`, as pulumi-eks does). */
function validate(name: string, args: CallbackWorkflowArgs): ResolvedArgs {
    const problems = [
        ...nameProblems(name),
        ...unknownArgProblems(args, CALLBACK_WORKFLOW_ARG_KEYS),
        ...argProblems(args),
    ];
    // The worker's module is checked (and bundled) before anything is registered, like every argument.
    problems.push(...workerProblems(args, problems).problems);
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
    /** The channel: its queue, worker and answerers. */
    public readonly channel: CallbackChannel;
    /** The approval channel (table, page, topic), when the workflow has approvers. */
    public readonly approval: ApprovalChannel | undefined;
    /** The approval page's base URL, when the workflow has approvers. */
    public readonly approvalPageUrl: pulumi.Output<string> | undefined;
    /** The workflow: its state machine and role. */
    public readonly workflow: Workflow;

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
                ? createComponentKey(
                      name,
                      `Encrypts the queues, topics, log groups and state machine of callback workflow ${name}.`,
                      parent,
                      { partition, accountId },
                      tags,
                  )
                : undefined;
        const kmsKeyArn: pulumi.Input<string> | undefined = key?.arn ?? settings.kmsKey;

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

        // One alarm topic for the channel's and the workflow's alarms.
        const alarmTopicArn = alarmTopicOf(name, parent, settings, { kmsKeyArn, partition, accountId, tags });
        const shared = {
            ...(kmsKeyArn !== undefined ? { kmsKey: kmsKeyArn } : {}),
            alarms: settings.alarms,
            ...(alarmTopicArn !== undefined ? { alarmTopicArn } : {}),
            logRetentionDays: settings.logRetentionDays,
            tags,
        };

        const channelArgs: WithMovedFrom<CallbackChannelArgs> = {
            ...Object.fromEntries(CHANNEL_SETTINGS.flatMap((k) => (args[k] !== undefined ? [[k, args[k]]] : []))),
            ...shared,
            alarmEmails: [],
            queueAgeAlarmSeconds: queueAgeAlarmSeconds(
                settings.taskTimeoutSeconds,
                settings.heartbeatSeconds,
                settings.queueRetentionSeconds,
            ),
            [MOVED_FROM]: this,
        };
        // With approvers, a person decides: the channel is an approval channel, its step an approval. Either
        // way the queues, the DLQ and the worker keep their URNs: turning approvers on or off updates them
        // in place (its channel answers to the URN it had under the other kind).
        const approval =
            settings.approvers.length > 0
                ? new ApprovalChannel(
                      name,
                      {
                          ...(Object.fromEntries(
                              APPROVAL_CHANNEL_SETTINGS.flatMap((k) =>
                                  k in channelArgs && channelArgs[k as keyof CallbackChannelArgs] !== undefined
                                      ? [[k, channelArgs[k as keyof CallbackChannelArgs]]]
                                      : [],
                              ),
                          ) as Partial<ApprovalChannelArgs>),
                          // Requests are turned into notifications in seconds: the alarm fires well before the task fails.
                          queueAgeAlarmSeconds: Math.min(
                              DEFAULT_REQUEST_AGE_ALARM_SECONDS,
                              queueAgeAlarmSeconds(
                                  settings.taskTimeoutSeconds,
                                  undefined,
                                  settings.queueRetentionSeconds,
                              ),
                          ),
                          approvers: settings.approvers,
                          [INNER_CHANNEL]: { aliases: [{ parent: this }], movedFrom: this },
                      } as WithInnerChannel<ApprovalChannelArgs>,
                      parent,
                  )
                : undefined;
        const channel =
            approval?.channel ??
            new CallbackChannel(name, channelArgs, {
                ...parent,
                aliases: [{ parent: pulumi.createUrn(name, APPROVAL_CHANNEL_TYPE, this) }],
            });
        const { definition } = callbackDefinition({
            queueUrl: channel.queueUrl,
            queueArn: channel.queueArn,
            topicArn: topic.arn,
            ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}),
            taskTimeoutSeconds: settings.taskTimeoutSeconds,
            ...(settings.heartbeatSeconds !== undefined ? { heartbeatSeconds: settings.heartbeatSeconds } : {}),
            messageTitle: settings.messageTitle,
            answeredBy: channel,
            ...(approval !== undefined
                ? {
                      waitFor: (shape) =>
                          approval.waitForApproval({
                              title: "States.Format('Approve execution {} of {}', $$.Execution.Name, $$.StateMachine.Name)",
                              details: "States.JsonToString($.input)",
                              timeoutSeconds: settings.taskTimeoutSeconds,
                              ...shape,
                          }),
                  }
                : {}),
        });
        const workflowArgs: WithMovedFrom<WorkflowArgs> = {
            ...shared,
            alarmEmails: [],
            definition,
            type: "STANDARD",
            stateMachineLogLevel: settings.stateMachineLogLevel,
            includeExecutionData: settings.includeExecutionData,
            tracing: settings.tracing,
            [MOVED_FROM]: this,
        };
        const workflow = new Workflow(name, workflowArgs, parent);

        this.channel = channel;
        this.approval = approval;
        this.workflow = workflow;
        this.stateMachineArn = workflow.stateMachineArn;
        this.stateMachineName = workflow.stateMachineName;
        this.queueUrl = channel.queueUrl;
        this.queueArn = channel.queueArn;
        this.dlqUrl = channel.dlqUrl;
        this.dlqArn = channel.dlqArn;
        this.topicArn = topic.arn;
        this.workerName = channel.workerName;
        this.workerArn = channel.workerArn;
        this.workerLogGroupName = channel.workerLogGroupName;
        this.stateMachineLogGroupName = workflow.logGroupName;
        this.alarmTopicArn = alarmTopicArn;
        this.approvalPageUrl = approval?.pageUrl;
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
            approvalPageUrl: this.approvalPageUrl,
        });
    }
}
