/**
 * Checks a Pulumi YAML program's use of a package against the package's schema, as far as the schema can
 * tell before anything runs: each resource of the package names one of its resource types, sets only
 * that type's inputs, each with a value of the input's type (enums by value, object types by their
 * properties, their required ones included), and sets every required input; each `${resource.property}`
 * of such a resource names one of its outputs. An interpolation stands for a value known only when the
 * program runs, so its type is not judged here. Property names and value kinds follow Pulumi YAML:
 * https://www.pulumi.com/docs/iac/languages-sdks/yaml/yaml-language-reference/
 */
import type { PackageSpec } from "@pulumi/pulumi/provider/experimental/schema";
import { nearestName } from "../../components/settings";

/** The schema's view of a property (a `Property` of the package schema, as the analyzer writes it). */
export interface PropertySpec {
    readonly type?: string;
    readonly $ref?: string;
    readonly items?: PropertySpec;
    readonly additionalProperties?: PropertySpec;
    readonly description?: string;
    readonly plain?: boolean;
}

interface TypeSpec {
    readonly type: string;
    readonly enum?: readonly { readonly name: string; readonly value: string | number }[];
    readonly properties?: Readonly<Record<string, PropertySpec>>;
    readonly required?: readonly string[];
}

interface ResourceSpec {
    readonly inputProperties: Readonly<Record<string, PropertySpec>>;
    readonly requiredInputs: readonly string[];
    readonly properties: Readonly<Record<string, PropertySpec>>;
}

/** What `JSON.parse(await provider.getSchema())` gives for a component package. */
export type ComponentPackageSchema = Omit<PackageSpec, "resources" | "types"> & {
    readonly resources: Readonly<Record<string, ResourceSpec>>;
    readonly types: Readonly<Record<string, TypeSpec>>;
};

/** A Pulumi YAML program, parsed. */
export interface YamlProgram {
    readonly name?: unknown;
    readonly runtime?: unknown;
    readonly packages?: Readonly<Record<string, unknown>>;
    readonly resources?: Readonly<Record<string, { readonly type?: unknown; readonly properties?: unknown }>>;
    readonly outputs?: Readonly<Record<string, unknown>>;
    readonly [key: string]: unknown;
}

const INTERPOLATION = /\$\{([^}]+)\}/g;

function isInterpolation(value: unknown): boolean {
    return typeof value === "string" && /^\$\{[^}]+\}$/.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every problem with the program's use of `schema`'s package, each naming where it is. */
