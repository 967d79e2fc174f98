/**
 * ApprovalChannel: a person decides a callback task from a link that carries no task token. Built on a
 * {@link CallbackChannel} whose worker is the *requester*: for each task it stores a pending approval
 * (with the token) in the channel's DynamoDB table and sends each approver a signed link of their own
 * (SNS email with a subscription filter policy, or a notifier of your own). The approval page (a Lambda
 * behind an API Gateway HTTP API, throttled and access-logged) shows the request on `GET` and decides on
 * `POST`: `SendTaskSuccess` or `SendTaskFailure` (`Approval.Rejected`), once, recorded by a conditional
 * write. `channel.waitForApproval(...)` is the Task state a definition puts anywhere.
 *
 * The server side is `handlers/approval/` (see its docs); this component only wires it to resources.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as apigatewayv2 from "@pulumi/aws/apigatewayv2";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as dynamodb from "@pulumi/aws/dynamodb";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import * as iam from "@pulumi/aws/iam";
import * as lambda from "@pulumi/aws/lambda";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as sns from "@pulumi/aws/sns";
import * as pulumi from "@pulumi/pulumi";
import {
    APPROVAL_LIMITS,
    APPROVAL_PARTITION_KEY,
    APPROVAL_TTL_ATTRIBUTE,
    isApprover,
} from "../handlers/approval/contract";
import { MAX_APPROVAL_TIMEOUT_SECONDS } from "../handlers/approval/requester";
import type { JsonPath, PayloadTemplate, PayloadValue, TaskState } from "./asl";
import {
    BUNDLE_HANDLER,
    bundleWorkerOnce,
    programDirectory,
    REPO_ROOT,
    WorkerBundleError,
    type LambdaRuntime,
    type WorkerBundle,
} from "./bundle";
import {
    CALLBACK_TASK,
    CallbackChannel,
    CallbackTaskError,
    MOVED_FROM,
    WORKER_BUNDLE,
    type CallbackChannelArgs,
    type SendTaskAction,
    type WaitForCallbackOptions,
    type WithWorkerBundle,
} from "./channel";
import { kmsStatements } from "./definition";
import type { AnswerGrant, AnsweringChannel } from "./grants";
import { assumeRolePolicy, denyInsecureTransport, renderPolicy, SEND_TASK_ACTIONS, type PolicyStatement } from "./iam";
import { DEFAULT_LAMBDA_RUNTIME } from "./limits";
import { alarmCommon, childOptions, type ChildOptions } from "./resources";
import { INTEGER_ARGS, nameProblems, unknownArgProblems, type ArgProblem } from "./settings";

/** The component's type token (`<package>:<module>:<type>`); never rename it without an alias. */
export const APPROVAL_CHANNEL_TYPE = "callback:index:ApprovalChannel";

/**
 * Internal: where the channel underneath lived before (CallbackWorkflow turning its plain channel into an
 * approval one keeps the queues, the DLQ and the worker's URNs): its aliases, and the component its
 * children moved from (the 0.1.0 layout).
 */
export const INNER_CHANNEL: unique symbol = Symbol("innerChannel") as never;
export type WithInnerChannel<T> = T & {
    readonly [INNER_CHANNEL]?: {
        readonly aliases: readonly pulumi.Input<pulumi.Alias | string>[];
        readonly movedFrom?: pulumi.Resource;
    };
};

/** The requester's and the page's entries, relative to this package's root. */
export const APPROVAL_REQUESTER_ENTRY = "handlers/approval/requester-handler.ts";
export const APPROVAL_PAGE_ENTRY = "handlers/approval/page-handler.ts";
const REQUESTER_SOURCES = "handlers/approval/requester.ts";

/** The longest approvers list (as JSON) the page's environment holds: Lambda allows 4 KB of variables. */
const MAX_APPROVERS_JSON = 3000;

/** The page's requests per second and burst, per stage, unless given (`pageThrottle`). */
export const DEFAULT_PAGE_THROTTLE = { rateLimit: 10, burstLimit: 20 } as const;

/**
 * How old the oldest request may get before the queue-age alarm fires: a request not turned into
 * notifications within 5 minutes means the requester is failing (its work takes seconds).
 */
export const DEFAULT_REQUEST_AGE_ALARM_SECONDS = 300;

/** What the page's function may do with the tokens it holds: decide, and probe whether the task is over. */
export const PAGE_ACTIONS: readonly SendTaskAction[] = SEND_TASK_ACTIONS;
/** What the requester may do with a token: fail the task it cannot turn into a request. */
export const REQUESTER_ACTIONS: readonly SendTaskAction[] = ["states:SendTaskFailure"];

