/**
 * The generator's programmatic API: schemas dir in, generated modules out.
 *
 * {@link generate} is pure with respect to the output dir: it reads schemas,
 * validates and renders everything in memory and returns the files with every
 * diagnostic. {@link writeGenerated} is the only step that touches the output,
 * and callers run it only when there are no diagnostics, so bad input never
 * leaves partial output behind.
 *
 * Neither ever writes over a schema source: {@link generate} refuses an output
 * dir that is the schemas dir, and {@link writeGenerated} refuses to replace a
 * file that codegen did not generate. Both throw {@link UnsafeOutputError}.
 */
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync, existsSync, unlinkSync } from "node:fs";
import { basename, join, resolve, sep } from "node:path";
import { Project } from "ts-morph";
import { CodegenError, CodegenWarning, sortDiagnostics } from "./diagnostic.ts";
import { emitModule } from "./emit.ts";
import { GENERATED_HEADER, isGenerated, regenerateCommand } from "./header.ts";
import { computeLayouts } from "./layout.ts";
import { parseSchemas } from "./parse.ts";
import type { SchemaSource } from "./parse.ts";

/** The runtime specifier generated code imports by default (the package's `./runtime` export). */
export const DEFAULT_RUNTIME = "atomic-log/runtime";

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Directory holding the schema files (`*.ts`, not recursive). */
  readonly schemasDir: string;
  /** Directory the generated modules are written to (one per schema file, same name). */
  readonly outDir: string;
  /** Specifier generated code imports the runtime from; defaults to {@link DEFAULT_RUNTIME}. */
  readonly runtime?: string;
}

/** One rendered module. */
export interface GeneratedFile {
  /** Output path: `outDir` joined with the schema's file name. */
  readonly path: string;
  /** Full text of the module. */
  readonly contents: string;
}

/** What {@link generate} produced: files only when there are no diagnostics. */
export interface GenerateResult {
  /** Rendered modules, in file-name order; empty if there are diagnostics. */
  readonly files: GeneratedFile[];
  /** Every problem found, sorted by file, line and column. */
  readonly diagnostics: CodegenError[];
  /**
   * Exported declarations that were skipped (not records), sorted like
   * `diagnostics`. They never stop generation; empty when there are syntax errors.
   */
  readonly warnings: CodegenWarning[];
}

/**
 * The output would replace a schema source or another file codegen did not
 * write. This is bad usage, not a bad schema: the CLI exits 2. Thrown before
 * anything is written.
 */
