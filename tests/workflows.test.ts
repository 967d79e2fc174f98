/**
 * The GitHub workflows cannot run here, so they are checked: each file against GitHub's schemas with
 * @action-validator/core (WASM), then against this repository (stacks, regions, scripts, versions) and
 * the rules of a safe pipeline (pinned actions, least permissions, no expressions in shell scripts,
 * one deploy per stack at a time, prod after dev behind its environment, a smoke test after each deploy).
 * "Pipeline trust" checks who gets which credential against the policies under docs/ and README's trust
 * table (tests/harness/pipeline-trust.ts), and feeds each check a broken copy to see it refuse.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { validateAction, validateWorkflow, type ValidationError } from "@action-validator/core";
import { parse } from "yaml";
import { REPO_ROOT } from "../components/bundle";
import { POLICY_PACK_DIR } from "../scripts/pulumi";
import { atLeast, TRUSTED_PUBLISHING_NPM } from "../scripts/release-check";
import {
    BACKEND_NON_READ_ALLOWED,
    deployProblems,
    environmentSubject,
    isReviewed,
    markdownTable,
    NON_READ_ALLOWED,
    NPM_ENVIRONMENT,
    policyActions,
    previewEnvironment,
    PUBLISH_SCRIPT,
    publishesToNpm,
    pullRequestProblems,
    pulumiPolicyProblems,
    readOnlyPolicyProblems,
    releaseProblems,
    STACK_ACTION,
    stackStep,
    TEAM_TOKEN,
    trustPolicySubject,
    trustTableProblems,
    type Job,
    type Mapping,
    type PolicyDocument,
    type PulumiOidcPolicy,
    type Step,
    type Workflow,
} from "./harness/pipeline-trust";

const run = promisify(execFile);

interface CompositeAction {
    readonly inputs: Record<string, { required?: boolean; default?: string }>;
    readonly outputs: Record<string, { value: string }>;
    readonly runs: { using: string; steps: Step[] };
}

const WORKFLOW_DIR = path.join(REPO_ROOT, ".github", "workflows");
const ACTION_DIR = path.join(REPO_ROOT, ".github", "actions");
const IAM_DIR = path.join(REPO_ROOT, "docs", "iam");

/**
 * The inputs each third-party action declares, by major version, from its action.yml. A `with:` key
 * outside these is a typo GitHub only reports as a warning at run time. When Dependabot moves an action
 * to a new major version, read its action.yml and add the version here.
 */
const DECLARED_INPUTS: Record<string, readonly string[]> = {
    "actions/checkout@v6": [
        "repository",
        "ref",
        "token",
        "ssh-key",
        "ssh-known-hosts",
        "ssh-strict",
        "ssh-user",
        "persist-credentials",
        "path",
        "clean",
        "filter",
        "sparse-checkout",
        "sparse-checkout-cone-mode",
        "fetch-depth",
        "fetch-tags",
        "show-progress",
        "lfs",
        "submodules",
        "set-safe-directory",
        "github-server-url",
    ],
    "actions/setup-node@v6": [
        "node-version",
        "node-version-file",
        "architecture",
        "check-latest",
        "registry-url",
        "scope",
        "token",
        "cache",
        "package-manager-cache",
        "cache-dependency-path",
        "mirror",
        "mirror-token",
    ],
    "aws-actions/configure-aws-credentials@v5": [
        "audience",
        "aws-access-key-id",
        "aws-secret-access-key",
        "aws-session-token",
        "aws-region",
        "mask-aws-account-id",
        "role-to-assume",
        "web-identity-token-file",
        "role-duration-seconds",
        "role-session-name",
        "role-external-id",
        "role-skip-session-tagging",
        "inline-session-policy",
        "managed-session-policies",
        "output-credentials",
        "unset-current-credentials",
        "disable-retry",
        "retry-max-attempts",
        "special-characters-workaround",
        "use-existing-credentials",
    ],
    "pulumi/auth-actions@v2": [
        "organization",
        "requested-token-type",
        "scope",
        "token-expiration",
        "export-environment-variables",
        "cloud-url",
    ],
    "pulumi/actions@v7": [
        "command",
        "stack-name",
        "pulumi-version",
        "pulumi-version-file",
        "work-dir",
        "comment-on-pr",
        "comment-on-pr-number",
        "comment-on-summary",
        "github-token",
        "cloud-url",
        "secrets-provider",
        "parallel",
        "message",
        "config-map",
        "expect-no-changes",
        "diff",
        "replace",
        "exclude",
        "exclude-dependents",
        "target",
        "target-dependents",
        "policyPacks",
        "policyPackConfigs",
        "refresh",
        "upsert",
        "remove",
        "edit-pr-comment",
        "color",
        "exclude-protected",
        "plan",
        "suppress-outputs",
        "suppress-progress",
        "always-include-summary",
        "continue-on-error",
        "log-verbosity",
        "log-flow",
        "debug",
    ],
};

/** The permissions a job may ask for, and why. */
const ALLOWED_PERMISSIONS: Record<string, string> = {
    "contents:read": "checkout",
    "id-token:write":
        "the OIDC token for AWS (only jobs that run the pulumi-stack action) or npm's trusted publishing (only the job that runs npm publish)",
    "pull-requests:write": "the preview comment (only jobs that comment on the pull request)",
};

