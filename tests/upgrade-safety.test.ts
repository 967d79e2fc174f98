/**
 * Upgrade safety: the URNs each shipped stack registers, compared with the committed expectation. A URN
 * is a resource's identity (type, name, parent chain): a refactor that changes one makes `pulumi up`
 * replace or delete a live resource (a queue with its messages, a log group with its logs), unless the
 * resource carries the old URN as an alias. If the change is intended, update tests/expected/ in the same
 * commit, so the review sees it; regenerate with UPDATE_EXPECTED=1 npm test.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { REPO_ROOT } from "../components/bundle";
import { CallbackWorkflow } from "../components/callback-workflow";
import { readStackConfig } from "../components/config";
import { runProgram, type ProgramRun } from "../local/pulumi-program";
import { stackConfig } from "../local/stack-config";
import { onDay } from "./fixtures/today";

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

/**
 * Inputs whose change makes the AWS provider replace the resource (delete and create anew) instead of
 * updating it in place, per type, from the provider's documentation on the Pulumi Registry
 * (https://www.pulumi.com/registry/packages/aws/api-docs/, "forces a new resource"). A type the component
 * creates must be listed, so a new type is classified before it ships.
 */
const REPLACED_ON_CHANGE: Readonly<Record<string, readonly string[]>> = {
    "aws:sqs/queue:Queue": ["name", "namePrefix", "fifoQueue"],
    "aws:sqs/queuePolicy:QueuePolicy": ["queueUrl"],
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": ["queueUrl"],
    "aws:sns/topic:Topic": ["name", "namePrefix", "fifoTopic"],
    "aws:sns/topicPolicy:TopicPolicy": ["arn"],
    "aws:sns/topicSubscription:TopicSubscription": ["topic", "protocol", "endpoint"],
    "aws:cloudwatch/logGroup:LogGroup": ["name", "namePrefix"],
    "aws:cloudwatch/metricAlarm:MetricAlarm": ["name"],
    "aws:iam/role:Role": ["name", "namePrefix", "path"],
    "aws:iam/rolePolicy:RolePolicy": ["name", "namePrefix", "role"],
    "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"],
    "aws:lambda/function:Function": ["name", "packageType"],
    "aws:lambda/eventSourceMapping:EventSourceMapping": ["eventSourceArn", "startingPosition", "queues", "topics"],
    "aws:sfn/stateMachine:StateMachine": ["name", "namePrefix", "type"],
};

/** Each resource's replacing inputs, by URN. */
function replacingInputs(run: ProgramRun): Record<string, Record<string, unknown>> {
    const found: Record<string, Record<string, unknown>> = {};
    for (const r of run.resources.filter((x) => x.custom)) {
        const keys = REPLACED_ON_CHANGE[r.type];
        assert.ok(keys, `${r.type} is not classified in REPLACED_ON_CHANGE: which of its inputs force a replacement?`);
        found[r.urn] = Object.fromEntries(keys.filter((k) => r.inputs[k] !== undefined).map((k) => [k, r.inputs[k]]));
    }
    return found;
}

function expectedReplacingInputs(stack: string): Record<string, Record<string, unknown>> {
    return JSON.parse(
        readFileSync(path.join(REPO_ROOT, "tests", "expected", `replacing-inputs-${stack}.json`), "utf8"),
    ) as Record<string, Record<string, unknown>>;
}

/** A resource as the 0.1.0 release registered it: URN, type and scalar inputs (tests/expected/0.1.0/). */
interface ReleasedRegistration {
    readonly urn: string;
    readonly type: string;
    readonly inputs: Readonly<Record<string, unknown>>;
}

/**
 * What the current program registers that 0.1.0 did not: the two components the resources moved into
 * and the worker's grant to answer the workflow (a statement of the worker's policy before); in prod
 * the queue-age alarm and the state machine's own key policy, added after the 0.1.0 release (tag
 * v0.1.0, commit 9620d20, whose tree recorded tests/expected/0.1.0/) by the timing and encryption work
 * (CHANGELOG, "Added").
 */
const ADDED_SINCE_0_1_0 = {
    all: [
        "callback:index:CallbackWorkflow$callback:index:CallbackChannel::callback",
        "callback:index:CallbackWorkflow$callback:index:Workflow::callback",
        "callback:index:CallbackWorkflow$callback:index:Workflow$aws:iam/rolePolicy:RolePolicy::callback-answer",
    ],
    prod: [
        "callback:index:CallbackWorkflow$callback:index:CallbackChannel$aws:cloudwatch/metricAlarm:MetricAlarm::callback-queue-oldest-message",
        "callback:index:CallbackWorkflow$callback:index:Workflow$aws:iam/rolePolicy:RolePolicy::callback-sfn-key-policy",
    ],
};

