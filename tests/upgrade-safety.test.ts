/**
 * Upgrade safety: the URNs each shipped stack registers, compared with the committed expectation. A URN
 * is a resource's identity (type, name, parent chain): a refactor that changes one makes `pulumi up`
 * replace or delete a live resource (a queue with its messages, a log group with its logs). If the
 * change is intended, update tests/expected/ in the same commit (and add `aliases` when renaming), so the
 * review sees it; regenerate with UPDATE_EXPECTED=1 npm test.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../components/bundle";
import { runProgram } from "../local/pulumi-program";
import { stackConfig } from "../local/stack-config";

describe("upgrade safety: the resource set of each shipped stack", function () {
    this.timeout(20_000);

    for (const stack of ["dev", "prod"]) {
        it(`must keep every URN of the ${stack} stack (no replacement or deletion hidden in a refactor)`, async () => {
            const run = await runProgram("build/index.js", { stack, config: stackConfig(stack) });
            const urns = run.resources.map((r) => r.urn).sort();
            const file = path.join(REPO_ROOT, "tests", "expected", `resources-${stack}.json`);
            if (process.env["UPDATE_EXPECTED"] === "1") {
                writeFileSync(file, `${JSON.stringify(urns, null, 2)}\n`);
            }
            const expected = JSON.parse(readFileSync(file, "utf8")) as string[];
            const removed = expected.filter((urn) => !urns.includes(urn));
            const added = urns.filter((urn) => !expected.includes(urn));
            assert.deepEqual(
                { removed, added },
                { removed: [], added: [] },
                `The ${stack} stack's resources changed: removed URNs are deleted (or replaced, with the added ones) by the next pulumi up. If that is intended, run UPDATE_EXPECTED=1 npm test and commit tests/expected/resources-${stack}.json; to rename without replacing, give the resource aliases.`,
            );
        });
    }
});
