/**
 * The approval page on node:http, bound to 127.0.0.1: for local runs and tests. Plain HTTP (no cookie,
 * nothing that needs HTTPS), the same `handleRequest` as in Lambda.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { MAX_BODY_BYTES, tooLarge, type PageRequest, type PageResponse } from "./page";

export interface ServedPage {
    /** `http://127.0.0.1:<port>` (no trailing slash). */
    readonly url: string;
    close(): Promise<void>;
}

type Handle = (request: PageRequest) => Promise<PageResponse>;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
            return undefined;
        }
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
}

export async function serveApprovalPage(
    handle: Handle,
    options: { readonly port?: number; readonly host?: string } = {},
): Promise<ServedPage> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((req, res) => {
        void (async () => {
            const body = await readBody(req);
            let response: PageResponse;
            if (body === undefined) {
                response = tooLarge();
            } else {
                const url = new URL(req.url ?? "/", "http://127.0.0.1");
                const headers: Record<string, string> = {};
                for (const [name, value] of Object.entries(req.headers)) {
                    if (value !== undefined) {
                        headers[name] = Array.isArray(value) ? value.join(", ") : value;
                    }
                }
                response = await handle({
                    method: req.method ?? "GET",
                    path: url.pathname,
                    query: url.search.slice(1),
                    headers,
                    body,
                });
            }
            res.writeHead(response.status, {
                ...response.headers,
                "content-length": Buffer.byteLength(response.body, "utf8"),
            });
            res.end(req.method === "HEAD" ? undefined : response.body);
        })().catch(() => {
            res.destroy();
        });
    });
    server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://${options.host ?? "127.0.0.1"}:${port}`,
        close: async () => {
            for (const socket of sockets) {
                socket.destroy();
            }
            server.close();
            await once(server, "close");
        },
    };
}
