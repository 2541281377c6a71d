/**
 * Typed generator errors and warnings.
 *
 * The generator never throws on bad schemas: it collects every problem as a
 * {@link CodegenError} so one run reports all of them, sorted the way a
 * compiler would print them. Things it skips without failing (an exported
 * class, say) are {@link CodegenWarning}s: printed, but output is still written.
 */
import type { SourcePos } from "./ir.ts";

/** One problem in a schema file, with the place it was found. */
export class CodegenError extends Error {
  /** Schema file path as the user named it. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(pos: SourcePos, detail: string) {
    super(`${pos.file}:${pos.line}:${pos.col}: ${detail}`);
    this.name = "CodegenError";
    this.file = pos.file;
    this.line = pos.line;
    this.col = pos.col;
    this.detail = detail;
  }

  /** The `file:line:col: message` line the CLI prints. */
  format(): string {
    return this.message;
  }
}

/**
 * Something the generator skipped on purpose but the user may not expect to be
 * skipped (an exported declaration that is not a record). It never changes the
 * exit code or stops output; the CLI prints it as `file:line:col: warning: message`.
 */
export class CodegenWarning {
  /** Schema file path as the user named it. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
  /** The message without the location prefix. */
  readonly detail: string;
  /** The full `file:line:col: warning: message` line. */
  readonly message: string;

  constructor(pos: SourcePos, detail: string) {
    this.file = pos.file;
    this.line = pos.line;
    this.col = pos.col;
    this.detail = detail;
    this.message = `${pos.file}:${pos.line}:${pos.col}: warning: ${detail}`;
  }

  /** The `file:line:col: warning: message` line the CLI prints. */
  format(): string {
    return this.message;
  }
}

/** What {@link sortDiagnostics} needs of a diagnostic: its place and its printed line. */
interface Located {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly detail: string;
  readonly message: string;
}

/**
 * Sorts diagnostics by file, then line, then column, then message, and drops
 * exact duplicates (one bad type can be reached from two directions).
 */
export function sortDiagnostics<T extends Located>(errors: readonly T[]): T[] {
  const seen = new Set<string>();
  const unique = errors.filter((e) => (seen.has(e.message) ? false : (seen.add(e.message), true)));
  return unique.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.col - b.col ||
      (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0),
  );
}
