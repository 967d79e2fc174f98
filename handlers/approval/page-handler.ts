/**
 * The approval page's Lambda entry (bundled by `ApprovalChannel`): API Gateway HTTP API events (payload
 * format 2.0, the shape function URLs use too) → the page. Configured by `APPROVAL_TABLE_NAME`,
 * `APPROVAL_KEY_RING_SECRET_ID` and `APPROVAL_CALL_TIMEOUT_MS`.
 */
import { createApprovalPageHandler } from "./lambda";

export const handler = createApprovalPageHandler();
