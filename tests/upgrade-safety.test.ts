/**
 * Upgrade safety: the URNs each shipped stack registers, compared with the committed expectation. A URN
 * is a resource's identity (type, name, parent chain): a refactor that changes one makes `pulumi up`
 * replace or delete a live resource (a queue with its messages, a log group with its logs), unless the
 * resource carries the old URN as an alias. If the change is intended, update tests/expected/ in the same
 * commit, so the review sees it; regenerate with UPDATE_EXPECTED=1 npm test.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { REPO_ROOT } from "../components/bundle";
import { CallbackWorkflow } from "../components/callback-workflow";
import { readStackConfig } from "../components/config";
import { runProgram, type ProgramRun } from "../local/pulumi-program";
import { stackConfig } from "../local/stack-config";

interface ResourceSetChange {
    /** Committed URNs no resource has any more, not even as an alias: the next `pulumi up` deletes them. */
    readonly removed: string[];
    /** Resources under a URN not committed and carrying no committed URN as an alias: new resources. */
    readonly added: string[];
    /** Committed URNs a resource now answers to through an alias: moved in place, nothing replaced. */
    readonly renamed: string[];
}

function expectedUrns(stack: string): string[] {
    return JSON.parse(
        readFileSync(path.join(REPO_ROOT, "tests", "expected", `resources-${stack}.json`), "utf8"),
    ) as string[];
}

function compare(expected: readonly string[], run: ProgramRun): ResourceSetChange {
    const current = new Set(run.resources.map((r) => r.urn));
    const aliased = new Set(run.resources.flatMap((r) => r.aliases));
    const gone = expected.filter((urn) => !current.has(urn));
    return {
        removed: gone.filter((urn) => !aliased.has(urn)),
        renamed: gone.filter((urn) => aliased.has(urn)),
        added: run.resources
            .filter((r) => !expected.includes(r.urn) && !r.aliases.some((alias) => expected.includes(alias)))
            .map((r) => r.urn),
    };
}

/** The shipped program with its workflow renamed, with or without telling Pulumi the old name. */
const renamedProgram = (opts: pulumi.ComponentResourceOptions) => () => {
    new CallbackWorkflow("approvals", readStackConfig(), opts);
};

describe("upgrade safety: the resource set of each shipped stack", function () {
    this.timeout(20_000);

    for (const stack of ["dev", "prod"]) {
        it(`must keep every URN of the ${stack} stack (no replacement or deletion hidden in a refactor)`, async () => {
            const run = await runProgram("build/index.js", { stack, config: stackConfig(stack) });
            if (process.env["UPDATE_EXPECTED"] === "1") {
                const urns = run.resources.map((r) => r.urn).sort();
                writeFileSync(
                    path.join(REPO_ROOT, "tests", "expected", `resources-${stack}.json`),
                    `${JSON.stringify(urns, null, 2)}\n`,
                );
            }
            const { removed, added } = compare(expectedUrns(stack), run);
            assert.deepEqual(
                { removed, added },
                { removed: [], added: [] },
                `The ${stack} stack's resources changed: removed URNs are deleted (or replaced, with the added ones) by the next pulumi up. If that is intended, run UPDATE_EXPECTED=1 npm test and commit tests/expected/resources-${stack}.json; to rename without replacing, give the resource (or the component) aliases.`,
            );
        });
    }

    it("must see a renamed workflow with an alias as moved: its children follow the component's old name", async () => {
        const expected = expectedUrns("dev");
        const run = await runProgram(renamedProgram({ aliases: [{ name: "callback" }] }), {
            stack: "dev",
            config: stackConfig("dev"),
        });
        assert.ok(run.resources.every((r) => r.name.startsWith("approvals")));
        assert.deepEqual(compare(expected, run), { removed: [], added: [], renamed: expected });
    });

    it("must report a renamed workflow without an alias as every resource deleted and created anew", async () => {
        const expected = expectedUrns("dev");
        const run = await runProgram(renamedProgram({}), { stack: "dev", config: stackConfig("dev") });
        const change = compare(expected, run);
        assert.deepEqual(change.removed, expected);
        assert.equal(change.added.length, expected.length);
        assert.deepEqual(change.renamed, []);
    });
});
