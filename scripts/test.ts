/**
 * `npm test` / `bun run test`: runs `bun test` and ends with one plain summary line,
 * "N passed, N failed, N skipped", read from Bun's JUnit report. Extra
 * arguments go to `bun test` (e.g. a path filter).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "atomic-log-test-"));
const report = join(dir, "junit.xml");
const bun = process.execPath;
const run = Bun.spawnSync([bun, "test", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)], {
  stdio: ["inherit", "inherit", "inherit"],
});
let summary = "0 passed, 0 failed";
try {
  const xml = readFileSync(report, "utf8");
  const root = /<testsuites[^>]*\btests="(\d+)"[^>]*\bfailures="(\d+)"[^>]*\bskipped="(\d+)"/.exec(xml);
  if (root) {
    const [tests, failures, skipped] = root.slice(1).map(Number) as [number, number, number];
    summary = `${tests - failures - skipped} passed, ${failures} failed, ${skipped} skipped`;
  }
} catch {
  // No report means bun test died before writing one; the exit code below says so.
}
rmSync(dir, { recursive: true, force: true });
console.log(summary);
process.exit(run.exitCode ?? 1);
