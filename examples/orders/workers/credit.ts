/**
 * The credit worker: approves an order whose total is within the customer's limit, declines it
 * otherwise (`Credit.Declined`, which fails the order).
 */
import { createCallbackHandler, TaskFailedError } from "callback-workflow/worker";

interface CreditCheck {
    readonly customerId: string;
    readonly total: number;
}

export const handler = createCallbackHandler<CreditCheck>({
    processor: (message) => {
        const limit = Number(process.env["CREDIT_LIMIT"] ?? "5000");
        const { customerId, total } = message.Input ?? { customerId: "", total: Number.NaN };
        if (!(total <= limit)) {
            throw new TaskFailedError("Credit.Declined", `The total ${total} is over the credit limit ${limit}.`);
        }
        return { approved: true, customerId, limit };
    },
});
