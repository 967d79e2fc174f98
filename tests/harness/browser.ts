/**
 * A real headless Chromium for tests that open a page: found on this machine (never downloaded), driven by
 * playwright-core, which ships no browser and runs no install script. `.ci/run` installs Debian's
 * `chromium` when it runs as root and finds none (the same places as `BROWSER_NAMES` and
 * `WELL_KNOWN_BROWSERS` below; tests/browser-harness.test.ts checks the lists agree). No browser is an
 * error, never a skip.
 *
 * Playwright drives a browser of our choosing through `executablePath`
 * (https://playwright.dev/docs/api/class-browsertype#browser-type-launch-option-executable-path); it is
 * made for the Chromium it bundles, so a system Chromium some versions older or newer may differ in
 * details: the tests use only the long-standing parts (pages, locators, evaluate, screenshots).
 */
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";

/** Environment variables naming the browser's executable, first that is set wins. */
export const BROWSER_ENV = ["CHROME_PATH", "CHROMIUM_PATH"] as const;
/** Commands looked up on PATH, in order: Debian's and Ubuntu's Chromium, then Google's Chrome. */
export const BROWSER_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] as const;
/** Where the packages put the executable when PATH does not lead there (Linux, then macOS). */
export const WELL_KNOWN_BROWSERS = [
    "/usr/bin/chromium",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/opt/google/chrome/chrome",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
] as const;

/** How to get a browser, for the error when there is none. */
const HOW_TO_INSTALL =
    "Install one (Debian or Ubuntu: `apt-get install chromium`; .ci/run does that itself when it runs as root) " +
    "or name its executable in CHROME_PATH.";

export class BrowserNotFoundError extends Error {
    override name = "BrowserNotFoundError";
}

/** Where to look; the defaults are this process's environment and the well-known paths. */
export interface BrowserSearch {
    readonly env?: NodeJS.ProcessEnv;
    readonly wellKnown?: readonly string[];
}

const isExecutableFile = (file: string): boolean => {
    try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
    } catch {
        return false;
    }
};

/**
 * The browser's executable: CHROME_PATH or CHROMIUM_PATH when set (an error when that is not an executable
 * file: a name set on purpose is never passed over), else the first of `BROWSER_NAMES` on PATH, else the
 * first well-known path that exists. Throws `BrowserNotFoundError` naming everything it tried.
 */
export function findBrowser({ env = process.env, wellKnown = WELL_KNOWN_BROWSERS }: BrowserSearch = {}): string {
    for (const name of BROWSER_ENV) {
        const value = env[name];
        if (value !== undefined && value !== "") {
            if (!isExecutableFile(value)) {
                throw new BrowserNotFoundError(`${name}=${value} is not an executable file. ${HOW_TO_INSTALL}`);
            }
            return value;
        }
    }
    const dirs = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "");
    for (const name of BROWSER_NAMES) {
        for (const dir of dirs) {
            const candidate = path.join(dir, name);
            if (isExecutableFile(candidate)) {
                return candidate;
            }
        }
    }
    const known = wellKnown.find(isExecutableFile);
    if (known !== undefined) {
        return known;
    }
    throw new BrowserNotFoundError(
        [
            "No Chromium or Chrome found for the browser tests. Searched:",
            `  environment: ${BROWSER_ENV.join(", ")} (not set)`,
            `  on PATH (${dirs.join(path.delimiter) || "empty"}): ${BROWSER_NAMES.join(", ")}`,
            `  well-known paths: ${wellKnown.join(", ") || "none"}`,
            HOW_TO_INSTALL,
        ].join("\n"),
    );
}

/** Whether this process runs as root (Windows has no uid: never). */
export const runsAsRoot = (): boolean => process.getuid?.() === 0;

/** A browser launched by `launchBrowser`, with what was launched and how long the start took. */
export interface LaunchedBrowser {
    readonly browser: Browser;
    readonly executablePath: string;
    readonly version: string;
    /** Milliseconds from launch to a browser ready for pages (for reports; tests do not assert on it). */
    readonly startMs: number;
    close(): Promise<void>;
}

/**
 * Launches the browser `findBrowser` finds, headless. Chromium will not start its sandbox as root
 * (https://crbug.com/638180; Playwright reports "Chromium sandboxing failed"), so as root it runs with
 * `--no-sandbox`, which Playwright's `chromiumSandbox: false` adds; any other user keeps the sandbox unless
 * BROWSER_NO_SANDBOX=1 (Ubuntu 23.10 and later restrict the user namespaces it needs with AppArmor:
 * https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md).
 * `--disable-dev-shm-usage` keeps shared memory in /tmp: a container's /dev/shm is often 64 MB.
 */
