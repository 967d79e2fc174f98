// Writes README.md's TypeScript examples to tests/readme-examples/ (git-ignored) before `tsc -p .`, so
// the build type-checks them with the rest of the code and an example that drifts from the API fails it.
// An example starting with a `// path/to/file.ts` comment is written as if at that path, otherwise as if
// at the repository root; its relative imports are rewritten to resolve from tests/readme-examples/.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "tests", "readme-examples");
const readme = readFileSync(path.join(root, "README.md"), "utf8");

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
blocks.forEach((code, index) => {
    const header = /^\/\/ ([\w./-]+\.ts)\n/.exec(code);
    const home = path.dirname(path.join(root, header ? header[1] : "index.ts"));
    const rewritten = code.replace(/(from\s+")(\.{1,2}\/[^"]+)(")/g, (_all, before, specifier, after) => {
        const target = path.relative(outDir, path.resolve(home, specifier)).split(path.sep).join("/");
        return `${before}${target.startsWith(".") ? target : `./${target}`}${after}`;
    });
    writeFileSync(
        path.join(outDir, `example-${index + 1}.ts`),
        `// Generated from README.md by scripts/readme-examples.mjs: edit the README, not this file.\n${rewritten}`,
    );
});