/** The channel settings an approval channel passes to its {@link CallbackChannel}. */
export const APPROVAL_CHANNEL_SETTINGS = [
    "maxReceiveCount",
    "workerTimeoutSeconds",
    "workerMemoryMb",
    "batchSize",
    "batchingWindowSeconds",
    "maxConcurrency",
    "queueRetentionSeconds",
    "dlqRetentionSeconds",
    "logRetentionDays",
    "runtime",
    "workerLogLevel",
    "kmsKey",
    "alarms",
    "alarmTopicArn",
    "alarmEmails",
    "tags",
    "queueAgeAlarmSeconds",
    "stateMachineArns",
    "stateMachineKmsKeyArn",
] as const satisfies readonly (keyof CallbackChannelArgs)[];

/**
 * Arguments of an {@link ApprovalChannel}: who approves, how they are told, and the settings of the
 * channel underneath (same names, defaults and ranges as {@link CallbackChannelArgs}).
 */
export interface ApprovalChannelArgs extends Pick<CallbackChannelArgs, (typeof APPROVAL_CHANNEL_SETTINGS)[number]> {
    /**
     * Who may decide: every approver gets a link of their own, signed for them. With the SNS notifier
     * (no `notifierEntry`) these are email addresses, each subscribed to the channel's topic with the
     * filter policy `{"approver": ["<address>"]}`; with a notifier of your own, any ids it understands (a
     * chat handle). A task may name a subset (`waitForApproval({approvers})`).
     */
    readonly approvers: readonly string[];
    /**
     * A module exporting `notifier` (typed `Notifier` from `callback-workflow/approval`) that delivers
     * each approver's link your way (a chat tool): absolute, or relative to the Pulumi program's directory.
     * Bundled into the requester like a `workerEntry`. Default: SNS email.
     */
    readonly notifierEntry?: string;
    /** Environment variables of the requester, for your notifier's settings (a webhook's secret's name). */
    readonly notifierEnvironment?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Point-in-time recovery of the approvals table (its audit trail). Default true. */
    readonly pointInTimeRecovery?: boolean;
    /** The page's throttling (API Gateway stage default route settings). Default 10 requests/s, burst 20. */
    readonly pageThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/** The argument names an approval channel takes. */
export const APPROVAL_CHANNEL_ARG_KEYS: readonly string[] = [
    ...APPROVAL_CHANNEL_SETTINGS,
    "approvers",
    "notifierEntry",
    "notifierEnvironment",
    "pointInTimeRecovery",
    "pageThrottle",
];

/** Channel arguments an approval channel refuses, and why: said in the error rather than "not an argument". */
const REFUSED: Readonly<Record<string, string>> = {
    heartbeatSeconds:
        "cannot be set on an approval channel: nobody sends heartbeats while a person thinks, so an approval task has no HeartbeatSeconds; its timeoutSeconds bounds the wait.",
    workerEntry:
        "cannot be set on an approval channel: its worker is the approval requester; to deliver the links your own way, give notifierEntry.",
    workerEnvironment: "is notifierEnvironment on an approval channel.",
    workerActions:
        "cannot be set on an approval channel: the requester may only fail the tasks it cannot turn into a request, and the page decides.",
    answerers:
        "cannot be set on an approval channel: its page answers its tasks; use a CallbackChannel for answerers of your own.",
};

/**
 * A text of the request (title, details, who asked): a literal, or a path (`$.order.title`), an intrinsic
 * function (`States.Format(...)`) or, in a JSONata state, an expression (`{% ... %}`) into the state.
 */
export type ApprovalText = string;

/** Options of {@link ApprovalChannel.waitForApproval}: the Task state, in the terms of Step Functions. */
export type WaitForApprovalOptions = {
    /** The request's title (at most 200 characters): a literal, or a JSONPath path/intrinsic, or JSONata `{% %}`. */
    readonly title: ApprovalText;
    /** What the approver reads (at most 10,000 characters; shown as text, never as HTML). Default none. */
    readonly details?: ApprovalText;
    /** Who may decide this task: a subset of the channel's approvers. Default: all of them. */
    readonly approvers?: readonly string[];
    /** Who asked, as the page shows it. Default: the state machine's and the execution's names. */
    readonly requestedBy?: ApprovalText;
    /**
     * `TimeoutSeconds`: how long the approvers have. The links expire when the state was entered plus
     * this; past it the task fails with `States.Timeout`. No `HeartbeatSeconds`: nobody beats while a
     * person thinks.
     */
    readonly timeoutSeconds: number;
    /** Where the decision goes in the state (`ResultPath`). Default `$.approval`; `null` keeps the input. */
    readonly resultPath?: JsonPath | null;
} & Pick<
    WaitForCallbackOptions,
    "queryLanguage" | "output" | "assign" | "resultSelector" | "retry" | "catch" | "comment"
> &
    ({ readonly next: string; readonly end?: never } | { readonly end: true; readonly next?: never });

/** The option names waitForApproval adds to a callback task's. */
const APPROVAL_TASK_KEYS = ["title", "details", "approvers", "requestedBy"] as const;
/** A callback task's option names that an approval task does not take, and why. */
const REFUSED_TASK_OPTIONS: Readonly<Record<string, string>> = {
    heartbeatSeconds:
        "cannot be set on an approval task: nobody sends heartbeats while a person thinks, and the task would fail with States.HeartbeatTimeout; timeoutSeconds bounds the wait.",
    input: "is not an option of an approval task: the request's title, details and requestedBy say what the approver reads.",
    messageTitle: "is title on an approval task.",
};

function isEmail(text: string): boolean {
    // The addresses SNS email subscriptions take: one @, a dot in the domain, no spaces.
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}

function approverProblems(key: string, value: unknown, emails: boolean, required: boolean): ArgProblem[] {
    if (value === undefined && !required) {
        return [];
    }
    if (!Array.isArray(value) || value.length === 0 || value.length > APPROVAL_LIMITS.approversMax) {
        return [
            {
                key,
                reason: `must list 1 to ${APPROVAL_LIMITS.approversMax} approvers (got ${JSON.stringify(value)}).`,
            },
        ];
    }
    const problems: ArgProblem[] = [];
    value.forEach((approver: unknown, index) => {
        if (!isApprover(approver)) {
            problems.push({
                key: `${key}[${index}]`,
                reason: `must be an approver's id: 1 to ${APPROVAL_LIMITS.approverMaxLength} characters, no control characters or surrounding spaces (got ${JSON.stringify(approver)}).`,
            });
        } else if (emails && !isEmail(approver)) {
            problems.push({
                key: `${key}[${index}]`,
                reason: `must be an email address: the SNS notifier subscribes each approver by email (got ${JSON.stringify(approver)}); give notifierEntry to notify other ids.`,
            });
        } else if (value.indexOf(approver) !== index) {
            problems.push({ key: `${key}[${index}]`, reason: `repeats ${JSON.stringify(approver)}.` });
        }
    });
    return problems;
}

/** The generated entry of a requester with a consumer's notifier (esbuild's stdin). */
function requesterWithNotifier(notifierFile: string): string {
    const requester = path.join(REPO_ROOT, REQUESTER_SOURCES);
    return [
        `import { notifier } from ${JSON.stringify(notifierFile)};`,
        `import { createApprovalRequesterHandlerFromEnv } from ${JSON.stringify(requester)};`,
        `if (typeof notifier !== "function") {`,
        `    throw new TypeError(${JSON.stringify(`${notifierFile} must export \`notifier\`, a function (a Notifier).`)});`,
        `}`,
        `export const handler = createApprovalRequesterHandlerFromEnv(process.env, { notifier });`,
        ``,
    ].join("\n");
}

/** The requester's bundle (with the consumer's notifier, if any), or the problem with the notifier. */
function requesterBundle(
    notifierEntry: unknown,
    runtime: LambdaRuntime | undefined,
): { problems: ArgProblem[]; bundle?: WorkerBundle } {
    const target = runtime !== undefined ? { runtime } : {};
    if (notifierEntry === undefined) {
        return {
            problems: [],
            bundle: bundleWorkerOnce({
                entry: path.join(REPO_ROOT, APPROVAL_REQUESTER_ENTRY),
                root: REPO_ROOT,
                ...target,
            }),
        };
    }
    if (typeof notifierEntry !== "string" || notifierEntry === "") {
        return {
            problems: [{ key: "notifierEntry", reason: `must be a path (got ${JSON.stringify(notifierEntry)}).` }],
        };
    }
    const root = programDirectory();
    const file = path.resolve(root, notifierEntry);
    if (!existsSync(file)) {
        return {
            problems: [
                {
                    key: "notifierEntry",
                    reason: `must name the notifier's module: ${file} does not exist (${JSON.stringify(notifierEntry)}, resolved from the program's directory ${root}).`,
                },
            ],
        };
    }
    try {
        return {
            problems: [],
            bundle: bundleWorkerOnce({
                entry: path.join(path.dirname(file), "approval-requester.generated.ts"),
                root,
                source: requesterWithNotifier(file),
                ...target,
            }),
        };
    } catch (error) {
        return {
            problems: [
                {
                    key: "notifierEntry",
                    reason: `must be a module exporting \`notifier\` (a Notifier) that esbuild can bundle for Lambda: ${error instanceof WorkerBundleError ? error.reasons.join("; ") : String(error)} (got ${JSON.stringify(notifierEntry)}).`,
                },
            ],
        };
    }
}

