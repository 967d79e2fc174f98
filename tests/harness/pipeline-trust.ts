/**
 * The pipeline's trust model as checks over parsed files: the workflows (YAML), the IAM and Pulumi Cloud
 * policy documents under docs/ (JSON) and README's trust table (Markdown). Each check returns a list of
 * problems, so a test can also feed it a broken copy and see it refused. What they cannot see is GitHub's,
 * AWS's and Pulumi Cloud's own settings: docs/pipeline.md says which claims rest on those.
 */

export type Mapping = Record<string, unknown>;

export interface Step {
    readonly id?: string;
    readonly name?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Mapping;
    readonly env?: Mapping;
}

export interface Job {
    readonly name?: string;
    readonly "runs-on"?: string;
    readonly needs?: string | string[];
    readonly if?: string;
    readonly environment?: string;
    readonly permissions?: Mapping;
    readonly concurrency?: { group: string; "cancel-in-progress": boolean };
    readonly strategy?: { matrix: { include: Mapping[] } };
    readonly steps: Step[];
}

export interface Workflow {
    readonly on: Mapping;
    readonly permissions?: Mapping;
    readonly jobs: Record<string, Job>;
}

export const STACK_ACTION = "./.github/actions/pulumi-stack";

/** The stack whose credentials branch code gets without approval; every other stack's need a reviewer. */
export const FREE_STACK = "dev";

export const TEAM_TOKEN = "urn:pulumi:token-type:access_token:team";
export const ORGANIZATION_TOKEN = "urn:pulumi:token-type:access_token:organization";

/** The GitHub environment a pull request's preview of `stack` runs in. */
export function previewEnvironment(stack: string): string {
    return `${stack}-preview`;
}

/** Whether a job in `environment` waits for a required reviewer (README, "Setting it up", step 4). */
export function isReviewed(environment: string | undefined): boolean {
    if (environment === undefined) {
        return false;
    }
    const stack = environment.replace(/-preview$/, "");
    return stack !== FREE_STACK;
}

/** The OIDC subject GitHub gives a job in `environment` (GitHub's docs, "Filtering for a specific environment"). */
export function environmentSubject(environment: string): string {
    return `repo:<owner>/<repo>:environment:${environment}`;
}

/** A string input as written, "" for anything else. */
function asText(value: unknown): string {
    return typeof value === "string" ? value : "";
}

/** The pulumi-stack step of a job, if it has one. */
export function stackStep(job: Job): Step | undefined {
    return job.steps.find((step) => step.uses === STACK_ACTION);
}

/** The `vars.X` and `secrets.X` a job reads, anywhere in it. */
export function namesRead(job: Job): string[] {
    return [...JSON.stringify(job).matchAll(/\b(?:vars|secrets)\.([A-Z0-9_]+)/g)].map((match) => match[1] ?? "");
}

function upper(stack: string): string {
    return stack.toUpperCase().replace(/-/g, "_");
}

/**
 * What a job of pull-request.yml may hold. A preview of stack S runs in S's preview environment, asks AWS
 * for S's preview role and Pulumi Cloud for a team token of S's read-only team, and reads S's secrets
 * only; a job without a pulumi-stack step reads no secret and gets no OIDC token. Nothing in the file
 * names a deploy role, a deploy environment, an organisation or personal token, or the stored token.
 */
