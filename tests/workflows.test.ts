/**
 * The GitHub workflows cannot run here, so they are checked: each file against GitHub's schemas with
 * @action-validator/core (WASM), then against this repository (stacks, regions, scripts, versions) and
 * the rules of a safe pipeline (pinned actions, least permissions, no expressions in shell scripts,
 * one deploy per stack at a time, prod after dev behind its environment, a smoke test after each deploy).
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { validateAction, validateWorkflow, type ValidationError } from "@action-validator/core";
import { parse } from "yaml";
import { REPO_ROOT } from "../components/bundle";
import { POLICY_PACK_DIR } from "../scripts/pulumi";

type Mapping = Record<string, unknown>;

const run = promisify(execFile);

interface Step {
    readonly id?: string;
    readonly name?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Mapping;
    readonly env?: Mapping;
}

interface Job {
    readonly needs?: string | string[];
    readonly if?: string;
    readonly environment?: string;
    readonly permissions?: Mapping;
    readonly concurrency?: { group: string; "cancel-in-progress": boolean };
    readonly strategy?: { matrix: { include: Mapping[] } };
    readonly steps: Step[];
}

interface Workflow {
    readonly on: Mapping;
    readonly permissions?: Mapping;
    readonly jobs: Record<string, Job>;
}

interface CompositeAction {
    readonly inputs: Record<string, { required?: boolean; default?: string }>;
    readonly outputs: Record<string, { value: string }>;
    readonly runs: { using: string; steps: Step[] };
}

const WORKFLOW_DIR = path.join(REPO_ROOT, ".github", "workflows");
const ACTION_DIR = path.join(REPO_ROOT, ".github", "actions");
const STACK_ACTION = "./.github/actions/pulumi-stack";

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
    "id-token:write": "the OIDC token for AWS (only jobs that run the pulumi-stack action)",
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
                assert.equal(granted.includes("id-token:write"), runsPulumi, `${file} job ${name}: id-token`);
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

    it("must preview every committed stack in pull requests, in its own region, after the tests", () => {
        const stacks = stackRegions();
        assert.deepEqual([...stacks.keys()].sort(), ["dev", "prod"]);
        const workflow = workflows.get("pull-request.yml");
        assert.ok(workflow);
        assert.deepEqual(Object.keys(workflow.on), ["pull_request"]);
        const jobs = stackJobs(workflow);
        assert.equal(jobs.length, 1);
        const [, job, step] = jobs[0] ?? [];
        assert.ok(job && step);
        assert.equal(job.needs, "test");
        assert.equal(step.with?.command, "preview");
        assert.equal(step.with?.stack, "${{ matrix.stack }}");
        assert.equal(step.with?.["aws-region"], "${{ matrix.region }}");
        assert.equal(step.with?.["aws-role-arn"], "${{ vars[matrix.role] }}");
        const matrix = job.strategy?.matrix.include ?? [];
        assert.deepEqual(
            matrix.map((entry) => [entry.stack, entry.region, entry.role]).sort(),
            [...stacks].map(([stack, region]) => [stack, region, `AWS_PREVIEW_ROLE_ARN_${stack.toUpperCase()}`]).sort(),
        );
        assert.deepEqual(job.concurrency, {
            group: "preview-${{ matrix.stack }}-${{ github.event.pull_request.number }}",
            "cancel-in-progress": true,
        });
        // Forks and Dependabot get no OIDC token: their previews would fail on credentials, not on the change.
        assert.match(job.if ?? "", /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
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
        const { scripts, dependencies } = JSON.parse(read(path.join(REPO_ROOT, "package.json"))) as {
            scripts: Mapping;
            dependencies: Mapping;
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
            dependencies["@pulumi/pulumi"],
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

    it("README must name every variable and secret the workflows read", () => {
        const readme = read(path.join(REPO_ROOT, "README.md"));
        const names = new Set<string>();
        for (const file of workflowFiles) {
            for (const match of read(file).matchAll(/\b(?:vars|secrets)\.([A-Z_]+)/g)) {
                names.add(capture(match));
            }
        }
        for (const [, job] of [...workflows.values()].flatMap((workflow) => Object.entries(workflow.jobs))) {
            for (const entry of job.strategy?.matrix.include ?? []) {
                names.add(String(entry.role));
            }
            if (job.environment !== undefined) {
                names.add(job.environment);
            }
        }
        assert.ok(names.size >= 8);
        for (const name of names) {
            assert.ok(readme.includes(`\`${name}\``), `README must document ${name}`);
        }
    });
});
