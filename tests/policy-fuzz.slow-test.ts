/**
 * No policy of the pack throws, whatever a program gives it: documents with nulls, wrong types and
 * missing parts, resources with properties of the wrong shape, deployed and in preview. A malformed
 * document is a violation ("... not valid ..."), never an exception: the engine would turn an
 * exception into a failed preview with a stack trace instead of a finding. The pack's policies are
 * guarded (policies.ts); the guard's own violation (POLICY_FAILURE) must never appear here either.
 */
import { strict as assert } from "node:assert";
import { guarded, policies, POLICY_FAILURE } from "../policy/policies";
import type { ProgramRun, Registration } from "../policy/record";
import { runPolicies } from "../policy/runner";
import { callbackStack } from "./fixtures/policy-stacks";
import { runProgram } from "../local/pulumi-program";

/** Values of the wrong shape for any property. */
const WRONG: readonly unknown[] = [null, -1, "x", true, [null], { a: null }, "{"];

/** Malformed IAM policy documents, as strings and as objects. */
const DOCUMENTS: readonly unknown[] = [
    { Statement: [null] },
    { Statement: null },
    { Statement: "x" },
    { Statement: [1, "a"] },
    { Statement: [{}] },
    { Statement: [{ Effect: "Allow" }] },
    { Statement: [{ Effect: "Allow", Action: 5, Resource: "*" }] },
    { Statement: [{ Effect: "Allow", Action: [null], Resource: [null] }] },
    { Statement: [{ Effect: "Allow", Action: "states:*", Resource: { a: 1 } }] },
    { Statement: [{ Effect: "Allow", Action: "states:SendTaskSuccess", Resource: "*", Condition: null }] },
    { Statement: [{ Effect: "Allow", Action: "states:*", Resource: "*", Condition: "x" }] },
    { Statement: [{ Effect: "Allow", Action: "sqs:*", Resource: "*", Condition: { Bool: null } }] },
    {
        Statement: [
            { Effect: "Deny", Principal: null, Action: "sqs:*", Condition: { Bool: { "aws:SecureTransport": null } } },
        ],
    },
    { Statement: [{ Effect: "Deny", Principal: { AWS: null }, NotAction: 3 }] },
    { Statement: [{ Effect: 7, NotResource: [{}] }] },
];

/** Malformed state machine definitions. */
const DEFINITIONS: readonly unknown[] = [
    { States: null },
    { StartAt: "A", States: { A: null } },
    { StartAt: "A", States: { A: "x" } },
    { StartAt: "A", States: [] },
    { StartAt: "A", States: { A: { Type: "Parallel", Branches: [null], End: true } } },
    { StartAt: "A", States: { A: { Type: "Parallel", Branches: null, End: true } } },
    { StartAt: "A", States: { A: { Type: "Parallel", Branches: [{ States: null }], End: true } } },
    { StartAt: "A", States: { A: { Type: "Map", ItemProcessor: null, End: true } } },
    { StartAt: "A", States: { A: { Type: "Map", ItemProcessor: { States: null }, End: true } } },
    { StartAt: "A", States: { A: { Type: "Map", ItemProcessor: { ProcessorConfig: null, States: {} } } } },
    { StartAt: "A", States: { A: { Type: "Map", Iterator: [1], End: true } } },
    { StartAt: "A", States: { A: { Type: "Task", Resource: null, End: true } } },
    {
        StartAt: "A",
        States: {
            A: {
                Type: "Task",
                Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                TimeoutSeconds: "x",
                HeartbeatSeconds: {},
            },
        },
    },
    { StartAt: 5, States: { A: { Type: 5 } } },
];

/** JSON documents other properties carry (redrive policies and the like). */
const JSON_PROPS: readonly unknown[] = [
    { deadLetterTargetArn: null, maxReceiveCount: {} },
    { deadLetterTargetArn: 5 },
    [1],
];

function withProps(
    run: ProgramRun,
    index: number,
    change: (props: Record<string, unknown>) => Record<string, unknown>,
): ProgramRun {
    const resources = run.resources.map((r, i): Registration =>
        i === index ? { ...r, inputs: change({ ...r.inputs }), outputs: change({ ...r.outputs }) } : r,
    );
    return { ...run, resources };
}