function read(file: string): string {
    return readFileSync(file, "utf8");
}

const workflowFiles = readdirSync(WORKFLOW_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => path.join(WORKFLOW_DIR, name));
const actionFiles = readdirSync(ACTION_DIR).map((name) => path.join(ACTION_DIR, name, "action.yml"));
const workflows = new Map(workflowFiles.map((file) => [path.basename(file), parse(read(file)) as Workflow]));
const stackAction = parse(read(path.join(REPO_ROOT, STACK_ACTION, "action.yml"))) as CompositeAction;

/** Every step of every workflow job and of the composite action, with where it is. */
function allSteps(): { where: string; step: Step }[] {
    const steps: { where: string; step: Step }[] = [];
    for (const [file, workflow] of workflows) {
        for (const [jobName, job] of Object.entries(workflow.jobs)) {
            job.steps.forEach((step, index) => steps.push({ where: `${file} job ${jobName} step ${index}`, step }));
        }
    }
    stackAction.runs.steps.forEach((step, index) => steps.push({ where: `${STACK_ACTION} step ${index}`, step }));
    return steps;
}

/** The stacks committed as Pulumi.<stack>.yaml, with their AWS region. */
function stackRegions(): Map<string, string> {
    const stacks = new Map<string, string>();
    for (const name of readdirSync(REPO_ROOT)) {
        const match = /^Pulumi\.([^.]+)\.yaml$/.exec(name);
        if (match !== null) {
            const stack = capture(match);
            const { config } = parse(read(path.join(REPO_ROOT, name))) as { config: Mapping };
            stacks.set(stack, String(config["aws:region"]));
        }
    }
    return stacks;
}

/** A capture group of a match (one the pattern always fills). */
function capture(match: RegExpExecArray | RegExpMatchArray, index = 1): string {
    return match[index] ?? "";
}

function describeErrors(errors: readonly ValidationError[]): string {
    return errors
        .map((error) => {
            const where = "path" in error ? error.path : "";
            const states = "states" in error && error.states !== undefined ? JSON.stringify(error.states) : "";
            return `${where} ${error.title}: ${error.detail ?? ""} ${states}`;
        })
        .join("\n");
}

function stackJobs(workflow: Workflow): [string, Job, Step][] {
    return Object.entries(workflow.jobs).flatMap(([name, job]) => {
        const step = job.steps.find((candidate) => candidate.uses === STACK_ACTION);
        return step === undefined ? [] : [[name, job, step] as [string, Job, Step]];
    });
}

