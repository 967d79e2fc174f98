/**
 * scripts/pr-comment.ts against a loopback GitHub REST API: it finds the stack's comment the way
 * pulumi/actions does (heading and marker), across pages, edits it or creates it, and says what is wrong
 * when GitHub refuses.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../components/bundle";
import { REPORT_MARKER, USAGE, commentHeading, failureBody, readInvocation } from "../scripts/pr-comment";

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, "build", "scripts", "pr-comment.js");
const TOKEN = "ghs_test-token";
const RUN_URL = "https://github.com/acme/infra/actions/runs/42";

interface Comment {
    id: number;
    body: string;
}

interface Request {
    readonly method: string;
    readonly url: string;
    readonly body: unknown;
}

/** The issue-comments routes of GitHub's REST API, for one repository and pull request. */
class FakeGitHub {
    readonly requests: Request[] = [];
    comments: Comment[] = [];
    refuse: number | undefined;
    private server: Server | undefined;
    private nextId = 1000;

    async start(): Promise<string> {
        this.server = createServer((req, res) => {
            void this.handle(req).then(([status, payload]) => {
                res.writeHead(status, { "Content-Type": "application/json" });
                res.end(JSON.stringify(payload));
            });
        });
        await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
    }

    async stop(): Promise<void> {
        await new Promise((resolve) => this.server?.close(resolve));
    }

    private async handle(req: IncomingMessage): Promise<[number, unknown]> {
        let raw = "";
        for await (const chunk of req) {
            raw += String(chunk);
        }
        const body = raw === "" ? undefined : (JSON.parse(raw) as unknown);
        this.requests.push({ method: req.method ?? "", url: req.url ?? "", body });
        if (req.headers.authorization !== `Bearer ${TOKEN}`) {
            return [401, { message: "Bad credentials" }];
        }
        if (this.refuse !== undefined) {
            return [this.refuse, { message: "Resource not accessible by integration" }];
        }
        const url = new URL(req.url ?? "", "http://localhost");
        if (req.method === "GET" && url.pathname === "/repos/acme/infra/issues/7/comments") {
            const perPage = Number(url.searchParams.get("per_page") ?? 30);
            const page = Number(url.searchParams.get("page") ?? 1);
            return [200, this.comments.slice((page - 1) * perPage, page * perPage)];
        }
        if (req.method === "POST" && url.pathname === "/repos/acme/infra/issues/7/comments") {
            const comment = { id: this.nextId++, body: (body as { body: string }).body };
            this.comments.push(comment);
            return [201, comment];
        }
        const edit = /^\/repos\/acme\/infra\/issues\/comments\/(\d+)$/.exec(url.pathname);
        if (req.method === "PATCH" && edit !== null) {
            const comment = this.comments.find((c) => c.id === Number(edit[1]));
            if (comment === undefined) {
                return [404, { message: "Not Found" }];
            }
            comment.body = (body as { body: string }).body;
            return [200, comment];
        }
        return [404, { message: "Not Found" }];
    }
}

