/**
 * ApprovalChannel under the mocked runtime: its resources, least privilege, the waitForApproval state,
 * validation, a notifier of one's own bundled into the requester, and our own policy pack on the result.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ApprovalChannel, type ApprovalChannelArgs, type WaitForApprovalOptions } from "../components/approval";
import type { StateMachineDefinition } from "../components/asl";
import type { PolicyDocument } from "../components/iam";
import { Workflow } from "../components/workflow";
import { runPolicies } from "../policy/runner";
import { jsonInput, rolePolicy, rows } from "./harness/documents";
import { ACCOUNT_ID, ofType, REGION, resource, runProgram, type ProgramRun } from "../local/pulumi-program";

const FN = "aws:lambda/function:Function";
const APPROVERS = ["ops@example.com", "lead@example.com"];
const arn = (service: string, rest: string): string => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${rest}`;
const ORDERS_MACHINE = arn("states", "stateMachine:orders-state-machine-0a1b2c3");
const TABLE = arn("dynamodb", "table/refunds-approvals-0a1b2c3");
const SECRET = arn("secretsmanager", "secret:refunds-link-keys-0a1b2c3-AbC123");
const TOPIC = arn("sns", "refunds-approvers-0a1b2c3");

/** A definition with one approval step. */
function approvalDefinition(
    channel: ApprovalChannel,
    options: Partial<WaitForApprovalOptions> = {},
): StateMachineDefinition {
    return {
        StartAt: "Ask",
        States: [
            {
                name: "Ask",
                state: channel.waitForApproval({
                    title: "$.order.title",
                    details: "States.Format('Refund {} EUR', $.order.amount)",
                    timeoutSeconds: 86_400,
                    catch: [{ ErrorEquals: ["Approval.Rejected"], ResultPath: "$.rejection", Next: "Rejected" }],
                    next: "Approved",
                    ...options,
                } as WaitForApprovalOptions),
            },
            { name: "Approved", state: { Type: "Succeed" } },
            { name: "Rejected", state: { Type: "Fail", Error: "Rejected" } },
        ],
    };
}

function approvalStack(
    args: Partial<ApprovalChannelArgs> = {},
    options: { preview?: boolean; task?: Partial<WaitForApprovalOptions> } = {},
): Promise<ProgramRun> {
    return runProgram(
        () => {
            const channel = new ApprovalChannel("refunds", { approvers: APPROVERS, ...args });
            new Workflow("orders", { definition: approvalDefinition(channel, options.task) });
        },
        { preview: options.preview ?? false },
    );
}

/** The state named `name` of the orders machine's rendered definition. */
function stateOf(run: ProgramRun, name: string): Record<string, unknown> {
    const definition = jsonInput<{ States: Record<string, Record<string, unknown>> }>(
        resource(run, "aws:sfn/stateMachine:StateMachine", "orders-state-machine"),
        "definition",
    );
    return definition.States[name] as Record<string, unknown>;
}

/** A function's `index.mjs` (an AssetArchive holds its assets, and a StringAsset its text, as promises). */
async function bundleText(of: ProgramRun, name: string): Promise<string> {
    const code = resource(of, FN, name).inputs["code"] as pulumi.asset.AssetArchive;
    const assets = (await code.assets) as Record<string, pulumi.asset.StringAsset>;
    return (await assets["index.mjs"]?.text) ?? "";
}

/** Runs `program`, which must throw; returns the error. */
async function failing(program: () => void): Promise<Error> {
    let error: Error | undefined;
    await runProgram(() => {
        try {
            program();
        } catch (e) {
            error = e as Error;
        }
    });
    assert.ok(error, "the program threw");
    return error;
}