export function pullRequestProblems(workflow: Workflow, stacks: readonly string[]): string[] {
    const problems: string[] = [];
    for (const trigger of Object.keys(workflow.on)) {
        if (trigger !== "pull_request") {
            problems.push(`on.${trigger}: pull requests run branch code, under pull_request only`);
        }
    }
    const text = JSON.stringify(workflow);
    for (const forbidden of [
        "AWS_DEPLOY_ROLE_ARN",
        "PULUMI_DEPLOY_TEAM",
        "secrets.PULUMI_ACCESS_TOKEN",
        "access_token:organization",
    ]) {
        if (text.includes(forbidden)) {
            problems.push(`pull-request.yml names ${forbidden}`);
        }
    }
    if (text.includes("access_token:personal")) {
        problems.push("pull-request.yml asks for a personal token");
    }
    for (const [name, job] of Object.entries(workflow.jobs)) {
        const where = `pull-request.yml job ${name}`;
        const step = stackStep(job);
        const idToken = job.permissions?.["id-token"] === "write";
        const names = namesRead(job);
        if (step === undefined) {
            if (job.environment !== undefined) {
                problems.push(`${where}: environment ${job.environment} without a preview`);
            }
            if (idToken) {
                problems.push(`${where}: id-token: write without a preview`);
            }
            const secrets = JSON.stringify(job).match(/\bsecrets\.[A-Z0-9_]+/g) ?? [];
            if (secrets.length > 0) {
                problems.push(`${where}: reads ${secrets.join(", ")} without a preview`);
            }
            continue;
        }
        const stack = asText(step.with?.stack);
        const with_ = step.with ?? {};
        if (!stacks.includes(stack)) {
            problems.push(`${where}: stack ${stack} is not a committed stack (a literal, one job per stack)`);
            continue;
        }
        const expect = (key: string, value: string) => {
            if (with_[key] !== value) {
                problems.push(`${where}: ${key} must be ${value} (is ${String(with_[key])})`);
            }
        };
        if (job.environment !== previewEnvironment(stack)) {
            problems.push(`${where}: must run in environment ${previewEnvironment(stack)} (is ${job.environment})`);
        }
        if (!idToken) {
            problems.push(`${where}: needs id-token: write for the OIDC exchanges`);
        }
        const s = upper(stack);
        expect("command", "preview");
        expect("aws-role-arn", `\${{ vars.AWS_PREVIEW_ROLE_ARN_${s} }}`);
        expect("pulumi-token-type", TEAM_TOKEN);
        expect("pulumi-token-scope", `team:\${{ vars.PULUMI_PREVIEW_TEAM_${s} }}`);
        expect("pulumi-access-token", `\${{ secrets.PULUMI_PREVIEW_TOKEN_${s} }}`);
        expect("pulumi-config-passphrase", `\${{ secrets.PULUMI_CONFIG_PASSPHRASE_${s} }}`);
        for (const other of stacks.filter((candidate) => candidate !== stack)) {
            for (const read of names.filter((entry) => entry.endsWith(`_${upper(other)}`))) {
                problems.push(`${where}: the ${stack} preview reads ${read}, ${other}'s`);
            }
        }
    }
    return problems;
}

/**
 * What a job of deploy.yml may hold: the deploy of stack S runs in environment S (main only; reviewed
 * but for dev), with that environment's deploy role, a team token of S's deploy team and S's
 * passphrase, and names no other stack's.
 */
export function deployProblems(workflow: Workflow, stacks: readonly string[]): string[] {
    const problems: string[] = [];
    for (const [name, job] of Object.entries(workflow.jobs)) {
        const where = `deploy.yml job ${name}`;
        const step = stackStep(job);
        if (step === undefined) {
            if (job.permissions?.["id-token"] !== undefined || /\bsecrets\./.test(JSON.stringify(job))) {
                problems.push(`${where}: credentials without a deploy`);
            }
            continue;
        }
        const stack = asText(step.with?.stack);
        if (job.environment !== stack) {
            problems.push(`${where}: the deploy of ${stack} must run in environment ${stack}`);
        }
        if (step.with?.["aws-role-arn"] !== "${{ vars.AWS_DEPLOY_ROLE_ARN }}") {
            problems.push(`${where}: the deploy role is the environment's AWS_DEPLOY_ROLE_ARN`);
        }
        if (step.with?.["pulumi-config-passphrase"] !== `\${{ secrets.PULUMI_CONFIG_PASSPHRASE_${upper(stack)} }}`) {
            problems.push(`${where}: the passphrase is PULUMI_CONFIG_PASSPHRASE_${upper(stack)}`);
        }
        if (
            step.with?.["pulumi-token-type"] !== TEAM_TOKEN ||
            step.with["pulumi-token-scope"] !== `team:\${{ vars.PULUMI_DEPLOY_TEAM_${upper(stack)} }}`
        ) {
            problems.push(`${where}: a team token of PULUMI_DEPLOY_TEAM_${upper(stack)}`);
        }
        for (const other of stacks.filter((candidate) => candidate !== stack)) {
            for (const read of namesRead(job).filter((entry) => entry.endsWith(`_${upper(other)}`))) {
                problems.push(`${where}: the ${stack} deploy reads ${read}, ${other}'s`);
            }
        }
        if (/AWS_PREVIEW_ROLE_ARN|PULUMI_PREVIEW_/.test(JSON.stringify(job))) {
            problems.push(`${where}: a deploy uses no preview credential`);
        }
    }
    return problems;
}

