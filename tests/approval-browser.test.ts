/**
 * The real approval page in a real headless Chromium (tests/harness/browser.ts), set up as
 * tests/approval-page.test.ts does (tests/harness/approval.ts): `serveApprovalPage` on 127.0.0.1, the
 * loopback DynamoDB and Step Functions fakes, an in-memory key ring, items stored as the requester stores
 * them and a task that waits.
 *
 * A phone in Asia/Seoul reads a request (HTML in the details shown as text, who asked, the expiry in UTC and
 * in its own time), passes the accessibility checks and approves; a reload and the back button get 409 and
 * reach Step Functions no more. A rejection carries its multi-line comment; the longest comment the textarea
 * lets through is accepted; without JavaScript the form works and times are in UTC. Every page is watched
 * for console errors and CSP violations. A screenshot goes to build/screenshots/approval-page.png, and to
 * docs/images/ with UPDATE_SCREENSHOTS=1. One browser for the file: its start is most of the time.
 */
import { strict as assert } from "node:assert";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { BrowserContextOptions, Page, Response } from "playwright-core";
import { REPO_ROOT } from "../components/bundle";
import { REJECTED_ERROR } from "../handlers/approval";
import { startApprovalRig, type ApprovalRig } from "./harness/approval";
import {
    PHONE,
    contrastOf,
    launchBrowser,
    pageLang,
    phoneWidthProblems,
    screenshot,
    unlabelledControls,
    type LaunchedBrowser,
} from "./harness/browser";

const TITLE = "Refund order 1042 – 129.00 EUR";
const COMMENT_LABEL = "Comment (optional; a rejection's reason)";
/** How the page's `securitypolicyviolation` listener marks its console lines. */
const VIOLATION = "securitypolicyviolation:";
/** Seoul is UTC+09:00 all year (no daylight saving time). */
const SEOUL: BrowserContextOptions = { ...PHONE, timezoneId: "Asia/Seoul", locale: "en-GB" };
/** The README's screenshot: a narrow desktop window in Berlin. */
const DESKTOP: BrowserContextOptions = {
    viewport: { width: 720, height: 560 },
    deviceScaleFactor: 1,
    timezoneId: "Europe/Berlin",
    locale: "en-GB",
};
const SCREENSHOT = path.join(REPO_ROOT, "build", "screenshots", "approval-page.png");
const README_SCREENSHOT = path.join(REPO_ROOT, "docs", "images", "approval-page.png");

/** Tomorrow at `hh:mm` UTC. */
function tomorrowAt(hours: number, minutes: number): Date {
    const at = new Date();
    at.setUTCDate(at.getUTCDate() + 1);
    at.setUTCHours(hours, minutes, 0, 0);
    return at;
}

/** `date` in the page's UTC form: `2 December 2026 at 20:30 UTC`. */
function utcText(date: Date): string {
    const month = date.toLocaleString("en-GB", { month: "long", timeZone: "UTC" });
    const hhmm = date.toISOString().slice(11, 16);
    return `${date.getUTCDate()} ${month} ${date.getUTCFullYear()} at ${hhmm} UTC`;
}

/** A page and what it did: console errors, CSP violations, requests (`METHOD /path`) and dialogs. */
interface Watched {
    readonly page: Page;
    readonly errors: string[];
    readonly violations: string[];
    readonly requests: string[];
    readonly dialogs: string[];
}

/** Pages that fail the harness's checks (no lang, unlabelled controls, too wide, faint; no viewport meta). */
const FAILING_PAGE = `<!doctype html><html><head><meta name="viewport" content="width=device-width">
<style>body { margin: 0; color: #999; background: #aaa }</style></head>
<body><p style="width: 600px">too wide, too faint</p><input id="nameless"><textarea name="note"></textarea>
<label>wrapped <input id="wrapped"></label><input aria-label=" " id="blank"><input type="hidden"></body></html>`;
const NO_VIEWPORT_PAGE = `<!doctype html><html lang="en"><p>no viewport meta tag</p></html>`;

