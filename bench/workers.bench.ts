/**
 * Cross-thread benchmark (issues: workers, #8). Real Bun workers, 32-byte
 * Trade records, every target checked against a baseline measured in the same
 * run, every ratio taken round by round (median [min–max] over rounds):
 *
 * 1. one writer worker -> one reader worker, end to end (reader reads and
 *    checks every field), vs postMessage of 1024-record batches with the
 *    ArrayBuffer transferred (>= 1.5x) and vs the raw SAB ceiling (>= 0.85x);
 * 2. one writer -> three reader workers, per reader, vs BroadcastChannel of
 *    1024-record batches (>= 3x), vs the raw SAB ceiling 1 -> 3 (>= 0.85x) and
 *    vs ringbuf.js 1 -> 1 at its best configuration (>= 1.0x; the byte ring
 *    is shown too);
 * 3. append-to-seen latency with a spinning reader: p50 <= 0.5 µs, p99 <= 5 µs,
 *    within 1.2x of a raw Atomics store/load in the same run; the Rust crate's
 *    `latency N refresh 0` (threads pinned, rdtsc) beside it;
 * 4. wake-up through `cursor.ready()`: p50 <= 50 µs (vs one-way postMessage,
 *    and raw Atomics.waitAsync + notify).
 *
 * The raw ceiling (workers/raw-*.ts) is the fastest honest code for the same
 * job: no `%` per record, the same per-record checks as the log readers, warm
 * memory, one publish per 1024 records, readers that park like the log's.
 * The Rust crate's `readers 3 3 chunks` runs between rounds for information:
 * its readers re-read whole snapshots, which is not the same work as
 * delivering each record once, so it gets no ratio.
 *
 * Throughput cases run in interleaved rounds; latencies pool every sample
 * after warm-up (spreads: per-round percentiles). Writes
 * bench/results/workers.md and bench/results/workers.svg (quick runs write
 * *.quick.tmp files instead).
 *
 *   bun bench/workers.bench.ts              # full run
 *   BENCH_QUICK=1 bun bench/workers.bench.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { barChartSvg } from "./support/svg-chart.ts";
import { duration, median, mrec, percentile, perRound, printTable, range, stats, type RatioCell, type Row } from "./support/report.ts";
import { anchorDescription, num, rustAnchor, rustLatency, rustLatencyRaw, rustReaders, type RustRun } from "./support/rust-anchor.ts";
import { roundPercentiles, runLatency, type LatencyResult } from "./workers/latency-phase.ts";
import { runThroughput } from "./workers/throughput-phase.ts";

const quick = process.env.BENCH_QUICK === "1";
const started = performance.now();
const tpRounds = quick ? 7 : 101;

// ---- the Rust anchor, run between rounds while every worker is idle
console.log(anchorDescription());
rustAnchor();
const rustSkipped: Record<string, string> = {};
const R: Record<string, number[]> = {};
function rust(key: string, run: RustRun, fields: Record<string, [string, number]>): void {
  if (!run.ok) rustSkipped[key] ??= run.reason;
  for (const [name, [field, scale]] of Object.entries(fields)) (R[name] ??= []).push(num(run, field) * scale);
}
const RUST_READERS_AT = new Set(quick ? [tpRounds - 1] : [0, Math.floor(tpRounds / 2), tpRounds - 1]);
const RUST_READERS_S = quick ? 1 : 3;
const RUST_LAT_N = quick ? 50_000 : 200_000;

const throughput = await runThroughput({
  rounds: tpRounds,
  warmupRounds: quick ? 2 : 3,
  records: quick ? 1 << 19 : 1 << 20,
  retained: 1 << 20,
  segment: 4096,
  ringRecords: 1 << 16,
  spins: 4096,
  roundTimeoutMs: 10_000,
  budgetMs: quick ? 40_000 : 240_000,
  between: (r) => {
    if (!RUST_READERS_AT.has(r)) return;
    rust("readers", rustReaders(3, RUST_READERS_S, "chunks"), { "readers.writer": ["writer_Mps", 1], "readers.each": ["reader_recs_Mps_total", 1 / 3] });
  },
});

/**
 * Runs a latency phase, once more if it fails. With another CPU-bound process
 * on the two vCPUs, the spin-based ping-pongs (clock sync, spin samples) have
 * run past their 10 s round timeout a few times. A phase that fails twice
 * yields no samples (its rows say so) and the run exits non-zero after writing
 * everything else. Every failure is reported with the results, never hidden.
 */