interface PolicyStatement {
    readonly Sid?: string;
    readonly Effect?: string;
    readonly Action?: string | string[];
    readonly NotAction?: unknown;
    readonly Resource?: string | string[];
    readonly NotResource?: unknown;
    readonly Principal?: { Federated?: string };
    readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
    readonly Version?: string;
    readonly Statement: PolicyStatement[];
}

/** Verbs that read: an action `service:Verb...` starting with one of these changes nothing. */
export const READ_VERBS = ["Get", "List", "Describe"] as const;

/**
 * Actions allowed although their verb is not a read, each with why it changes nothing. Keep this list
 * short; docs/pipeline.md explains each.
 */
export const NON_READ_ALLOWED: Record<string, string> = {
    "states:ValidateStateMachineDefinition":
        "the provider's plan of aws:sfn/stateMachine validates a changed definition (no state is kept): " +
        "https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html",
    "apigateway:GET":
        "API Gateway's management actions are the HTTP methods of its REST API: GET reads an API, route, " +
        "integration or stage and changes nothing: " +
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/security_iam_service-with-iam.html",
};

/** Allowed in the backend policy only: decrypting the stack's data key of an awskms:// secrets provider. */
export const BACKEND_NON_READ_ALLOWED: Record<string, string> = {
    "kms:Decrypt":
        "an awskms:// secrets provider keeps the stack's data key encrypted under the KMS key (encryptedkey in " +
        "the stack's settings); a preview decrypts it once to read the stack's secrets: " +
        "https://www.pulumi.com/docs/reference/cloud-rest-api/schema/appstackconfig/",
};

/** The actions of a policy document, in order. */
export function policyActions(document: PolicyDocument): string[] {
    return document.Statement.flatMap((statement) =>
        statement.Action === undefined ? [] : Array.isArray(statement.Action) ? statement.Action : [statement.Action],
    );
}

/** An identity policy that can only read: Allow statements, explicit actions, read verbs or an allowed few. */
export function readOnlyPolicyProblems(document: PolicyDocument, allowed: Record<string, string>): string[] {
    const problems: string[] = [];
    if (document.Version !== "2012-10-17") {
        problems.push(`Version must be 2012-10-17 (is ${document.Version})`);
    }
    const seen = new Set<string>();
    for (const [index, statement] of document.Statement.entries()) {
        const where = `statement ${statement.Sid ?? index}`;
        if (statement.Effect !== "Allow") {
            problems.push(`${where}: only Allow statements (a Deny here would be a sign of a broad Allow)`);
        }
        if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
            problems.push(`${where}: NotAction/NotResource allow everything else`);
        }
        if (statement.Action === undefined) {
            problems.push(`${where}: no Action`);
        }
    }
    for (const action of policyActions(document)) {
        const match = /^([a-z0-9-]+):([A-Za-z]+)$/.exec(action);
        if (match === null) {
            problems.push(`${action}: an explicit service:Action, no wildcard`);
            continue;
        }
        const verb = match[2] ?? "";
        if (!READ_VERBS.some((read) => verb.startsWith(read)) && !(action in allowed)) {
            problems.push(`${action}: not a read (Get/List/Describe) nor in the documented allow-list`);
        }
        if (seen.has(action)) {
            problems.push(`${action}: listed twice`);
        }
        seen.add(action);
    }
    return problems;
}

