/**
 * Runs the cross-worker benchmark's phases under Node.js, for the Node rows of
 * bench/workers.bench.ts: bundles bench/workers/ for Node against the compiled
 * dist/ (scripts/node-bundle.ts: the library stays external, so Node runs the
 * tsc output a Node.js user installs), then runs bench/workers/node-main.ts in
 * `node` with the phases' settings, and returns what it measured.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDist, nodePlugin } from "../../scripts/node-bundle.ts";
import type { NodeBenchConfig, NodeBenchResult } from "../workers/node-main.ts";

export type { NodeBenchConfig, NodeBenchResult };

const WORKERS = join(import.meta.dir, "..", "workers");

/**
 * Runs `cfg` under Node (`node` on the PATH). Resolves with the results, or with
 * `{ skipped }` and the reason when Node is missing or the run failed (the
 * caller prints it and fails the benchmark; it never drops the rows silently).
 */
export async function runNodeWorkers(cfg: NodeBenchConfig): Promise<NodeBenchResult | { skipped: string }> {
  if (Bun.which("node") === null) return { skipped: "node is not on the PATH" };
  ensureDist("bench");
  const out = mkdtempSync(join(tmpdir(), "atomic-log-bench-node-"));
  try {
    // Every module of bench/workers is an entry: node-main.ts and each worker file the crews start.
    const entries = readdirSync(WORKERS)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(WORKERS, f));
    const bundle = await Bun.build({ entrypoints: entries, root: WORKERS, outdir: out, target: "node", format: "esm", splitting: true, plugins: [nodePlugin()] });
    if (!bundle.success) return { skipped: `bundling bench/workers for Node failed: ${bundle.logs.map(String).join("; ")}` };
    const configFile = join(out, "config.json");
    const resultFile = join(out, "result.json");
    writeFileSync(configFile, JSON.stringify(cfg));
    const node = Bun.spawn(["node", join(out, "node-main.js"), configFile, resultFile], { stdio: ["ignore", "inherit", "inherit"] });
    const code = await node.exited;
    if (code !== 0) return { skipped: `node exited with ${code}` };
    return JSON.parse(readFileSync(resultFile, "utf8")) as NodeBenchResult;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
