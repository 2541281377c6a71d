/**
 * The Node.js side of the cross-worker benchmark: runs, under Node with
 * `node:worker_threads` workers and the compiled dist/, the phases that
 * bench/workers.bench.ts gives it (the same throughput and latency code and
 * settings as Bun's, with the cases it lists), and writes what they measured
 * as JSON. Started by bench/support/node-workers.ts, which bundles it:
 *
 *   node <bundle>/node-main.js <config.json> <result.json>
 */
import { readFileSync, writeFileSync } from "node:fs";
import { runLatency, type LatencyConfig, type LatencyResult } from "./latency-phase.ts";
import { runThroughput, type ThroughputCase, type ThroughputConfig, type ThroughputResult } from "./throughput-phase.ts";

/** What the Bun side asks for (functions such as `between` cannot cross processes). */
export interface NodeBenchConfig {
  throughput: Omit<ThroughputConfig, "between">;
  spin: Omit<LatencyConfig, "between">;
  wake: Omit<LatencyConfig, "between">;
}

/** What this side reports. */
export interface NodeBenchResult {
  /** process.versions.node. */
  node: string;
  throughput: Partial<Record<ThroughputCase, ThroughputResult>>;
  spin: Record<string, LatencyResult>;
  wake: Record<string, LatencyResult>;
  /** Latency phases that failed (each is retried once, as on Bun). */
  failures: string[];
}

const [configFile, resultFile] = process.argv.slice(2);
if (configFile === undefined || resultFile === undefined) throw new Error("usage: node node-main.js <config.json> <result.json>");
const cfg = JSON.parse(readFileSync(configFile, "utf8")) as NodeBenchConfig;
const failures: string[] = [];

/** A latency phase, retried once on failure like workers.bench.ts does; empty results if both attempts fail. */
async function latency(phase: string, c: LatencyConfig): Promise<Record<string, LatencyResult>> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      return await runLatency(phase, c);
    } catch (error) {
      const why = String((error as Error)?.message ?? error).split("\n")[0]!;
      failures.push(`node ${phase} attempt ${attempt} failed: ${why}`);
      console.error(`node ${phase} attempt ${attempt} failed: ${why}`);
    }
  }
  return Object.fromEntries(c.modes.map((m) => [m, { oneWay: [], rttHalf: [], early: 0, syncRtt: [], ends: [] }]));
}

const throughput = await runThroughput(cfg.throughput);
const spin = await latency("latency-spin", cfg.spin);
const wake = await latency("latency-wake", cfg.wake);
const result: NodeBenchResult = { node: process.versions.node, throughput, spin, wake, failures };
writeFileSync(resultFile, JSON.stringify(result));
