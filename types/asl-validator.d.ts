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
