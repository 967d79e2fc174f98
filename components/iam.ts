/**
 * IAM documents of the callback workflow as pure functions: the worker's and the state machine's
 * permissions, trust policies, and the TLS-only resource policies of the queues and topics. Tested
 * without Pulumi mocks; the component only wires them to resources.
 */
import * as pulumi from "@pulumi/pulumi";

export interface PolicyStatement {
    readonly Sid?: string;
    readonly Effect: "Allow" | "Deny";
    readonly Principal?: "*" | { readonly [kind: string]: pulumi.Input<string> | readonly pulumi.Input<string>[] };
    readonly Action: string | readonly string[];
    /** Absent only in trust policies. */
    readonly Resource?: pulumi.Input<string> | readonly pulumi.Input<string>[];
    readonly Condition?: {
        readonly [operator: string]: { readonly [key: string]: pulumi.Input<string> | readonly pulumi.Input<string>[] };
    };
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly PolicyStatement[];
}

/**
 * The three actions a callback worker needs to answer a task token. All three: without
 * `SendTaskFailure` a worker cannot fail a task, without `SendTaskHeartbeat` every heartbeat is denied.
 * Step Functions authorises them against the state machine's ARN, so they are granted on exactly that
 * ARN (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token).
 */
export const SEND_TASK_ACTIONS = [
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
] as const;

/** Actions the worker needs on its queue as an SQS event source. */
export const SQS_CONSUMER_ACTIONS = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
] as const;

/**
 * Log delivery for a state machine's logging configuration. AWS requires these on `*`: the log delivery
 * APIs take no resource ARN. https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
 */
export const LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
] as const;

/**
 * X-Ray tracing of a state machine. AWS requires these on `*`: X-Ray has no resource-level permissions
 * for them. https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html
 */
export const XRAY_ACTIONS = [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
] as const;

