#!/usr/bin/env node
/**
 * The `atomic-log` executable: `atomic-log codegen <schemas dir> --out <dir>`.
 * Shipped compiled by the `atomic-log-codegen` package (the runtime package has
 * no dependencies, so it cannot carry ts-morph). The shebang names node because
 * the compiled bin must run with only Node.js installed; `bunx` runs it under
 * Bun when no node is on the PATH, and `bun <file>` always does.
 *
 * Only the `codegen` subcommand exists today; anything else is bad usage
 * (exit 2), so future subcommands can be added without changing behaviour.
 */
import { USAGE, exitWith, main } from "./cli.ts";

const [command, ...rest] = process.argv.slice(2);
if (command === "codegen") {
  exitWith(main(rest));
} else if (command === "-h" || command === "--help") {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
} else {
  process.stderr.write(`atomic-log: ${command === undefined ? "missing command" : `unknown command ${command}`}\n\n${USAGE}\n`);
  process.exit(2);
}