/**
 * The OIDC subject a role's trust policy accepts, with its problems: one statement, GitHub's provider,
 * AssumeRoleWithWebIdentity, StringEquals (no StringLike: a wildcard subject lets other refs in) on the
 * audience sts.amazonaws.com and on one exact `sub`.
 */
export function trustPolicySubject(document: PolicyDocument): { subject: string | undefined; problems: string[] } {
    const problems: string[] = [];
    const [statement, ...rest] = document.Statement;
    if (statement === undefined || rest.length > 0) {
        return { subject: undefined, problems: ["a trust policy has exactly one statement"] };
    }
    if (statement.Effect !== "Allow" || statement.Action !== "sts:AssumeRoleWithWebIdentity") {
        problems.push("Allow sts:AssumeRoleWithWebIdentity");
    }
    if (!/:oidc-provider\/token\.actions\.githubusercontent\.com$/.test(statement.Principal?.Federated ?? "")) {
        problems.push("the principal is GitHub's OIDC provider");
    }
    const operators = Object.keys(statement.Condition ?? {});
    if (operators.length !== 1 || operators[0] !== "StringEquals") {
        problems.push(`conditions must be StringEquals only (are ${operators.join(", ")})`);
    }
    const equals = statement.Condition?.["StringEquals"] ?? {};
    if (equals["token.actions.githubusercontent.com:aud"] !== "sts.amazonaws.com") {
        problems.push("aud must be sts.amazonaws.com");
    }
    const subject = equals["token.actions.githubusercontent.com:sub"];
    if (typeof subject !== "string" || /[*?]/.test(subject)) {
        problems.push("sub must be one exact subject");
        return { subject: undefined, problems };
    }
    return { subject, problems };
}

export interface PulumiOidcPolicy {
    readonly decision: string;
    readonly tokenType: string;
    readonly teamName?: string;
    readonly rules: Record<string, string>;
}

/**
 * Pulumi Cloud's OIDC issuer policies against the jobs: each preview and each deploy environment gets
 * one team token, no preview shares a team with a deploy (that team can write), an organisation token
 * only ever in a deploy environment, every subject exact.
 */
export function pulumiPolicyProblems(
    policies: readonly PulumiOidcPolicy[],
    previewEnvironments: readonly string[],
    deployEnvironments: readonly string[],
): string[] {
    const problems: string[] = [];
    const allows = policies.filter((policy) => policy.decision === "allow");
    for (const policy of allows) {
        const subject = policy.rules["sub"] ?? "";
        const where = `${policy.tokenType} policy for ${subject}`;
        // Pulumi Cloud matches claim values with wildcards: `*`, `?` and `.` (one character).
        if (/[*?]/.test(subject) || subject === "") {
            problems.push(`${where}: an exact subject`);
        }
        if (policy.rules["aud"] !== "urn:pulumi:org:<org>") {
            problems.push(`${where}: aud must be urn:pulumi:org:<org>`);
        }
        const environment = /:environment:([^:]+)$/.exec(subject)?.[1];
        if (environment === undefined) {
            problems.push(`${where}: subjects name an environment`);
            continue;
        }
        if (policy.tokenType === "organization" && !deployEnvironments.includes(environment)) {
            problems.push(`${where}: an organisation token only for a deploy environment`);
        }
        if (policy.tokenType === "personal") {
            problems.push(`${where}: no personal tokens`);
        }
        if (policy.tokenType === "team" && (policy.teamName ?? "") === "") {
            problems.push(`${where}: a team policy names its team`);
        }
    }
    const teams = new Map<string, string>();
    for (const environment of [...previewEnvironments, ...deployEnvironments]) {
        const subject = environmentSubject(environment);
        const matching = allows.filter((policy) => policy.rules["sub"] === subject);
        const [policy] = matching;
        if (matching.length !== 1 || policy?.tokenType !== "team") {
            const types = matching.map((candidate) => candidate.tokenType).join(", ");
            problems.push(`${environment}: exactly one allow policy, for a team token (has ${types})`);
            continue;
        }
        teams.set(environment, policy.teamName ?? "");
    }
    for (const preview of previewEnvironments) {
        for (const deploy of deployEnvironments) {
            if (teams.has(preview) && teams.get(preview) === teams.get(deploy)) {
                problems.push(`${preview} and ${deploy} share the team ${teams.get(preview)}, which can write`);
            }
        }
    }
    return problems;
}

