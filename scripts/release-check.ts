/**
 * `npm run release-check -- --tag vX.Y.Z`: whether a pushed tag can be published to npm, checked before
 * anything is tested or published (.github/workflows/release.yml runs it in both of its jobs; a maintainer
 * runs it before tagging). Every problem is listed at once on stderr; the version and the npm dist-tag it
 * goes to are the result, on stdout (and in $GITHUB_OUTPUT with --github-output). docs/release.md says how
 * a release is cut.
 *
 * - The tag is `v` and a semantic version without build metadata (https://semver.org/: npm drops build
 *   metadata, so two tags would publish one version), and it is package.json's version: `npm version`
 *   writes both (https://docs.npmjs.com/cli/v11/commands/npm-version).
 * - CHANGELOG.md has a section `## X.Y.Z` (a date may follow) with something in it.
 * - A pre-release (`1.2.0-rc.1`) goes to the dist-tag `next`, anything else to `latest`: `npm install
 *   callback-workflow` takes `latest` (https://docs.npmjs.com/cli/v11/commands/npm-dist-tag).
 * - `--on-branch REF`: the tagged commit (HEAD) is on REF, so that only reviewed code is released.
 * - `--repository URL`: package.json's `repository.url` is the repository the workflow runs in; npm refuses
 *   a provenance statement whose source repository is not the package's
 *   (https://docs.npmjs.com/generating-provenance-statements).
 * - `--for-publish`: the npm and Node.js running this can publish with trusted publishing, npm 11.5.1 and
 *   Node.js 22.14.0 or newer (https://docs.npmjs.com/trusted-publishers). The npm is the one that runs
 *   `npm run` (its `npm_config_user_agent`).
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { HelpRequest, parseFlags, runMain, UsageError } from "./run-main";

export const USAGE = `Usage: npm run release-check -- [--tag vX.Y.Z] [--on-branch REF] [--repository URL] [--for-publish] [--github-output FILE]
Checks that a tag can be released: it is v<semver> and package.json's version, CHANGELOG.md has a
section for that version, and what the options add. Prints the version and its npm dist-tag (next for
a pre-release, latest otherwise). Exit 0 releasable, 1 with problems (listed on stderr), 2 bad usage.
Options:
  --tag TAG              the tag to release (default v<package.json's version>)
  --on-branch REF        the tagged commit (HEAD) must be on REF, such as origin/main
  --repository URL       package.json's repository.url must be this repository (npm's provenance check)
  --for-publish          the npm and Node.js running this must support trusted publishing
  --github-output FILE   also append version=, dist-tag= and prerelease= lines to FILE ($GITHUB_OUTPUT)
  --dir DIR              the package to check (default this repository)
  -h, --help             print this usage`;

/** The oldest npm CLI and Node.js that publish with trusted publishing (https://docs.npmjs.com/trusted-publishers). */
export const TRUSTED_PUBLISHING_NPM = "11.5.1";
export const TRUSTED_PUBLISHING_NODE = "22.14.0";

/** The dist-tag of a pre-release; `latest` is npm's default, which `npm install <name>` resolves. */
export const PRERELEASE_DIST_TAG = "next";

// semver.org's regular expression for a version, without build metadata.
const NUMBER = "(0|[1-9]\\d*)";
const IDENTIFIER = "(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)";
const SEMVER = new RegExp(`^${NUMBER}\\.${NUMBER}\\.${NUMBER}(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?$`);

export interface Version {
    readonly version: string;
    readonly core: readonly [number, number, number];
    /** The pre-release identifiers (`rc.1` → ["rc", "1"]); empty for a release. */
    readonly prerelease: readonly string[];
}

/** A semantic version without build metadata, or undefined. */
export function parseVersion(text: string): Version | undefined {
    const match = SEMVER.exec(text);
    if (match === null) {
        return undefined;
    }
    return {
        version: text,
        core: [Number(match[1]), Number(match[2]), Number(match[3])],
        prerelease: match[4] === undefined ? [] : match[4].split("."),
    };
}

/** The npm dist-tag a version is published under. */
export function distTag(version: Version): string {
    return version.prerelease.length > 0 ? PRERELEASE_DIST_TAG : "latest";
}

/** Whether `version` (such as 11.5.1, v22.14.0 or 11.6.0-pre) is at least `minimum`, by major, minor, patch. */
export function atLeast(version: string, minimum: string): boolean {
    const numbers = (text: string) =>
        (/^v?(\d+)\.(\d+)\.(\d+)/.exec(text) ?? []).slice(1, 4).map((part) => Number(part));
    const have = numbers(version);
    const want = numbers(minimum);
    if (have.length !== 3 || want.length !== 3) {
        return false;
    }
    for (let index = 0; index < 3; index += 1) {
        const a = have[index] ?? 0;
        const b = want[index] ?? 0;
        if (a !== b) {
            return a > b;
        }
    }
    return true;
}

