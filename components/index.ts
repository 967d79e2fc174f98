export * from "./asl";
export {
    bundleWorker,
    bundleWorkerSync,
    WorkerBundleError,
    DEFAULT_LAMBDA_RUNTIME,
    LAMBDA_RUNTIMES,
    writeBundle,
    type LambdaRuntime,
    type WorkerBundle,
} from "./bundle";
export {
    CALLBACK_CHANNEL_TYPE,
    CallbackChannel,
    CallbackTaskError,
    type CallbackChannelArgs,
    type ChannelAnswerer,
    type SendTaskAction,
    type WaitForCallbackOptions,
} from "./channel";
export {
    APPROVAL_CHANNEL_TYPE,
    ApprovalChannel,
    pageStatements,
    requesterStatements,
    type ApprovalChannelArgs,
    type ApprovalText,
    type WaitForApprovalOptions,
} from "./approval";
export type { Notifier, ApprovalNotification } from "../handlers/approval/requester";
export { CALLBACK_WORKFLOW_TYPE, CallbackWorkflow, type CallbackWorkflowArgs } from "./callback-workflow";
export { grantsOf, TASK_GRANTS, type AnswerGrant, type AnsweringChannel, type TaskGrants } from "./grants";
export { Workflow, WORKFLOW_TYPE, type WorkflowArgs } from "./workflow";
export { CONFIG_KEYS, readStackConfig, StackConfigError } from "./config";
export { callbackDefinition, snsPublish, sqsSendMessageAndWait, STATE_NAMES } from "./definition";
export * from "./iam";
export { argProblems, resolveArgs, visibilityTimeoutFor, type TopicSubscription } from "./settings";