/** The rows of the Markdown table that follows `heading` in `markdown`, as header → cell maps. */
export function markdownTable(markdown: string, heading: string): Record<string, string>[] {
    const start = markdown.indexOf(heading);
    if (start < 0) {
        return [];
    }
    const lines = markdown.slice(start).split("\n");
    const first = lines.findIndex((line) => line.startsWith("|"));
    if (first < 0) {
        return [];
    }
    const table: string[] = [];
    for (const line of lines.slice(first)) {
        if (!line.startsWith("|")) {
            break;
        }
        table.push(line);
    }
    const cells = (line: string) =>
        line
            .slice(1, line.endsWith("|") ? -1 : undefined)
            .split("|")
            .map((cell) => cell.trim());
    const [header, , ...rows] = table;
    const names = cells(header ?? "");
    return rows.map((row) => Object.fromEntries(cells(row).map((cell, index) => [names[index] ?? "", cell])));
}

/** README's trust table row → which workflow and job it describes ("PR `preview-dev`", "deploy `prod`"). */
function rowJob(cell: string): { file: string; job: string } | undefined {
    const match = /^(PR|deploy) `([\w-]+)`$/.exec(cell);
    if (match === null) {
        return undefined;
    }
    return { file: match[1] === "PR" ? "pull-request.yml" : "deploy.yml", job: match[2] ?? "" };
}

/** What a trust table's cells must say for a job, from the YAML. */
function expectedRow(job: Job): { environment: string; role: string; token: string; approval: boolean } {
    const step = stackStep(job);
    const environment = job.environment === undefined ? "none" : `\`${job.environment}\``;
    if (step === undefined) {
        return { environment, role: "none", token: "none", approval: isReviewed(job.environment) };
    }
    const stack = asText(step.with?.stack);
    const roleArn = asText(step.with?.["aws-role-arn"]);
    const role = roleArn.includes("AWS_PREVIEW_ROLE_ARN_")
        ? `${stack} preview`
        : roleArn.includes("AWS_DEPLOY_ROLE_ARN")
          ? `${stack} deploy`
          : `? (${roleArn})`;
    const type = asText(step.with?.["pulumi-token-type"]);
    const scope = asText(step.with?.["pulumi-token-scope"]);
    const team = /PULUMI_PREVIEW_TEAM_/.test(scope)
        ? "team, read"
        : /PULUMI_DEPLOY_TEAM_/.test(scope)
          ? "team, write"
          : "?";
    const token = type === TEAM_TOKEN ? team : type === ORGANIZATION_TOKEN ? "organization" : `? (${type})`;
    return { environment, role, token, approval: isReviewed(job.environment) };
}

/**
 * README's trust table against the workflows: one row per job of pull-request.yml and per deploy, and for
 * each the environment, the AWS role, the Pulumi token and whether a reviewer's approval comes first, as
 * the YAML says; a row with a read-only token changes nothing.
 */
