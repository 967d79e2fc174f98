/**
 * scripts/release-check.ts, which release.yml runs before testing and again before publishing: the tag
 * against package.json's version and CHANGELOG.md, the dist-tag of a pre-release, the repository npm's
 * provenance check compares, the npm and Node.js of trusted publishing; then the command itself on
 * packages of its own (a git repository with a main and a side branch).
 */
import { strict as assert } from "node:assert";
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import {
    atLeast,
    changelogSection,
    checkRelease,
    distTag,
    githubRepository,
    npmVersionOf,
    parseVersion,
    type ReleaseInput,
} from "../scripts/release-check";

const SCRIPT = path.join(REPO_ROOT, "build", "scripts", "release-check.js");

const CHANGELOG = `# Changelog

## Unreleased

- Something not released yet.

## 1.2.0 (2026-12-01)

### Added

- The thing.

## 1.2.0-rc.1 - 2026-11-20

- The thing, to try.

## [1.1.0]

## 1.0.0

- First.
`;

const REPOSITORY = "https://github.com/acme/callback-workflow";

function input(change: Partial<ReleaseInput> = {}): ReleaseInput {
    return {
        tag: "v1.2.0",
        manifest: {
            name: "callback-workflow",
            version: "1.2.0",
            repository: { type: "git", url: `git+${REPOSITORY}.git` },
        },
        changelog: CHANGELOG,
        ...change,
    };
}