const phaseFailures: string[] = [];
async function latencyPhase(phase: string, cfg: Parameters<typeof runLatency>[1], onRetry?: () => void): Promise<Record<string, LatencyResult>> {
  const empty = () => Object.fromEntries(cfg.modes.map((m) => [m, { oneWay: [], rttHalf: [], early: 0, syncRtt: [], ends: [] } as LatencyResult]));
  for (let attempt = 1; ; attempt++) {
    try {
      return await runLatency(phase, cfg);
    } catch (error) {
      const why = String((error as Error)?.message ?? error).split("\n")[0]!;
      phaseFailures.push(`${phase} attempt ${attempt} failed: ${why}`);
      console.error(`${phase} attempt ${attempt} failed: ${why}`);
      if (attempt === 2) return empty();
      onRetry?.();
    }
  }
}

const spin = await latencyPhase("latency-spin", {
  modes: ["log-spin", "raw-spin"],
  rounds: quick ? 2 : 5,
  samples: quick ? 3000 : 5000,
  warmup: quick ? 500 : 1000,
  gapUs: [1, 4],
  idleUs: [0, 0],
  roundTimeoutMs: 10_000,
  budgetMs: quick ? 15_000 : 45_000,
  between: () => {
    rust("latency", rustLatency(RUST_LAT_N, "refresh", 0), { "lat.p50": ["p50", 1], "lat.p99": ["p99", 1] });
    rust("latency_raw", rustLatencyRaw(RUST_LAT_N, 0), { "latraw.p50": ["p50", 1], "latraw.p99": ["p99", 1] });
  },
}, () => {
  for (const k of ["lat.p50", "lat.p99", "latraw.p50", "latraw.p99"]) R[k] = [];
});

const wake = await latencyPhase("latency-wake", {
  modes: ["log-ready", "raw-waitasync", "postmessage"],
  rounds: quick ? 2 : 5,
  samples: quick ? 300 : 1000,
  warmup: quick ? 30 : 50,
  gapUs: [0, 0],
  idleUs: [100, 600],
  roundTimeoutMs: 10_000,
  budgetMs: quick ? 15_000 : 60_000,
});

// ---- figures
type Case = keyof typeof throughput;
const rates = (k: Case) => throughput[k].rates;
const tp = Object.fromEntries(Object.entries(throughput).map(([k, v]) => [k, median(v.rates)])) as Record<Case, number>;
/** Per-round ratio of two throughput cases (same round, higher is better). */
const vs = (a: Case, b: Case, baseline: string): RatioCell => ({ stats: stats(perRound(rates(a), rates(b))), baseline });
/** Whether every ratio's median reaches its minimum; undefined if a baseline is missing. */
function judge(...conds: [RatioCell, number][]): boolean | undefined {
  if (conds.some(([c]) => !Number.isFinite(c.stats.median))) return undefined;
  return conds.every(([c, min]) => c.stats.median >= min);
}
const tpRow = (name: string, k: Case, extra: Partial<Row> = {}): Row => ({ name, figure: mrec(tp[k]), spread: range(stats(rates(k))), ...extra });
// ringbuf.js at its best: whichever Float64 configuration had the higher median in this run.
const bestRing: Case = tp["ringbuf64cb-1"] >= tp["ringbuf64-1"] ? "ringbuf64cb-1" : "ringbuf64-1";
const bestRingName = bestRing === "ringbuf64cb-1" ? "ringbuf.js f64 writeCallback" : "ringbuf.js f64 push";

const pct = (xs: number[], p: number) => (xs.length > 0 ? percentile(xs, p) : NaN);
const lat = (r: LatencyResult) => ({ p50: pct(r.oneWay, 0.5), p99: pct(r.oneWay, 0.99), r50: roundPercentiles(r, 0.5), r99: roundPercentiles(r, 0.99) });
const ls = lat(spin["log-spin"]!);
const rs = lat(spin["raw-spin"]!);
const lw = lat(wake["log-ready"]!);
const rw = lat(wake["raw-waitasync"]!);
const pw = lat(wake["postmessage"]!);
/** Per-round ratio of latencies (lower is better). */
const lvs = (a: number[], b: number[], baseline: string): RatioCell => ({ stats: stats(perRound(a, b)), baseline });
const nsSpread = (xs: number[]) => {
  const s = stats(xs);
  return s.n > 0 && Number.isFinite(s.min) ? `${duration(s.min)}–${duration(s.max)}` : "";
};
/** `text`, or "skipped: <reason>" when no run of the Rust case `key` (whose figures are `figure`) succeeded. */
const rustFigure = (key: string, figure: string, text: string) => ((R[figure] ?? []).some(Number.isFinite) ? text : `skipped: ${rustSkipped[key] ?? "not run"}`);
const rmed = (k: string) => median((R[k] ?? []).filter(Number.isFinite));

