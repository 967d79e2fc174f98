/**
 * Reports a failed `pulumi preview` on the pull request, in the comment pulumi/actions keeps per stack.
 *
 * pulumi/actions comments only when the command succeeds; when a preview fails (a mandatory policy
 * violation, a program error) the stack's comment would still show the last successful preview. This
 * script, run by .github/actions/pulumi-stack after a failed preview, replaces that comment (or creates
 * it) with the failure and a link to the job's log, under the same heading, so the next successful
 * preview edits it back.
 *
 *   node build/scripts/pr-comment.js --project NAME --stack STACK --command preview --run-url URL
 *
 * Reads GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH and GITHUB_API_URL, as set in a workflow run.
 * Exits 0 when the comment is written, 1 when GitHub refuses it, 2 on bad arguments or environment.
 */
import { readFileSync } from "node:fs";
import { HelpRequest, parseFlags, runMain, UsageError } from "./run-main";

/** The marker pulumi/actions looks for, after its heading, to find its own comment. */
export const REPORT_MARKER = "<summary>Pulumi report</summary>";

export interface CommentTarget {
    readonly apiUrl: string;
    readonly token: string;
    readonly owner: string;
    readonly repo: string;
    readonly pullRequest: number;
}

export interface FailureReport {
    readonly project: string;
    readonly stack: string;
    readonly command: string;
    readonly runUrl: string;
}

/** The heading pulumi/actions gives its comment for a command on a stack. */
export function commentHeading(report: Pick<FailureReport, "project" | "stack" | "command">): string {
    return `#### :tropical_drink: \`${report.command}\` on ${report.project}/${report.stack}`;
}

export function failureBody(report: FailureReport): string {
    return [
        commentHeading(report),
        "",
        "<details>",
        REPORT_MARKER,
        "",
        `:x: **\`pulumi ${report.command}\` failed** on \`${report.stack}\`: a mandatory policy violation or an error in the program.`,
        `The job log has the whole output, policy violations under "Policies:": [${report.runUrl}](${report.runUrl})`,
        "",
        "This comment shows the latest run: the next successful preview replaces it.",
        "</details>",
    ].join("\n");
}

interface IssueComment {
    readonly id: number;
    readonly body?: string | null;
}

class GitHubError extends Error {}

async function github(target: CommentTarget, method: string, route: string, body?: unknown): Promise<Response> {
    const response = await fetch(`${target.apiUrl}${route}`, {
        method,
        headers: {
            Accept: "application/vnd.github+json",
            Authorization: `Bearer ${target.token}`,
            "X-GitHub-Api-Version": "2022-11-28",
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) {
        const detail = (await response.text()).slice(0, 300);
        const hint =
            response.status === 403 || response.status === 404
                ? " The job needs `permissions: pull-requests: write`, and pull requests from forks get a read-only token."
                : "";
        throw new GitHubError(`GitHub answered ${method} ${route} with ${response.status}: ${detail}.${hint}`);
    }
    return response;
}

/** Every comment of the pull request, following GitHub's pagination. */
async function listComments(target: CommentTarget): Promise<IssueComment[]> {
    const comments: IssueComment[] = [];
    for (let page = 1; ; page += 1) {
        const route = `/repos/${target.owner}/${target.repo}/issues/${target.pullRequest}/comments?per_page=100&page=${page}`;
        const batch = (await (await github(target, "GET", route)).json()) as IssueComment[];
        comments.push(...batch);
        if (batch.length < 100) {
            return comments;
        }
    }
}

/** Edits the stack's comment (found as pulumi/actions finds it) or creates it; returns what it did. */
export async function upsertComment(
    target: CommentTarget,
    heading: string,
    body: string,
): Promise<{ action: "created" | "updated"; id: number }> {
    const existing = (await listComments(target)).find(
        (comment) => comment.body?.startsWith(heading) === true && comment.body.includes(REPORT_MARKER),
    );
    if (existing !== undefined) {
        await github(target, "PATCH", `/repos/${target.owner}/${target.repo}/issues/comments/${existing.id}`, { body });
        return { action: "updated", id: existing.id };
    }
    const created = (await (
        await github(target, "POST", `/repos/${target.owner}/${target.repo}/issues/${target.pullRequest}/comments`, {
            body,
        })
    ).json()) as IssueComment;
    return { action: "created", id: created.id };
}

export const USAGE = `Usage: node build/scripts/pr-comment.js --stack STACK --run-url URL [--project NAME] [--command preview]
Replaces the pull request comment pulumi/actions keeps for a stack with a failed preview's report and
a link to the job's log. Reads GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH and GITHUB_API_URL,
as set in a workflow run. Exit 0 when the comment is written, 1 when GitHub refuses it, 2 on bad
arguments or environment.
Options:
  --stack STACK      the stack whose preview failed
  --run-url URL      the job's log, linked from the comment
  --project NAME     the Pulumi project (default callback-workflow)
  --command NAME     the Pulumi command that failed (default preview)
  -h, --help         print this usage`;

/**
 * The report and where to post it, from the command line and the workflow's environment. Throws
 * {@link HelpRequest} for --help, {@link UsageError} listing every problem.
 */
export function readInvocation(
    argv: readonly string[],
    env: NodeJS.ProcessEnv,
): { report: FailureReport; target: CommentTarget } {
    const { values } = parseFlags({
        args: [...argv],
        options: {
            project: { type: "string", default: "callback-workflow" },
            stack: { type: "string" },
            command: { type: "string", default: "preview" },
            "run-url": { type: "string" },
            help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    const problems: string[] = [];
    const need = (value: string | undefined, what: string): string => {
        if (value === undefined || value === "") {
            problems.push(`${what} is required.`);
            return "";
        }
        return value;
    };
    const stack = need(values.stack, "--stack");
    const runUrl = need(values["run-url"], "--run-url");
    const token = need(env["GITHUB_TOKEN"], "GITHUB_TOKEN");
    const repository = need(env["GITHUB_REPOSITORY"], "GITHUB_REPOSITORY");
    const [owner = "", repo = ""] = repository.split("/");
    if (repository !== "" && (owner === "" || repo === "")) {
        problems.push(`GITHUB_REPOSITORY must be owner/repo (got ${JSON.stringify(repository)}).`);
    }
    let pullRequest = 0;
    const eventPath = need(env["GITHUB_EVENT_PATH"], "GITHUB_EVENT_PATH");
    if (eventPath !== "") {
        const event = JSON.parse(readFileSync(eventPath, "utf8")) as { pull_request?: { number?: unknown } };
        const number = event.pull_request?.number;
        if (typeof number === "number" && Number.isInteger(number) && number > 0) {
            pullRequest = number;
        } else {
            problems.push(`The event at ${eventPath} is not a pull request (no pull_request.number).`);
        }
    }
    if (problems.length > 0) {
        throw new UsageError(problems.join("\n"));
    }
    return {
        report: { project: values.project, stack, command: values.command, runUrl },
        target: { apiUrl: env["GITHUB_API_URL"] ?? "https://api.github.com", token, owner, repo, pullRequest },
    };
}

async function main(): Promise<number> {
    const { report, target } = readInvocation(process.argv.slice(2), process.env);
    try {
        const { action, id } = await upsertComment(target, commentHeading(report), failureBody(report));
        console.log(`${action} comment ${id} on pull request #${target.pullRequest}`);
        return 0;
    } catch (error) {
        if (error instanceof GitHubError) {
            console.error(error.message);
            return 1;
        }
        throw error;
    }
}

if (require.main === module) {
    runMain(main, { usage: USAGE });
}
