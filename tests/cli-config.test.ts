/**
 * The Pulumi CLI's project and stack config rules, applied offline (local/cli-config.ts), over every
 * committed stack file and a new stack; the rules themselves, each as the CLI states it; and
 * `npm run check-config`, which applies them together with the program's own rules.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../components/bundle";
import { CONFIG_KEYS } from "../components/config";
import { cliStackConfig, matchesType, StackFileError } from "../local/cli-config";
import { checkStack } from "../scripts/check-config";

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, "build", "scripts", "check-config.js");

const PROJECT = (config: string): string => `name: demo\nruntime: nodejs\nconfig:\n${config}`;

function problemsOf(project: string, stack: string | undefined): readonly string[] {
    return cliStackConfig("dev", PROJECT(project), stack).problems;
}

describe("the Pulumi CLI's config rules, offline", () => {
    const stacks = readdirSync(REPO_ROOT)
        .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined);

    it("must find the committed stacks", () => {
        assert.deepEqual(stacks.sort(), ["dev", "prod"]);
    });

    for (const stack of stacks) {
        it(`must accept Pulumi.${stack}.yaml by the CLI's rules and the program's`, () => {
            const result = checkStack(stack, { today: new Date("2026-12-01T00:00:00Z") });
            assert.deepEqual(result.problems, []);
            assert.deepEqual(result.unchecked, []);
        });
    }

    it("must accept a new stack that sets only aws:region", () => {
        const result = checkStack("staging", { stackText: "config:\n  aws:region: eu-central-1\n" });
        assert.deepEqual(result.problems, []);
    });

    it("must accept a stack whose file does not exist yet (pulumi stack init, nothing set)", () => {
        assert.deepEqual(checkStack("brand-new", { stackText: null }).problems, []);
    });

    it("must require a declared key without a default in every stack, typed or not, as the CLI does", () => {
        // As TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault in pulumi/pulumi.
        const project =
            "  values:\n    type: array\n    items:\n      type: string\n  note:\n    description: untyped\n";
        assert.deepEqual(problemsOf(project, "config:\n  aws:region: eu-west-1\n"), [
            "Stack 'dev' is missing configuration values 'note', 'values': Pulumi.yaml declares them without a default, so the CLI requires them in every stack.",
        ]);
        assert.deepEqual(problemsOf(project, "config:\n  demo:values: [a]\n  note: set\n"), []);
        assert.deepEqual(problemsOf("  n:\n    type: integer\n    default: null\n", undefined), [
            "Stack 'dev' is missing configuration value 'n': Pulumi.yaml declares it without a default, so the CLI requires it in every stack.",
        ]);
    });

    it("must not require keys of other namespaces, and give them only a value", () => {
        assert.deepEqual(problemsOf("  aws:region:\n    value: eu-west-1\n", undefined), []);
        assert.deepEqual(problemsOf("  aws:region: eu-west-1\n", undefined), []);
        assert.deepEqual(problemsOf("  aws:region:\n    type: string\n    default: x\n", undefined), [
            "Pulumi.yaml config aws:region: configuration key 'aws:region' is not namespaced by the project and should not define a type.",
            "Pulumi.yaml config aws:region: configuration key 'aws:region' is not namespaced by the project and should not define a default value; use 'value'.",
            "Pulumi.yaml config aws:region: configuration key 'aws:region' is namespaced and must provide an attribute 'value'.",
        ]);
    });

    it("must refuse the declarations the CLI refuses when it loads the project", () => {
        assert.deepEqual(problemsOf("  a:\n    type: array\n    default: []\n", undefined), [
            "Pulumi.yaml config a: the configuration key 'a' declares an array but does not specify the underlying type via the 'items' attribute.",
        ]);
        assert.deepEqual(problemsOf("  t:\n    type: map\n    default: {}\n", undefined), [
            'Pulumi.yaml config t: type must be one of string, integer, boolean, array, object (got "map").',
        ]);
        assert.deepEqual(problemsOf("  t:\n    type: object\n    default: []\n", undefined), [
            "Pulumi.yaml config t: the default value specified for configuration key 't' is not of the expected type 'object' (got []).",
        ]);
        assert.deepEqual(problemsOf("  t:\n    foo: bar\n", undefined), [
            "Pulumi.yaml config t: 'foo' not allowed; a declaration has only type, items, description, secret, default, value (for a map as a default, write it under default:).",
        ]);
        assert.deepEqual(problemsOf("  n:\n    type: integer\n    default: ten\n", undefined), [
            "Pulumi.yaml config n: the default value specified for configuration key 'n' is not of the expected type 'integer' (got \"ten\").",
        ]);
        assert.deepEqual(problemsOf("  n:\n    default: 1\n    value: 2\n", undefined), [
            "Pulumi.yaml config n: project config 'n' cannot have both a 'default' and 'value' attribute.",
        ]);
    });

    it("must check a typed key's stack value as the CLI reads it: decoded and encoded again", () => {
        const project =
            "  n:\n    type: integer\n    default: 1\n  b:\n    type: boolean\n    default: false\n  s:\n    type: string\n    default: x\n  l:\n    type: array\n    items:\n      type: integer\n    default: []\n  m:\n    type: object\n    default: {}\n  ms:\n    type: array\n    items:\n      type: object\n    default: []\n";
        // The CLI re-encodes the file before reading it: 5.0 and 0x5 are the integer 5, True is true.
        assert.deepEqual(
            problemsOf(project, 'config:\n  n: 5.0\n  b: True\n  s: 12\n  l: [1, "2"]\n  m: {a: 1}\n  ms: [{a: 1}]\n'),
            [],
        );
        assert.equal(cliStackConfig("dev", PROJECT(project), "config:\n  n: 0x5\n").config.get("demo:n")?.text, "5");
        assert.deepEqual(
            problemsOf(project, 'config:\n  n: "5.0"\n  b: yes\n  s: [x]\n  l: [1.5]\n  m: [1]\n  ms: [1]\n'),
            [
                "Stack 'dev' with configuration key 'b' must be of type 'boolean' (got \"yes\").",
                "Stack 'dev' with configuration key 'l' must be of type 'array<integer>' (got [1.5]).",
                "Stack 'dev' with configuration key 'm' must be of type 'object' (got [1]).",
                "Stack 'dev' with configuration key 'ms' must be of type 'array<object>' (got [1]).",
                "Stack 'dev' with configuration key 'n' must be of type 'integer' (got \"5.0\").",
                "Stack 'dev' with configuration key 's' must be of type 'string' (got [\"x\"]).",
            ],
        );
        assert.ok(matchesType("integer", undefined, "9223372036854775807"));
        assert.ok(!matchesType("integer", undefined, "9223372036854775808"), "beyond 64 bits");
        const empty = cliStackConfig("dev", PROJECT(project), "config:\n  s:\n");
        assert.equal(empty.config.get("demo:s")?.text, "");
        assert.match(empty.unchecked[0] ?? "", /s has no value; the CLI warns and reads it as an empty string/);
    });

    it("must require secret keys to be encrypted, and name encrypted values as not checked", () => {
        const project = "  token:\n    type: string\n    secret: true\n    default: x\n";
        assert.deepEqual(problemsOf(project, "config:\n  token: plain\n"), [
            "Stack 'dev' with configuration key 'token' must be encrypted as it's secret: set it with `pulumi config set --secret token`.",
        ]);
        const result = cliStackConfig("dev", PROJECT(project), "config:\n  token:\n    secure: AAABAK1x\n");
        assert.deepEqual(result.problems, []);
        assert.deepEqual(result.unchecked, [
            "demo:token is encrypted (secure:): its type is checked by the CLI, which can decrypt it.",
        ]);
    });

    it("must name an ESC environment as not checked, and not call the keys it may set missing", () => {
        const result = cliStackConfig("dev", PROJECT("  n:\n    type: integer\n"), "environment:\n  - team/dev\n");
        assert.deepEqual(result.problems, []);
        assert.equal(result.unchecked.length, 2);
        assert.match(result.unchecked[0] ?? "", /ESC environment\(s\) \["team\/dev"\]/);
    });

    it("must refuse keys that are not <namespace>:<name>, and put bare keys in the project's namespace", () => {
        const result = cliStackConfig(
            "dev",
            PROJECT("  n:\n    default: 1\n"),
            "config:\n  n: 2\n  a:b:c: 1\n  x:config:y: 3\n",
        );
        assert.deepEqual(result.problems, [
            "Pulumi.dev.yaml: could not parse a:b:c as a configuration key (configuration keys should be of the form `<namespace>:<name>`).",
        ]);
        assert.equal(result.config.get("demo:n")?.text, "2");
        assert.equal(result.config.get("x:y")?.text, "3");
    });

    it("must refuse a duplicate key with the file and line, not a parser trace", () => {
        assert.throws(
            () => cliStackConfig("dev", PROJECT("  n:\n    default: 1\n"), "config:\n  n: 1\n  n: 2\n"),
            (error: unknown) =>
                error instanceof StackFileError &&
                error.message === "Pulumi.dev.yaml is not valid YAML:\n- Pulumi.dev.yaml:3:3: Map keys must be unique",
        );
    });
});

describe("npm run check-config", function () {
    this.timeout(20_000);
    let dir: string;

    before(async () => {
        dir = await mkdtemp(path.join(tmpdir(), "check-config-"));
    });
    after(async () => {
        await rm(dir, { recursive: true, force: true });
    });

    async function check(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        try {
            const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args]);
            return { code: 0, stdout, stderr };
        } catch (error) {
            const e = error as { code: number; stdout: string; stderr: string };
            return { code: e.code, stdout: e.stdout, stderr: e.stderr };
        }
    }

    it("must pass a valid stack (exit 0)", async () => {
        const result = await check("--stack", "prod");
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^Pulumi\.prod\.yaml: valid by the Pulumi CLI's config rules and the program's/);
    });

    it("must list every problem at once on stderr, CLI's and program's, without a stack trace (exit 1)", async () => {
        const file = path.join(dir, "Pulumi.bad.yaml");
        await writeFile(
            file,
            "config:\n  callback-workflow:maxReceiveCount: '5.0'\n  callback-workflow:heartbeatSeconds: 2\n  callback-workflow:workerTimeoutSecs: 10\n  callback-workflow:token:\n    secure: AAABAK1x\n",
        );
        const result = await check("--stack", "bad", "--file", file);
        assert.equal(result.code, 1);
        assert.equal(result.stdout, "");
        assert.doesNotMatch(result.stderr, /\n\s+at /);
        assert.equal(
            result.stderr,
            [
                "not checked offline: callback-workflow:token is encrypted (secure:): the program checks its value when the CLI decrypts it.",
                "Pulumi.bad.yaml: 4 problem(s):",
                "- Stack 'bad' with configuration key 'maxReceiveCount' must be of type 'integer' (got \"5.0\").",
                `- callback-workflow:workerTimeoutSecs is not a setting of this program; the settings are: ${CONFIG_KEYS.join(", ")}.`,
                `- callback-workflow:token is not a setting of this program; the settings are: ${CONFIG_KEYS.join(", ")}.`,
                "- callback-workflow:heartbeatSeconds must be an integer from 22 to 31535979 (got 2).",
                "",
            ].join("\n"),
        );
    });

    it("must report bad YAML as a problem with its line (exit 1)", async () => {
        const file = path.join(dir, "Pulumi.dup.yaml");
        await writeFile(file, "config:\n  aws:region: eu-west-1\n  aws:region: eu-west-2\n");
        const result = await check("--stack", "dup", "--file", file);
        assert.equal(result.code, 1);
        assert.equal(
            result.stderr,
            "Pulumi.dup.yaml is not valid YAML:\n- Pulumi.dup.yaml:3:3: Map keys must be unique\n",
        );
    });

    it("must judge the runtime's deprecation by --today", async () => {
        const file = path.join(dir, "Pulumi.old.yaml");
        await writeFile(file, "config:\n  callback-workflow:runtime: nodejs22.x\n");
        assert.equal((await check("--stack", "old", "--file", file, "--today", "2027-04-29")).code, 0);
        const late = await check("--stack", "old", "--file", file, "--today", "2027-04-30");
        assert.equal(late.code, 1);
        assert.match(
            late.stderr,
            /callback-workflow:runtime reached its deprecation on 2027-04-30: use one of nodejs24\.x \(got "nodejs22\.x"\)\./,
        );
    });

    it("must exit 2 on bad usage: no such stack file, a bad flag, no stack", async () => {
        const missing = await check("--stack", "nope");
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /^There is no Pulumi\.nope\.yaml/);
        assert.equal((await check("--stack", "dev", "--colour")).code, 2);
        assert.equal((await check()).code, 2);
    });

    it("must print its usage for --help (exit 0)", async () => {
        const result = await check("--help");
        assert.equal(result.code, 0);
        assert.match(result.stdout, /^Usage: npm run check-config -- --stack <name>/);
    });
});