const logSpinVsRaw50 = lvs(ls.r50, rs.r50, "raw Atomics");
const logSpinVsRust50 = lvs(ls.r50, R["lat.p50"] ?? [], "Rust");
const rows: Row[] = [
  tpRow("log 1w->1r end to end (take())", "log-1", {
    ratios: [vs("log-1", "transfer-1", "postMessage"), vs("log-1", "raw-1", "raw")],
    target: ">= 1.5x postMessage, >= 0.85x raw",
    pass: judge([vs("log-1", "transfer-1", ""), 1.5], [vs("log-1", "raw-1", ""), 0.85]),
  }),
  tpRow("  baseline: postMessage 1024-batch, transferred", "transfer-1"),
  tpRow("  baseline: raw SAB 1->1, no library (ceiling)", "raw-1"),
  tpRow("log 1w->3r per reader", "log-3", {
    ratios: [vs("log-3", "broadcast-3", "BroadcastChannel"), vs("log-3", "raw-3", "raw"), vs("log-3", bestRing, `best ringbuf.js (${bestRingName})`), vs("log-3", "ringbuf-1", "ringbuf.js bytes")],
    target: ">= 3x BroadcastChannel, >= 0.85x raw, >= 1.0x best ringbuf.js",
    pass: judge([vs("log-3", "broadcast-3", ""), 3], [vs("log-3", "raw-3", ""), 0.85], [vs("log-3", bestRing, ""), 1.0]),
  }),
  tpRow("  baseline: BroadcastChannel 1024-batch, 3 readers", "broadcast-3"),
  tpRow("  baseline: raw SAB 1->3, per reader (ceiling)", "raw-3"),
  tpRow("  baseline: ringbuf.js SPSC, Uint8 ring (bytes), push/pop", "ringbuf-1", { ratios: [vs("ringbuf-1", bestRing, "best ringbuf.js")] }),
  tpRow("  baseline: ringbuf.js SPSC, Float64 ring, push/pop", "ringbuf64-1"),
  tpRow("  baseline: ringbuf.js SPSC, Float64 ring, writeCallbackWithOffset/pop", "ringbuf64cb-1"),
  {
    name: `  (info, no ratio) Rust crate readers 3 ${RUST_READERS_S} chunks: per snapshot-reader re-read rate / writer`,
    figure: rustFigure("readers", "readers.each", `${mrec(rmed("readers.each"))} / ${mrec(rmed("readers.writer"))}`),
    spread: `${range(stats((R["readers.each"] ?? []).filter(Number.isFinite)))} / ${range(stats((R["readers.writer"] ?? []).filter(Number.isFinite)))}`,
    target: "(re-reads whole snapshots: not the same work)",
  },
  {
    name: "latency spin p50 (append->tryNext)",
    figure: duration(ls.p50),
    spread: nsSpread(ls.r50),
    ratios: [logSpinVsRaw50, logSpinVsRust50],
    target: "<= 0.5 µs, <= 1.2x raw",
    pass: ls.p50 <= 500 && logSpinVsRaw50.stats.median <= 1.2,
  },
  {
    name: "latency spin p99",
    figure: duration(ls.p99),
    spread: nsSpread(ls.r99),
    ratios: [lvs(ls.r99, rs.r99, "raw Atomics"), lvs(ls.r99, R["lat.p99"] ?? [], "Rust")],
    target: "<= 5 µs",
    pass: ls.p99 <= 5000,
  },
  { name: "  baseline: raw f64 + Atomics.store/load p50 / p99", figure: `${duration(rs.p50)} / ${duration(rs.p99)}`, spread: `${nsSpread(rs.r50)} / ${nsSpread(rs.r99)}` },
  {
    name: `  baseline: Rust latency ${RUST_LAT_N} refresh 0 p50 / p99 (pinned, rdtsc)`,
    figure: rustFigure("latency", "lat.p50", `${duration(rmed("lat.p50"))} / ${duration(rmed("lat.p99"))}`),
    spread: `${nsSpread(R["lat.p50"] ?? [])} / ${nsSpread(R["lat.p99"] ?? [])}`,
  },
  {
    name: "  (info) Rust latency_raw (bare AtomicU64) p50 / p99",
    figure: rustFigure("latency_raw", "latraw.p50", `${duration(rmed("latraw.p50"))} / ${duration(rmed("latraw.p99"))}`),
    spread: `${nsSpread(R["latraw.p50"] ?? [])} / ${nsSpread(R["latraw.p99"] ?? [])}`,
  },
  {
    name: "wake-up ready() p50",
    figure: duration(lw.p50),
    spread: nsSpread(lw.r50),
    ratios: [lvs(lw.r50, pw.r50, "postMessage"), lvs(lw.r50, rw.r50, "raw waitAsync")],
    target: "<= 50 µs",
    pass: lw.p50 <= 50_000,
  },
  { name: "wake-up ready() p99", figure: duration(lw.p99), spread: nsSpread(lw.r99), ratios: [lvs(lw.r99, pw.r99, "postMessage"), lvs(lw.r99, rw.r99, "raw waitAsync")] },
  { name: "  baseline: postMessage one-way p50 / p99", figure: `${duration(pw.p50)} / ${duration(pw.p99)}`, spread: `${nsSpread(pw.r50)} / ${nsSpread(pw.r99)}` },
  { name: "  baseline: raw Atomics.waitAsync+notify p50 / p99", figure: `${duration(rw.p50)} / ${duration(rw.p99)}`, spread: `${nsSpread(rw.r50)} / ${nsSpread(rw.r99)}` },
];

