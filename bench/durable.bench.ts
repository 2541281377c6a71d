/**
 * Durable mode vs the same log in memory, side by side in one run (issue:
 * durable mode). 32-byte Trade records, retained 1<<20, segment 4096.
 *
 * - Append: the same write form into a log in memory, a durable log on a
 *   tmpfs (/dev/shm) and a durable log on the disk (the OS temp dir),
 *   durability "none" (checksum per sealed segment, no fsync per record).
 *   Target: durable >= 0.5x memory, same form, same round.
 * - Replay through the views: `forEach` over a full-window snapshot of each.
 *   Target: durable >= 0.8x memory.
 * - Sync: `writer.sync()` after 4096 records, on disk.
 * - Across processes: a reader in another process (read-only open) sees an
 *   append, spinning on `tryNext()` or parked in `ready()` and woken by its
 *   Unix-socket doorbell; one-way latency on CLOCK_MONOTONIC, shared by both
 *   processes. Targets: spinning <= 1 µs p50 / 20 µs p99, parked <= 20 µs / 200 µs.
 * - Recovery of 1 GiB (33.5M records, segments of 65536): reopen after the
 *   writer process "died" (same boot: verify what lies beyond the synced
 *   point), and after a "reboot" (boot id changed: rebuild from the files,
 *   every checksum verified). Target: <= 1 s.
 *
 * Each log gets its own copy of each loop (`new Function`), so the JIT
 * profiles of the memory and file-backed pools stay separate, as in an
 * application that uses one of them.
 *
 *   bun bench/durable.bench.ts      (BENCH_QUICK=1 for a short run)
 */
import { mkdtempSync, rmSync, existsSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { do_not_optimize } from "mitata";
import { AtomicLog, type Writer } from "../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../src/generated/market.ts";
import { monoNs } from "./support/monotonic.ts";
import { duration, mrec, p50, perRound, printTable, range, stats, type RatioCell, type Row } from "./support/report.ts";

const quick = process.env.BENCH_QUICK === "1";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 3 : 7));
const SEG = 4096;
const RETAINED = 1 << 20;
const PER_CALL = 1 << 20;

type TradeLog = AtomicLog<TradeView, TradeData>;
type TradeWriter = Writer<TradeView, TradeData>;

const shmRoot = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/atomic-log-bench-") : null;
const diskRoot = mkdtempSync(join(tmpdir(), "atomic-log-bench-"));
process.on("exit", () => {
  if (shmRoot) rmSync(shmRoot, { recursive: true, force: true });
  rmSync(diskRoot, { recursive: true, force: true });
});

// One source per loop; compiled once per log so each has its own JIT profile.
const PER_RECORD = `
  for (let i = 0; i < n; i++) {
    const v = w.reserve();
    v.ts = i; v.id = i; v.price = i * 0.5; v.qty = 1; v.side = i & 1;
    w.commit();
  }`;
const BATCHED = `
  let left = n, i = 0;
  while (left > 0) {
    const span = w.reserveMany(left < 4096 ? left : 4096);
    const v = span.view;
    const end = span.base + span.length * 32;
    for (let o = span.base; o < end; o += 32, i++) {
      v.byteOffset = o; v.ts = i; v.id = i; v.price = i * 0.5; v.qty = 1; v.side = i & 1;
    }
    left -= span.length;
    w.commit();
  }`;
const REPLAY = `
  const snap = log.snapshot();
  let sum = 0;
  snap.forEach((v) => { sum += v.ts + v.id + v.price + v.qty + v.side; });
  snap.release();
  return sum;`;

interface Subject {
  readonly label: string;
  readonly log: TradeLog;
  readonly writer: TradeWriter;
  readonly perRecord: (w: TradeWriter, n: number) => void;
  readonly batched: (w: TradeWriter, n: number) => void;
  readonly replay: (log: TradeLog) => number;
}

function subject(label: string, log: TradeLog): Subject {
  const writer = log.tryClaimWriter()!;
  const s: Subject = {
    label,
    log,
    writer,
    perRecord: new Function("w", "n", PER_RECORD) as Subject["perRecord"],
    batched: new Function("w", "n", BATCHED) as Subject["batched"],
    replay: new Function("log", REPLAY) as Subject["replay"],
  };
  // Fill the window once (warm pages, every segment used), as the memory log's pre-touch does.
  s.batched(writer, RETAINED + 2 * SEG);
  return s;
}

