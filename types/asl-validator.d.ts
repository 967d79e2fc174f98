// asl-validator 4 ships no type declarations; this is the part of its API the project uses.
declare module "asl-validator" {
    interface AslValidatorError {
        readonly "Error code": string;
        readonly Message: string;
        readonly path?: string;
    }
    interface AslValidatorOptions {
        readonly checkPaths?: boolean;
        readonly checkArn?: boolean;
    }
    /** Validates a state machine definition. Mutates it (adds QueryLanguage): pass a copy. */
    function validator(
        definition: unknown,
        options?: AslValidatorOptions,
    ): { isValid: boolean; errors: AslValidatorError[] };
    export = validator;
}

// The modules of asl-validator 4.0.0 (dist/) that components/asl-validate.ts reuses to compile its
// JSON schemas once per process. CommonJS: each `exports` object is the one validator.js reads.
declare module "asl-validator/dist/src/checks/json-schema-errors" {
    import type validator from "asl-validator";
    type Validator = typeof validator;
    /** validator.js reads `exports.jsonSchemaErrors` at each call (TypeScript's `(0, m.f)()` emit). */
    let jsonSchemaErrors: (
        definition: unknown,
        options: NonNullable<Parameters<Validator>[1]>,
    ) => ReturnType<Validator>["errors"];
}
declare module "asl-validator/dist/src/checks/formats" {
    function isArnFormatValid(value: string): boolean;
}
declare module "asl-validator/dist/src/schemas/*.json" {
    const schema: { readonly $id: string } & Record<string, unknown>;
    export default schema;
}
