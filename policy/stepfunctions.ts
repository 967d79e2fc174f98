/** Step Functions: callback tasks time out, run in STANDARD machines, and definitions are valid; logging and tracing on. */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { callbackTasks, parseDefinition, tokenTasks, type TokenTask } from "./lib/asl";
import { validateAsl } from "../components/asl-validate";
import { describe, isSet, peek } from "./lib/stack";
import { T } from "./lib/types";

/** The parsed definition of a state machine, or undefined for other resources (reading it may throw an unknown in preview). */
function definitionOf(args: ResourceValidationArgs): Record<string, unknown> | undefined {
    return args.type === T.stateMachine
        ? parseDefinition((args.props as { definition?: unknown }).definition)
        : undefined;
}

export const callbackTaskHasTimeout: ResourceValidationPolicy = {
    name: "callback-task-has-timeout",
    description:
        "Checks that every task that waits for a task token (.waitForTaskToken or an activity, nested in Parallel and Map too) sets TimeoutSeconds or TimeoutSecondsPath, with HeartbeatSeconds below TimeoutSeconds.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const definition = definitionOf(args);
        if (definition === undefined) {
            return;
        }
        for (const { path, state, kind } of tokenTasks(definition)) {
            const timeout = state["TimeoutSeconds"];
            if (timeout === undefined && state["TimeoutSecondsPath"] === undefined) {
                reportViolation(
                    `${describe(args)}: ${kind} task "${path}" has no TimeoutSeconds or TimeoutSecondsPath, so a lost task token leaves the execution waiting for up to a year. Set TimeoutSeconds (and catch States.Timeout).`,
                );
            }
            const heartbeat = state["HeartbeatSeconds"];
            if (typeof heartbeat === "number" && typeof timeout === "number" && heartbeat >= timeout) {
                reportViolation(
                    `${describe(args)}: ${kind} task "${path}" has HeartbeatSeconds ${heartbeat}, which must be less than its TimeoutSeconds ${timeout}.`,
                );
            }
        }
    },
};

export const callbackNeedsStandardWorkflow: ResourceValidationPolicy = {
    name: "callback-needs-standard-workflow",
    description:
        "Checks that every .waitForTaskToken or activity task runs in a STANDARD execution: the state machine is STANDARD, and no Distributed Map around the task runs EXPRESS child executions (Express workflows support neither).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const definition = definitionOf(args);
        if (definition === undefined) {
            return;
        }
        const given = (args.props as { type?: unknown }).type;
        const type = typeof given === "string" ? given : "STANDARD";
        const tasks = tokenTasks(definition);
        const named = (t: TokenTask): string => `${t.kind === "activity" ? "activity " : ""}"${t.path}"`;
        const needs = tasks.some((t) => t.kind === "activity")
            ? ".waitForTaskToken and activity tasks need"
            : ".waitForTaskToken needs";
        if (tasks.length > 0 && type.toUpperCase() !== "STANDARD") {
            reportViolation(
                `${describe(args)} is ${type} but waits for task tokens in ${tasks.map(named).join(", ")}: ${needs} type STANDARD (https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html).`,
            );
            return;
        }
        for (const task of tasks.filter((t) => t.expressMap !== undefined)) {
            reportViolation(
                `${describe(args)}: ${task.kind} task "${task.path}" runs in the EXPRESS child executions of Distributed Map "${task.expressMap}", which cannot wait for task tokens: set its ItemProcessor.ProcessorConfig.ExecutionType to "STANDARD".`,
            );
        }
    },
};

export const stateMachineDefinitionValid: ResourceValidationPolicy = {
    name: "state-machine-definition-valid",
    description:
        "Checks that every state machine definition passes asl-validator (schema, transitions, terminal states, paths).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.stateMachine) {
            return;
        }
        const definition = definitionOf(args);
        if (definition === undefined) {
            reportViolation(`${describe(args)}: the definition is not valid: it is not a JSON object.`);
            return;
        }
        let result: ReturnType<typeof validateAsl>;
        try {
            result = validateAsl(definition);
        } catch (error) {
            reportViolation(
                `${describe(args)}: the definition is not valid ASL: asl-validator could not read it (${error instanceof Error ? error.message : String(error)}).`,
            );
            return;
        }
        const { isValid, errors } = result;
        if (!isValid) {
            const listed = errors
                .slice(0, 5)
                .map((e) => `${e["Error code"]}: ${e.Message}${e.path ? ` at ${e.path}` : ""}`);
            reportViolation(
                `${describe(args)}: the definition is not valid ASL (${errors.length} error${errors.length === 1 ? "" : "s"}): ${listed.join("; ")}.`,
            );
        }
    },
};

const LOG_LEVELS = ["ALL", "ERROR", "FATAL"];

export const stateMachineLogging: ResourceValidationPolicy = {
    name: "state-machine-logging",
    description:
        "Checks that every state machine logs to CloudWatch (level ALL, ERROR or FATAL), and that one with callback tasks logs no execution data, which carries their task tokens.",
    enforcementLevel: "advisory",
    configSchema: { properties: { allowExecutionData: { type: "boolean", default: false } } },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.stateMachine) {
            return;
        }
        const { allowExecutionData } = {
            allowExecutionData: false,
            ...args.getConfig<{ allowExecutionData?: boolean }>(),
        };
        const logging = peek(() => (args.props as { loggingConfiguration?: unknown }).loggingConfiguration);
        const config =
            typeof logging === "object" && logging !== null ? (logging as Record<string, unknown>) : undefined;
        const level = config === undefined ? undefined : config["level"];
        const destination = config !== undefined && isSet({ props: config }, (props) => props["logDestination"]);
        if (config === undefined || typeof level !== "string" || !LOG_LEVELS.includes(level) || !destination) {
            reportViolation(
                `${describe(args)} does not log (level ${JSON.stringify(typeof level === "string" ? level : "OFF")}${destination ? "" : ", no logDestination"}): set loggingConfiguration with level ${LOG_LEVELS.join(", ")} and a logDestination.`,
            );
        } else if (config["includeExecutionData"] === true && !allowExecutionData) {
            const definition = definitionOf(args);
            const tasks = definition === undefined ? [] : callbackTasks(definition);
            if (tasks.length > 0) {
                reportViolation(
                    `${describe(args)} logs execution data, which carries the task tokens of its callback tasks (${tasks.map((t) => `"${t.path}"`).join(", ")}), bearer secrets: set includeExecutionData: false, or allowExecutionData in this policy's config.`,
                );
            }
        }
    },
};

export const stateMachineTracing: ResourceValidationPolicy = {
    name: "state-machine-tracing",
    description: "Checks that every state machine has X-Ray tracing on.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.stateMachine) {
            return;
        }
        const tracing = (args.props as { tracingConfiguration?: unknown }).tracingConfiguration;
        if (typeof tracing !== "object" || tracing === null || (tracing as { enabled?: unknown }).enabled !== true) {
            reportViolation(`${describe(args)} is not traced: set tracingConfiguration: { enabled: true }.`);
        }
    },
};
