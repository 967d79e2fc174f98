/**
 * One measurement of bench/policy.ts, in a fresh process as a `pulumi preview`'s analyzer is:
 * `node build/bench/policy-child.js pack|asl-original|asl-fast <recorded program.json> [definitions]`.
 *
 * - `pack`: loads the policy pack's modules (timed), compiles asl-validator's schemas (timed), then runs
 *   every policy with `runPolicies` over the recorded program twice, cold then warm, each policy's
 *   validate functions timed apart.
 * - `asl-original` / `asl-fast`: asl-validator itself, then components/asl-validate.ts, on the program's
 *   first `definitions` state machine definitions, each call timed.
 *
 * Prints one JSON document on stdout. Measurements only: the parent reports them.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { Policies, ResourceValidation, StackValidation } from "@pulumi/policy";
import type { ProgramRun } from "../policy/record";
import type * as AslValidate from "../components/asl-validate";
import type * as Runner from "../policy/runner";

type Policy = Policies[number];

export interface PackRun {
    /** Wall time of `runPolicies`, runner included. */
    readonly wallMs: number;
    /** Time inside each policy's validate functions, by name. */
    readonly policyMs: Readonly<Record<string, number>>;
    readonly resourceMs: number;
    readonly stackMs: number;
    readonly violations: number;
    readonly undecided: number;
}

export interface PackMeasurement {
    readonly loadMs: number;
    readonly compileMs: number;
    readonly resources: number;
    readonly stateMachines: number;
    /** The names of the stack policies (the others are resource policies). */
    readonly stackPolicies: readonly string[];
    readonly cold: PackRun;
    readonly warm: PackRun;
}

export interface AslMeasurement {
    readonly loadMs: number;
    /** Schema compilation apart (the fast path only; asl-validator compiles within each call). */
    readonly compileMs: number;
    /** Each call's milliseconds, in order: the first is the cold one. */
    readonly callsMs: readonly number[];
    readonly valid: number;
}

const isStackPolicy = (policy: Policy): boolean => "validateStack" in policy && policy.validateStack !== undefined;

/** The policies, each validate function wrapped to add its time to `spent[name]`. */
function timedPolicies(policies: Policies, spent: Record<string, number>): Policies {
    const time =
        <A extends unknown[], R>(name: string, validate: (...args: A) => R) =>
        (...args: A): R => {
            const start = performance.now();
            try {
                return validate(...args);
            } finally {
                spent[name] = (spent[name] ?? 0) + performance.now() - start;
            }
        };
    return policies.map((policy): Policy => {
        spent[policy.name] = 0;
        if ("validateStack" in policy && policy.validateStack !== undefined) {
            return {
                ...policy,
                validateStack: time<Parameters<StackValidation>, ReturnType<StackValidation>>(
                    policy.name,
                    policy.validateStack,
                ),
            };
        }
        if ("validateResource" in policy && policy.validateResource !== undefined) {
            const validations: ResourceValidation[] = Array.isArray(policy.validateResource)
                ? policy.validateResource
                : [policy.validateResource];
            return {
                ...policy,
                validateResource: validations.map((v) =>
                    time<Parameters<ResourceValidation>, ReturnType<ResourceValidation>>(policy.name, v),
                ),
            };
        }
        return policy;
    });
}

async function runPack(runner: typeof Runner, policies: Policies, run: ProgramRun): Promise<PackRun> {
    const spent: Record<string, number> = {};
    const timed = timedPolicies(policies, spent);
    const start = performance.now();
    const result = await runner.runPolicies(run, { policies: timed });
    const wallMs = performance.now() - start;
    const sum = (stack: boolean) =>
        policies.filter((p) => isStackPolicy(p) === stack).reduce((total, p) => total + (spent[p.name] ?? 0), 0);
    return {
        wallMs,
        policyMs: spent,
        resourceMs: sum(false),
        stackMs: sum(true),
        violations: result.violations.length,
        undecided: result.undecided.length,
    };
}

function definitionsOf(run: ProgramRun, count: number): unknown[] {
    return run.resources
        .filter((r) => r.type === "aws:sfn/stateMachine:StateMachine" && typeof r.inputs["definition"] === "string")
        .slice(0, count)
        .map((r) => JSON.parse(r.inputs["definition"] as string) as unknown);
}

function load<T>(module: string): { value: T; ms: number } {
    const start = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading is what is timed, when it is asked for
    const value = require(module) as T;
    return { value, ms: performance.now() - start };
}

async function main(): Promise<void> {
    const [mode, file, count] = process.argv.slice(2);
    if (file === undefined || (mode !== "pack" && mode !== "asl-original" && mode !== "asl-fast")) {
        throw new Error("usage: policy-child.js pack|asl-original|asl-fast <program.json> [definitions]");
    }
    const run = JSON.parse(readFileSync(file, "utf8")) as ProgramRun;
    let measurement: PackMeasurement | AslMeasurement;
    if (mode === "pack") {
        // What the analyzer loads (policy/index.ts without the PolicyPack's gRPC server).
        const start = performance.now();
        const { policies } = load<{ policies: Policies }>("../policy/policies").value;
        const runner = load<typeof Runner>("../policy/runner").value;
        const loadMs = performance.now() - start;
        const { compileAslSchemas } = load<typeof AslValidate>("../components/asl-validate").value;
        const compileMs = compileAslSchemas();
        const cold = await runPack(runner, policies, run);
        const warm = await runPack(runner, policies, run);
        measurement = {
            loadMs,
            compileMs,
            resources: run.resources.length,
            stateMachines: run.resources.filter((r) => r.type === "aws:sfn/stateMachine:StateMachine").length,
            stackPolicies: policies.filter(isStackPolicy).map((p) => p.name),
            cold,
            warm,
        };
    } else {
        const definitions = definitionsOf(run, Number(count ?? 10));
        let validate: (definition: unknown) => { isValid: boolean };
        let loadMs: number;
        let compileMs = 0;
        if (mode === "asl-original") {
            const loaded = load<(definition: unknown) => { isValid: boolean }>("asl-validator");
            const original = loaded.value;
            validate = (definition) => original(structuredClone(definition));
            loadMs = loaded.ms;
        } else {
            const loaded = load<typeof AslValidate>("../components/asl-validate");
            validate = loaded.value.validateAsl;
            loadMs = loaded.ms;
            compileMs = loaded.value.compileAslSchemas();
        }
        const callsMs: number[] = [];
        let valid = 0;
        for (const definition of definitions) {
            const start = performance.now();
            valid += validate(definition).isValid ? 1 : 0;
            callsMs.push(performance.now() - start);
        }
        measurement = { loadMs, compileMs, callsMs, valid };
    }
    process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
