/**
 * The policy pack on a corpus of other teams' programs (GitHub issue 13, tests/fixtures/corpus/): each
 * correct program gets exactly its expected violations, deployed and in preview alike, and none from a
 * mandatory policy; each seeded defect is reported by the policy named for it, deployed and in preview
 * (or, when it cannot be decided before the resources exist, left undecided by that policy), with no
 * other mandatory policy reporting. Nothing may throw.
 *
 * Alone: `npx mocha --no-config --no-parallel --enable-source-maps build/tests/policy-corpus.slow-test.js`
 * (without --no-config, .mocharc.json's spec adds every other test file to the one named).
 */
import { strict as assert } from "node:assert";
import { policies } from "../policy/policies";
import { recordProgram } from "../policy/record";
import { runPolicies, type Finding, type PolicyRun } from "../policy/runner";
import { withoutStackTraces } from "../local/pulumi-program";
import { CORPUS, CORPUS_CONFIG, type Verdict } from "./fixtures/corpus";

const MANDATORY = new Set(policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name));
const POLICY_NAMES = new Set(policies.map((p) => p.name));

/** The logical name a URN ends with. */
function nameOf(urn: string | undefined): string | undefined {
    return urn === undefined ? undefined : urn.slice(urn.lastIndexOf("::") + 2);
}

function verdictOf(finding: Finding): Verdict {
    return { policy: finding.policy, resource: nameOf(finding.urn) };
}

function sorted(verdicts: readonly Verdict[]): Verdict[] {
    const key = (v: Verdict) => `${v.policy} ${v.resource ?? ""}`;
    return [...verdicts].sort((a, b) => key(a).localeCompare(key(b)));
}

function show(findings: readonly Finding[]): string {
    return findings.map((f) => `\n  ${f.policy} on ${nameOf(f.urn) ?? "the stack"}: ${f.message}`).join("");
}

/**
 * Records `program` and runs the pack over it, without stack traces: the Pulumi SDK captures one for
 * every promise and resource it makes (runtime/debuggable.js, Resource.callsites) and the policy proxies
 * one for every unknown value read in preview, which costs most of a run. When something throws, the
 * run is repeated with stack traces, so the test fails with what threw and where.
 */
async function judge(program: () => unknown, preview: boolean): Promise<PolicyRun> {
    const run = async () =>
        runPolicies(await recordProgram(program, { project: "corpus", stack: "test", preview }), {
            config: CORPUS_CONFIG,
        });
    try {
        return await withoutStackTraces(run);
    } catch {
        let result: PolicyRun | undefined;
        await assert.doesNotReject(async () => {
            result = await run();
        });
        return result as PolicyRun;
    }
}

const MODES = [
    ["deployed", false],
    ["preview", true],
] as const;

describe("policy pack on the corpus of other teams' programs", function () {
    this.timeout(20_000);

    it("has at least 14 programs, each with a seeded defect a mandatory policy catches", () => {
        assert.ok(CORPUS.length >= 14, `${CORPUS.length} programs`);
        assert.equal(new Set(CORPUS.map((p) => p.id)).size, CORPUS.length, "program ids are unique");
        for (const entry of CORPUS) {
            for (const verdict of entry.expected) {
                assert.ok(POLICY_NAMES.has(verdict.policy), `${entry.id}: no policy ${verdict.policy}`);
                assert.ok(!MANDATORY.has(verdict.policy), `${entry.id} is a correct program: ${verdict.policy}`);
            }
            assert.ok(
                entry.defects.some((d) => MANDATORY.has(d.policy)),
                `${entry.id} has no defect for a mandatory policy`,
            );
            for (const defect of entry.defects) {
                assert.ok(POLICY_NAMES.has(defect.policy), `${entry.id}: no policy ${defect.policy}`);
                assert.equal(
                    defect.previewUndecidable === true,
                    defect.undecidableBecause !== undefined,
                    `${entry.id} "${defect.what}": previewUndecidable goes with its reason`,
                );
            }
        }
    });

    for (const entry of CORPUS) {
        describe(`${entry.id}: ${entry.about}`, () => {
            for (const [mode, preview] of MODES) {
                it(`${mode}: exactly the expected violations${entry.expected.length === 0 ? " (none)" : ""}`, async () => {
                    const result = await judge(entry.program, preview);
                    assert.deepEqual(
                        sorted(result.violations.map(verdictOf)),
                        sorted(entry.expected),
                        `violations:${show(result.violations)}`,
                    );
                    // Implied by the expected list (checked to hold no mandatory policy), said once more.
                    assert.ok(result.violations.every((v) => v.level !== "mandatory"));
                });
            }

            for (const defect of entry.defects) {
                for (const [mode, preview] of MODES) {
                    const undecidable = preview && defect.previewUndecidable === true;
                    it(`${mode}: ${defect.what} → ${defect.policy}${undecidable ? " undecided (" + (defect.undecidableBecause ?? "") + ")" : ""}`, async () => {
                        const result = await judge(defect.program, preview);
                        const others = result.violations.filter(
                            (v) => v.level === "mandatory" && v.policy !== defect.policy,
                        );
                        assert.deepEqual(others, [], `other mandatory policies report:${show(others)}`);
                        if (undecidable) {
                            assert.ok(
                                result.undecided.some(
                                    (f) =>
                                        f.policy === defect.policy &&
                                        f.message.startsWith(`can't run policy '${defect.policy}' during preview`),
                                ),
                                `${defect.policy} is not undecided in preview; undecided:${show(result.undecided)}; violations:${show(result.violations)}`,
                            );
                            return;
                        }
                        const caught = result.violations.filter(
                            (v) =>
                                v.policy === defect.policy &&
                                (defect.resource === undefined || nameOf(v.urn) === defect.resource),
                        );
                        assert.ok(
                            caught.length > 0,
                            `${defect.policy} does not report it${defect.resource ? ` on ${defect.resource}` : ""}; violations:${show(result.violations)}; undecided:${show(result.undecided)}`,
                        );
                    });
                }
            }
        });
    }
});
