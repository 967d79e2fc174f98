/**
 * The callback worker's public API. A custom worker imports from here and exports its own `handler`:
 *
 *     import { createCallbackHandler, TaskFailedError } from "../handlers/callback";
 *     export const handler = createCallbackHandler({ processor: async (message) => ({ ok: true }) });
 *
 * `handler.ts` beside this file is the default worker's entry point.
 */
export { readWorkerSettings, type WorkerSettings } from "./config";
export { CALLBACK_MESSAGE_PATHS, SFN_LIMITS, type CallbackMessage, type JsonValue } from "./contract";
export {
    CallbackDeliveryError,
    DeadlineError,
    PoisonMessageError,
    ProcessorError,
    TaskFailedError,
    WorkerConfigError,
} from "./errors";
export { describeError, parseCallbackMessage, redactToken, tokenRef } from "./message";
export { defaultProcessor, REJECTED_ERROR, type CallbackProcessor, type ProcessorContext } from "./processor";
export {
    createCallbackHandler,
    PERMANENT_ANSWER_ERRORS,
    TASK_OVER_ERRORS,
    WORKER_ERRORS,
    type CallbackHandler,
    type CallbackHandlerOptions,
} from "./worker";
