/**
 * Stack configuration as `pulumi up` hands it to the program: Pulumi.<stack>.yaml merged with the
 * project's declared defaults by the CLI's own rules (cli-config.ts), each value a string (lists and maps
 * JSON-encoded), as PULUMI_CONFIG carries it. A stack the CLI would refuse is refused here too.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import { cliStackConfig, parseYamlFile, StackFileError, type StackConfigResult } from "./cli-config";

export { StackFileError };

interface ProjectFile {
    readonly name: string;
    readonly config?: Record<
        string,
        {
            readonly type?: string;
            readonly items?: { readonly type: string };
            readonly default?: unknown;
            readonly description?: string;
        }
    >;
}

export const PROJECT_FILE = path.join(REPO_ROOT, "Pulumi.yaml");

/** The path of `stack`'s file (`Pulumi.<stack>.yaml`; an organisation prefix `org/` is dropped). */
export function stackFilePath(stack: string): string {
    return path.join(REPO_ROOT, `Pulumi.${stack.split("/").pop() ?? stack}.yaml`);
}

export function projectFile(): ProjectFile {
    return parseYamlFile(readFileSync(PROJECT_FILE, "utf8"), "Pulumi.yaml").toJS() as ProjectFile;
}

/**
 * The CLI's reading of `stack`: its merged configuration, what the CLI would refuse, what cannot be
 * checked offline. `stackText` stands in for the stack file (undefined: read it; null: a new stack).
 */
export function readCliStackConfig(stack: string, stackText?: string | null, fileName?: string): StackConfigResult {
    const file = stackFilePath(stack);
    const text = stackText === undefined ? (existsSync(file) ? readFileSync(file, "utf8") : null) : stackText;
    return cliStackConfig(
        stack,
        readFileSync(PROJECT_FILE, "utf8"),
        text ?? undefined,
        fileName ?? path.basename(file),
    );
}

/**
 * The configuration of `stack` in PULUMI_CONFIG form. Throws {@link StackFileError} when the file is not
 * valid YAML or breaks the CLI's rules, listing every problem.
 */
export function stackConfig(stack: string): Record<string, string> {
    const result = readCliStackConfig(stack);
    if (result.problems.length > 0) {
        throw new StackFileError(`The Pulumi CLI would refuse stack "${stack}":\n- ${result.problems.join("\n- ")}`);
    }
    return Object.fromEntries([...result.config].map(([key, value]) => [key, value.text]));
}
