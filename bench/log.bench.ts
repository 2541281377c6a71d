/**
 * Single-thread log benchmark (issues: core log, #8). 32-byte Trade records,
 * retained = 1<<20, segment = 4096 (257 segments in the window), the layout of
 * the Rust anchor's benchmark.
 *
 * Every figure is judged against baselines measured in the same run, round by
 * round: each round measures every case once, in a rotating order, and every
 * ratio is taken within the round (case / baseline) before the median and the
 * min–max over rounds are reported.
 *
 * - Writes: each write form runs in its own child process (an application uses
 *   one form; sharing a process let the forms' JIT profiles pollute each
 *   other), beside that process's own raw typed-array write and raw write +
 *   `Atomics.store` per record (the floor for any per-record publish). The
 *   children wait on a pipe between rounds, so rounds interleave with the
 *   parent's cases and the Rust crate.
 * - Rust anchor (`../shared/anchors/rust-atomic-log`, see support/rust-anchor.ts):
 *   `append N 1`, `append N 256`, `snapiter S chunks|iter`, `refresh_cost`, one
 *   run of each per round. Skipped, with the reason printed, where it cannot be
 *   built.
 * - Reads: raw typed-array read of a window-sized SAB; our chunk, forEach and
 *   for...of forms.
 * - Large segments (65536 records): chunk iteration with manual offsets, and
 *   the same raw loop over (a) a contiguous SAB of the same total bytes, (b) the
 *   log's own buffer in the snapshot's chunk order, (c) a 1 MiB SAB (L2-resident)
 *   read over and over.
 *
 *   bun bench/log.bench.ts            # full run (7 rounds)
 *   BENCH_QUICK=1 bun bench/log.bench.ts
 *   BENCH_NO_RUST=1 ...               # skip the Rust anchor
 */
import { heapStats } from "bun:jsc";
import { do_not_optimize } from "mitata";
import { AtomicLog, type Snapshot } from "../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../src/generated/market.ts";
import { RoundChild, serveRounds } from "./support/child.ts";
import { fillTrades } from "./support/fill.ts";
import { duration, mrec, p50, perRound, printTable, range, stats, type RatioCell, type Row } from "./support/report.ts";
import { anchorDescription, num, rustAnchor, rustAppend, rustRefreshCost, rustSnapIter, type RustRun } from "./support/rust-anchor.ts";

const quick = process.env.BENCH_QUICK === "1";
const childArg = process.argv.indexOf("--write-child");
const isChild = childArg >= 0;
const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 3 : 7));
const SEG = 4096;
const BIG_SEG = 65536;
const RETAINED = 1 << 20;
const WINDOW_RECORDS = (RETAINED / SEG + 1) * SEG;
/** Records per Rust `append` run (the anchor README uses 50M). */
const RUST_APPEND_N = quick ? 20_000_000 : 50_000_000;
/** Seconds per Rust `snapiter` run (after its own 0.3 s warm-up). */
const RUST_SNAPITER_S = quick ? 0.3 : 0.5;

// --- raw baseline: the same field values in a plain SAB the size of the window, every page touched
const rawSab = new SharedArrayBuffer(WINDOW_RECORDS * 32);
const rawF64 = new Float64Array(rawSab);
const rawU32 = new Uint32Array(rawSab);
const rawU8 = new Uint8Array(rawSab);
rawU8.fill(0);
let rawCursor = 0;
function rawWriteBlock(): void {
  let c = rawCursor;
  for (let i = 0; i < SEG; i++) {
    const b8 = c * 4;
    const b4 = c * 8;
    rawF64[b8] = i;
    rawU32[b4 + 2] = i;
    rawF64[b8 + 2] = i * 0.5;
    rawU32[b4 + 6] = i;
    rawU8[c * 32 + 28] = i & 1;
    c = c + 1 === WINDOW_RECORDS ? 0 : c + 1;
  }
  rawCursor = c;
}
// The floor for any per-record publication: the same raw writes plus one Atomics.store per record.
const rawCtl = new Int32Array(new SharedArrayBuffer(64));
function rawWriteStoreEach(): void {
  let c = rawCursor;
  for (let i = 0; i < SEG; i++) {
    const b8 = c * 4;
    const b4 = c * 8;
    rawF64[b8] = i;
    rawU32[b4 + 2] = i;
    rawF64[b8 + 2] = i * 0.5;
    rawU32[b4 + 6] = i;
    rawU8[c * 32 + 28] = i & 1;
    c = c + 1 === WINDOW_RECORDS ? 0 : c + 1;
    Atomics.store(rawCtl, 0, c);
  }
  rawCursor = c;
}
function rawReadAll(): number {
  let sum = 0;
  for (let c = 0; c < WINDOW_RECORDS; c++) {
    const b8 = c * 4;
    const b4 = c * 8;
    sum += rawF64[b8]! + rawU32[b4 + 2]! + rawF64[b8 + 2]! + rawU32[b4 + 6]! + rawU8[c * 32 + 28]!;
  }
  return sum;
}

