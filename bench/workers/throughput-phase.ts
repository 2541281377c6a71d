/**
 * Throughput phase: every case's workers start once, then the cases run in
 * interleaved rounds (the order rotates each round), so slow drift of the
 * machine hits every case alike. A round: the readers arm, then the writer
 * writes `n` records as fast as it can; the round lasts from the writer's
 * first record to the moment the slowest reader has read the last one
 * (both on the main thread's timeline, see clock.ts).
 */
import { RingBuffer } from "ringbuf.js";
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { type Crew, type Member, withCrew } from "./crew.ts";
import { CONTROL_BYTES } from "./raw-control.ts";
import { RECORD_BYTES } from "./records.ts";
import type { RingMode } from "./ring-producer.ts";

/**
 * The throughput cases. "ringbuf-1" moves bytes (as specified); "ringbuf64-1" moves
 * Float64 elements with `push`; "ringbuf64cb-1" writes Float64 records straight into
 * the ring through `writeCallbackWithOffset` (ringbuf.js at its best). "raw-1"/"raw-3"
 * are the ceiling: plain typed arrays over one SharedArrayBuffer, no library.
 */
export type ThroughputCase = "log-1" | "transfer-1" | "ringbuf-1" | "ringbuf64-1" | "ringbuf64cb-1" | "raw-1" | "log-3" | "broadcast-3" | "raw-3";

/** Settings of the phase. */
export interface ThroughputConfig {
  /** Measured rounds per case. */
  rounds: number;
  /** Discarded rounds per case first (JIT tiers, page faults, message-queue growth). */
  warmupRounds: number;
  /** Records per round. At most the log's retention, so a round alone can never lap a reader. */
  records: number;
  /** Log retention (records) and segment size. */
  retained: number;
  segment: number;
  /** ringbuf.js capacity, in records. */
  ringRecords: number;
  /** Empty polls a log reader spins through before parking in `ready()`. */
  spins: number;
  /** Per-round limit for any worker. */
  roundTimeoutMs: number;
  /** Limit for the whole phase. */
  budgetMs: number;
  /** Called after each measured round (`r` from 0) with every worker idle, e.g. to run the Rust anchor in the same run. */
  between?: (r: number) => void;
  /** The cases to run (default: all of them, in the order of THROUGHPUT_CASES). */
  cases?: readonly ThroughputCase[];
}

/** Every throughput case, in setup order. */
export const THROUGHPUT_CASES: readonly ThroughputCase[] = ["log-1", "transfer-1", "ringbuf-1", "ringbuf64-1", "ringbuf64cb-1", "raw-1", "log-3", "broadcast-3", "raw-3"];

/** Per-case outcome: per-round rate of each reader (the slowest reader of a round), and what the readers reported. */
export interface ThroughputResult {
  /** M records/s per reader, one per measured round. */
  rates: number[];
  /** Records readers missed because the writer lapped them (log cases), over all rounds. */
  lost: number;
  /** Records with a wrong field, over all rounds (must be 0). */
  bad: number;
  /** Whether every reader's field sum matched. */
  sumOk: boolean;
  /** Times readers parked (log: `ready()`; raw: `Atomics.wait`), over all rounds. */
  parks: number;
  /** M records/s of the writer alone (its first to its last record), one per round: shows whether a case is reader-bound. */
  writerRates: number[];
}

interface Case {
  writer: Member;
  readers: Member[];
}

