/**
 * `npm run check-config -- --stack <name>`: checks a stack's Pulumi.<stack>.yaml without the Pulumi CLI,
 * by the CLI's own rules (required keys, declared types, namespaces: local/cli-config.ts) and by the
 * program's (ranges, relations, unknown keys: components/config.ts). Prints every problem at once on
 * stderr; exit 0 when valid, 1 with problems, 2 on bad usage. Encrypted values and ESC environments
 * cannot be read offline: they are named as not checked, never passed silently.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type * as Config from "../components/config";
import type * as StackConfig from "../local/stack-config";

/** The rules, loaded when first needed: --help and bad flags answer without loading the Pulumi SDK. */
function rules(): typeof Config & typeof StackConfig {
    /* eslint-disable @typescript-eslint/no-require-imports -- lazy loads: the modules a static import gives */
    return {
        ...(require("../components/config") as typeof Config),
        ...(require("../local/stack-config") as typeof StackConfig),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
}

export const USAGE = `Usage: npm run check-config -- --stack <name> [--file PATH] [--today YYYY-MM-DD]
Checks Pulumi.<name>.yaml by the Pulumi CLI's config rules and the program's own, offline.
  --stack NAME   the stack (dev, prod, or org/NAME); its file must exist
  --file PATH    read the stack's configuration from PATH instead of Pulumi.<name>.yaml
  --today DAY    judge Lambda runtime deprecation as of this day (default: today)
Exit 0 valid, 1 with problems (listed on stderr), 2 bad usage.`;

export interface CheckResult {
    readonly file: string;
    readonly problems: readonly string[];
    readonly unchecked: readonly string[];
    readonly settings: number;
}

/** Both sets of rules over `stack`'s file (or `stackText` in its place). */
export function checkStack(
    stack: string,
    options: { today?: Date; stackText?: string | null; file?: string } = {},
): CheckResult {
    const { CONFIG_NAMESPACE, parseStackConfig, readCliStackConfig, stackFilePath } = rules();
    const file = options.file ?? path.basename(stackFilePath(stack));
    const cli = readCliStackConfig(stack, options.stackText, options.file);
    const config: Record<string, string> = {};
    const secure = new Set<string>();
    const unchecked = [...cli.unchecked];
    for (const [key, value] of cli.config) {
        // An encrypted value is passed on as a placeholder, so that an unknown key is still reported.
        config[key] = value.secure ? "[secret]" : value.text;
        if (value.secure) {
            secure.add(key);
            if (!unchecked.some((note) => note.startsWith(`${key} `))) {
                unchecked.push(`${key} is encrypted (secure:): the program checks its value when the CLI decrypts it.`);
            }
        }
    }
    // A key the CLI already refuses is reported once, in the CLI's words.
    const refusedByCli = new Set(
        cli.problems.flatMap((p) => [...p.matchAll(/configuration key '([^']+)'/g)].map((m) => m[1] ?? "")),
    );
    const program = parseStackConfig(config, { ...(options.today ? { today: options.today } : {}) }).problems.filter(
        (problem) => {
            const key = /^([^ ]+?)(\[| )/.exec(problem)?.[1] ?? "";
            const unknownKey = problem.includes("is not a setting of this program");
            return !refusedByCli.has(key.replace(`${CONFIG_NAMESPACE}:`, "")) && (unknownKey || !secure.has(key));
        },
    );
    return {
        file,
        problems: [...cli.problems, ...program],
        unchecked,
        settings: Object.keys(config).length,
    };
}

function main(argv: readonly string[]): number {
    let values: { stack?: string; file?: string; today?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: [...argv],
            options: {
                stack: { type: "string" },
                file: { type: "string" },
                today: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (error) {
        console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
        return 2;
    }
    if (values.help === true) {
        console.log(USAGE);
        return 0;
    }
    const stack = values.stack;
    if (stack === undefined || !/^[A-Za-z0-9_.\-/]+$/.test(stack)) {
        console.error(
            `${stack === undefined ? "--stack is required" : `--stack must name a stack, such as dev or prod (got ${JSON.stringify(stack)})`}.\n\n${USAGE}`,
        );
        return 2;
    }
    let today: Date | undefined;
    if (values.today !== undefined) {
        today = new Date(`${values.today}T00:00:00Z`);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(values.today) || Number.isNaN(today.getTime())) {
            console.error(`--today must be a day as YYYY-MM-DD (got ${JSON.stringify(values.today)}).`);
            return 2;
        }
    }
    const { stackFilePath, StackFileError } = rules();
    const file = values.file !== undefined ? path.resolve(values.file) : stackFilePath(stack);
    if (!existsSync(file)) {
        console.error(
            values.file !== undefined
                ? `--file names ${values.file}, which does not exist.`
                : `There is no ${path.basename(file)}: create the stack with \`pulumi stack init ${stack}\` and commit its config.`,
        );
        return 2;
    }
    let result: CheckResult;
    try {
        result = checkStack(stack, {
            ...(today ? { today } : {}),
            ...(values.file !== undefined ? { stackText: readFileSync(file, "utf8"), file: path.basename(file) } : {}),
        });
    } catch (error) {
        if (error instanceof StackFileError) {
            console.error(error.message);
            return 1;
        }
        throw error;
    }
    for (const note of result.unchecked) {
        console.error(`not checked offline: ${note}`);
    }
    if (result.problems.length > 0) {
        console.error(`${result.file}: ${result.problems.length} problem(s):\n- ${result.problems.join("\n- ")}`);
        return 1;
    }
    console.log(
        `${result.file}: valid by the Pulumi CLI's config rules and the program's (${result.settings} settings${result.unchecked.length > 0 ? `; ${result.unchecked.length} not checked offline` : ""}).`,
    );
    return 0;
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