export function yamlProgramProblems(program: YamlProgram, schema: ComponentPackageSchema): string[] {
    const problems: string[] = [];
    const prefix = `${schema.name}:`;
    const typeOfRef = (ref: string): TypeSpec | undefined =>
        ref.startsWith("#/types/") ? schema.types[decodeURIComponent(ref.slice("#/types/".length))] : undefined;

    const checkValue = (value: unknown, spec: PropertySpec, where: string): void => {
        if (isInterpolation(value)) {
            return;
        }
        if (spec.$ref !== undefined) {
            if (spec.$ref === "pulumi.json#/Any") {
                return;
            }
            const type = typeOfRef(spec.$ref);
            if (type === undefined) {
                problems.push(`${where}: the schema's ${spec.$ref} is not one of its types.`);
            } else if (type.enum !== undefined) {
                if (!type.enum.some((member) => member.value === value)) {
                    problems.push(
                        `${where}: must be one of ${type.enum.map((m) => JSON.stringify(m.value)).join(", ")} (got ${JSON.stringify(value)}).`,
                    );
                }
            } else {
                checkObject(value, type.properties ?? {}, type.required ?? [], where);
            }
            return;
        }
        switch (spec.type) {
            case "string":
            case "boolean":
                if (typeof value !== spec.type) {
                    problems.push(`${where}: must be a ${spec.type} (got ${JSON.stringify(value)}).`);
                }
                return;
            case "number":
            case "integer":
                if (typeof value !== "number" || (spec.type === "integer" && !Number.isInteger(value))) {
                    problems.push(`${where}: must be a ${spec.type} (got ${JSON.stringify(value)}).`);
                }
                return;
            case "array":
                if (!Array.isArray(value)) {
                    problems.push(`${where}: must be a list (got ${JSON.stringify(value)}).`);
                    return;
                }
                value.forEach((item, index) => checkValue(item, spec.items ?? {}, `${where}[${index}]`));
                return;
            case "object":
                if (!isObject(value)) {
                    problems.push(`${where}: must be a map (got ${JSON.stringify(value)}).`);
                    return;
                }
                for (const [key, item] of Object.entries(value)) {
                    if (spec.additionalProperties !== undefined) {
                        checkValue(item, spec.additionalProperties, `${where}.${key}`);
                    }
                }
                return;
            case undefined:
            default:
                problems.push(`${where}: the schema gives no type this check knows (${JSON.stringify(spec)}).`);
        }
    };

    const checkObject = (
        value: unknown,
        properties: Readonly<Record<string, PropertySpec>>,
        required: readonly string[],
        where: string,
    ): void => {
        if (!isObject(value)) {
            problems.push(`${where}: must be a map (got ${JSON.stringify(value)}).`);
            return;
        }
        const known = Object.keys(properties);
        for (const [key, item] of Object.entries(value)) {
            const spec = properties[key];
            if (spec === undefined) {
                problems.push(`${where}.${key}: is not a property: ${nearestName(key, known)}`);
            } else {
                checkValue(item, spec, `${where}.${key}`);
            }
        }
        for (const key of required) {
            if (!(key in value)) {
                problems.push(`${where}.${key}: is required.`);
            }
        }
    };

    if (program.runtime !== "yaml" && !(isObject(program.runtime) && program.runtime["name"] === "yaml")) {
        problems.push(`runtime: must be yaml (got ${JSON.stringify(program.runtime)}).`);
    }
    if (program.packages?.[schema.name] === undefined) {
        problems.push(`packages.${schema.name}: the program does not declare the package.`);
    }

    const ours = new Map<string, ResourceSpec>();
    for (const [name, declaration] of Object.entries(program.resources ?? {})) {
        const type = declaration.type;
        if (typeof type !== "string" || !type.startsWith(prefix)) {
            continue;
        }
        const spec = schema.resources[type];
        if (spec === undefined) {
            problems.push(
                `resources.${name}.type: ${type} is not a resource of the package: ${nearestName(type, Object.keys(schema.resources))}`,
            );
            continue;
        }
        ours.set(name, spec);
        checkObject(
            declaration.properties ?? {},
            spec.inputProperties,
            spec.requiredInputs,
            `resources.${name}.properties`,
        );
    }

    // `${name.property}` of the package's resources, wherever the program writes one.
    const walk = (value: unknown, where: string): void => {
        if (typeof value === "string") {
            for (const [, expression] of value.matchAll(INTERPOLATION)) {
                const [resourceName, property] = (expression ?? "").split(/[.[]/, 2);
                const spec = resourceName === undefined ? undefined : ours.get(resourceName);
                if (
                    spec !== undefined &&
                    property !== undefined &&
                    property !== "urn" &&
                    !(property in spec.properties)
                ) {
                    problems.push(
                        `${where}: \${${expression}}: ${property} is not an output of ${resourceName}: ${nearestName(property, Object.keys(spec.properties))}`,
                    );
                }
            }
        } else if (Array.isArray(value)) {
            value.forEach((item, index) => walk(item, `${where}[${index}]`));
        } else if (isObject(value)) {
            for (const [key, item] of Object.entries(value)) {
                walk(item, where === "" ? key : `${where}.${key}`);
            }
        }
    };
    walk(program, "");
    return problems;
}
