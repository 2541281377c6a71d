/**
 * Shared helpers for the benchmarks: same-run comparisons, medians over
 * rounds (the machine is noisy: two hyperthreads of one core), the spread of
 * the rounds, and one table format with ratios and target checks.
 *
 * A ratio is always taken round by round (case in round r / baseline in round
 * r, both measured within seconds of each other) and then summarised: median
 * and min–max over the rounds. A ratio of medians would hide how much the
 * rounds disagree.
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

/** Median and spread of a set of per-round values. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  /** Lower and upper quartile (nearest rank). */
  p25: number;
  p75: number;
  /** Number of rounds. */
  n: number;
}

/** Median, min, max and quartiles of `values` (NaN everywhere when empty). */
export function stats(values: number[]): Stats {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, p25: NaN, p75: NaN, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: median(sorted),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    p25: percentile(sorted, 0.25),
    p75: percentile(sorted, 0.75),
    n: sorted.length,
  };
}

/** Round-by-round quotients `a[i] / b[i]` (the rounds both have). */
export function perRound(a: number[], b: number[]): number[] {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(a[i]! / b[i]!);
  return out;
}

/**
 * mitata's median time per call of `fn`, in nanoseconds, over at least 150 ms.
 *
 * mitata switches to batches (each sample the mean of 4096 calls, at least 12
 * samples) when a warm-up call takes under 65 µs. A bulk case (tens of µs and
 * more per call) would then be measured per call in one round and in batches
 * in the next, once the JIT has sped it up, and take seconds instead of 150 ms.
 * Pass `batch: false` for bulk cases to always time single calls; leave the
 * default for operations of a few ns to µs, which need batches.
 */
export async function p50(fn: () => unknown, opts: { batch?: boolean } = {}): Promise<number> {
  const stats = await measure(fn, { min_cpu_time: 150e6, ...(opts.batch === false ? { batch_threshold: -1 } : {}) });
  return stats.p50;
}

/**
 * Measures every case in `cases` for `rounds` rounds, interleaved (A B C, A B C, ...)
 * so slow drift of the machine hits every case alike, and returns each case's
 * per-round medians (ns per call), one per round.
 */
export async function interleavedSamples(cases: Record<string, () => unknown>, rounds = 5): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(cases)) samples[name] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) samples[name]!.push(await p50(fn));
  }
  return samples;
}

/**
 * Like {@link interleavedSamples}, but returns the median of each case's
 * per-round medians (ns per call).
 */
export async function interleaved(cases: Record<string, () => unknown>, rounds = 5): Promise<Record<string, number>> {
  const samples = await interleavedSamples(cases, rounds);
  const out: Record<string, number> = {};
  for (const [name, values] of Object.entries(samples)) out[name] = median(values);
  return out;
}

/** A ratio against one baseline, summarised over rounds. */
export interface RatioCell {
  /** Per-round ratios (case / baseline, or as the row says). */
  stats: Stats;
  /** The baseline's name, e.g. "raw" or "Rust append". */
  baseline: string;
}

/** One row of a result table. */
export interface Row {
  name: string;
  /** Human-readable figure, e.g. "152.3 M rec/s" or "1.21 µs". */
  figure: string;
  /** Spread of the figure over rounds, e.g. "140.2–160.9". */
  spread?: string;
  /** Ratio to the same-run baseline, if any (a single median; prefer {@link ratios}). */
  ratio?: number;
  /** The baseline's name. */
  baseline?: string;
  /** Ratios against one or more same-run baselines, with their spread over rounds. */
  ratios?: RatioCell[];
  /** Human-readable target, e.g. ">= 0.9x" or "<= 2 µs". */
  target?: string;
  /** Whether the target is met. */
  pass?: boolean;
  /** The runtime that measured the row ("bun", "node"); a table with any adds a runtime column. */
  runtime?: string;
}

/** "0.83x raw [0.79–0.88]": a ratio's median and min–max over rounds. */
export function formatRatio(c: RatioCell): string {
  const s = c.stats;
  if (!(s.n > 0) || !Number.isFinite(s.median)) return `— ${c.baseline} (skipped)`;
  const d = s.median >= 10 ? 1 : 2;
  const spread = s.n > 1 ? ` [${s.min.toFixed(d)}–${s.max.toFixed(d)}]` : "";
  return `${s.median.toFixed(d)}x ${c.baseline}${spread}`;
}

/** Prints rows as a fixed-width table and returns the same text as markdown. */
export function printTable(title: string, rows: Row[]): string {
  console.log(`\n${title}`);
  const withRuntime = rows.some((r) => r.runtime !== undefined);
  const header = [...(withRuntime ? ["runtime"] : []), "case", "median", "rounds min–max", "ratio, median [min–max of rounds]", "target", ""];
  const lines = rows.map((r) => {
    const cells: string[] = [];
    if (r.ratio !== undefined) cells.push(`${r.ratio.toFixed(2)}x ${r.baseline ?? ""}`.trim());
    for (const c of r.ratios ?? []) cells.push(formatRatio(c));
    const row = [r.name, r.figure, r.spread ?? "", cells.join("; "), r.target ?? "", r.pass === undefined ? "" : r.pass ? "PASS" : "FAIL"];
    return withRuntime ? [r.runtime ?? "", ...row] : row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  const md = [`**${title}**`, ``, `| ${header.slice(0, -1).join(" | ")} | result |`, `|${header.map(() => "---").join("|")}|`];
  for (const l of lines) md.push(`| ${l.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`);
  return md.join("\n");
}

/** Formats records per second. */
export function rate(recordsPerCall: number, nsPerCall: number): string {
  return `${((recordsPerCall / nsPerCall) * 1e3).toFixed(1)} M rec/s`;
}

/** Formats M rec/s. */
export function mrec(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(1)} M rec/s` : "skipped";
}

/** "140.2–160.9" (min–max of `s`, with `digits` decimals). */
export function range(s: Stats, digits = 1): string {
  return s.n > 0 && Number.isFinite(s.min) ? `${s.min.toFixed(digits)}–${s.max.toFixed(digits)}` : "";
}

/** Formats a duration in nanoseconds. */
export function duration(ns: number): string {
  if (!Number.isFinite(ns)) return "n/a";
  return ns < 1000 ? `${ns.toFixed(1)} ns` : ns < 1e6 ? `${(ns / 1e3).toFixed(2)} µs` : `${(ns / 1e6).toFixed(2)} ms`;
}
