/**
 * The order workflow, as typed ASL: reject an empty order, have an approver decide an order above the
 * approval threshold (an approval step: a person, from a page), check the customer's credit and reserve
 * the stock in parallel (two callback steps on two channels), wait for the pick-up slot, pick each item (a
 * callback step per item, in a Map), and succeed; any failed step fails the order with its own error (a
 * rejection with `Approval.Rejected` and the approver's comment, no decision in time with `States.Timeout`).
 */
import type { ApprovalChannel, CallbackChannel, StateMachineDefinition } from "callback-workflow";

/** How long each callback step waits for its worker. */
export const STEP_TIMEOUT_SECONDS = 3600;
/** How long the approvers have to decide an order (their links expire then): a day. */
export const APPROVAL_TIMEOUT_SECONDS = 86_400;

/** The execution input. */
export interface Order {
    readonly orderId: string;
    readonly customerId: string;
    readonly total: number;
    readonly items: readonly { readonly sku: string; readonly quantity: number }[];
}

export function orderDefinition(options: {
    readonly credit: CallbackChannel;
    readonly stock: CallbackChannel;
    readonly approvals: ApprovalChannel;
    /** Orders whose total is above it wait for an approver's decision first. */
    readonly approvalThreshold: number;
}): StateMachineDefinition {
    const { credit, stock, approvals, approvalThreshold } = options;
    return {
        Comment:
            "Has an approver decide a large order, checks credit and reserves stock in parallel, then picks each item; each step answered by its worker.",
        StartAt: "Check order",
        // The execution's own bound: the steps' timeouts, one after the other, and a margin.
        TimeoutSeconds: APPROVAL_TIMEOUT_SECONDS + 3 * STEP_TIMEOUT_SECONDS + 300,
        States: {
            "Check order": {
                Type: "Choice",
                Choices: [
                    { Variable: "$.items[0]", IsPresent: false, Next: "Reject empty order" },
                    { Variable: "$.total", NumericGreaterThan: approvalThreshold, Next: "Approve large order" },
                ],
                Default: "Check credit and reserve stock",
            },
            // The approvers read the title and details on the page; the decision goes under $.approval.
            "Approve large order": approvals.waitForApproval({
                title: "States.Format('Order {} of customer {}: {} in total', $.orderId, $.customerId, $.total)",
                details:
                    "States.Format('Items: {}. Once approved, the credit is checked and the stock reserved.', States.JsonToString($.items))",
                timeoutSeconds: APPROVAL_TIMEOUT_SECONDS,
                // Rejected (the approver's comment is the cause) or not decided in time: the order fails.
                catch: [
                    {
                        ErrorEquals: ["Approval.Rejected", "States.Timeout"],
                        ResultPath: "$.error",
                        Next: "Order failed",
                    },
                ],
                next: "Check credit and reserve stock",
            }),
            "Check credit and reserve stock": {
                Type: "Parallel",
                Branches: [
                    {
                        StartAt: "Check credit",
                        States: {
                            "Check credit": credit.waitForCallback({
                                timeoutSeconds: STEP_TIMEOUT_SECONDS,
                                messageTitle: "Check the customer's credit for this order.",
                                input: { "customerId.$": "$.customerId", "total.$": "$.total" },
                                end: true,
                            }),
                        },
                    },
                    {
                        StartAt: "Reserve stock",
                        States: {
                            "Reserve stock": stock.waitForCallback({
                                timeoutSeconds: STEP_TIMEOUT_SECONDS,
                                messageTitle: "Reserve the order's items.",
                                input: { action: "reserve", "orderId.$": "$.orderId", "items.$": "$.items" },
                                end: true,
                            }),
                        },
                    },
                ],
                // [credit's answer, stock's answer], beside the order.
                ResultPath: "$.checks",
                Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Order failed" }],
                Next: "Wait for the pick-up slot",
            },
            "Wait for the pick-up slot": { Type: "Wait", Seconds: 2, Next: "Pick each item" },
            "Pick each item": {
                Type: "Map",
                ItemsPath: "$.items",
                ItemSelector: { "orderId.$": "$.orderId", "item.$": "$$.Map.Item.Value" },
                MaxConcurrency: 5,
                ItemProcessor: {
                    ProcessorConfig: { Mode: "INLINE" },
                    StartAt: "Pick item",
                    States: {
                        "Pick item": stock.waitForCallback({
                            timeoutSeconds: STEP_TIMEOUT_SECONDS,
                            messageTitle: "Pick one item of the order.",
                            input: { action: "pick", "orderId.$": "$.orderId", "item.$": "$.item" },
                            end: true,
                        }),
                    },
                },
                ResultPath: "$.picked",
                Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Order failed" }],
                Next: "Order accepted",
            },
            "Order accepted": { Type: "Succeed" },
            "Reject empty order": { Type: "Fail", Error: "Order.Empty", Cause: "The order has no items." },
            "Order failed": { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
        },
    };
}
