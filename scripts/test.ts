/**
 * `npm test` / `bun run test`: the whole suite under Bun, then the in-memory suites under
 * Node.js (scripts/node-tests.ts: bundled for Node, run by `node --test` against dist/),
 * ending with one plain summary line per runtime:
 *
 *   bun: N passed, N failed, N skipped
 *   node: N passed, N failed, N skipped
 *   N passed, N failed, N skipped        (the totals, last)
 *
 * Bun's counts are read from its JUnit report, Node's from a TAP copy of its report. Exits
 * non-zero if either runtime has a failure. Extra arguments go to `bun test` (e.g. a path
 * filter); those not starting with "-" also filter the Node phase's files by path.
 * `--bun-only` skips the Node phase.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runNodePhase, nodeTestFiles } from "./node-tests.ts";

const args = process.argv.slice(2).filter((a) => a !== "--bun-only");
const bunOnly = args.length < process.argv.length - 2;

const dir = mkdtempSync(join(tmpdir(), "atomic-log-test-"));
const report = join(dir, "junit.xml");
const bun = process.execPath;
const run = Bun.spawnSync([bun, "test", "--reporter=junit", `--reporter-outfile=${report}`, ...args], {
  stdio: ["inherit", "inherit", "inherit"],
});
const counts = { passed: 0, failed: 0, skipped: 0 };
let bunSummary = "0 passed, 0 failed, 0 skipped";
try {
  const xml = readFileSync(report, "utf8");
  const root = /<testsuites[^>]*\btests="(\d+)"[^>]*\bfailures="(\d+)"[^>]*\bskipped="(\d+)"/.exec(xml);
  if (root) {
    const [tests, failures, skipped] = root.slice(1).map(Number) as [number, number, number];
    bunSummary = `${tests - failures - skipped} passed, ${failures} failed, ${skipped} skipped`;
    counts.passed += tests - failures - skipped;
    counts.failed += failures;
    counts.skipped += skipped;
  }
} catch {
  // No report means bun test died before writing one; the exit code below says so.
}
rmSync(dir, { recursive: true, force: true });
let ok = run.exitCode === 0;

let nodeSummary: string | null = null;
// Path filters for the Node phase: the arguments that are not options, nor the values of
// `bun test` options that take one (`-t wake` is a name pattern, not a path filter).
const VALUED = new Set(["-t", "--test-name-pattern", "--timeout", "--rerun-each", "--preload", "--bail", "--seed", "--reporter", "--reporter-outfile", "--coverage-dir", "--coverage-reporter"]);
const filters = args.filter((a, i) => !a.startsWith("-") && !VALUED.has(args[i - 1] ?? ""));
if (!bunOnly && nodeTestFiles(filters).length > 0) {
  console.log("\nNode.js phase: the in-memory suites under node --test, against dist/ (scripts/node-tests.ts)");
  try {
    const node = await runNodePhase(filters);
    console.log(`Node.js phase took ${node.seconds.toFixed(1)} s`);
    nodeSummary = `${node.passed} passed, ${node.failed} failed, ${node.skipped} skipped`;
    counts.passed += node.passed;
    counts.failed += node.failed;
    counts.skipped += node.skipped;
    ok &&= node.exitCode === 0 && node.failed === 0;
  } catch (error) {
    // Building dist/ or bundling the tests failed: no Node test ran, and that is a failure.
    console.error(error);
    nodeSummary = "0 passed, 1 failed, 0 skipped";
    counts.failed += 1;
    ok = false;
  }
}

console.log(`bun: ${bunSummary}`);
if (nodeSummary !== null) console.log(`node: ${nodeSummary}`);
// A run that died before reporting counts as a failure in the totals too.
if (!ok && counts.failed === 0) counts.failed = 1;
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(ok ? 0 : 1);
