/**
 * Generated view vs hand-written typed-array code, on the same buffer.
 *
 * Writes and reads the 32-byte Trade record {ts, id, price, qty, side} over
 * 4096 * 64 slots of one SharedArrayBuffer, once through `TradeView`
 * (repositioned by assigning `byteOffset`) and once through raw typed arrays
 * with the same offsets. Both run in the same process, so the ratio is
 * meaningful even on a noisy machine. Targets: view write >= 0.9x raw,
 * view read >= 0.95x raw.
 *
 * Every round measures the four cases once (raw and view in alternating
 * order); the ratios are taken within each round and reported as the median
 * and min–max over rounds.
 *
 * Run: `bun run bench:view` (or `bun bench/view.bench.ts`; BENCH_ROUNDS=n).
 */
import { do_not_optimize } from "mitata";
import { Trade } from "../src/generated/market.ts";
import { mrec, p50, perRound, printTable, range, stats, type RatioCell, type Row } from "./support/report.ts";

const RECORDS = 4096 * 64;
const SIZE = Trade.byteLength; // 32
const sab = new SharedArrayBuffer(RECORDS * SIZE);
// Touch every page once so first-touch cost is not measured by whichever case runs first.
new Uint8Array(sab).fill(1);

// --- hand-written baseline: the offsets of the Trade layout, written by hand ---
const f64 = new Float64Array(sab);
const u32 = new Uint32Array(sab);
const u8 = new Uint8Array(sab);

function rawWrite(): void {
  for (let i = 0; i < RECORDS; i++) {
    const o = i * 32;
    f64[o >>> 3] = i;
    u32[(o >>> 2) + 2] = i;
    f64[(o >>> 3) + 2] = i * 0.25;
    u32[(o >>> 2) + 6] = i & 0xffff;
    u8[o + 28] = i & 1;
  }
}

function rawRead(): number {
  let acc = 0;
  for (let i = 0; i < RECORDS; i++) {
    const o = i * 32;
    acc += f64[o >>> 3]! + u32[(o >>> 2) + 2]! + f64[(o >>> 3) + 2]! + u32[(o >>> 2) + 6]! + u8[o + 28]!;
  }
  return acc;
}

// --- generated view: one flyweight, repositioned per record ---
const view = Trade.view(sab, 0);

function viewWrite(): void {
  const v = view;
  for (let i = 0; i < RECORDS; i++) {
    v.byteOffset = i * 32;
    v.ts = i;
    v.id = i;
    v.price = i * 0.25;
    v.qty = i & 0xffff;
    v.side = i & 1;
  }
}

function viewRead(): number {
  const v = view;
  let acc = 0;
  for (let i = 0; i < RECORDS; i++) {
    v.byteOffset = i * 32;
    acc += v.ts + v.id + v.price + v.qty + v.side;
  }
  return acc;
}

// Same data both ways: the two write paths must agree before we time them.
viewWrite();
const viaView = viewRead();
rawWrite();
if (rawRead() !== viaView) throw new Error("view and raw code disagree; the benchmark would be meaningless");

// Interleave rounds (raw/view, then view/raw, ...) so a burst of load from
// another process hits both sides; ratios are taken within each round.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (process.env.BENCH_QUICK === "1" ? 3 : 9));
const cases: Record<string, () => unknown> = {
  rawWrite,
  viewWrite,
  rawRead: () => do_not_optimize(rawRead()),
  viewRead: () => do_not_optimize(viewRead()),
};
const samples: Record<string, number[]> = { rawWrite: [], viewWrite: [], rawRead: [], viewRead: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ["rawWrite", "viewWrite", "rawRead", "viewRead"] : ["viewWrite", "rawWrite", "viewRead", "rawRead"];
  // M records/s of one pass over all records, timed per call (each call is well over 65 µs).
  for (const name of order) samples[name]!.push((RECORDS / (await p50(cases[name]!, { batch: false }))) * 1e3);
}

const ratio = (view: string, raw: string): RatioCell => ({ stats: stats(perRound(samples[view]!, samples[raw]!)), baseline: "raw" });
const row = (name: string, key: string, extra: Partial<Row> = {}): Row => {
  const s = stats(samples[key]!);
  return { name, figure: mrec(s.median), spread: range(s), ...extra };
};
const w = ratio("viewWrite", "rawWrite");
const r = ratio("viewRead", "rawRead");
const rows: Row[] = [
  row("write: raw typed arrays (baseline)", "rawWrite"),
  row("write: TradeView", "viewWrite", { ratios: [w], target: ">= 0.90x raw", pass: w.stats.median >= 0.9 }),
  row("read: raw typed arrays (baseline)", "rawRead"),
  row("read: TradeView", "viewRead", { ratios: [r], target: ">= 0.95x raw", pass: r.stats.median >= 0.95 }),
];
const table = printTable(`Generated view vs raw typed arrays: Trade (32 B) x ${RECORDS} records, ${ROUNDS} rounds, ratios per round, median [min–max]`, rows);
if (process.env.BENCH_MARKDOWN) await Bun.write(process.env.BENCH_MARKDOWN, `${table}\n`);
