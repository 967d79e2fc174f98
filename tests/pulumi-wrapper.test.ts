/** `npm run preview` / `npm run deploy`: the arguments they give the CLI, and what they say without it. */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../components/bundle";
import { INSTALL_HELP, pulumiArgs } from "../scripts/pulumi";

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, "build", "scripts", "pulumi.js");
const POLICY = path.join(REPO_ROOT, "policy");

describe("preview and deploy wrappers", () => {
    it("must preview a stack with the policy pack and a diff", () => {
        assert.deepEqual(pulumiArgs(["preview", "--stack", "dev"]).args, [
            "preview",
            "--stack",
            "dev",
            "--policy-pack",
            POLICY,
            "--diff",
        ]);
    });

    it("must deploy with pulumi up, the pack's config, and pass extra arguments through", () => {
        assert.deepEqual(
            pulumiArgs([
                "deploy",
                "--stack",
                "prod",
                "--policy-pack-config",
                "policy/config.example.json",
                "--",
                "--yes",
                "--skip-preview",
            ]).args,
            [
                "up",
                "--stack",
                "prod",
                "--policy-pack",
                POLICY,
                "--policy-pack-config",
                path.resolve("policy/config.example.json"),
                "--yes",
                "--skip-preview",
            ],
        );
    });

    for (const [argv, message] of [
        [["destroy", "--stack", "dev"], 'The first argument must be preview or deploy (got "destroy").'],
        [["preview"], "--stack is required: the stack to run, such as dev or prod."],
        [
            ["preview", "--stack", "staging"],
            "There is no Pulumi.staging.yaml: create the stack with `pulumi stack init staging` and commit its config.",
        ],
        [
            ["preview", "--stack", "dev", "--policy-pack-config", "nope.json"],
            "--policy-pack-config names nope.json, which does not exist.",
        ],
    ] as const) {
        it(`must refuse ${argv.join(" ")} with a clear message`, () => {
            assert.throws(() => pulumiArgs(argv), { message });
        });
    }

    it("must say how to install the CLI when pulumi is missing, with no stack trace", async () => {
        await assert.rejects(
            run(process.execPath, [SCRIPT, "preview", "--stack", "dev"], {
                env: { PATH: path.dirname(process.execPath) },
            }),
            (error: { code?: number; stderr?: string }) => {
                assert.equal(error.code, 127);
                assert.equal(error.stderr, `${INSTALL_HELP}\n`);
                return true;
            },
        );
    });

    it("must run the CLI it finds on PATH with those arguments and return its exit code", async () => {
        const bin = await mkdtemp(path.join(tmpdir(), "fake-pulumi-"));
        try {
            const log = path.join(bin, "calls.log");
            await writeFile(
                path.join(bin, "pulumi"),
                `#!/bin/sh\necho "$@" >> "${log}"\n[ "$1" = version ] && exit 0\nexit 3\n`,
            );
            await chmod(path.join(bin, "pulumi"), 0o755);
            await assert.rejects(
                run(process.execPath, [SCRIPT, "deploy", "--stack", "dev"], {
                    env: { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin` },
                }),
                (error: { code?: number }) => error.code === 3,
            );
            assert.deepEqual((await readFile(log, "utf8")).trim().split("\n"), [
                "version",
                `up --stack dev --policy-pack ${POLICY}`,
            ]);
        } finally {
            await rm(bin, { recursive: true, force: true });
        }
    });
});
