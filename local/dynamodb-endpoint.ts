/**
 * A DynamoDB endpoint on 127.0.0.1 that speaks the service's wire protocol (AWS JSON 1.0) for the calls
 * the approval store makes: GetItem, PutItem and UpdateItem, with the expressions it writes
 * (`attribute_exists`, `attribute_not_exists`, comparisons, `AND`; `SET` and `REMOVE`),
 * `ReturnValues` and `ReturnValuesOnConditionCheckFailure`. Anything else is a ValidationException, so
 * a store that grows beyond the subset fails loudly here instead of passing on a guess.
 *
 * Why not dynalite: dynalite 4 stores through `level`, whose `classic-level` builds a native binding in
 * an install script; this repository allows no install scripts. DynamoDB Local needs Java.
 *
 * Requests are `POST /`, `Content-Type: application/x-amz-json-1.0`,
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`, SigV4-signed; errors are HTTP 400 with
 * `{"__type": "com.amazonaws.dynamodb.v20120810#Code", "message": ...}` (plus `Item` for a failed
 * condition with ALL_OLD). Each request is handled whole before the next, as one item's writes are
 * serialised by DynamoDB: of two concurrent conditional writes exactly one wins.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isDeepStrictEqual } from "node:util";
import { LoopbackServer, readBody } from "./loopback";

/** One attribute value as the wire carries it (`{"S": "..."}`, `{"N": "1"}`, `{"L": [...]}`, ...). */
export type WireValue = Record<string, unknown>;
export type WireItem = Record<string, WireValue>;

export interface DynamoCall {
    readonly operation: string;
    readonly body: Record<string, unknown>;
    readonly index: number;
}

class DynamoError extends Error {
    constructor(
        public readonly code: string,
        message: string,
        public readonly extra: Record<string, unknown> = {},
    ) {
        super(message);
    }
}

const validation = (message: string): DynamoError => new DynamoError("ValidationException", message);

interface Context {
    readonly names: Record<string, string>;
    readonly values: Record<string, WireValue>;
    readonly usedNames: Set<string>;
    readonly usedValues: Set<string>;
}

