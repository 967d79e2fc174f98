export * from "./asl";
export {
    bundleWorker,
    DEFAULT_LAMBDA_RUNTIME,
    LAMBDA_RUNTIMES,
    writeBundle,
    type LambdaRuntime,
    type WorkerBundle,
} from "./bundle";
export { CALLBACK_WORKFLOW_TYPE, CallbackWorkflow, type CallbackWorkflowArgs } from "./callback-workflow";
export { CONFIG_KEYS, readStackConfig, StackConfigError } from "./config";
export { callbackDefinition, STATE_NAMES } from "./definition";
export * from "./iam";
export { argProblems, resolveArgs, visibilityTimeoutFor, type TopicSubscription } from "./settings";
