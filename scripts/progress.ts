/**
 * What a long command is doing, on stderr so that stdout keeps only its result: one line per stage
 * (`bench: classic example…: 15 cold starts…`). On a terminal the stage's line also shows a bar and a count that
 * update in place; elsewhere (CI logs, a pipe) only the stage lines are written.
 */
export class Progress {
    private line = "";
    /** Whether a terminal line is written without its newline yet. */
    private open = false;

    constructor(
        private readonly prefix: string,
        private readonly stream: Pick<NodeJS.WriteStream, "write" | "isTTY"> = process.stderr,
    ) {}

    /** Starts a stage: `<prefix>: <text>…`. */
    stage(text: string): void {
        this.close();
        this.line = `${this.prefix}: ${text}…`;
        if (this.stream.isTTY === true) {
            this.stream.write(this.line);
            this.open = true;
        } else {
            this.stream.write(`${this.line}\n`);
        }
    }

    /** `done` of `total` steps of the current stage: a bar on a terminal, nothing elsewhere. */
    step(done: number, total: number): void {
        if (!this.open) {
            return;
        }
        const width = 20;
        const filled = Math.round((Math.min(done, total) / Math.max(total, 1)) * width);
        this.stream.write(`\r\x1b[K${this.line} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}`);
    }

    /** Ends the current stage's line (on a terminal); a final `<prefix>: <text>` line when given. */
    end(text?: string): void {
        this.close();
        if (text !== undefined) {
            this.stream.write(`${this.prefix}: ${text}\n`);
        }
    }

    private close(): void {
        if (this.open) {
            this.stream.write("\n");
            this.open = false;
        }
    }
}
