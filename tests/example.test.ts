/**
 * The example consumer project (examples/orders) as its own program: two channels with their own
 * workers, an approval channel whose approvers come from the stack, a workflow with a Choice, an approval
 * step for the orders above the threshold, a Parallel of two callback steps, a Wait and a Map with a
 * callback per item. Run from a copy of the project whose `node_modules/callback-workflow` is this
 * repository (what `npm install` of the package gives it), with the dev stack's configuration as the
 * Pulumi CLI merges it; `npm run test:package` runs it from the packed tarball.
 */
import { strict as assert } from "node:assert";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import aslValidator from "asl-validator";
import { REPO_ROOT } from "../components/bundle";
import type { PolicyDocument } from "../components/iam";
import { runPolicies } from "../policy/runner";
import { APPROVAL_TIMEOUT_SECONDS } from "../examples/orders/definition";
import { jsonInput, rolePolicy, rows } from "./harness/documents";
import { cliStackConfig } from "../local/cli-config";
import { ACCOUNT_ID, ofType, REGION, resource, runProgram, type ProgramRun } from "../local/pulumi-program";

const EXAMPLE = path.join(REPO_ROOT, "examples", "orders");
const machineArn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:orders-state-machine-0a1b2c3`;
const DEV_APPROVERS = ["orders-lead@example.com", "finance@example.com"];
const ANSWER = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"];

const read = (file: string): string => readFileSync(path.join(EXAMPLE, file), "utf8");

/** The dev stack's configuration as the Pulumi CLI hands it to the program, with `overrides` set. */
function devConfig(overrides: Record<string, string> = {}): Record<string, string> {
    const result = cliStackConfig("dev", read("Pulumi.yaml"), read("Pulumi.dev.yaml"));
    assert.deepEqual(result.problems, []);
    return { ...Object.fromEntries([...result.config].map(([key, value]) => [key, value.text])), ...overrides };
}

/** The rendered definition of the orders machine. */
function definitionOf(of: ProgramRun): { States: Record<string, Record<string, unknown>> } {
    return jsonInput(resource(of, "aws:sfn/stateMachine:StateMachine", "orders-state-machine"), "definition");
}

/** Each `-answer` policy's statements, by the role it is on. */
function answerGrants(of: ProgramRun): Record<string, unknown> {
    return Object.fromEntries(
        ofType(of, "aws:iam/rolePolicy:RolePolicy")
            .filter((p) => /-answer(-\d+)?$/.test(p.name))
            .map((p): [string, unknown] => [
                String(p.inputs["role"]),
                rows((JSON.parse(p.inputs["policy"] as string) as PolicyDocument).Statement),
            ]),
    );
}

describe("the example consumer project (examples/orders)", function () {
    this.timeout(30_000);
    let project: string;
    let cwd: string;
    let run: ProgramRun;

    before(async () => {
        project = mkdtempSync(path.join(tmpdir(), "orders-"));
        cpSync(EXAMPLE, project, { recursive: true, filter: (src) => !src.includes("node_modules") });
        mkdirSync(path.join(project, "node_modules"));
        symlinkSync(REPO_ROOT, path.join(project, "node_modules", "callback-workflow"), "dir");
        // The program's directory is where Pulumi runs it: workerEntry paths resolve from there.
        cwd = process.cwd();
        process.chdir(project);
        run = await runExample();
    });

    const runExample = (options: { preview?: boolean } = {}): Promise<ProgramRun> =>
        runProgram(path.join(REPO_ROOT, "build", "examples", "orders", "index.js"), {
            project: "orders",
            config: devConfig({ "orders:creditLimit": "2500", "orders:approvalThreshold": "2000" }),
            ...options,
        });

    after(() => {
        process.chdir(cwd);
        rmSync(project, { recursive: true, force: true });
    });

    it("must build two channels, each with its own worker, an approval channel and one workflow", async () => {
        assert.deepEqual(
            run.resources
                .filter((r) => r.type.startsWith("callback:"))
                .map((r) => `${r.type} ${r.name}`)
                .sort(),
            [
                "callback:index:ApprovalChannel approvals",
                "callback:index:CallbackChannel approvals",
                "callback:index:CallbackChannel credit",
                "callback:index:CallbackChannel stock",
                "callback:index:Workflow orders",
            ],
        );
        const credit = resource(run, "aws:lambda/function:Function", "credit-worker");
        const variables = (credit.inputs["environment"] as { variables: Record<string, string> }).variables;
        assert.equal(variables["CREDIT_LIMIT"], "2500", "the stack's config reaches the worker");
        // An AssetArchive holds its assets, and a StringAsset its text, as promises.
        const bundleOf = async (worker: string): Promise<string | undefined> => {
            const code = resource(run, "aws:lambda/function:Function", worker).inputs[
                "code"
            ] as pulumi.asset.AssetArchive;
            const assets = (await code.assets) as Record<string, pulumi.asset.StringAsset>;
            return assets["index.mjs"]?.text;
        };
        const [creditBundle, stockBundle] = [await bundleOf("credit-worker"), await bundleOf("stock-worker")];
        assert.match(creditBundle ?? "", /Credit\.Declined/, "the credit worker is the project's credit.ts");
        assert.match(stockBundle ?? "", /Stock\.Unavailable/, "the stock worker is the project's stock.ts");
        // The approval channel's requester (its worker, with the SNS notifier) and its page, from the package.
        assert.match((await bundleOf("approvals-worker")) ?? "", /APPROVAL_TOPIC_ARN/);
        assert.match((await bundleOf("approvals-page")) ?? "", /Approval\.Rejected/);
    });

    it("must subscribe the stack's approvers and export the page's URL", () => {
        const subscriptions = ofType(run, "aws:sns/topicSubscription:TopicSubscription").filter((s) =>
            s.name.startsWith("approvals-approver-"),
        );
        assert.deepEqual(subscriptions.map((s) => [s.inputs["protocol"], s.inputs["endpoint"]]).sort(), [
            ["email", "finance@example.com"],
            ["email", "orders-lead@example.com"],
        ]);
        const url = run.exports["approvalPageUrl"];
        assert.match(String(url), /^https:\/\/[^/]+\.execute-api\.eu-west-1\.amazonaws\.com$/);
        const requester = resource(run, "aws:lambda/function:Function", "approvals-worker").inputs;
        assert.equal(
            (requester["environment"] as { variables: Record<string, string> }).variables["APPROVAL_PAGE_URL"],
            url,
            "the links are on the exported page",
        );
    });

    it("must let each worker, and the approval page, answer the orders workflow only, and the workflow send to the three queues", () => {
        assert.deepEqual(answerGrants(run), {
            "credit-worker-role-0a1b2c3": [["AnswerTaskTokens", ANSWER, [machineArn]]],
            "stock-worker-role-0a1b2c3": [["AnswerTaskTokens", ANSWER, [machineArn]]],
            // The page decides (SendTask*); the requester may only fail a request it cannot use.
            "approvals-page-role-0a1b2c3": [["AnswerTaskTokens", ANSWER, [machineArn]]],
            "approvals-worker-role-0a1b2c3": [["AnswerTaskTokens", ["states:SendTaskFailure"], [machineArn]]],
        });
        const sends = rolePolicy(run, "orders-sfn-policy").Statement.filter((s) => s.Sid === "SendToWorkQueue");
        assert.deepEqual(
            sends.map((s) => s.Resource).sort(),
            ["approvals", "credit", "stock"].map((c) => `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${c}-queue-0a1b2c3`),
            "the stock channel's two steps need one grant",
        );
    });

    it("must render the approval step: the request in the message, no heartbeat, the rejection and the timeout caught", () => {
        const { States: states } = definitionOf(run);
        assert.deepEqual((states["Check order"] as { Choices: unknown[] }).Choices[1], {
            Variable: "$.total",
            NumericGreaterThan: 2000,
            Next: "Approve large order",
        });
        const ask = states["Approve large order"] as Record<string, unknown>;
        assert.equal(ask["Resource"], "arn:aws:states:::sqs:sendMessage.waitForTaskToken");
        assert.equal(ask["TimeoutSeconds"], APPROVAL_TIMEOUT_SECONDS);
        assert.ok(!("HeartbeatSeconds" in ask), "nobody sends heartbeats while a person thinks");
        assert.equal(ask["ResultPath"], "$.approval");
        assert.equal(ask["Next"], "Check credit and reserve stock");
        assert.deepEqual(ask["Catch"], [
            { ErrorEquals: ["Approval.Rejected", "States.Timeout"], ResultPath: "$.error", Next: "Order failed" },
        ]);
        const parameters = ask["Parameters"] as { QueueUrl: string; MessageBody: Record<string, unknown> };
        assert.equal(parameters.QueueUrl, `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/approvals-queue-0a1b2c3`);
        const body = parameters.MessageBody;
        assert.equal(body["TaskToken.$"], "$$.Task.Token");
        assert.equal(body["Input.$"], undefined, "the approvers read the request, not the order's state");
        assert.deepEqual(body["Approval"], {
            "title.$": "States.Format('Order {} of customer {}: {} in total', $.orderId, $.customerId, $.total)",
            "details.$":
                "States.Format('Items: {}. Once approved, the credit is checked and the stock reserved.', States.JsonToString($.items))",
            approvers: DEV_APPROVERS,
            "requestedBy.$": "States.Format('{} (execution {})', $$.StateMachine.Name, $$.Execution.Name)",
            timeoutSeconds: APPROVAL_TIMEOUT_SECONDS,
        });
    });

    it("must pass our own policy pack: no violation deployed, none mandatory in preview", async () => {
        assert.deepEqual((await runPolicies(run)).violations, []);
        const preview = await runPolicies(await runExample({ preview: true }));
        // None mandatory, and no advisory either: what preview cannot know is undecided, not a violation.
        assert.deepEqual(preview.violations, []);
    });

    it("must have project and stack files the Pulumi CLI accepts, declaring the settings the program reads", () => {
        const result = cliStackConfig("dev", read("Pulumi.yaml"), read("Pulumi.dev.yaml"));
        assert.deepEqual(result.problems, []);
        assert.equal(result.config.get("orders:creditLimit")?.text, "5000");
        assert.equal(result.config.get("orders:approvalThreshold")?.text, "1000");
        assert.deepEqual(JSON.parse(result.config.get("orders:approvers")?.text ?? "null"), DEV_APPROVERS);
        assert.equal(result.config.get("aws:region")?.text, "eu-west-1");
        // Every stack names its approvers: the CLI stops at a stack that does not.
        const none = cliStackConfig("prod", read("Pulumi.yaml"), "config:\n  aws:region: eu-west-1\n");
        assert.equal(none.problems.length, 1, none.problems.join("\n"));
        assert.match(none.problems[0] ?? "", /^Stack 'prod' is missing configuration value 'approvers'/);
    });

    it("must render a definition asl-validator accepts, with every callback step in place", () => {
        const definition = definitionOf(run);
        const result = aslValidator(structuredClone(definition));
        assert.deepEqual(result.errors, []);
        assert.ok(result.isValid);
        const text = JSON.stringify(definition);
        assert.equal(text.split("sqs:sendMessage.waitForTaskToken").length - 1, 4);
        assert.equal(text.split('"TaskToken.$":"$$.Task.Token"').length - 1, 4);
    });
});
