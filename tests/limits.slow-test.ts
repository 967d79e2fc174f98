/**
 * One source for every shared range (components/limits.ts): nothing the program accepts is refused by
 * the worker it deploys or by the policy pack's mandatory policies. Walks the edges of every range of the
 * component's arguments (and every value of every choice), renders each accepted configuration under the
 * mocked runtime, reads the worker's environment with the worker's own settings reader, and runs the
 * pack over the rendering with its default configuration.
 */
import { strict as assert } from "node:assert";
import { CallbackWorkflow } from "../components/callback-workflow";
import {
    AWS_LIMITS,
    GUARDRAILS,
    runtimeSupported,
    supportedRuntimes,
    timingProblems,
    workerHeartbeatInterval,
    workerRuntimes,
    WORKER_LIMITS,
} from "../components/limits";
import {
    argProblems,
    BOOLEAN_ARGS,
    ENUM_ARGS,
    INTEGER_ARGS,
    LOG_RETENTION_DAYS,
    resolveArgs,
    type CallbackWorkflowArgs,
} from "../components/settings";
import { parseStackConfig } from "../components/config";
import { readWorkerSettings } from "../handlers/callback/config";
import { stackConfig } from "../local/stack-config";
import { runProgram, type ProgramRun } from "../local/pulumi-program";
import { policies } from "../policy/policies";
import { runPolicies } from "../policy/runner";
import { onDay } from "./fixtures/today";

const TODAY = new Date("2026-12-01T00:00:00Z");

/**
 * Companion settings that let an edge value satisfy the cross-field rules (a heartbeat below the task
 * timeout, a DLQ that outlives its queue, a batching window for big batches), tried in order.
 */
const COMPANIONS: readonly CallbackWorkflowArgs[] = [
    {},
    { taskTimeoutSeconds: INTEGER_ARGS.taskTimeoutSeconds.max },
    { queueRetentionSeconds: INTEGER_ARGS.queueRetentionSeconds.min },
    { dlqRetentionSeconds: INTEGER_ARGS.dlqRetentionSeconds.max },
    { batchingWindowSeconds: 1, taskTimeoutSeconds: INTEGER_ARGS.taskTimeoutSeconds.max },
    // The floors of the timing relations: the quickest worker, the fewest receives.
    {
        workerTimeoutSeconds: INTEGER_ARGS.workerTimeoutSeconds.min,
        maxReceiveCount: INTEGER_ARGS.maxReceiveCount.min,
        taskTimeoutSeconds: INTEGER_ARGS.taskTimeoutSeconds.max,
    },
    { workerTimeoutSeconds: INTEGER_ARGS.workerTimeoutSeconds.min, maxReceiveCount: INTEGER_ARGS.maxReceiveCount.min },
];

/** Every edge: each integer argument at its minimum and maximum, each choice and boolean at every value. */
function edges(): Array<{ what: string; args: CallbackWorkflowArgs }> {
    const found: Array<{ what: string; args: CallbackWorkflowArgs }> = [];
    const accept = (what: string, edge: CallbackWorkflowArgs): void => {
        const args = COMPANIONS.map((companion) => ({ ...companion, ...edge })).find(
            (candidate) => argProblems(candidate, TODAY).length === 0,
        );
        assert.ok(args, `no valid configuration has ${what}: ${JSON.stringify(argProblems(edge, TODAY))}`);
        found.push({ what, args });
    };
    for (const [key, spec] of Object.entries(INTEGER_ARGS)) {
        const values =
            key === "logRetentionDays"
                ? [LOG_RETENTION_DAYS[0], LOG_RETENTION_DAYS[LOG_RETENTION_DAYS.length - 1]]
                : [spec.min, spec.max];
        for (const value of values) {
            accept(`${key} ${value}`, { [key]: value });
        }
    }
    for (const [key, spec] of Object.entries(ENUM_ARGS)) {
        const allowed = key === "runtime" ? workerRuntimes(TODAY) : spec.allowed;
        for (const value of allowed) {
            accept(`${key} ${value}`, { [key]: value });
        }
    }
    for (const key of Object.keys(BOOLEAN_ARGS)) {
        for (const value of [true, false]) {
            accept(`${key} ${String(value)}`, { [key]: value });
        }
    }
    accept("kmsKey create", { kmsKey: "create" });
    return found;
}

