/**
 * Runs a command-line entry point: the number its promise resolves to becomes the exit code; an
 * unexpected error is printed (with its stack when asked) and exits 1.
 */
export function runMain(main: () => Promise<number>, options: { readonly stack?: boolean } = {}): void {
    main().then(
        (code) => {
            process.exitCode = code;
        },
        (error: unknown) => {
            process.exitCode = 1;
            if (!(error instanceof Error)) {
                console.error(error);
            } else if (options.stack === true) {
                console.error(error.stack ?? error.message);
            } else {
                console.error(`${error.name}: ${error.message}`);
            }
        },
    );
}
