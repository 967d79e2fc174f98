/**
 * The library's `callback-workflow/policy` entry (package.json `exports["./policy"]`): the policy pack's
 * policies, to run in a pack of your own, and the offline runner that applies them to a program recorded
 * under Pulumi's mocked runtime, deployed or in preview, without the Pulumi CLI or a cloud. Importing it
 * registers no resource, starts no Pulumi runtime and constructs no PolicyPack (index.ts, the pack's
 * entry, does that).
 */
export { POLICY_PACK_NAME, policies } from "./policies";
export {
    runPolicies,
    UNKNOWN_SENTINEL,
    type Finding,
    type PolicyConfigEntry,
    type PolicyPackConfig,
    type PolicyRun,
    type RunPoliciesOptions,
} from "./runner";
export { ACCOUNT_ID, recordProgram, REGION, type ProgramRun, type RecordOptions, type Registration } from "./record";