describe("GitHub workflows", () => {
    it("must be workflows and actions GitHub accepts (@action-validator/core)", () => {
        assert.ok(workflowFiles.length >= 2 && actionFiles.length >= 1);
        for (const file of workflowFiles) {
            const { actionType, errors } = validateWorkflow(read(file));
            assert.equal(actionType, "workflow");
            assert.deepEqual(errors, [], `${file}:\n${describeErrors(errors)}`);
        }
        for (const file of actionFiles) {
            const { actionType, errors } = validateAction(read(file));
            assert.equal(actionType, "action");
            assert.deepEqual(errors, [], `${file}:\n${describeErrors(errors)}`);
        }
    });

    it("must see the validator reject a misspelt key and a job without runs-on (it is really checking)", () => {
        const source = read(path.join(WORKFLOW_DIR, "deploy.yml"));
        assert.notDeepEqual(validateWorkflow(source.replace("    permissions:\n", "    permission:\n")).errors, []);
        assert.notDeepEqual(validateWorkflow(source.replace(/ {4}runs-on: .*\n/, "")).errors, []);
        const action = read(path.join(REPO_ROOT, STACK_ACTION, "action.yml"));
        assert.notDeepEqual(validateAction(action.replace("using: composite", "using: compost")).errors, []);
    });

    it("must pin every third-party action to a commit, with its version in a comment, the same everywhere", () => {
        const pins = new Map<string, string>();
        for (const file of [...workflowFiles, ...actionFiles]) {
            for (const line of read(file).split("\n")) {
                const uses = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
                if (uses === null) {
                    continue;
                }
                const reference = capture(uses, 1);
                const comment = capture(uses, 2);
                if (reference.startsWith("./")) {
                    continue;
                }
                const pinned = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(reference);
                assert.ok(pinned, `${file}: ${reference} must be pinned to a full commit SHA`);
                const version = /^\s+# (v\d+\.\d+\.\d+)$/.exec(comment);
                assert.ok(version, `${file}: ${reference} needs its release as a comment, "# vX.Y.Z"`);
                const action = capture(pinned);
                const pin = `${reference} ${capture(version)}`;
                const seen = pins.get(action);
                assert.ok(seen === undefined || seen === pin, `${action} is pinned twice: ${seen} and ${pin}`);
                pins.set(action, pin);
            }
        }
        assert.deepEqual([...pins.keys()].sort(), [
            "actions/checkout",
            "actions/setup-node",
            "aws-actions/configure-aws-credentials",
            "pulumi/actions",
            "pulumi/auth-actions",
        ]);
    });

    it("must give each action only inputs it declares, and every input it requires", () => {
        const versions = new Map<string, string>();
        for (const file of [...workflowFiles, ...actionFiles]) {
            for (const match of read(file).matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@[0-9a-f]{40}\s+# v(\d+)\./g)) {
                const action = capture(match, 1);
                const major = capture(match, 2);
                versions.set(action, `${action}@v${major}`);
            }
        }
        for (const { where, step } of allSteps()) {
            if (step.uses === undefined) {
                continue;
            }
            const given = Object.keys(step.with ?? {});
            if (step.uses.startsWith("./")) {
                const local = parse(read(path.join(REPO_ROOT, step.uses, "action.yml"))) as CompositeAction;
                for (const key of given) {
                    assert.ok(key in local.inputs, `${where}: ${step.uses} has no input ${key}`);
                }
                for (const [name, input] of Object.entries(local.inputs)) {
                    assert.ok(input.required !== true || given.includes(name), `${where}: ${name} is required`);
                }
                continue;
            }
            const release = versions.get(step.uses.split("@")[0] ?? "") ?? step.uses;
            const declared = DECLARED_INPUTS[release];
            assert.ok(declared, `${where}: declare the inputs of ${release} in DECLARED_INPUTS`);
            for (const key of given) {
                assert.ok(declared.includes(key), `${where}: ${release} has no input ${key}`);
            }
        }
        // The composite action uses only inputs it declares, and its output names a real stack output.
        const composite = read(path.join(REPO_ROOT, STACK_ACTION, "action.yml"));
        for (const match of composite.matchAll(/inputs\.([\w-]+)/g)) {
            const input = capture(match);
            assert.ok(input in stackAction.inputs, `${STACK_ACTION} uses an undeclared input ${input}`);
        }
        const ids = stackAction.runs.steps.map((step) => step.id);
        for (const match of composite.matchAll(/steps\.([\w-]+)\.outputs/g)) {
            assert.ok(ids.includes(capture(match)), `${STACK_ACTION} reads the outputs of no step ${capture(match)}`);
        }
        const output = /steps\.pulumi\.outputs\.(\w+)/.exec(stackAction.outputs["state-machine-arn"]?.value ?? "");
        assert.ok(output);
        assert.match(read(path.join(REPO_ROOT, "index.ts")), new RegExp(`export const ${capture(output)} = `));
    });

    it("must grant nothing by default and each job only what it uses", () => {
        for (const [file, workflow] of workflows) {
            assert.deepEqual(workflow.permissions, {}, `${file}: the workflow's permissions must be {}`);
            for (const [name, job] of Object.entries(workflow.jobs)) {
                assert.ok(job.permissions, `${file} job ${name} must list its permissions`);
                const granted = Object.entries(job.permissions).map(([scope, level]) => `${scope}:${String(level)}`);
                for (const grant of granted) {
                    assert.ok(grant in ALLOWED_PERMISSIONS, `${file} job ${name} must not ask for ${grant}`);
                }
                const runsPulumi = job.steps.some((step) => step.uses === STACK_ACTION);
                const publishes = job.steps.some(publishesToNpm);
                assert.equal(
                    granted.includes("id-token:write"),
                    runsPulumi || publishes,
                    `${file} job ${name}: id-token`,
                );
                const comments = job.steps.some((step) => step.with?.["comment-on-pr"] === true);
                assert.equal(granted.includes("pull-requests:write"), comments, `${file} job ${name}: PR comment`);
            }
        }
    });

    it("must check out without keeping the token, and put no expression inside a shell script", () => {
        for (const { where, step } of allSteps()) {
            if (step.uses?.startsWith("actions/checkout@") === true) {
                assert.equal(step.with?.["persist-credentials"], false, `${where}: persist-credentials: false`);
            }
            if (step.run !== undefined) {
                assert.doesNotMatch(step.run, /\$\{\{/, `${where}: pass values to scripts through env, not \${{ }}`);
            }
        }
    });

    it("must preview every committed stack in pull requests, one job each, in its own region, after the tests", () => {
        const stacks = stackRegions();
        assert.deepEqual([...stacks.keys()].sort(), ["dev", "prod"]);
        const workflow = workflows.get("pull-request.yml");
        assert.ok(workflow);
        assert.deepEqual(Object.keys(workflow.on), ["pull_request"]);
        const jobs = stackJobs(workflow);
        assert.deepEqual(
            jobs.map(([name]) => name).sort(),
            [...stacks.keys()].map((stack) => `preview-${stack}`).sort(),
        );
        for (const [name, job, step] of jobs) {
            const stack = String(step.with?.stack);
            assert.equal(name, `preview-${stack}`);
            assert.equal(job.needs, "test");
            assert.equal(step.with?.command, "preview");
            assert.equal(step.with?.["aws-region"], stacks.get(stack), `${name}: region of Pulumi.${stack}.yaml`);
            assert.equal(step.with?.["comment-on-pr"], true);
            assert.deepEqual(job.concurrency, {
                group: `preview-${stack}-\${{ github.event.pull_request.number }}`,
                "cancel-in-progress": true,
            });
            // Forks and Dependabot get no OIDC token: their previews would fail on credentials, not on the change.
            assert.match(job.if ?? "", /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
            assert.match(job.if ?? "", /github\.actor != 'dependabot\[bot\]'/);
        }
    });

    it("must deploy dev, smoke-test it, then prod behind its environment, one deploy per stack at a time", () => {
        const stacks = stackRegions();
        const workflow = workflows.get("deploy.yml");
        assert.ok(workflow);
        assert.deepEqual(workflow.on, { push: { branches: ["main"] }, workflow_dispatch: null });
        const jobs = stackJobs(workflow);
        assert.deepEqual(
            jobs.map(([name]) => name),
            ["dev", "prod"],
        );
        const needs = new Map(jobs.map(([name, job]) => [name, job.needs]));
        assert.deepEqual(
            [...needs],
            [
                ["dev", "test"],
                ["prod", "dev"],
            ],
        );
        for (const [name, job, step] of jobs) {
            assert.equal(step.with?.command, "up");
            assert.equal(step.with?.stack, name);
            assert.equal(step.with?.["aws-region"], stacks.get(name), `deploy ${name}: region of Pulumi.${name}.yaml`);
            assert.equal(job.environment, name, `deploy ${name} runs in the ${name} environment`);
            assert.deepEqual(job.concurrency, { group: `pulumi-${name}`, "cancel-in-progress": false });
            const index = job.steps.indexOf(step);
            const smoke = job.steps[index + 1];
            assert.ok(step.id !== undefined && smoke?.run !== undefined, `deploy ${name}: a smoke test after up`);
            assert.equal(smoke.env?.STATE_MACHINE_ARN, `\${{ steps.${step.id}.outputs.state-machine-arn }}`);
            assert.match(smoke.run, /^node build\/scripts\/smoke\.js --state-machine-arn "\$STATE_MACHINE_ARN"/);
        }
    });

    it("must call only scripts and versions this repository has", () => {
        const runs = allSteps().flatMap(({ step }) => (step.run === undefined ? [] : [step.run]));
        assert.ok(runs.includes(".ci/run"), "the test job runs the same .ci/run as CI");
        accessSync(path.join(REPO_ROOT, ".ci", "run"), constants.X_OK);
        // The SDK this repository tests with (a peer of the library, pinned as a dev dependency here).
        const { scripts, devDependencies } = JSON.parse(read(path.join(REPO_ROOT, "package.json"))) as {
            scripts: Mapping;
            devDependencies: Mapping;
        };
        for (const command of runs) {
            for (const match of command.matchAll(/node build\/(\S+)\.js/g)) {
                const module = capture(match);
                assert.ok(existsSync(path.join(REPO_ROOT, `${module}.ts`)), `${command}: no ${module}.ts`);
            }
            for (const match of command.matchAll(/npm run (\S+)/g)) {
                const script = capture(match);
                assert.ok(script in scripts, `${command}: package.json has no script ${script}`);
            }
        }
        const pulumiStep = stackAction.runs.steps.find((step) => step.id === "pulumi");
        assert.equal(
            pulumiStep?.with?.["pulumi-version"],
            devDependencies["@pulumi/pulumi"],
            `set pulumi-version in ${STACK_ACTION}/action.yml to the @pulumi/pulumi of package.json`,
        );
        assert.equal(pulumiStep?.with?.policyPacks, POLICY_PACK_DIR);
        assert.ok(existsSync(path.join(REPO_ROOT, POLICY_PACK_DIR, "PulumiPolicy.yaml")));
    });

    it("must name the stack <org>/callback-workflow/<stack> with an organisation, <stack> without (bash step)", async () => {
        const step = stackAction.runs.steps.find((candidate) => candidate.id === "names");
        assert.ok(step?.run);
        const dir = await mkdtemp(path.join(tmpdir(), "names-"));
        try {
            const named = async (org: string) => {
                const output = path.join(dir, `output-${org || "none"}`);
                await run("bash", ["-euo", "pipefail", "-c", step.run ?? ""], {
                    env: { PATH: process.env["PATH"], ORG: org, STACK: "dev", GITHUB_OUTPUT: output },
                });
                return read(output);
            };
            assert.equal(await named(""), "stack-name=dev\n");
            assert.equal(await named("acme"), "stack-name=acme/callback-workflow/dev\n");
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });

    it("README must name every variable and secret the workflows read (release.yml's: docs/release.md)", () => {
        const problems = undocumentedNames(workflows, (file) =>
            read(path.join(REPO_ROOT, SETUP_DOC[file] ?? "README.md")),
        );
        assert.deepEqual(problems, []);
        const inReadme = [...workflows.keys()]
            .filter((file) => SETUP_DOC[file] === undefined)
            .flatMap((file) => [...namesOf(file, workflows.get(file) ?? assert.fail())]);
        assert.ok(new Set(inReadme).size >= 8);
        // Mutation: the release environment missing from docs/release.md.
        const withoutNpm = undocumentedNames(workflows, (file) =>
            file === "release.yml"
                ? read(path.join(REPO_ROOT, "docs", "release.md")).replaceAll(`\`${NPM_ENVIRONMENT}\``, "")
                : "",
        );
        assert.ok(
            withoutNpm.includes(`docs/release.md must document ${NPM_ENVIRONMENT} (release.yml)`),
            withoutNpm.join("\n"),
        );
    });
});

/**
 * Where the settings a workflow reads are documented: the README, whose readers set up the pipeline, but
 * for release.yml, which only this package's maintainers run (publishing it to npm), docs/release.md.
 */
const SETUP_DOC: Readonly<Record<string, string>> = { "release.yml": "docs/release.md" };

/** The variables, secrets, matrix roles and environments a workflow reads (its file as written, and parsed). */
function namesOf(file: string, workflow: Workflow): Set<string> {
    const names = new Set<string>();
    for (const match of read(path.join(WORKFLOW_DIR, file)).matchAll(/\b(?:vars|secrets)\.([A-Z_]+)/g)) {
        names.add(capture(match));
    }
    for (const job of Object.values(workflow.jobs)) {
        for (const entry of job.strategy?.matrix.include ?? []) {
            names.add(String(entry.role));
        }
        if (job.environment !== undefined) {
            names.add(job.environment);
        }
    }
    return names;
}

/** Each name a workflow reads that its setup document (`docOf(file)`) does not give as `name`. */
function undocumentedNames(all: ReadonlyMap<string, Workflow>, docOf: (file: string) => string): string[] {
    const problems: string[] = [];
    for (const [file, workflow] of all) {
        const doc = docOf(file);
        for (const name of namesOf(file, workflow)) {
            if (!doc.includes(`\`${name}\``)) {
                problems.push(`${SETUP_DOC[file] ?? "README.md"} must document ${name} (${file})`);
            }
        }
    }
    return problems;
}

/** A deep copy of a parsed file, to break in a mutation check. */
function copy<T>(value: T): T {
    return structuredClone(value);
}

function readJson<T>(file: string): T {
    return JSON.parse(read(file)) as T;
}

describe("Pipeline trust (who can read and change what)", () => {
    const stacks = [...stackRegions().keys()];
    const pullRequest = workflows.get("pull-request.yml");
    const deploy = workflows.get("deploy.yml");
    assert.ok(pullRequest && deploy);
    const previewPolicy = readJson<PolicyDocument>(path.join(IAM_DIR, "preview-role-policy.json"));
    const backendPolicy = readJson<PolicyDocument>(path.join(IAM_DIR, "preview-backend-policy.json"));
    const pulumiPolicies = readJson<{ policies: PulumiOidcPolicy[] }>(
        path.join(REPO_ROOT, "docs", "pulumi", "oidc-issuer-policies.json"),
    ).policies;
    const readme = read(path.join(REPO_ROOT, "README.md"));
    const trustRows = markdownTable(readme, "### Who can read and change what");

    it("must preview each stack in its own environment, prod's reviewed, with read-only team tokens", () => {
        assert.deepEqual(pullRequestProblems(pullRequest, stacks), []);
        for (const stack of stacks) {
            const job: Job | undefined = pullRequest.jobs[`preview-${stack}`];
            assert.ok(job, `preview-${stack}`);
            assert.equal(job.environment, previewEnvironment(stack));
            assert.equal(isReviewed(job.environment), stack !== "dev", `${stack}: reviewed unless dev`);
            assert.equal(stackStep(job)?.with?.["pulumi-token-type"], TEAM_TOKEN);
        }
    });

    it("must refuse a pull-request workflow that leaks a credential (mutation checks)", () => {
        const broken = (change: (workflow: { -readonly [K in keyof Workflow]: Workflow[K] }) => void) => {
            const mutant = copy(pullRequest);
            change(mutant);
            return pullRequestProblems(mutant, stacks);
        };
        const job = (workflow: Workflow, name: string) => workflow.jobs[name] as { -readonly [K in keyof Job]: Job[K] };
        const stepWith = (workflow: Workflow, name: string) => stackStep(job(workflow, name))?.with ?? {};
        // prod's preview outside its reviewed environment, or in the deploy environment
        assert.notDeepEqual(
            broken((w) => delete job(w, "preview-prod").environment),
            [],
        );
        assert.notDeepEqual(
            broken((w) => (job(w, "preview-prod").environment = "prod")),
            [],
        );
        // an organisation token, the stored (organisation) token, a deploy role
        assert.notDeepEqual(
            broken(
                (w) =>
                    (stepWith(w, "preview-dev")["pulumi-token-type"] =
                        "urn:pulumi:token-type:access_token:organization"),
            ),
            [],
        );
        assert.notDeepEqual(
            broken((w) => (stepWith(w, "preview-dev")["pulumi-access-token"] = "${{ secrets.PULUMI_ACCESS_TOKEN }}")),
            [],
        );
        assert.notDeepEqual(
            broken((w) => (stepWith(w, "preview-prod")["aws-role-arn"] = "${{ vars.AWS_DEPLOY_ROLE_ARN }}")),
            [],
        );
        // dev's preview given prod's role, passphrase or team
        for (const [key, value] of [
            ["aws-role-arn", "${{ vars.AWS_PREVIEW_ROLE_ARN_PROD }}"],
            ["pulumi-config-passphrase", "${{ secrets.PULUMI_CONFIG_PASSPHRASE_PROD }}"],
            ["pulumi-token-scope", "team:${{ vars.PULUMI_PREVIEW_TEAM_PROD }}"],
        ]) {
            assert.notDeepEqual(
                broken((w) => (stepWith(w, "preview-dev")[key ?? ""] = value)),
                [],
                `${key} of prod in dev's preview`,
            );
        }
        // the test job given an OIDC token or a secret; a pull_request_target trigger
        assert.notDeepEqual(
            broken((w) => (job(w, "test").permissions = { contents: "read", "id-token": "write" })),
            [],
        );
        assert.notDeepEqual(
            broken((w) =>
                job(w, "test").steps.push({ run: "true", env: { P: "${{ secrets.PULUMI_CONFIG_PASSPHRASE_DEV }}" } }),
            ),
            [],
        );
        assert.notDeepEqual(
            broken((w) => (w.on = { pull_request_target: null })),
            [],
        );
    });

    it("must deploy each stack with its own environment's credentials and team only", () => {
        assert.deepEqual(deployProblems(deploy, stacks), []);
        const mutant = copy(deploy);
        const dev = stackStep(mutant.jobs["dev"] as Job);
        assert.ok(dev?.with);
        dev.with["pulumi-config-passphrase"] = "${{ secrets.PULUMI_CONFIG_PASSPHRASE_PROD }}";
        assert.notDeepEqual(deployProblems(mutant, stacks), []);
        const prodTeam = copy(deploy);
        const devStep = stackStep(prodTeam.jobs["dev"] as Job);
        assert.ok(devStep?.with);
        devStep.with["pulumi-token-scope"] = "team:${{ vars.PULUMI_DEPLOY_TEAM_PROD }}";
        assert.notDeepEqual(deployProblems(prodTeam, stacks), []);
    });

    it("must keep the preview role read-only: Get/List/Describe or a documented few, no wildcard", () => {
        assert.deepEqual(readOnlyPolicyProblems(previewPolicy, NON_READ_ALLOWED), []);
        assert.deepEqual(
            readOnlyPolicyProblems(backendPolicy, { ...NON_READ_ALLOWED, ...BACKEND_NON_READ_ALLOWED }),
            [],
        );
        // The backend's decrypt is not allowed in the role policy itself.
        assert.ok(!policyActions(previewPolicy).includes("kms:Decrypt"));
        const add = (action: string) => {
            const mutant = copy(previewPolicy);
            mutant.Statement.push({ Effect: "Allow", Action: [action], Resource: "*" });
            return readOnlyPolicyProblems(mutant, NON_READ_ALLOWED);
        };
        for (const action of [
            "*",
            "sqs:*",
            "sqs:Get*",
            "sqs:SendMessage",
            "iam:PassRole",
            "kms:Decrypt",
            "s3:PutObject",
        ]) {
            assert.notDeepEqual(add(action), [], action);
        }
        const notAction = copy(previewPolicy);
        notAction.Statement.push({ Effect: "Allow", NotAction: ["iam:*"], Resource: "*" });
        assert.notDeepEqual(readOnlyPolicyProblems(notAction, NON_READ_ALLOWED), []);
    });

    it("must list every preview action in docs/pipeline.md with its evidence, and no other", () => {
        const rows = markdownTable(read(path.join(REPO_ROOT, "docs", "pipeline.md")), "## Preview role actions");
        const documented = rows.map((row) => (row["action"] ?? "").replace(/`/g, ""));
        assert.deepEqual(
            [...documented].sort(),
            [...policyActions(previewPolicy), ...policyActions(backendPolicy)].sort(),
        );
        for (const row of rows) {
            assert.match(
                row["evidence"] ?? "",
                /^(source|AWS docs|Pulumi docs|inferred)\b/,
                `${row["action"]}: evidence`,
            );
        }
        // Every AWS resource type the component creates has its reads listed (a new one fails here).
        const component = readdirSync(path.join(REPO_ROOT, "components"))
            .filter((file) => file.endsWith(".ts"))
            .map((file) => read(path.join(REPO_ROOT, "components", file)))
            .join("\n");
        const modules = [...component.matchAll(/import \* as (\w+) from "@pulumi\/aws\/\w+";/g)].map((m) => capture(m));
        const created = new Set(
            [...component.matchAll(/new (\w+)\.([A-Z]\w+)\(/g)]
                .filter((match) => modules.includes(capture(match)))
                .map((match) => `${capture(match)}.${capture(match, 2)}`),
        );
        assert.ok(created.size >= 14, [...created].join(", "));
        const covered = rows.map((row) => row["for"] ?? "").join(" ");
        for (const type of created) {
            assert.ok(covered.includes(`\`${type}\``), `docs/pipeline.md: no preview action covers ${type}`);
        }
    });

    it("must trust, in each role, the OIDC subject of the environment its job runs in", () => {
        const expected = new Map<string, string>();
        for (const [name, job, step] of stackJobs(pullRequest)) {
            assert.ok(job.environment, name);
            expected.set(`preview-role-trust-${String(step.with?.stack)}.json`, environmentSubject(job.environment));
        }
        for (const [name, job, step] of stackJobs(deploy)) {
            assert.ok(job.environment, name);
            expected.set(`deploy-role-trust-${String(step.with?.stack)}.json`, environmentSubject(job.environment));
        }
        const files = readdirSync(IAM_DIR).filter((file) => /-trust-/.test(file));
        assert.deepEqual(files.sort(), [...expected.keys()].sort(), "one trust policy per role a job assumes");
        for (const [file, subject] of expected) {
            const result = trustPolicySubject(readJson<PolicyDocument>(path.join(IAM_DIR, file)));
            assert.deepEqual(result.problems, [], file);
            assert.equal(result.subject, subject, file);
        }
        // Mutations: the pull_request subject (any PR job of the repository), a wildcard, StringLike.
        const prod = readJson<PolicyDocument>(path.join(IAM_DIR, "preview-role-trust-prod.json"));
        const withSubject = (operator: string, subject: string) => {
            const mutant = copy(prod);
            const [statement] = mutant.Statement;
            assert.ok(statement);
            (statement as { Condition: unknown }).Condition = {
                [operator]: {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": subject,
                },
            };
            return trustPolicySubject(mutant);
        };
        assert.notEqual(
            withSubject("StringEquals", "repo:<owner>/<repo>:pull_request").subject,
            expected.get("preview-role-trust-prod.json"),
        );
        assert.notDeepEqual(withSubject("StringEquals", "repo:<owner>/<repo>:*").problems, []);
        assert.notDeepEqual(withSubject("StringLike", "repo:<owner>/<repo>:environment:prod-preview").problems, []);
    });

    it("must let Pulumi Cloud give each environment one team's token, no preview a deploy team's", () => {
        const previewEnvironments = stackJobs(pullRequest).map(([, job]) => job.environment ?? "");
        const deployEnvironments = stackJobs(deploy).map(([, job]) => job.environment ?? "");
        assert.deepEqual(pulumiPolicyProblems(pulumiPolicies, previewEnvironments, deployEnvironments), []);
        const mutant = copy(pulumiPolicies);
        mutant.push({
            decision: "allow",
            tokenType: "organization",
            rules: { aud: "urn:pulumi:org:<org>", sub: "repo:<owner>/<repo>:*" },
        });
        assert.notDeepEqual(pulumiPolicyProblems(mutant, previewEnvironments, deployEnvironments), []);
        const previewOrg = copy(pulumiPolicies);
        previewOrg.push({
            decision: "allow",
            tokenType: "organization",
            rules: { aud: "urn:pulumi:org:<org>", sub: environmentSubject("prod-preview") },
        });
        assert.notDeepEqual(pulumiPolicyProblems(previewOrg, previewEnvironments, deployEnvironments), []);
        const sharedTeam = copy(pulumiPolicies).map((policy) =>
            policy.rules["sub"] === environmentSubject("prod-preview")
                ? { ...policy, teamName: "<prod-deploy-team>" }
                : policy,
        );
        assert.notDeepEqual(pulumiPolicyProblems(sharedTeam, previewEnvironments, deployEnvironments), []);
    });

    it("README's trust table must say what the workflows do", () => {
        assert.ok(trustRows.length >= 5, "README has the table under ### Who can read and change what");
        assert.deepEqual(trustTableProblems(trustRows, workflows), []);
        // Mutations: the YAML drops prod-preview's environment; the README claims a write token.
        const mutant = new Map(workflows);
        const pr = copy(pullRequest);
        delete (pr.jobs["preview-prod"] as { environment?: string }).environment;
        mutant.set("pull-request.yml", pr);
        assert.notDeepEqual(trustTableProblems(trustRows, mutant), []);
        const rows = trustRows.map((row) =>
            row["job"] === "PR `preview-dev`" ? { ...row, "Pulumi token": "team, write" } : row,
        );
        assert.notDeepEqual(trustTableProblems(rows, workflows), []);
        assert.notDeepEqual(trustTableProblems(trustRows.slice(1), workflows), []);
    });
});

describe("Release workflow (a v<semver> tag → checks → npm with provenance)", () => {
    const release = workflows.get("release.yml");
    assert.ok(release);
    type Mutable<T> = { -readonly [K in keyof T]: T[K] };
    const job = (workflow: Workflow, name: string) => workflow.jobs[name] as Mutable<Job>;
    const stepOf = (workflow: Workflow, name: string, found: (step: Step) => boolean) =>
        job(workflow, name).steps.find(found) as Mutable<Step>;
    const isPublish = (step: Step) => publishesToNpm(step);
    const isCheck = (step: Step) => /^npm run release-check /.test(step.run ?? "");
    const broken = (change: (workflow: Mutable<Workflow>) => void) => {
        const mutant = copy(release) as Mutable<Workflow>;
        change(mutant);
        return releaseProblems(mutant);
    };

    it("must check the tag, run .ci/run, then publish from the npm environment with provenance and the dist-tag", () => {
        assert.deepEqual(releaseProblems(release), []);
        assert.deepEqual(release.on, { push: { tags: ["v*"] } });
        assert.deepEqual(Object.keys(release.jobs), ["test", "publish"]);
        const publish = job(release, "publish");
        assert.equal(publish.needs, "test");
        assert.equal(publish.environment, NPM_ENVIRONMENT);
        assert.deepEqual(publish.permissions, { contents: "read", "id-token": "write" });
        assert.deepEqual(job(release, "test").permissions, { contents: "read" });
        // The check before the tests, and again right before publishing (whose dist-tag it gives).
        const testSteps = job(release, "test").steps.map((step) => step.run ?? step.uses ?? "");
        assert.ok(testSteps.findIndex((run) => run.startsWith("npm run release-check")) < testSteps.indexOf(".ci/run"));
        const check = stepOf(release, "publish", isCheck);
        assert.match(check.run ?? "", /--tag "\$GITHUB_REF_NAME" --on-branch origin\/main /);
        assert.equal(stepOf(release, "publish", isPublish).env?.["DIST_TAG"], "${{ steps.check.outputs.dist-tag }}");
    });

    it("must refuse a release workflow that publishes unchecked, untested, outside its environment or without provenance (mutation checks)", () => {
        const mutants: Record<string, (w: Mutable<Workflow>) => void> = {
            "a branch push": (w) => (w.on = { push: { branches: ["main"], tags: ["v*"] } }),
            "a run by hand": (w) => (w.on = { push: { tags: ["v*"] }, workflow_dispatch: null }),
            "any tag": (w) => (w.on = { push: { tags: ["*"] } }),
            "a stored npm token": (w) =>
                (stepOf(w, "publish", isPublish).env = { NODE_AUTH_TOKEN: "${{ secrets.NPM_TOKEN }}" }),
            "no environment": (w) => delete job(w, "publish").environment,
            "another environment": (w) => (job(w, "publish").environment = "prod"),
            "an OIDC token for the tests": (w) =>
                (job(w, "test").permissions = { contents: "read", "id-token": "write" }),
            "more than it needs": (w) => (job(w, "publish").permissions = { contents: "write", "id-token": "write" }),
            "publishing before the tests pass": (w) => delete job(w, "publish").needs,
            "a self-hosted runner": (w) => (job(w, "publish")["runs-on"] = "self-hosted"),
            "a publish that can be cancelled": (w) => delete job(w, "publish").concurrency,
            "no provenance": (w) =>
                (stepOf(w, "publish", isPublish).run = PUBLISH_SCRIPT.replaceAll(" --provenance", "")),
            "latest given explicitly": (w) =>
                (stepOf(w, "publish", isPublish).run = 'npm publish --provenance --tag "$DIST_TAG"'),
            "always latest": (w) => (stepOf(w, "publish", isPublish).run = "npm publish --provenance"),
            "a fixed dist-tag": (w) => (stepOf(w, "publish", isPublish).env = { DIST_TAG: "latest" }),
            "no check before publishing": (w) =>
                (job(w, "publish").steps = job(w, "publish").steps.filter((s) => !isCheck(s))),
            "the check after publishing": (w) => job(w, "publish").steps.reverse(),
            "a check of another tag": (w) => {
                const check = stepOf(w, "publish", isCheck);
                check.run = (check.run ?? "").replace('"$GITHUB_REF_NAME"', "v0.0.0");
            },
            "no check before the tests": (w) =>
                (job(w, "test").steps = job(w, "test").steps.filter((s) => !isCheck(s))),
            "no tests": (w) => (job(w, "test").steps = job(w, "test").steps.filter((s) => s.run !== ".ci/run")),
            "install scripts with the token": (w) => {
                const install = stepOf(w, "publish", (s) => /^npm ci --ignore-scripts/.test(s.run ?? ""));
                install.run = "npm ci";
            },
            "the runner's npm": (w) =>
                (job(w, "publish").steps = job(w, "publish").steps.filter((s) => !/\.ci\/npm/.test(s.run ?? ""))),
            "a shallow checkout": (w) => {
                const checkout = stepOf(w, "publish", (s) => s.uses?.startsWith("actions/checkout@") === true);
                checkout.with = { "persist-credentials": false };
            },
            "two publishing jobs": (w) => {
                job(w, "test").steps.push({ run: "npm publish" });
            },
        };
        for (const [what, change] of Object.entries(mutants)) {
            assert.notDeepEqual(broken(change), [], what);
        }
    });

    it("must publish a pre-release to its dist-tag and a release to npm's default, always with provenance (bash step)", async () => {
        const script = stepOf(release, "publish", isPublish).run ?? "";
        const dir = await mkdtemp(path.join(tmpdir(), "publish-"));
        try {
            // An npm that says how it was called.
            await writeFile(path.join(dir, "npm"), '#!/usr/bin/env bash\necho "npm $*"\n', { mode: 0o755 });
            const publishes = async (distTag: string) =>
                (
                    await run("bash", ["-euo", "pipefail", "-c", script], {
                        env: { PATH: `${dir}:${process.env["PATH"] ?? ""}`, DIST_TAG: distTag },
                    })
                ).stdout;
            assert.equal(await publishes("next"), "npm publish --provenance --tag next\n");
            assert.equal(await publishes("latest"), "npm publish --provenance\n");
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });

    it("must publish with an npm that has trusted publishing, pinned by a lockfile (.ci/npm)", () => {
        const dir = path.join(REPO_ROOT, ".ci", "npm");
        const manifest = readJson<{ dependencies: Record<string, string> }>(path.join(dir, "package.json"));
        const lock = readJson<{ packages: Record<string, { version?: string; integrity?: string }> }>(
            path.join(dir, "package-lock.json"),
        );
        const pinned = manifest.dependencies["npm"] ?? "";
        assert.match(pinned, /^\d+\.\d+\.\d+$/, "an exact version");
        assert.ok(atLeast(pinned, TRUSTED_PUBLISHING_NPM), `npm ${pinned} is older than ${TRUSTED_PUBLISHING_NPM}`);
        assert.equal(lock.packages["node_modules/npm"]?.version, pinned, "the lockfile pins the same npm");
        assert.match(lock.packages["node_modules/npm"]?.integrity ?? "", /^sha512-/);
        // package.json: publishing from anywhere but CI fails (no provenance there), and goes to npmjs.org.
        const { publishConfig } = readJson<{ publishConfig?: Mapping }>(path.join(REPO_ROOT, "package.json"));
        assert.deepEqual(publishConfig, {
            access: "public",
            provenance: true,
            registry: "https://registry.npmjs.org/",
        });
    });
});
