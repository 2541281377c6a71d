/**
 * Typed generator errors.
 *
 * The generator never throws on bad schemas: it collects every problem as a
 * {@link CodegenError} so one run reports all of them, sorted the way a
 * compiler would print them.
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
 * Sorts diagnostics by file, then line, then column, then message, and drops
 * exact duplicates (one bad type can be reached from two directions).
 */
export function sortDiagnostics(errors: readonly CodegenError[]): CodegenError[] {
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