describe("pull request comment after a failed preview", function () {
    this.timeout(10_000);
    const github = new FakeGitHub();
    let apiUrl: string;
    let dir: string;
    let eventPath: string;

    const comment = (...args: string[]) =>
        run(process.execPath, [SCRIPT, ...args], {
            env: {
                PATH: process.env["PATH"],
                GITHUB_TOKEN: TOKEN,
                GITHUB_REPOSITORY: "acme/infra",
                GITHUB_EVENT_PATH: eventPath,
                GITHUB_API_URL: apiUrl,
            },
        });

    before(async () => {
        apiUrl = await github.start();
        dir = await mkdtemp(path.join(tmpdir(), "pr-comment-"));
        eventPath = path.join(dir, "event.json");
        await writeFile(eventPath, JSON.stringify({ pull_request: { number: 7 } }));
    });
    after(async () => {
        await github.stop();
        await rm(dir, { recursive: true, force: true });
    });
    beforeEach(() => {
        github.comments = [];
        github.requests.length = 0;
        github.refuse = undefined;
    });

    it("must use the heading and marker pulumi/actions edits, so the next good preview replaces it", () => {
        const heading = commentHeading({ project: "callback-workflow", stack: "dev", command: "preview" });
        assert.equal(heading, "#### :tropical_drink: `preview` on callback-workflow/dev");
        const body = failureBody({ project: "callback-workflow", stack: "dev", command: "preview", runUrl: RUN_URL });
        assert.ok(body.startsWith(heading) && body.includes(REPORT_MARKER) && body.includes(RUN_URL));
    });

    it("must replace the stack's comment, on a later page, and leave the other stack's and people's alone", async () => {
        const good = (stack: string) =>
            `${commentHeading({ project: "callback-workflow", stack, command: "preview" })}\n\n<details>\n${REPORT_MARKER}\n<pre>+ 3 to create</pre>\n</details>`;
        github.comments = [
            ...Array.from({ length: 120 }, (_, i) => ({ id: i + 1, body: `review remark ${i}` })),
            { id: 500, body: good("prod") },
            { id: 501, body: good("dev") },
        ];
        const { stdout } = await comment("--stack", "dev", "--run-url", RUN_URL);
        assert.equal(stdout, "updated comment 501 on pull request #7\n");
        assert.deepEqual(
            github.requests.map((r) => `${r.method} ${r.url}`),
            [
                "GET /repos/acme/infra/issues/7/comments?per_page=100&page=1",
                "GET /repos/acme/infra/issues/7/comments?per_page=100&page=2",
                "PATCH /repos/acme/infra/issues/comments/501",
            ],
        );
        assert.match(github.comments.find((c) => c.id === 501)?.body ?? "", /:x: \*\*`pulumi preview` failed\*\*/);
        assert.equal(github.comments.find((c) => c.id === 500)?.body, good("prod"));
        assert.equal(github.comments.length, 122);
    });

    it("must create the comment when the stack has none yet", async () => {
        github.comments = [
            { id: 1, body: "#### :tropical_drink: `preview` on callback-workflow/dev without the marker" },
        ];
        const { stdout } = await comment("--stack", "dev", "--run-url", RUN_URL);
        assert.equal(stdout, "created comment 1000 on pull request #7\n");
        assert.equal(github.comments.length, 2);
        assert.equal(
            github.comments[1]?.body,
            failureBody({ project: "callback-workflow", stack: "dev", command: "preview", runUrl: RUN_URL }),
        );
    });

    it("must name the status and the permission when GitHub refuses (exit 1)", async () => {
        github.refuse = 403;
        await assert.rejects(
            comment("--stack", "dev", "--run-url", RUN_URL),
            (error: { code: number; stderr: string }) => {
                assert.equal(error.code, 1);
                assert.match(
                    error.stderr,
                    /GitHub answered GET \/repos\/acme\/infra\/issues\/7\/comments\?per_page=100&page=1 with 403/,
                );
                assert.match(error.stderr, /permissions: pull-requests: write/);
                return true;
            },
        );
    });

    it("must list every missing argument and setting at once, then the usage (exit 2)", async () => {
        await assert.rejects(
            run(process.execPath, [SCRIPT], { env: { PATH: process.env["PATH"] } }),
            (error: { code: number; stderr: string }) => {
                assert.equal(error.code, 2);
                assert.equal(
                    error.stderr,
                    `--stack is required.\n--run-url is required.\nGITHUB_TOKEN is required.\nGITHUB_REPOSITORY is required.\nGITHUB_EVENT_PATH is required.\n\n${USAGE}\n`,
                );
                return true;
            },
        );
    });

    it("must refuse an event that is not a pull request", async () => {
        const push = path.join(dir, "push.json");
        await writeFile(push, JSON.stringify({ ref: "refs/heads/main" }));
        assert.throws(
            () =>
                readInvocation(["--stack", "dev", "--run-url", RUN_URL], {
                    GITHUB_TOKEN: TOKEN,
                    GITHUB_REPOSITORY: "acme/infra",
                    GITHUB_EVENT_PATH: push,
                }),
            { message: `The event at ${push} is not a pull request (no pull_request.number).` },
        );
    });
});