describe("release check: the rules", () => {
    it("must read semantic versions as semver.org writes them, without build metadata", () => {
        assert.deepEqual(parseVersion("1.2.3"), { version: "1.2.3", core: [1, 2, 3], prerelease: [] });
        assert.deepEqual(parseVersion("1.2.0-rc.1")?.prerelease, ["rc", "1"]);
        assert.deepEqual(parseVersion("0.2.0-alpha-2.0")?.prerelease, ["alpha-2", "0"]);
        for (const bad of ["1.2", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+build.1", "v1.2.3", "1.2.3 ", "1.2.x"]) {
            assert.equal(parseVersion(bad), undefined, bad);
        }
    });

    it("must send a pre-release to the dist-tag next and a release to latest", () => {
        assert.equal(distTag(parseVersion("1.2.0-rc.1") ?? assert.fail()), "next");
        assert.equal(distTag(parseVersion("2.0.0-beta.0") ?? assert.fail()), "next");
        assert.equal(distTag(parseVersion("1.2.0") ?? assert.fail()), "latest");
    });

    it("must find the version's CHANGELOG section, not its Unreleased one nor a longer version's", () => {
        assert.match(changelogSection(CHANGELOG, "1.2.0") ?? "", /The thing\.\n/);
        assert.doesNotMatch(changelogSection(CHANGELOG, "1.2.0") ?? "", /to try|First/);
        assert.match(changelogSection(CHANGELOG, "1.2.0-rc.1") ?? "", /to try/);
        assert.equal(changelogSection(CHANGELOG, "1.1.0")?.trim(), "");
        assert.match(changelogSection(CHANGELOG, "1.0.0") ?? "", /First/);
        assert.equal(changelogSection(CHANGELOG, "1.2"), undefined);
        assert.equal(changelogSection("## Unreleased (0.2.0)\n\n- Soon.\n", "0.2.0"), undefined);
        assert.equal(changelogSection("## 0.2.0.1\n\n- No.\n", "0.2.0"), undefined);
        assert.equal(changelogSection("## 0.2.0-rc.1\n\n- No.\n", "0.2.0"), undefined);
    });

    it("must compare versions by major, minor and patch", () => {
        assert.ok(atLeast("11.5.1", "11.5.1"));
        assert.ok(atLeast("11.21.2", "11.5.1"));
        assert.ok(atLeast("v22.23.5", "22.14.0"));
        assert.ok(atLeast("12.0.0", "11.5.1"));
        assert.ok(!atLeast("11.5.0", "11.5.1"));
        assert.ok(!atLeast("10.9.2", "11.5.1"));
        assert.ok(!atLeast("v22.12.0", "22.14.0"));
        assert.ok(!atLeast("unknown", "1.0.0"));
        assert.equal(npmVersionOf("npm/11.21.2 node/v22.23.5 linux x64 workspaces/false"), "11.21.2");
        assert.equal(npmVersionOf("yarn/1.22.0 npm/? node/v22"), undefined);
        assert.equal(npmVersionOf(undefined), undefined);
    });

    it("must read the repository of every URL form package.json accepts", () => {
        for (const url of [
            "git+https://github.com/Acme/callback-workflow.git",
            "https://github.com/acme/callback-workflow",
            "git+ssh://git@github.com/acme/callback-workflow.git",
            "git@github.com:acme/callback-workflow.git",
            "github:acme/callback-workflow",
        ]) {
            assert.equal(githubRepository(url), "acme/callback-workflow", url);
        }
        assert.equal(githubRepository("https://gitlab.com/acme/callback-workflow"), undefined);
        assert.equal(githubRepository("https://github.com/acme"), undefined);
    });

    it("must release a tag that is package.json's version with a CHANGELOG section", () => {
        assert.deepEqual(checkRelease(input()), {
            version: parseVersion("1.2.0"),
            distTag: "latest",
            problems: [],
        });
        const rc = checkRelease(input({ tag: "v1.2.0-rc.1", manifest: { version: "1.2.0-rc.1" } }));
        assert.deepEqual([rc.problems, rc.distTag], [[], "next"]);
    });

    it("must refuse each way a tag can be wrong, with what to do", () => {
        const problems = (change: Partial<ReleaseInput>) => checkRelease(input(change)).problems;
        assert.match(problems({ tag: "1.2.0" }).join(), /is not v<major>\.<minor>\.<patch>/);
        assert.match(problems({ tag: "v1.2.0+build.7" }).join(), /no build metadata/);
        assert.match(
            problems({ tag: "v1.2.1" }).join(),
            /not package\.json's version \(1\.2\.0\): bump it with `npm version 1\.2\.1`/,
        );
        assert.match(
            problems({ changelog: "# Changelog\n\n## Unreleased (1.2.0)\n\n- Soon.\n" }).join(),
            /no section "## 1\.2\.0"/,
        );
        assert.match(problems({ tag: "v1.1.0", manifest: { version: "1.1.0" } }).join(), /"## 1\.1\.0" is empty/);
        assert.match(problems({ manifest: { version: "1.2.0", private: true } }).join(), /private/);
        // All at once, so a maintainer fixes them in one go.
        assert.equal(problems({ tag: "v9.9.9", changelog: "" }).length, 2);
        const rejected = checkRelease(input({ tag: "v9.9.9" }));
        assert.deepEqual([rejected.version, rejected.distTag], [undefined, undefined]);
    });

    it("must require the repository npm's provenance check compares, when given one", () => {
        const problems = (manifest: ReleaseInput["manifest"], repository = REPOSITORY) =>
            checkRelease(input({ manifest, repository })).problems;
        assert.deepEqual(problems({ version: "1.2.0", repository: `git+${REPOSITORY}.git` }), []);
        assert.deepEqual(problems({ version: "1.2.0", repository: "github:acme/callback-workflow" }), []);
        assert.match(
            problems({ version: "1.2.0" }).join(),
            /repository\.url is not set.*git\+https:\/\/github\.com\/acme\/callback-workflow\.git/,
        );
        assert.match(
            problems({ version: "1.2.0", repository: { url: "https://github.com/someone/fork" } }).join(),
            /"https:\/\/github\.com\/someone\/fork"/,
        );
        assert.match(problems({ version: "1.2.0" }, "https://example.com/acme/x").join(), /not a github\.com/);
    });

    it("must require a tagged commit on the branch, and an npm and a Node.js that publish by OIDC", () => {
        const problems = (change: Partial<ReleaseInput>) => checkRelease(input(change)).problems;
        assert.deepEqual(problems({ onBranch: { ref: "origin/main", contained: true } }), []);
        assert.match(problems({ onBranch: { ref: "origin/main", contained: false } }).join(), /not on origin\/main/);
        assert.match(problems({ onBranch: { ref: "origin/main", contained: undefined } }).join(), /fetch-depth: 0/);
        assert.deepEqual(problems({ publisher: { npm: "11.5.1", node: "v22.14.0" } }), []);
        assert.match(
            problems({ publisher: { npm: "10.9.2", node: "v22.23.5" } }).join(),
            /npm 10\.9\.2 .* npm 11\.5\.1/,
        );
        assert.match(problems({ publisher: { npm: undefined, node: "v22.23.5" } }).join(), /npm run/);
        assert.match(problems({ publisher: { npm: "11.21.2", node: "v22.12.0" } }).join(), /Node\.js 22\.14\.0/);
    });
});

interface Ran {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

function runCheck(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            [SCRIPT, ...args],
            { env: { PATH: process.env["PATH"], ...env }, timeout: 20_000 },
            (error, stdout, stderr) => {
                resolve({
                    code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
                    stdout,
                    stderr,
                });
            },
        );
    });
}