describe("approval page in a real browser (headless Chromium, loopback DynamoDB and Step Functions)", function () {
    // The browser's start is a second or two on an idle machine, more on a busy one.
    this.timeout(40_000);
    let launched: LaunchedBrowser;
    let rig: ApprovalRig;
    /** One tab per kind of reader, opened once (a context's first page costs a renderer's start). */
    let phone: Watched;
    let noScript: Watched;
    let desktop: Watched;

    before(async () => {
        // Both settle before either failure is thrown, so `after` closes whatever did start (a server left
        // listening would keep mocha from exiting after a BrowserNotFoundError).
        const [browser, fakes] = await Promise.allSettled([launchBrowser(), startApprovalRig()]);
        if (fakes.status === "fulfilled") {
            rig = fakes.value;
        }
        if (browser.status === "rejected") {
            throw browser.reason;
        }
        launched = browser.value;
        if (fakes.status === "rejected") {
            throw fakes.reason;
        }
        [phone, noScript, desktop] = await Promise.all([
            watch(SEOUL),
            watch({ ...SEOUL, javaScriptEnabled: false }),
            watch(DESKTOP),
        ]);
    });
    beforeEach(() => {
        rig.sfn.reset();
        for (const watched of [phone, noScript, desktop]) {
            for (const list of [watched.errors, watched.violations, watched.requests, watched.dialogs]) {
                list.length = 0;
            }
        }
    });
    afterEach(() => {
        assert.deepEqual(rig.dynamo.protocolErrors, [], "every DynamoDB request was in the subset and well-formed");
        assert.deepEqual(rig.sfn.protocolErrors, [], "every Step Functions request followed the protocol");
    });
    after(async () => {
        await launched?.close();
        await rig?.close();
    });

    /** A page in a context of its own, watched from before its first document. */
    async function watch(options: BrowserContextOptions): Promise<Watched> {
        const context = await launched.browser.newContext(options);
        // An init script runs in each document before the page's own and is not subject to its CSP.
        await context.addInitScript((prefix: string) => {
            interface Violation {
                readonly violatedDirective: string;
                readonly blockedURI: string;
            }
            const doc = (
                globalThis as unknown as {
                    document: { addEventListener(type: string, listener: (event: Violation) => void): void };
                }
            ).document;
            doc.addEventListener("securitypolicyviolation", (event) =>
                console.error(`${prefix} ${event.violatedDirective} ${event.blockedURI}`),
            );
        }, VIOLATION);
        const page = await context.newPage();
        const watched: Watched = { page, errors: [], violations: [], requests: [], dialogs: [] };
        page.on("console", (message) => {
            if (message.type() === "error") {
                const text = message.text();
                if (text.startsWith(VIOLATION)) {
                    watched.violations.push(text.slice(VIOLATION.length).trim());
                } else {
                    watched.errors.push(text);
                }
            }
        });
        page.on("pageerror", (error) => watched.errors.push(`uncaught ${error.name}: ${error.message}`));
        page.on("request", (request) =>
            watched.requests.push(`${request.method()} ${new URL(request.url()).pathname}`),
        );
        page.on("dialog", (dialog) => {
            watched.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
            void dialog.dismiss();
        });
        return watched;
    }

    /** Opens `url` in the tab, loaded (the local-time script, deferred, has run). */
    async function open(watched: Watched, url: string): Promise<Watched> {
        await watched.page.goto(url, { waitUntil: "load" });
        return watched;
    }

    /** The text of the `<dd>` after the `<dt>` named `name`. */
    const field = (page: Page, name: string): Promise<string> => page.locator(`dt:text-is("${name}") + dd`).innerText();

    /** Presses the button and waits for the page it leads to, loaded; returns the POST's response. */
    async function press(page: Page, button: "Approve" | "Reject", heading: string): Promise<Response> {
        const posted = page.waitForResponse((response) => response.request().method() === "POST");
        await page.getByRole("button", { name: button, exact: true }).click();
        const response = await posted;
        await page.locator("h1").getByText(heading, { exact: true }).waitFor();
        await page.waitForLoadState("load");
        return response;
    }

    const operations = (): string[] => rig.sfn.calls.map((call) => call.operation);

    it("must show a request on a phone as text, in UTC and the reader's time, approve it once, and answer a resubmission with 409", async () => {
        const expiresAt = tomorrowAt(20, 30);
        const details =
            "Customer note: <img src=x onerror=alert(1)>\nParcel lost in transit; carrier claim DHL-7781-22.";
        const requestedBy = "Marta Weber <support@shop.example.com>";
        const { item, url } = await rig.seed({
            title: TITLE,
            details,
            requestedBy,
            expiresAt: expiresAt.toISOString(),
            taskTimeoutSeconds: 3 * 24 * 3600,
        });
        const { page, errors, violations, requests, dialogs } = await open(phone, url);

        // What the approver reads.
        assert.equal(await page.title(), TITLE);
        assert.equal(await page.locator("h1").innerText(), TITLE);
        assert.equal(await page.locator(".details").innerText(), details, "the HTML is shown as text");
        assert.ok(await page.getByText("<img src=x onerror=alert(1)>").isVisible());
        assert.equal(await page.locator("img, [onerror]").count(), 0, "no element was made of the details");
        assert.equal(await field(page, "Requested by"), requestedBy);
        assert.equal(await field(page, "You are"), "alice@example.com");
        const expiry = page.locator('dt:text-is("Expires") + dd time');
        assert.equal(await expiry.getAttribute("datetime"), expiresAt.toISOString());
        assert.equal(await expiry.innerText(), utcText(expiresAt));
        // 20:30 UTC is 05:30 the next day in Seoul: the local-time script wrote it after the UTC time.
        const seoul = new Date(expiresAt.getTime() + 9 * 3600_000);
        assert.match(
            await field(page, "Expires"),
            new RegExp(
                `^${utcText(expiresAt)} \\(${seoul.getUTCDate()} \\S+ ${seoul.getUTCFullYear()}, 05:30 your time\\)$`,
            ),
        );
        assert.deepEqual(requests, [`GET /${item.approvalId}`, "GET /assets/local-time.js"], "no image was fetched");
        assert.deepEqual(dialogs, []);

        // Accessibility on the phone.
        assert.equal(await pageLang(page), "en");
        assert.deepEqual(await unlabelledControls(page), []);
        assert.equal(await page.getByLabel(COMMENT_LABEL, { exact: true }).count(), 1);
        assert.deepEqual(await phoneWidthProblems(page), []);
        const contrasts = await contrastOf(page, "h1, p, dt, dd, time, label, button");
        assert.deepEqual([...new Set(contrasts.map((c) => c.element))].sort(), [
            "button",
            "dd",
            "dt",
            "h1",
            "label",
            "p",
            "time",
        ]);
        for (const c of contrasts) {
            assert.ok(c.ratio >= 4.5, `${c.element}: ${c.color} on ${c.background} is ${c.ratio.toFixed(2)}:1`);
        }

        // Approve, with a comment typed.
        const comment = "Carrier confirmed the loss.";
        await page.getByLabel(COMMENT_LABEL).fill(comment);
        assert.equal((await press(page, "Approve", "Approved")).status(), 200);
        assert.equal(await page.title(), "Approved");
        const stored = await rig.store.getApproval(item.approvalId);
        assert.equal(stored?.status, "approved");
        assert.equal(stored?.decidedBy, "alice@example.com");
        assert.equal(stored?.comment, comment);
        assert.equal(stored?.delivery, "sent");
        const decidedAt = new Date(stored?.decidedAt ?? "");
        assert.match(
            await page.locator("main").innerText(),
            new RegExp(
                `^Approved\\n+Approved by alice@example\\.com at ${utcText(decidedAt)} \\(.+ your time\\)\\. Thank you: the workflow goes on\\.$`,
            ),
        );
        assert.deepEqual(operations(), ["SendTaskHeartbeat", "SendTaskHeartbeat", "SendTaskSuccess"]);
        const [success] = rig.sfn.callsOf("SendTaskSuccess");
        assert.equal(success?.body["taskToken"], item.taskToken);
        assert.deepEqual(JSON.parse(String(success?.body["output"])), {
            decision: "approved",
            approver: "alice@example.com",
            comment,
            decidedAt: stored?.decidedAt,
        });
        assert.deepEqual(errors, []);
        assert.deepEqual(violations, []);

        // A reload sends the form again; the back button fetches the request page again (no-store).
        const already = new RegExp(
            `^This request was already approved by alice@example\\.com at ${utcText(decidedAt)} \\(.+ your time\\)\\. Nothing more was done\\.$`,
        );
        const reloaded = await page.reload({ waitUntil: "load" });
        assert.deepEqual([reloaded?.request().method(), reloaded?.status()], ["POST", 409]);
        assert.equal(await page.title(), "Already approved");
        assert.match(await page.locator("p").innerText(), already);
        const back = await page.goBack({ waitUntil: "load" });
        assert.deepEqual([back?.request().method(), back?.status()], ["GET", 409]);
        assert.match(await page.locator("p").innerText(), already);
        assert.equal(await page.locator("form, button").count(), 0, "nothing left to press");
        assert.deepEqual(operations(), ["SendTaskHeartbeat", "SendTaskHeartbeat", "SendTaskSuccess"], "no call more");
        assert.equal((await rig.store.getApproval(item.approvalId))?.decidedAt, stored?.decidedAt);
        // Chromium logs a page that is not 2xx as a console error: the two 409s, nothing else.
        assert.equal(errors.length, 2, errors.join("\n"));
        for (const error of errors) {
            assert.match(error, /status of 409 \(Conflict\)/);
        }
        assert.deepEqual(violations, []);
    });

    it("must reject with a multi-line, non-ASCII comment: the browser sends CR LF, Step Functions gets LF", async () => {
        const { item, url } = await rig.seed({ title: TITLE });
        const { page, errors, violations } = await open(phone, url);
        const typed = "Amount is wrong: 129,00 € ≠ 12,90 €.\nBitte prüfen – 注文 1042 👍\n";
        await page.getByLabel(COMMENT_LABEL).fill(typed);
        const request = page.waitForRequest((r) => r.method() === "POST");
        assert.equal((await press(page, "Reject", "Rejected")).status(), 200);
        const form = new URLSearchParams((await request).postData() ?? "");
        assert.equal(form.get("decision"), "reject");
        assert.equal(
            form.get("comment"),
            typed.replace(/\n/g, "\r\n"),
            "a form sends a textarea's line breaks as CR LF",
        );
        // The page turns CR LF back into LF and trims the ends.
        const cause = "Amount is wrong: 129,00 € ≠ 12,90 €.\nBitte prüfen – 注文 1042 👍";
        assert.deepEqual(operations(), ["SendTaskHeartbeat", "SendTaskHeartbeat", "SendTaskFailure"]);
        assert.deepEqual(
            rig.sfn.callsOf("SendTaskFailure").map((c) => [c.body["taskToken"], c.body["error"], c.body["cause"]]),
            [[item.taskToken, REJECTED_ERROR, cause]],
        );
        const stored = await rig.store.getApproval(item.approvalId);
        assert.deepEqual(
            [stored?.status, stored?.decidedBy, stored?.comment],
            ["rejected", "alice@example.com", cause],
        );
        assert.equal(await page.title(), "Rejected");
        assert.match(
            await page.locator("p").innerText(),
            /^Rejected by alice@example\.com at .+ UTC \(.+ your time\)\./,
        );
        assert.deepEqual(errors, []);
        assert.deepEqual(violations, []);
    });

    it("must accept the longest comment the textarea lets through, in three-byte characters", async () => {
        const { url } = await rig.seed({ title: TITLE });
        const { page, errors } = await open(phone, url);
        const textarea = page.getByLabel(COMMENT_LABEL);
        await textarea.fill("€".repeat(2100));
        assert.equal((await textarea.inputValue()).length, 2000, "maxlength stops at 2000");
        assert.equal((await press(page, "Reject", "Rejected")).status(), 200);
        assert.deepEqual(
            rig.sfn.callsOf("SendTaskFailure").map((c) => c.body["cause"]),
            ["€".repeat(2000)],
        );
        assert.deepEqual(errors, []);
    });

    it("must work without JavaScript, showing times in UTC", async () => {
        const expiresAt = tomorrowAt(20, 30);
        const { item, url } = await rig.seed({
            title: TITLE,
            expiresAt: expiresAt.toISOString(),
            taskTimeoutSeconds: 3 * 24 * 3600,
        });
        const { page, errors, requests } = await open(noScript, url);
        assert.equal(await field(page, "Expires"), utcText(expiresAt));
        assert.equal(await page.getByText("your time").count(), 0);
        assert.deepEqual(requests, [`GET /${item.approvalId}`], "the script is not even fetched");
        await page.getByLabel(COMMENT_LABEL).fill("Approved without JavaScript.");
        assert.equal((await press(page, "Approve", "Approved")).status(), 200);
        const stored = await rig.store.getApproval(item.approvalId);
        assert.equal(
            await page.locator("p").innerText(),
            `Approved by alice@example.com at ${utcText(new Date(stored?.decidedAt ?? ""))}. Thank you: the workflow goes on.`,
        );
        assert.deepEqual(operations(), ["SendTaskHeartbeat", "SendTaskHeartbeat", "SendTaskSuccess"]);
        const output = JSON.parse(String(rig.sfn.callsOf("SendTaskSuccess")[0]?.body["output"])) as {
            decision: string;
            comment: string;
        };
        assert.deepEqual([output.decision, output.comment], ["approved", "Approved without JavaScript."]);
        assert.equal(stored?.status, "approved");
        assert.deepEqual(errors, []);
    });

    it("must block an inline script and report it, so that no violation means none happened", async () => {
        const { url } = await rig.seed({ title: TITLE });
        const { page, errors, violations } = await open(phone, url);
        const reported = page.waitForEvent("console", (m) => m.text().startsWith(VIOLATION));
        const ran = await page.evaluate(() => {
            interface Doc {
                createElement(tag: string): { textContent: string };
                readonly body: { append(node: unknown): void };
            }
            const g = globalThis as unknown as { document: Doc; injected?: boolean };
            const script = g.document.createElement("script");
            script.textContent = "globalThis.injected = true;";
            g.document.body.append(script);
            return g.injected === true;
        });
        await reported;
        assert.equal(ran, false, "the inline script did not run");
        assert.deepEqual(violations, ["script-src-elem inline"]);
        // Chromium says so on the console too: a violation the listener missed would still fail a test.
        assert.equal(errors.length, 1, errors.join("\n"));
        assert.match(
            errors[0] ?? "",
            /^Executing inline script violates .*Content Security Policy directive 'script-src 'self''/,
        );
        assert.deepEqual(operations(), ["SendTaskHeartbeat"], "the GET's probe only");
    });

    it("must see with the harness's checks what they are for, on pages made to fail them", async () => {
        // Pages of our own making, loaded in the phone tab as documents (a viewport meta applies on a
        // navigation): the checks of the tests above must be able to fail.
        const pages: Record<string, string> = { "/bad": FAILING_PAGE, "/no-viewport": NO_VIEWPORT_PAGE };
        await phone.page.route("http://failing.test/**", (route) =>
            route.fulfill({ contentType: "text/html", body: pages[new URL(route.request().url()).pathname] ?? "" }),
        );
        try {
            await phone.page.goto("http://failing.test/bad");
            assert.equal(await pageLang(phone.page), "");
            assert.deepEqual(await unlabelledControls(phone.page), ["input#nameless", "textarea[note]", "input#blank"]);
            assert.deepEqual(await phoneWidthProblems(phone.page), [
                "the window is 600 px wide on a 375 px screen: the page is zoomed out",
                "the page is 600 px wide in a 375 px viewport: it scrolls sideways",
            ]);
            const [faint] = await contrastOf(phone.page, "p");
            assert.ok(faint !== undefined && faint.ratio < 1.5, JSON.stringify(faint));
            await phone.page.goto("http://failing.test/no-viewport");
            assert.match(
                (await phoneWidthProblems(phone.page)).join(),
                /^the window is 9\d\d px wide on a 375 px screen/,
            );
        } finally {
            await phone.page.unroute("http://failing.test/**");
        }
    });

    it(`must take a screenshot of the request page (to docs/images/ too with UPDATE_SCREENSHOTS=1)`, async () => {
        const approver = "ines.roth@shop.example.com";
        const { url } = await rig.seed(
            {
                title: TITLE,
                details:
                    "Jana Novák asks for a full refund of order 1042 (2 items, paid by card on 28 November).\n" +
                    "The parcel was lost in transit; the carrier confirmed claim DHL-7781-22.",
                requestedBy: "Marta Weber, customer support",
                approvers: [approver],
                expiresAt: tomorrowAt(17, 0).toISOString(),
                taskTimeoutSeconds: 3 * 24 * 3600,
            },
            approver,
        );
        const { page, errors, violations } = await open(desktop, url);
        const textarea = page.getByLabel(COMMENT_LABEL);
        await textarea.fill("Carrier confirmed the loss: refund to the card.");
        await textarea.blur();
        assert.equal(await screenshot(page, SCREENSHOT), SCREENSHOT);
        const png = readFileSync(SCREENSHOT);
        assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
        assert.equal(png.readUInt32BE(16), 720, "the IHDR's width");
        assert.ok(png.length < 150_000, `${png.length} bytes: keep the README's image small`);
        if (process.env.UPDATE_SCREENSHOTS === "1") {
            mkdirSync(path.dirname(README_SCREENSHOT), { recursive: true });
            copyFileSync(SCREENSHOT, README_SCREENSHOT);
        }
        assert.deepEqual(errors, []);
        assert.deepEqual(violations, []);
    });
});
