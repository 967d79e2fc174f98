// The plugin's runtime entry (package.json `main`), plain CommonJS on purpose. The nodejs language host
// runs a PulumiPlugin.yaml plugin with `@pulumi/pulumi/cmd/run-plugin <this directory>`, in the working
// directory of the consumer's program: run-plugin registers ts-node with the tsconfig.json of THAT
// directory (or none, then TypeScript's loose defaults), so TypeScript sources required through it are
// type-checked under options this package does not choose, and the library's strict code does not compile
// under them. So this entry builds the plugin with its own tsconfig.json (tsc --build: incremental, a
// fraction of a second when build/ is current; the first run of a fresh checkout compiles the plugin's
// sources once) and loads the compiled classes. The schema analyzer reads index.ts, the TypeScript source
// beside this `main`, with the same tsconfig.json.
// https://www.pulumi.com/docs/iac/guides/building-extending/packages/source-based-plugin/
"use strict";

const { execFileSync } = require("node:child_process");
const path = require("node:path");

const tsc = require.resolve("typescript/bin/tsc", { paths: [__dirname] });
try {
    // stdout belongs to the provider protocol (its first line is the port the engine connects to), so
    // everything tsc prints goes to stderr, which the engine shows.
    execFileSync(process.execPath, [tsc, "--build", path.join(__dirname, "tsconfig.json")], {
        stdio: ["ignore", 2, 2],
    });
} catch (error) {
    throw new Error(
        `The callback plugin could not compile its TypeScript sources (tsc --build ${path.join(__dirname, "tsconfig.json")}): ${error.status === undefined ? error.message : `tsc exited ${error.status}; its errors are above`}.`,
        { cause: error },
    );
}

module.exports = require("../build/plugin/index.js");
