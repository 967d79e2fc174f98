/**
 * The whole equality corpus of components/asl-validate.ts against asl-validator as published (see
 * tests/asl-validate.test.ts): every hand-written defect, one-defect mutations of every state of the valid
 * definitions, nested ones too, and asl-validator's options. Slow (the published validator compiles its
 * schemas on each call), so `npm run test:package` runs it, not `npm test`.
 */
import { strict as assert } from "node:assert";
import { assertSame, HANDWRITTEN, jsonPathMachine, mutated, rendered, type Json } from "./fixtures/asl-cases";

describe("validateAsl against asl-validator, the whole corpus", function () {
    this.timeout(600_000);
    const valid: [string, unknown][] = [...rendered(), ["JSONPath, every state type", jsonPathMachine()]];

    it("must give asl-validator's verdict and errors on each hand-written defect", () => {
        const verdicts = HANDWRITTEN.map(([name, definition]) => {
            try {
                return assertSame(definition);
            } catch (error) {
                throw new Error(`${name}: ${String(error)}`, { cause: error });
            }
        });
        // The corpus holds both kinds, and schema failures as well as semantic ones.
        assert.ok(verdicts.some((v) => "isValid" in v && v.isValid));
        assert.ok(verdicts.some((v) => "threw" in v));
        const codes = new Set(
            verdicts.flatMap((v) => ("errors" in v ? v.errors : []).map((e) => (e as Json)["Error code"])),
        );
        for (const code of [
            "SCHEMA_VALIDATION_FAILED",
            "MISSING_TRANSITION_TARGET",
            "MISSING_TERMINAL_STATE",
            "DUPLICATE_STATE_NAMES",
        ]) {
            assert.ok(codes.has(code), `some case gives ${code}`);
        }
    });

    it("must give asl-validator's verdict and errors on one-defect mutations of every state, nested ones too", () => {
        const cases = mutated();
        assert.ok(cases.length > 50, `${cases.length} mutations`);
        let invalid = 0;
        for (const [name, definition] of cases) {
            try {
                const result = assertSame(definition);
                invalid += "isValid" in result && !result.isValid ? 1 : 0;
            } catch (error) {
                throw new Error(`${name}: ${String(error)}`, { cause: error });
            }
        }
        assert.ok(invalid > cases.length / 2, `${invalid} of ${cases.length} refused`);
    });

    it("must follow asl-validator's options (checkPaths or checkArn off)", () => {
        const defects = HANDWRITTEN.filter(([name]) => /path|ARN|intrinsic/i.test(name));
        for (const options of [{ checkPaths: false }, { checkArn: false }]) {
            for (const [name, definition] of [...defects, ...valid.slice(0, 1)]) {
                try {
                    assertSame(definition, options);
                } catch (error) {
                    throw new Error(`${name} with ${JSON.stringify(options)}: ${String(error)}`, { cause: error });
                }
            }
        }
    });
});