// --- the log
const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: RETAINED, segmentCapacity: SEG });
function appendEach(): void {
  for (let i = 0; i < SEG; i++) {
    const v = writer.reserve();
    v.ts = i;
    v.id = i;
    v.price = i * 0.5;
    v.qty = i;
    v.side = i & 1;
    writer.commit();
  }
}
function appendSpanAt4096(): void {
  let left = SEG;
  let i = 0;
  while (left > 0) {
    const span = writer.reserveMany(left);
    for (let k = 0; k < span.length; k++, i++) {
      const v = span.at(k);
      v.ts = i;
      v.id = i;
      v.price = i * 0.5;
      v.qty = i;
      v.side = i & 1;
    }
    left -= span.length;
  }
  writer.commit();
}
/** Like the Rust `append_batch` of 256: reserve 256, fill through `at()`, publish. */
function appendSpanAt256(): void {
  let i = 0;
  while (i < SEG) {
    const span = writer.reserveMany(256);
    for (let k = 0; k < span.length; k++, i++) {
      const v = span.at(k);
      v.ts = i;
      v.id = i;
      v.price = i * 0.5;
      v.qty = i;
      v.side = i & 1;
    }
    writer.commit();
  }
}
function appendSpanManual4096(): void {
  let left = SEG;
  let i = 0;
  while (left > 0) {
    const span = writer.reserveMany(left);
    const v = span.view;
    const end = span.base + span.length * 32;
    for (let o = span.base; o < end; o += 32, i++) {
      v.byteOffset = o;
      v.ts = i;
      v.id = i;
      v.price = i * 0.5;
      v.qty = i;
      v.side = i & 1;
    }
    left -= span.length;
  }
  writer.commit();
}
const object: TradeData = { ts: 0, id: 0, price: 0, qty: 0, side: 0 };
function appendObjects(): void {
  for (let i = 0; i < SEG; i++) {
    object.ts = i;
    object.id = i;
    object.price = i * 0.5;
    object.qty = i;
    object.side = i & 1;
    writer.append(object);
  }
}
/** 256 plain objects, reused: refilled (as Rust's `mk(i)` builds its records) and handed to appendBatch. */
const batchObjects: TradeData[] = Array.from({ length: 256 }, () => ({ ts: 0, id: 0, price: 0, qty: 0, side: 0 }));
function appendBatchObjects256(): void {
  for (let i = 0; i < SEG; ) {
    for (let k = 0; k < 256; k++, i++) {
      const o = batchObjects[k]!;
      o.ts = i;
      o.id = i;
      o.price = i * 0.5;
      o.qty = i;
      o.side = i & 1;
    }
    writer.appendBatch(batchObjects);
  }
}
/** Fill helper for setup and the memory section (not a measured form). */
function fillBlock(): void {
  let left = SEG;
  while (left > 0) {
    const span = writer.reserveMany(left);
    const v = span.view;
    const end = span.base + span.length * 32;
    for (let o = span.base, i = 0; o < end; o += 32, i++) {
      v.byteOffset = o;
      v.ts = i;
      v.id = i;
      v.price = i * 0.5;
      v.qty = i;
      v.side = i & 1;
    }
    left -= span.length;
  }
  writer.commit();
}
// Fill the window so snapshots cover 257 segments.
for (let i = 0; i < WINDOW_RECORDS / SEG + 2; i++) fillBlock();

/** The write forms, each measured in its own child process. */
const WRITE_FORMS = {
  each: appendEach,
  object: appendObjects,
  appendBatch256: appendBatchObjects256,
  at256: appendSpanAt256,
  at4096: appendSpanAt4096,
  manual4096: appendSpanManual4096,
} as const;
type WriteForm = keyof typeof WRITE_FORMS;

