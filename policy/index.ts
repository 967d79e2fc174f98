/**
 * The policy pack. Run it with `pulumi preview --policy-pack policy` (after `npm run build`); the
 * policies themselves live in their own modules, listed in policies.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, { policies });
