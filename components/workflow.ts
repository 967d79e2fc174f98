/**
 * Workflow: a Step Functions state machine from a typed definition, with its role derived from what its
 * tasks declare, its logs, tracing and alarms. For every channel whose `waitForCallback` the definition
 * uses, it lets that channel's answerers answer on its own state machine: one channel can serve several
 * workflows, and an answerer can answer only the workflows that use its channel.
 */
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import { getRegionOutput } from "@pulumi/aws/getRegion";
import * as iam from "@pulumi/aws/iam";
import * as sfn from "@pulumi/aws/sfn";
import * as pulumi from "@pulumi/pulumi";
import {
    AslValidationError,
    renderDefinition,
    statementsOf,
    validateDefinition,
    walkStates,
    type StateMachineDefinition,
    type WorkflowType,
} from "./asl";
import { MOVED_FROM, type WithMovedFrom } from "./channel";
import { grantsOf, type AnsweringChannel } from "./grants";
import {
    assumeRolePolicy,
    logDeliveryKeyStatement,
    renderPolicy,
    stateMachineKeyStatement,
    stateMachineServiceStatements,
    type PolicyStatement,
} from "./iam";
import { alarmCommon, alarmTopicOf, childOptions, createComponentKey, type ChildOptions } from "./resources";
import {
    argProblems,
    nameProblems,
    resolveArgs,
    unknownArgProblems,
    type ArgProblem,
    type CallbackWorkflowArgs,
    type ResolvedArgs,
} from "./settings";

/** The component's type token (`<package>:<module>:<type>`); never rename it without an alias. */
export const WORKFLOW_TYPE = "callback:index:Workflow";

/** The settings a workflow shares with {@link CallbackWorkflowArgs}, documented there. */
export const WORKFLOW_SETTINGS = [
    "stateMachineLogLevel",
    "includeExecutionData",
    "tracing",
    "logRetentionDays",
    "kmsKey",
    "alarms",
    "alarmTopicArn",
    "alarmEmails",
    "tags",
] as const satisfies readonly (keyof CallbackWorkflowArgs)[];

/** Arguments of a {@link Workflow}. */
export interface WorkflowArgs extends Pick<CallbackWorkflowArgs, (typeof WORKFLOW_SETTINGS)[number]> {
    /**
     * The state machine's definition as typed ASL. Tasks made by `channel.waitForCallback` and this
     * package's integrations carry the statements the role needs; Outputs may sit anywhere inside.
     */
    readonly definition: StateMachineDefinition;
    /** `STANDARD` (default) or `EXPRESS`; callback tasks need `STANDARD`. */
    readonly type?: WorkflowType;
    /**
     * Statements the state machine's role needs besides those its tasks carry: for Task states that name
     * their resource themselves (a Lambda function's ARN, an activity).
     */
    readonly statements?: readonly PolicyStatement[];
}

/** The argument names a workflow takes. */
export const WORKFLOW_ARG_KEYS: readonly string[] = [...WORKFLOW_SETTINGS, "definition", "type", "statements"];

/** Every state of a definition at any depth (Parallel branches, Map processors), for the grants its tasks carry. */
function allStates(definition: StateMachineDefinition): unknown[] {
    const states: unknown[] = [];
    walkStates(definition, (_name, state) => states.push(state));
    return states;
}

