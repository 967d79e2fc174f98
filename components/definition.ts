/**
 * The callback workflow's state machine, as typed ASL: the wait-for-callback pattern of AWS's
 * documentation (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token),
 * with the defects of the common public examples fixed.
 * "Start Task And Wait For Callback" sends the execution input, its ids and the task token to the work
 * queue and waits (with a timeout, and optionally heartbeats); on success "Notify Success" publishes the
 * worker's output and the execution succeeds; on any error "Notify Failure" publishes the error and the
 * execution ends in a Fail state, so a failed callback is a FAILED execution (the common examples end
 * their failure branch SUCCEEDED).
 */
import type * as pulumi from "@pulumi/pulumi";
import { CALLBACK_MESSAGE_PATHS } from "../handlers/callback/contract";
import {
    integration,
    StatesErrors,
    statementsOf,
    type PayloadTemplate,
    type PayloadValue,
    type QueryLanguage,
    type StateMachineDefinition,
    type TaskState,
    type TaskWithPolicy,
    type Transition,
} from "./asl";
import { grantsOf, withGrants, type AnsweringChannel } from "./grants";
import type { PolicyStatement } from "./iam";
import { executionTimeoutFor } from "./limits";

/** The state names, as the common examples of this pattern name them. */
export const STATE_NAMES = {
    prepare: "Prepare Task Input",
    checkInput: "Check Task Input",
    rejectInput: "Reject Task Input",
    wait: "Start Task And Wait For Callback",
    notifySuccess: "Notify Success",
    notifyFailure: "Notify Failure",
    succeeded: "Callback Succeeded",
    failed: "Callback Failed",
} as const;

/** The error an execution whose input is not a JSON object fails with. */
export const INPUT_NOT_AN_OBJECT = "Input.NotAnObject";

/** The error the Fail state ends a failed execution with, when the caught error has no name. */
export const CALLBACK_FAILED_CAUSE =
    "The callback task failed; the Notify Failure message and the execution history say why.";

/** Errors of the SQS integration worth retrying (transient service or client errors), not worker outcomes. */
export const SQS_TRANSIENT_ERRORS = ["SQS.SdkClientException", "SQS.AmazonSQSException"] as const;

/**
 * Use of a customer key for one resource only: SQS and SNS put the resource's ARN in the encryption
 * context of every KMS call they make for it (`aws:sqs:arn`, `aws:sns:topicArn`).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
 */
export function kmsStatements(
    sid: string,
    kmsKeyArn: pulumi.Input<string> | undefined,
    context: { readonly [key: string]: pulumi.Input<string> },
): PolicyStatement[] {
    return kmsKeyArn === undefined
        ? []
        : [
              {
                  Sid: sid,
                  Effect: "Allow",
                  Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                  Resource: kmsKeyArn,
                  Condition: { StringEquals: context },
              },
          ];
}

/**
 * `sqs:sendMessage.waitForTaskToken`: sends `messageBody` to the queue and waits for the token to be
 * answered. Needs `sqs:SendMessage` on the queue, and the queue's customer key when it has one.
 */
