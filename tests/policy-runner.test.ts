/**
 * The offline runner of `callback-workflow/policy` as a consumer calls it: `recordProgram` (the stack,
 * project, configuration and data-source answers it is given; one recording at a time) and
 * `runPolicies` (this pack by default or the policies given, typed ones included, preview as recorded,
 * the configuration reconciled as the Pulumi CLI does: schema defaults, `all`, each policy's own entry).
 */
import { strict as assert } from "node:assert";
import * as sns from "@pulumi/aws/sns";
import * as sqs from "@pulumi/aws/sqs";
import {
    validateResourceOfType,
    validateStackResourcesOfType,
    type Policies,
    type ResourceValidationPolicy,
    type StackValidationPolicy,
} from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { recordProgram, runPolicies, type PolicyPackConfig, type ProgramRun } from "../policy/library";

/** Reports the configuration it gets, once per queue. */
const probe: ResourceValidationPolicy = {
    name: "probe",
    description: "Reports its configuration.",
    enforcementLevel: "advisory",
    configSchema: { properties: { limit: { type: "integer", default: 3 }, label: { type: "string" } } },
    validateResource: (args, reportViolation) => {
        if (args.type === "aws:sqs/queue:Queue") {
            reportViolation(JSON.stringify(args.getConfig()));
        }
    },
};

/** Reads every queue's ARN, which preview does not know. */
const arns: StackValidationPolicy = {
    name: "arns",
    description: "Reports each queue's ARN.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const resource of args.resources.filter((r) => r.type === "aws:sqs/queue:Queue")) {
            reportViolation(String(resource.props["arn"]), resource.urn);
        }
    },
};

const POLICIES: Policies = [probe, arns];

const oneQueue = () => {
    const queue = new sqs.Queue("work", { sqsManagedSseEnabled: true });
    return { url: queue.url };
};

describe("callback-workflow/policy: recordProgram", function () {
    this.timeout(20_000);

    it("must record the program's resources, exports, stack and project, deployed and in preview", async () => {
        const deployed = await recordProgram(oneQueue, { stack: "staging", project: "shop" });
        assert.deepEqual(
            deployed.resources.map((r) => [r.type, r.urn]),
            [["aws:sqs/queue:Queue", "urn:pulumi:staging::shop::aws:sqs/queue:Queue::work"]],
        );
        assert.deepEqual(deployed.exports, { url: "https://sqs.eu-west-1.amazonaws.com/123456789012/work-0a1b2c3" });
        assert.deepEqual([deployed.preview, deployed.stack, deployed.project], [false, "staging", "shop"]);
        const preview = await recordProgram(oneQueue, { preview: true });
        assert.deepEqual([preview.preview, preview.stack, preview.project], [true, "test", "project"]);
        assert.deepEqual(preview.exports, { url: undefined }, "unknown in preview");
        assert.deepEqual(preview.resources[0]?.outputs, {});
    });

    it("must give the program its configuration (other values than strings JSON-encoded) and the data sources it is told", async () => {
        const run = await recordProgram(
            async () => {
                const config = new pulumi.Config("app");
                const answer = (await pulumi.runtime.invoke("test:index:answer", {})) as { value: number };
                return {
                    name: config.require("name"),
                    retries: config.requireNumber("retries"),
                    tags: config.requireObject<Record<string, string>>("tags"),
                    answer: answer.value,
                };
            },
            {
                config: { "app:name": "orders", "app:retries": 3, "app:tags": { team: "a" } },
                calls: { "test:index:answer": { value: 42 } },
            },
        );
        assert.deepEqual(run.exports, { name: "orders", retries: 3, tags: { team: "a" }, answer: 42 });
        assert.deepEqual(run.invokes, ["test:index:answer"]);
    });

    it("must fail on a data source it was not told the answer of, saying how to give one", async () => {
        await assert.rejects(
            recordProgram(() => pulumi.runtime.invoke("test:index:unknown", {})),
            /test:index:unknown, which these mocks do not answer: give its result in recordProgram's calls option/,
        );
        // The next recording is not disturbed by the failed one.
        assert.equal((await recordProgram(oneQueue)).resources.length, 1);
    });

    it("must run recordings asked for at once one after another, each with only its own resources", async () => {
        const named = (name: string) => () => void new sqs.Queue(name, {});
        const runs = await Promise.all([
            recordProgram(named("first"), { stack: "a" }),
            recordProgram(named("second"), { stack: "b" }),
        ]);
        assert.deepEqual(
            runs.map((run) => run.resources.map((r) => r.urn)),
            [
                ["urn:pulumi:a::project::aws:sqs/queue:Queue::first"],
                ["urn:pulumi:b::project::aws:sqs/queue:Queue::second"],
            ],
        );
    });
});

