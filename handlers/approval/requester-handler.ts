/**
 * The approval requester's Lambda entry (bundled by `ApprovalChannel` as its channel's worker): SQS
 * approval requests become pending approvals and one notification per approver, through SNS
 * (`APPROVAL_TOPIC_ARN`). A channel with a `notifierEntry` bundles a generated entry instead, which gives
 * the same handler the consumer's notifier.
 */
import { createApprovalRequesterHandlerFromEnv } from "./requester";

export const handler = createApprovalRequesterHandlerFromEnv();
