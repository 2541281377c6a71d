/**
 * Shared helpers for the benchmarks: same-run comparisons, medians over
 * rounds (the machine is noisy: two hyperthreads of one core), and one table
 * format with ratios and target checks.
 */
import { measure } from "mitata";

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Percentile (0..1) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}

/** mitata's median time per call of `fn`, in nanoseconds. */
export async function p50(fn: () => unknown): Promise<number> {
  const stats = await measure(fn, { min_cpu_time: 150e6 });
  return stats.p50;
}

/**
 * Measures every case in `cases` for `rounds` rounds, interleaved (A B C, A B C, ...)
 * so slow drift of the machine hits every case alike, and returns the median of
 * each case's per-round medians (ns per call).
 */
export async function interleaved(cases: Record<string, () => unknown>, rounds = 5): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(cases)) samples[name] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) samples[name]!.push(await p50(fn));
  }
  const out: Record<string, number> = {};
  for (const [name, values] of Object.entries(samples)) out[name] = median(values);
  return out;
}

/** One row of a result table. */
export interface Row {
  name: string;
  /** Human-readable figure, e.g. "152.3 M rec/s" or "1.21 µs". */
  figure: string;
  /** Ratio to the same-run baseline, if any. */
  ratio?: number;
  /** The baseline's name. */
  baseline?: string;
  /** Human-readable target, e.g. ">= 0.9x" or "<= 2 µs". */
  target?: string;
  /** Whether the target is met. */
  pass?: boolean;
}

/** Prints rows as a fixed-width table and returns the same text as markdown. */
export function printTable(title: string, rows: Row[]): string {
  console.log(`\n${title}`);
  const header = ["case", "median", "ratio", "target", ""];
  const lines = rows.map((r) => [
    r.name,
    r.figure,
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x ${r.baseline ?? ""}`.trim(),
    r.target ?? "",
    r.pass === undefined ? "" : r.pass ? "PASS" : "FAIL",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  const md = [`| ${header.slice(0, 4).join(" | ")} | result |`, `|${header.map(() => "---").join("|")}|`];
  for (const l of lines) md.push(`| ${l.join(" | ")} |`);
  return md.join("\n");
}

/** Formats records per second. */
export function rate(recordsPerCall: number, nsPerCall: number): string {
  return `${((recordsPerCall / nsPerCall) * 1e3).toFixed(1)} M rec/s`;
}

/** Formats a duration in nanoseconds. */
export function duration(ns: number): string {
  return ns < 1000 ? `${ns.toFixed(1)} ns` : ns < 1e6 ? `${(ns / 1e3).toFixed(2)} µs` : `${(ns / 1e6).toFixed(2)} ms`;
}
