/**
 * Orphans: generated modules in the output dir whose schema file is gone (renamed or deleted).
 * Left alone they keep compiling and keep exporting records nobody declares any more, so
 * `--check` reports them and `--clean` removes them.
 *
 * Only files this generator wrote are ever candidates: a file must start with the generated
 * header (see `isGenerated`), so a user's hand-written module in the output dir is never
 * reported or deleted. And the header's regenerate command must name this run's schemas dir
 * (as the header spells it: relative to the working directory), so two schema dirs generating
 * into one output dir (`a/schemas` and `b/schemas` into `gen/`) never clean each other's output,
 * even with the same folder name (found by review: matching the folder name alone deleted the
 * other dir's modules). Run from another directory, nothing is an orphan: the safe side. Output
 * of generators before 0.1.0 has no regenerate line and is matched by the folder name.
 */
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { displayPath, generatedFrom, isGenerated, regeneratedFrom } from "./header.ts";

/** A generated module whose schema is gone. */
export interface Orphan {
  /** Path of the generated file (output dir joined with its name, as the caller spelled the dir). */
  readonly path: string;
  /** The schema its header names, e.g. `schemas/old.ts`. */
  readonly from: string;
}

/**
 * The generated modules in `outDir` (not recursive, like the output) whose schema is not
 * among `schemaNames`, the file names currently in `schemasDir`. Sorted by path. A missing
 * output dir has none.
 */
export function findOrphans(schemasDir: string, outDir: string, schemaNames: readonly string[]): Orphan[] {
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) return [];
  const current = new Set(schemaNames);
  const dirName = basename(resolve(schemasDir));
  const shown = displayPath(schemasDir);
  const orphans: Orphan[] = [];
  for (const name of readdirSync(outDir).sort()) {
    if (!name.endsWith(".ts") || name.endsWith(".d.ts") || current.has(name)) continue;
    const path = join(outDir, name);
    if (!statSync(path).isFile()) continue;
    const text = readFileSync(path, "utf8");
    const from = generatedFrom(text);
    if (from === undefined) continue;
    const dir = regeneratedFrom(text);
    if (dir === undefined ? from.startsWith(`${dirName}/`) : dir === shown) orphans.push({ path, from });
  }
  return orphans;
}

/**
 * Deletes orphans found by {@link findOrphans}. Each file's header is read again just before
 * it is deleted, so a file replaced by hand since it was found is kept (and not listed).
 * Returns the paths deleted.
 */
export function removeOrphans(orphans: readonly Orphan[]): string[] {
  const removed: string[] = [];
  for (const orphan of orphans) {
    let text: string;
    try {
      text = readFileSync(orphan.path, "utf8");
    } catch {
      continue; // already gone
    }
    if (!isGenerated(text)) continue;
    unlinkSync(orphan.path);
    removed.push(orphan.path);
  }
  return removed;
}