/**
 * The registrations of a release, recorded from its own tree (its stacks, its program) with
 * `RECORD_RELEASE=<version> npm test` when it was cut; 0.1.0's were recorded from its tag's tree by the
 * same function.
 */
function released(version: string, stack: string): ReleasedRegistration[] {
    return JSON.parse(
        readFileSync(path.join(REPO_ROOT, "tests", "expected", version, `registrations-${stack}.json`), "utf8"),
    ) as ReleasedRegistration[];
}

/** What a release records of a run: every resource's URN, type and scalar inputs, in URN order. */
function registrations(run: ProgramRun): ReleasedRegistration[] {
    return run.resources
        .map((r) => ({
            urn: r.urn,
            type: r.type,
            inputs: Object.fromEntries(
                Object.entries(r.inputs)
                    .filter(([, v]) => ["string", "number", "boolean"].includes(typeof v))
                    .sort(([a], [b]) => a.localeCompare(b)),
            ),
        }))
        .sort((a, b) => a.urn.localeCompare(b.urn));
}

/**
 * Each released resource's fate in the current program: kept under its URN, moved (a current resource
 * carries its URN as an alias: Pulumi updates it in place), or gone (deleted by the next `pulumi up`);
 * and for those that stay, every input that forces a replacement compared.
 */
