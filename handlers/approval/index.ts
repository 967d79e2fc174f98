/**
 * The human-approval page's API: the stored item, signed links, the store and the page itself.
 * `lambda.ts` beside it adapts the page to a Lambda function URL, `http-adapter.ts` to node:http.
 */
export * from "./contract";
export {
    InMemoryKeyRing,
    issueFormToken,
    linkPath,
    linkUrl,
    MIN_KEY_BYTES,
    parseKeyRing,
    signLink,
    verifyFormToken,
    verifyLink,
    type FormToken,
    type FormVerification,
    type KeyRing,
    type KeyRingJson,
    type KeyRingSnapshot,
    type LinkFields,
    type LinkVerification,
    type RawLink,
    type SignedLink,
} from "./links";
export { SecretsManagerKeyRing, type SecretsManagerKeyRingOptions } from "./key-ring";
export {
    ApprovalStore,
    dynamoDbClient,
    MalformedItemError,
    marshalItem,
    unmarshalItem,
    type ApprovalStoreOptions,
    type DecideOutcome,
} from "./store";
export {
    ApprovalPage,
    MAX_BODY_BYTES,
    sfnClient,
    type ApprovalPageOptions,
    type PageLogger,
    type PageRequest,
    type PageResponse,
} from "./page";
export { escapeHtml } from "./html";
export {
    createApprovalPageHandler,
    createFunctionUrlHandler,
    fromFunctionUrlEvent,
    toFunctionUrlResult,
} from "./lambda";
export { serveApprovalPage, type ServedPage } from "./http-adapter";
export {
    approvalIdFor,
    createApprovalRequesterHandler,
    createApprovalRequesterHandlerFromEnv,
    INVALID_REQUEST_ERROR,
    InvalidApprovalRequestError,
    MAX_APPROVAL_TIMEOUT_SECONDS,
    notificationText,
    parseApprovalRequest,
    snsNotifier,
    snsSubject,
    TRUNCATED,
    type ApprovalFields,
    type ApprovalNotification,
    type ApprovalRequest,
    type ApprovalRequesterHandler,
    type ApprovalRequesterOptions,
    type Notifier,
    type RequesterLogger,
    type RequestOutcome,
    type SnsNotifierOptions,
} from "./requester";
