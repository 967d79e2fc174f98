/**
 * The credential chain of the Lambda bundle, aliased by `bundleWorker` in place of
 * `@aws-sdk/credential-provider-node`'s `defaultProvider`.
 *
 * Lambda hands a function its role's credentials in environment variables (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), or through a container credentials endpoint
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI`). The SDK's default chain also carries SSO, INI files, credential
 * processes, web identity and IMDS, with the STS and SSO clients they need: about 135 KB of the bundle
 * and a third of its cold init (measured by `npm run bench`), never used in Lambda. Tests and the local
 * harness run with environment credentials too.
 */
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { fromHttp } from "@aws-sdk/credential-provider-http";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

type ProviderInit = Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0];

export const defaultProvider =
    (init: ProviderInit = {}): AwsCredentialIdentityProvider =>
    async (): Promise<AwsCredentialIdentity> => {
        if (process.env["AWS_ACCESS_KEY_ID"] && process.env["AWS_SECRET_ACCESS_KEY"]) {
            return fromEnv(init)();
        }
        if (
            process.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] ||
            process.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
        ) {
            return fromHttp(init)();
        }
        throw new Error(
            "No AWS credentials: the callback worker reads them from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY " +
                "or AWS_CONTAINER_CREDENTIALS_FULL_URI, as Lambda provides them.",
        );
    };
