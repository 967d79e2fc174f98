import { GUARDRAILS, WORKER_LIMITS } from "../../components/limits";
import { WorkerConfigError } from "./errors";

/** Settings of the callback worker. Every field has a default; the component sets them per stack. */
export interface WorkerSettings {
    /** Records of one batch processed at once. Env `CALLBACK_CONCURRENCY`; default 10; 1 to 100. */
    readonly concurrency: number;
    /**
     * Send `SendTaskHeartbeat` as soon as a message is received and then every this many seconds while
     * its processor runs; 0 turns periodic heartbeats off (a redelivered message is still probed once).
     * Set it below the task's `HeartbeatSeconds`. Env `CALLBACK_HEARTBEAT_SECONDS`; default 0; 0 to 900
     * (the longest Lambda invocation).
     */
    readonly heartbeatSeconds: number;
    /**
     * The work queue's redrive `maxReceiveCount`. When a processor keeps failing with an unexpected
     * error, the receive that reaches it fails the task (`SendTaskFailure`) instead of leaving the
     * execution waiting for its timeout. 0 means unknown: never fail on receive count. Env
     * `CALLBACK_MAX_RECEIVE_COUNT`; default 0; 0 to 1000.
     */
    readonly maxReceiveCount: number;
    /**
     * Attempts per Step Functions call, first one included (SDK `maxAttempts`). Env `AWS_MAX_ATTEMPTS`;
     * default 5; 1 to 10.
     */
    readonly maxAttempts: number;
    /** SDK retry mode. Env `AWS_RETRY_MODE`; default `standard`; `standard` or `adaptive`. */
    readonly retryMode: "standard" | "adaptive";
    /**
     * One attempt of a Step Functions call, at most, in milliseconds: past it the SDK gives up on the
     * attempt (and retries while the invocation has time). Env `CALLBACK_CALL_TIMEOUT_MS`; default 5000;
     * 1000 to 5000. The component sets a quarter of the worker's timeout.
     */
    readonly callTimeoutMs: number;
}

interface IntegerSetting {
    readonly env: string;
    readonly default: number;
    readonly min: number;
    readonly max: number;
}

/** Ranges from limits.ts: every value the component renders is one the worker accepts. */
const INTEGER_SETTINGS = {
    concurrency: { env: "CALLBACK_CONCURRENCY", default: 10, ...GUARDRAILS.workerConcurrency },
    heartbeatSeconds: { env: "CALLBACK_HEARTBEAT_SECONDS", default: 0, ...WORKER_LIMITS.heartbeatIntervalSeconds },
    maxReceiveCount: { env: "CALLBACK_MAX_RECEIVE_COUNT", default: 0, ...WORKER_LIMITS.maxReceiveCount },
    maxAttempts: { env: "AWS_MAX_ATTEMPTS", default: 5, ...WORKER_LIMITS.maxAttempts },
    callTimeoutMs: { env: "CALLBACK_CALL_TIMEOUT_MS", default: 5000, ...WORKER_LIMITS.callTimeoutMs },
} as const satisfies Record<string, IntegerSetting>;

const RETRY_MODES = ["standard", "adaptive"] as const;

/**
 * Reads the worker settings from the environment, with `overrides` taking precedence. Every invalid
 * value is reported in one {@link WorkerConfigError} that names the variable, the value and the range.
 */
export function readWorkerSettings(
    env: NodeJS.ProcessEnv = process.env,
    overrides: Partial<WorkerSettings> = {},
): WorkerSettings {
    const problems: string[] = [];
    const integer = (key: keyof typeof INTEGER_SETTINGS): number => {
        const spec = INTEGER_SETTINGS[key];
        const override = overrides[key];
        const raw = override !== undefined ? String(override) : env[spec.env];
        const source = override !== undefined ? `option \`${key}\`` : `\`${spec.env}\``;
        if (raw === undefined || raw.trim() === "") {
            return spec.default;
        }
        const value = Number(raw);
        if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
            problems.push(`${source} must be an integer from ${spec.min} to ${spec.max} (got "${raw}").`);
            return spec.default;
        }
        return value;
    };

    const settings = {
        concurrency: integer("concurrency"),
        heartbeatSeconds: integer("heartbeatSeconds"),
        maxReceiveCount: integer("maxReceiveCount"),
        maxAttempts: integer("maxAttempts"),
        callTimeoutMs: integer("callTimeoutMs"),
        retryMode: "standard" as WorkerSettings["retryMode"],
    };

    const rawMode = overrides.retryMode ?? env["AWS_RETRY_MODE"];
    if (rawMode !== undefined && rawMode !== "") {
        if ((RETRY_MODES as readonly string[]).includes(rawMode)) {
            settings.retryMode = rawMode as WorkerSettings["retryMode"];
        } else {
            problems.push(`\`AWS_RETRY_MODE\` must be one of ${RETRY_MODES.join(", ")} (got "${rawMode}").`);
        }
    }

    if (problems.length > 0) {
        throw new WorkerConfigError(`Invalid callback worker settings:\n- ${problems.join("\n- ")}`);
    }
    return settings;
}
