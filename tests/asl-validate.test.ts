/**
 * components/asl-validate.ts gives asl-validator's verdicts word for word: the published validator and the
 * compiled-once one run over the same definitions and must return the same `isValid` and `errors`, or
 * throw the same error. Here the valid definitions and the first hand-written defects; the whole
 * corpus (every hand-written defect, one-defect mutations of every state, the options) is the slow test
 * tests/asl-validate.slow-test.ts, run by `npm run test:package`, since the published validator takes
 * tens of milliseconds a call. The bench (bench/policy.ts) measures the speed.
 */
import { strict as assert } from "node:assert";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the exports object validator.js reads
import schemaErrorsModule = require("asl-validator/dist/src/checks/json-schema-errors");
import { schemaChecks, validateAsl } from "../components/asl-validate";
import { assertSame, HANDWRITTEN, jsonataMachine, jsonPathMachine, rendered } from "./fixtures/asl-cases";

describe("validateAsl (asl-validator, schemas compiled once)", function () {
    this.timeout(60_000);

    const valid: [string, unknown][] = [
        ...rendered(),
        ["JSONPath, every state type", jsonPathMachine()],
        ["JSONata, every state type", jsonataMachine()],
    ];

    it("must accept the valid definitions through the compiled schemas, as asl-validator does", () => {
        for (const [name, definition] of valid) {
            const compiled = schemaChecks.compiled;
            const result = assertSame(definition);
            assert.deepEqual("isValid" in result && result.errors, [], name);
            assert.equal(schemaChecks.compiled, compiled + 1, `${name}: the compiled schemas decided`);
        }
    });

    it("must give asl-validator's verdict and errors on the first hand-written defects", () => {
        for (const [name, definition] of HANDWRITTEN.slice(0, 10)) {
            try {
                assertSame(definition);
            } catch (error) {
                throw new Error(`${name}: ${String(error)}`, { cause: error });
            }
        }
    });

    it("must leave asl-validator itself as published, during and after a call that throws", () => {
        const original = schemaErrorsModule.jsonSchemaErrors;
        assert.throws(() => validateAsl(null));
        validateAsl(jsonPathMachine());
        assert.equal(schemaErrorsModule.jsonSchemaErrors, original);
    });
});
