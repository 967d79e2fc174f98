/**
 * `npm start -- --scenario human-approval` end to end: the dev stack rendered with approvers on the local
 * harness, the requester as the program bundled it, the approval page on 127.0.0.1, and a decision made
 * from the link the scenario prints: over HTTP as a browser would (GET the page, read its form, POST a
 * button's decision), and in a real headless Chromium. No decision ends in States.Timeout. Nothing
 * printed carries the task token.
 *
 * One render, then every run at once (each has its own harness, page and fakes), started in before();
 * each test reads its own run. The runs that decide use a faster stack clock so that a decision that
 * never comes ends the run within the test's time, not after the task's 750 s.
 */
import { strict as assert } from "node:assert";
import { APPROVAL_ATTRIBUTES } from "../handlers/approval/contract";
import { INITIAL_RING_TOKEN } from "../handlers/approval/key-ring";
import {
    approvalStackSettings,
    LOCAL_APPROVER,
    type ApprovalDecision,
    type LocalApprovalHarness,
} from "../local/approval-scenario";
import { expectationFor, parseCli, renderScenarioStack, runCli, runScenario, type ScenarioReport } from "../local/cli";
import type { RenderedStack } from "../local/harness";
import { launchBrowser, openPage, closePage, type LaunchedBrowser } from "./harness/browser";

/** A promise's outcome, kept until a test reads it (no unhandled rejection meanwhile). */
type Settled<T> = Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;
const settle = <T>(promise: Promise<T>): Settled<T> =>
    promise.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
    );
async function outcome<T>(settled: Settled<T>): Promise<T> {
    const result = await settled;
    if (!result.ok) {
        throw result.error;
    }
    return result.value;
}

/** The link lines of printed text, as the scenario prints them: at column 0. */
const LINK_LINE = /^approval link: (\S+)$/gm;
const linksIn = (text: string): string[] => [...text.matchAll(LINK_LINE)].map((m) => m[1] as string);

/** The form's hidden fields of an approval page (attributes in any order). */
function hiddenFields(html: string): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const [tag] of html.matchAll(/<input\b[^>]*>/g)) {
        const attribute = (name: string): string | undefined =>
            new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1]?.replaceAll("&amp;", "&");
        const name = attribute("name");
        if (attribute("type") === "hidden" && name !== undefined) {
            fields[name] = attribute("value") ?? "";
        }
    }
    return fields;
}

/** What a browser does with the link: GET the page, then POST its form with one button's decision. */
async function decideOverHttp(link: string, decision: "approve" | "reject", comment: string): Promise<number> {
    const page = await fetch(link);
    assert.equal(page.status, 200, "the request page with its form");
    const fields = hiddenFields(await page.text());
    assert.deepEqual(Object.keys(fields).sort(), ["f", "i", "n"], "the form's anti-forgery fields");
    const posted = await fetch(link, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
        body: new URLSearchParams({ ...fields, decision, comment }).toString(),
        redirect: "manual",
    });
    await posted.text();
    return posted.status;
}

interface CliRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly observed: Observed;
    readonly posted: number | undefined;
}

interface Run {
    readonly report: ScenarioReport;
    /** Everything the scenario printed (its own lines through `say`). */
    readonly printed: string;
    readonly observed: Observed;
    readonly posted: number | undefined;
}

/** What a run left in its fakes and page: the tokens stored (to look for), what broke a protocol, the ring. */
interface Observed {
    readonly tokens: readonly string[];
    readonly protocolErrors: readonly string[];
    /** The key ring secret's versions: the requester puts the first (the secret starts empty). */
    readonly ringVersions: readonly string[];
    readonly pageLogs: string;
}

function observed(harness: LocalApprovalHarness | undefined): Observed {
    if (harness === undefined) {
        throw new Error("The scenario's harness did not start.");
    }
    return {
        tokens: [...harness.dynamo.items.values()].flatMap((item) => {
            const token = item[APPROVAL_ATTRIBUTES.taskToken]?.["S"];
            return typeof token === "string" ? [token] : [];
        }),
        protocolErrors: [
            ...harness.dynamo.protocolErrors,
            ...harness.sns.protocolErrors,
            ...harness.secrets.protocolErrors,
        ],
        ringVersions: harness.secrets.versionsOf(harness.approval.secretName).map((v) => v.versionId),
        pageLogs: JSON.stringify(harness.pageLogs),
    };
}