function validate(
    name: string,
    args: ApprovalChannelArgs,
): { requester: WorkerBundle; page: WorkerBundle; throttle: { rateLimit: number; burstLimit: number } } {
    const given = args as unknown as Record<string, unknown>;
    const problems: ArgProblem[] = [
        ...nameProblems(name),
        ...Object.keys(given)
            .filter((key) => key in REFUSED && given[key] !== undefined)
            .map((key) => ({ key, reason: REFUSED[key] as string })),
        ...unknownArgProblems(
            Object.fromEntries(Object.entries(given).filter(([key]) => !(key in REFUSED))),
            APPROVAL_CHANNEL_ARG_KEYS,
        ),
        ...approverProblems("approvers", args.approvers, args.notifierEntry === undefined, true),
    ];
    if (Array.isArray(args.approvers) && JSON.stringify(args.approvers).length > MAX_APPROVERS_JSON) {
        problems.push({
            key: "approvers",
            reason: `must fit in the page's environment (at most ${MAX_APPROVERS_JSON} characters as JSON, within Lambda's 4 KB of variables) so it can refuse the links of removed approvers (got ${JSON.stringify(args.approvers).length}).`,
        });
    }
    for (const key of Object.keys(args.notifierEnvironment ?? {})) {
        if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key) || /^APPROVAL_/.test(key)) {
            problems.push({
                key: `notifierEnvironment.${key}`,
                reason: "must be a name of letters, digits and underscores, not APPROVAL_* (the requester's own settings); the channel refuses the worker's and Lambda's reserved names too.",
            });
        }
    }
    if (args.pointInTimeRecovery !== undefined && typeof args.pointInTimeRecovery !== "boolean") {
        problems.push({
            key: "pointInTimeRecovery",
            reason: `must be true or false (got ${JSON.stringify(args.pointInTimeRecovery)}).`,
        });
    }
    const throttle = args.pageThrottle ?? DEFAULT_PAGE_THROTTLE;
    for (const [key, max] of [
        ["rateLimit", 10_000],
        ["burstLimit", 5_000],
    ] as const) {
        const value = (throttle as Record<string, unknown>)[key];
        if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
            problems.push({
                key: `pageThrottle.${key}`,
                reason: `must be an integer from 1 to ${max}, the account's default limits for an HTTP API (got ${JSON.stringify(value)}).`,
            });
        }
    }
    const runtime = typeof args.runtime === "string" ? args.runtime : undefined;
    const requester = requesterBundle(args.notifierEntry, runtime);
    problems.push(...requester.problems);
    if (problems.length > 0 || requester.bundle === undefined) {
        throw new pulumi.InputPropertiesError({
            message: `Invalid arguments for ApprovalChannel "${name}":\n${problems.map((p) => `- \`${p.key}\` ${p.reason}`).join("\n")}`,
            errors: problems.map((p) => ({ propertyPath: p.key, reason: p.reason })),
        });
    }
    const page = bundleWorkerOnce({
        entry: path.join(REPO_ROOT, APPROVAL_PAGE_ENTRY),
        root: REPO_ROOT,
        ...(runtime !== undefined ? { runtime } : {}),
    });
    return { requester: requester.bundle, page, throttle };
}

/** The Lambda code of a bundle. */
function codeOf(bundle: WorkerBundle): pulumi.asset.AssetArchive {
    return new pulumi.asset.AssetArchive(
        Object.fromEntries([...bundle.files].map(([file, text]) => [file, new pulumi.asset.StringAsset(text)])),
    );
}

/** A stable logical name part for an approver: renaming nothing else re-creates no other subscription. */
function approverKey(approver: string): string {
    return createHash("sha256").update(approver).digest("hex").slice(0, 10);
}

export class ApprovalChannel extends pulumi.ComponentResource implements AnsweringChannel {
    public readonly channelName: string;
    /** The channel underneath: its queue, DLQ and requester (its worker). */
    public readonly channel: CallbackChannel;
    /** The approvals table: pending approvals with their tokens, and decisions until their TTL. */
    public readonly tableName: pulumi.Output<string>;
    public readonly tableArn: pulumi.Output<string>;
    /** The secret holding the link-signing key ring (`{"current": "k1", "keys": {"k1": "<base64>"}}`). */
    public readonly keyRingSecretArn: pulumi.Output<string>;
    /** The page's base URL: links are `<pageUrl>/<approvalId>?a=&e=&k=&s=`. */
    public readonly pageUrl: pulumi.Output<string>;
    public readonly pageFunctionName: pulumi.Output<string>;
    public readonly pageRoleName: pulumi.Output<string>;
    public readonly pageLogGroupName: pulumi.Output<string>;
    public readonly apiAccessLogGroupName: pulumi.Output<string>;
    /** The approvers' topic (SNS notifier only). */
    public readonly topicArn: pulumi.Output<string> | undefined;
    public readonly approvers: readonly string[];

    private readonly emails: boolean;

    constructor(name: string, args: ApprovalChannelArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const { requester, page, throttle } = validate(name, args);
        super(APPROVAL_CHANNEL_TYPE, name, {}, opts);
        const inner = (args as WithInnerChannel<ApprovalChannelArgs>)[INNER_CHANNEL];
        this.channelName = name;
        this.approvers = [...args.approvers];
        this.emails = args.notifierEntry === undefined;
        const where: ChildOptions = { parent: this };
        const child = (extra: pulumi.CustomResourceOptions = {}) => childOptions(where, extra);
        const tags = { ...args.tags, "approval-channel": name };
        const accountId = getCallerIdentityOutput({}, { parent: this }).accountId;
        const logRetentionDays = args.logRetentionDays ?? INTEGER_ARGS.logRetentionDays.default;
        const runtime = args.runtime ?? DEFAULT_LAMBDA_RUNTIME;

        // The approvals: on demand, encrypted, expired items removed by TTL, recoverable to any second.
        const table = new dynamodb.Table(
            `${name}-approvals`,
            {
                billingMode: "PAY_PER_REQUEST",
                hashKey: APPROVAL_PARTITION_KEY,
                attributes: [{ name: APPROVAL_PARTITION_KEY, type: "S" }],
                ttl: { attributeName: APPROVAL_TTL_ATTRIBUTE, enabled: true },
                // The AWS managed key (aws/dynamodb): encrypted with KMS, usable by the roles' IAM policies.
                serverSideEncryption: { enabled: true },
                pointInTimeRecovery: { enabled: args.pointInTimeRecovery ?? true },
                tags,
            },
            child(),
        );

        // The link-signing key ring: the secret only. Its first value is made by the requester (in Lambda, on
        // its first request), so no key ever passes through Pulumi's state; rotate by adding a key.
        const secret = new secretsmanager.Secret(
            `${name}-link-keys`,
            {
                description: `Signs the approval links of approval channel ${name}: {"current": id, "keys": {id: base64 of 32 bytes or more}}.`,
                tags,
            },
            child(),
        );
        // The approvers' topic: one subscription per approver, each receiving only its own links.
        const topic =
            args.notifierEntry === undefined
                ? new sns.Topic(
                      `${name}-approvers`,
                      {
                          kmsMasterKeyId: args.kmsKey === "create" ? "alias/aws/sns" : (args.kmsKey ?? "alias/aws/sns"),
                          tags,
                      },
                      child(),
                  )
                : undefined;
        if (topic !== undefined) {
            new sns.TopicPolicy(
                `${name}-approvers-policy`,
                { arn: topic.arn, policy: renderPolicy([denyInsecureTransport(topic.arn, "sns:Publish")]) },
                child(),
            );
            for (const approver of this.approvers) {
                new sns.TopicSubscription(
                    `${name}-approver-${approverKey(approver)}`,
                    {
                        topic: topic.arn,
                        protocol: "email",
                        endpoint: approver,
                        filterPolicyScope: "MessageAttributes",
                        filterPolicy: JSON.stringify({ approver: [approver] }),
                    },
                    child(),
                );
            }
        }

        // The page: its own role, reading its table and the key ring, writing its own logs.
        const pageLogs = new cloudwatch.LogGroup(
            `${name}-page-logs`,
            { namePrefix: `/aws/lambda/${name}-page-`, retentionInDays: logRetentionDays, tags },
            child(),
        );
        const pageRole = new iam.Role(
            `${name}-page-role`,
            { assumeRolePolicy: pulumi.jsonStringify(assumeRolePolicy("lambda.amazonaws.com", accountId)), tags },
            child(),
        );
        const pagePolicy = new iam.RolePolicy(
            `${name}-page-policy`,
            {
                role: pageRole.id,
                policy: renderPolicy(
                    pageStatements({ tableArn: table.arn, secretArn: secret.arn, logGroupArn: pageLogs.arn }),
                ),
            },
            child(),
        );

        const pageFunction = new lambda.Function(
            `${name}-page`,
            {
                runtime,
                architectures: ["arm64"],
                handler: BUNDLE_HANDLER,
                code: codeOf(page),
                role: pageRole.arn,
                memorySize: 256,
                // Worst case: the key ring, GetItem, the probe and UpdateItem each with 3 attempts of 2 s,
                // SendTask* with 3 of its own; the integration waits a little longer (at most 30 s).
                timeout: 25,
                loggingConfig: { logFormat: "Text", logGroup: pageLogs.name },
                environment: {
                    variables: {
                        ...(runtime === "nodejs24.x" ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
                        POWERTOOLS_SERVICE_NAME: `${name}-page`,
                        POWERTOOLS_LOG_LEVEL: args.workerLogLevel ?? "INFO",
                        APPROVAL_TABLE_NAME: table.name,
                        APPROVAL_KEY_RING_SECRET_ID: secret.arn,
                        APPROVAL_CALL_TIMEOUT_MS: "2000",
                        // The approvers now: removing one revokes their outstanding links.
                        APPROVAL_APPROVERS: JSON.stringify(this.approvers),
                    },
                },
                tags,
            },
            child({ dependsOn: [pagePolicy] }),
        );

        // HTTPS: an HTTP API, throttled, its access logs without query strings (a link's signature).
        const api = new apigatewayv2.Api(
            `${name}-api`,
            { protocolType: "HTTP", description: `The approval page of approval channel ${name}.`, tags },
            child(),
        );
        const integration = new apigatewayv2.Integration(
            `${name}-api-page`,
            {
                apiId: api.id,
                integrationType: "AWS_PROXY",
                integrationUri: pageFunction.arn,
                integrationMethod: "POST",
                payloadFormatVersion: "2.0",
                timeoutMilliseconds: 29_000,
            },
            child(),
        );
        for (const [suffix, routeKey] of [
            ["get", "GET /{approvalId}"],
            ["head", "HEAD /{approvalId}"],
            ["post", "POST /{approvalId}"],
            ["script", "GET /assets/local-time.js"],
        ] as const) {
            new apigatewayv2.Route(
                `${name}-route-${suffix}`,
                { apiId: api.id, routeKey, target: pulumi.interpolate`integrations/${integration.id}` },
                child(),
            );
        }
        const accessLogs = new cloudwatch.LogGroup(
            `${name}-api-logs`,
            { namePrefix: `/aws/apigateway/${name}-`, retentionInDays: logRetentionDays, tags },
            child(),
        );
        const stage = new apigatewayv2.Stage(
            `${name}-api-stage`,
            {
                apiId: api.id,
                name: "$default",
                autoDeploy: true,
                defaultRouteSettings: {
                    throttlingRateLimit: throttle.rateLimit,
                    throttlingBurstLimit: throttle.burstLimit,
                },
                accessLogSettings: {
                    destinationArn: accessLogs.arn,
                    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
                    format: JSON.stringify({
                        requestId: "$context.requestId",
                        ip: "$context.identity.sourceIp",
                        userAgent: "$context.identity.userAgent",
                        requestTime: "$context.requestTime",
                        routeKey: "$context.routeKey",
                        status: "$context.status",
                        responseLength: "$context.responseLength",
                        integrationError: "$context.integrationErrorMessage",
                    }),
                },
                tags,
            },
            child(),
        );
        new lambda.Permission(
            `${name}-page-invoke`,
            {
                action: "lambda:InvokeFunction",
                function: pageFunction.name,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${api.executionArn}/*/*`,
            },
            child(),
        );
        const pageUrl = pulumi.all([api.apiEndpoint, stage.id]).apply(([endpoint]) => endpoint);

        // The channel underneath: the requester is its worker; the page answers its tasks.
        const channelArgs: WithWorkerBundle<CallbackChannelArgs> = {
            ...Object.fromEntries(
                APPROVAL_CHANNEL_SETTINGS.flatMap((k) => (args[k] !== undefined ? [[k, args[k]]] : [])),
            ),
            queueAgeAlarmSeconds: args.queueAgeAlarmSeconds ?? DEFAULT_REQUEST_AGE_ALARM_SECONDS,
            workerActions: REQUESTER_ACTIONS,
            answerers: [{ roleName: pageRole.name, actions: PAGE_ACTIONS }],
            // The requester's settings (it reads them at start) and the notifier's own.
            workerEnvironment: {
                ...args.notifierEnvironment,
                APPROVAL_TABLE_NAME: table.name,
                APPROVAL_KEY_RING_SECRET_ID: secret.arn,
                APPROVAL_PAGE_URL: pageUrl,
                ...(topic !== undefined ? { APPROVAL_TOPIC_ARN: topic.arn } : {}),
            },
            [WORKER_BUNDLE]: requester,
            ...(inner?.movedFrom !== undefined ? { [MOVED_FROM]: inner.movedFrom } : {}),
        };
        const channel = new CallbackChannel(name, channelArgs, {
            parent: this,
            ...(inner !== undefined ? { aliases: [...inner.aliases] } : {}),
        });

        // An approver who gets an error page cannot decide: tell the channel's alarm topic at once.
        if (channel.alarmTopicArn !== undefined) {
            new cloudwatch.MetricAlarm(
                `${name}-page-errors`,
                {
                    ...alarmCommon(channel.alarmTopicArn, tags),
                    alarmDescription: `The approval page of approval channel ${name} answered with server errors (5xx): approvers could not see or decide their requests (DynamoDB, Secrets Manager or Step Functions unreachable, or the page failing); see its log group.`,
                    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
                    namespace: "AWS/ApiGateway",
                    metricName: "5xx",
                    dimensions: { ApiId: api.id, Stage: "$default" },
                    statistic: "Sum",
                },
                child(),
            );
        }

        // The requester: writes pending approvals, reads the key ring, publishes to the approvers' topic.
        new iam.RolePolicy(
            `${name}-requester-policy`,
            {
                role: channel.workerRoleName,
                policy: renderPolicy(
                    requesterStatements({
                        tableArn: table.arn,
                        secretArn: secret.arn,
                        ...(topic !== undefined ? { topicArn: topic.arn } : {}),
                        ...(topic !== undefined && args.kmsKey !== undefined && args.kmsKey !== "create"
                            ? { topicKeyArn: args.kmsKey }
                            : {}),
                    }),
                ),
            },
            child(),
        );
        this.channel = channel;
        this.tableName = table.name;
        this.tableArn = table.arn;
        this.keyRingSecretArn = secret.arn;
        this.pageUrl = pageUrl;
        this.pageFunctionName = pageFunction.name;
        this.pageRoleName = pageRole.name;
        this.pageLogGroupName = pageLogs.name;
        this.apiAccessLogGroupName = accessLogs.name;
        this.topicArn = topic?.arn;
        this.registerOutputs({
            tableName: this.tableName,
            tableArn: this.tableArn,
            keyRingSecretArn: this.keyRingSecretArn,
            pageUrl: this.pageUrl,
            pageFunctionName: this.pageFunctionName,
            pageRoleName: this.pageRoleName,
            pageLogGroupName: this.pageLogGroupName,
            apiAccessLogGroupName: this.apiAccessLogGroupName,
            topicArn: this.topicArn,
        });
    }

    /**
     * A Task state that asks the approvers and waits for one of them to decide: a callback task on the
     * channel's queue whose message carries the request (`Approval`: title, details, approvers, who asked,
     * the timeout). Approve → the task succeeds with `{decision: "approved", approver, comment,
     * decidedAt}` (under `resultPath`, default `$.approval`); Reject → it fails with `Approval.Rejected`
     * and the comment as cause (catch it); nobody → `States.Timeout`. A `Workflow` using it grants the page
     * (and the requester, to fail a request it cannot use) on its state machine only. Throws
     * {@link CallbackTaskError} listing every problem.
     */
    public waitForApproval(options: WaitForApprovalOptions): TaskState {
        const given = options as unknown as Record<string, unknown>;
        const problems: ArgProblem[] = Object.keys(given)
            .filter((key) => key in REFUSED_TASK_OPTIONS && given[key] !== undefined)
            .map((key) => ({ key, reason: REFUSED_TASK_OPTIONS[key] as string }));
        const jsonata = options.queryLanguage === "JSONata";
        const text = (key: "title" | "details" | "requestedBy", value: unknown, max: number): void => {
            if (value === undefined && key !== "title") {
                return;
            }
            if (typeof value !== "string" || value.trim() === "") {
                problems.push({ key, reason: `must be a non-blank string (got ${JSON.stringify(value)}).` });
            } else if (!isDynamic(value, jsonata) && value.length > max) {
                problems.push({ key, reason: `must be at most ${max} characters (got ${value.length}).` });
            }
        };
        text("title", options.title, APPROVAL_LIMITS.titleMaxLength);
        text("details", options.details, APPROVAL_LIMITS.detailsMaxLength);
        text("requestedBy", options.requestedBy, APPROVAL_LIMITS.requestedByMaxLength);
        problems.push(...approverProblems("approvers", options.approvers, this.emails, false));
        if (this.emails && Array.isArray(options.approvers)) {
            options.approvers.forEach((approver: unknown, index) => {
                if (typeof approver === "string" && !this.approvers.includes(approver)) {
                    problems.push({
                        key: `approvers[${index}]`,
                        reason: `must be one of the channel's approvers (${this.approvers.join(", ")}): only they are subscribed to its topic (got ${JSON.stringify(approver)}).`,
                    });
                }
            });
        }
        const t = options.timeoutSeconds;
        if (typeof t === "number" && t > MAX_APPROVAL_TIMEOUT_SECONDS) {
            problems.push({
                key: "timeoutSeconds",
                reason: `must be at most ${MAX_APPROVAL_TIMEOUT_SECONDS} (a year), the longest a task may wait (got ${t}).`,
            });
        }
        if (problems.length > 0) {
            throw new CallbackTaskError(problems, this.channelName, true);
        }
        const field = (key: string, value: string): PayloadTemplate =>
            !jsonata && isDynamic(value, false) ? { [`${key}.$`]: value } : { [key]: value };
        const approval: { [key: string]: PayloadValue } = {
            ...field("title", options.title),
            ...(options.details !== undefined ? field("details", options.details) : {}),
            approvers: [...(options.approvers ?? this.approvers)],
            ...field(
                "requestedBy",
                options.requestedBy ??
                    (jsonata
                        ? '{% $states.context.StateMachine.Name & " (execution " & $states.context.Execution.Name & ")" %}'
                        : "States.Format('{} (execution {})', $$.StateMachine.Name, $$.Execution.Name)"),
            ),
            // The same number as the state's TimeoutSeconds: the links expire when the task does.
            timeoutSeconds: typeof t === "number" ? t : 0,
        };
        const callback = Object.fromEntries(
            Object.entries(options).filter(([key]) => !(APPROVAL_TASK_KEYS as readonly string[]).includes(key)),
        );
        return this.channel[CALLBACK_TASK](
            {
                ...callback,
                messageTitle: "Approval request",
                ...(jsonata
                    ? {}
                    : { resultPath: options.resultPath === undefined ? "$.approval" : options.resultPath }),
            } as WaitForCallbackOptions,
            { body: { Approval: approval }, input: false, keys: [...APPROVAL_TASK_KEYS], owner: this.channelName },
        );
    }

    /** Grants the page and the requester on a state machine (see `AnsweringChannel`). */
    public grantAnswers(grant: AnswerGrant): void {
        this.channel.grantAnswers(grant);
    }
}

