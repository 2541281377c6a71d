/**
 * Bundling this repository's TypeScript (tests, benchmarks) for Node.js against the compiled
 * library, shared by scripts/node-tests.ts (the Node phase of `npm test`) and
 * bench/support/node-workers.ts (the Node rows of `bun bench/workers.bench.ts`).
 *
 * `Bun.build({ target: "node", plugins: [nodePlugin()] })` bundles the code it is given, but
 * leaves every import of the library, by source path (`../../src/index.ts`) or by package
 * name (`atomic-log`, `atomic-log/runtime`), as an external import of the matching dist/
 * module: Node runs the tsc output a Node.js user installs, and every bundle (a test file, the
 * workers it starts) shares those modules, so `instanceof` holds across them. Only
 * src/generated, this repo's codegen output (not in dist/), is bundled like test code.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { BunPlugin } from "bun";

const ROOT = join(import.meta.dir, "..");
const SRC = join(ROOT, "src");
const DIST = join(ROOT, "dist");

/** The package's export map subpaths, mapped to their dist/ modules (the "import" condition). */
function exportTargets(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; exports: Record<string, string | Record<string, string>> };
  const targets = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string" || target.import === undefined) continue;
    targets.set(subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, join(ROOT, target.import));
  }
  return targets;
}

/**
 * A Bun.build plugin: the library (sources or package name) -> its dist/ module, external;
 * each key of `aliases` (an exact import specifier, e.g. `bun:test`) -> the file it names.
 */
export function nodePlugin(aliases: Record<string, string> = {}): BunPlugin {
  const packages = exportTargets();
  return {
    name: "atomic-log-node",
    setup(build) {
      for (const [specifier, file] of Object.entries(aliases)) {
        build.onResolve({ filter: new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`) }, () => ({ path: file }));
      }
      build.onResolve({ filter: /^atomic-log(\/.*)?$/ }, (args) => {
        const target = packages.get(args.path);
        if (target === undefined) throw new Error(`node bundle: ${args.path} (imported by ${args.importer}) is not in package.json's exports`);
        return { path: target, external: true };
      });
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const file = resolve(dirname(args.importer), args.path);
        const rel = relative(SRC, file);
        if (rel.startsWith("..") || rel.startsWith("generated/")) return undefined;
        return { path: join(DIST, rel.replace(/\.ts$/, ".js")), external: true };
      });
    },
  };
}

/** Newest modification time of the files under `dir` (ms), or 0 if there is none. */
function newest(dir: string, skip: (path: string) => boolean = () => false): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && !skip(path)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds dist/ (`bun scripts/build.ts runtime`) when it is missing or older than a source
 * file, so Node never runs stale JavaScript. tsc writes every output file on each build, so
 * dist/index.js's time is the build's. `who` prefixes the message ("node", "bench").
 */
export function ensureDist(who: string): void {
  let built = 0;
  try {
    built = statSync(join(DIST, "index.js")).mtimeMs;
  } catch {
    // no dist/ yet
  }
  const sources = Math.max(newest(SRC, (p) => p.startsWith(join(SRC, "generated"))), statSync(join(ROOT, "tsconfig.build.json")).mtimeMs);
  if (built >= sources) return;
  console.log(`${who}: ${built === 0 ? "dist/ is missing" : "dist/ is older than src/"}; building it (bun scripts/build.ts runtime)`);
  const run = Bun.spawnSync([process.execPath, join(ROOT, "scripts/build.ts"), "runtime"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (run.exitCode !== 0) throw new Error(`${who}: building dist/ failed`);
}