export class UnsafeOutputError extends Error {
  /** The output dir or file at fault, as the caller spelled it. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = "UnsafeOutputError";
    this.path = path;
  }
}

/** Reused across calls: creating a ts-morph project is the expensive part of a run. */
let sharedProject: Project | undefined;

function project(): Project {
  sharedProject ??= new Project({
    useInMemoryFileSystem: true,
    skipFileDependencyResolution: true,
    // The program is built only for its syntactic pass; without noLib it would
    // parse TypeScript's lib files first (~350 ms, most of a run).
    compilerOptions: { allowJs: false, noLib: true, types: [] },
  });
  return sharedProject;
}

/** Posix form of a relative path, for import specifiers and messages that must not vary by OS. */
function posix(p: string): string {
  return p.split(sep).join("/");
}

/** Schema files of a directory: `*.ts` except declarations, sorted by name for determinism. */
export function listSchemas(schemasDir: string): string[] {
  if (!existsSync(schemasDir) || !statSync(schemasDir).isDirectory()) {
    throw new Error(`schemas dir not found: ${schemasDir}`);
  }
  return readdirSync(schemasDir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .sort();
}

/** `path` with symlinks resolved, or undefined if it does not exist (then it is no schema source). */
function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Refuses outputs that would replace schema sources: an output dir that is the
 * schemas dir (compared after resolving `.`, `..` and symlinks, so `schemas/`,
 * `./x/../schemas` and a link all count), or an output file that is a link to
 * a schema. The output files are exactly `outDir/<schema name>`, so these are
 * the only ways one can land on a schema.
 */
function checkOutputSafe(schemasDir: string, outDir: string, schemaNames: readonly string[]): void {
  const schemasReal = realPath(schemasDir);
  if (schemasReal !== undefined && realPath(outDir) === schemasReal) {
    throw new UnsafeOutputError(
      outDir,
      `--out ${outDir} is the schemas dir ${schemasDir}; generated modules would overwrite the schema sources. Choose another output directory.`,
    );
  }
  const sourceOf = new Map(schemaNames.map((name) => [realPath(join(schemasDir, name)), join(schemasDir, name)]));
  for (const name of schemaNames) {
    const target = join(outDir, name);
    const source = sourceOf.get(realPath(target));
    if (source !== undefined) {
      throw new UnsafeOutputError(target, `output file ${target} resolves to the schema source ${source}; generated modules must not replace schema sources`);
    }
  }
}

/**
 * Reads every schema in `schemasDir`, validates it, lays it out and renders
 * one module per schema file. Nothing is written.
 * @throws {Error} if `schemasDir` does not exist.
 * @throws {UnsafeOutputError} if `outDir` is `schemasDir` or an output file is a schema source.
 */
export function generate(options: GenerateOptions): GenerateResult {
  const runtime = options.runtime ?? DEFAULT_RUNTIME;
  const dirName = basename(resolve(options.schemasDir));
  const names = listSchemas(options.schemasDir);
  checkOutputSafe(options.schemasDir, options.outDir, names);
  const sources: SchemaSource[] = names.map((name) => {
    const absPath = resolve(options.schemasDir, name);
    return {
      path: name,
      file: posix(join(options.schemasDir, name)),
      displayPath: `${dirName}/${name}`,
      absPath,
      text: readFileSync(absPath, "utf8"),
    };
  });
  const parsed = parseSchemas(project(), sources);
  const laid = computeLayouts(parsed.modules);
  const diagnostics = sortDiagnostics([...parsed.errors, ...laid.errors]);
  const warnings = sortDiagnostics(parsed.warnings);
  if (diagnostics.length > 0) return { files: [], diagnostics, warnings };

  const command = regenerateCommand({ schemasDir: options.schemasDir, outDir: options.outDir, runtime, defaultRuntime: DEFAULT_RUNTIME });
  const files = parsed.modules.map((module) => ({
    path: join(options.outDir, module.path),
    contents: emitModule(module, laid.layouts, {
      runtime,
      command,
      generatedSpecifier: (schemaPath) => `./${schemaPath}`,
    }),
  }));
  return { files, diagnostics: [], warnings };
}

/** What {@link writeGenerated} did. */
export interface WriteResult {
  /** Files whose contents changed (or were created). */
  readonly written: string[];
  /** Files that already had exactly these contents and were left alone. */
  readonly unchanged: string[];
}

/**
 * Writes generated files. Each file goes to a temporary sibling first and is
 * renamed over the target, so readers never see a half-written module; files
 * whose contents are already identical are not touched (their mtime stays).
 * @throws {UnsafeOutputError} before writing anything, if a target exists and
 *   does not start with the `@generated` header: it may be a schema or
 *   hand-written source (e.g. `--out` naming another project's schemas dir).
 */
export function writeGenerated(files: readonly GeneratedFile[]): WriteResult {
  // Check every target before writing any, so a refusal leaves the output dir as it was.
  const existing = files.map((file) => (existsSync(file.path) ? readFileSync(file.path, "utf8") : undefined));
  files.forEach((file, i) => {
    if (existing[i] !== undefined && !isGenerated(existing[i])) {
      throw new UnsafeOutputError(
        file.path,
        `refusing to overwrite ${file.path}: it has no "${GENERATED_HEADER}" header, so codegen did not write it (a schema or hand-written source?). Move it or choose another output directory.`,
      );
    }
  });
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const [i, file] of files.entries()) {
    mkdirSync(resolve(file.path, ".."), { recursive: true });
    if (existing[i] === file.contents) {
      unchanged.push(file.path);
      continue;
    }
    const tmp = `${file.path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, file.contents);
      renameSync(tmp, file.path);
    } catch (error) {
      if (existsSync(tmp)) unlinkSync(tmp);
      throw error;
    }
    written.push(file.path);
  }
  return { written, unchanged };
}

/**
 * Compares generated files with what is on disk and lists the stale ones
 * (different or missing), for `--check` in CI.
 */
export function staleFiles(files: readonly GeneratedFile[]): string[] {
  return files
    .filter((f) => !existsSync(f.path) || readFileSync(f.path, "utf8") !== f.contents)
    .map((f) => f.path);
}
