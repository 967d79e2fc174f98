/**
 * The Pulumi CLI's own rules for project and stack configuration, applied offline, so that a stack the
 * CLI would stop at ("Stack 'dev' is missing configuration values ...") fails here first, in `npm test`
 * and in `npm run check-config`. The rules, as the CLI's documentation and source define them:
 *
 * - Project file (https://www.pulumi.com/docs/iac/concepts/projects/project-file/#config-options and
 *   `Project.Validate` / `project.json` in sdk/go/common/workspace of pulumi/pulumi): a `config:` entry is
 *   a string, integer, boolean or array (shorthand for a default or, outside the project's namespace, a
 *   value), or a declaration with only `type`, `items`, `description`, `secret`, `default` and `value`;
 *   `type` is string, integer, boolean, array or object (from CLI 3.186); an array declares `items`; a
 *   declaration cannot have both `default` and `value`; a typed default must match its type; a key outside
 *   the project's namespace takes neither `type` nor `default`, only `value`.
 * - Stack file (`LoadProjectStackBytes`, `config.ParseKey`): a key without a namespace is in the
 *   project's; a key is `<namespace>:<name>` (or the old `<namespace>:config:<name>`).
 * - Merge (`mergeConfig` in sdk/go/common/workspace/config.go): every key declared in the project's
 *   namespace, typed or not, is **required** unless it has a `default` or `value`; declared defaults fill
 *   in what the stack leaves out; then every typed key's value must match its type (integers may be
 *   written as text that parses as one, booleans as "true"/"false") and a `secret` key must be `secure:`.
 *
 * The CLI stops at the first type error; this reports every problem at once, each in the CLI's words.
 * What cannot be checked offline (encrypted `secure:` values, ESC environments) is returned as unchecked.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document } from "yaml";

/** A configuration value as the CLI holds it: text, or JSON text for lists and maps, possibly encrypted. */
export interface CliConfigValue {
    readonly text: string;
    /** A list or map, JSON-encoded in `text`. */
    readonly object: boolean;
    /** Encrypted (`secure:`), or a list or map holding an encrypted value: unreadable offline. */
    readonly secure: boolean;
}

export interface StackConfigResult {
    /** The merged configuration, `namespace:key` → value, as the program would receive it. */
    readonly config: ReadonlyMap<string, CliConfigValue>;
    /** What the CLI would refuse, each naming the key, the value and what is allowed. */
    readonly problems: readonly string[];
    /** What could not be checked offline, and why. */
    readonly unchecked: readonly string[];
}

type TypeName = "string" | "integer" | "boolean" | "array" | "object";
interface ItemsType {
    readonly type: TypeName;
    readonly items?: ItemsType;
}
interface Declaration {
    readonly type?: TypeName;
    readonly items?: ItemsType;
    readonly default?: unknown;
    readonly value?: unknown;
    readonly secret?: boolean;
}

const TYPE_NAMES: readonly string[] = ["string", "integer", "boolean", "array", "object"];
const DECLARATION_KEYS: readonly string[] = ["type", "items", "description", "secret", "default", "value"];

/** A YAML file that cannot be read as a mapping: bad syntax or a duplicate key. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

/** Parses YAML text, refusing duplicate keys (the CLI's YAML decoder does too) with the file and line. */
export function parseYamlFile(text: string, file: string): Document.Parsed {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) {
        const problems = doc.errors.map((error) => {
            const at = error.linePos?.[0];
            const first = error.message.split("\n")[0] ?? error.message;
            return `${file}${at ? `:${at.line}:${at.col}` : ""}: ${first.replace(/ at line \d+, column \d+:?$/, "")}`;
        });
        throw new StackFileError(`${file} is not valid YAML:\n- ${problems.join("\n- ")}`);
    }
    return doc;
}

function show(value: unknown): string {
    return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}