describe("npm start -- --scenario human-approval: a person decides on the local approval page", function () {
    this.timeout(60_000);
    let stack: RenderedStack;
    let approved: Settled<Run>;
    let rejectedJson: Settled<CliRun>;
    let nobodyText: Settled<CliRun>;
    let inBrowser: Settled<Run>;
    let browser: Settled<LaunchedBrowser>;

    /** One run of the scenario on the rendered stack; `decide` answers the first link printed. */
    function run(timeScale: number, decide?: (link: string) => Promise<number>): Promise<Run> {
        let harness: LocalApprovalHarness | undefined;
        let decided: Settled<number> | undefined;
        const printed: string[] = [];
        return runScenario("human-approval", {
            stack,
            timeScale,
            say: (text) => {
                printed.push(text);
                const [link] = linksIn(text);
                if (link !== undefined && decide !== undefined && decided === undefined) {
                    decided = settle(decide(link));
                }
            },
            onApprovalStarted: (started) => (harness = started),
        }).then(async (report) => ({
            report,
            printed: printed.join("\n"),
            observed: observed(harness),
            posted: decided === undefined ? undefined : await outcome(decided),
        }));
    }

    /**
     * The scenario through the command line's own function, `runCli`; `decide` answers the first link
     * printed (stdout, or stderr with --json). `onStarted`: its render is over, its harness up.
     */
    async function cli(
        argv: readonly string[],
        decide?: (link: string) => Promise<number>,
        onStarted?: () => void,
    ): Promise<CliRun> {
        const stdout: string[] = [];
        const stderr: string[] = [];
        let harness: LocalApprovalHarness | undefined;
        let posted: Settled<number> | undefined;
        const watch = (into: string[]) => (text: string) => {
            into.push(text);
            const [link] = linksIn(text);
            if (link !== undefined && decide !== undefined) {
                posted ??= settle(decide(link));
            }
        };
        const code = await runCli(
            ["--scenario", "human-approval", ...argv],
            { stdout: watch(stdout), stderr: watch(stderr) },
            {
                onApprovalStarted: (started) => {
                    harness = started;
                    onStarted?.();
                },
            },
        );
        return {
            code,
            stdout: stdout.join("\n"),
            stderr: stderr.join("\n"),
            observed: observed(harness),
            posted: posted === undefined ? undefined : await outcome(posted),
        };
    }

    before(async () => {
        browser = settle(launchBrowser());
        stack = await renderScenarioStack(undefined, "dev", "human-approval");
        approved = settle(run(25, (link) => decideOverHttp(link, "approve", "Looks right.")));
        // Started once the browser is up: no browser fails the test at once (never a skip).
        inBrowser = settle(
            outcome(browser).then(({ browser: chromium }) =>
                run(25, async (link) => {
                    const page = await openPage(chromium, link);
                    try {
                        await page.getByLabel(/comment/i).fill("Checked in the browser.");
                        const [response] = await Promise.all([
                            page.waitForResponse((r) => r.request().method() === "POST"),
                            page.getByRole("button", { name: "Approve" }).click(),
                        ]);
                        return response.status();
                    } finally {
                        await closePage(page);
                    }
                }),
            ),
        );
        // Through the command line's own function. A render runs alone (the mocked runtime is one per
        // process): the second command starts once the first's harness is up.
        let rendered: () => void = () => undefined;
        const firstRendered = new Promise<void>((resolve) => (rendered = resolve));
        rejectedJson = settle(
            cli(
                ["--time-scale", "25", "--json"],
                (link) => decideOverHttp(link, "reject", "Over budget: wait for Q3."),
                () => rendered(),
            ),
        );
        nobodyText = settle(firstRendered.then(() => cli(["--time-scale", "1000"])));
    });
    after(async () => {
        await Promise.all([approved, nobodyText, rejectedJson, inBrowser]);
        const launched = await browser;
        if (launched.ok) {
            await launched.value.close();
        }
    });

    /**
     * No task token in any of `texts` nor in the page's logs (there was one to look for); the requester's
     * and the page's calls all in the fakes' protocol; the first key ring put by the requester, once.
     */
    function assertRun(seen: Observed, ...texts: string[]): void {
        assert.equal(seen.tokens.length, 1, "the requester stored one approval, with its task token");
        for (const token of seen.tokens) {
            for (const text of [...texts, seen.pageLogs]) {
                assert.ok(!text.includes(token), "no task token in what was printed");
            }
        }
        assert.deepEqual(seen.protocolErrors, [], "every DynamoDB, SNS and Secrets Manager call in the fakes' subset");
        assert.deepEqual(seen.ringVersions, [INITIAL_RING_TOKEN], "the requester put the first ring, once");
    }

    it("must print the approver's notification and its link once, at column 0; Approve → Notify Success → SUCCEEDED", async () => {
        const { report, printed, observed: seen, posted } = await outcome(approved);
        assert.equal(posted, 200, "the POST decided");
        assert.match(
            printed,
            /^Notification for approver@example\.com \(SNS topic callback-approvers-0a1b2c3: email to approver@example\.com\):$/m,
        );
        assert.match(printed, /^ {4}Subject: Approve execution local-1 of callback-state-machine-0a1b2c3$/m);
        assert.match(printed, /^ {4}> \{"order":42\}$/m, "the execution's input as the details, quoted");
        const links = linksIn(printed);
        assert.equal(links.length, 1);
        assert.match(
            links[0] ?? "",
            /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}\?a=approver%40example\.com&e=\d+&k=k1&s=/,
        );
        assert.equal(printed.split(links[0] ?? "").length, 2, "the link once");
        assert.equal(report.status, "SUCCEEDED");
        assert.ok(report.asExpected, `${report.expected}: ${report.expectedBecause}`);
        assert.equal(report.expected, "SUCCEEDED");
        assert.match(report.expectedBecause, /^approver@example\.com approved at \S+ \(comment: "Looks right\."\)$/);
        assert.deepEqual(
            report.trace.filter((e) => e.source === "state" && e.text.startsWith("entered")).map((e) => e.text),
            [
                "entered Prepare Task Input",
                "entered Check Task Input",
                "entered Start Task And Wait For Callback",
                "entered Notify Success",
                "entered Callback Succeeded",
            ],
        );
        const output = report.output as Record<string, unknown>;
        assert.equal(output["decision"], "approved");
        assert.equal(output["approver"], "approver@example.com", "the output says who decided");
        assert.equal(output["comment"], "Looks right.");
        assert.equal(report.approval?.decision?.delivery, "sent");
        assert.deepEqual(
            report.approval?.pageVisits.map((v) => `${v.method} ${v.status}${v.decision ? ` ${v.decision}` : ""}`),
            ["GET 200", "POST 200 approve"],
        );
        assertRun(seen, printed, JSON.stringify(report));
        assert.ok(!JSON.stringify(report).includes(links[0] ?? ""), "the link is not in the report");
    });

    it("must print the trace, the link at column 0 and the summary on stdout; nobody deciding ends in States.Timeout, exit 1", async () => {
        const { code, stdout, stderr, observed: seen } = await outcome(nobodyText);
        assert.equal(code, 1, "no decision: not the path of one");
        assert.equal(stderr, "");
        assert.match(
            stdout,
            /^Scenario human-approval: a person decides in a browser, .*\n\(local harness: the dev stack's definition with approvers \[approver@example\.com\] \(the stack has none\), no heartbeatSeconds \(the stack's 300: an approval has no heartbeat\), taskTimeoutSeconds 750, the least the stack's retry settings allow/,
        );
        assert.equal(linksIn(stdout).length, 1, "the link, once, on a line of its own");
        assert.match(stdout, /^\+ +[\d.]+ s {2}sqs {7}message \S+ sent \(token sha256:[0-9a-f]+\)$/m);
        assert.match(stdout, /^Open the link in a browser and choose Approve or Reject/m);
        assert.match(stdout, /^\+ +[\d.]+ s {2}state {5}failed {2}Start Task And Wait For Callback: States\.Timeout/m);
        assert.match(
            stdout,
            /^\+ +[\d.]+ s {2}sns {7}published "Callback workflow failed": .* failed: \{"Error":"States\.Timeout"/m,
        );
        assert.match(
            stdout,
            /^FAILED \(States\.Timeout\) in \d+ ms \(\d+ s of stack time\); expected SUCCEEDED on Approve, FAILED \(Approval\.Rejected\) on Reject: nobody decided within the task's 750 s$/m,
        );
        assertRun(seen, stdout);
    });

    it("must keep stdout one JSON document with --json, the link on stderr; Reject with a comment → FAILED with it as the cause, exit 0", async () => {
        const { code, stdout, stderr, observed: seen, posted } = await outcome(rejectedJson);
        assert.equal(posted, 200);
        assert.equal(code, 0, stderr);
        const report = JSON.parse(stdout) as ScenarioReport;
        assert.equal(linksIn(stdout).length, 0);
        assert.equal(linksIn(stderr).length, 1, "the link, on stderr");
        assert.match(stderr, /^Notification for approver@example\.com /m);
        assert.equal(report.scenario, "human-approval");
        assert.equal(report.status, "FAILED");
        assert.equal(report.error, "Approval.Rejected");
        assert.ok(report.asExpected);
        assert.equal(report.expected, "FAILED (Approval.Rejected)");
        assert.deepEqual(report.failures[0], {
            state: "Start Task And Wait For Callback",
            error: "Approval.Rejected",
            cause: "Over budget: wait for Q3.",
        });
        assert.match(
            report.snsMessages[0]?.message ?? "",
            /failed: \{"Error":"Approval.Rejected","Cause":"Over budget: wait for Q3."\}$/,
        );
        assert.equal(report.approval?.decision?.decision, "rejected");
        assert.equal(report.approval?.decision?.decidedBy, "approver@example.com");
        assertRun(seen, stdout, stderr);
    });

    it("must end SUCCEEDED when Approve is clicked in a real browser on the printed link", async () => {
        const { report, printed, observed: seen, posted } = await outcome(inBrowser);
        assert.equal(posted, 200, "the click posted the decision");
        assert.equal(report.status, "SUCCEEDED");
        assert.ok(report.asExpected, `${report.expected}: ${report.expectedBecause}`);
        assert.equal((report.output as Record<string, unknown>)["comment"], "Checked in the browser.");
        assert.equal(report.approval?.decision?.decidedBy, "approver@example.com");
        assertRun(seen, printed, JSON.stringify(report));
    });
});

