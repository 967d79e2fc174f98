/** Running one resource policy on one resource, as the policy engine does (inputs behind its unknown-checking proxy). */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { unknownCheckingProxy } from "@pulumi/policy/proxy";

/** The messages the policy reports on a resource `r` of `type`, and what it threw, if anything. */
export async function judgeResource(
    policy: ResourceValidationPolicy,
    type: string,
    props: Record<string, unknown>,
    config: object = {},
): Promise<{ messages: string[]; thrown: unknown }> {
    const messages: string[] = [];
    let thrown: unknown;
    for (const validate of [policy.validateResource ?? []].flat()) {
        try {
            await validate(
                {
                    type,
                    name: "r",
                    urn: `urn:pulumi:test::p::${type}::r`,
                    props: unknownCheckingProxy(props),
                    getConfig: () => config,
                } as never,
                (message: string) => messages.push(message),
            );
        } catch (error) {
            thrown = error;
        }
    }
    return { messages, thrown };
}

/** The messages; rejects with what the policy threw (an UnknownValueError in preview, say). */
export async function violationsOf(
    policy: ResourceValidationPolicy,
    type: string,
    props: Record<string, unknown>,
    config: object = {},
): Promise<string[]> {
    const { messages, thrown } = await judgeResource(policy, type, props, config);
    if (thrown !== undefined) {
        throw thrown instanceof Error ? thrown : new Error(JSON.stringify(thrown));
    }
    return messages;
}