function validateWorkflow(name: string, args: WorkflowArgs): { settings: ResolvedArgs; type: WorkflowType } {
    const problems: ArgProblem[] = [
        ...nameProblems(name),
        ...unknownArgProblems(args, WORKFLOW_ARG_KEYS),
        ...argProblems(
            Object.fromEntries(
                Object.entries(args).filter(([key]) => (WORKFLOW_SETTINGS as readonly string[]).includes(key)),
            ),
        ),
    ];
    const type = args.type ?? "STANDARD";
    if (type !== "STANDARD" && type !== "EXPRESS") {
        problems.push({ key: "type", reason: `must be STANDARD or EXPRESS (got ${JSON.stringify(args.type)}).` });
    }
    if (typeof args.definition !== "object" || args.definition === null) {
        problems.push({
            key: "definition",
            reason: `must be a state machine definition {StartAt, States} (got ${JSON.stringify(args.definition)}).`,
        });
    } else {
        try {
            validateDefinition(args.definition, type === "EXPRESS" ? "EXPRESS" : "STANDARD");
        } catch (error) {
            if (!(error instanceof AslValidationError)) {
                throw error;
            }
            problems.push(...error.problems.map((reason) => ({ key: "definition", reason })));
        }
    }
    if (problems.length > 0) {
        throw new pulumi.InputPropertiesError({
            message: `Invalid arguments for Workflow "${name}":\n${problems.map((p) => `- \`${p.key}\` ${p.reason}`).join("\n")}`,
            errors: problems.map((p) => ({ propertyPath: p.key, reason: p.reason })),
        });
    }
    return { settings: resolveArgs(args), type };
}

export class Workflow extends pulumi.ComponentResource {
    public readonly stateMachineArn: pulumi.Output<string>;
    public readonly stateMachineName: pulumi.Output<string>;
    /** The state machine's role, for grants of your own. */
    public readonly roleName: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    /** Where the workflow's alarms go; undefined when alarms are off. */
    public readonly alarmTopicArn: pulumi.Output<string> | undefined;
    /** The customer managed key of the state machine and its logs, when there is one. */
    public readonly kmsKeyArn: pulumi.Output<string> | undefined;

    constructor(name: string, args: WorkflowArgs, opts: pulumi.ComponentResourceOptions = {}) {
        // Validated before anything is registered: a bad argument leaves nothing behind.
        const { settings, type } = validateWorkflow(name, args);
        super(WORKFLOW_TYPE, name, {}, opts);
        const movedFrom = (args as WithMovedFrom<WorkflowArgs>)[MOVED_FROM];
        const where: ChildOptions = { parent: this, ...(movedFrom !== undefined ? { movedFrom } : {}) };
        const child = (extra: pulumi.CustomResourceOptions = {}) => childOptions(where, extra);
        const tags = movedFrom !== undefined ? { ...settings.tags } : { ...settings.tags, "callback-workflow": name };
        const partition = getPartitionOutput({}, { parent: this }).partition;
        const accountId = getCallerIdentityOutput({}, { parent: this }).accountId;

        const key =
            settings.kmsKey === "create"
                ? createComponentKey(
                      name,
                      `Encrypts the state machine, logs and alarm topic of workflow ${name}.`,
                      where,
                      { partition, accountId },
                      tags,
                  )
                : undefined;
        const kmsKeyArn: pulumi.Input<string> | undefined = key?.arn ?? settings.kmsKey;

        // The state machine's log group sits under /aws/vendedlogs/ as AWS advises.
        const logs = new cloudwatch.LogGroup(
            `${name}-sfn-logs`,
            {
                namePrefix: `/aws/vendedlogs/states/${name}-`,
                retentionInDays: settings.logRetentionDays,
                ...(kmsKeyArn !== undefined ? { kmsKeyId: kmsKeyArn } : {}),
                tags,
            },
            child(),
        );

        // Role: the union of what its tasks declared and what it was given, + log delivery and X-Ray on "*".
        const states = allStates(args.definition);
        const taskStatements = statementsOf(
            states.flatMap((state) => {
                const grants = grantsOf(state);
                return grants !== undefined ? [{ state: state as never, statements: grants.statements }] : [];
            }),
        );
        const role = new iam.Role(
            `${name}-sfn-role`,
            { assumeRolePolicy: pulumi.jsonStringify(assumeRolePolicy("states.amazonaws.com", accountId)), tags },
            child(),
        );
        const logging = settings.stateMachineLogLevel !== "OFF";
        const statements: PolicyStatement[] = [
            ...taskStatements,
            ...(args.statements ?? []),
            ...stateMachineServiceStatements({ logging, tracing: settings.tracing }),
            ...(kmsKeyArn !== undefined && logging ? [logDeliveryKeyStatement(kmsKeyArn, partition, accountId)] : []),
        ];
        const policy = new iam.RolePolicy(
            `${name}-sfn-policy`,
            { role: role.id, policy: renderPolicy(statements) },
            child(),
        );
        const stateMachine = new sfn.StateMachine(
            `${name}-state-machine`,
            {
                type,
                roleArn: role.arn,
                definition: renderDefinition(args.definition, partition, type),
                loggingConfiguration: {
                    level: settings.stateMachineLogLevel,
                    includeExecutionData: settings.includeExecutionData,
                    ...(logging ? { logDestination: pulumi.interpolate`${logs.arn}:*` } : {}),
                },
                tracingConfiguration: { enabled: settings.tracing },
                ...(kmsKeyArn !== undefined
                    ? {
                          encryptionConfiguration: {
                              type: "CUSTOMER_MANAGED_KMS_KEY",
                              kmsKeyId: kmsKeyArn,
                              kmsDataKeyReusePeriodSeconds: 300,
                          },
                      }
                    : {}),
                tags,
            },
            // AWS checks log delivery permissions when the state machine is created.
            child({ dependsOn: [policy] }),
        );
        // The machine's own use of its key, scoped to its own ARN (known once it exists; executions start after).
        if (kmsKeyArn !== undefined) {
            new iam.RolePolicy(
                `${name}-sfn-key-policy`,
                {
                    role: role.id,
                    policy: renderPolicy([
                        stateMachineKeyStatement("EncryptOwnExecutionData", kmsKeyArn, stateMachine.arn),
                    ]),
                },
                child(),
            );
        }

        // A Distributed Map runs its items as child executions of this machine: the role starts, describes
        // and stops them, on its own ARN and its executions only (known once it exists, like its key policy).
        // https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html
        let distributed = false;
        walkStates(args.definition, (_name, state) => {
            const processor = (state as { ItemProcessor?: { ProcessorConfig?: { Mode?: string } } }).ItemProcessor;
            distributed ||= state.Type === "Map" && processor?.ProcessorConfig?.Mode === "DISTRIBUTED";
        });
        if (distributed) {
            const region = getRegionOutput({}, { parent: this }).region;
            new iam.RolePolicy(
                `${name}-sfn-distributed-map-policy`,
                {
                    role: role.id,
                    policy: renderPolicy([
                        {
                            Sid: "StartChildExecutions",
                            Effect: "Allow",
                            Action: ["states:StartExecution"],
                            Resource: stateMachine.arn,
                        },
                        {
                            Sid: "ManageChildExecutions",
                            Effect: "Allow",
                            Action: ["states:DescribeExecution", "states:StopExecution"],
                            Resource: pulumi.interpolate`arn:${partition}:states:${region}:${accountId}:execution:${stateMachine.name}/*`,
                        },
                    ]),
                },
                child(),
            );
        }

        // Each channel the definition waits on answers on this machine, and only its answerers do.
        const channels = new Set<AnsweringChannel>();
        for (const state of states) {
            const channel = grantsOf(state)?.answeredBy;
            if (channel !== undefined) {
                channels.add(channel);
            }
        }
        for (const channel of channels) {
            channel.grantAnswers({
                scope: this,
                scopeName: name,
                stateMachineArn: stateMachine.arn,
                ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}),
            });
        }

        const alarmTopicArn = alarmTopicOf(name, where, settings, { kmsKeyArn, partition, accountId, tags });
        if (alarmTopicArn !== undefined) {
            const common = alarmCommon(alarmTopicArn, tags);
            for (const [suffix, metricName, what] of [
                ["executions-failed", "ExecutionsFailed", "failed"],
                ["executions-timed-out", "ExecutionsTimedOut", "timed out"],
                ["executions-aborted", "ExecutionsAborted", "were aborted"],
            ] as const) {
                new cloudwatch.MetricAlarm(
                    `${name}-${suffix}`,
                    {
                        ...common,
                        alarmDescription: `Executions of workflow ${name} ${what}.`,
                        namespace: "AWS/States",
                        metricName,
                        dimensions: { StateMachineArn: stateMachine.arn },
                        statistic: "Sum",
                    },
                    child(),
                );
            }
        }

        this.stateMachineArn = stateMachine.arn;
        this.stateMachineName = stateMachine.name;
        this.roleName = role.name;
        this.roleArn = role.arn;
        this.logGroupName = logs.name;
        this.alarmTopicArn = alarmTopicArn;
        this.kmsKeyArn = key?.arn ?? (kmsKeyArn !== undefined ? pulumi.output(kmsKeyArn) : undefined);
        this.registerOutputs({
            stateMachineArn: this.stateMachineArn,
            stateMachineName: this.stateMachineName,
            roleName: this.roleName,
            roleArn: this.roleArn,
            logGroupName: this.logGroupName,
            alarmTopicArn: this.alarmTopicArn,
            kmsKeyArn: this.kmsKeyArn,
        });
    }
}
