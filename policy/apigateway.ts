/**
 * API Gateway v2 (HTTP and WebSocket APIs): stages throttle requests and write access logs. Without
 * stage or route throttling, a stage takes the account's limit per Region, so one client can use all of
 * it and starve every other API of the account
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-protect.html); without
 * access logs, nothing records who called what
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html). Both settings
 * exist for HTTP and WebSocket stages alike, so both protocols are checked. Nearest rules: cdk-nag
 * AwsSolutions-APIG1 (access logging), Checkov CKV_AWS_76 and CKV_AWS_95.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, ofType, peek } from "./lib/stack";
import { T } from "./lib/types";
import { UNKNOWN, Undecided } from "./lib/unknowns";
import { field, isAbsent, isRecord, readPlainly, show } from "./lib/values";

export const httpApiAccessLogs: ResourceValidationPolicy = {
    name: "http-api-access-logs",
    description:
        "Checks that every API Gateway v2 stage (HTTP or WebSocket API) writes access logs (accessLogSettings.destinationArn).",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.httpApiStage) {
            return;
        }
        const fix =
            'set accessLogSettings: {destinationArn: <log group ARN>, format: <JSON with "$context.requestId" and the caller\'s identity>}';
        const settings = field(args.props, "accessLogSettings");
        const destination = field(settings, "destinationArn");
        if (settings === UNKNOWN || destination === UNKNOWN) {
            if (settings === UNKNOWN) {
                readPlainly(() => (args.props as Record<string, unknown>)["accessLogSettings"]);
            }
            return; // a destination unknown in preview is the ARN of a log group
        }
        if (isAbsent(settings) || (isRecord(settings) && isAbsent(destination))) {
            reportViolation(`${describe(args)} writes no access logs: ${fix}.`);
        } else if (!isRecord(settings)) {
            reportViolation(`${describe(args)}: accessLogSettings ${show(settings)} is not valid: ${fix}.`);
        } else if (typeof destination !== "string") {
            reportViolation(
                `${describe(args)}: accessLogSettings.destinationArn ${show(destination)} is not valid: ${fix}.`,
            );
        }
    },
};

/** Whether route settings set both throttling limits; `read` reads the unknown one plainly. */
type Throttling =
    | { readonly kind: "set" | "missing" }
    | { readonly kind: "invalid"; readonly what: string }
    | { readonly kind: "unknown"; readonly read: () => unknown };

const LIMITS = ["throttlingBurstLimit", "throttlingRateLimit"] as const;

function throttlingOf(settings: unknown, where: string, read: () => unknown): Throttling {
    if (settings === UNKNOWN) {
        return { kind: "unknown", read };
    }
    if (isAbsent(settings)) {
        return { kind: "missing" };
    }
    if (!isRecord(settings)) {
        return { kind: "invalid", what: `${where} ${show(settings)} is not valid` };
    }
    const found = LIMITS.map((key): Throttling => {
        const value = field(settings, key);
        if (value === UNKNOWN) {
            return { kind: "unknown", read: () => (read() as Record<string, unknown>)[key] };
        }
        if (isAbsent(value)) {
            return { kind: "missing" };
        }
        return typeof value === "number" && Number.isFinite(value) && value >= 0
            ? { kind: "set" }
            : { kind: "invalid", what: `${where}.${key} ${show(value)} is not valid (a number ≥ 0)` };
    });
    return (
        found.find((t) => t.kind === "invalid") ??
        found.find((t) => t.kind === "missing") ??
        found.find((t) => t.kind === "unknown") ?? { kind: "set" }
    );
}

/**
 * The API a stage or route belongs to: the Api resource its apiId depends on (known in preview, before
 * any ID exists), or whose id its apiId names; else the apiId itself (an API of another stack).
 */
function apiOf(resource: PolicyResource, apis: readonly PolicyResource[]): PolicyResource | string | undefined {
    const dependencies: unknown = resource.propertyDependencies;
    const onApiId = isRecord(dependencies) ? dependencies["apiId"] : undefined;
    const viaDependency = Array.isArray(onApiId) ? apis.find((api) => onApiId.includes(api)) : undefined;
    if (viaDependency !== undefined) {
        return viaDependency;
    }
    const apiId = field(resource.props, "apiId");
    if (typeof apiId !== "string" || apiId === "") {
        return undefined;
    }
    return apis.find((api) => field(api.props, "id") === apiId) ?? apiId;
}

