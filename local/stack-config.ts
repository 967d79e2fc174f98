/**
 * Stack configuration as `pulumi up` hands it to the program: the project's declared defaults from
 * Pulumi.yaml, overlaid with Pulumi.<stack>.yaml, each value a string (lists and maps JSON-encoded).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { REPO_ROOT } from "../components/bundle";

interface ProjectFile {
    readonly name: string;
    readonly config?: Record<
        string,
        { readonly type?: string; readonly default?: unknown; readonly description?: string }
    >;
}

export function projectFile(): ProjectFile {
    return parse(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as ProjectFile;
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The configuration of `stack` in PULUMI_CONFIG form. */
export function stackConfig(stack: string): Record<string, string> {
    const project = projectFile();
    const config: Record<string, string> = {};
    for (const [key, spec] of Object.entries(project.config ?? {})) {
        if (spec.default !== undefined) {
            config[`${project.name}:${key}`] = asConfigString(spec.default);
        }
    }
    const file = parse(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config?: Record<string, unknown>;
    };
    for (const [key, value] of Object.entries(file.config ?? {})) {
        config[key] = asConfigString(value);
    }
    return config;
}
