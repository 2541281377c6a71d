/**
 * Command line of the generator: `bun codegen/cli.ts <schemas dir> --out <dir>`.
 *
 * Exit codes: 0 success, 1 bad schemas (every problem printed as
 * `file:line:col: message`, sorted, nothing written), 2 bad usage.
 * Warnings (`file:line:col: warning: message`, e.g. an exported class that is
 * not a record) go to stderr and change neither the exit code nor the output.
 */
import { sortDiagnostics } from "./diagnostic.ts";
import type { CodegenError, CodegenWarning } from "./diagnostic.ts";
import { DEFAULT_RUNTIME, UnsafeOutputError, generate, staleFiles, writeGenerated } from "./generate.ts";

/** Usage text printed for `--help` and on bad usage. */
export const USAGE = `Usage: atomic-log codegen <schemas dir> --out <dir> [--runtime <specifier>] [--check]

Reads every *.ts schema in <schemas dir> and writes one generated module per
schema file (same name) to <dir>.

Options:
  --out <dir>             output directory (required; never the schemas dir)
  --runtime <specifier>   module generated code imports the runtime from
                          (default: ${DEFAULT_RUNTIME})
  --check                 write nothing; exit 1 if any generated file is stale
  -h, --help              show this help`;

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
interface CliArgs {
  schemasDir: string;
  outDir: string;
  runtime: string;
  check: boolean;
}

/** Parses arguments; returns an error message for bad usage, or "help". */
export function parseArgs(argv: readonly string[]): CliArgs | { error: string } | "help" {
  const positional: string[] = [];
  let outDir: string | undefined;
  let runtime = DEFAULT_RUNTIME;
  let check = false;
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
    } else if (flag.startsWith("-")) {
      return { error: `unknown option ${flag}` };
    } else positional.push(arg);
  }
  if (positional.length !== 1) return { error: positional.length === 0 ? "missing <schemas dir>" : `expected one <schemas dir>, got ${positional.length}` };
  if (outDir === undefined) return { error: "missing --out <dir>" };
  return { schemasDir: positional[0]!, outDir, runtime, check };
}

/** Runs the generator; returns the process exit code. */
export function main(argv: readonly string[], io: CliIO = consoleIO): number {
  const args = parseArgs(argv);
  if (args === "help") {
    io.out(USAGE);
    return 0;
  }
  if ("error" in args) {
    io.err(`atomic-log codegen: ${args.error}\n\n${USAGE}`);
    return 2;
  }
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
  if (args.check) {
    const stale = staleFiles(result.files);
    for (const f of stale) io.err(`stale: ${f}`);
    if (stale.length > 0) {
      io.err(`atomic-log codegen: ${stale.length} generated file(s) are stale; run codegen`);
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
  io.out(`atomic-log codegen: ${written.length} written, ${unchanged.length} unchanged`);
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