/** The routes of the stage's API in this stack. */
function routesOf(stage: PolicyResource, apis: readonly PolicyResource[], routes: readonly PolicyResource[]) {
    const api = apiOf(stage, apis);
    return api === undefined ? [] : routes.filter((route) => apiOf(route, apis) === api);
}

/** Whether every route of `routes` is throttled by an entry of the stage's routeSettings. */
function routesThrottled(
    stage: PolicyResource,
    routes: readonly PolicyResource[],
): Throttling & { unthrottled?: string[] } {
    if (routes.length === 0) {
        return { kind: "missing" };
    }
    const readSettings = () => stage.props["routeSettings"] as unknown;
    const settings = field(stage.props, "routeSettings");
    if (settings === UNKNOWN) {
        return { kind: "unknown", read: readSettings };
    }
    if (!isAbsent(settings) && !Array.isArray(settings)) {
        return { kind: "invalid", what: `routeSettings ${show(settings)} is not valid (a list)` };
    }
    const entries: unknown[] = isAbsent(settings) ? [] : (settings as unknown[]);
    const unthrottled: string[] = [];
    let unknown: Throttling | undefined;
    for (const route of routes) {
        const readKey = () => route.props["routeKey"] as unknown;
        const key = field(route.props, "routeKey");
        if (key === UNKNOWN) {
            unknown ??= { kind: "unknown", read: readKey };
            continue;
        }
        let verdict: Throttling = { kind: "missing" };
        for (let index = 0; index < entries.length; index++) {
            const readEntry = () => entries[index];
            const entry = peek(readEntry);
            const entryKey = field(entry, "routeKey");
            if (entry === UNKNOWN || entryKey === UNKNOWN) {
                verdict = {
                    kind: "unknown",
                    read: entry === UNKNOWN ? readEntry : () => (readEntry() as Record<string, unknown>)["routeKey"],
                };
            } else if (entryKey === key) {
                verdict = throttlingOf(entry, `routeSettings[${index}]`, readEntry);
                break;
            }
        }
        if (verdict.kind === "invalid") {
            return verdict;
        }
        if (verdict.kind === "unknown") {
            unknown ??= verdict;
        } else if (verdict.kind === "missing") {
            unthrottled.push(typeof key === "string" ? key : show(key));
        }
    }
    if (unthrottled.length > 0) {
        return { kind: "missing", unthrottled };
    }
    return unknown ?? { kind: "set" };
}

export const httpApiThrottled: StackValidationPolicy = {
    name: "http-api-throttled",
    description:
        "Checks that every API Gateway v2 stage (HTTP or WebSocket API) throttles requests: throttlingBurstLimit and throttlingRateLimit in defaultRouteSettings, or in routeSettings for every route of its API.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const undecided = new Undecided();
        const apis = ofType(args.resources, T.httpApi);
        const routes = ofType(args.resources, T.httpApiRoute);
        for (const stage of ofType(args.resources, T.httpApiStage)) {
            const readDefaults = () => stage.props["defaultRouteSettings"] as unknown;
            const defaults = throttlingOf(
                field(stage.props, "defaultRouteSettings"),
                "defaultRouteSettings",
                readDefaults,
            );
            if (defaults.kind === "set") {
                continue;
            }
            const fix =
                "set defaultRouteSettings: {throttlingBurstLimit, throttlingRateLimit} (requests per second), or both limits on every route in routeSettings";
            if (defaults.kind === "invalid") {
                reportViolation(`${describe(stage)}: ${defaults.what}: ${fix}.`, stage.urn);
                continue;
            }
            const perRoute = routesThrottled(stage, routesOf(stage, apis, routes));
            if (perRoute.kind === "set") {
                continue;
            }
            if (perRoute.kind === "invalid") {
                reportViolation(`${describe(stage)}: ${perRoute.what}: ${fix}.`, stage.urn);
                continue;
            }
            if (defaults.kind === "unknown" || perRoute.kind === "unknown") {
                const unknown = defaults.kind === "unknown" ? defaults : perRoute;
                if (unknown.kind === "unknown") {
                    undecided.read(unknown.read);
                }
                continue;
            }
            const which =
                perRoute.unthrottled !== undefined
                    ? ` (routes without limits: ${perRoute.unthrottled.map((k) => JSON.stringify(k)).join(", ")})`
                    : "";
            reportViolation(
                `${describe(stage)} is not throttled${which}, so one client can take the account's whole API Gateway limit in the Region: ${fix}.`,
                stage.urn,
            );
        }
        undecided.finish();
    },
};
