/**
 * The browser harness (tests/harness/browser.ts): how it finds a browser, with fake PATHs and executables,
 * and WCAG's contrast formula. Its checks on a real page, and on pages made to fail them, run in
 * tests/approval-browser.test.ts, in that file's one browser (a browser's start is most of the time).
 */
import { strict as assert } from "node:assert";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import {
    BROWSER_NAMES,
    BrowserNotFoundError,
    WELL_KNOWN_BROWSERS,
    contrastRatio,
    findBrowser,
    parseCssColor,
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
