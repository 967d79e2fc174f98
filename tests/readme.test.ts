/**
 * README.md as a reader meets it: every link inside it goes somewhere, the lines fit a screen, and the
 * first screen says what the project is and shows the picture and the two commands.
 */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";

const README = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
/** The text outside fenced code blocks. */
const prose = README.replace(/^```[\s\S]*?^```$/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string): string =>
    heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- ]/gu, "")
        .replace(/ /g, "-");

describe("README.md", () => {
    it("must link only to headings it has and files the repository has", () => {
        const anchors = new Set([...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1] ?? "")));
        const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "");
        assert.ok(links.length > 20);
        const broken = links.filter((link) => {
            if (link.startsWith("#")) {
                return !anchors.has(link.slice(1));
            }
            if (/^[a-z]+:/.test(link)) {
                return false;
            }
            return !existsSync(path.join(REPO_ROOT, link.split("#")[0] ?? ""));
        });
        assert.deepEqual(broken, []);
        // The check sees a broken anchor.
        assert.ok(!anchors.has("no-such-section"));
    });

    it("must keep every line within 300 characters, and tables within 120 (a terminal shows them whole)", () => {
        const long = README.split("\n").filter((line) => [...line].length > 300);
        assert.deepEqual(long, []);
        const wide = prose.split("\n").filter((line) => line.startsWith("|") && [...line].length > 120);
        assert.deepEqual(wide, []);
    });

    it("must say what it is, show the flow and the two commands on its first screen, then its contents", () => {
        const first = README.split("\n").slice(0, 40).join("\n");
        assert.match(first, /wait-for-callback/);
        assert.match(first, /```mermaid/);
        assert.match(first, /npm ci && npm start/);
        assert.match(first, /npm test/);
        assert.match(README.split("\n").slice(0, 50).join("\n"), /^## Contents$/m);
    });
});
