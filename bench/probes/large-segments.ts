/**
 * Probe behind bench/results/large-segments.md (not part of `bun run bench`):
 * snapshot + chunk iteration with manual offsets over a log with segments of
 * 65536 and of 4096 records, against the same raw read loop over (a) a
 * contiguous SAB of the same total bytes, (b) a 1 MiB SAB and (c) one
 * segment-sized 2 MiB SAB, each re-read up to the same record count, with the
 * other hyperthread of the core idle or busy.
 *
 * The two vCPUs are hyperthreads of one core. The probe pins itself to CPU 0
 * and, with --sibling=fp or --sibling=memory, runs a busy process pinned to
 * CPU 1 (an FP loop, or this probe's own read loops) for the whole run.
 * Needs `taskset` (util-linux).
 *
 *   bun bench/probes/large-segments.ts                   # sibling idle (as far as the machine allows)
 *   bun bench/probes/large-segments.ts --sibling=fp
 *   bun bench/probes/large-segments.ts --sibling=memory
 */
import { do_not_optimize } from "mitata";
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { median, p50, perRound } from "../support/report.ts";
import { fillTrades } from "../support/fill.ts";

const sibling = (process.argv.find((a) => a.startsWith("--sibling="))?.split("=")[1] ?? "idle") as "idle" | "fp" | "memory" | "hog";

if (sibling === "hog") {
  // The busy sibling for --sibling=memory: stream through 64 MiB forever.
  const u8 = new Uint8Array(new SharedArrayBuffer(64 << 20)).fill(1);
  let s = 0;
  for (;;) {
    for (let i = 0; i < u8.length; i += 8) s += u8[i]!;
    if (s === -1) console.log(s);
  }
}

if (process.env.PROBE_PINNED !== "1") {
  // Re-run pinned to CPU 0, with the sibling load (if any) pinned to CPU 1.
  let hog: ReturnType<typeof Bun.spawn> | undefined;
  if (sibling === "fp") {
    hog = Bun.spawn(["taskset", "-c", "1", process.execPath, "-e", "let x=1;for(;;){for(let i=0;i<1e7;i++)x=x*1.0000001+1e-9;if(x===42)console.log(x)}"], { stdout: "ignore" });
  } else if (sibling === "memory") {
    hog = Bun.spawn(["taskset", "-c", "1", process.execPath, import.meta.path, "--sibling=hog"], { stdout: "ignore", env: { ...process.env, PROBE_PINNED: "1" } });
  }
  try {
    const run = Bun.spawnSync(["taskset", "-c", "0", process.execPath, import.meta.path, ...process.argv.slice(2)], { stdout: "inherit", stderr: "inherit", env: { ...process.env, PROBE_PINNED: "1" } });
    if (run.exitCode !== 0) process.exitCode = run.exitCode ?? 1;
  } finally {
    hog?.kill();
  }
  process.exit();
}

const RETAINED = 1 << 20;
function filledLog(segmentCapacity: number) {
  const [w, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: RETAINED, segmentCapacity });
  fillTrades(w, RETAINED + 2 * segmentCapacity);
  const s = log.snapshot();
  const n = s.length;
  s.release();
  return { log, n };
}
const big = filledLog(65536);
const small = filledLog(4096);
function bigManual(): number {
  const snap = big.log.snapshot();
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
function smallManual(): number {
  const snap = small.log.snapshot();
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
/** A raw reader of `records`-record SAB, re-read `passes` times per call. */
function rawReader(records: number, passes: number): () => number {
  const sab = new SharedArrayBuffer(records * 32);
  const f64 = new Float64Array(sab);
  const u32 = new Uint32Array(sab);
  const u8 = new Uint8Array(sab);
  u8.fill(1);
  return () => {
    let sum = 0;
    for (let p = 0; p < passes; p++) {
      for (let c = 0; c < records; c++) sum += f64[c * 4]! + u32[c * 8 + 2]! + f64[c * 4 + 2]! + u32[c * 8 + 6]! + u8[c * 32 + 28]!;
    }
    return sum;
  };
}
const N = big.n;
const cases: [string, () => number, number][] = [
  ["raw, contiguous 34 MiB", rawReader(N, 1), N],
  ["raw, 1 MiB re-read", rawReader(32768, Math.round(N / 32768)), Math.round(N / 32768) * 32768],
  ["raw, one 2 MiB segment re-read", rawReader(65536, Math.round(N / 65536)), Math.round(N / 65536) * 65536],
  ["log, segment 65536, chunks manual", bigManual, big.n],
  ["log, segment 4096, chunks manual", smallManual, small.n],
];
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const rates: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, fn, records] of cases) (rates[name] ??= []).push((records / (await p50(() => do_not_optimize(fn()), { batch: false }))) * 1e3);
}
const base = rates[cases[0]![0]]!;
console.log(`sibling ${sibling}, ${rounds} rounds (M rec/s median; ratio to the contiguous raw read, median of rounds)`);
for (const [name] of cases) console.log(`  ${name.padEnd(36)} ${median(rates[name]!).toFixed(0).padStart(5)}  ${median(perRound(rates[name]!, base)).toFixed(2)}x`);
