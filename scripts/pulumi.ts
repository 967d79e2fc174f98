/**
 * `npm run preview -- --stack dev` and `npm run deploy -- --stack dev`: the Pulumi CLI with this
 * project's policy pack and its config, after `npm run build` (the package scripts build first).
 *
 *   node build/scripts/pulumi.js preview|deploy --stack NAME [--policy-pack-config FILE] [-- extra pulumi args]
 *
 * When the `pulumi` CLI is missing it says how to install it, instead of a stack trace. `npm run
 * preview`/`deploy` build first (scripts/commands.mjs, which answers --help itself, with this usage).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import { asksForHelp, HelpRequest, parseFlags, runMain, UsageError } from "./run-main";

/** The usage, printed for --help (scripts/commands.mjs prints the same for `npm run preview -- --help`). */
export const USAGE = `Usage: npm run preview -- --stack NAME [--policy-pack-config FILE] [-- extra pulumi args]
       npm run deploy -- --stack NAME [--policy-pack-config FILE] [-- extra pulumi args]
Builds, then runs \`pulumi preview --diff\` (preview) or \`pulumi up\` (deploy) on a stack with the
policy pack in policy/. Needs the Pulumi CLI (exit 127 without it); exits with its code, 2 on bad
arguments. (Without the build: node build/scripts/pulumi.js preview|deploy ...)
Options:
  --stack NAME                 the stack, configured by Pulumi.<NAME>.yaml (dev, prod)
  --policy-pack-config FILE    the policy pack's configuration (see policy/config.example.json)
  -- ARGS                      passed to pulumi as they are, such as -- --yes
  -h, --help                   print this usage`;

export const INSTALL_HELP = `The Pulumi CLI is not installed (no "pulumi" on PATH). Install it, then run this again:
  curl -fsSL https://get.pulumi.com | sh          # Linux, macOS
  brew install pulumi/tap/pulumi                  # macOS with Homebrew
  choco install pulumi                            # Windows
See https://www.pulumi.com/docs/install/.`;

/** The policy pack's directory, relative to the repository root (the workflows pass the same path). */
export const POLICY_PACK_DIR = "policy";

export interface PulumiCommand {
    readonly args: string[];
}

/**
 * The `pulumi` arguments for a command line. Throws {@link HelpRequest} for --help (before a `--`), and
 * a {@link UsageError} naming what is wrong.
 */
export function pulumiArgs(argv: readonly string[]): PulumiCommand {
    if (asksForHelp(argv)) {
        throw new HelpRequest();
    }
    const [command, ...rest] = argv;
    if (command !== "preview" && command !== "deploy") {
        throw new UsageError(`The first argument must be preview or deploy (got ${JSON.stringify(command)}).`);
    }
    const separator = rest.indexOf("--");
    const own = separator >= 0 ? rest.slice(0, separator) : rest;
    const passThrough = separator >= 0 ? rest.slice(separator + 1) : [];
    const { values } = parseFlags({
        args: own,
        options: { stack: { type: "string" }, "policy-pack-config": { type: "string" } },
        strict: true,
    });
    const stack = values.stack;
    if (stack === undefined || !/^[A-Za-z0-9_.\-/]+$/.test(stack)) {
        throw new UsageError(
            stack === undefined
                ? "--stack is required: the stack to run, such as dev or prod."
                : `--stack must name a stack, such as dev or prod (got ${JSON.stringify(stack)}).`,
        );
    }
    const stackFile = path.join(REPO_ROOT, `Pulumi.${stack.split("/").pop() ?? stack}.yaml`);
    if (!existsSync(stackFile)) {
        throw new UsageError(
            `There is no ${path.basename(stackFile)}: create the stack with \`pulumi stack init ${stack}\` and commit its config.`,
        );
    }
    const config = values["policy-pack-config"];
    if (config !== undefined && !existsSync(path.resolve(config))) {
        throw new UsageError(`--policy-pack-config names ${config}, which does not exist.`);
    }
    return {
        args: [
            command === "preview" ? "preview" : "up",
            "--stack",
            stack,
            "--policy-pack",
            path.join(REPO_ROOT, POLICY_PACK_DIR),
            ...(config !== undefined ? ["--policy-pack-config", path.resolve(config)] : []),
            ...(command === "preview" ? ["--diff"] : []),
            ...passThrough,
        ],
    };
}

function main(): number {
    const command = pulumiArgs(process.argv.slice(2));
    const probe = spawnSync("pulumi", ["version"], { encoding: "utf8" });
    if (probe.error !== undefined) {
        console.error(INSTALL_HELP);
        return 127;
    }
    console.error(`pulumi ${command.args.join(" ")}`);
    const run = spawnSync("pulumi", command.args, { stdio: "inherit", cwd: REPO_ROOT });
    return run.status ?? 1;
}

if (require.main === module) {
    runMain(() => Promise.resolve().then(main), { usage: USAGE });
}
