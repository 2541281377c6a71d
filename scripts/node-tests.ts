/**
 * The Node.js phase of `npm test`: the in-memory test suites (test/log,
 * test/workers, test/node) run under `node --test` against the compiled dist/,
 * the JavaScript a Node.js user installs.
 *
 *   bun scripts/node-tests.ts [path filter...]   this phase alone (scripts/test.ts runs it after `bun test`)
 *
 * How, and why this way (decided with Bun 1.4.5 and Node.js 20.20 on the 2-vCPU CI machine class):
 * - The tests stay written once, with `bun:test`. Each test file and each worker fixture is
 *   bundled for Node by `Bun.build({ target: "node" })` (well under a second for all of them),
 *   with two substitutions made by the plugin of scripts/node-bundle.ts:
 *   `bun:test` -> test/support/node/bun-test.ts, a small shim over `node:test` and Jest's
 *   standalone `expect` package (maintained, published for exactly this use, and the API Bun's
 *   `expect` copies); and every import of the library's sources (src/**, `atomic-log`,
 *   `atomic-log/runtime`, ...) -> the matching dist/ module, left external. So on Node the tests
 *   exercise the tsc output, not a re-bundle of the sources, and a test file and the worker
 *   fixtures it starts load the very same dist/ modules (`instanceof` on the library's errors
 *   holds across them). Only test code (helpers, generated codecs, fixtures) is bundled.
 * - Alternatives considered: a second copy of the tests in node:test style would drift from the
 *   Bun one; running the .ts files directly needs a TypeScript loader (Node 20 cannot strip
 *   types) plus a `bun:test` loader hook, and would still resolve `src/` rather than dist/;
 *   vitest or jest would add a whole runner (and its transform) to run what node:test runs.
 * - Workers are real `node:worker_threads` workers running the bundled fixtures against dist/
 *   (test/support/workers.ts picks the worker kind; the fixtures talk through
 *   test/support/worker-scope.ts). `log.watch(worker)` is thus tested with Node's "exit".
 * - Runtime services the tests need (sleep, a forced GC) come from test/support/runtime.ts;
 *   node runs with --expose-gc for the finalizer tests.
 * - No `--test-force-exit`: with it, node 20 exits before the file reporter has written the TAP
 *   copy the counts are read from. So a test must end its workers (`terminate()`), as it should;
 *   a forgotten one keeps its file's process alive, which no per-test timeout catches: the whole
 *   phase has a deadline instead (PHASE_TIMEOUT_MS), after which node is stopped and the phase
 *   fails saying so.
 * Files of those folders that cannot run on Node are listed in NODE_EXCLUDED with the reason.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ensureDist, nodePlugin } from "./node-bundle.ts";

const ROOT = join(import.meta.dir, "..");

/** The whole Node phase's deadline (it takes about 40 s on the 2-vCPU CI machine); ATOMIC_LOG_NODE_TESTS_TIMEOUT_MS overrides it. */
const PHASE_TIMEOUT_MS = Number(process.env.ATOMIC_LOG_NODE_TESTS_TIMEOUT_MS ?? 300_000);

/** The folders of in-memory suites that run on Node too. */
export const NODE_SUITES = ["test/log", "test/workers", "test/node"];

/**
 * Test files of NODE_SUITES that do not run on Node, each with the reason. Empty: every
 * in-memory test file runs on both runtimes. (Not in NODE_SUITES at all, being Bun-only by
 * design: test/durable (Bun.mmap, bun:ffi), test/bridge (nats-server through Bun.spawn),
 * test/codegen, test/package, test/examples and test/interleave (Bun tooling, or the sources).)
 */
export const NODE_EXCLUDED: Readonly<Record<string, string>> = {};

/** The test files of NODE_SUITES (less NODE_EXCLUDED) whose path contains one of `filters` (all if none). */
export function nodeTestFiles(filters: string[] = []): string[] {
  const files: string[] = [];
  for (const suite of NODE_SUITES) {
    for (const name of readdirSync(join(ROOT, suite)).sort()) {
      const file = `${suite}/${name}`;
      // `.node-test.ts`: Node.js-only files, which `bun test` does not collect.
      if (!(name.endsWith(".test.ts") || name.endsWith(".node-test.ts")) || file in NODE_EXCLUDED) continue;
      if (filters.length > 0 && !filters.some((f) => file.includes(f.replace(/^\.\//, "")))) continue;
      files.push(file);
    }
  }
  return files;
}

/** What one Node phase counted. */
export interface NodePhaseResult {
  passed: number;
  failed: number;
  skipped: number;
  /** node's exit code (0 only if every test passed). */
  exitCode: number;
  /** Wall time of the phase, bundling included. */
  seconds: number;
}

/**
 * Bundles the in-memory tests for Node and runs them with `node --test`, printing node's
 * spec report as it goes. Resolves with the counts (read from a TAP copy of the report).
 */
export async function runNodePhase(filters: string[] = []): Promise<NodePhaseResult> {
  const started = performance.now();
  const files = nodeTestFiles(filters);
  if (files.length === 0) return { passed: 0, failed: 0, skipped: 0, exitCode: 0, seconds: 0 };
  ensureDist("node");
  const out = mkdtempSync(join(tmpdir(), "atomic-log-node-tests-"));
  try {
    const fixtures = readdirSync(join(ROOT, "test/workers/fixtures"))
      .filter((name) => name.endsWith(".ts"))
      .map((name) => join(ROOT, "test/workers/fixtures", name));
    const bundle = await Bun.build({
      entrypoints: [...files.map((f) => join(ROOT, f)), ...fixtures],
      root: join(ROOT, "test"),
      outdir: out,
      target: "node",
      format: "esm",
      // Shared test code (the shim and `expect`, helpers, codecs) is one chunk, not a copy per file.
      splitting: true,
      sourcemap: "inline",
      plugins: [nodePlugin({ "bun:test": join(ROOT, "test/support/node/bun-test.ts") })],
    });
    if (!bundle.success) {
      for (const message of bundle.logs) console.error(message);
      throw new Error("node: bundling the tests for Node failed");
    }
    const report = join(out, "report.tap");
    const node = Bun.spawn(
      [
        "node",
        "--expose-gc",
        "--test",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=tap",
        `--test-reporter-destination=${report}`,
        ...files.map((f) => join(out, relative("test", f).replace(/\.ts$/, ".js"))),
      ],
      {
        cwd: ROOT,
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, ATOMIC_LOG_NODE_FIXTURES: join(out, "workers/fixtures") },
      },
    );
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      console.error(`node: the Node phase passed its ${PHASE_TIMEOUT_MS} ms deadline (a test file that never exits?); stopping node`);
      node.kill("SIGTERM"); // node's test runner ends its test-file processes on SIGTERM
      setTimeout(() => node.kill("SIGKILL"), 5000).unref();
    }, PHASE_TIMEOUT_MS);
    const exitCode = await node.exited;
    clearTimeout(watchdog);
    if (timedOut) throw new Error(`node: the Node phase timed out after ${PHASE_TIMEOUT_MS} ms`);
    const tap = readFileSync(report, "utf8");
    const count = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);
    return {
      passed: count("pass"),
      // A test cancelled by a timeout or by its file dying counts as failed.
      failed: count("fail") + count("cancelled"),
      skipped: count("skipped") + count("todo"),
      exitCode,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const result = await runNodePhase(process.argv.slice(2));
  console.log(`node phase took ${result.seconds.toFixed(1)} s`);
  console.log(`node: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
  process.exit(result.exitCode === 0 && result.failed === 0 ? 0 : 1);
}
