/**
 * Entry point of the default callback worker (bundled to `dist/callback-handler/index.mjs`).
 * Everything here runs once per Lambda execution environment, at init.
 */
import { createCallbackHandler } from "./worker";
import { defaultProcessor } from "./processor";

export const handler = createCallbackHandler({ processor: defaultProcessor });