/** Rotates `xs` left by `r`, so no case always runs first in a round. */
function rotate<T>(xs: readonly T[], r: number): T[] {
  const k = r % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

if (isChild) {
  const form = process.argv[childArg + 1] as WriteForm;
  const fns: Record<string, () => void> = { raw: rawWriteBlock, floor: rawWriteStoreEach, form: WRITE_FORMS[form] };
  if (fns.form === undefined) throw new Error(`unknown write form ${form}`);
  await serveRounds(async (request) => {
    const r = Number(request.split(" ")[1] ?? 0);
    const out: Record<string, number> = {};
    for (const name of rotate(Object.keys(fns), r)) out[name] = await p50(fns[name]!, { batch: false });
    return out; // ns per call of SEG records
  });
  process.exit(0);
}

// ---------------------------------------------------------------- parent: reads
function snapshotChunksAt(): number {
  const snap = log.snapshot();
  let sum = 0;
  for (const chunk of snap.chunks()) {
    for (let i = 0; i < chunk.length; i++) {
      const v = chunk.at(i);
      sum += v.ts + v.id + v.price + v.qty + v.side;
    }
  }
  snap.release();
  return sum;
}
function snapshotChunksManual(): number {
  const snap = log.snapshot();
  let sum = 0;
  for (const chunk of snap.chunks()) {
    const v = chunk.view;
    const end = chunk.byteEnd;
    for (let o = chunk.byteOffset; o < end; o += 32) {
      v.byteOffset = o;
      sum += v.ts + v.id + v.price + v.qty + v.side;
    }
  }
  snap.release();
  return sum;
}
let forEachSum = 0;
const addRecord = (v: { ts: number; id: number; price: number; qty: number; side: number }) => {
  forEachSum += v.ts + v.id + v.price + v.qty + v.side;
};
function snapshotForEach(): number {
  const snap = log.snapshot();
  forEachSum = 0;
  snap.forEach(addRecord);
  snap.release();
  return forEachSum;
}
function snapshotForOf(): number {
  const snap = log.snapshot();
  let sum = 0;
  for (const v of snap) sum += v.ts + v.id + v.price + v.qty + v.side;
  snap.release();
  return sum;
}

// ---------------------------------------------------------------- parent: large segments
const [bigWriter, bigLog] = AtomicLog.newClaimed(Trade, { retainedCapacity: RETAINED, segmentCapacity: BIG_SEG });
for (let i = 0; i < RETAINED / BIG_SEG + 2; i++) fillTrades(bigWriter, BIG_SEG);
/** Same loop as snapshotChunksManual, its own function (own JIT profile), over the 65536-record log. */
function bigChunksManual(): number {
  const snap = bigLog.snapshot();
  let sum = 0;
  for (const chunk of snap.chunks()) {
    const v = chunk.view;
    const end = chunk.byteEnd;
    for (let o = chunk.byteOffset; o < end; o += 32) {
      v.byteOffset = o;
      sum += v.ts + v.id + v.price + v.qty + v.side;
    }
  }
  snap.release();
  return sum;
}
/** The raw read loop over records [first, end) of three typed arrays on one buffer. */
function sumRecords(f64: Float64Array, u32: Uint32Array, u8: Uint8Array, first: number, end: number): number {
  let sum = 0;
  for (let c = first; c < end; c++) sum += f64[c * 4]! + u32[c * 8 + 2]! + f64[c * 4 + 2]! + u32[c * 8 + 6]! + u8[c * 32 + 28]!;
  return sum;
}
const lanesOf = new Map<ArrayBufferLike, [Float64Array, Uint32Array, Uint8Array]>();
function lanes(buffer: ArrayBufferLike): [Float64Array, Uint32Array, Uint8Array] {
  let l = lanesOf.get(buffer);
  if (l === undefined) {
    l = [new Float64Array(buffer), new Uint32Array(buffer), new Uint8Array(buffer)];
    lanesOf.set(buffer, l);
  }
  return l;
}
/** Raw typed-array loads over the log's own buffer, chunk by chunk in the snapshot's order: same memory, no views. */
function rawOverLog(snap: Snapshot<TradeView, TradeData>): number {
  let sum = 0;
  for (const chunk of snap.chunks()) {
    const [f64, u32, u8] = lanes(chunk.buffer);
    const first = chunk.byteOffset / 32;
    sum += sumRecords(f64, u32, u8, first, first + chunk.length);
  }
  snap.release();
  return sum;
}
const bigWindow = (() => {
  const s = bigLog.snapshot();
  const n = s.length;
  s.release();
  return n;
})();
/** A contiguous SAB of the big window's total bytes, read by the same raw loop. */
const contigSab = new SharedArrayBuffer(bigWindow * 32);
new Uint8Array(contigSab).fill(1);
const contig = lanes(contigSab);
/** A 1 MiB SAB (fits in a 2 MiB L2), read over and over up to the big window's record count. */
const L2_RECORDS = (1 << 20) / 32;
const l2Sab = new SharedArrayBuffer(L2_RECORDS * 32);
new Uint8Array(l2Sab).fill(1);
const l2 = lanes(l2Sab);
const L2_PASSES = Math.round(bigWindow / L2_RECORDS);
function rawL2Resident(): number {
  let sum = 0;
  for (let p = 0; p < L2_PASSES; p++) sum += sumRecords(l2[0], l2[1], l2[2], 0, L2_RECORDS);
  return sum;
}

// ---------------------------------------------------------------- parent: rounds
const held = log.snapshot();
const snapLength = held.length;
const heldSegments = held.chunks().length;
const bigSegments = (() => {
  const s = bigLog.snapshot();
  const n = s.chunks().length;
  s.release();
  return n;
})();

console.log(`atomic-log core benchmark: Bun ${Bun.version}, ${rounds} rounds; window ${snapLength} records in ${heldSegments} segments`);
console.log(anchorDescription());
console.log(anchorDescription("plain"));

/** Per-round values: M rec/s for rates, ns for durations. */
const S: Record<string, number[]> = {};
const push = (key: string, value: number) => (S[key] ??= []).push(value);
const skipped: Record<string, string> = {};
function rust(key: string, run: RustRun, field: string, scale = 1): number {
  if (!run.ok) skipped[key] ??= run.reason;
  return num(run, field) * scale;
}

const children = (Object.keys(WRITE_FORMS) as WriteForm[]).map((f) => new RoundChild(f, [process.execPath, import.meta.path, "--write-child", f]));
try {
  await Promise.all(children.map((c) => c.line(120_000)));
  rustAnchor(); // build (or find out why not) before the first round
  rustAnchor("plain");
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    type Case = [string, () => unknown];
    const writeCases: Case[] = [
      ...children.map((c): Case => [
        c.name,
        async () => {
          const x = await c.ask<Record<string, number>>(`round ${r}`);
          push(`w.${c.name}`, (SEG / x.form!) * 1e3);
          push(`w.raw.${c.name}`, (SEG / x.raw!) * 1e3);
          push(`w.floor.${c.name}`, (SEG / x.floor!) * 1e3);
        },
      ]),
      ["rust.append1", () => push("rust.append1", rust("rust.append1", rustAppend(RUST_APPEND_N, 1), "rate_Mps"))],
      ["rust.append1plain", () => push("rust.append1plain", rust("rust.append1plain", rustAppend(RUST_APPEND_N, 1, "plain"), "rate_Mps"))],
      ["rust.append256", () => push("rust.append256", rust("rust.append256", rustAppend(RUST_APPEND_N, 256), "rate_Mps"))],
    ];
    const readRate = (key: string, records: number, fn: () => number): Case => [
      key,
      async () => push(key, (records / (await p50(() => do_not_optimize(fn()), { batch: false }))) * 1e3),
    ];
    const readCases: Case[] = [
      readRate("r.raw", WINDOW_RECORDS, rawReadAll),
      readRate("r.manual", snapLength, snapshotChunksManual),
      readRate("r.at", snapLength, snapshotChunksAt),
      readRate("r.forEach", snapLength, snapshotForEach),
      readRate("r.forOf", snapLength, snapshotForOf),
      ["rust.chunks", () => push("rust.chunks", rust("rust.chunks", rustSnapIter(RUST_SNAPITER_S, "chunks"), "rate_Mps"))],
      ["rust.iter", () => push("rust.iter", rust("rust.iter", rustSnapIter(RUST_SNAPITER_S, "iter"), "rate_Mps"))],
      readRate("big.manual", bigWindow, bigChunksManual),
      readRate("big.rawOverLog", bigWindow, () => rawOverLog(bigLog.snapshot())),
      readRate("big.contig", bigWindow, () => sumRecords(contig[0], contig[1], contig[2], 0, bigWindow)),
      readRate("big.l2", L2_PASSES * L2_RECORDS, rawL2Resident),
      readRate("r.rawOverLog", snapLength, () => rawOverLog(log.snapshot())),
    ];
    const smallCases: Case[] = [
      ["snapshot", async () => push("snapshot", await p50(() => log.snapshot().release()))],
      ["refresh", async () => push("refresh", await p50(() => held.refresh()))],
      [
        "rust.refresh",
        () => {
          const run = rustRefreshCost();
          push("rust.refresh", rust("rust.refresh", run, "idle_refresh_ns"));
          push("rust.snapshot", rust("rust.snapshot", run, "fresh_snapshot_us", 1000));
        },
      ],
    ];
    const spent: string[] = [];
    for (const [name, fn] of [...rotate(writeCases, r), ...rotate(readCases, r), ...rotate(smallCases, r)]) {
      const t0 = performance.now();
      await fn();
      spent.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    }
    if (process.env.BENCH_VERBOSE) console.log(`    ${spent.join(", ")}`);
    console.log(`  round ${r + 1}/${rounds} done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
} finally {
  await Promise.all(children.map((c) => c.close()));
}

// ---------------------------------------------------------------- tables
const st = (key: string) => stats(S[key] ?? []);
const cell = (a: string, b: string, baseline: string): RatioCell => ({ stats: stats(perRound(S[a] ?? [], S[b] ?? [])), baseline });
/** Whether every ratio's median reaches its minimum; undefined if a baseline was skipped. */
function judge(...conds: [RatioCell, number][]): boolean | undefined {
  if (conds.some(([c]) => !Number.isFinite(c.stats.median))) return undefined;
  return conds.every(([c, min]) => c.stats.median >= min);
}
const rateRow = (name: string, key: string, extra: Partial<Row> = {}): Row => {
  const s = st(key);
  if (skipped[key] !== undefined && !Number.isFinite(s.median)) return { name, figure: `skipped: ${skipped[key]}` };
  return { name, figure: mrec(s.median), spread: range(s), ...extra };
};
const nsRow = (name: string, key: string, extra: Partial<Row> = {}): Row => {
  const s = st(key);
  if (skipped[key] !== undefined && !Number.isFinite(s.median)) return { name, figure: `skipped: ${skipped[key]}` };
  return { name, figure: duration(s.median), spread: `${duration(s.min)}–${duration(s.max)}`, ...extra };
};
const pooled = (prefix: string) => Object.keys(WRITE_FORMS).flatMap((f) => S[`${prefix}.${f}`] ?? []);
S["w.raw"] = pooled("w.raw");
S["w.floor"] = pooled("w.floor");

const writeForm = (name: string, form: WriteForm, rustKey: "rust.append1" | "rust.append256", targets: { raw?: number; floor?: number; rust?: number }): Row => {
  const vsRaw = cell(`w.${form}`, `w.raw.${form}`, "raw");
  const vsFloor = cell(`w.${form}`, `w.floor.${form}`, "floor");
  const vsRust = cell(`w.${form}`, rustKey, rustKey === "rust.append1" ? "Rust append" : "Rust append_batch");
  const conds: [RatioCell, number][] = [];
  const text: string[] = [];
  if (targets.rust !== undefined) {
    conds.push([vsRust, targets.rust]);
    text.push(`>= ${targets.rust.toFixed(2)}x Rust`);
  }
  if (targets.floor !== undefined) {
    conds.push([vsFloor, targets.floor]);
    text.push(`>= ${targets.floor.toFixed(2)}x floor`);
  }
  if (targets.raw !== undefined) {
    conds.push([vsRaw, targets.raw]);
    text.push(`>= ${targets.raw.toFixed(2)}x raw`);
  }
  const ratios = [vsRaw, vsFloor, vsRust];
  if (rustKey === "rust.append1") ratios.push(cell(`w.${form}`, "rust.append1plain", "Rust append, plain build"));
  return rateRow(name, `w.${form}`, {
    ratios,
    target: text.length > 0 ? text.join(", ") : "(reported)",
    pass: conds.length > 0 ? judge(...conds) : undefined,
  });
};

const writeRows: Row[] = [
  rateRow("raw typed-array write (baseline; each write process's own)", "w.raw"),
  rateRow("raw write + Atomics.store per record (floor; each process's own)", "w.floor", { ratios: [cell("w.floor", "w.raw", "raw")] }),
  rateRow(`Rust append(), one at a time (${RUST_APPEND_N / 1e6}M; build.sh build)`, "rust.append1", { ratios: [cell("rust.append1", "w.raw", "raw")] }),
  rateRow(`Rust append(), one at a time (${RUST_APPEND_N / 1e6}M; plain cargo release build)`, "rust.append1plain", {
    ratios: [cell("rust.append1plain", "w.raw", "raw"), cell("rust.append1plain", "rust.append1", "build.sh build")],
  }),
  rateRow(`Rust append_batch(256) (${RUST_APPEND_N / 1e6}M)`, "rust.append256", { ratios: [cell("rust.append256", "w.raw", "raw")] }),
  writeForm("reserve() + fill + commit() per record", "each", "rust.append1", { rust: 1.0, floor: 0.85 }),
  writeForm("append({...}) checked object form", "object", "rust.append1", { rust: 0.75 }),
  writeForm("appendBatch(256 reused objects)", "appendBatch256", "rust.append256", { rust: 0.5 }),
  writeForm("reserveMany(256) + span.at(i), commit per 256", "at256", "rust.append256", { rust: 1.0 }),
  writeForm("reserveMany(4096) + span.at(i), commit per 4096", "at4096", "rust.append256", { rust: 1.0 }),
  writeForm("reserveMany(4096) + manual offsets, commit per 4096", "manual4096", "rust.append256", { raw: 0.85 }),
];
const readCell = (key: string) => cell(key, "r.raw", "raw");
const readRows: Row[] = [
  rateRow("raw typed-array read (baseline)", "r.raw"),
  rateRow("Rust snapshot + chunks, every field", "rust.chunks", { ratios: [readCell("rust.chunks")] }),
  rateRow("Rust snapshot + iter(), every field", "rust.iter", { ratios: [readCell("rust.iter")] }),
  rateRow("snapshot() + chunks, manual offsets", "r.manual", {
    ratios: [readCell("r.manual"), cell("r.manual", "rust.chunks", "Rust chunks")],
    target: ">= 0.90x raw",
    pass: judge([readCell("r.manual"), 0.9]),
  }),
  rateRow("snapshot() + chunks, chunk.at(i)", "r.at", { ratios: [readCell("r.at"), cell("r.at", "rust.chunks", "Rust chunks")], target: "(reported)" }),
  rateRow("snapshot() + forEach(fn)", "r.forEach", {
    ratios: [readCell("r.forEach"), cell("r.forEach", "rust.iter", "Rust iter")],
    target: ">= 0.80x raw",
    pass: judge([readCell("r.forEach"), 0.8]),
  }),
  rateRow("snapshot() + for...of", "r.forOf", {
    ratios: [readCell("r.forOf"), cell("r.forOf", "rust.iter", "Rust iter")],
    target: ">= 0.80x raw",
    pass: judge([readCell("r.forOf"), 0.8]),
  }),
];
const fasterThanRust = (rustKey: string, ours: string): RatioCell => ({ stats: stats(perRound(S[rustKey] ?? [], S[ours] ?? [])), baseline: "faster than Rust" });
const smallRows: Row[] = [
  nsRow(`Rust fresh snapshot(), 257 segments`, "rust.snapshot"),
  nsRow("snapshot() + release(), 257 segments", "snapshot", {
    ratios: [fasterThanRust("rust.snapshot", "snapshot")],
    target: "<= 2 µs, >= 5x faster than Rust",
    pass: st("snapshot").median <= 2000 && judge([fasterThanRust("rust.snapshot", "snapshot"), 5]) !== false,
  }),
  nsRow("Rust idle refresh()", "rust.refresh"),
  nsRow("refresh(), nothing new", "refresh", {
    ratios: [fasterThanRust("rust.refresh", "refresh")],
    target: "<= 50 ns, >= 2x faster than Rust",
    pass: st("refresh").median <= 50 && judge([fasterThanRust("rust.refresh", "refresh"), 2]) !== false,
  }),
];
const title = `Core log, one thread (32-byte records, retained 1<<20, segment 4096; ${rounds} rounds; ratios per round, median [min–max])`;
const table = printTable(title, [...writeRows, ...readRows, ...smallRows]);

const bigCell = (key: string, base: string, label: string) => cell(key, base, label);
const bigRows: Row[] = [
  rateRow(`raw read, contiguous SAB of the same ${((bigWindow * 32) / 2 ** 20).toFixed(1)} MiB (baseline)`, "big.contig"),
  rateRow("raw read, window-sized SAB (the main table's baseline)", "r.raw", { ratios: [bigCell("r.raw", "big.contig", "contiguous")] }),
  rateRow(`raw read, 1 MiB SAB re-read ${L2_PASSES} times (L2-resident)`, "big.l2", { ratios: [bigCell("big.l2", "big.contig", "contiguous")] }),
  rateRow(`raw loop over the 65536-segment log's own buffer, chunk order`, "big.rawOverLog", { ratios: [bigCell("big.rawOverLog", "big.contig", "contiguous")] }),
  rateRow(`snapshot() + chunks, manual offsets, segment 65536 (${bigSegments} chunks)`, "big.manual", {
    ratios: [bigCell("big.manual", "big.contig", "contiguous"), bigCell("big.manual", "r.raw", "main raw"), bigCell("big.manual", "big.rawOverLog", "raw over log")],
    target: ">= 0.90x contiguous",
    pass: judge([bigCell("big.manual", "big.contig", "contiguous"), 0.9]),
  }),
  rateRow(`raw loop over the 4096-segment log's own buffer, chunk order`, "r.rawOverLog", { ratios: [bigCell("r.rawOverLog", "r.raw", "main raw")] }),
  rateRow(`snapshot() + chunks, manual offsets, segment 4096 (main table)`, "r.manual", {
    ratios: [bigCell("r.manual", "r.raw", "main raw"), bigCell("r.manual", "r.rawOverLog", "raw over log")],
  }),
];
const bigTable = printTable(`Large segments: retained 1<<20, segment 65536 (window ${bigWindow} records, ${bigSegments} segments of 2 MiB)`, bigRows);

// ---------------------------------------------------------------- memory: RSS after 1M and 100M appends, GC heap growth
const total = quick ? 20_000_000 : 100_000_000;
const appendN = (n: number) => {
  for (let done = 0; done < n; done += SEG) fillBlock();
};
Bun.gc(true);
appendN(1_000_000);
Bun.gc(true);
const rss1 = process.memoryUsage().rss;
const heap1 = heapStats();
appendN(total - 1_000_000);
const heap2 = heapStats();
Bun.gc(true);
const rss2 = process.memoryUsage().rss;
const growth = rss2 / rss1 - 1;
const memoryRows: Row[] = [
  { name: `RSS after 1M appends`, figure: `${(rss1 / 2 ** 20).toFixed(1)} MiB` },
  {
    name: `RSS after ${total / 1e6}M appends`,
    figure: `${(rss2 / 2 ** 20).toFixed(1)} MiB`,
    ratio: rss2 / rss1,
    baseline: "1M",
    target: "within 10%",
    pass: Math.abs(growth) <= 0.1,
  },
  {
    name: "GC heap objects created while appending",
    figure: `${heap2.objectCount - heap1.objectCount} objects, ${heap2.heapSize - heap1.heapSize} bytes`,
    target: "no growth",
    pass: heap2.objectCount - heap1.objectCount <= 64,
  },
];
const memoryTable = printTable("Memory", memoryRows);

function describeBuild(): string {
  const a = rustAnchor();
  return a.ok ? a.build : "n/a";
}
const notes = [
  `Rounds: ${rounds}. Write figures: M records/s of each form in its own process; "raw" and "floor" ratios use that process's own raw loops in the same round; Rust ratios use the Rust run of the same round.`,
  `Rust: "build.sh build" is the anchor as shipped (${describeBuild()}); targets are judged against it. "plain build" is the same crate with cargo's default release profile, shown because it appends faster one at a time.`,
  `Rust \`append\` counts from an empty log, so its first ~1M of ${RUST_APPEND_N / 1e6}M records land on fresh pages; ours write into a warm, recycled pool.`,
  `appendBatch(256 reused objects): the 256 objects are refilled before each call, as Rust's \`mk(i)\` builds each record.`,
  ...Object.entries(skipped).map(([k, why]) => `${k} skipped: ${why}`),
];
console.log(`\n${notes.join("\n")}`);
if (process.env.BENCH_MARKDOWN) await Bun.write(process.env.BENCH_MARKDOWN, `${table}\n\n${bigTable}\n\n${memoryTable}\n\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
held.release();
