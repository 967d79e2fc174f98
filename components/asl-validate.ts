/**
 * asl-validator (https://www.npmjs.com/package/asl-validator, 4.0.0) with its JSON schemas compiled once
 * per process instead of once per call.
 *
 * asl-validator's validator.js runs `jsonSchemaErrors` (dist/src/checks/json-schema-errors.js) and then,
 * when the schemas pass, its semantic checks (transition targets, terminal states, duplicate names, …).
 * `jsonSchemaErrors` builds a new Ajv instance on every call, adds its 15 schemas and formats, and
 * compiles the state-machine schema: that compilation is nearly all of a call's time (tens to hundreds of
 * ms), and Ajv caches compiled schemas per instance only, so nothing carries over between calls.
 *
 * {@link validateAsl} runs asl-validator's own validator.js, but while it runs the module's
 * `jsonSchemaErrors` export is swapped for one that first checks the definition with an Ajv instance set up
 * exactly as `jsonSchemaErrors` sets up its own (same schema files from asl-validator's dist/src/schemas,
 * same options, same formats) and compiled once per set of options:
 * - the definition passes: `jsonSchemaErrors` would return [] (it returns [] exactly when Ajv reports no
 *   errors), so this returns [] too and validator.js goes on to its semantic checks, unchanged;
 * - it fails: asl-validator's own `jsonSchemaErrors` runs on it (the slow path), so the errors it picks
 *   (deepest instance path, oneOf filtering, de-duplication) are its own, word for word.
 * A valid definition (every one in a deployable stack) therefore costs one compiled-schema check plus the
 * semantic checks; only a definition the schemas refuse pays for a fresh compilation, as before.
 *
 * The swap works because validator.js is TypeScript's CommonJS output, which reads
 * `json_schema_errors_1.jsonSchemaErrors` from the module's exports object at each call; it is undone
 * before validateAsl returns (everything here is synchronous, so no other caller sees it).
 * tests/asl-validate.test.ts checks that the fast path is taken and that verdicts and errors equal
 * asl-validator's on a corpus of valid and invalid definitions.
 */
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { registerAll } from "asl-path-validator";
import aslValidator from "asl-validator";
import { isArnFormatValid } from "asl-validator/dist/src/checks/formats";
// A require, not `import * as`: the module's own exports object, the one validator.js reads (a namespace
// import would be a copy under esbuild's bundle of the pack, and read-only in TypeScript).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import schemaErrors = require("asl-validator/dist/src/checks/json-schema-errors");
import baseStateMachine from "asl-validator/dist/src/schemas/base-state-machine.json";
import choice from "asl-validator/dist/src/schemas/choice.json";
import common from "asl-validator/dist/src/schemas/common.json";
import errors from "asl-validator/dist/src/schemas/errors.json";
import fail from "asl-validator/dist/src/schemas/fail.json";
import jsonataSchema from "asl-validator/dist/src/schemas/jsonata.json";
import map from "asl-validator/dist/src/schemas/map.json";
import parallel from "asl-validator/dist/src/schemas/parallel.json";
import pass from "asl-validator/dist/src/schemas/pass.json";
import paths from "asl-validator/dist/src/schemas/paths.json";
import stateMachine from "asl-validator/dist/src/schemas/state-machine.json";
import state from "asl-validator/dist/src/schemas/state.json";
import succeed from "asl-validator/dist/src/schemas/succeed.json";
import task from "asl-validator/dist/src/schemas/task.json";
import wait from "asl-validator/dist/src/schemas/wait.json";
import jsonata from "jsonata";

/** asl-validator's result: `isValid`, `errors` (each with "Error code", Message and maybe path). */
export type AslValidation = ReturnType<typeof aslValidator>;
/** asl-validator's options (`checkPaths`, `checkArn`; both on when omitted). */
export type AslValidationOptions = NonNullable<Parameters<typeof aslValidator>[1]>;

/** In the order json-schema-errors.js passes them to Ajv. */
const SCHEMAS = [
    common,
    paths,
    jsonataSchema,
    choice,
    fail,
    parallel,
    pass,
    baseStateMachine,
    stateMachine,
    state,
    succeed,
    task,
    wait,
    map,
    errors,
];
const STATE_MACHINE_SCHEMA = "http://asl-validator.cloud/state-machine.json#";

const originalSchemaErrors = schemaErrors.jsonSchemaErrors;

/** As json-schema-errors.js's formats: the text between `{%` and `%}` (each optional) parses as JSONata. */
function isJsonata(value: string): boolean {
    const trimmed = value.trim();
    try {
        let expression = trimmed.startsWith("{%") ? trimmed.slice(2) : trimmed;
        expression = expression.endsWith("%}") ? expression.slice(0, -2) : expression;
        jsonata(expression);
        return true;
    } catch {
        return false;
    }
}

function maybeJsonata(value: string): boolean {
    const trimmed = value.trim();
    return trimmed.startsWith("{%") || trimmed.endsWith("%}") ? isJsonata(trimmed) : true;
}

