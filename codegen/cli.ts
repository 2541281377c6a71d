/**
 * Command line of the generator: `bun codegen/cli.ts <schemas dir> --out <dir>`.
 *
 * Exit codes: 0 success, 1 bad schemas (every problem printed as
 * `file:line:col: message`, sorted, nothing written) or, with `--check`, stale or
 * orphaned output, 2 bad usage. `--watch` keeps running until SIGINT/SIGTERM (then 0).
 * Warnings (`file:line:col: warning: message`, e.g. an exported class that is
 * not a record) go to stderr and change neither the exit code nor the output.
 */
import { sortDiagnostics } from "./diagnostic.ts";
import type { CodegenError, CodegenWarning } from "./diagnostic.ts";
import { DEFAULT_RUNTIME, UnsafeOutputError, generate, listSchemas, staleFiles, writeGenerated } from "./generate.ts";
import { findOrphans, removeOrphans } from "./orphans.ts";
import { watchSchemas } from "./watch.ts";

/** Usage text printed for `--help` and on bad usage. */
export const USAGE = `Usage: atomic-log-codegen <schemas dir> --out <dir> [--runtime <specifier>] [--check | --clean] [--watch]
       atomic-log codegen <schemas dir> --out <dir> ...   (the same)

Reads every *.ts schema in <schemas dir> and writes one generated module per
schema file (same name) to <dir>.

Options:
  --out <dir>             output directory (required; never the schemas dir)
  --runtime <specifier>   module generated code imports the runtime from
                          (default: ${DEFAULT_RUNTIME})
  --check                 write nothing; exit 1 if any generated file is stale
                          or orphaned (its schema file is gone)
  --clean                 also delete orphaned generated files (only files
                          with the generator's header are ever deleted)
  --watch                 regenerate whenever a schema file changes, is added
                          or removed; errors are printed and watching goes on
                          (Ctrl-C stops it; not with --check)
  -h, --help              show this help

Exit codes: 0 success, 1 bad schemas or (with --check) stale or orphaned
output, 2 bad usage.`;

/** Where the CLI prints; injectable for tests. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

const consoleIO: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Parsed command line. */
export interface CliArgs {
  schemasDir: string;
  outDir: string;
  runtime: string;
  /** Write nothing; report stale and orphaned output (exit 1). */
  check: boolean;
  /** Delete orphaned generated files when writing. */
  clean: boolean;
  /** Keep running and regenerate on schema changes. */
  watch: boolean;
}

/** Parses arguments; returns an error message for bad usage, or "help". */
export function parseArgs(argv: readonly string[]): CliArgs | { error: string } | "help" {
  const positional: string[] = [];
  let outDir: string | undefined;
  let runtime = DEFAULT_RUNTIME;
  let check = false;
  let clean = false;
  let watch = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === "-h" || flag === "--help") return "help";
    if (flag === "--out") {
      outDir = value();
      if (outDir === undefined || outDir === "") return { error: "--out needs a directory" };
    } else if (flag === "--runtime") {
      const spec = value();
      if (spec === undefined || spec === "") return { error: "--runtime needs a module specifier" };
      runtime = spec;
    } else if (flag === "--check") {
      check = true;
    } else if (flag === "--clean") {
      clean = true;
    } else if (flag === "--watch") {
      watch = true;
    } else if (flag.startsWith("-")) {
      return { error: `unknown option ${flag}` };
    } else positional.push(arg);
  }
  if (positional.length !== 1) return { error: positional.length === 0 ? "missing <schemas dir>" : `expected one <schemas dir>, got ${positional.length}` };
  if (outDir === undefined) return { error: "missing --out <dir>" };
  // --check is a one-shot verdict for CI and writes nothing: watching or deleting contradicts it.
  if (check && watch) return { error: "--watch and --check cannot be combined (--check runs once and writes nothing)" };
  if (check && clean) return { error: "--clean and --check cannot be combined (--check writes nothing; it reports orphans)" };
  return { schemasDir: positional[0]!, outDir, runtime, check, clean, watch };
}

/**
 * Runs the generator as the command line asks; returns the process exit code, or with
 * `--watch` a promise of it (settled when the watcher is stopped by a signal).
 */
export function main(argv: readonly string[], io: CliIO = consoleIO): number | Promise<number> {
  const args = parseArgs(argv);
  if (args === "help") {
    io.out(USAGE);
    return 0;
  }
  if ("error" in args) {
    io.err(`atomic-log codegen: ${args.error}\n\n${USAGE}`);
    return 2;
  }
  if (!args.watch) return runOnce(args, io);
  return watchSchemas({ dir: args.schemasDir, run: () => runOnce(args, io), out: io.out, err: io.err }).done;
}

/** One generator run (what the command does without `--watch`); returns its exit code. */
export function runOnce(args: CliArgs, io: CliIO): number {
  let result;
  try {
    result = generate({ schemasDir: args.schemasDir, outDir: args.outDir, runtime: args.runtime });
  } catch (error) {
    io.err(`atomic-log codegen: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (result.diagnostics.length > 0) {
    // Warnings interleave with errors by position, the way a compiler prints them.
    for (const d of sortDiagnostics<CodegenError | CodegenWarning>([...result.diagnostics, ...result.warnings])) io.err(d.format());
    const warned = result.warnings.length > 0 ? `, ${result.warnings.length} warning(s)` : "";
    io.err(`atomic-log codegen: ${result.diagnostics.length} error(s)${warned}; nothing was written`);
    return 1;
  }
  for (const w of result.warnings) io.err(w.format());
  const orphans = findOrphans(args.schemasDir, args.outDir, listSchemas(args.schemasDir));
  if (args.check) {
    const stale = staleFiles(result.files);
    for (const f of stale) io.err(`stale: ${f}`);
    for (const o of orphans) io.err(`orphan: ${o.path} (generated from ${o.from}, which is gone)`);
    if (stale.length > 0 || orphans.length > 0) {
      const what = [
        ...(stale.length > 0 ? [`${stale.length} generated file(s) are stale`] : []),
        ...(orphans.length > 0 ? [`${orphans.length} are orphaned`] : []),
      ].join(", ");
      io.err(`atomic-log codegen: ${what}; run codegen${orphans.length > 0 ? " with --clean" : ""}`);
      return 1;
    }
    io.out(`atomic-log codegen: ${result.files.length} module(s) up to date`);
    return 0;
  }
  let outcome;
  try {
    outcome = writeGenerated(result.files);
  } catch (error) {
    if (!(error instanceof UnsafeOutputError)) throw error;
    io.err(`atomic-log codegen: ${error.message}`);
    return 2;
  }
  const { written, unchanged } = outcome;
  for (const f of written) io.out(`wrote ${f}`);
  let removed: string[] = [];
  if (args.clean) {
    removed = removeOrphans(orphans);
    for (const f of removed) io.out(`removed ${f}`);
  } else {
    for (const o of orphans) io.err(`atomic-log codegen: warning: ${o.path} was generated from ${o.from}, which is gone; --clean removes it`);
  }
  io.out(`atomic-log codegen: ${written.length} written, ${unchanged.length} unchanged${removed.length > 0 ? `, ${removed.length} removed` : ""}`);
  return 0;
}

/** Ends the process with `main`'s exit code, once it is known (after watching, with `--watch`). */
export function exitWith(code: number | Promise<number>): void {
  if (typeof code === "number") process.exit(code);
  else void code.then((c) => process.exit(c));
}

if (import.meta.main) exitWith(main(process.argv.slice(2)));
