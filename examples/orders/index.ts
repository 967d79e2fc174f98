/**
 * The order workflow's Pulumi program: two channels, each with its own worker, and a workflow that
 * waits on both. Each worker may answer only this workflow's tasks.
 */
import * as pulumi from "@pulumi/pulumi";
import { CallbackChannel, Workflow } from "callback-workflow";
import { orderDefinition } from "./definition";

const config = new pulumi.Config();

// Worker paths are relative to this project's directory (where Pulumi.yaml is).
const credit = new CallbackChannel("credit", {
    workerEntry: "workers/credit.ts",
    workerEnvironment: { CREDIT_LIMIT: String(config.getNumber("creditLimit") ?? 5000) },
});
const stock = new CallbackChannel("stock", { workerEntry: "workers/stock.ts", maxReceiveCount: 3 });
const orders = new Workflow("orders", { definition: orderDefinition({ credit, stock }) });

export const stateMachineArn = orders.stateMachineArn;
export const creditQueueUrl = credit.queueUrl;
export const stockQueueUrl = stock.queueUrl;
