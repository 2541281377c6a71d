#!/usr/bin/env node
/**
 * The `atomic-log-codegen` executable: `atomic-log-codegen <schemas dir> --out <dir>`,
 * the same as `atomic-log codegen ...` without the subcommand, for `npx atomic-log-codegen`
 * (npx runs the bin named like the package). A file of its own because `cli.ts` runs itself
 * only under `import.meta.main`, which Node.js 20 does not have.
 */
import { exitWith, main } from "./cli.ts";

exitWith(main(process.argv.slice(2)));
