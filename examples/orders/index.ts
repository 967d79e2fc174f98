/**
 * The order workflow's Pulumi program: two channels, each with its own worker, an approval channel
 * whose approvers (the stack's `approvers`) decide the orders above `approvalThreshold` from a page,
 * and a workflow that waits on all three. Each worker, and the approval page, may answer only this
 * workflow's tasks.
 */
import * as pulumi from "@pulumi/pulumi";
import { ApprovalChannel, CallbackChannel, Workflow } from "callback-workflow";
import { orderDefinition } from "./definition";

const config = new pulumi.Config();

// Worker paths are relative to this project's directory (where Pulumi.yaml is).
const credit = new CallbackChannel("credit", {
    workerEntry: "workers/credit.ts",
    workerEnvironment: { CREDIT_LIMIT: String(config.getNumber("creditLimit") ?? 5000) },
});
const stock = new CallbackChannel("stock", { workerEntry: "workers/stock.ts", maxReceiveCount: 3 });
// Each approver is subscribed by email and gets a signed link of their own for every order to decide.
const approvals = new ApprovalChannel("approvals", { approvers: config.requireObject<string[]>("approvers") });
const orders = new Workflow("orders", {
    definition: orderDefinition({
        credit,
        stock,
        approvals,
        approvalThreshold: config.getNumber("approvalThreshold") ?? 1000,
    }),
});

export const stateMachineArn = orders.stateMachineArn;
export const creditQueueUrl = credit.queueUrl;
export const stockQueueUrl = stock.queueUrl;
/** The approval page's base URL: each approver's link is a page under it. */
export const approvalPageUrl = approvals.pageUrl;