export function trustTableProblems(
    rows: readonly Record<string, string>[],
    workflows: Map<string, Workflow>,
): string[] {
    const problems: string[] = [];
    const described = new Set<string>();
    for (const row of rows) {
        const cell = row["job"] ?? "";
        const where = rowJob(cell);
        const job = where === undefined ? undefined : workflows.get(where.file)?.jobs[where.job];
        if (where === undefined || job === undefined) {
            problems.push(`README trust table: row ${cell} names no job`);
            continue;
        }
        described.add(`${where.file} ${where.job}`);
        const expected = expectedRow(job);
        for (const [column, value] of [
            ["environment", expected.environment],
            ["AWS role", expected.role],
            ["Pulumi token", expected.token],
        ] as const) {
            if (row[column] !== value) {
                problems.push(`README trust table, ${cell}: ${column} must be "${value}" (is "${row[column]}")`);
            }
        }
        const approval = /\bapprov/.test(row["started by"] ?? "");
        if (approval !== expected.approval) {
            problems.push(
                `README trust table, ${cell}: "started by" must ${expected.approval ? "" : "not "}say approved`,
            );
        }
        if (expected.token === "team, read" && !(row["changes"] ?? "").startsWith("nothing")) {
            problems.push(`README trust table, ${cell}: a read-only preview changes nothing`);
        }
    }
    for (const [file, workflow] of workflows) {
        for (const [name, job] of Object.entries(workflow.jobs)) {
            // Every job that runs branch code, and every job that holds a credential.
            const mustDescribe = file === "pull-request.yml" || stackStep(job) !== undefined;
            if (mustDescribe && !described.has(`${file} ${name}`)) {
                problems.push(`README trust table: no row for ${file} job ${name}`);
            }
        }
    }
    return problems;
}

/** The GitHub environment the npm publish runs in; npm's trusted publisher names it with release.yml. */
export const NPM_ENVIRONMENT = "npm";

/**
 * The publish step's script: always with provenance; a pre-release under its dist-tag, a release under
 * npm's default (latest), which npm refuses to apply below a higher published version.
 */
export const PUBLISH_SCRIPT = `if [ "$DIST_TAG" = latest ]; then
  npm publish --provenance
else
  npm publish --provenance --tag "$DIST_TAG"
fi`;

/** Whether a step publishes to npm. */
export function publishesToNpm(step: Step): boolean {
    return /\bnpm publish\b/.test(step.run ?? "");
}

/** Whether a step runs scripts/release-check.ts on the pushed tag. */
function checksTheTag(step: Step): boolean {
    return /^npm run release-check -- .*--tag "\$GITHUB_REF_NAME"/.test(step.run ?? "");
}

function needsOf(job: Job): string[] {
    return job.needs === undefined ? [] : [job.needs].flat();
}

/**
 * What release.yml may hold. It runs on a pushed tag v* only (a branch, a pull request or a run by hand
 * would publish code that no release tag names) and reads no secret. Every job that
 * runs .ci/run first runs the release check on the tag; exactly one job publishes, after all of those,
 * in the `npm` environment on a GitHub-hosted runner, the only job with an OIDC token (contents: read and
 * id-token: write, nothing else), one at a time. In it: the pinned npm of .ci/npm, no install script
 * (`npm ci --ignore-scripts`), the release check again (--for-publish, its dist-tag written to
 * $GITHUB_OUTPUT), then {@link PUBLISH_SCRIPT} with DIST_TAG that check's output. A
 * check that looks at the branch has the whole history (fetch-depth: 0).
 */
