/**
 * Lambda: function URLs require IAM authentication. With authorizationType NONE, Lambda invokes the
 * function for any request from anyone on the internet, and only the function itself can refuse it
 * (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). Nearest rules: cdk-nag's Lambda
 * function URL checks; Checkov CKV_AWS_258.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN } from "./lib/unknowns";
import { field, readPlainly, show, stringList } from "./lib/values";

/** The function's name in a name, a partial ARN (123456789012:function:name) or an ARN, without qualifier. */
export function functionNameOf(reference: string): string {
    return /(?:^|:)function:([^:]+)/.exec(reference)?.[1] ?? reference;
}

export const lambdaFunctionUrlAuth: ResourceValidationPolicy = {
    name: "lambda-function-url-auth",
    description:
        'Checks that every Lambda function URL requires IAM authentication (authorizationType "AWS_IAM"), but those listed in publicFunctionUrls.',
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            publicFunctionUrls: {
                type: "array",
                items: { type: "string" },
                default: [],
                description:
                    "Function URLs that are public on purpose (a page that authenticates callers with signed links, a webhook that checks signatures): logical names of aws.lambda.FunctionUrl resources, or the names of their functions.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== T.functionUrl) {
            return;
        }
        const config = { publicFunctionUrls: [] as string[], ...args.getConfig<{ publicFunctionUrls?: string[] }>() };
        const exempt = stringList(config.publicFunctionUrls);
        if (exempt.includes(args.name)) {
            return;
        }
        const props: unknown = args.props;
        const auth = field(props, "authorizationType");
        if (auth === "AWS_IAM") {
            return;
        }
        if (auth === UNKNOWN) {
            readPlainly(() => (args.props as Record<string, unknown>)["authorizationType"]);
            return;
        }
        if (auth !== "NONE") {
            reportViolation(
                `${describe(args)}: authorizationType ${show(auth)} is not valid: set "AWS_IAM" (or "NONE" for a URL listed in this policy's publicFunctionUrls).`,
            );
            return;
        }
        const functionName = field(props, "functionName");
        if (functionName === UNKNOWN) {
            if (exempt.length > 0) {
                // The function's name, once known, may be listed.
                readPlainly(() => (args.props as Record<string, unknown>)["functionName"]);
                return;
            }
        } else if (
            typeof functionName === "string" &&
            (exempt.includes(functionName) || exempt.includes(functionNameOf(functionName)))
        ) {
            return;
        }
        const what = typeof functionName === "string" ? ` function "${functionNameOf(functionName)}"` : " its function";
        reportViolation(
            `${describe(args)} has authorizationType "NONE": anyone on the internet can invoke${what}. Set authorizationType "AWS_IAM" (callers sign requests with SigV4), or, if it is public on purpose and authenticates callers itself, list "${args.name}" in this policy's publicFunctionUrls.`,
        );
    },
};