const subjects: Subject[] = [subject("memory", AtomicLog.create(Trade, { retainedCapacity: RETAINED, segmentCapacity: SEG }))];
if (shmRoot) subjects.push(subject("durable, tmpfs", AtomicLog.open(Trade, join(shmRoot, "log"), { retainedCapacity: RETAINED, segmentCapacity: SEG })));
subjects.push(subject("durable, disk", AtomicLog.open(Trade, join(diskRoot, "log"), { retainedCapacity: RETAINED, segmentCapacity: SEG })));

const samples: Record<string, number[]> = {};
const push = (key: string, value: number) => (samples[key] ??= []).push(value);
const disk = subjects[subjects.length - 1]!;
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? subjects : [...subjects].reverse();
  for (const s of order) {
    push(`rec:${s.label}`, (PER_CALL / (await p50(() => s.perRecord(s.writer, PER_CALL), { batch: false }))) * 1e3);
    push(`batch:${s.label}`, (PER_CALL / (await p50(() => s.batched(s.writer, PER_CALL), { batch: false }))) * 1e3);
    const len = s.log.stats().windowLength;
    push(`replay:${s.label}`, (len / (await p50(() => do_not_optimize(s.replay(s.log)), { batch: false }))) * 1e3);
  }
  // sync(): 4096 records appended, then flushed to the disk.
  const t = performance.now();
  disk.batched(disk.writer, 4096);
  disk.writer.sync();
  push("sync", (performance.now() - t) * 1e6);
}

const cell = (key: string, base: string, name: string): RatioCell => ({ stats: stats(perRound(samples[key]!, samples[base]!)), baseline: name });
const rows: Row[] = [];
for (const [kind, title, target] of [
  ["rec", "reserve() + fill + commit() per record", 0.5],
  ["batch", "reserveMany(4096) + manual offsets", 0.5],
  ["replay", "snapshot() + forEach, every field (replay through the views)", 0.8],
] as const) {
  for (const s of subjects) {
    const key = `${kind}:${s.label}`;
    const st = stats(samples[key]!);
    if (s.label === "memory") {
      rows.push({ name: `${title}: memory (baseline)`, figure: mrec(st.median), spread: range(st) });
      continue;
    }
    const r = cell(key, `${kind}:memory`, "memory");
    rows.push({ name: `${title}: ${s.label}`, figure: mrec(st.median), spread: range(st), ratios: [r], target: `>= ${target.toFixed(2)}x memory`, pass: r.stats.median >= target });
  }
}
const sync = stats(samples.sync!);
rows.push({ name: "4096 appends + writer.sync() (fdatasync), disk", figure: duration(sync.median), spread: `${duration(sync.min)}–${duration(sync.max)}` });
// RSS over 100M durable appends (retention by count: the window's files are reused).
{
  const s = subjects[subjects.length - 1]!;
  const mib = () => process.memoryUsage().rss / 2 ** 20;
  s.batched(s.writer, 1_000_000);
  const after1M = mib();
  const total = quick ? 20_000_000 : 100_000_000;
  for (let done = 0; done < total; done += 10_000_000) s.batched(s.writer, 10_000_000);
  const after = mib();
  rows.push({ name: `RSS after 1M durable appends (disk)`, figure: `${after1M.toFixed(1)} MiB` });
  rows.push({
    name: `RSS after ${total / 1e6}M more durable appends`,
    figure: `${after.toFixed(1)} MiB`,
    ratios: [{ stats: stats([after / after1M]), baseline: "1M" }],
    target: "within 10%",
    pass: after <= after1M * 1.1,
  });
}
for (const s of subjects) {
  s.writer.release();
  s.log.close();
}