/** Whether a text is a path, an intrinsic function or an expression rather than a literal. */
function isDynamic(value: string, jsonata: boolean): boolean {
    return jsonata ? /^\{%[\s\S]*%\}$/.test(value) : value.startsWith("$") || /^States\.[A-Za-z]+\(/.test(value);
}

/** The page's permissions besides answering: its table (read, decide), the key ring, its logs. */
export function pageStatements(inputs: {
    readonly tableArn: pulumi.Input<string>;
    readonly secretArn: pulumi.Input<string>;
    readonly logGroupArn: pulumi.Input<string>;
}): PolicyStatement[] {
    return [
        {
            Sid: "ReadAndDecideApprovals",
            Effect: "Allow",
            Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            Resource: inputs.tableArn,
        },
        { Sid: "ReadLinkKeys", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: inputs.secretArn },
        {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`${inputs.logGroupArn}:*`,
        },
    ];
}

/** The requester's permissions besides its channel's: write requests, read the key ring, notify. */
export function requesterStatements(inputs: {
    readonly tableArn: pulumi.Input<string>;
    readonly secretArn: pulumi.Input<string>;
    readonly topicArn?: pulumi.Input<string>;
    readonly topicKeyArn?: pulumi.Input<string>;
}): PolicyStatement[] {
    return [
        {
            Sid: "WriteApprovalRequests",
            Effect: "Allow",
            Action: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
            Resource: inputs.tableArn,
        },
        // PutSecretValue: the first ring, when the secret has none (SecretsManagerKeyRing's createIfMissing).
        {
            Sid: "ReadAndCreateLinkKeys",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            Resource: inputs.secretArn,
        },
        ...(inputs.topicArn !== undefined
            ? [
                  {
                      Sid: "NotifyApprovers",
                      Effect: "Allow" as const,
                      Action: ["sns:Publish"],
                      Resource: inputs.topicArn,
                  },
                  ...kmsStatements("EncryptForApproversTopic", inputs.topicKeyArn, {
                      "kms:EncryptionContext:aws:sns:topicArn": inputs.topicArn,
                  }),
              ]
            : []),
    ];
}