function fullTypeName(type: TypeName, items: ItemsType | undefined): string {
    return items !== undefined ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** `ValidateConfigValue`: whether `value` (text, or parsed JSON for lists and maps) matches the type. */
export function matchesType(type: TypeName, items: ItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            // Go's strconv.Atoi: an optional sign and decimal digits, within 64 bits.
            return typeof value === "number"
                ? Number.isInteger(value)
                : typeof value === "string" &&
                      /^[+-]?\d+$/.test(value) &&
                      BigInt(value) <= 9_223_372_036_854_775_807n &&
                      BigInt(value) >= -9_223_372_036_854_775_808n;
        case "boolean":
            return value === true || value === false || value === "true" || value === "false";
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        case "array":
            return (
                Array.isArray(value) &&
                items !== undefined &&
                value.every((v) => matchesType(items.type, items.items, v))
            );
    }
}

/** Whether a project config key belongs to the project (no namespace, or the project's own). */
function inProjectNamespace(project: string, key: string): boolean {
    return !key.includes(":") || key.startsWith(`${project}:`);
}

/** `config.ParseKey`: `<namespace>:<name>` or `<namespace>:config:<name>`; undefined when neither. */
export function parseConfigKey(key: string): { namespace: string; name: string } | undefined {
    const parts = key.split(":");
    if (parts.length === 2) {
        return { namespace: parts[0] ?? "", name: parts[1] ?? "" };
    }
    if (parts.length === 3 && parts[1] === "config") {
        return { namespace: parts[0] ?? "", name: parts[2] ?? "" };
    }
    return undefined;
}

function itemsProblems(where: string, items: unknown): string[] {
    if (typeof items !== "object" || items === null || Array.isArray(items)) {
        return [`${where}: items must be a mapping with a type.`];
    }
    const { type, items: inner } = items as { type?: unknown; items?: unknown };
    const problems: string[] = [];
    if (typeof type !== "string" || !TYPE_NAMES.includes(type)) {
        problems.push(`${where}.type must be one of ${TYPE_NAMES.join(", ")} (got ${show(type)}).`);
    } else if (type === "array") {
        problems.push(
            ...(inner === undefined
                ? [`${where}: an array declares its items.`]
                : itemsProblems(`${where}.items`, inner)),
        );
    }
    return problems;
}

/**
 * The project file's config declarations, or every problem the CLI would stop at when loading it.
 */
export function projectConfigDeclarations(project: { readonly name?: unknown; readonly config?: unknown }): {
    readonly name: string;
    readonly declarations: ReadonlyMap<string, Declaration>;
    readonly problems: readonly string[];
} {
    const problems: string[] = [];
    const name = typeof project.name === "string" ? project.name : "";
    if (name === "") {
        problems.push("Pulumi.yaml: project is missing a non-empty string 'name' attribute.");
    }
    const declarations = new Map<string, Declaration>();
    const config = project.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        return { name, declarations, problems: [...problems, "Pulumi.yaml: config must be a mapping of keys."] };
    }
    for (const [key, raw] of Object.entries(config as Record<string, unknown>)) {
        const where = `Pulumi.yaml config ${key}`;
        const projectKey = inProjectNamespace(name, key);
        let declaration: Declaration;
        if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean" || Array.isArray(raw)) {
            // Shorthand: a default for the project's keys, a value for other namespaces' keys.
            if (typeof raw === "number" && !Number.isInteger(raw)) {
                problems.push(`${where}: a shorthand value is a string, integer, boolean or list (got ${raw}).`);
                continue;
            }
            declaration = projectKey ? { default: raw } : { value: raw };
        } else if (typeof raw === "object" && raw !== null) {
            const unknown = Object.keys(raw).filter((k) => !DECLARATION_KEYS.includes(k));
            if (unknown.length > 0) {
                problems.push(
                    `${where}: ${unknown.map((k) => `'${k}'`).join(", ")} not allowed; a declaration has only ${DECLARATION_KEYS.join(", ")} (for a map as a default, write it under default:).`,
                );
                continue;
            }
            declaration = raw;
        } else {
            problems.push(`${where}: must be a value or a declaration (got ${show(raw)}).`);
            continue;
        }
        const { type } = declaration as { type?: unknown };
        if (type !== undefined && (typeof type !== "string" || !TYPE_NAMES.includes(type))) {
            problems.push(`${where}: type must be one of ${TYPE_NAMES.join(", ")} (got ${show(type)}).`);
            continue;
        }
        if (declaration.default !== undefined && declaration.value !== undefined) {
            problems.push(`${where}: project config '${key}' cannot have both a 'default' and 'value' attribute.`);
        }
        if (projectKey) {
            if (declaration.type === "array") {
                if (declaration.items === undefined) {
                    problems.push(
                        `${where}: the configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute.`,
                    );
                    continue;
                }
                const itemProblems = itemsProblems(`${where}.items`, declaration.items);
                if (itemProblems.length > 0) {
                    problems.push(...itemProblems);
                    continue;
                }
            }
            if (
                declaration.type !== undefined &&
                declaration.default !== undefined &&
                declaration.default !== null &&
                !matchesType(declaration.type, declaration.items, declaration.default)
            ) {
                problems.push(
                    `${where}: the default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(declaration.type, declaration.items)}' (got ${show(declaration.default)}).`,
                );
            }
        } else {
            if (declaration.type !== undefined) {
                problems.push(
                    `${where}: configuration key '${key}' is not namespaced by the project and should not define a type.`,
                );
            }
            if (declaration.default !== undefined) {
                problems.push(
                    `${where}: configuration key '${key}' is not namespaced by the project and should not define a default value; use 'value'.`,
                );
            }
            if (declaration.value === undefined) {
                problems.push(
                    `${where}: configuration key '${key}' is namespaced and must provide an attribute 'value'.`,
                );
            }
        }
        declarations.set(key, declaration);
    }
    return { name, declarations, problems };
}