// ---------------------------------------------------------------- recovery of 1 GiB
const BIG_SEG = 65536;
const GIB_RECORDS = (1 << 30) / 32;
const bigDir = join(diskRoot, "gib");
/** Runs bench/support/gib-child.ts, reads its one line, then SIGKILLs it. */
async function crashChild(...args: string[]): Promise<string> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "support/gib-child.ts"), bigDir, ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`gib-child ${args.join(" ")} exited early`);
    text += new TextDecoder().decode(value);
  }
  child.kill("SIGKILL");
  await child.exited;
  return text.trim();
}
// 1 GiB of sealed (checksummed) segments, and one record in the head that no checksum covers yet.
await crashChild("fill", String(GIB_RECORDS + 1), String(GIB_RECORDS), String(BIG_SEG));
const recoverRuns: Record<string, number[]> = { crashed: [], rebuilt: [] };
const recovered: Record<string, number> = {};
for (let i = 0; i < (quick ? 1 : 3); i++) {
  for (const mode of ["crashed", "rebuilt"] as const) {
    if (mode === "rebuilt") {
      // A reboot: another boot id in the control header, so nothing in the control block is trusted.
      const fd = openSync(join(bigDir, "control.alog"), "r+");
      writeSync(fd, "00000000-0000-0000-0000-000000000000", 128);
      closeSync(fd);
    }
    const r = JSON.parse(await crashChild("open")) as { ms: number; mode: string; next: number };
    if (r.mode !== mode) throw new Error(`expected ${mode} recovery, got ${r.mode}`);
    recoverRuns[mode]!.push(r.ms * 1e6);
    recovered[mode] = r.next;
  }
}
// Same boot keeps the unchecksummed head record (the page cache was never lost); after a
// reboot only checksummed records count, so it is dropped.
if (recoverRuns.crashed!.length >= 1 && recovered.crashed !== GIB_RECORDS + 1 && recovered.crashed !== GIB_RECORDS) throw new Error(`same-boot recovery kept ${recovered.crashed} records`);
if (recovered.rebuilt !== GIB_RECORDS) throw new Error(`rebuild kept ${recovered.rebuilt} records, expected ${GIB_RECORDS}`);
for (const mode of ["crashed", "rebuilt"] as const) {
  const st = stats(recoverRuns[mode]!);
  rows.push({
    name: `open + recovery of 1 GiB (${GIB_RECORDS} checksummed records), ${mode === "crashed" ? "writer process died (same boot), nothing synced" : "after a reboot: rebuilt from the files"}`,
    figure: duration(st.median),
    spread: `${duration(st.min)}–${duration(st.max)}`,
    target: "<= 1 s",
    pass: st.median <= 1e9,
  });
}

// ---------------------------------------------------------------- across processes: append -> seen
const latDir = join(shmRoot ?? diskRoot, "latency");
{
  const log = AtomicLog.open(Trade, latDir, { retainedCapacity: 1 << 16, segmentCapacity: SEG });
  const w = log.tryClaimWriter()!;
  for (const [mode, count, gapUs] of [["spin", quick ? 2000 : 20000, 20], ["park", quick ? 300 : 2000, 1000]] as const) {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "support/latency-reader.ts"), latDir, mode, String(count)], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("ready")) text += new TextDecoder().decode((await reader.read()).value);
    await Bun.sleep(50);
    for (let i = 0; i < count; i++) {
      const v = w.reserve();
      v.ts = i; v.id = i; v.qty = 1; v.side = 0;
      v.price = monoNs();
      w.commit();
      // Pace: one record at a time, and long enough between them for a parked reader to park again.
      const until = performance.now() + gapUs / 1000;
      if (gapUs >= 1000) await Bun.sleep(gapUs / 1000);
      else while (performance.now() < until);
    }
    while (!text.trim().endsWith("]")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const lat = JSON.parse(text.slice(text.indexOf("["))) as number[];
    await child.exited;
    lat.sort((a, b) => a - b);
    const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!;
    const [t50, t99] = mode === "spin" ? [1e3, 20e3] : [20e3, 200e3];
    rows.push({
      name: `other process ${mode === "spin" ? "spinning on tryNext()" : "parked in ready(), woken by its doorbell"}, append -> seen, p50 / p99 (${lat.length} samples)`,
      figure: `${duration(p(0.5))} / ${duration(p(0.99))}`,
      spread: `p90 ${duration(p(0.9))}, max ${duration(lat[lat.length - 1]!)}`,
      target: `<= ${duration(t50)} / ${duration(t99)}`,
      pass: p(0.5) <= t50 && p(0.99) <= t99,
    });
  }
  w.release();
  log.close();
}

const table = printTable(`Durable vs memory: 32-byte records, retained 1<<20, segment 4096, durability "none", ${ROUNDS} rounds, ratios per round, median [min–max]`, rows);
if (process.env.BENCH_MARKDOWN) await Bun.write(process.env.BENCH_MARKDOWN, `${table}\n`);
