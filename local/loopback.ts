/**
 * An HTTP server on an ephemeral port of 127.0.0.1 for the loopback fakes of AWS services
 * (sfn-endpoint.ts, dynamodb-endpoint.ts, sns-endpoint.ts, secrets-endpoint.ts): started, addressed, and
 * closed with its open connections.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export class LoopbackServer {
    private readonly server: Server;
    private readonly sockets = new Set<Socket>();

    private constructor(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
        this.server = createServer((req, res) => void handle(req, res));
        this.server.on("connection", (socket) => {
            this.sockets.add(socket);
            socket.on("close", () => this.sockets.delete(socket));
        });
    }

    /** Listens on 127.0.0.1 at a port the system picks. */
    public static async start(
        handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
    ): Promise<LoopbackServer> {
        const loopback = new LoopbackServer(handle);
        loopback.server.listen(0, "127.0.0.1");
        await once(loopback.server, "listening");
        return loopback;
    }

    public get url(): string {
        const { port } = this.server.address() as AddressInfo;
        return `http://127.0.0.1:${port}`;
    }

    /** Closes the server and every connection still open (SDK clients keep them alive). */
    public async close(): Promise<void> {
        for (const socket of this.sockets) {
            socket.destroy();
        }
        this.server.close();
        await once(this.server, "close");
    }
}

/** A request's whole body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
}

/** An error a fake answers with instead of serving a call (`failNext`): its code, message and HTTP status. */
export interface InjectedFailure {
    readonly code: string;
    readonly message: string;
    readonly status: number;
}