describe("callback-workflow/policy: runPolicies", function () {
    this.timeout(20_000);
    let deployed: ProgramRun;
    let preview: ProgramRun;

    before(async () => {
        deployed = await recordProgram(oneQueue);
        preview = await recordProgram(oneQueue, { preview: true });
    });

    const levels = async (config: PolicyPackConfig) =>
        (await runPolicies(deployed, { policies: POLICIES, config })).violations.map((v) => [
            v.policy,
            v.level,
            v.message,
        ]);

    it("must run this pack's policies when given none", async () => {
        const { violations } = await runPolicies(deployed);
        assert.deepEqual(
            violations.map((v) => [v.policy, v.level]),
            [
                ["sqs-queue-has-dlq", "mandatory"],
                ["sqs-tls-only", "advisory"],
            ],
        );
        assert.equal(violations[0]?.urn, "urn:pulumi:test::project::aws:sqs/queue:Queue::work");
    });

    it("must give a policy its schema's defaults under the given values, without the enforcement level", async () => {
        const arn = "arn:aws:sqs:eu-west-1:123456789012:work-0a1b2c3";
        assert.deepEqual(await levels({}), [
            ["probe", "advisory", '{"limit":3}'],
            ["arns", "mandatory", arn],
        ]);
        assert.deepEqual((await levels({ probe: { limit: 5, label: "x", enforcementLevel: "mandatory" } }))[0], [
            "probe",
            "mandatory",
            '{"limit":5,"label":"x"}',
        ]);
    });

    it("must apply all's level to every policy, a policy's own level over it, and report remediate as mandatory", async () => {
        assert.deepEqual(
            (await levels({ all: "advisory" })).map(([policy, level]) => [policy, level]),
            [
                ["probe", "advisory"],
                ["arns", "advisory"],
            ],
        );
        assert.deepEqual(
            (await levels({ all: { enforcementLevel: "disabled" }, arns: "remediate" })).map(([p, l]) => [p, l]),
            [["arns", "mandatory"]],
        );
        assert.deepEqual(await levels({ probe: "disabled", arns: { enforcementLevel: "disabled" } }), []);
        // A name that is no policy is left alone, as the CLI does.
        assert.equal((await levels({ nothing: "mandatory" })).length, 2);
    });

    it("must refuse an enforcement level the engine does not know", async () => {
        await assert.rejects(
            runPolicies(deployed, { policies: POLICIES, config: { probe: "strict" as never } }),
            /Policy pack config for probe: enforcementLevel must be one of advisory, mandatory, remediate, disabled \(got "strict"\)/,
        );
    });

    it("must judge a preview recording as the engine does: what depends on unknown values is undecided, advisory", async () => {
        const result = await runPolicies(preview, { policies: POLICIES });
        assert.deepEqual(
            result.violations.map((v) => v.policy),
            ["probe"],
        );
        assert.deepEqual(
            result.undecided.map((f) => [f.policy, f.level]),
            [["arns", "advisory"]],
        );
        assert.match(result.undecided[0]?.message ?? "", /^can't run policy 'arns' during preview: /);
    });

    it("must let policies written with validateResourceOfType and validateStackResourcesOfType see their type only", async () => {
        const run = await recordProgram(() => {
            new sqs.Queue("work", { messageRetentionSeconds: 60 });
            new sns.Topic("done", {});
        });
        const typed: Policies = [
            {
                name: "queue-retention",
                description: "Queues keep messages a day.",
                enforcementLevel: "mandatory",
                validateResource: validateResourceOfType(sqs.Queue, (queue, args, reportViolation) => {
                    assert.equal(args.asType(sqs.Queue), queue);
                    assert.equal(args.asType(sns.Topic), undefined);
                    reportViolation(`retention ${String(queue.messageRetentionSeconds)}`);
                }),
            },
            {
                name: "topics",
                description: "Counts topics.",
                enforcementLevel: "advisory",
                validateStack: validateStackResourcesOfType(sns.Topic, (topics, args, reportViolation) => {
                    assert.equal(args.resources[0]?.isType(sns.Topic), true);
                    reportViolation(`${topics.length} topic(s) of ${run.resources.length} resources`);
                }),
            },
        ];
        const { violations } = await runPolicies(run, { policies: typed });
        assert.deepEqual(
            violations.map((v) => [v.policy, v.message, v.urn?.split("::").pop()]),
            [
                ["queue-retention", "retention 60", "work"],
                ["topics", "1 topic(s) of 2 resources", undefined],
            ],
        );
    });

    it("must pass on what a policy throws, other than an unknown value", async () => {
        const throwing: ResourceValidationPolicy = {
            name: "throws",
            description: "Throws.",
            validateResource: () => {
                throw new RangeError("a bug in the policy");
            },
        };
        await assert.rejects(runPolicies(deployed, { policies: [throwing] }), RangeError);
    });
});