describe("ApprovalChannel", function () {
    this.timeout(30_000);
    let run: ProgramRun;
    before(async () => {
        run = await approvalStack();
    });

    it("must make the table, key ring, page, API, topic and the channel underneath", () => {
        const own = run.resources
            .filter((r) => !r.type.startsWith("callback:") && r.urn.includes("ApprovalChannel"))
            .map((r) => `${r.type} ${r.name}`)
            .sort();
        assert.deepEqual(own, [
            "aws:apigatewayv2/api:Api refunds-api",
            "aws:apigatewayv2/integration:Integration refunds-api-page",
            "aws:apigatewayv2/route:Route refunds-route-get",
            "aws:apigatewayv2/route:Route refunds-route-head",
            "aws:apigatewayv2/route:Route refunds-route-post",
            "aws:apigatewayv2/route:Route refunds-route-script",
            "aws:apigatewayv2/stage:Stage refunds-api-stage",
            "aws:cloudwatch/logGroup:LogGroup refunds-api-logs",
            "aws:cloudwatch/logGroup:LogGroup refunds-page-logs",
            "aws:cloudwatch/logGroup:LogGroup refunds-worker-logs",
            "aws:cloudwatch/metricAlarm:MetricAlarm refunds-dlq-not-empty",
            "aws:cloudwatch/metricAlarm:MetricAlarm refunds-page-errors",
            "aws:cloudwatch/metricAlarm:MetricAlarm refunds-queue-oldest-message",
            "aws:dynamodb/table:Table refunds-approvals",
            "aws:iam/role:Role refunds-page-role",
            "aws:iam/role:Role refunds-worker-role",
            "aws:iam/rolePolicy:RolePolicy refunds-page-policy",
            "aws:iam/rolePolicy:RolePolicy refunds-requester-policy",
            "aws:iam/rolePolicy:RolePolicy refunds-worker-policy",
            "aws:lambda/eventSourceMapping:EventSourceMapping refunds-trigger",
            "aws:lambda/function:Function refunds-page",
            "aws:lambda/function:Function refunds-worker",
            "aws:lambda/permission:Permission refunds-page-invoke",
            "aws:secretsmanager/secret:Secret refunds-link-keys",
            "aws:sns/topic:Topic refunds-alarms",
            "aws:sns/topic:Topic refunds-approvers",
            "aws:sns/topicPolicy:TopicPolicy refunds-alarms-policy",
            "aws:sns/topicPolicy:TopicPolicy refunds-approvers-policy",
            "aws:sns/topicSubscription:TopicSubscription refunds-approver-9fbdefe283",
            "aws:sns/topicSubscription:TopicSubscription refunds-approver-af3c82544f",
            "aws:sqs/queue:Queue refunds-dlq",
            "aws:sqs/queue:Queue refunds-queue",
            "aws:sqs/queuePolicy:QueuePolicy refunds-dlq-policy",
            "aws:sqs/queuePolicy:QueuePolicy refunds-queue-policy",
            "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy refunds-dlq-redrive-allow",
        ]);
    });

    it("must keep approvals in an on-demand, encrypted table with TTL and point-in-time recovery", async () => {
        const table = resource(run, "aws:dynamodb/table:Table", "refunds-approvals").inputs;
        assert.equal(table["billingMode"], "PAY_PER_REQUEST");
        assert.equal(table["hashKey"], "approvalId");
        assert.deepEqual(table["ttl"], { attributeName: "ttl", enabled: true });
        assert.deepEqual(table["serverSideEncryption"], { enabled: true });
        assert.deepEqual(table["pointInTimeRecovery"], { enabled: true });
        const off = await approvalStack({ pointInTimeRecovery: false });
        assert.deepEqual(resource(off, "aws:dynamodb/table:Table", "refunds-approvals").inputs["pointInTimeRecovery"], {
            enabled: false,
        });
    });

    it("must keep the link-signing key out of the program: a secret with no value, which the requester fills", () => {
        assert.equal(ofType(run, "aws:secretsmanager/secretVersion:SecretVersion").length, 0);
        assert.equal(ofType(run, "aws:secretsmanager/secret:Secret").length, 1);
        assert.deepEqual(
            run.invokes.filter((token) => token.includes("secretsmanager")),
            [],
            "no key made in preview",
        );
    });

    it("must give the page its table's read and decide, the key ring and its logs, and answers on the workflow only", () => {
        assert.deepEqual(rows(rolePolicy(run, "refunds-page-policy").Statement), [
            ["ReadAndDecideApprovals", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE]],
            ["ReadLinkKeys", ["secretsmanager:GetSecretValue"], [SECRET]],
            [
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [arn("logs", "log-group:/aws/lambda/refunds-page-0a1b2c3:*")],
            ],
        ]);
        const answers = ofType(run, "aws:iam/rolePolicy:RolePolicy").filter((r) => r.name.startsWith("orders.refunds"));
        const byRole: Record<string, unknown> = Object.fromEntries(
            answers.map((r): [string, unknown] => [
                String(r.inputs["role"]),
                rows((JSON.parse(r.inputs["policy"] as string) as PolicyDocument).Statement),
            ]),
        );
        assert.deepEqual(byRole, {
            "refunds-worker-role-0a1b2c3": [["AnswerTaskTokens", ["states:SendTaskFailure"], [ORDERS_MACHINE]]],
            "refunds-page-role-0a1b2c3": [
                [
                    "AnswerTaskTokens",
                    ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                    [ORDERS_MACHINE],
                ],
            ],
        });
        assert.deepEqual(rows(rolePolicy(run, "refunds-requester-policy").Statement), [
            ["WriteApprovalRequests", ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], [TABLE]],
            ["ReadAndCreateLinkKeys", ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], [SECRET]],
            ["NotifyApprovers", ["sns:Publish"], [TOPIC]],
        ]);
        assert.equal(
            resource(run, "aws:iam/rolePolicy:RolePolicy", "refunds-requester-policy").inputs["role"],
            "refunds-worker-role-0a1b2c3",
        );
    });

    it("must subscribe each approver by email with a filter policy on its own id", () => {
        const subscriptions = ofType(run, "aws:sns/topicSubscription:TopicSubscription").map((s) => s.inputs);
        assert.deepEqual(
            subscriptions
                .map((s): unknown[] => [
                    s["protocol"],
                    s["endpoint"],
                    s["filterPolicyScope"],
                    JSON.parse(s["filterPolicy"] as string),
                ])
                .sort(),
            APPROVERS.map((a) => ["email", a, "MessageAttributes", { approver: [a] }]).sort(),
        );
        assert.equal(
            resource(run, "aws:sns/topic:Topic", "refunds-approvers").inputs["kmsMasterKeyId"],
            "alias/aws/sns",
        );
    });

    it("must serve the page over an HTTP API: four routes, throttled, access logs without query strings", () => {
        const routes = ofType(run, "aws:apigatewayv2/route:Route")
            .map((r) => r.inputs["routeKey"])
            .sort();
        assert.deepEqual(routes, [
            "GET /assets/local-time.js",
            "GET /{approvalId}",
            "HEAD /{approvalId}",
            "POST /{approvalId}",
        ]);
        const stage = resource(run, "aws:apigatewayv2/stage:Stage", "refunds-api-stage").inputs;
        assert.deepEqual(stage["defaultRouteSettings"], { throttlingRateLimit: 10, throttlingBurstLimit: 20 });
        const logs = stage["accessLogSettings"] as { destinationArn: string; format: string };
        assert.equal(logs.destinationArn, arn("logs", "log-group:/aws/apigateway/refunds-0a1b2c3"));
        assert.doesNotMatch(logs.format, /path|querystring|query/i, "the link's signature is in its query string");
        const alarm = resource(run, "aws:cloudwatch/metricAlarm:MetricAlarm", "refunds-page-errors").inputs;
        assert.deepEqual(
            [alarm["namespace"], alarm["metricName"], alarm["dimensions"]],
            ["AWS/ApiGateway", "5xx", { ApiId: "refunds-api-id", Stage: "$default" }],
        );
        assert.deepEqual(alarm["alarmActions"], [arn("sns", "refunds-alarms-0a1b2c3")]);
        const integration = resource(run, "aws:apigatewayv2/integration:Integration", "refunds-api-page").inputs;
        assert.equal(integration["payloadFormatVersion"], "2.0");
        const permission = resource(run, "aws:lambda/permission:Permission", "refunds-page-invoke").inputs;
        assert.equal(permission["principal"], "apigateway.amazonaws.com");
        assert.match(permission["sourceArn"] as string, /^arn:aws:execute-api:[^*]+\/\*\/\*$/);
    });

    it("must configure the requester and the page through their environments, nothing secret in them", async () => {
        const env = (name: string) =>
            (resource(run, FN, name).inputs["environment"] as { variables: Record<string, string> }).variables;
        const requester = env("refunds-worker");
        assert.equal(requester["APPROVAL_TABLE_NAME"], "refunds-approvals-0a1b2c3");
        assert.equal(requester["APPROVAL_KEY_RING_SECRET_ID"], SECRET);
        assert.equal(requester["APPROVAL_TOPIC_ARN"], TOPIC);
        assert.match(requester["APPROVAL_PAGE_URL"] ?? "", /^https:\/\/[^/]+\.execute-api\.[^/]+\.amazonaws\.com$/);
        const page = env("refunds-page");
        assert.deepEqual(JSON.parse(page["APPROVAL_APPROVERS"] ?? ""), APPROVERS, "removing one revokes their links");
        assert.equal(page["APPROVAL_TABLE_NAME"], "refunds-approvals-0a1b2c3");
        assert.equal(page["APPROVAL_KEY_RING_SECRET_ID"], SECRET);
        // Each function is its own bundle: the requester with the SNS notifier, the page with the form.
        assert.match(await bundleText(run, "refunds-worker"), /APPROVAL_TOPIC_ARN/);
        assert.match(await bundleText(run, "refunds-page"), /Approve/);
    });

    it("must render an approval step: the request in the message, no token elsewhere, no heartbeat, the decision under $.approval", () => {
        const ask = stateOf(run, "Ask");
        assert.equal(ask["Resource"], "arn:aws:states:::sqs:sendMessage.waitForTaskToken");
        assert.equal(ask["TimeoutSeconds"], 86_400);
        assert.equal(ask["HeartbeatSeconds"], undefined);
        assert.equal(ask["ResultPath"], "$.approval");
        const body = (ask["Parameters"] as { MessageBody: Record<string, unknown> }).MessageBody;
        assert.equal(body["TaskToken.$"], "$$.Task.Token");
        assert.equal(body["EnteredTime.$"], "$$.State.EnteredTime");
        assert.equal(body["Input.$"], undefined, "the approver reads the request, not the state");
        assert.deepEqual(body["Approval"], {
            "title.$": "$.order.title",
            "details.$": "States.Format('Refund {} EUR', $.order.amount)",
            approvers: APPROVERS,
            "requestedBy.$": "States.Format('{} (execution {})', $$.StateMachine.Name, $$.Execution.Name)",
            timeoutSeconds: 86_400,
        });
    });

    it("must render a JSONata approval step with literals and expressions", async () => {
        const jsonata = await approvalStack(
            {},
            {
                task: {
                    queryLanguage: "JSONata",
                    title: "Refund",
                    details: "{% 'Refund ' & $states.input.order.amount & ' EUR' %}",
                    approvers: ["lead@example.com"],
                    output: "{% $merge([$states.input, {'approval': $states.result}]) %}",
                    catch: [{ ErrorEquals: ["Approval.Rejected"], Next: "Rejected" }],
                },
            },
        );
        const ask = stateOf(jsonata, "Ask");
        assert.equal(ask["QueryLanguage"], "JSONata");
        const body = (ask["Arguments"] as { MessageBody: Record<string, unknown> }).MessageBody;
        assert.equal(body["TaskToken"], "{% $states.context.Task.Token %}");
        assert.deepEqual(body["Approval"], {
            title: "Refund",
            details: "{% 'Refund ' & $states.input.order.amount & ' EUR' %}",
            approvers: ["lead@example.com"],
            requestedBy:
                '{% $states.context.StateMachine.Name & " (execution " & $states.context.Execution.Name & ")" %}',
            timeoutSeconds: 86_400,
        });
    });

    it("must pass our own policy pack: no violation deployed, none mandatory in preview", async () => {
        assert.deepEqual((await runPolicies(run)).violations, []);
        const preview = await runPolicies(await approvalStack({}, { preview: true }));
        assert.deepEqual(preview.violations, []);
    });

    it("must refuse heartbeats, a worker of one's own and answerers, saying why", async () => {
        const error = await failing(() => {
            new ApprovalChannel("refunds", {
                approvers: APPROVERS,
                heartbeatSeconds: 60,
                workerEntry: "worker.ts",
                answerers: [],
            } as unknown as ApprovalChannelArgs);
        });
        assert.ok(error instanceof pulumi.InputPropertiesError);
        assert.match(
            error.message,
            /`heartbeatSeconds` cannot be set on an approval channel: nobody sends heartbeats while a person thinks/,
        );
        assert.match(
            error.message,
            /`workerEntry` cannot be set on an approval channel: its worker is the approval requester; .*notifierEntry/,
        );
        assert.match(error.message, /`answerers` cannot be set/);
    });

    it("must refuse approvers that the SNS notifier cannot reach, and bad throttling", async () => {
        const error = await failing(() => {
            new ApprovalChannel("refunds", {
                approvers: ["ops@example.com", "@alice", "ops@example.com", " x"],
                pageThrottle: { rateLimit: 0, burstLimit: 1.5 },
            });
        });
        assert.match(error.message, /`approvers\[1\]` must be an email address: .*got "@alice".*notifierEntry/);
        assert.match(error.message, /`approvers\[2\]` repeats "ops@example.com"/);
        assert.match(error.message, /`approvers\[3\]` must be an approver's id/);
        assert.match(error.message, /`pageThrottle.rateLimit` must be an integer from 1 to 10000, .*got 0/);
        assert.match(error.message, /`pageThrottle.burstLimit` .*got 1.5/);
        const none = await failing(() => new ApprovalChannel("refunds", { approvers: [] }));
        assert.match(none.message, /`approvers` must list 1 to 50 approvers \(got \[\]\)/);
    });

    it("must refuse an approval step with a heartbeat, a missing title or a stranger as approver", async () => {
        const error = await failing(() => {
            const channel = new ApprovalChannel("refunds", { approvers: APPROVERS });
            channel.waitForApproval({
                title: " ",
                heartbeatSeconds: 60,
                approvers: ["eve@example.com"],
                timeoutSeconds: 600,
                end: true,
            } as unknown as WaitForApprovalOptions);
        });
        assert.match(error.message, /^Invalid waitForApproval on ApprovalChannel "refunds":/);
        assert.match(error.message, /`heartbeatSeconds` cannot be set on an approval task: nobody sends heartbeats/);
        assert.match(error.message, /`title` must be a non-blank string/);
        assert.match(
            error.message,
            /`approvers\[0\]` must be one of the channel's approvers \(ops@example.com, lead@example.com\)/,
        );
        const timing = await failing(() => {
            const channel = new ApprovalChannel("refunds", { approvers: APPROVERS });
            channel.waitForApproval({ title: "t", timeoutSeconds: 120, end: true });
        });
        assert.match(timing.message, /`timeoutSeconds` must exceed the channel's queue-age alarm \(300 s\)/);
    });

    it("must bundle a notifier of one's own into the requester, with no topic, for ids that are not emails", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "notifier-"));
        const entry = path.join(dir, "chat.ts");
        writeFileSync(
            entry,
            [
                'import type { Notifier } from "callback-workflow/approval";',
                "export const notifier: Notifier = async (n) => {",
                '    await fetch(process.env["CHAT_WEBHOOK_URL"] ?? "", { method: "POST", body: JSON.stringify({ to: n.approver, text: "chat-notifier-marker " + n.link }) });',
                "};",
                "",
            ].join("\n"),
        );
        const custom = await runProgram(() => {
            const channel = new ApprovalChannel("refunds", {
                approvers: ["@alice", "@bob"],
                notifierEntry: entry,
                notifierEnvironment: { CHAT_WEBHOOK_URL: "https://chat.example.com/hook" },
            });
            new Workflow("orders", { definition: approvalDefinition(channel, { approvers: ["@bob"] }) });
        });
        assert.equal(ofType(custom, "aws:sns/topic:Topic").filter((t) => t.name === "refunds-approvers").length, 0);
        assert.equal(ofType(custom, "aws:sns/topicSubscription:TopicSubscription").length, 0);
        const worker = resource(custom, FN, "refunds-worker").inputs;
        assert.match(await bundleText(custom, "refunds-worker"), /chat-notifier-marker/);
        const env = (worker["environment"] as { variables: Record<string, string> }).variables;
        assert.equal(env["CHAT_WEBHOOK_URL"], "https://chat.example.com/hook");
        assert.equal(env["APPROVAL_TOPIC_ARN"], undefined);
        assert.deepEqual(
            rows(rolePolicy(custom, "refunds-requester-policy").Statement).map((r) => r[0]),
            ["WriteApprovalRequests", "ReadAndCreateLinkKeys"],
        );
        assert.deepEqual((await runPolicies(custom)).violations, []);

        writeFileSync(path.join(dir, "wrong.ts"), "export const notify = async () => {};\n");
        const wrong = await failing(() => {
            new ApprovalChannel("refunds", { approvers: ["@alice"], notifierEntry: path.join(dir, "wrong.ts") });
        });
        assert.match(
            wrong.message,
            /`notifierEntry` must be a module exporting `notifier` \(a Notifier\).*No matching export .* for import "notifier"/s,
        );
        const missing = await failing(() => {
            new ApprovalChannel("refunds", { approvers: ["@alice"], notifierEntry: "nowhere.ts" });
        });
        assert.match(missing.message, /`notifierEntry` must name the notifier's module: .*nowhere.ts does not exist/);
    });

    describe("the stack's one line of config: callback-workflow:approvers", () => {
        const config = (extra: Record<string, string> = {}) => ({
            "callback-workflow:approvers": JSON.stringify(APPROVERS),
            "callback-workflow:taskTimeoutSeconds": "86400",
            ...extra,
        });

        it("must turn the stack's callback step into an approval that the pack passes, deployed and in preview", async () => {
            const stack = await runProgram("build/index.js", { config: config() });
            assert.equal(ofType(stack, "callback:index:ApprovalChannel").length, 1);
            const machine = resource(stack, "aws:sfn/stateMachine:StateMachine", "callback-state-machine");
            const states = jsonInput<{ States: Record<string, Record<string, unknown>> }>(machine, "definition").States;
            const wait = states["Start Task And Wait For Callback"] ?? {};
            assert.equal(wait["TimeoutSeconds"], 86_400);
            assert.equal(wait["HeartbeatSeconds"], undefined);
            assert.equal(wait["Next"], "Notify Success");
            const body = (wait["Parameters"] as { MessageBody: { Approval: Record<string, unknown> } }).MessageBody;
            assert.deepEqual(body.Approval["approvers"], APPROVERS);
            assert.equal(body.Approval["timeoutSeconds"], 86_400, "the links expire with the task");
            assert.match(String(stack.exports["approvalPageUrl"]), /^https:\/\/.+\.execute-api\./);
            assert.deepEqual((await runPolicies(stack)).violations, []);
            const preview = await runProgram("build/index.js", { config: config(), preview: true });
            assert.deepEqual((await runPolicies(preview)).violations, []);
        });

        it("must keep the queues, the DLQ and the worker when approvers are turned on or off (aliases, no replacement)", async () => {
            const plain = await runProgram("build/index.js", { config: {} });
            const approval = await runProgram("build/index.js", { config: config() });
            for (const [from, to] of [
                [plain, approval],
                [approval, plain],
            ] as const) {
                for (const [type, name] of [
                    ["aws:sqs/queue:Queue", "callback-queue"],
                    ["aws:sqs/queue:Queue", "callback-dlq"],
                    ["aws:lambda/function:Function", "callback-worker"],
                    ["aws:iam/role:Role", "callback-worker-role"],
                ] as const) {
                    const before = resource(from, type, name);
                    const after = resource(to, type, name);
                    assert.notEqual(after.urn, before.urn);
                    assert.ok(after.aliases.includes(before.urn), `${name} answers to ${before.urn}`);
                }
            }
        });

        it("must refuse an approval shorter than two minutes under taskTimeoutSeconds", async () => {
            await assert.rejects(
                runProgram("build/index.js", { config: config({ "callback-workflow:taskTimeoutSeconds": "90" }) }),
                /callback-workflow:taskTimeoutSeconds must be at least 120 with approvers: a person needs the time/,
            );
            // As the outside review found it: a short approval, a short worker, two receives.
            const short = await runProgram("build/index.js", {
                config: config({
                    "callback-workflow:taskTimeoutSeconds": "240",
                    "callback-workflow:maxReceiveCount": "2",
                    "callback-workflow:workerTimeoutSeconds": "10",
                }),
            });
            const alarm = resource(short, "aws:cloudwatch/metricAlarm:MetricAlarm", "callback-queue-oldest-message");
            assert.equal(alarm.inputs["threshold"], 120, "half the approval's time, not 5 minutes");
        });

        it("must refuse approvers with heartbeatSeconds or workerEntry, and approvers that are not emails, saying why", async () => {
            await assert.rejects(
                runProgram("build/index.js", {
                    config: config({
                        "callback-workflow:approvers": JSON.stringify(["ops@example.com", "ops"]),
                        "callback-workflow:heartbeatSeconds": "600",
                        "callback-workflow:workerEntry": "worker.ts",
                    }),
                }),
                (error: Error) => {
                    assert.match(
                        error.message,
                        /callback-workflow:approvers\[1\] must be an email address \(got "ops"\)/,
                    );
                    assert.match(
                        error.message,
                        /callback-workflow:heartbeatSeconds cannot be set with approvers: nobody sends heartbeats/,
                    );
                    assert.match(
                        error.message,
                        /callback-workflow:workerEntry cannot be set with approvers: .*approval requester/,
                    );
                    return true;
                },
            );
        });
    });
});