/**
 * Every mutation of a run: each property of one resource of each type replaced by wrong values and
 * malformed documents (the policies read every resource of a type alike).
 */
function* mutations(run: ProgramRun): Generator<[string, ProgramRun]> {
    const types = new Set<string>();
    for (const [index, resource] of run.resources.entries()) {
        if (!resource.custom || types.has(resource.type)) {
            continue;
        }
        types.add(resource.type);
        for (const key of Object.keys(resource.inputs)) {
            const values: unknown[] = [...WRONG];
            if (/polic/i.test(key)) {
                values.push(...DOCUMENTS, ...DOCUMENTS.map((d) => JSON.stringify(d)), ...JSON_PROPS);
                values.push(...JSON_PROPS.map((d) => JSON.stringify(d)));
            }
            if (key === "definition") {
                values.push(...DEFINITIONS.map((d) => JSON.stringify(d)), ...DEFINITIONS);
            }
            if (key === "inlinePolicies") {
                values.push([null], [{ name: 5, policy: null }], ...DOCUMENTS.map((d) => [{ name: "p", policy: d }]));
            }
            for (const value of values) {
                yield [
                    `${resource.name}.${key} = ${JSON.stringify(value)}`,
                    withProps(run, index, (p) => ({ ...p, [key]: value })),
                ];
            }
            yield [
                `${resource.name}.${key} removed`,
                withProps(run, index, (p) => {
                    const { [key]: _removed, ...rest } = p;
                    return rest;
                }),
            ];
        }
    }
}

describe("policy pack on malformed input (fuzz)", function () {
    this.timeout(120_000);

    for (const preview of [false, true]) {
        it(`must never throw nor fail on malformed properties and documents${preview ? ", in preview" : ""}`, async () => {
            const run = await runProgram(
                () =>
                    void callbackStack({
                        extra: ({ queue }) => void queue,
                    }),
                { preview },
            );
            let count = 0;
            const failures: string[] = [];
            for (const [what, mutated] of mutations(run)) {
                count++;
                let result;
                try {
                    result = await runPolicies(mutated, { policies });
                } catch (error) {
                    failures.push(`${what}: threw ${(error as Error).message}`);
                    continue;
                }
                for (const violation of result.violations.filter((v) => v.message.includes(POLICY_FAILURE))) {
                    failures.push(`${what}: ${violation.message}`);
                }
            }
            assert.deepEqual(failures, []);
            assert.ok(count > 300, `only ${count} mutations`);
        });
    }

    it("would catch a policy that throws", async () => {
        const run = await runProgram(() => void callbackStack());
        const reader = {
            name: "reads-blindly",
            description: "Checks nothing, reading a policy document without looking.",
            enforcementLevel: "advisory",
            validateResource: (args: { props: { policy?: string } }) => {
                if (typeof args.props.policy === "string") {
                    const [first] = (JSON.parse(args.props.policy) as { Statement: unknown[] }).Statement;
                    void (first as { Effect: string }).Effect.length;
                }
            },
        } as const;
        const index = run.resources.findIndex((r) => r.name === "worker-policy");
        const mutated = withProps(run, index, (p) => ({ ...p, policy: JSON.stringify({ Statement: [null] }) }));
        const result = await runPolicies(mutated, { policies: [guarded(reader as never)] });
        assert.match(result.violations[0]?.message ?? "", new RegExp(`^reads-blindly ${POLICY_FAILURE} for`));
    });

    it("must report a malformed document as a violation that says it is not valid", async () => {
        const run = await runProgram(() => void callbackStack());
        const index = run.resources.findIndex((r) => r.name === "worker-policy");
        const mutated = withProps(run, index, (p) => ({ ...p, policy: JSON.stringify({ Statement: [null] }) }));
        const result = await runPolicies(mutated);
        assert.ok(
            result.violations.some(
                (v) =>
                    v.policy === "sendtask-least-privilege" &&
                    /worker-policy.*not a valid policy document/.test(v.message),
            ),
            JSON.stringify(result.violations, null, 2),
        );
    });
});
