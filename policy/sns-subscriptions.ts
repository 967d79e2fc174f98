/**
 * SNS: every subscription to a machine endpoint has a dead-letter queue. When SNS gets a client-side
 * error, or a server-side error past its delivery policy's retries, it discards the message unless the
 * subscription has a redrive policy naming an SQS queue
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html,
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html). Nearest rules: the
 * serverless rules' "SNS redrive policy" (cdk-nag ServerlessChecks).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN } from "./lib/unknowns";
import { field, isAbsent, jsonObject, readPlainly, show, stringList } from "./lib/values";

/**
 * The protocols checked by default: endpoints that are programs, where a lost message is lost work.
 * AWS documents no protocol without DLQ support; email, email-json and SMS are left out by default
 * because they notify people (the component's alarm emails are such subscriptions), and SNS hands the
 * message to a mail or SMS provider, so what reaches the DLQ is not what a reader misses. Add them to
 * `protocols` to check them too.
 */
export const SNS_DLQ_PROTOCOLS = ["sqs", "lambda", "firehose", "http", "https", "application"] as const;

/** arn:<partition>:sqs:<region>:<account>:<queue name> */
const SQS_ARN = /^arn:[a-z-]+:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/;

export const snsSubscriptionHasDlq: ResourceValidationPolicy = {
    name: "sns-subscription-has-dlq",
    description:
        "Checks that every SNS subscription of the configured protocols (by default sqs, lambda, firehose, http, https, application) has a redrivePolicy naming an SQS dead-letter queue, so that SNS keeps the messages it cannot deliver.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            protocols: { type: "array", items: { type: "string" }, default: [...SNS_DLQ_PROTOCOLS] },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.topicSubscription) {
            return;
        }
        const config = { protocols: [...SNS_DLQ_PROTOCOLS], ...args.getConfig<{ protocols?: string[] }>() };
        const protocols = stringList(config.protocols, SNS_DLQ_PROTOCOLS).map((p) => p.toLowerCase());
        const props: unknown = args.props;
        const protocol = field(props, "protocol");
        // A protocol that is not a string is not exempt.
        const applies =
            protocol === UNKNOWN
                ? UNKNOWN
                : typeof protocol === "string"
                  ? protocols.includes(protocol.toLowerCase())
                  : true;
        if (applies === false) {
            return;
        }
        const redrive = field(props, "redrivePolicy");
        if (redrive === UNKNOWN) {
            // Its deadLetterTargetArn, once known, decides.
            readPlainly(() => (args.props as Record<string, unknown>)["redrivePolicy"]);
            return;
        }
        const problem = redriveProblem(redrive);
        if (problem === undefined) {
            return;
        }
        if (applies === UNKNOWN) {
            readPlainly(() => (args.props as Record<string, unknown>)["protocol"]);
            return;
        }
        reportViolation(`${describe(args)} (protocol ${show(protocol)}) ${problem}`);
    },
};

/** What is wrong with a subscription's redrive policy, or undefined when it names an SQS queue. */
function redriveProblem(redrive: unknown): string | undefined {
    const fix =
        'set redrivePolicy to {"deadLetterTargetArn": <SQS queue ARN>} (a queue whose policy lets sns.amazonaws.com send to it from this topic)';
    if (isAbsent(redrive)) {
        return `has no dead-letter queue, so SNS discards the messages it cannot deliver after its retries: ${fix}.`;
    }
    const policy = jsonObject(redrive);
    if (policy === undefined) {
        return `has a redrivePolicy that is not valid (got ${show(redrive)}): ${fix}.`;
    }
    const target = field(policy, "deadLetterTargetArn");
    if (target === UNKNOWN) {
        return undefined; // the ARN of a queue created with it
    }
    if (typeof target !== "string" || !SQS_ARN.test(target)) {
        return `has a redrivePolicy whose deadLetterTargetArn ${show(target)} is not valid, it must be an SQS queue ARN: ${fix}.`;
    }
    return undefined;
}