export function releaseProblems(workflow: Workflow): string[] {
    const problems: string[] = [];
    const on = workflow.on as { push?: { tags?: unknown; branches?: unknown } };
    if (Object.keys(workflow.on).join() !== "push" || JSON.stringify(on.push) !== JSON.stringify({ tags: ["v*"] })) {
        problems.push(`on: must be push of tags ["v*"] only (is ${JSON.stringify(workflow.on)})`);
    }
    const text = JSON.stringify(workflow);
    for (const forbidden of ["secrets.", "NODE_AUTH_TOKEN", "NPM_TOKEN"]) {
        if (text.includes(forbidden)) {
            problems.push(`release.yml names ${forbidden}: trusted publishing needs no stored token`);
        }
    }
    const jobs = Object.entries(workflow.jobs);
    const publishers = jobs.filter(([, job]) => job.steps.some(publishesToNpm));
    const testers = jobs.filter(([, job]) => job.steps.some((step) => step.run === ".ci/run")).map(([name]) => name);
    if (testers.length === 0) {
        problems.push("no job runs .ci/run, the checks CI runs");
    }
    if (publishers.length !== 1) {
        problems.push(`exactly one job runs npm publish (${publishers.map(([name]) => name).join(", ") || "none"})`);
    }
    for (const [name, job] of jobs) {
        const where = `release.yml job ${name}`;
        const publishes = publishers.some(([publisher]) => publisher === name);
        const steps = job.steps;
        const index = (found: (step: Step) => boolean) => steps.findIndex(found);
        if (steps.some((step) => /--on-branch/.test(step.run ?? ""))) {
            const checkout = steps.find((step) => step.uses?.startsWith("actions/checkout@") === true);
            if (checkout?.with?.["fetch-depth"] !== 0) {
                problems.push(`${where}: --on-branch needs the branches' history (checkout with fetch-depth: 0)`);
            }
        }
        if (testers.includes(name)) {
            const check = index(checksTheTag);
            if (check < 0 || check > index((step) => step.run === ".ci/run")) {
                problems.push(`${where}: the release check on the tag comes before .ci/run`);
            }
        }
        if (!publishes) {
            if (job.permissions?.["id-token"] !== undefined || job.environment !== undefined) {
                problems.push(`${where}: only the publish job gets an environment or an OIDC token`);
            }
            continue;
        }
        if (job.environment !== NPM_ENVIRONMENT) {
            problems.push(`${where}: must run in environment ${NPM_ENVIRONMENT} (is ${job.environment})`);
        }
        if (JSON.stringify(job.permissions) !== JSON.stringify({ contents: "read", "id-token": "write" })) {
            problems.push(`${where}: permissions must be contents: read and id-token: write only`);
        }
        if (!/^ubuntu-\d/.test(job["runs-on"] ?? "")) {
            problems.push(`${where}: a GitHub-hosted runner (npm refuses provenance from self-hosted ones)`);
        }
        for (const tester of testers) {
            if (!needsOf(job).includes(tester)) {
                problems.push(`${where}: must need ${tester}, so that it publishes only what passed .ci/run`);
            }
        }
        if (job.concurrency?.["cancel-in-progress"] !== false) {
            problems.push(`${where}: one publish at a time, never cancelled halfway`);
        }
        for (const step of steps.filter((candidate) => /\bnpm ci\b/.test(candidate.run ?? ""))) {
            if (!/--ignore-scripts/.test(step.run ?? "")) {
                problems.push(
                    `${where}: npm ci --ignore-scripts (a step holding the OIDC token runs no install script)`,
                );
            }
        }
        const pinnedNpm = index((step) =>
            /npm ci --prefix \.ci\/npm\b[\s\S]*\.ci\/npm\/node_modules\/\.bin.*GITHUB_PATH/.test(step.run ?? ""),
        );
        const check = steps.find(checksTheTag);
        const checkIndex = check === undefined ? -1 : steps.indexOf(check);
        const publish = steps.find(publishesToNpm);
        const publishIndex = publish === undefined ? -1 : steps.indexOf(publish);
        if (pinnedNpm < 0 || pinnedNpm > checkIndex) {
            problems.push(`${where}: installs .ci/npm's npm and puts it on GITHUB_PATH before the check`);
        }
        const checkRun = check?.run ?? "";
        if (
            check?.id === undefined ||
            !/--for-publish/.test(checkRun) ||
            !/--github-output "\$GITHUB_OUTPUT"/.test(checkRun) ||
            !/--repository "\$GITHUB_SERVER_URL\/\$GITHUB_REPOSITORY"/.test(checkRun) ||
            checkIndex > publishIndex
        ) {
            problems.push(
                `${where}: before publishing, the release check with an id, --for-publish, --repository and --github-output`,
            );
        }
        if (publish?.run?.trim() !== PUBLISH_SCRIPT) {
            problems.push(
                `${where}: the publish step runs ${JSON.stringify(PUBLISH_SCRIPT)} (is ${JSON.stringify(publish?.run)})`,
            );
        }
        if (check?.id === undefined || publish?.env?.["DIST_TAG"] !== `\${{ steps.${check.id}.outputs.dist-tag }}`) {
            problems.push(`${where}: DIST_TAG is the release check's dist-tag output (next for a pre-release)`);
        }
    }
    return problems;
}
