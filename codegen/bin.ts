#!/usr/bin/env bun
/**
 * The `atomic-log` executable: `atomic-log codegen <schemas dir> --out <dir>`.
 *
 * Only the `codegen` subcommand exists today; anything else is bad usage
 * (exit 2), so future subcommands can be added without changing behaviour.
 */
import { USAGE, main } from "./cli.ts";

const [command, ...rest] = process.argv.slice(2);
if (command === "codegen") {
  process.exit(main(rest));
} else if (command === "-h" || command === "--help") {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
} else {
  process.stderr.write(`atomic-log: ${command === undefined ? "missing command" : `unknown command ${command}`}\n\n${USAGE}\n`);
  process.exit(2);
}