describe("release check: the command", function () {
    this.timeout(20_000);
    let dir: string;
    const git = (...args: string[]) =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
            cwd: dir,
            stdio: "pipe",
        });

    before(async () => {
        dir = await mkdtemp(path.join(tmpdir(), "release-check-"));
        await writeFile(
            path.join(dir, "package.json"),
            JSON.stringify({ name: "demo", version: "1.2.0-rc.1", repository: `git+${REPOSITORY}.git` }),
        );
        await writeFile(path.join(dir, "CHANGELOG.md"), CHANGELOG);
        git("init", "--quiet", "--initial-branch=main");
        git("add", ".");
        git("commit", "--quiet", "-m", "1.2.0-rc.1");
        git("checkout", "--quiet", "-b", "side");
        git("commit", "--quiet", "--allow-empty", "-m", "not merged");
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it("must print the version's dist-tag and write it to GITHUB_OUTPUT for the publish step", async () => {
        git("checkout", "--quiet", "main");
        const output = path.join(dir, "github-output");
        await writeFile(output, "earlier=kept\n");
        const { code, stdout, stderr } = await runCheck(
            [
                ...["--dir", dir, "--tag", "v1.2.0-rc.1", "--on-branch", "main", "--repository", REPOSITORY],
                ...["--for-publish", "--github-output", output],
            ],
            { npm_config_user_agent: "npm/11.21.2 node/v22.23.5 linux x64 workspaces/false" },
        );
        assert.equal(code, 0, stderr);
        assert.equal(stdout, "demo@1.2.0-rc.1 can be released from v1.2.0-rc.1, to the dist-tag next.\n");
        assert.equal(
            await readFile(output, "utf8"),
            "earlier=kept\nversion=1.2.0-rc.1\ndist-tag=next\nprerelease=true\n",
        );
    });

    it("must refuse a commit that is not on the branch, an npm too old and a wrong tag, exit 1, writing no output", async () => {
        git("checkout", "--quiet", "side");
        const output = path.join(dir, "refused-output");
        const { code, stdout, stderr } = await runCheck(
            ["--dir", dir, "--tag", "v1.2.0", "--on-branch", "main", "--for-publish", "--github-output", output],
            { npm_config_user_agent: "npm/10.9.2 node/v22.23.5 linux x64" },
        );
        assert.equal(code, 1);
        assert.equal(stdout, "");
        assert.match(stderr, /^v1\.2\.0 cannot be released, 3 problem\(s\):\n/);
        assert.match(stderr, /not package\.json's version/);
        assert.match(stderr, /not on main/);
        assert.match(stderr, /npm 10\.9\.2/);
        await assert.rejects(readFile(output, "utf8"), { code: "ENOENT" });
    });

    it("must check package.json's own version without --tag, and exit 2 on bad usage", async () => {
        git("checkout", "--quiet", "main");
        assert.equal((await runCheck(["--dir", dir])).code, 0);
        const bogus = await runCheck(["--tag"]);
        assert.equal(bogus.code, 2);
        assert.match(bogus.stderr, /^Option '--tag <value>' argument missing/);
        const nowhere = await runCheck(["--dir", path.join(dir, "nowhere")]);
        assert.equal(nowhere.code, 2);
        assert.match(nowhere.stderr, /has no package\.json/);
    });
});