const title = `Cross-thread, 32-byte records, real Bun workers (${quick ? "quick" : "full"} run; throughput: ${throughput["log-1"].rates.length} interleaved rounds; latency: ratio = log / baseline, lower is better; ratios per round, median [min–max])`;
const md = printTable(title, rows);

const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)}`;
const checks = Object.entries(throughput).map(
  ([k, v]) =>
    `- ${k}: rounds ${spread(v.rates)} M rec/s, p25–p75 ${percentile(v.rates, 0.25).toFixed(1)}–${percentile(v.rates, 0.75).toFixed(1)} (writer alone: median ${median(v.writerRates).toFixed(1)}), lost ${v.lost}, bad ${v.bad}, field sums ${v.sumOk ? "ok" : "MISMATCH"}${k.startsWith("log") || k.startsWith("raw") ? `, parks ${v.parks}` : ""}`,
);
const latNotes = [...Object.entries(spin), ...Object.entries(wake)].map(([k, v]) => {
  const o = lat(v);
  return `- ${k}: ${v.oneWay.length} samples, one-way p50 ${duration(o.p50)} p99 ${duration(o.p99)} p99.9 ${duration(pct(v.oneWay, 0.999))}; RTT/2 p50 ${duration(pct(v.rttHalf, 0.5))} p99 ${duration(pct(v.rttHalf, 0.99))}; early ${v.early}; clock-sync RTT ${v.syncRtt.map((x) => x.toFixed(0)).join("/")} ns`;
});
const rustNotes = [
  `- ${anchorDescription()}`,
  ...Object.entries(rustSkipped).map(([k, why]) => `- Rust ${k} skipped: ${why}`),
  ...phaseFailures.map((f) => `- FAILED and retried: ${f}`),
  `- Rust readers runs: per reader ${(R["readers.each"] ?? []).map((x) => x.toFixed(1)).join(", ")} M rec/s re-read; writer ${(R["readers.writer"] ?? []).map((x) => x.toFixed(1)).join(", ")} M rec/s`,
];
console.log(["\nPer case:", ...checks, ...latNotes, ...rustNotes].join("\n"));

const integrityOk = Object.values(throughput).every((v) => v.bad === 0 && v.sumOk);
const latencyOk = [...Object.values(spin), ...Object.values(wake)].every((v) => v.oneWay.length > 0);
if (!latencyOk) console.error("\nFAIL: a latency phase failed twice (see the FAILED lines above)");
if (!integrityOk) console.error("\nFAIL: a reader read a wrong record (see per-case lines above)");
if (throughput["log-1"].lost + throughput["log-3"].lost > 0) console.warn("\nnote: a log reader was lapped; its rate counts delivered records only");

// ---- results files (quick runs never overwrite the committed full-run results)
const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
const suffix = quick ? ".quick.tmp" : "";
const when = new Date().toISOString();
const method = [
  `Throughput: records per second per reader, from the writer's first record to the last record read by the slowest reader; ratios are taken within each round, then the median and min–max over rounds are shown.`,
  `Raw ceiling: plain typed arrays over one SharedArrayBuffer ring, runs of consecutive slots (no \`%\` per record), every field of every record read and \`ts\` checked like the log readers do, ring pre-touched, one \`Atomics.store\` per 1024 records, readers spin 4096 empty polls then park in \`Atomics.wait\` (the writer notifies only when the parked flag is set), as the log's readers park in \`ready()\`.`,
  `ringbuf.js: best configuration = the faster of its Float64 rings in this run (\`push\` from a staging buffer, or \`writeCallbackWithOffset\` writing fields straight into the ring); consumers \`pop\` into a local Float64Array (ringbuf.js has no zero-copy read).`,
  `Latency: one-way, writer \`performance.now()\` before the append to reader \`performance.now()\` on seeing it, with the readers' clock mapped onto the writer's by a clock sync over shared memory (error bound: half the sync RTT above). Spreads are the per-round percentiles. The Rust crate's figures come from its own binary (threads pinned, rdtsc), run between the latency rounds.`,
];
const tableMd = [md, ``, `Per case:`, ``, ...checks, ...latNotes, ...rustNotes, ``, ...method.map((m) => `- ${m}`), ``].join("\n");
writeFileSync(
  join(dir, `workers.md${suffix}`),
  [`# Cross-thread benchmark (bench/workers.bench.ts)`, ``, `${when}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} vCPUs, ${quick ? "BENCH_QUICK=1" : "full run"}.`, ``, tableMd].join("\n"),
);
if (process.env.BENCH_MARKDOWN) writeFileSync(process.env.BENCH_MARKDOWN, tableMd);
const us = (ns: number) => ns / 1000;
writeFileSync(
  join(dir, `workers.svg${suffix}`),
  barChartSvg(
    `atomic-log across Bun workers, 32-byte records (${quick ? "quick" : "full"} run)`,
    [
      {
        title: "Throughput per reader (M records/s, median of rounds)",
        unit: "M/s",
        bars: [
          { label: "log 1 writer -> 1 reader", value: tp["log-1"], highlight: true },
          { label: "raw SAB, no library, 1 -> 1 (ceiling)", value: tp["raw-1"] },
          { label: "postMessage 1024-batch, transferred", value: tp["transfer-1"] },
          { label: "log 1 writer -> 3 readers (each)", value: tp["log-3"], highlight: true },
          { label: "raw SAB, no library, 1 -> 3 (each)", value: tp["raw-3"] },
          { label: "BroadcastChannel 1024-batch, 3 readers", value: tp["broadcast-3"] },
          { label: "ringbuf.js SPSC Float64, writeCallback", value: tp["ringbuf64cb-1"] },
          { label: "ringbuf.js SPSC Float64, push", value: tp["ringbuf64-1"] },
          { label: "ringbuf.js SPSC bytes", value: tp["ringbuf-1"] },
        ],
      },
      {
        title: "Append-to-seen latency, spinning reader (µs)",
        unit: "µs",
        marker: { value: 0.5, label: "p50 target 0.5" },
        bars: [
          { label: "log tryNext p50", value: us(ls.p50), highlight: true },
          { label: "log tryNext p99", value: us(ls.p99), highlight: true },
          { label: "raw Atomics p50", value: us(rs.p50) },
          { label: "raw Atomics p99", value: us(rs.p99) },
          ...(Number.isFinite(rmed("lat.p50"))
            ? [
                { label: "Rust crate p50 (pinned)", value: us(rmed("lat.p50")) },
                { label: "Rust crate p99 (pinned)", value: us(rmed("lat.p99")) },
              ]
            : []),
        ],
      },
      {
        title: "Wake-up latency, parked reader (µs)",
        unit: "µs",
        marker: { value: 50, label: "p50 target 50" },
        bars: [
          { label: "log ready() p50", value: us(lw.p50), highlight: true },
          { label: "log ready() p99", value: us(lw.p99), highlight: true },
          { label: "raw Atomics.waitAsync p50", value: us(rw.p50) },
          { label: "raw Atomics.waitAsync p99", value: us(rw.p99) },
          { label: "postMessage one-way p50", value: us(pw.p50) },
          { label: "postMessage one-way p99", value: us(pw.p99) },
        ],
      },
    ],
    `${when} · Bun ${Bun.version} · ${navigator.hardwareConcurrency} vCPUs · blue = atomic-log, grey = baselines`,
  ),
);
console.log(`\nwrote bench/results/workers.md${suffix} and bench/results/workers.svg${suffix} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
process.exit(integrityOk && latencyOk ? 0 : 1);
