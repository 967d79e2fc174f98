/**
 * Resources more than one component makes the same way: the customer key of a component's task data,
 * the alarm topic, and the alarms' common settings.
 */
import { getRegionOutput } from "@pulumi/aws/getRegion";
import * as kms from "@pulumi/aws/kms";
import * as sns from "@pulumi/aws/sns";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policyDocument, renderPolicy, workflowKeyPolicy } from "./iam";

/** Where a component's resources go: its parent, and the aliases of children moved in from elsewhere. */
export interface ChildOptions {
    readonly parent: pulumi.Resource;
    /** The component that registered this component's children before they moved into it (see CallbackWorkflow). */
    readonly movedFrom?: pulumi.Resource;
}

/** A child's resource options: parented to the component, with the URN it had before it moved, if it did. */
export function childOptions(
    where: ChildOptions,
    extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
    return {
        parent: where.parent,
        ...(where.movedFrom !== undefined ? { aliases: [{ parent: where.movedFrom }] } : {}),
        ...extra,
    };
}

/**
 * A customer managed key with rotation for the task data of component `name` (queues, topics, log groups,
 * state machine), its policy from `workflowKeyPolicy`.
 */
export function createComponentKey(
    name: string,
    description: string,
    where: ChildOptions,
    ids: { partition: pulumi.Input<string>; accountId: pulumi.Input<string> },
    tags: Readonly<Record<string, string>>,
): kms.Key {
    return new kms.Key(
        `${name}-key`,
        {
            description,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: renderPolicy(
                workflowKeyPolicy({
                    partition: ids.partition,
                    region: getRegionOutput({}, { parent: where.parent }).region,
                    accountId: ids.accountId,
                    name,
                }),
            ),
            tags,
        },
        childOptions(where),
    );
}

/**
 * A topic for alarms: TLS only, CloudWatch allowed to publish from this account. Encrypted only with
 * the customer key, whose policy must let CloudWatch use it (a created key's does; see
 * `workflowKeyPolicy`); the AWS-managed SNS key would silently drop alarm notifications, since
 * CloudWatch cannot use it. The ARN returned depends on the topic's policy: an alarm created with it
 * waits for the policy, since one that fires before CloudWatch may publish is lost.
 */
export function createAlarmTopic(
    name: string,
    where: ChildOptions,
    inputs: {
        readonly kmsKeyArn: pulumi.Input<string> | undefined;
        readonly partition: pulumi.Input<string>;
        readonly accountId: pulumi.Input<string>;
        readonly emails: readonly string[];
        readonly tags: Readonly<Record<string, string>>;
    },
): pulumi.Output<string> {
    const topic = new sns.Topic(
        `${name}-alarms`,
        { ...(inputs.kmsKeyArn !== undefined ? { kmsMasterKeyId: inputs.kmsKeyArn } : {}), tags: inputs.tags },
        childOptions(where),
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
                                "aws:SourceArn": pulumi.interpolate`arn:${inputs.partition}:cloudwatch:*:${inputs.accountId}:alarm:*`,
                            },
                        },
                    },
                    denyInsecureTransport(topic.arn, "sns:Publish"),
                ]),
            ),
        },
        childOptions(where),
    );
    inputs.emails.forEach((email, index) => {
        new sns.TopicSubscription(
            `${name}-alarm-email-${index}`,
            { topic: topic.arn, protocol: "email", endpoint: email },
            childOptions(where),
        );
    });
    // The ARN, carrying the policy as a dependency.
    return pulumi.all([topic.arn, policy.id]).apply(([arn]) => arn);
}

/**
 * Where a component's alarms go: nowhere with alarms off, the given `alarmTopicArn`, or a topic it
 * creates (see {@link createAlarmTopic}).
 */
export function alarmTopicOf(
    name: string,
    where: ChildOptions,
    settings: {
        readonly alarms: boolean;
        readonly alarmTopicArn: pulumi.Input<string> | undefined;
        readonly alarmEmails: readonly string[];
    },
    inputs: Omit<Parameters<typeof createAlarmTopic>[2], "emails">,
): pulumi.Output<string> | undefined {
    if (!settings.alarms) {
        return undefined;
    }
    return settings.alarmTopicArn !== undefined
        ? pulumi.output(settings.alarmTopicArn)
        : createAlarmTopic(name, where, { ...inputs, emails: settings.alarmEmails });
}

/** What every alarm of these components shares: fires above the threshold, tells the topic both ways. */
export function alarmCommon(topicArn: pulumi.Input<string>, tags: Readonly<Record<string, string>>) {
    return {
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: 1,
        period: 60,
        treatMissingData: "notBreaching",
        alarmActions: [topicArn],
        okActions: [topicArn],
        tags,
    };
}