describe("npm start -- --scenario human-approval: its settings and expectation", function () {
    this.timeout(30_000);

    it("must render the stack with an approver, without the heartbeat approvers exclude, for the least time the stack allows", () => {
        const settings = approvalStackSettings("dev", undefined);
        assert.deepEqual(settings.approvers, [LOCAL_APPROVER]);
        // dev: (maxReceiveCount 5 − 1) × 180 s between receives + workerTimeoutSeconds 30 = 750 s > 300 s.
        assert.equal(settings.timeoutSeconds, 750);
        assert.deepEqual(settings.config, {
            approvers: JSON.stringify([LOCAL_APPROVER]),
            heartbeatSeconds: undefined,
            taskTimeoutSeconds: "750",
        });
        assert.equal(
            approvalStackSettings("dev", 900).config["taskTimeoutSeconds"],
            "900",
            "--timeout-seconds as given",
        );
    });

    it("must refuse a --timeout-seconds the stack's settings do not allow, with the program's reason", async () => {
        await assert.rejects(
            renderScenarioStack(300, "dev", "human-approval"),
            (error: unknown) =>
                error instanceof Error &&
                error.name === "ProgramError" &&
                /taskTimeoutSeconds must leave room for every receive .* = 750 s \(got 300\)/.test(error.message),
        );
    });

    it("must expect the path of the decision once it is made, and nothing before", () => {
        const stack = { definition: { States: {} }, workerEntry: undefined };
        const decided = (decision: "approved" | "rejected"): ApprovalDecision => ({
            approvalId: "id",
            decision,
            decidedBy: "approver@example.com",
            decidedAt: "2026-01-01T00:00:00.000Z",
            comment: "",
            delivery: "sent",
            deliveryError: undefined,
        });
        assert.deepEqual(expectationFor("human-approval", undefined, stack, decided("approved")).expectation, {
            status: "SUCCEEDED",
        });
        assert.deepEqual(expectationFor("human-approval", undefined, stack, decided("rejected")).expectation, {
            status: "FAILED",
            error: "Approval.Rejected",
        });
        assert.equal(expectationFor("human-approval", undefined, stack).expectation, undefined);
        assert.deepEqual(expectationFor("human-approval", "text", stack).expectation, {
            status: "FAILED",
            error: "Input.NotAnObject",
        });
        const late: ApprovalDecision = { ...decided("approved"), delivery: "task-over", deliveryError: "TaskTimedOut" };
        assert.match(
            expectationFor("human-approval", undefined, stack, late).because,
            /after the task was over \(TaskTimedOut\)/,
        );
        assert.equal(parseCli(["--scenario", "human-approval"]).scenario, "human-approval");
    });
});
