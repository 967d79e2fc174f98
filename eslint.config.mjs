// ESLint flat config: typescript-eslint's type-aware recommended rules; formatting is Prettier's job.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "build/",
            "policy/bin/",
            "dist/",
            "node_modules/",
            "policy/node_modules/",
            "eslint.config.mjs",
            "bench/classic-handler.cjs",
            "scripts/readme-examples.mjs",
            "tests/readme-examples/",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        rules: {
            "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true },
            ],
            "@typescript-eslint/switch-exhaustiveness-check": "error",
            "no-console": ["error", { allow: ["error", "warn"] }],
        },
    },
    {
        // The example projects have a tsconfig of their own for a consumer's checkout (where the package is
        // in node_modules); here the root one, whose paths map the package's name to these sources.
        files: ["examples/**/*.ts"],
        languageOptions: {
            parserOptions: {
                projectService: false,
                project: ["./tsconfig.json"],
                tsconfigRootDir: import.meta.dirname,
            },
        },
    },
    {
        files: ["tests/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts", "local/**/*.ts"],
        rules: { "no-console": "off" },
    },
    {
        // The npm scripts' entry runs before tsc has compiled anything, and the packed-tarball check runs
        // in a project of its own: plain JavaScript, linted without types.
        files: ["scripts/commands.mjs", "scripts/test-package.mjs"],
        extends: [tseslint.configs.disableTypeChecked],
        languageOptions: { globals: { console: "readonly", process: "readonly" } },
        rules: { "no-console": "off" },
    },
    {
        // The plugin's runtime entry is CommonJS that runs before anything is compiled (see the file).
        files: ["plugin/index.js"],
        extends: [tseslint.configs.disableTypeChecked],
        languageOptions: {
            sourceType: "commonjs",
            globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly" },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