const accept = (): boolean => true;

/** The Ajv instance json-schema-errors.js builds for these options, here built once. */
function buildSchemaValidator(options: AslValidationOptions): ValidateFunction {
    const ajv = new Ajv({ schemas: SCHEMAS, allowUnionTypes: true });
    addFormats(ajv);
    ajv.addFormat("jsonata_string", isJsonata);
    ajv.addFormat("maybe_jsonata_string", maybeJsonata);
    if (options.checkPaths) {
        registerAll(ajv);
    } else {
        for (const format of ["asl_path", "asl_ref_path", "asl_payload_template", "asl_result_path"]) {
            ajv.addFormat(format, accept);
        }
    }
    ajv.addFormat("asl_arn", options.checkArn ? isArnFormatValid : accept);
    const validate = ajv.getSchema(STATE_MACHINE_SCHEMA);
    if (validate === undefined) {
        throw new Error(`asl-validator's schemas hold no ${STATE_MACHINE_SCHEMA}`);
    }
    return validate;
}

/** One compiled schema per combination of the options json-schema-errors.js reads (truthiness, as it does). */
const schemaValidators = new Map<string, ValidateFunction>();

function schemaValidator(options: AslValidationOptions): ValidateFunction {
    const key = `${Boolean(options.checkPaths)}/${Boolean(options.checkArn)}`;
    let validate = schemaValidators.get(key);
    if (validate === undefined) {
        validate = buildSchemaValidator(options);
        schemaValidators.set(key, validate);
    }
    return validate;
}

/** How often each path ran, for tests and the bench: `compiled` passes, `fallback` (asl-validator's own). */
export const schemaChecks = { compiled: 0, fallback: 0 };

const fastSchemaErrors: typeof originalSchemaErrors = (definition, options) => {
    if (schemaValidator(options)(definition)) {
        schemaChecks.compiled++;
        return [];
    }
    schemaChecks.fallback++;
    return originalSchemaErrors(definition, options);
};

/**
 * Compiles the schemas for these options now (else the first {@link validateAsl} call does), so that a
 * caller can keep start-up apart from the cost per definition. Returns the milliseconds it took (0 when
 * they were compiled already).
 */
export function compileAslSchemas(options: AslValidationOptions = { checkPaths: true, checkArn: true }): number {
    const start = performance.now();
    schemaValidator(options);
    return performance.now() - start;
}

/**
 * asl-validator's verdict on a definition, the same `isValid` and `errors` as `aslValidator(definition,
 * options)`, with the schemas compiled once per process. Unlike asl-validator it does not mutate the
 * definition (asl-validator adds QueryLanguage to every state): it validates a copy.
 */
/**
 * How deep Parallel branches and Map processors may nest for asl-validator to judge a definition:
 * its time grows about fourfold with every two levels (23 ms at 10 here, 33 s at 22), and past a few
 * hundred it overflows the stack. Deeper definitions are refused with `NESTING_TOO_DEEP` instead.
 */
export const MAX_STATE_NESTING = 10;

/** How deep Parallel branches and Map processors nest in `definition` (0 for none), without recursion. */
export function stateNesting(definition: unknown): number {
    let deepest = 0;
    const pending: Array<[unknown, number]> = [[definition, 0]];
    while (pending.length > 0) {
        const [scope, depth] = pending.pop() as [unknown, number];
        deepest = Math.max(deepest, depth);
        if (depth > MAX_STATE_NESTING) {
            return depth;
        }
        const states = typeof scope === "object" && scope !== null ? (scope as { States?: unknown }).States : undefined;
        if (typeof states !== "object" || states === null) {
            continue;
        }
        for (const state of Object.values(states as Record<string, unknown>)) {
            if (typeof state !== "object" || state === null) {
                continue;
            }
            const { Branches, ItemProcessor, Iterator } = state as Record<string, unknown>;
            for (const inner of [
                ...(Array.isArray(Branches) ? (Branches as unknown[]) : []),
                ItemProcessor,
                Iterator,
            ]) {
                if (typeof inner === "object" && inner !== null) {
                    pending.push([inner, depth + 1]);
                }
            }
        }
    }
    return deepest;
}

export function validateAsl(definition: unknown, options?: AslValidationOptions): AslValidation {
    const nesting = stateNesting(definition);
    if (nesting > MAX_STATE_NESTING) {
        return {
            isValid: false,
            errors: [
                {
                    "Error code": "NESTING_TOO_DEEP",
                    Message: `Parallel branches and Map processors nest more than ${MAX_STATE_NESTING} levels deep, more than this validator judges in bounded time`,
                },
            ],
        };
    }
    const copy = structuredClone(definition);
    schemaErrors.jsonSchemaErrors = fastSchemaErrors;
    try {
        return aslValidator(copy, options);
    } finally {
        schemaErrors.jsonSchemaErrors = originalSchemaErrors;
    }
}
