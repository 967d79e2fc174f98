/**
 * The program: one callback workflow per stack, configured by the stack's Pulumi.<stack>.yaml.
 */
import { CallbackWorkflow } from "./components/callback-workflow";
import { readStackConfig } from "./components/config";

const workflow = new CallbackWorkflow("callback", readStackConfig());

export const stateMachineArn = workflow.stateMachineArn;
export const stateMachineName = workflow.stateMachineName;
export const queueUrl = workflow.queueUrl;
export const queueArn = workflow.queueArn;
export const dlqUrl = workflow.dlqUrl;
export const dlqArn = workflow.dlqArn;
export const topicArn = workflow.topicArn;
export const workerName = workflow.workerName;
export const workerArn = workflow.workerArn;
export const workerLogGroupName = workflow.workerLogGroupName;
export const stateMachineLogGroupName = workflow.stateMachineLogGroupName;
export const alarmTopicArn = workflow.alarmTopicArn;
export const kmsKeyArn = workflow.kmsKeyArn;
/** The approval page's base URL, when the stack has approvers. */
export const approvalPageUrl = workflow.approvalPageUrl;
/** The approvers' SNS topic (confirm their subscriptions with authenticated unsubscribe, see the README). */
export const approvalTopicArn = workflow.approval?.topicArn;
