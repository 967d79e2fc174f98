/**
 * Smoke test of a deployed callback workflow: starts one execution with the real SDK and waits for it
 * to end. The same script runs against AWS after a deploy and against the local harness
 * (`AWS_ENDPOINT_URL_SFN` pointing at `npm start -- --serve`).
 *
 *   node build/scripts/smoke.js --state-machine-arn ARN [--input JSON] [--expect SUCCEEDED] [--timeout-seconds 120]
 *
 * Exits 0 when the execution ends with the expected status, 1 when it does not, 2 on bad arguments.
 */
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, type ExecutionStatus } from "@aws-sdk/client-sfn";
import { HelpRequest, parseFlags, runMain, UsageError } from "./run-main";

const STATUSES: readonly ExecutionStatus[] = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

export interface SmokeOptions {
    readonly stateMachineArn: string;
    /** The region in the ARN: the execution starts where the state machine is, whatever AWS_REGION says. */
    readonly region: string;
    readonly input: string;
    readonly expect: ExecutionStatus;
    readonly timeoutSeconds: number;
    readonly pollMs: number;
}

export const USAGE = `Usage: node build/scripts/smoke.js --state-machine-arn ARN [--input JSON] [--expect STATUS] [--timeout-seconds N] [--poll-ms N]
Starts one execution of a deployed callback workflow (or of the local harness: set AWS_ENDPOINT_URL_SFN
to the endpoint \`npm start -- --serve\` prints) and waits for it to end. Exit 0 when it ends with the
expected status, 1 when it does not, 2 on bad arguments.
Options:
  --state-machine-arn ARN   the state machine (the stack output stateMachineArn); its region is used
  --input JSON              the execution input (default an approving order)
  --expect STATUS           ${STATUSES.join(", ")} (default SUCCEEDED)
  --timeout-seconds N       give up after N seconds (default 120)
  --poll-ms N               DescribeExecution every N ms (default 1000)
  -h, --help                print this usage`;

/** The options of a command line; throws {@link HelpRequest} for --help, {@link UsageError} listing every problem. */
export function parseSmokeArgs(argv: readonly string[]): SmokeOptions {
    const { values } = parseFlags({
        args: [...argv],
        options: {
            "state-machine-arn": { type: "string" },
            input: { type: "string", default: '{"order": 1, "decision": "approve", "smokeTest": true}' },
            expect: { type: "string", default: "SUCCEEDED" },
            "timeout-seconds": { type: "string", default: "120" },
            "poll-ms": { type: "string", default: "1000" },
            help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
    });
    if (values.help) {
        throw new HelpRequest();
    }
    const problems: string[] = [];
    const arn = values["state-machine-arn"];
    const region = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]+$/.exec(arn ?? "")?.[1];
    if (arn === undefined || region === undefined) {
        problems.push(
            `--state-machine-arn must be a state machine ARN (the stack output stateMachineArn) (got ${JSON.stringify(arn)}).`,
        );
    }
    try {
        JSON.parse(values.input);
    } catch {
        problems.push(`--input must be JSON (got ${JSON.stringify(values.input)}).`);
    }
    if (!(STATUSES as readonly string[]).includes(values.expect)) {
        problems.push(`--expect must be one of ${STATUSES.join(", ")} (got ${JSON.stringify(values.expect)}).`);
    }
    const timeoutSeconds = Number(values["timeout-seconds"]);
    const pollMs = Number(values["poll-ms"]);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
        problems.push(
            `--timeout-seconds must be a positive integer (got ${JSON.stringify(values["timeout-seconds"])}).`,
        );
    }
    if (!Number.isInteger(pollMs) || pollMs < 10) {
        problems.push(`--poll-ms must be an integer of at least 10 (got ${JSON.stringify(values["poll-ms"])}).`);
    }
    if (problems.length > 0 || arn === undefined || region === undefined) {
        throw new UsageError(problems.join("\n"));
    }
    return {
        stateMachineArn: arn,
        region,
        input: values.input,
        expect: values.expect as ExecutionStatus,
        timeoutSeconds,
        pollMs,
    };
}

/** Starts an execution and polls it until it ends or the timeout passes; returns its final description. */
export async function smoke(
    options: SmokeOptions,
    client = new SFNClient({}),
): Promise<{ status: string; error?: string; cause?: string; output?: string }> {
    const started = await client.send(
        new StartExecutionCommand({
            stateMachineArn: options.stateMachineArn,
            input: options.input,
            name: `smoke-${Date.now()}`,
        }),
    );
    const executionArn = started.executionArn as string;
    console.log(`started ${executionArn}`);
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    for (;;) {
        const described = await client.send(new DescribeExecutionCommand({ executionArn }));
        if (described.status !== "RUNNING" && described.status !== "PENDING_REDRIVE") {
            return {
                status: described.status ?? "UNKNOWN",
                ...(described.error ? { error: described.error } : {}),
                ...(described.cause ? { cause: described.cause } : {}),
                ...(described.output ? { output: described.output } : {}),
            };
        }
        if (Date.now() > deadline) {
            return { status: "RUNNING", cause: `still running after ${options.timeoutSeconds} s` };
        }
        await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
}

/** AWS's own errors that mean "no or wrong credentials": the user's to fix, with what to set. */
class CredentialsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CredentialsError";
    }
}
const CREDENTIAL_ERRORS = new Set([
    "CredentialsProviderError",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
]);

async function main(): Promise<number> {
    const options = parseSmokeArgs(process.argv.slice(2));
    const result = await smoke(options, new SFNClient({ region: options.region })).catch((error: unknown) => {
        if (error instanceof Error && CREDENTIAL_ERRORS.has(error.name)) {
            throw new CredentialsError(
                `No usable AWS credentials (${error.name}: ${error.message}). Set them as for the AWS CLI (aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), with states:StartExecution and states:DescribeExecution on the state machine (and kms:GenerateDataKey and kms:Decrypt on its customer key, if it has one).`,
            );
        }
        throw error;
    });
    console.log(
        `${result.status}${result.error ? ` (${result.error})` : ""}${result.output ? ` output ${result.output}` : ""}`,
    );
    if (result.status !== options.expect) {
        console.error(`expected ${options.expect}${result.cause ? `; cause: ${result.cause}` : ""}`);
        return 1;
    }
    return 0;
}

if (require.main === module) {
    runMain(main, { usage: USAGE });
}