function containsSecure(value: unknown): boolean {
    if (Array.isArray(value)) {
        return value.some(containsSecure);
    }
    if (typeof value === "object" && value !== null) {
        const entries = Object.entries(value);
        if (entries.length === 1 && entries[0]?.[0] === "secure" && typeof entries[0][1] === "string") {
            return true;
        }
        return entries.some(([, v]) => containsSecure(v));
    }
    return false;
}

/**
 * A stack file's scalar as the CLI reads it: it decodes the file and encodes it again before reading
 * the values (`LoadProjectStackBytes`), so a number or boolean becomes its canonical text (`5.0` and
 * `0x5` are "5", `True` is "true") and a quoted string stays as written.
 */
function cliScalarText(value: unknown): string {
    if (value === null || value === undefined) {
        return "";
    }
    if (typeof value === "number") {
        return Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? BigInt(value).toString() : String(value);
    }
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** A project default or value as the CLI stores it (`createConfigValue`). */
function fromDeclared(value: unknown): CliConfigValue {
    if (
        typeof value === "string" ||
        typeof value === "boolean" ||
        (typeof value === "number" && Number.isInteger(value))
    ) {
        return { text: String(value), object: false, secure: false };
    }
    return { text: JSON.stringify(value), object: true, secure: containsSecure(value) };
}

/**
 * Applies the CLI's rules to a stack: `projectText` is Pulumi.yaml, `stackText` the stack's file (or
 * undefined for a new stack that has none yet).
 */
export function cliStackConfig(
    stack: string,
    projectText: string,
    stackText: string | undefined,
    stackFileName = `Pulumi.${stack}.yaml`,
): StackConfigResult {
    const project = parseYamlFile(projectText, "Pulumi.yaml").toJS() as { name?: unknown; config?: unknown };
    const { name, declarations, problems: projectProblems } = projectConfigDeclarations(project ?? {});
    const problems: string[] = [...projectProblems];
    const unchecked: string[] = [];
    const config = new Map<string, CliConfigValue>();
    if (projectProblems.length > 0) {
        return { config, problems, unchecked }; // the CLI stops loading the project: no stack is read
    }
    let hasEnvironment = false;

    if (stackText !== undefined) {
        const doc = parseYamlFile(stackText, stackFileName);
        const root = doc.contents;
        if (root !== null && !isMap(root)) {
            throw new StackFileError(`${stackFileName} must be a mapping with a config: key.`);
        }
        const environment = root?.get("environment");
        if (environment !== undefined && environment !== null) {
            hasEnvironment = true;
            unchecked.push(
                `${stackFileName} imports ESC environment(s) ${JSON.stringify((doc.toJS() as { environment: unknown }).environment)}: their values (which may set keys reported missing here) are read only by the CLI.`,
            );
        }
        const block = root?.get("config", true);
        if (block !== undefined && block !== null && !isMap(block)) {
            throw new StackFileError(`${stackFileName}: config must be a mapping of keys to values.`);
        }
        for (const pair of isMap(block) ? block.items : []) {
            const rawKey = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
            const key = rawKey.includes(":") ? rawKey : `${name}:${rawKey}`;
            const parsed = parseConfigKey(key);
            if (parsed === undefined) {
                problems.push(
                    `${stackFileName}: could not parse ${rawKey} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`).`,
                );
                continue;
            }
            const node = pair.value;
            let value: CliConfigValue;
            if (isScalar(node) || node === null) {
                const scalar: unknown = node === null ? null : node.value;
                if (scalar === null) {
                    unchecked.push(
                        `${stackFileName}: ${rawKey} has no value; the CLI warns and reads it as an empty string.`,
                    );
                }
                value = { text: cliScalarText(scalar), object: false, secure: false };
            } else if (isMap(node) || isSeq(node)) {
                const js = node.toJS(doc) as unknown;
                const secure =
                    isMap(node) &&
                    node.items.length === 1 &&
                    isScalar(node.items[0]?.key) &&
                    node.items[0].key.value === "secure";
                value = secure
                    ? { text: "", object: false, secure: true }
                    : { text: JSON.stringify(js), object: true, secure: containsSecure(js) };
            } else {
                problems.push(`${stackFileName}: ${rawKey} has a value the CLI cannot read.`);
                continue;
            }
            config.set(`${parsed.namespace}:${parsed.name}`, value);
        }
    }

    const missing: string[] = [];
    for (const key of [...declarations.keys()].sort()) {
        const declaration = declarations.get(key) as Declaration;
        const full = key.includes(":") ? key : `${name}:${key}`;
        const parsed = parseConfigKey(full);
        if (parsed === undefined) {
            problems.push(`Pulumi.yaml: could not parse ${key} as a configuration key.`);
            continue;
        }
        const id = `${parsed.namespace}:${parsed.name}`;
        const declared = declaration.default ?? declaration.value;
        if (!config.has(id)) {
            if (declared === undefined || declared === null) {
                if (parsed.namespace === name) {
                    missing.push(key);
                }
                continue;
            }
            config.set(id, fromDeclared(declared));
        }
    }
    if (missing.length > 0 && hasEnvironment) {
        unchecked.push(
            `${missing.map((k) => `'${k}'`).join(", ")}: declared without a default and not in ${stackFileName}; the ESC environment must set ${missing.length > 1 ? "them" : "it"}.`,
        );
    } else if (missing.length > 0) {
        const quoted = missing.map((k) => `'${k}'`);
        problems.push(
            `Stack '${stack}' is missing configuration ${missing.length > 1 ? "values" : "value"} ${quoted.join(", ")}: Pulumi.yaml declares ${missing.length > 1 ? "them" : "it"} without a default, so the CLI requires ${missing.length > 1 ? "them" : "it"} in every stack.`,
        );
    }

    for (const key of [...declarations.keys()].sort()) {
        const declaration = declarations.get(key) as Declaration;
        if (declaration.type === undefined || !inProjectNamespace(name, key)) {
            continue;
        }
        const id = key.includes(":") ? key : `${name}:${key}`;
        const value = config.get(id);
        if (value === undefined) {
            continue;
        }
        if (declaration.secret === true && !value.secure) {
            problems.push(
                `Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret: set it with \`pulumi config set --secret ${key}\`.`,
            );
            continue;
        }
        if (value.secure) {
            unchecked.push(`${id} is encrypted (secure:): its type is checked by the CLI, which can decrypt it.`);
            continue;
        }
        const content: unknown = value.object ? JSON.parse(value.text) : value.text;
        if (!matchesType(declaration.type, declaration.items, content)) {
            problems.push(
                `Stack '${stack}' with configuration key '${key}' must be of type '${fullTypeName(declaration.type, declaration.items)}' (got ${value.object ? value.text : show(value.text)}).`,
            );
        }
    }
    return { config, problems, unchecked };
}
