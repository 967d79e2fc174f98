/**
 * The example consumer project (examples/orders) as its own program: two channels with their own
 * workers, a workflow with a Choice, a Parallel of two callback steps, a Wait and a Map with a callback
 * per item. Run from a copy of the project whose `node_modules/callback-workflow` is this repository
 * (what `npm install` of the package gives it); `npm run test:package` runs it from the packed tarball.
 */
import { strict as assert } from "node:assert";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import aslValidator from "asl-validator";
import { REPO_ROOT } from "../components/bundle";
import { rolePolicy, rows } from "./harness/documents";
import { cliStackConfig } from "../local/cli-config";
import { ACCOUNT_ID, ofType, REGION, resource, runProgram, type ProgramRun } from "../local/pulumi-program";

const EXAMPLE = path.join(REPO_ROOT, "examples", "orders");
const machineArn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:orders-state-machine-0a1b2c3`;

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
        run = await runProgram(path.join(REPO_ROOT, "build", "examples", "orders", "index.js"), {
            project: "orders",
            config: { "orders:creditLimit": "2500" },
        });
    });

    after(() => {
        process.chdir(cwd);
        rmSync(project, { recursive: true, force: true });
    });

    it("must build two channels, each with its own worker, and one workflow", async () => {
        assert.deepEqual(
            run.resources.filter((r) => r.type.startsWith("callback:")).map((r) => `${r.type} ${r.name}`),
            [
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
    });

    it("must let each worker answer the orders workflow only, and the workflow send to both queues", () => {
        for (const channel of ["credit", "stock"]) {
            assert.deepEqual(rows(rolePolicy(run, `orders.${channel}-answer`).Statement), [
                [
                    "AnswerTaskTokens",
                    ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                    [machineArn],
                ],
            ]);
        }
        const sends = rolePolicy(run, "orders-sfn-policy").Statement.filter((s) => s.Sid === "SendToWorkQueue");
        assert.deepEqual(
            sends.map((s) => s.Resource),
            ["credit", "stock"].map((c) => `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${c}-queue-0a1b2c3`),
            "the stock channel's two steps need one grant",
        );
        assert.equal(ofType(run, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-answer")).length, 2);
    });

    it("must have project and stack files the Pulumi CLI accepts, declaring the setting the program reads", () => {
        const read = (file: string): string => readFileSync(path.join(EXAMPLE, file), "utf8");
        const result = cliStackConfig("dev", read("Pulumi.yaml"), read("Pulumi.dev.yaml"));
        assert.deepEqual(result.problems, []);
        assert.equal(result.config.get("orders:creditLimit")?.text, "5000");
        assert.equal(result.config.get("aws:region")?.text, "eu-west-1");
    });

    it("must render a definition asl-validator accepts, with every callback step in place", () => {
        const sm = resource(run, "aws:sfn/stateMachine:StateMachine", "orders-state-machine");
        const definition = JSON.parse(sm.inputs["definition"] as string) as Record<string, unknown>;
        const result = aslValidator(structuredClone(definition));
        assert.deepEqual(result.errors, []);
        assert.ok(result.isValid);
        const text = JSON.stringify(definition);
        assert.equal(text.split("sqs:sendMessage.waitForTaskToken").length - 1, 3);
        assert.equal(text.split('"TaskToken.$":"$$.Task.Token"').length - 1, 3);
    });
});
