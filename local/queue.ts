/**
 * An in-memory SQS queue with the semantics the callback pattern depends on: a received message is
 * invisible for the visibility timeout; its receive count grows with every receive; a message whose
 * receive count has reached maxReceiveCount moves to the dead-letter queue at its next receive, as SQS
 * redrive does; and an event source poller that delivers batches to a worker and honours
 * `batchItemFailures` (deleting only the records that succeeded).
 */
import { randomUUID } from "node:crypto";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export interface QueuedMessage {
    readonly messageId: string;
    readonly body: string;
    readonly sentAt: number;
    receiveCount: number;
    visibleAt: number;
}

export interface QueueOptions {
    readonly arn: string;
    readonly visibilityTimeoutMs: number;
    readonly maxReceiveCount: number;
    /** Called when a message moves to the DLQ. */
    readonly onDeadLetter?: (message: QueuedMessage) => void;
}

export class InMemoryQueue {
    private readonly messages: QueuedMessage[] = [];
    /** Messages moved here after maxReceiveCount receives. */
    public readonly deadLetters: QueuedMessage[] = [];

    constructor(private readonly options: QueueOptions) {}

    public send(body: string, now = Date.now()): string {
        const messageId = randomUUID();
        this.messages.push({ messageId, body, sentAt: now, receiveCount: 0, visibleAt: now });
        return messageId;
    }

    /** Up to `max` visible messages as SQS records; each becomes invisible for the visibility timeout. */
    public receive(max: number, now = Date.now()): SQSRecord[] {
        const records: SQSRecord[] = [];
        for (const message of [...this.messages]) {
            if (records.length >= max) {
                break;
            }
            if (message.visibleAt > now) {
                continue;
            }
            if (message.receiveCount >= this.options.maxReceiveCount) {
                this.remove(message.messageId);
                this.deadLetters.push(message);
                this.options.onDeadLetter?.(message);
                continue;
            }
            message.receiveCount += 1;
            message.visibleAt = now + this.options.visibilityTimeoutMs;
            records.push(this.toRecord(message));
        }
        return records;
    }

    public delete(messageId: string): void {
        this.remove(messageId);
    }

    /** Messages still in the queue, visible or in flight. */
    public get depth(): number {
        return this.messages.length;
    }

    private remove(messageId: string): void {
        const index = this.messages.findIndex((m) => m.messageId === messageId);
        if (index >= 0) {
            this.messages.splice(index, 1);
        }
    }

    private toRecord(message: QueuedMessage): SQSRecord {
        return {
            messageId: message.messageId,
            receiptHandle: `${message.messageId}#${message.receiveCount}`,
            body: message.body,
            attributes: {
                ApproximateReceiveCount: String(message.receiveCount),
                SentTimestamp: String(message.sentAt),
                SenderId: "local-harness",
                ApproximateFirstReceiveTimestamp: String(message.sentAt),
            },
            messageAttributes: {},
            md5OfBody: "",
            eventSource: "aws:sqs",
            eventSourceARN: this.options.arn,
            awsRegion: "local",
        };
    }
}

/** What an invocation of the worker returned: its batch response, or the error it failed with. */
export type InvocationResult =
    | { readonly ok: true; readonly result: SQSBatchResponse }
    | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

export interface PollerOptions {
    readonly batchSize: number;
    readonly pollIntervalMs: number;
    readonly invoke: (event: SQSEvent) => Promise<InvocationResult>;
    readonly onInvocation?: (records: readonly SQSRecord[], result: InvocationResult) => void;
}

/**
 * Lambda's SQS event source mapping in miniature: polls, invokes with a batch, deletes the records that
 * succeeded. A failed invocation deletes nothing; failed records reappear after the visibility timeout.
 */
export class EventSourcePoller {
    private running = false;
    private loop: Promise<void> | undefined;

    constructor(
        private readonly queue: InMemoryQueue,
        private readonly options: PollerOptions,
    ) {}

    public start(): void {
        this.running = true;
        this.loop = this.run();
    }

    public async stop(): Promise<void> {
        this.running = false;
        await this.loop;
    }

    private async run(): Promise<void> {
        while (this.running) {
            const records = this.queue.receive(this.options.batchSize);
            if (records.length === 0) {
                await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs));
                continue;
            }
            const result = await this.options.invoke({ Records: records });
            const failed = new Set(
                result.ok
                    ? result.result.batchItemFailures.map((f) => f.itemIdentifier)
                    : records.map((r) => r.messageId),
            );
            for (const record of records) {
                if (!failed.has(record.messageId)) {
                    this.queue.delete(record.messageId);
                }
            }
            this.options.onInvocation?.(records, result);
        }
    }
}
