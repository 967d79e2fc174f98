/**
 * The browser harness (tests/harness/browser.ts): how it finds a browser, with fake PATHs and executables,
 * and a real headless Chromium on a stand-in for the approval page: a form served on 127.0.0.1 that records
 * what is posted. The page is read (lang, labels, no sideways scrolling on a phone, contrast), photographed
 * into build/screenshots/, and a click posts exactly one decision with its comment; loading it posts
 * nothing. One browser for the whole file: its start is most of the time.
 */
import { strict as assert } from "node:assert";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type Page } from "playwright-core";
import { REPO_ROOT } from "../components/bundle";
import {
    BROWSER_NAMES,
    BrowserNotFoundError,
    WELL_KNOWN_BROWSERS,
    contrastOf,
    contrastRatio,
    findBrowser,
    launchBrowser,
    openPage,
    pageLang,
    pageWidths,
    parseCssColor,
    phoneWidthProblems,
    screenshot,
    unlabelledControls,
    type LaunchedBrowser,
} from "./harness/browser";

describe("browser harness: finding the browser", () => {
    let dir: string;
    /** An executable file named `name` in a folder of its own under `dir`; returns that folder. */
    const fakeBrowser = (folder: string, name: string): string => {
        const at = path.join(dir, folder);
        rmSync(at, { recursive: true, force: true });
        mkdirSync(at, { recursive: true });
        writeFileSync(path.join(at, ".keep"), "");
        const file = path.join(at, name);
        writeFileSync(file, "#!/bin/sh\nexit 0\n");
        chmodSync(file, 0o755);
        return at;
    };
    before(() => (dir = mkdtempSync(path.join(tmpdir(), "browser-harness-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("must fail, naming what it searched and how to install one, on a PATH without a browser", () => {
        const empty = mkdtempSync(path.join(dir, "empty-"));
        assert.throws(
            () => findBrowser({ env: { PATH: empty }, wellKnown: [path.join(empty, "chromium")] }),
            (error: unknown) => {
                assert.ok(error instanceof BrowserNotFoundError);
                for (const searched of ["CHROME_PATH", "CHROMIUM_PATH", empty, ...BROWSER_NAMES, "apt-get install"]) {
                    assert.ok(error.message.includes(searched), `${searched} in: ${error.message}`);
                }
                return true;
            },
        );
    });

    it("must take CHROME_PATH before CHROMIUM_PATH and before PATH", () => {
        const chrome = path.join(fakeBrowser("env-chrome", "my-chrome"), "my-chrome");
        const chromium = path.join(fakeBrowser("env-chromium", "my-chromium"), "my-chromium");
        const onPath = fakeBrowser("path", "chromium");
        assert.equal(findBrowser({ env: { CHROME_PATH: chrome, CHROMIUM_PATH: chromium, PATH: onPath } }), chrome);
        assert.equal(findBrowser({ env: { CHROMIUM_PATH: chromium, PATH: onPath } }), chromium);
        assert.equal(findBrowser({ env: { CHROME_PATH: "", PATH: onPath } }), path.join(onPath, "chromium"));
    });

    it("must refuse a CHROME_PATH that is not an executable file rather than look elsewhere", () => {
        const onPath = fakeBrowser("path", "chromium");
        for (const bad of [path.join(dir, "missing"), onPath, path.join(onPath, ".keep")]) {
            assert.throws(
                () => findBrowser({ env: { CHROME_PATH: bad, PATH: onPath } }),
                (e: unknown) => e instanceof BrowserNotFoundError && e.message.includes(`CHROME_PATH=${bad}`),
            );
        }
    });

    it("must look for the names on PATH in order, then the well-known paths", () => {
        const chrome = fakeBrowser("chrome", "google-chrome");
        const chromium = fakeBrowser("chromium", "chromium-browser");
        const env = { PATH: [chrome, chromium].join(path.delimiter) };
        assert.equal(findBrowser({ env, wellKnown: [] }), path.join(chromium, "chromium-browser"));
        const known = path.join(fakeBrowser("known", "chrome"), "chrome");
        assert.equal(findBrowser({ env: { PATH: "" }, wellKnown: [path.join(dir, "nothing"), known] }), known);
    });

    it("must search the same names and paths as .ci/run, which installs Chromium when it finds none", () => {
        const ci = readFileSync(path.join(REPO_ROOT, ".ci/run"), "utf8");
        /** A bash array's words (plain, or in double quotes). */
        const list = (name: string): string[] =>
            [...(new RegExp(`^${name}=\\(([^)]*)\\)`, "m").exec(ci)?.[1] ?? "").matchAll(/"([^"]*)"|(\S+)/g)].map(
                (m) => m[1] ?? m[2] ?? "",
            );
        assert.deepEqual(list("BROWSER_NAMES"), [...BROWSER_NAMES]);
        assert.deepEqual(list("WELL_KNOWN_BROWSERS"), [...WELL_KNOWN_BROWSERS]);
        assert.match(ci, /apt-get install -y[^\n]* --no-install-recommends chromium/);
    });
});

/** The stand-in page's HTML, with the viewport meta tag a phone needs. */
const FORM = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Approve order 42?</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1f2328; background: #fff; margin: 0 auto; padding: 1rem;
         max-width: 40rem; }
  textarea { box-sizing: border-box; width: 100%; min-height: 6rem; font: inherit; }
  button { font: inherit; padding: 0.5rem 1rem; border: 0; border-radius: 4px; color: #fff; }
  #approve { background: #1a7f37; }
  #reject { background: #cf222e; }
</style>
</head>
<body>
<h1>Approve order 42?</h1>
<p id="summary">Order 42 asks for 3 items, 129.00 EUR in all.</p>
<form method="post" action="/decision">
  <label for="comment">Comment (optional)</label>
  <textarea id="comment" name="comment"></textarea>
  <p><button id="approve" name="decision" value="approve">Approve</button>
     <button id="reject" name="decision" value="reject">Reject</button></p>
</form>
</body>
</html>`;

/** Pages that fail the checks, to see that the checks catch what they are for. */
const FAILING: Record<string, string> = {
    "/bad": `<!doctype html><html><head><meta name="viewport" content="width=device-width">
<style>body { margin: 0; color: #999; background: #aaa }</style></head>
<body><p style="width: 600px">too wide, too faint</p><input id="nameless"><textarea name="note"></textarea>
<label>wrapped <input id="wrapped"></label><input aria-label=" " id="blank"><input type="hidden"></body></html>`,
    "/no-viewport": `<!doctype html><html lang="en"><p>no viewport meta tag</p></html>`,
};

interface Decision {
    readonly decision: string | null;
    readonly comment: string | null;
}

/**
 * The stand-in: GET / is the form, POST /decision records the form's fields, GET /bad and /no-viewport are
 * the failing pages; every request is logged.
 */
class StandIn {
    readonly requests: string[] = [];
    readonly posts: Decision[] = [];
    private readonly server: Server = createServer((req, res) => {
        this.requests.push(`${req.method} ${req.url}`);
        const html = req.url === "/" ? FORM : FAILING[req.url ?? ""];
        if (req.method === "GET" && html !== undefined) {
            res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
        } else if (req.method === "POST" && req.url === "/decision") {
            const chunks: Buffer[] = [];
            req.on("data", (chunk: Buffer) => chunks.push(chunk));
            req.on("end", () => {
                const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
                this.posts.push({ decision: form.get("decision"), comment: form.get("comment") });
                res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(
                    '<!doctype html><html lang="en"><title>Recorded</title><p>Recorded.</p></html>',
                );
            });
        } else {
            res.writeHead(404).end();
        }
    });

    async start(): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    }
    reset(): void {
        this.requests.length = 0;
        this.posts.length = 0;
    }
    close(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

describe("browser harness: a real headless Chromium on a stand-in form", function () {
    // The start is a second or two on an idle machine, more on a busy one.
    this.timeout(40_000);
    let launched: LaunchedBrowser;
    const standIn = new StandIn();
    let url: string;
    /** One page for the file, each test navigating it: a new page costs a renderer's start. */
    let page: Page;

    before(async () => {
        [launched, url] = await Promise.all([launchBrowser(), standIn.start()]);
        page = await openPage(launched.browser, "about:blank");
    });
    after(async () => {
        await launched?.close();
        await standIn.close();
    });
    beforeEach(() => standIn.reset());

    it("must read the page on a phone: lang, labelled controls, no sideways scrolling, contrast", async () => {
        await page.goto(url);
        assert.equal(await pageLang(page), "en");
        assert.deepEqual(await unlabelledControls(page), []);
        assert.equal(await page.getByLabel("Comment (optional)").count(), 1);
        const { scrollWidth, innerWidth } = await pageWidths(page);
        assert.equal(innerWidth, 375, "the phone's width, as the page's viewport meta tag asks");
        assert.ok(scrollWidth <= innerWidth, `${scrollWidth} > ${innerWidth}: the page scrolls sideways`);
        assert.deepEqual(await phoneWidthProblems(page), []);
        const contrasts = await contrastOf(page, "h1, p, label, button");
        assert.deepEqual(
            contrasts.map((c) => c.element),
            ["h1", "p#summary", "label", "button#approve", "button#reject"],
        );
        for (const c of contrasts) {
            assert.ok(c.ratio >= 4.5, `${c.element}: ${c.color} on ${c.background} is ${c.ratio.toFixed(2)}:1`);
        }
    });

    it("must post nothing when the page is only loaded", async () => {
        await page.goto(url);
        await page.waitForLoadState("networkidle");
        assert.deepEqual(standIn.posts, []);
        assert.ok(!standIn.requests.some((r) => r.startsWith("POST")), standIn.requests.join(", "));
    });

    for (const [button, comment] of [
        ["Approve", "Looks right."],
        ["Reject", "Wrong address: ß, ü and a newline\nsurvive."],
    ] as const) {
        it(`must post exactly one ${button} with the comment when ${button} is clicked`, async () => {
            await page.goto(url);
            await page.getByLabel("Comment (optional)").fill(comment);
            const posted = page.waitForResponse((r) => r.request().method() === "POST");
            await page.getByRole("button", { name: button }).click();
            assert.equal((await posted).status(), 200);
            await page.waitForLoadState("load");
            assert.equal(await page.title(), "Recorded");
            // A form sends a textarea's line breaks as CR LF (HTML's form data set), whatever was typed.
            assert.deepEqual(standIn.posts, [
                { decision: button.toLowerCase(), comment: comment.replace(/\n/g, "\r\n") },
            ]);
        });
    }

    it("must take a screenshot of the page to the path it is given", async () => {
        await page.goto(url);
        const file = path.join(REPO_ROOT, "build", "screenshots", "stand-in.png");
        rmSync(file, { force: true });
        assert.equal(await screenshot(page, file), file);
        const png = readFileSync(file);
        assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
        // 375 CSS pixels at twice the density: the PNG's IHDR says 750 wide.
        assert.equal(png.readUInt32BE(16), 750);
        assert.ok(existsSync(file) && statSync(file).size > 1000);
    });

    it("must see what the checks are for on a page that fails them", async () => {
        await page.goto(new URL("bad", url).href);
        assert.equal(await pageLang(page), "");
        assert.deepEqual(await unlabelledControls(page), ["input#nameless", "textarea[note]", "input#blank"]);
        assert.deepEqual(await phoneWidthProblems(page), [
            "the window is 600 px wide on a 375 px screen: the page is zoomed out",
            "the page is 600 px wide in a 375 px viewport: it scrolls sideways",
        ]);
        const [faint] = await contrastOf(page, "p");
        assert.ok(faint !== undefined && faint.ratio < 1.5, JSON.stringify(faint));
        await page.goto(new URL("no-viewport", url).href);
        assert.match((await phoneWidthProblems(page)).join(), /^the window is 9\d\d px wide on a 375 px screen/);
    });
});

describe("browser harness: contrast by WCAG's formula", () => {
    const rgb = (css: string) => parseCssColor(css);
    it("must give 21:1 for black on white, 1:1 for a colour on itself, and known pairs", () => {
        assert.equal(contrastRatio(rgb("rgb(0, 0, 0)"), rgb("rgb(255, 255, 255)")), 21);
        assert.equal(contrastRatio(rgb("rgb(118, 118, 118)"), rgb("rgb(118, 118, 118)")), 1);
        // #767676 on white is the lightest grey that passes 4.5:1.
        assert.equal(contrastRatio(rgb("rgb(118, 118, 118)"), rgb("rgb(255 255 255)")).toFixed(2), "4.54");
        assert.equal(contrastRatio(rgb("rgb(119, 119, 119)"), rgb("rgb(255, 255, 255)")).toFixed(2), "4.48");
    });
    it("must read the colours getComputedStyle gives and refuse the ones it cannot", () => {
        assert.deepEqual(rgb("rgba(0, 0, 0, 0)"), { r: 0, g: 0, b: 0, a: 0 });
        assert.deepEqual(rgb("rgb(10 20 30 / 50%)"), { r: 10, g: 20, b: 30, a: 0.5 });
        assert.throws(() => rgb("oklch(0.5 0.1 120)"), /not an rgb\(\) colour/);
    });
});
