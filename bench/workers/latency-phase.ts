/**
 * Latency phases: one writer worker and one reader worker, started once,
 * run the given modes in interleaved rounds. Each round starts with a clock
 * sync between the two workers (clock.ts), then takes `warmup + samples`
 * one-at-a-time samples. Samples are pooled over rounds.
 */
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { withCrew } from "./crew.ts";
import { CONTROL_BYTES, type LatencyMode, type LatencyRound, W } from "./latency-control.ts";
import { resetSync } from "./clock.ts";

/** Settings of a latency phase. */
export interface LatencyConfig {
  modes: LatencyMode[];
  rounds: number;
  samples: number;
  warmup: number;
  gapUs: [number, number];
  idleUs: [number, number];
  roundTimeoutMs: number;
  budgetMs: number;
  /** Called after each round (`r` from 0) with both workers idle, e.g. to run the Rust anchor in the same run. */
  between?: (r: number) => void;
}

/** Pooled samples of one mode, in ns. */
export interface LatencyResult {
  /** One-way latency: publish (writer clock) to seen (reader clock mapped onto the writer's). */
  oneWay: number[];
  /** Half the writer's append-to-ack round trip (cross-check; includes the reader's ack path). */
  rttHalf: number[];
  /** Wake modes: samples whose record was already there when the reader was about to park. */
  early: number;
  /** Fastest clock-sync round trip of each round (ns): the sync's error bound. */
  syncRtt: number[];
  /** One-way sample indices where each round's samples end (round r is `oneWay.slice(ends[r-1] ?? 0, ends[r])`). */
  ends: number[];
}

/** One-way percentile `p` (0..1) of each round of `r`. */
export function roundPercentiles(r: LatencyResult, p: number): number[] {
  const out: number[] = [];
  let start = 0;
  for (const end of r.ends) {
    const xs = r.oneWay.slice(start, end).sort((a, b) => a - b);
    if (xs.length > 0) out.push(xs[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1)))]!);
    start = end;
  }
  return out;
}

/** Runs one latency phase named `phase`; its workers are terminated when it returns or fails. */
export function runLatency(phase: string, cfg: LatencyConfig): Promise<Record<string, LatencyResult>> {
  return withCrew(phase, cfg.budgetMs, async (crew) => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 1 << 20, segmentCapacity: 4096 });
    const handle = log.handle();
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const i32 = new Int32Array(control);
    const { port1, port2 } = new MessageChannel();
    const writer = crew.start("writer", "./latency-writer.ts");
    const reader = crew.start("reader", "./latency-reader.ts");
    await reader.call({ type: "init", handle, control, port: port2 }, 10_000, [port2]);
    await writer.call({ type: "init", handle, control, port: port1 }, 10_000, [port1]);

    const out: Record<string, LatencyResult> = {};
    for (const m of cfg.modes) out[m] = { oneWay: [], rttHalf: [], early: 0, syncRtt: [], ends: [] };
    for (let r = 0; r < cfg.rounds; r++) {
      for (let i = 0; i < cfg.modes.length; i++) {
        const mode = cfg.modes[(i + r) % cfg.modes.length]!;
        resetSync(i32);
        Atomics.store(i32, W.ACK, 0);
        Atomics.store(i32, W.RAW_SEQ, 0);
        const msg: LatencyRound = {
          type: "round",
          mode,
          samples: cfg.samples,
          warmup: cfg.warmup,
          timeoutMs: cfg.roundTimeoutMs,
          gapUs: cfg.gapUs,
          idleUs: cfg.idleUs,
        };
        reader.send(msg);
        await reader.next("armed", cfg.roundTimeoutMs);
        const w = await writer.call(msg, cfg.roundTimeoutMs + 1000);
        const rd = await reader.next("round:done", cfg.roundTimeoutMs + 1000);
        const res = out[mode]!;
        for (const x of rd.lat as Float64Array) res.oneWay.push(x * 1e6);
        for (const x of w.rtt as Float64Array) res.rttHalf.push(x * 5e5);
        res.early += rd.early;
        res.syncRtt.push(w.syncRtt * 1e6);
        res.ends.push(res.oneWay.length);
      }
      cfg.between?.(r);
    }
    return out;
  });
}
