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
 * Run: `bun run bench:view` (or `bun bench/view.bench.ts`).
 */
import { bench, do_not_optimize, run, summary } from "mitata";
import { Trade } from "../src/generated/market.ts";

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
// another process hits both sides, and take each side's median over rounds.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
for (let round = 1; round <= ROUNDS; round++) {
  const pair = (op: string, raw: () => unknown, viewFn: () => unknown): void => {
    const cases: [string, () => unknown][] = [[`${op}: raw typed arrays #${round}`, raw], [`${op}: TradeView #${round}`, viewFn]];
    summary(() => {
      for (const [name, fn] of round % 2 === 1 ? cases : cases.reverse()) bench(name, fn);
    });
  };
  pair("write", rawWrite, viewWrite);
  pair("read", () => do_not_optimize(rawRead()), () => do_not_optimize(viewRead()));
}

const { benchmarks } = await run();
const samples = new Map<string, number[]>();
for (const trial of benchmarks) {
  const stats = trial.runs[0]?.stats;
  if (stats === undefined) continue;
  const key = trial.alias.replace(/ #\d+$/, "");
  samples.set(key, [...(samples.get(key) ?? []), stats.p50]);
}

/** Median of the per-round medians (ns per pass over all records). */
function median(name: string): number {
  const xs = [...samples.get(name)!].sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Million records per second. */
const rate = (name: string): number => (RECORDS / median(name)) * 1e3;

const rows = [
  { op: "write", raw: rate("write: raw typed arrays"), view: rate("write: TradeView"), target: 0.9 },
  { op: "read", raw: rate("read: raw typed arrays"), view: rate("read: TradeView"), target: 0.95 },
];
console.log(`\nTrade (32 B) x ${RECORDS} records, median of ${ROUNDS} interleaved rounds (M rec/s):`);
console.log("op     |   raw M/s |  view M/s | view/raw | target | result");
console.log("-------|-----------|-----------|----------|--------|-------");
for (const r of rows) {
  const ratio = r.view / r.raw;
  console.log(
    `${r.op.padEnd(6)} | ${r.raw.toFixed(1).padStart(9)} | ${r.view.toFixed(1).padStart(9)} | ${ratio.toFixed(3).padStart(8)} | ` +
      `${`>=${r.target}`.padStart(6)} | ${ratio >= r.target ? "PASS" : "FAIL"}`,
  );
}
