/** Reads the JSON documents (IAM policies, definitions, redrive policies) that a program run registered. */
import { strict as assert } from "node:assert";
import type { PolicyDocument, PolicyStatement } from "../../components/iam";
import { resource, type ProgramRun, type Registration } from "../../local/pulumi-program";

/** Parses a string input of a registration as JSON. */
export function jsonInput<T = unknown>(registration: Registration, key: string): T {
    const value = registration.inputs[key];
    assert.equal(typeof value, "string", `${registration.name}.${key} is not a rendered string`);
    return JSON.parse(value as string) as T;
}

/** The policy document of a RolePolicy, by logical name. */
export function rolePolicy(run: ProgramRun, name: string): PolicyDocument {
    return jsonInput<PolicyDocument>(resource(run, "aws:iam/rolePolicy:RolePolicy", name), "policy");
}

/** Statements as comparable [Sid, actions, resources] rows, actions and resources as arrays. */
export function rows(statements: readonly PolicyStatement[]): Array<[string | undefined, string[], string[]]> {
    const list = (value: unknown): string[] => (Array.isArray(value) ? (value as string[]) : [value as string]);
    return statements.map((s) => [s.Sid, list(s.Action), list(s.Resource)]);
}