/**
 * The body of CHANGELOG.md's section for `version`: from a heading `## X.Y.Z` or `## [X.Y.Z]`, alone or
 * followed by a space or a parenthesis (`## 1.2.0 (2026-12-01)`, `## [1.2.0] - 2026-12-01`), to the next
 * `## ` heading. Undefined without such a heading; `## Unreleased (X.Y.Z)` and `## X.Y.Z-rc.1` are not one.
 */
export function changelogSection(markdown: string, version: string): string | undefined {
    const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const heading = new RegExp(`^## \\[?${escaped}\\]?(?:$|[\\s(])`);
    const lines = markdown.split(/\r?\n/);
    const start = lines.findIndex((line) => heading.test(line));
    if (start < 0) {
        return undefined;
    }
    const rest = lines.slice(start + 1);
    const end = rest.findIndex((line) => line.startsWith("## "));
    return (end < 0 ? rest : rest.slice(0, end)).join("\n");
}

/** The `owner/name` a repository URL names on github.com (git+https, https, git@ and `github:` forms). */
export function githubRepository(url: string): string | undefined {
    const match =
        /^(?:git\+)?(?:https?|ssh|git):\/\/(?:[^@/]+@)?github\.com[/:]([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(url) ??
        /^git@github\.com:([^/]+\/[^/]+?)(?:\.git)?$/.exec(url) ??
        /^github:([^/]+\/[^/]+?)(?:\.git)?$/.exec(url);
    return match?.[1]?.toLowerCase();
}

export interface PackageManifest {
    readonly name?: string;
    readonly version?: string;
    readonly private?: boolean;
    readonly repository?: string | { readonly type?: string; readonly url?: string };
}

export interface ReleaseInput {
    readonly tag: string;
    readonly manifest: PackageManifest;
    readonly changelog: string;
    /** The repository the workflow runs in (`https://github.com/<owner>/<repo>`), to match `repository.url`. */
    readonly repository?: string;
    /** With --for-publish: the npm CLI's and Node.js's versions. */
    readonly publisher?: { readonly npm: string | undefined; readonly node: string };
    /** With --on-branch: the branch, and whether the tagged commit is on it (undefined: git could not tell). */
    readonly onBranch?: { readonly ref: string; readonly contained: boolean | undefined };
}

export interface ReleaseCheck {
    readonly version: Version | undefined;
    readonly distTag: string | undefined;
    readonly problems: readonly string[];
}

/** Every reason `input.tag` cannot be released. */
export function checkRelease(input: ReleaseInput): ReleaseCheck {
    const problems: string[] = [];
    const { manifest } = input;
    if (manifest.private === true) {
        problems.push("package.json is private: npm refuses to publish it.");
    }
    const tagged = /^v(.*)$/.exec(input.tag)?.[1];
    const version = tagged === undefined ? undefined : parseVersion(tagged);
    if (version === undefined) {
        problems.push(
            `The tag ${JSON.stringify(input.tag)} is not v<major>.<minor>.<patch>[-<pre-release>] (https://semver.org/, no build metadata).`,
        );
    } else if (manifest.version !== version.version) {
        problems.push(
            `The tag ${input.tag} is not package.json's version (${String(manifest.version)}): bump it with \`npm version ${version.version}\`, which commits and tags both.`,
        );
    }
    if (version !== undefined) {
        const section = changelogSection(input.changelog, version.version);
        if (section === undefined) {
            problems.push(
                `CHANGELOG.md has no section "## ${version.version}" (rename "## Unreleased" to it, with the date).`,
            );
        } else if (section.trim() === "") {
            problems.push(`CHANGELOG.md's section "## ${version.version}" is empty: say what changed.`);
        }
    }
    if (input.repository !== undefined) {
        const expected = githubRepository(input.repository);
        const declared = typeof manifest.repository === "string" ? manifest.repository : manifest.repository?.url;
        if (expected === undefined) {
            problems.push(`--repository ${input.repository} is not a github.com repository URL.`);
        } else if (declared === undefined || githubRepository(declared) !== expected) {
            problems.push(
                `package.json's repository.url is ${declared === undefined ? "not set" : JSON.stringify(declared)}; npm's provenance check needs this repository: "repository": { "type": "git", "url": "git+https://github.com/${expected}.git" }.`,
            );
        }
    }
    if (input.onBranch?.contained === false) {
        problems.push(
            `The tagged commit is not on ${input.onBranch.ref}: release only what was merged there (delete the tag, tag a commit of ${input.onBranch.ref}).`,
        );
    } else if (input.onBranch !== undefined && input.onBranch.contained === undefined) {
        problems.push(
            `git cannot tell whether the tagged commit is on ${input.onBranch.ref} (is it fetched? actions/checkout needs fetch-depth: 0).`,
        );
    }
    if (input.publisher !== undefined) {
        const { npm, node } = input.publisher;
        if (npm === undefined || !atLeast(npm, TRUSTED_PUBLISHING_NPM)) {
            problems.push(
                `npm ${npm ?? "(unknown: run this through npm run)"} cannot publish with trusted publishing: it needs npm ${TRUSTED_PUBLISHING_NPM} or newer.`,
            );
        }
        if (!atLeast(node, TRUSTED_PUBLISHING_NODE)) {
            problems.push(
                `Node.js ${node} cannot publish with trusted publishing: it needs Node.js ${TRUSTED_PUBLISHING_NODE} or newer.`,
            );
        }
    }
    return {
        version: problems.length === 0 ? version : undefined,
        distTag: problems.length === 0 && version !== undefined ? distTag(version) : undefined,
        problems,
    };
}

/** The npm version in an `npm_config_user_agent` ("npm/11.21.2 node/v22.23.5 linux x64 ..."). */
export function npmVersionOf(userAgent: string | undefined): string | undefined {
    return /^npm\/(\S+)/.exec(userAgent ?? "")?.[1];
}

/**
 * Whether commit HEAD of the repository at `cwd` is `ref` or an ancestor of it (`git merge-base
 * --is-ancestor`: exit 0 yes, 1 no); undefined when git cannot tell (an unknown ref, no repository).
 */
export function isOnBranch(ref: string, cwd: string): boolean | undefined {
    try {
        execFileSync("git", ["merge-base", "--is-ancestor", "HEAD", ref], { cwd, stdio: "ignore" });
        return true;
    } catch (error) {
        return (error as { status?: unknown }).status === 1 ? false : undefined;
    }
}

/** This repository: build/scripts/ → the root, as for scripts/ (the package.json beside CHANGELOG.md). */
function repositoryRoot(): string {
    const up = path.basename(path.dirname(__dirname)) === "build" ? "../.." : "..";
    return path.resolve(__dirname, up);
}

function main(argv: readonly string[]): number {
    const { values } = parseFlags({
        args: [...argv],
        options: {
            tag: { type: "string" },
            "on-branch": { type: "string" },
            repository: { type: "string" },
            "for-publish": { type: "boolean", default: false },
            "github-output": { type: "string" },
            dir: { type: "string" },
            help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    for (const name of ["tag", "on-branch", "repository", "github-output", "dir"] as const) {
        if (values[name] === "") {
            throw new UsageError(`--${name} needs a value.`);
        }
    }
    const root = values.dir === undefined ? repositoryRoot() : path.resolve(values.dir);
    if (!existsSync(path.join(root, "package.json"))) {
        throw new UsageError(`--dir ${String(values.dir)} has no package.json.`);
    }
    const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as PackageManifest;
    const changelogFile = path.join(root, "CHANGELOG.md");
    const changelog = existsSync(changelogFile) ? readFileSync(changelogFile, "utf8") : "";
    const tag = values.tag ?? `v${String(manifest.version)}`;
    const ref = values["on-branch"];
    const result = checkRelease({
        tag,
        manifest,
        changelog,
        ...(values.repository === undefined ? {} : { repository: values.repository }),
        ...(values["for-publish"]
            ? { publisher: { npm: npmVersionOf(process.env["npm_config_user_agent"]), node: process.version } }
            : {}),
        ...(ref === undefined ? {} : { onBranch: { ref, contained: isOnBranch(ref, root) } }),
    });
    if (result.problems.length > 0 || result.version === undefined || result.distTag === undefined) {
        console.error(
            `${tag} cannot be released, ${result.problems.length} problem(s):\n- ${result.problems.join("\n- ")}`,
        );
        return 1;
    }
    const prerelease = result.version.prerelease.length > 0;
    const outputs = { version: result.version.version, "dist-tag": result.distTag, prerelease: String(prerelease) };
    if (values["github-output"] !== undefined) {
        appendFileSync(
            values["github-output"],
            Object.entries(outputs)
                .map(([key, value]) => `${key}=${value}\n`)
                .join(""),
        );
    }
    console.log(
        `${manifest.name ?? "the package"}@${result.version.version} can be released from ${tag}, to the dist-tag ${result.distTag}.`,
    );
    return 0;
}

if (require.main === module) {
    // A promise whose executor runs main, so that a usage error it throws is reported like the others.
    runMain(() => new Promise<number>((resolve) => resolve(main(process.argv.slice(2)))), { usage: USAGE });
}