export async function launchBrowser(search: BrowserSearch = {}): Promise<LaunchedBrowser> {
    const executablePath = findBrowser(search);
    const env = search.env ?? process.env;
    const sandbox = !runsAsRoot() && env.BROWSER_NO_SANDBOX !== "1";
    const started = performance.now();
    let browser: Browser;
    try {
        browser = await chromium.launch({
            executablePath,
            headless: true,
            chromiumSandbox: sandbox,
            args: ["--disable-dev-shm-usage"],
            timeout: 30_000,
        });
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const hint = /sandbox/i.test(message)
            ? "\nChromium's sandbox could not start for this user: BROWSER_NO_SANDBOX=1 runs without it."
            : "";
        throw new Error(`Could not launch ${executablePath}: ${message}${hint}`, { cause: error });
    }
    return {
        browser,
        executablePath,
        version: browser.version(),
        startMs: performance.now() - started,
        close: () => browser.close(),
    };
}

/**
 * A phone in portrait, 375 × 667 CSS pixels at twice the density, touch, honouring the page's viewport
 * meta tag as a phone's browser does (https://playwright.dev/docs/emulation#devices).
 */
export const PHONE: BrowserContextOptions = {
    viewport: { width: 375, height: 667 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
};

/**
 * Opens `url` in a new context of its own (no cookies or storage shared with other pages) and waits for
 * its load event. Close it with `closePage`.
 */
export async function openPage(browser: Browser, url: string, options: BrowserContextOptions = PHONE): Promise<Page> {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(url, { waitUntil: "load" });
    return page;
}

/** Closes a page from `openPage` with its context. */
export const closePage = (page: Page): Promise<void> => page.context().close();

/** Saves a PNG of the whole page to `file` (folders made as needed); returns the file. */
export async function screenshot(page: Page, file: string): Promise<string> {
    mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true, type: "png" });
    return file;
}

// Checks in the page. The functions passed to `page.evaluate` are sent to the browser as source and run
// there: they use nothing from this module, and since this project's types are Node's (no DOM), each names
// the little of the DOM it uses.

interface Control {
    readonly tagName: string;
    readonly id: string;
    readonly type?: string;
    readonly labels?: ArrayLike<{ readonly textContent: string | null }> | null;
    getAttribute(name: string): string | null;
}
interface PageDocument {
    readonly documentElement: { readonly lang: string; readonly scrollWidth: number };
    querySelectorAll(selectors: string): ArrayLike<Control>;
    getElementById(id: string): { readonly textContent: string | null } | null;
}

/** The `lang` of the page's root element ("" when it has none). */
export const pageLang = (page: Page): Promise<string> =>
    page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.documentElement.lang);

/**
 * The form controls a screen reader could not name: inputs (but hidden ones and buttons, which carry their
 * own text), textareas and selects with no `<label>`, `aria-label` or `aria-labelledby` that has text.
 * Each as `tag#id` or `tag[name]`.
 */
export function unlabelledControls(page: Page): Promise<string[]> {
    return page.evaluate(() => {
        const doc = (globalThis as unknown as { document: PageDocument }).document;
        const controls = Array.from(doc.querySelectorAll("input, textarea, select")).filter(
            (c) => !["hidden", "submit", "button", "reset", "image"].includes(c.type ?? ""),
        );
        const hasText = (s: string | null | undefined): boolean => (s ?? "").trim() !== "";
        return controls
            .filter((c) => {
                const labelled = Array.from(c.labels ?? []).some((label) => hasText(label.textContent));
                const ariaLabel = hasText(c.getAttribute("aria-label"));
                const labelledBy = (c.getAttribute("aria-labelledby") ?? "")
                    .split(/\s+/)
                    .some((id) => id !== "" && hasText(doc.getElementById(id)?.textContent));
                return !labelled && !ariaLabel && !labelledBy;
            })
            .map((c) => `${c.tagName.toLowerCase()}${c.id ? `#${c.id}` : `[${c.getAttribute("name") ?? ""}]`}`);
    });
}

/**
 * The page's width (`scrollWidth`), the layout viewport's (`clientWidth`) and the window's (`innerWidth`).
 * On a phone (`isMobile`) the window is the visual viewport: it widens to fit a page wider than the screen,
 * so `scrollWidth <= innerWidth` alone holds even for a page that scrolls sideways; see `phoneWidthProblems`.
 */
export const pageWidths = (page: Page): Promise<{ scrollWidth: number; clientWidth: number; innerWidth: number }> =>
    page.evaluate(() => {
        const g = globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; clientWidth: number } };
            innerWidth: number;
        };
        const { scrollWidth, clientWidth } = g.document.documentElement;
        return { scrollWidth, clientWidth, innerWidth: g.innerWidth };
    });

