/**
 * The stock worker: reserves an order's items when there are enough of each (`Stock.Unavailable`
 * otherwise), and picks one item at a time. A real one would call the warehouse's system; this one
 * knows a fixed stock.
 */
import { createCallbackHandler, TaskFailedError, type JsonValue } from "callback-workflow/worker";

interface Item {
    readonly sku: string;
    readonly quantity: number;
}

type StockTask =
    | { readonly action: "reserve"; readonly orderId: string; readonly items: readonly Item[] }
    | { readonly action: "pick"; readonly orderId: string; readonly item: Item };

const IN_STOCK: Readonly<Record<string, number>> = { "sku-apple": 50, "sku-pear": 20, "sku-plum": 0 };

export const handler = createCallbackHandler<StockTask>({
    processor: (message): JsonValue => {
        const task = message.Input;
        if (task?.action === "reserve") {
            const short = task.items.filter((item) => (IN_STOCK[item.sku] ?? 0) < item.quantity);
            if (short.length > 0) {
                throw new TaskFailedError(
                    "Stock.Unavailable",
                    `Not enough in stock for order ${task.orderId}: ${short.map((i) => i.sku).join(", ")}.`,
                );
            }
            return { reserved: task.items.map((i) => i.sku) };
        }
        if (task?.action === "pick") {
            return { picked: task.item.sku, quantity: task.item.quantity };
        }
        throw new TaskFailedError("Stock.UnknownTask", "The task is neither a reservation nor a pick.");
    },
});
