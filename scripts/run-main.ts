/**
 * Runs a command-line entry point: the number its promise resolves to becomes the exit code. What it
 * throws decides the rest:
 * - a {@link HelpRequest} prints the command's usage on stdout, exit 0;
 * - a {@link UsageError} (bad flags or arguments) prints its message and the usage on stderr, exit 2;
 * - a user error, a problem in the user's input rather than in the program (see {@link USER_ERRORS}),
 *   prints its message alone, without a stack trace, exit 1;
 * - any other error is unexpected: printed with its stack when asked, exit 1.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { nearestName } from "../components/settings";

/** Thrown by an argument parser when `--help` or `-h` is given: the command prints its usage and stops. */
export class HelpRequest extends Error {
    constructor() {
        super("--help");
        this.name = "HelpRequest";
    }
}

/** Bad flags or arguments: exit 2 with the message and the usage. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/**
 * The names of the errors that are the user's to fix, printed without a stack trace. Matched by name,
 * not by class, so that an error from another copy of a module (the program under the mocked runtime)
 * or one this file does not import is recognised: StackConfigError (components/config.ts: the stack's
 * settings), StackFileError (local/stack-config.ts: a Pulumi.<stack>.yaml that does not parse),
 * ProgramError (local/program.ts: a component refused its arguments) and LocalRunError
 * (local/support.ts: a workflow the local harness cannot run faithfully, a program it cannot read).
 */
export const USER_ERRORS: ReadonlySet<string> = new Set([
    "UsageError",
    "StackConfigError",
    "StackFileError",
    "CredentialsError",
    "ProgramError",
    "LocalRunError",
]);

export function isUserError(error: unknown): error is Error {
    return error instanceof Error && USER_ERRORS.has(error.name);
}

/** Whether `--help` or `-h` comes before a `--` (after which arguments belong to another program). */
export function asksForHelp(argv: readonly string[]): boolean {
    const separator = argv.indexOf("--");
    return (separator >= 0 ? argv.slice(0, separator) : argv).some((arg) => arg === "--help" || arg === "-h");
}

/**
 * `node:util` parseArgs, its errors (an unknown option, a missing value) thrown as {@link UsageError}s;
 * an unknown option is named with the nearest valid one when one is near (`--scenrio`: `--scenario`).
 */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
    try {
        return parseArgs(config);
    } catch (error) {
        if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS_")) {
            const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(error.message)?.[1];
            if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== undefined) {
                const flags = Object.keys(config.options ?? {}).map((name) => `--${name}`);
                const nearest = nearestName(unknown.startsWith("--") ? unknown : `-${unknown}`, flags);
                throw new UsageError(
                    nearest.startsWith("did you mean")
                        ? `Unknown option '${unknown}': ${nearest}`
                        : `Unknown option '${unknown}'.`,
                );
            }
            throw new UsageError(error.message);
        }
        throw error;
    }
}

/** For a command whose only flag is `--help`: throws {@link HelpRequest} for it, a usage error for anything else. */
export function parseHelpOnly(args: readonly string[]): void {
    const { values } = parseFlags({
        args: [...args],
        options: { help: { type: "boolean", short: "h", default: false } },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) {
        throw new HelpRequest();
    }
}

export interface RunOptions {
    /** Print an unexpected error's stack (otherwise its name and message). */
    readonly stack?: boolean;
    /** The usage: printed on stdout for --help, and after the message of a usage error. */
    readonly usage?: string;
}

/** What {@link runMain} prints for an error, and the exit code. */
export function reportError(
    error: unknown,
    options: RunOptions = {},
): { code: number; stdout?: string; stderr?: string } {
    if (error instanceof Error && error.name === "HelpRequest") {
        return { code: 0, stdout: options.usage ?? "" };
    }
    if (error instanceof Error && error.name === "UsageError") {
        return {
            code: 2,
            stderr: options.usage === undefined ? error.message : `${error.message}\n\n${options.usage}`,
        };
    }
    if (isUserError(error)) {
        return { code: 1, stderr: error.message };
    }
    if (!(error instanceof Error)) {
        return { code: 1, stderr: String(error) };
    }
    return {
        code: 1,
        stderr: options.stack === true ? (error.stack ?? error.message) : `${error.name}: ${error.message}`,
    };
}

export function runMain(main: () => Promise<number>, options: RunOptions = {}): void {
    // A reader that stops early (`npm start | head`) closes the pipe: stop quietly, as Unix tools do.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EPIPE") {
            process.exit(process.exitCode ?? 0);
        }
        throw error;
    });
    main().then(
        (code) => {
            process.exitCode = code;
        },
        (error: unknown) => {
            const { code, stdout, stderr } = reportError(error, options);
            process.exitCode = code;
            if (stdout !== undefined) {
                console.log(stdout);
            }
            if (stderr !== undefined) {
                console.error(stderr);
            }
        },
    );
}