export function sqsSendMessageAndWait(args: {
    readonly queueUrl: pulumi.Input<string>;
    readonly queueArn: pulumi.Input<string>;
    readonly kmsKeyArn?: pulumi.Input<string>;
    readonly messageBody: PayloadTemplate;
    readonly timeoutSeconds: number;
    readonly heartbeatSeconds?: number;
    readonly resultPath: `$${string}` | null;
    readonly transition: Transition;
    readonly retry?: TaskState["Retry"];
    readonly catch?: TaskState["Catch"];
    readonly resultSelector?: PayloadTemplate;
    readonly comment?: string;
    /** The channel that answers the task: a workflow using this state grants its answerers. */
    readonly answeredBy?: AnsweringChannel;
    /**
     * `JSONata` renders `Arguments` (the body's `{% %}` expressions as given) and `Output`/`Assign`
     * instead of `Parameters`, `ResultSelector` and `ResultPath`, with the state's own `QueryLanguage`.
     */
    readonly queryLanguage?: QueryLanguage;
    readonly output?: PayloadValue;
    readonly assign?: PayloadTemplate;
}): TaskWithPolicy {
    const statements: PolicyStatement[] = [
        { Sid: "SendToWorkQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: args.queueArn },
        ...kmsStatements("EncryptForWorkQueue", args.kmsKeyArn, {
            "kms:EncryptionContext:aws:sqs:arn": args.queueArn,
        }),
    ];
    const common = {
        ...(args.comment !== undefined ? { Comment: args.comment } : {}),
        Type: "Task" as const,
        Resource: integration("sqs", "sendMessage", "waitForTaskToken"),
    };
    const tail = {
        ...(args.retry ? { Retry: args.retry } : {}),
        ...(args.catch ? { Catch: args.catch } : {}),
        ...args.transition,
    };
    const state: TaskState =
        args.queryLanguage === "JSONata"
            ? {
                  QueryLanguage: "JSONata",
                  ...common,
                  Arguments: { QueueUrl: args.queueUrl, MessageBody: args.messageBody },
                  TimeoutSeconds: args.timeoutSeconds,
                  ...(args.heartbeatSeconds !== undefined ? { HeartbeatSeconds: args.heartbeatSeconds } : {}),
                  ...(args.output !== undefined ? { Output: args.output } : {}),
                  ...(args.assign !== undefined ? { Assign: args.assign } : {}),
                  ...tail,
              }
            : {
                  ...common,
                  Parameters: { QueueUrl: args.queueUrl, MessageBody: args.messageBody },
                  TimeoutSeconds: args.timeoutSeconds,
                  ...(args.heartbeatSeconds !== undefined ? { HeartbeatSeconds: args.heartbeatSeconds } : {}),
                  ...(args.resultSelector !== undefined ? { ResultSelector: args.resultSelector } : {}),
                  ResultPath: args.resultPath,
                  ...(args.assign !== undefined ? { Assign: args.assign } : {}),
                  ...tail,
              };
    return {
        state: withGrants(state, { statements, ...(args.answeredBy ? { answeredBy: args.answeredBy } : {}) }),
        statements,
    };
}

/** `sns:publish`: publishes to the topic. Needs `sns:Publish` on it, and its customer key when it has one. */
export function snsPublish(args: {
    readonly topicArn: pulumi.Input<string>;
    readonly kmsKeyArn?: pulumi.Input<string>;
    readonly subject: string;
    /** A path or intrinsic function producing the message text. */
    readonly message: string;
    readonly transition: Transition;
    readonly outputPath?: `$${string}`;
}): TaskWithPolicy {
    const statements: PolicyStatement[] = [
        { Sid: "PublishNotifications", Effect: "Allow", Action: ["sns:Publish"], Resource: args.topicArn },
        ...kmsStatements("EncryptForTopic", args.kmsKeyArn, {
            "kms:EncryptionContext:aws:sns:topicArn": args.topicArn,
        }),
    ];
    const state: TaskState = {
        Type: "Task",
        Resource: integration("sns", "publish"),
        Parameters: { TopicArn: args.topicArn, Subject: args.subject, "Message.$": args.message },
        ResultPath: null,
        ...(args.outputPath ? { OutputPath: args.outputPath } : {}),
        Retry: [
            {
                ErrorEquals: [StatesErrors.TaskFailed],
                IntervalSeconds: 2,
                MaxAttempts: 3,
                BackoffRate: 2,
                JitterStrategy: "FULL",
            },
        ],
        ...args.transition,
    };
    return { state: withGrants(state, { statements }), statements };
}

export interface CallbackDefinitionInputs {
    readonly queueUrl: pulumi.Input<string>;
    readonly queueArn: pulumi.Input<string>;
    readonly topicArn: pulumi.Input<string>;
    /** The customer managed key of the queue and the topic, when there is one. */
    readonly kmsKeyArn?: pulumi.Input<string>;
    readonly taskTimeoutSeconds: number;
    readonly heartbeatSeconds?: number;
    readonly messageTitle: string;
    /** The channel whose worker answers the callback task. */
    readonly answeredBy?: AnsweringChannel;
    /**
     * The waiting state of a channel that is not a plain queue (an approval): given where its result goes,
     * its catch and its next state, it returns the Task state. Default: the callback task above.
     */
    readonly waitFor?: (shape: {
        readonly resultPath: `$${string}`;
        readonly catch: NonNullable<TaskState["Catch"]>;
        readonly next: string;
    }) => TaskState;
}

/** The message body the callback task sends: the contract's fields, from the context object and input. */
export function callbackMessageBody(messageTitle: string): PayloadTemplate {
    return {
        MessageTitle: messageTitle,
        ...Object.fromEntries(Object.entries(CALLBACK_MESSAGE_PATHS).map(([field, path]) => [`${field}.$`, path])),
    };
}

/** The definition and the union of the IAM statements its tasks need. */
export function callbackDefinition(inputs: CallbackDefinitionInputs): {
    definition: StateMachineDefinition;
    statements: PolicyStatement[];
} {
    const shape = {
        resultPath: "$.callback",
        catch: [{ ErrorEquals: [StatesErrors.ALL], ResultPath: "$.error", Next: STATE_NAMES.notifyFailure }],
        next: STATE_NAMES.notifySuccess,
    } as const;
    const custom = inputs.waitFor?.({ ...shape, catch: [...shape.catch] });
    const wait: TaskWithPolicy =
        custom !== undefined
            ? { state: custom, statements: [...(grantsOf(custom)?.statements ?? [])] }
            : sqsSendMessageAndWait({
                  queueUrl: inputs.queueUrl,
                  queueArn: inputs.queueArn,
                  ...(inputs.kmsKeyArn !== undefined ? { kmsKeyArn: inputs.kmsKeyArn } : {}),
                  messageBody: callbackMessageBody(inputs.messageTitle),
                  timeoutSeconds: inputs.taskTimeoutSeconds,
                  ...(inputs.heartbeatSeconds !== undefined ? { heartbeatSeconds: inputs.heartbeatSeconds } : {}),
                  resultPath: shape.resultPath,
                  retry: [
                      {
                          ErrorEquals: [...SQS_TRANSIENT_ERRORS],
                          IntervalSeconds: 1,
                          MaxAttempts: 3,
                          BackoffRate: 2,
                          JitterStrategy: "FULL",
                      },
                  ],
                  catch: [...shape.catch],
                  transition: { Next: shape.next },
                  ...(inputs.answeredBy !== undefined ? { answeredBy: inputs.answeredBy } : {}),
              });
    const topic = {
        topicArn: inputs.topicArn,
        ...(inputs.kmsKeyArn !== undefined ? { kmsKeyArn: inputs.kmsKeyArn } : {}),
    };
    const notifySuccess = snsPublish({
        ...topic,
        subject: "Callback workflow succeeded",
        message:
            "States.Format('Execution {} succeeded. Worker output: {}', $$.Execution.Id, States.JsonToString($.callback))",
        outputPath: "$.callback",
        transition: { Next: STATE_NAMES.succeeded },
    });
    const notifyFailure = snsPublish({
        ...topic,
        subject: "Callback workflow failed",
        message: "States.Format('Execution {} failed: {}', $$.Execution.Id, States.JsonToString($.error))",
        transition: { Next: STATE_NAMES.failed },
    });
    const definition: StateMachineDefinition = {
        Comment:
            "Sends a task with its token to the work queue, waits for the worker's callback, and notifies the outcome.",
        StartAt: STATE_NAMES.prepare,
        // The execution's own timeout: past its task's, only a stuck execution reaches it (ExecutionsTimedOut).
        TimeoutSeconds: executionTimeoutFor(inputs.taskTimeoutSeconds),
        States: [
            // The execution input under "input": the results merged later ($.callback, $.error) then always
            // have an object to go into, whatever the input is (a string or a list would end the execution
            // with an uncatchable States.Runtime error, and no notification).
            {
                name: STATE_NAMES.prepare,
                state: { Type: "Pass", Parameters: { "input.$": "$" }, Next: STATE_NAMES.checkInput },
            },
            // The worker's message carries the input as a JSON object: anything else ends the execution
            // through Notify Failure with a clear cause, rather than in a task that cannot use it.
            {
                name: STATE_NAMES.checkInput,
                state: {
                    Type: "Choice",
                    Choices: [
                        {
                            Or: [
                                { Variable: "$.input", IsNull: true },
                                { Variable: "$.input", IsString: true },
                                { Variable: "$.input", IsNumeric: true },
                                { Variable: "$.input", IsBoolean: true },
                                { Variable: "$.input[0]", IsPresent: true },
                            ],
                            Next: STATE_NAMES.rejectInput,
                        },
                    ],
                    Default: STATE_NAMES.wait,
                },
            },
            {
                name: STATE_NAMES.rejectInput,
                state: {
                    Type: "Pass",
                    Parameters: {
                        error: {
                            Error: INPUT_NOT_AN_OBJECT,
                            Cause: "The execution input must be a JSON object; it is passed to the worker as the message's Input.",
                        },
                    },
                    Next: STATE_NAMES.notifyFailure,
                },
            },
            { name: STATE_NAMES.wait, state: wait.state },
            { name: STATE_NAMES.notifySuccess, state: notifySuccess.state },
            { name: STATE_NAMES.succeeded, state: { Type: "Succeed" } },
            { name: STATE_NAMES.notifyFailure, state: notifyFailure.state },
            {
                name: STATE_NAMES.failed,
                state: { Type: "Fail", ErrorPath: "$.error.Error", Cause: CALLBACK_FAILED_CAUSE },
            },
        ],
    };
    return { definition, statements: statementsOf([wait, notifySuccess, notifyFailure]) };
}
