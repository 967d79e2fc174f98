/**
 * The plugin's components: what `pulumi package add` offers to every Pulumi language, as the nodejs
 * language host finds them. `run-plugin` requires package.json's `main` (index.js, which compiles this file
 * and exports the result) and hosts every ComponentResource class it exports, under the package named by
 * package.json (`callback`, hence the tokens `callback:index:<class>`); the schema analyzer reads this file,
 * the `.ts` beside `main`. So this module exports exactly the two hosted classes, and no other class or
 * object that holds one.
 * https://www.pulumi.com/docs/iac/guides/building-extending/packages/source-based-plugin/
 *
 * Each class is the library's own component, subclassed only to give the analyzer what it reads: the
 * argument interface of args.ts and the Output properties it may report. Constructing one runs the
 * library's constructor unchanged: the same type token, validation, children and URNs as in a TypeScript
 * program. The base is typed as a constructor of `pulumi.ComponentResource` because the analyzer hosts a
 * class only when its `extends` clause names ComponentResource itself.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
    CallbackWorkflow as LibraryCallbackWorkflow,
    type CallbackWorkflowArgs as LibraryCallbackWorkflowArgs,
} from "../components/callback-workflow";
import {
    CallbackChannel as LibraryCallbackChannel,
    type CallbackChannelArgs as LibraryCallbackChannelArgs,
} from "../components/channel";
import type { CallbackChannelArgs, CallbackWorkflowArgs } from "./args";

export * from "./args";

/** A component's constructor, as the analyzer must see the base of a hosted class. */
type ComponentConstructor<Args> = new (
    name: string,
    args: Args,
    opts?: pulumi.ComponentResourceOptions,
) => pulumi.ComponentResource;

/**
 * The library's constructor as one taking the plugin's arguments: it compiles only if those are assignable
 * to the library's (`Args extends LibraryArgs`), so every value a schema-typed SDK can send is one the
 * library takes.
 */
function hosted<Args extends LibraryArgs, LibraryArgs>(
    component: ComponentConstructor<LibraryArgs>,
): ComponentConstructor<Args> {
    return component;
}

/**
 * The Step Functions wait-for-callback pattern with production defaults: a state machine whose task puts a
 * message carrying its task token on an SQS queue and waits; a Lambda worker answers it; the execution then
 * notifies an SNS topic of its success or failure. With a dead-letter queue, alarms, encryption, TLS-only
 * policies and least-privilege roles.
 */
export class CallbackWorkflow extends hosted<CallbackWorkflowArgs, LibraryCallbackWorkflowArgs>(
    LibraryCallbackWorkflow,
) {
    /** The state machine's ARN: start executions on it. */
    declare public readonly stateMachineArn: pulumi.Output<string>;
    /** The state machine's name. */
    declare public readonly stateMachineName: pulumi.Output<string>;
    /** The work queue's URL, where the callback task puts its messages. */
    declare public readonly queueUrl: pulumi.Output<string>;
    /** The work queue's ARN. */
    declare public readonly queueArn: pulumi.Output<string>;
    /** The dead-letter queue's URL, where a message goes after `maxReceiveCount` receives. */
    declare public readonly dlqUrl: pulumi.Output<string>;
    /** The dead-letter queue's ARN. */
    declare public readonly dlqArn: pulumi.Output<string>;
    /** The notification topic's ARN: every execution's success or failure is published there. */
    declare public readonly topicArn: pulumi.Output<string>;
    /** The worker's Lambda function name. */
    declare public readonly workerName: pulumi.Output<string>;
    /** The worker's Lambda function ARN. */
    declare public readonly workerArn: pulumi.Output<string>;
    /** The worker's log group. */
    declare public readonly workerLogGroupName: pulumi.Output<string>;
    /** The state machine's log group. */
    declare public readonly stateMachineLogGroupName: pulumi.Output<string>;
    /** Where alarms go; unset when alarms are off. */
    declare public readonly alarmTopicArn: pulumi.Output<string> | undefined;
    /** The customer managed key of the queues, topics, log groups and state machine, when there is one. */
    declare public readonly kmsKeyArn: pulumi.Output<string> | undefined;

    constructor(name: string, args: CallbackWorkflowArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        super(name, args, opts);
    }
}

/**
 * Where callback tasks wait: a work queue with its dead-letter queue, the Lambda worker that consumes it,
 * its role, trigger and alarms, and the roles allowed to answer the tasks of the state machines named in
 * `stateMachineArns`. For a state machine of your own whose `sqs:sendMessage.waitForTaskToken` tasks send
 * the worker's message to `queueUrl`.
 */
export class CallbackChannel extends hosted<CallbackChannelArgs, LibraryCallbackChannelArgs>(LibraryCallbackChannel) {
    /** The work queue's URL: a callback task sends its message here. */
    declare public readonly queueUrl: pulumi.Output<string>;
    /** The work queue's ARN: a state machine's role needs `sqs:SendMessage` on it. */
    declare public readonly queueArn: pulumi.Output<string>;
    /** The dead-letter queue's URL, where a message goes after `maxReceiveCount` receives. */
    declare public readonly dlqUrl: pulumi.Output<string>;
    /** The dead-letter queue's ARN. */
    declare public readonly dlqArn: pulumi.Output<string>;
    /** The worker's Lambda function name. */
    declare public readonly workerName: pulumi.Output<string>;
    /** The worker's Lambda function ARN. */
    declare public readonly workerArn: pulumi.Output<string>;
    /** The worker's role name, for grants of your own (a table the worker writes, a secret it reads). */
    declare public readonly workerRoleName: pulumi.Output<string>;
    /** The worker's role ARN. */
    declare public readonly workerRoleArn: pulumi.Output<string>;
    /** The worker's log group. */
    declare public readonly workerLogGroupName: pulumi.Output<string>;
    /** Where the channel's alarms go; unset when alarms are off. */
    declare public readonly alarmTopicArn: pulumi.Output<string> | undefined;
    /** The customer managed key of the queues and the worker's logs, when there is one. */
    declare public readonly kmsKeyArn: pulumi.Output<string> | undefined;

    constructor(name: string, args: CallbackChannelArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        super(name, args, opts);
    }
}