describe("one source for every shared range", function () {
    this.timeout(120_000);

    it("must be refused by the program just outside every range", () => {
        for (const [key, spec] of Object.entries(INTEGER_ARGS)) {
            for (const value of [spec.min - 1, spec.max + 1]) {
                for (const companion of COMPANIONS) {
                    assert.ok(
                        argProblems({ ...companion, [key]: value }, TODAY).some((p) => p.key === key),
                        `${key} ${value} is refused`,
                    );
                }
            }
        }
    });

    it("must hold the shipped stacks to the timing relations, with room to spare", () => {
        for (const name of ["dev", "prod"]) {
            const settings = resolveArgs(parseStackConfig(stackConfig(name)).args);
            assert.deepEqual(timingProblems(settings), [], name);
        }
        // The relations bite: a heartbeat inside the longest gap, a timeout shorter than every receive.
        const reasons = timingProblems({
            taskTimeoutSeconds: 700,
            heartbeatSeconds: 180,
            maxReceiveCount: 5,
            workerTimeoutSeconds: 30,
            batchingWindowSeconds: 0,
        });
        assert.deepEqual(
            reasons.map((r) => r.key),
            ["heartbeatSeconds", "taskTimeoutSeconds"],
        );
        assert.match(reasons[0]?.reason ?? "", /210 s in all \(got 180\)/);
        assert.match(reasons[1]?.reason ?? "", /= 930 s \(got 700\)/);
    });

    it("must hold the program to the guardrails the pack enforces by default", () => {
        const pack = (name: string): Record<string, { default?: unknown }> =>
            policies.find((p) => p.name === name)?.configSchema?.properties ?? {};
        const dlq = pack("sqs-queue-has-dlq");
        assert.ok((dlq["minMaxReceiveCount"]?.default as number) <= INTEGER_ARGS.maxReceiveCount.min);
        assert.ok((dlq["maxMaxReceiveCount"]?.default as number) >= INTEGER_ARGS.maxReceiveCount.max);
        assert.ok(
            (pack("sqs-visibility-covers-worker")["multiplier"]?.default as number) <=
                GUARDRAILS.visibilityTimeoutMultiplier,
        );
        assert.ok(INTEGER_ARGS.maxReceiveCount.min >= AWS_LIMITS.sqsMaxReceiveCount.min);
        assert.ok(INTEGER_ARGS.maxReceiveCount.max <= AWS_LIMITS.sqsMaxReceiveCount.max);
    });

    it("must keep every heartbeat interval the program can render within what the worker accepts", () => {
        for (const heartbeat of [
            undefined,
            INTEGER_ARGS.heartbeatSeconds.min,
            2700,
            2703,
            INTEGER_ARGS.heartbeatSeconds.max,
        ]) {
            for (const workerTimeout of [
                INTEGER_ARGS.workerTimeoutSeconds.min,
                30,
                INTEGER_ARGS.workerTimeoutSeconds.max,
            ]) {
                const interval = workerHeartbeatInterval(heartbeat, workerTimeout);
                assert.ok(interval >= WORKER_LIMITS.heartbeatIntervalSeconds.min, String(heartbeat));
                assert.ok(interval <= WORKER_LIMITS.heartbeatIntervalSeconds.max, String(heartbeat));
                if (heartbeat !== undefined) {
                    assert.ok(interval < workerTimeout, "beats within an invocation");
                    assert.ok(interval < heartbeat, "beats within the task's heartbeat timeout");
                }
            }
        }
    });

    it("must judge runtimes by one dated table, the date a parameter", () => {
        assert.ok(runtimeSupported("nodejs22.x", new Date("2027-04-29T00:00:00Z")));
        assert.ok(!runtimeSupported("nodejs22.x", new Date("2027-04-30T00:00:00Z")));
        assert.deepEqual(workerRuntimes(new Date("2027-05-01T00:00:00Z")), ["nodejs24.x"]);
        assert.ok(!supportedRuntimes(TODAY).includes("nodejs20.x"));
        assert.ok(workerRuntimes(TODAY).every((r) => supportedRuntimes(TODAY).includes(r)));
        assert.ok(ENUM_ARGS.runtime.allowed.includes(ENUM_ARGS.runtime.default));
    });

    for (const { what, args } of edges()) {
        it(`must deploy ${what}: the worker accepts its settings, the pack's mandatory policies pass`, async () => {
            const run: ProgramRun = await onDay("2026-12-01", () =>
                runProgram(() => void new CallbackWorkflow("edge", args)),
            );
            const fn = run.resources.find((r) => r.type === "aws:lambda/function:Function");
            const env = (fn?.inputs["environment"] as { variables: Record<string, string> }).variables;
            assert.doesNotThrow(() => readWorkerSettings(env), `the worker refuses ${JSON.stringify(env)}`);
            const result = await runPolicies(run, {
                config: { "lambda-runtime-supported": { asOf: "2026-12-01" } },
            });
            const mandatory = result.violations.filter((v) => v.level === "mandatory");
            assert.deepEqual(
                mandatory.map((v) => `${v.policy}: ${v.message}`),
                [],
            );
        });
    }
});