/** Tokens of the expression subset. */
function tokenize(expression: string): string[] {
    const tokens = expression.match(/#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*|<>|<=|>=|[=<>(),]|\S/g);
    return tokens ?? [];
}

function attributeName(token: string | undefined, context: Context): string {
    if (token === undefined) {
        throw validation("Invalid expression: an attribute name is missing.");
    }
    if (token.startsWith("#")) {
        const name = context.names[token];
        if (name === undefined) {
            throw validation(
                `An expression attribute name used in the document path is not defined; attribute name: ${token}`,
            );
        }
        context.usedNames.add(token);
        return name;
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) {
        return token;
    }
    throw validation(`Invalid expression: unexpected token ${token}.`);
}

function operandValue(token: string | undefined, item: WireItem | undefined, context: Context): WireValue | undefined {
    if (token?.startsWith(":")) {
        const value = context.values[token];
        if (value === undefined) {
            throw validation(
                `An expression attribute value used in expression is not defined; attribute value: ${token}`,
            );
        }
        context.usedValues.add(token);
        return value;
    }
    return item?.[attributeName(token, context)];
}

function compare(left: WireValue | undefined, op: string, right: WireValue | undefined): boolean {
    if (left === undefined || right === undefined) {
        return op === "<>" ? !isDeepStrictEqual(left, right) : false;
    }
    if (op === "=") {
        return isDeepStrictEqual(left, right);
    }
    if (op === "<>") {
        return !isDeepStrictEqual(left, right);
    }
    let order: number;
    if (typeof left["S"] === "string" && typeof right["S"] === "string") {
        order = Buffer.compare(Buffer.from(left["S"]), Buffer.from(right["S"]));
    } else if (typeof left["N"] === "string" && typeof right["N"] === "string") {
        order = Math.sign(Number(left["N"]) - Number(right["N"]));
    } else {
        return false; // different types never compare
    }
    return op === "<" ? order < 0 : op === "<=" ? order <= 0 : op === ">" ? order > 0 : order >= 0;
}

/** Evaluates a ConditionExpression of the subset against `item` (undefined when absent). */
function evaluateCondition(expression: string, item: WireItem | undefined, context: Context): boolean {
    const tokens = tokenize(expression);
    let position = 0;
    const next = (): string | undefined => tokens[position++];
    const expect = (token: string): void => {
        if (next() !== token) {
            throw validation(`Invalid ConditionExpression: expected ${token}.`);
        }
    };
    let result = true;
    for (;;) {
        const head = next();
        let term: boolean;
        if (head === "attribute_exists" || head === "attribute_not_exists") {
            expect("(");
            const name = attributeName(next(), context);
            expect(")");
            const exists = item !== undefined && item[name] !== undefined;
            term = head === "attribute_exists" ? exists : !exists;
        } else {
            const left = operandValue(head, item, context);
            const op = next();
            if (op === undefined || !["=", "<>", "<", "<=", ">", ">="].includes(op)) {
                throw validation(`Invalid ConditionExpression: unsupported operator ${String(op)}.`);
            }
            term = compare(left, op, operandValue(next(), item, context));
        }
        result = result && term;
        const joiner = next();
        if (joiner === undefined) {
            return result;
        }
        if (joiner !== "AND") {
            throw validation(`Invalid ConditionExpression: ${joiner} is not supported here (only AND).`);
        }
    }
}

/** Applies an UpdateExpression of the subset (`SET a = :v, ...` and `REMOVE a, ...`) to a copy. */
function applyUpdate(expression: string, item: WireItem, context: Context): WireItem {
    const tokens = tokenize(expression);
    const updated: WireItem = { ...item };
    let position = 0;
    let clause: string | undefined;
    while (position < tokens.length) {
        const token = tokens[position];
        if (token === "SET" || token === "REMOVE") {
            clause = token;
            position += 1;
            continue;
        }
        if (token === ",") {
            position += 1;
            continue;
        }
        const name = attributeName(token, context);
        position += 1;
        if (clause === "SET") {
            if (tokens[position] !== "=") {
                throw validation("Invalid UpdateExpression: SET needs name = value.");
            }
            const valueToken = tokens[position + 1];
            const value = operandValue(valueToken, item, context);
            if (value === undefined) {
                throw validation("The provided expression refers to an attribute that does not exist in the item");
            }
            updated[name] = value;
            position += 2;
        } else if (clause === "REMOVE") {
            delete updated[name];
        } else {
            throw validation("Invalid UpdateExpression: only SET and REMOVE are supported.");
        }
    }
    return updated;
}

function checkAllUsed(context: Context): void {
    const unusedNames = Object.keys(context.names).filter((name) => !context.usedNames.has(name));
    if (unusedNames.length > 0) {
        throw validation(
            `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(", ")}}`,
        );
    }
    const unusedValues = Object.keys(context.values).filter((name) => !context.usedValues.has(name));
    if (unusedValues.length > 0) {
        throw validation(
            `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(", ")}}`,
        );
    }
}

export class FakeDynamoDb {
    /** Every well-formed call, in order. */
    public readonly calls: DynamoCall[] = [];
    /** Requests refused for breaking the protocol. */
    public readonly protocolErrors: string[] = [];
    /** The table's items by partition key value. */
    public readonly items = new Map<string, WireItem>();
    private server!: LoopbackServer;

    private constructor(
        public readonly tableName: string,
        public readonly partitionKey: string,
    ) {}

    /** Starts the endpoint on an ephemeral port of 127.0.0.1, with one table keyed by a string. */
    public static async start(tableName: string, partitionKey: string): Promise<FakeDynamoDb> {
        const fake = new FakeDynamoDb(tableName, partitionKey);
        fake.server = await LoopbackServer.start((req, res) => fake.handle(req, res));
        return fake;
    }

    public get url(): string {
        return this.server.url;
    }

    public callsOf(operation: string): DynamoCall[] {
        return this.calls.filter((call) => call.operation === operation);
    }

    public reset(): void {
        this.calls.length = 0;
        this.protocolErrors.length = 0;
        this.items.clear();
    }

    public close(): Promise<void> {
        return this.server.close();
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const raw = await readBody(req);
        const target = String(req.headers["x-amz-target"] ?? "");
        const operation = target.startsWith("DynamoDB_20120810.") ? target.slice(18) : "";
        const problem =
            req.method !== "POST" || req.url !== "/"
                ? `${req.method} ${req.url}`
                : req.headers["content-type"] !== "application/x-amz-json-1.0"
                  ? `content-type ${req.headers["content-type"]}`
                  : !String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")
                    ? "no SigV4 authorization"
                    : !["GetItem", "PutItem", "UpdateItem"].includes(operation)
                      ? `target ${target}`
                      : undefined;
        if (problem !== undefined) {
            this.protocolErrors.push(problem);
            return this.write(res, 400, {
                __type: "com.amazon.coral.service#UnknownOperationException",
                message: problem,
            });
        }
        let body: Record<string, unknown>;
        try {
            body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
            this.protocolErrors.push("body is not JSON");
            return this.write(res, 400, { __type: "com.amazon.coral.service#SerializationException" });
        }
        this.calls.push({ operation, body, index: this.calls.length });
        try {
            this.write(res, 200, this.operate(operation, body));
        } catch (error) {
            if (!(error instanceof DynamoError)) {
                throw error;
            }
            if (error.code === "ValidationException") {
                this.protocolErrors.push(`${operation}: ${error.message}`);
            }
            this.write(res, 400, {
                __type: `com.amazonaws.dynamodb.v20120810#${error.code}`,
                message: error.message,
                ...error.extra,
            });
        }
    }

    private operate(operation: string, body: Record<string, unknown>): Record<string, unknown> {
        if (body["TableName"] !== this.tableName) {
            throw new DynamoError("ResourceNotFoundException", "Requested resource not found");
        }
        const context: Context = {
            names: (body["ExpressionAttributeNames"] as Record<string, string> | undefined) ?? {},
            values: (body["ExpressionAttributeValues"] as Record<string, WireValue> | undefined) ?? {},
            usedNames: new Set(),
            usedValues: new Set(),
        };
        const keyOf = (item: WireItem | undefined): string => {
            const key = item?.[this.partitionKey];
            if (item === undefined || key === undefined || typeof key["S"] !== "string") {
                throw validation("The provided key element does not match the schema");
            }
            if (Object.keys(item).length !== 1 && operation !== "PutItem") {
                throw validation("The provided key element does not match the schema");
            }
            return key["S"];
        };
        const condition = body["ConditionExpression"] as string | undefined;
        const failedCondition = (old: WireItem | undefined): DynamoError =>
            new DynamoError(
                "ConditionalCheckFailedException",
                "The conditional request failed",
                body["ReturnValuesOnConditionCheckFailure"] === "ALL_OLD" && old !== undefined ? { Item: old } : {},
            );
        switch (operation) {
            case "GetItem": {
                const item = this.items.get(keyOf(body["Key"] as WireItem));
                return item === undefined ? {} : { Item: item };
            }
            case "PutItem": {
                const item = body["Item"] as WireItem;
                const key = keyOf(item);
                const old = this.items.get(key);
                if (condition !== undefined && !evaluateCondition(condition, old, context)) {
                    checkAllUsed(context);
                    throw failedCondition(old);
                }
                checkAllUsed(context);
                this.items.set(key, item);
                return {};
            }
            case "UpdateItem": {
                const keyItem = body["Key"] as WireItem;
                const key = keyOf(keyItem);
                const old = this.items.get(key);
                const conditionHolds = condition === undefined || evaluateCondition(condition, old, context);
                const updated = applyUpdate(
                    typeof body["UpdateExpression"] === "string" ? body["UpdateExpression"] : "",
                    old ?? { ...keyItem },
                    context,
                );
                checkAllUsed(context);
                if (!conditionHolds) {
                    throw failedCondition(old);
                }
                this.items.set(key, updated);
                const returnValues = body["ReturnValues"] ?? "NONE";
                if (returnValues === "ALL_NEW") {
                    return { Attributes: updated };
                }
                if (returnValues === "ALL_OLD") {
                    return old === undefined ? {} : { Attributes: old };
                }
                if (returnValues !== "NONE") {
                    throw validation(`ReturnValues ${JSON.stringify(returnValues)} is not supported by this fake.`);
                }
                return {};
            }
            default:
                throw validation(`Unsupported operation ${operation}.`);
        }
    }

    private write(res: ServerResponse, status: number, body: unknown): void {
        const text = JSON.stringify(body);
        res.writeHead(status, {
            "content-type": "application/x-amz-json-1.0",
            "content-length": Buffer.byteLength(text),
            "x-amzn-requestid": `fake-dynamodb-${this.calls.length}`,
        });
        res.end(text);
    }
}
