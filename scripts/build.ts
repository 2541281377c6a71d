/**
 * `npm run build`: compiles what the two packages publish, with tsc.
 *
 *   bun scripts/build.ts            both packages
 *   bun scripts/build.ts runtime    src/ -> dist/ (ESM JavaScript, .d.ts, maps): `atomic-log`
 *   bun scripts/build.ts codegen    codegen/ -> packages/atomic-log-codegen/dist/: `atomic-log-codegen`
 *   bun scripts/build.ts --check-publishable   refuses (exit 1) while package.json still has the placeholder repository
 *
 * Each output directory is emptied first, so a renamed or deleted source never ships stale.
 *
 * Why tsc and not `bun build` (measured with Bun 1.4.5, Node 20.20, on this 2-vCPU machine):
 * - `bun build --splitting` of the three entry points renamed the 18 classes the entries share
 *   (`AtomicLogError2`, `SnapshotReleasedError2`, `RecordView2`, ...), so on Node every error's
 *   `name` (set from `new.target.name`) read `SnapshotReleasedError2`; `--keep-names` did not help.
 *   Without `--splitting` each entry gets its own copy of those classes, and `instanceof` fails
 *   between `atomic-log` and `atomic-log/runtime`.
 * - Declarations need tsc either way: `bun build` (0.01 s) + `tsc --emitDeclarationOnly`
 *   (2.8–3.3 s) took 2.8–3.3 s against 3.4–3.8 s for one tsc pass: no real gain.
 * - Cost of tsc's one-file-per-module output: importing the package on Node 20 takes 44–52 ms
 *   (median of 9 cold starts) against 18–22 ms for the bundle (10 ms for the node: builtins
 *   alone): about 25 ms more per thread that imports it. The JavaScript is 248 KB with comments
 *   against 127 KB bundled. Under Bun the "bun" export condition loads the TypeScript sources.
 * tsdown and bunup were not measured: both would add a dev dependency to a build whose cost is
 * the declaration pass, and bunup builds on the same Bun bundler.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const args = process.argv.slice(2);

if (args.includes("--check-publishable")) {
  for (const file of ["package.json", "packages/atomic-log-codegen/package.json"]) {
    const url = (JSON.parse(readFileSync(join(ROOT, file), "utf8")) as { repository?: { url?: string } }).repository?.url ?? "";
    if (url.includes("example.invalid")) {
      console.error(`${file}: repository.url is a placeholder (${url}); set the real repository before publishing`);
      process.exit(1);
    }
  }
  process.exit(0);
}

const targets = args.length === 0 ? ["runtime", "codegen"] : args;
const builds: Record<string, { project: string; out: string }> = {
  runtime: { project: "tsconfig.build.json", out: "dist" },
  codegen: { project: "packages/atomic-log-codegen/tsconfig.json", out: "packages/atomic-log-codegen/dist" },
};
for (const target of targets) {
  const build = builds[target];
  if (build === undefined) {
    console.error(`build: unknown target ${target} (expected runtime or codegen)`);
    process.exit(2);
  }
  rmSync(join(ROOT, build.out), { recursive: true, force: true });
  // node + tsc's own entry: works the same from npm scripts, bun and a plain shell.
  const tsc = Bun.spawnSync(["node", join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, build.project)], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (tsc.exitCode !== 0) {
    console.error(`build: tsc -p ${build.project} failed`);
    process.exit(1);
  }
}