/**
 * Why the page does not fit the screen's width, if it does not: the window is not the screen's width (no
 * viewport meta tag, or the phone zoomed out to show content wider than the screen), or the page is wider
 * than the window (it scrolls sideways). Empty when it fits.
 */
export async function phoneWidthProblems(page: Page): Promise<string[]> {
    const { scrollWidth, clientWidth, innerWidth } = await pageWidths(page);
    const screen = page.viewportSize()?.width ?? innerWidth;
    const problems: string[] = [];
    if (innerWidth !== screen) {
        problems.push(`the window is ${innerWidth} px wide on a ${screen} px screen: the page is zoomed out`);
    }
    if (scrollWidth > Math.min(innerWidth, clientWidth)) {
        problems.push(`the page is ${scrollWidth} px wide in a ${clientWidth} px viewport: it scrolls sideways`);
    }
    return problems;
}

// Contrast, by WCAG 2.2's definitions: https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio and
// https://www.w3.org/TR/WCAG22/#dfn-relative-luminance (4.5:1 for text, 3:1 for large text, criterion 1.4.3).

/** An sRGB colour, channels 0–255, alpha 0–1. */
export interface Rgba {
    readonly r: number;
    readonly g: number;
    readonly b: number;
    readonly a: number;
}

/**
 * A colour as `getComputedStyle` gives it: `rgb(…)` or `rgba(…)`, with commas or spaces and an optional
 * `/ alpha`. Anything else (`oklch(…)`, `color(…)`) throws rather than being guessed at.
 */
export function parseCssColor(css: string): Rgba {
    const match = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)\s*(?:[,/]\s*([\d.]+%?)\s*)?\)$/.exec(css.trim());
    if (match === null) {
        throw new Error(`not an rgb() colour: ${css}`);
    }
    const [, r, g, b, alpha] = match;
    const a = alpha === undefined ? 1 : alpha.endsWith("%") ? Number(alpha.slice(0, -1)) / 100 : Number(alpha);
    return { r: Number(r), g: Number(g), b: Number(b), a };
}

/** `top` painted over an opaque `bottom`. */
export const over = (top: Rgba, bottom: Rgba): Rgba => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
});

/** WCAG's relative luminance of an opaque sRGB colour. */
export function relativeLuminance({ r, g, b }: Rgba): number {
    const linear = (channel: number): number => {
        const c = channel / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG's contrast ratio of two opaque colours, 1 to 21, whichever is lighter. */
export function contrastRatio(a: Rgba, b: Rgba): number {
    const [lighter, darker] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
    return (lighter + 0.05) / (darker + 0.05);
}

/** One element's text colour against what is behind it. */
export interface Contrast {
    readonly element: string;
    readonly color: string;
    readonly background: string;
    readonly ratio: number;
}

/**
 * The contrast of each element matching `selector` that has text of its own: its computed `color` over the
 * first ancestor-or-self `background-color` that is not transparent (semi-transparent layers composed over
 * white, the canvas's default). Background images and gradients are not seen: a page using them for the
 * backdrop of text needs a check of its own.
 */
export async function contrastOf(page: Page, selector: string): Promise<Contrast[]> {
    interface Styled {
        readonly tagName: string;
        readonly id: string;
        readonly parentElement: Styled | null;
        readonly childNodes: ArrayLike<{ readonly nodeType: number; readonly textContent: string | null }>;
    }
    const found = await page.evaluate((sel) => {
        const g = globalThis as unknown as {
            document: { querySelectorAll(s: string): ArrayLike<Styled> };
            getComputedStyle(e: Styled): { color: string; backgroundColor: string };
        };
        return Array.from(g.document.querySelectorAll(sel))
            .filter((e) => Array.from(e.childNodes).some((n) => n.nodeType === 3 && (n.textContent ?? "").trim()))
            .map((e) => {
                const layers: string[] = [];
                for (let at: Styled | null = e; at !== null; at = at.parentElement) {
                    layers.push(g.getComputedStyle(at).backgroundColor);
                }
                return {
                    element: `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}`,
                    color: g.getComputedStyle(e).color,
                    layers,
                };
            });
    }, selector);
    const white: Rgba = { r: 255, g: 255, b: 255, a: 1 };
    return found.map(({ element, color, layers }) => {
        // From the root down, each layer painted over what is below it.
        const background = layers.map(parseCssColor).reduceRight((below, layer) => over(layer, below), white);
        const text = over(parseCssColor(color), background);
        const css = (c: Rgba): string => `rgb(${[c.r, c.g, c.b].map((v) => Math.round(v)).join(", ")})`;
        return { element, color, background: css(background), ratio: contrastRatio(text, background) };
    });
}