function upgradeFrom(before: readonly ReleasedRegistration[], run: ProgramRun) {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const byAlias = new Map<string, typeof run.resources>();
    for (const r of run.resources) {
        for (const alias of r.aliases) {
            byAlias.set(alias, [...(byAlias.get(alias) ?? []), r]);
        }
    }
    const gone: string[] = [];
    const ambiguous: string[] = [];
    const replaced: { urn: string; key: string; was: unknown; now: unknown }[] = [];
    for (const old of before) {
        const candidates = byUrn.has(old.urn) ? [byUrn.get(old.urn)] : (byAlias.get(old.urn) ?? []);
        const [now, ...more] = candidates;
        if (now === undefined) {
            gone.push(old.urn);
            continue;
        }
        if (more.length > 0) {
            ambiguous.push(old.urn);
        }
        assert.equal(now.type, old.type, `${old.urn} is now a ${now.type}: a new type is a new resource`);
        for (const key of REPLACED_ON_CHANGE[old.type] ?? []) {
            if (JSON.stringify(old.inputs[key]) !== JSON.stringify(now.inputs[key])) {
                replaced.push({ urn: old.urn, key, was: old.inputs[key], now: now.inputs[key] });
            }
        }
    }
    const claimed = new Set(before.map((r) => r.urn));
    const added = run.resources
        .filter((r) => !claimed.has(r.urn) && !r.aliases.some((alias) => claimed.has(alias)))
        .map((r) => r.urn);
    return { gone, ambiguous, replaced, added };
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

    for (const stack of ["dev", "prod"]) {
        it(`must keep every input of the ${stack} stack that would replace its resource`, async () => {
            const run = await runProgram("build/index.js", { stack, config: stackConfig(stack) });
            const current = replacingInputs(run);
            if (process.env["UPDATE_EXPECTED"] === "1") {
                const sorted = Object.fromEntries(Object.entries(current).sort(([a], [b]) => a.localeCompare(b)));
                writeFileSync(
                    path.join(REPO_ROOT, "tests", "expected", `replacing-inputs-${stack}.json`),
                    `${JSON.stringify(sorted, null, 2)}\n`,
                );
            }
            const expected = expectedReplacingInputs(stack);
            const changed = Object.keys(expected).filter(
                (urn) => urn in current && JSON.stringify(current[urn]) !== JSON.stringify(expected[urn]),
            );
            assert.deepEqual(
                changed.map((urn) => ({ urn, was: expected[urn], now: current[urn] })),
                [],
                `A change to these inputs replaces the resource on the next pulumi up. If that is intended, run UPDATE_EXPECTED=1 npm test and commit tests/expected/replacing-inputs-${stack}.json.`,
            );
        });
    }

    // At a release, RECORD_RELEASE=<version> npm test records its registrations, the next release's baseline.
    const recording = process.env["RECORD_RELEASE"];
    if (recording !== undefined) {
        it(`records the registrations of release ${recording}`, async () => {
            assert.match(recording, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "RECORD_RELEASE is a version");
            const dir = path.join(REPO_ROOT, "tests", "expected", recording);
            mkdirSync(dir, { recursive: true });
            for (const stack of ["dev", "prod"]) {
                const run = await runProgram("build/index.js", { stack, config: stackConfig(stack) });
                writeFileSync(
                    path.join(dir, `registrations-${stack}.json`),
                    `${JSON.stringify(registrations(run), null, 2)}\n`,
                );
            }
        });
    }

    for (const stack of ["dev", "prod"]) {
        it(`must upgrade the ${stack} stack of release 0.1.0 in place: every resource kept or moved, none replaced`, async () => {
            const run = await runProgram("build/index.js", { stack, config: stackConfig(stack) });
            const before = released("0.1.0", stack);
            assert.ok(before.length >= 16, "the 0.1.0 registrations are there");
            const { gone, ambiguous, replaced, added } = upgradeFrom(before, run);
            assert.deepEqual({ gone, ambiguous, replaced }, { gone: [], ambiguous: [], replaced: [] });
            // What 0.2.0 adds: the two components the resources moved into, and the worker's grant to
            // answer the workflow (it was a statement of the worker's policy).
            assert.deepEqual(
                added.map((urn) => urn.split("::").slice(2).join("::")).sort(),
                [...ADDED_SINCE_0_1_0.all, ...(stack === "prod" ? ADDED_SINCE_0_1_0.prod : [])].sort(),
            );
        });
    }

    it("must see a broken alias as a resource gone from 0.1.0 (the upgrade check is really checking)", async () => {
        const run = await runProgram("build/index.js", { stack: "dev", config: stackConfig("dev") });
        const queue = run.resources.find((r) => r.name === "callback-queue");
        assert.ok(queue && queue.aliases.length > 0);
        const broken = { ...run, resources: run.resources.map((r) => (r === queue ? { ...r, aliases: [] } : r)) };
        const change = upgradeFrom(released("0.1.0", "dev"), broken);
        assert.deepEqual(change.gone, [
            "urn:pulumi:dev::callback-workflow::callback:index:CallbackWorkflow$aws:sqs/queue:Queue::callback-queue",
        ]);
        const renamedPrefix = {
            ...run,
            resources: run.resources.map((r) =>
                r.name === "callback-worker-logs" ? { ...r, inputs: { ...r.inputs, namePrefix: "/aws/lambda/x-" } } : r,
            ),
        };
        assert.deepEqual(
            upgradeFrom(released("0.1.0", "dev"), renamedPrefix).replaced.map((r) => r.key),
            ["namePrefix"],
        );
    });

    it("must update the worker in place when the default runtime changes (nodejs22.x to nodejs24.x)", async () => {
        const older = await onDay("2026-12-01", () =>
            runProgram("build/index.js", {
                stack: "dev",
                config: { ...stackConfig("dev"), "callback-workflow:runtime": "nodejs22.x" },
            }),
        );
        const newer = await runProgram("build/index.js", { stack: "dev", config: stackConfig("dev") });
        assert.deepEqual(replacingInputs(newer), replacingInputs(older), "no input that forces a replacement changes");
        assert.deepEqual(
            newer.resources.map((r) => r.urn),
            older.resources.map((r) => r.urn),
        );
        const runtime = (run: ProgramRun): unknown =>
            run.resources.find((r) => r.type === "aws:lambda/function:Function")?.inputs["runtime"];
        assert.deepEqual([runtime(older), runtime(newer)], ["nodejs22.x", "nodejs24.x"]);
    });

    it("must see a renamed workflow with an alias as moved: its children follow the component's old name", async () => {
        const expected = expectedUrns("dev");
        const run = await runProgram(renamedProgram({ aliases: [{ name: "callback" }] }), {
            stack: "dev",
            config: stackConfig("dev"),
        });
        assert.ok(run.resources.every((r) => r.name.startsWith("approvals")));
        assert.deepEqual(compare(expected, run), { removed: [], added: [], renamed: expected });
        // But the log groups' names start with the workflow's: those two are replaced, their logs lost
        // (README, "Upgrade safety"). Inputs that hold other resources' IDs keep them under an alias.
        const before = expectedReplacingInputs("dev");
        const after = replacingInputs(run);
        const nameChanges = run.resources.flatMap((r) => {
            const old = r.aliases.find((alias) => alias in before);
            const was = old === undefined ? undefined : before[old];
            const now = after[r.urn];
            return was && now && (was["name"] !== now["name"] || was["namePrefix"] !== now["namePrefix"])
                ? [
                      `${r.name}: ${String(was["namePrefix"] ?? was["name"])} → ${String(now["namePrefix"] ?? now["name"])}`,
                  ]
                : [];
        });
        assert.deepEqual(nameChanges.sort(), [
            "approvals-sfn-logs: /aws/vendedlogs/states/callback- → /aws/vendedlogs/states/approvals-",
            "approvals-worker-logs: /aws/lambda/callback-worker- → /aws/lambda/approvals-worker-",
        ]);
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
