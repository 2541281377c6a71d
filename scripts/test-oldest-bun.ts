/**
 * `npm run test:oldest-bun`: the CI job that runs the whole suite on the oldest Bun that
 * package.json's `engines.bun` claims (">=1.4.0" → bun@1.4.0), installed from npm into a temp
 * prefix. `engines` must name versions CI really runs; this is where the lower bound is run.
 * (The upper end is the `bun` devDependency that `npm ci` installs and `npm test` uses.)
 *
 * Exits with the suite's exit code; 2 when the oldest Bun cannot be installed (no registry).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const engines = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { engines?: { bun?: string } }).engines;
const floor = /^>=\s*(\d+\.\d+\.\d+)$/.exec(engines?.bun ?? "");
if (floor === null) {
  console.error(`test:oldest-bun: engines.bun must be ">=X.Y.Z", got ${JSON.stringify(engines?.bun)}`);
  process.exit(2);
}
const version = floor[1]!;
const prefix = mkdtempSync(join(tmpdir(), `atomic-log-bun-${version}-`));
try {
  const install = Bun.spawnSync(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefer-offline", "--prefix", prefix, `bun@${version}`], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const bun = join(prefix, "node_modules/.bin/bun");
  const reported = install.exitCode === 0 ? Bun.spawnSync([bun, "--version"]).stdout.toString().trim() : "";
  if (reported !== version) {
    console.error(`test:oldest-bun: could not install bun@${version} from npm (got ${JSON.stringify(reported)})`);
    process.exit(2);
  }
  console.log(`test:oldest-bun: running the suite on Bun ${reported}`);
  // The suite's own runner under the old Bun: it runs `bun test` with process.execPath.
  // --bun-only: the Node.js phase runs on Node and does not depend on Bun's version.
  const run = Bun.spawnSync([bun, join(root, "scripts/test.ts"), "--bun-only", ...process.argv.slice(2)], { cwd: root, stdio: ["inherit", "inherit", "inherit"] });
  console.log(`test:oldest-bun: Bun ${reported} ${run.exitCode === 0 ? "passed" : `FAILED (exit ${run.exitCode})`}`);
  process.exitCode = run.exitCode ?? 1;
} finally {
  rmSync(prefix, { recursive: true, force: true });
}