export function policyDocument(statements: readonly PolicyStatement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

/** Renders a document with the Outputs inside it resolved. */
export function renderPolicy(statements: readonly PolicyStatement[]): pulumi.Output<string> {
    return pulumi.jsonStringify(policyDocument(statements));
}

/** Trust policy of a role that a service assumes, scoped to this account against the confused deputy. */
export function assumeRolePolicy(service: string, accountId: pulumi.Input<string>): PolicyDocument {
    return policyDocument([
        {
            Effect: "Allow",
            Principal: { Service: service },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
    ]);
}

export interface WorkerPolicyInputs {
    readonly queueArn: pulumi.Input<string>;
    readonly stateMachineArn: pulumi.Input<string>;
    readonly logGroupArn: pulumi.Input<string>;
    /** The customer managed key of the queue and the state machine, when there is one. */
    readonly kmsKeyArn?: pulumi.Input<string>;
}

/**
 * Use of the customer key on behalf of one state machine: the encryption context Step Functions puts on
 * every KMS call it makes for that machine's definition and execution data. Every caller of `SendTask*`
 * (and of `StartExecution`) on a machine encrypted with a customer key needs it, and so does the machine's
 * own role. https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html
 */
export function stateMachineKeyStatement(
    sid: string,
    kmsKeyArn: pulumi.Input<string>,
    stateMachineArn: pulumi.Input<string>,
): PolicyStatement {
    return {
        Sid: sid,
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: kmsKeyArn,
        Condition: { StringEquals: { "kms:EncryptionContext:aws:states:stateMachineArn": stateMachineArn } },
    };
}

/**
 * A channel worker's own permissions: consume its queue, write to its own log group, and decrypt with the
 * queue's customer key when there is one. Answering tasks is granted per state machine
 * ({@link answerStatements}). Nothing on `*`.
 */
export function channelWorkerStatements(inputs: Omit<WorkerPolicyInputs, "stateMachineArn">): PolicyStatement[] {
    return [
        { Sid: "ConsumeWorkQueue", Effect: "Allow", Action: [...SQS_CONSUMER_ACTIONS], Resource: inputs.queueArn },
        {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`${inputs.logGroupArn}:*`,
        },
        ...(inputs.kmsKeyArn !== undefined
            ? [
                  {
                      Sid: "DecryptWorkQueue",
                      Effect: "Allow" as const,
                      Action: ["kms:Decrypt"],
                      Resource: inputs.kmsKeyArn,
                      // SQS puts the queue's ARN in the encryption context: this key, for this queue only.
                      Condition: { StringEquals: { "kms:EncryptionContext:aws:sqs:arn": inputs.queueArn } },
                  },
              ]
            : []),
    ];
}

/**
 * Answering the tasks of state machines: the `SendTask*` actions on exactly their ARNs, and, for a machine
 * encrypted with a customer key, that key in the machine's encryption context.
 */
export function answerStatements(inputs: {
    readonly actions: readonly string[];
    readonly stateMachineArns: readonly pulumi.Input<string>[];
    readonly kmsKeyArn?: pulumi.Input<string>;
}): PolicyStatement[] {
    const [single] = inputs.stateMachineArns;
    const resource = inputs.stateMachineArns.length === 1 && single !== undefined ? single : inputs.stateMachineArns;
    return [
        { Sid: "AnswerTaskTokens", Effect: "Allow", Action: [...inputs.actions], Resource: resource },
        ...(inputs.kmsKeyArn !== undefined
            ? inputs.stateMachineArns.map((arn, index) =>
                  stateMachineKeyStatement(
                      `AnswerEncryptedStateMachine${inputs.stateMachineArns.length > 1 ? index : ""}`,
                      inputs.kmsKeyArn as pulumi.Input<string>,
                      arn,
                  ),
              )
            : []),
    ];
}

/**
 * The worker's permissions when it answers one state machine: its channel's own
 * ({@link channelWorkerStatements}) and answering that machine ({@link answerStatements}).
 */
export function workerStatements(inputs: WorkerPolicyInputs): PolicyStatement[] {
    return [
        ...channelWorkerStatements(inputs),
        ...answerStatements({
            actions: SEND_TASK_ACTIONS,
            stateMachineArns: [inputs.stateMachineArn],
            ...(inputs.kmsKeyArn !== undefined ? { kmsKeyArn: inputs.kmsKeyArn } : {}),
        }),
    ];
}

export interface KeyPolicyInputs {
    readonly partition: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly accountId: pulumi.Input<string>;
    /** The component's name: its log groups are named after it. */
    readonly name: string;
}

/**
 * The key policy of a customer key that encrypts a callback workflow: the account administers it through
 * IAM (so the roles' policies above grant its use), CloudWatch Logs may use it for the workflow's two log
 * groups only (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html),
 * CloudWatch Logs' delivery service may decrypt for this account's log deliveries (as aws-cdk grants it,
 * scoped like vended logs), and CloudWatch alarms may publish to the encrypted alarm topic only. A key
 * given by ARN needs the same statements in its own policy.
 */
export function workflowKeyPolicy(inputs: KeyPolicyInputs): PolicyStatement[] {
    const logGroups = [`/aws/vendedlogs/states/${inputs.name}-*`, `/aws/lambda/${inputs.name}-worker-*`].map(
        (group) =>
            pulumi.interpolate`arn:${inputs.partition}:logs:${inputs.region}:${inputs.accountId}:log-group:${group}`,
    );
    return [
        {
            Sid: "AccountAdministersThroughIam",
            Effect: "Allow",
            Principal: { AWS: pulumi.interpolate`arn:${inputs.partition}:iam::${inputs.accountId}:root` },
            Action: "kms:*",
            Resource: "*",
        },
        {
            Sid: "CloudWatchLogsEncryptWorkflowLogGroups",
            Effect: "Allow",
            Principal: { Service: pulumi.interpolate`logs.${inputs.region}.amazonaws.com` },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": logGroups } },
        },
        {
            Sid: "CloudWatchLogsDeliveryDecrypts",
            Effect: "Allow",
            Principal: { Service: "delivery.logs.amazonaws.com" },
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: {
                StringEquals: { "aws:SourceAccount": inputs.accountId },
                ArnLike: {
                    "aws:SourceArn": pulumi.interpolate`arn:${inputs.partition}:logs:${inputs.region}:${inputs.accountId}:*`,
                },
            },
        },
        {
            Sid: "CloudWatchAlarmsPublishToEncryptedTopic",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: {
                StringEquals: { "aws:SourceAccount": inputs.accountId },
                // SNS puts the topic's ARN in the encryption context: the alarm topic only.
                ArnLike: {
                    "kms:EncryptionContext:aws:sns:topicArn": pulumi.interpolate`arn:${inputs.partition}:sns:${inputs.region}:${inputs.accountId}:${inputs.name}-alarms-*`,
                },
            },
        },
    ];
}

/**
 * The state machine role's use of the key for log delivery into its encrypted log group (the context
 * CloudWatch Logs' vended delivery sets), as aws-cdk grants it.
 */
export function logDeliveryKeyStatement(
    kmsKeyArn: pulumi.Input<string>,
    partition: pulumi.Input<string>,
    accountId: pulumi.Input<string>,
): PolicyStatement {
    return {
        Sid: "LogDeliveryToEncryptedLogGroup",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey"],
        Resource: kmsKeyArn,
        Condition: {
            ArnLike: { "kms:EncryptionContext:SourceArn": pulumi.interpolate`arn:${partition}:logs:*:${accountId}:*` },
        },
    };
}

/** The state machine's own wildcard statements: log delivery and X-Ray, as AWS documents them. */
export function stateMachineServiceStatements(options: { logging: boolean; tracing: boolean }): PolicyStatement[] {
    return [
        ...(options.logging
            ? [{ Sid: "LogDelivery", Effect: "Allow" as const, Action: [...LOG_DELIVERY_ACTIONS], Resource: "*" }]
            : []),
        ...(options.tracing
            ? [{ Sid: "XRayTracing", Effect: "Allow" as const, Action: [...XRAY_ACTIONS], Resource: "*" }]
            : []),
    ];
}

/**
 * Denies every request that does not use TLS (`aws:SecureTransport` false) on one resource: all SQS
 * actions on a queue, or `sns:Publish` on a topic (the statement SNS documents:
 * https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html#enforce-encryption-data-in-transit).
 */
export function denyInsecureTransport(
    resourceArn: pulumi.Input<string>,
    action: "sqs:*" | "sns:Publish",
): PolicyStatement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: action,
        Resource: resourceArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
