/**
 * Runs every `bench/*.bench.ts` in its own process, one after another (so
 * benchmarks never compete for the CPU), and exits non-zero if any crashed.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dir;
const files = readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).sort();
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const proc = Bun.spawnSync([process.execPath, join(dir, file)], { stdout: "inherit", stderr: "inherit" });
  if (proc.exitCode !== 0) {
    failed++;
    console.error(`${file} exited with ${proc.exitCode}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
