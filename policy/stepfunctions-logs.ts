/**
 * Step Functions: state machines log ALL events. At ERROR or FATAL, CloudWatch Logs gets only failed
 * executions' events, so a successful execution leaves no history once Step Functions' own 90-day
 * execution history is gone (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
 * cdk-nag AwsSolutions-SF1. Whether the machine logs at all, where to and without execution data is
 * state-machine-logging's (stepfunctions.ts); this policy asks only for level ALL.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN } from "./lib/unknowns";
import { field, isAbsent, isRecord, readPlainly, show } from "./lib/values";

export const stateMachineLogsAllEvents: ResourceValidationPolicy = {
    name: "state-machine-logs-all-events",
    description:
        'Checks that every state machine logs ALL events to CloudWatch Logs (loggingConfiguration.level "ALL").',
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.stateMachine) {
            return;
        }
        const logging = field(args.props, "loggingConfiguration");
        const level = isAbsent(logging) ? undefined : field(logging, "level");
        if (logging === UNKNOWN || level === UNKNOWN) {
            readPlainly(() => {
                const config = (args.props as Record<string, unknown>)["loggingConfiguration"];
                return (config as Record<string, unknown>)["level"];
            });
            return;
        }
        if (!isAbsent(logging) && !isRecord(logging)) {
            reportViolation(
                `${describe(args)}: loggingConfiguration ${show(logging)} is not valid: set loggingConfiguration: {level: "ALL", includeExecutionData: false, logDestination: "<log group ARN>:*"}.`,
            );
            return;
        }
        if (level === "ALL") {
            return;
        }
        if (!isAbsent(level) && typeof level !== "string") {
            reportViolation(`${describe(args)}: loggingConfiguration.level ${show(level)} is not valid: set "ALL".`);
            return;
        }
        reportViolation(
            `${describe(args)} logs level ${show(level ?? "OFF")}, not "ALL": CloudWatch Logs gets no events of the executions that succeed. Set loggingConfiguration.level "ALL" (with includeExecutionData false: state-machine-logging).`,
        );
    },
};