/** Sets up the cases' workers and shared structures. */
async function setup(crew: Crew, cfg: ThroughputConfig): Promise<Partial<Record<ThroughputCase, Case>>> {
  const mainOrigin = performance.timeOrigin;
  const initMs = 10_000;
  const logCase = async (readers: number, tag: string): Promise<Case> => {
    const log = AtomicLog.create(Trade, { retainedCapacity: cfg.retained, segmentCapacity: cfg.segment });
    const handle = log.handle();
    const writer = crew.start(`${tag}-writer`, "./log-writer.ts");
    const rs = Array.from({ length: readers }, (_, i) => crew.start(`${tag}-reader${i}`, "./log-reader.ts"));
    // Readers first, so their cursors start at sequence 0 before any write.
    await Promise.all(rs.map((r) => r.call({ type: "init", handle, mainOrigin }, initMs)));
    await writer.call({ type: "init", handle, mainOrigin }, initMs);
    return { writer, readers: rs };
  };
  const transfer = async (): Promise<Case> => {
    const { port1, port2 } = new MessageChannel();
    const writer = crew.start("transfer-writer", "./msg-writer.ts");
    const reader = crew.start("transfer-reader", "./msg-reader.ts");
    await reader.call({ type: "init", mode: "transfer", port: port2, mainOrigin }, initMs, [port2]);
    await writer.call({ type: "init", mode: "transfer", port: port1, mainOrigin }, initMs, [port1]);
    return { writer, readers: [reader] };
  };
  const broadcast = async (): Promise<Case> => {
    const channel = `atomic-log-bench-${process.pid}-${Date.now()}`;
    const writer = crew.start("broadcast-writer", "./msg-writer.ts");
    const rs = [0, 1, 2].map((i) => crew.start(`broadcast-reader${i}`, "./msg-reader.ts"));
    await Promise.all(rs.map((r) => r.call({ type: "init", mode: "broadcast", channel, mainOrigin }, initMs)));
    await writer.call({ type: "init", mode: "broadcast", channel, mainOrigin }, initMs);
    return { writer, readers: rs };
  };
  const ringbuf = async (element: "u8" | "f64", mode: RingMode = "push"): Promise<Case> => {
    // Capacity one element short of a whole number of records, so the storage (capacity + 1
    // elements) wraps on a record boundary.
    const type = element === "f64" ? Float64Array : Uint8Array;
    const sab = RingBuffer.getStorageForCapacity((cfg.ringRecords * RECORD_BYTES) / type.BYTES_PER_ELEMENT - 1, type);
    const writer = crew.start(`ringbuf-${element}-${mode}-producer`, "./ring-producer.ts");
    const reader = crew.start(`ringbuf-${element}-${mode}-consumer`, "./ring-consumer.ts");
    await reader.call({ type: "init", sab, element, mainOrigin }, initMs);
    await writer.call({ type: "init", sab, element, mode, mainOrigin }, initMs);
    return { writer, readers: [reader] };
  };
  const raw = async (readers: number): Promise<Case> => {
    const ring = new SharedArrayBuffer(cfg.records * RECORD_BYTES);
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const writer = crew.start(`raw${readers}-writer`, "./raw-writer.ts");
    const rs = Array.from({ length: readers }, (_, i) => crew.start(`raw${readers}-reader${i}`, "./raw-reader.ts"));
    await Promise.all(rs.map((r) => r.call({ type: "init", ring, control, mainOrigin }, initMs)));
    await writer.call({ type: "init", ring, control, mainOrigin }, initMs);
    return { writer, readers: rs };
  };
  const factories: Record<ThroughputCase, () => Promise<Case>> = {
    "log-1": () => logCase(1, "log1"),
    "transfer-1": transfer,
    "ringbuf-1": () => ringbuf("u8"),
    "ringbuf64-1": () => ringbuf("f64"),
    "ringbuf64cb-1": () => ringbuf("f64", "callback"),
    "raw-1": () => raw(1),
    "log-3": () => logCase(3, "log3"),
    "broadcast-3": broadcast,
    "raw-3": () => raw(3),
  };
  const cases: Partial<Record<ThroughputCase, Case>> = {};
  for (const name of cfg.cases ?? THROUGHPUT_CASES) cases[name] = await factories[name]();
  return cases;
}

interface RoundOutcome {
  rate: number;
  writerRate: number;
  lost: number;
  bad: number;
  sumOk: boolean;
  parks: number;
}

/** One round of one case. Throws if any reader timed out. */
async function round(name: string, c: Case, cfg: ThroughputConfig): Promise<RoundOutcome> {
  const ms = cfg.roundTimeoutMs;
  for (const r of c.readers) r.send({ type: "round", n: cfg.records, timeoutMs: ms, spins: cfg.spins });
  await Promise.all(c.readers.map((r) => r.next("armed", ms)));
  const w = await c.writer.call({ type: "round", n: cfg.records, timeoutMs: ms }, ms + 1000);
  const res = await Promise.all(c.readers.map((r) => r.next("round:done", ms + 1000)));
  const late = res.findIndex((x) => x.timedOut);
  if (late >= 0) throw new Error(`${name}: reader ${late} timed out after ${ms} ms with ${res[late].delivered} of ${cfg.records} records`);
  const end = Math.max(...res.map((x) => x.tEnd));
  const delivered = Math.min(...res.map((x) => x.delivered));
  return {
    rate: delivered / (end - w.t0) / 1e3,
    writerRate: cfg.records / (w.t1 - w.t0) / 1e3,
    lost: res.reduce((a, x) => a + x.lost, 0),
    bad: res.reduce((a, x) => a + x.bad, 0),
    sumOk: res.every((x) => x.sumOk),
    parks: res.reduce((a, x) => a + (x.parks ?? 0), 0),
  };
}

/** Runs the phase (the results have exactly `cfg.cases`); all its workers are terminated when it returns or fails. */
export function runThroughput(cfg: ThroughputConfig): Promise<Record<ThroughputCase, ThroughputResult>> {
  return withCrew("throughput", cfg.budgetMs, async (crew) => {
    const cases = await setup(crew, cfg);
    const names = Object.keys(cases) as ThroughputCase[];
    const out = {} as Record<ThroughputCase, ThroughputResult>;
    for (const n of names) out[n] = { rates: [], lost: 0, bad: 0, sumOk: true, parks: 0, writerRates: [] };
    for (let r = -cfg.warmupRounds; r < cfg.rounds; r++) {
      const order = names.map((_, i) => names[(i + Math.max(r, 0)) % names.length]!);
      for (const n of order) {
        const o = await round(n, cases[n]!, cfg);
        if (r < 0) continue;
        const res = out[n];
        res.rates.push(o.rate);
        res.writerRates.push(o.writerRate);
        res.lost += o.lost;
        res.bad += o.bad;
        res.sumOk &&= o.sumOk;
        res.parks += o.parks;
      }
      if (r >= 0) cfg.between?.(r);
    }
    return out;
  });
}
