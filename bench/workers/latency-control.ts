/**
 * Layout of the small SharedArrayBuffer that the two latency workers share,
 * and the modes they run. The clock-sync words (clock.ts) come first.
 */
import { SYNC, SYNC_F } from "./clock.ts";

/** Int32 word indices. */
export const W = {
  ...SYNC,
  /** Last sample the reader has taken (the writer waits for it before the next append). */
  ACK: 3,
  /** Raw baselines: sequence of the last published timestamp. */
  RAW_SEQ: 4,
  /** Never written: the writer sleeps on it with a timeout to idle. */
  IDLE: 5,
} as const;

/** Float64 indices (after the Int32 words). */
export const F = {
  ...SYNC_F,
  /** Raw baselines: the timestamp. */
  RAW_TS: 11,
} as const;

/** Bytes of the control block. */
export const CONTROL_BYTES = 128;

/**
 * What a latency round measures:
 * - spin modes (reader spins, writer spaces appends by a short busy-wait):
 *   "log-spin" = writer append + commit, reader `cursor.tryNext()`;
 *   "raw-spin" = plain f64 store + `Atomics.store`, reader `Atomics.load` (the floor).
 * - wake modes (reader parked, writer sleeps a random idle between appends):
 *   "log-ready" = reader `await cursor.ready()`; "raw-waitasync" = `Atomics.waitAsync` + `notify`;
 *   "postmessage" = one-way `MessagePort.postMessage` of the timestamp.
 */
export type LatencyMode = "log-spin" | "raw-spin" | "log-ready" | "raw-waitasync" | "postmessage";

/** Whether `mode` parks the reader between samples. */
export function isWakeMode(mode: LatencyMode): boolean {
  return mode === "log-ready" || mode === "raw-waitasync" || mode === "postmessage";
}

/** Parameters of one latency round, as the main thread sends them to both workers. */
export interface LatencyRound {
  type: "round";
  mode: LatencyMode;
  /** Samples kept, after `warmup` discarded ones. */
  samples: number;
  warmup: number;
  timeoutMs: number;
  /** Spin modes: busy-wait between an ack and the next append, in µs (uniform in [min, max]). */
  gapUs: [number, number];
  /** Wake modes: sleep between an ack and the next append, in µs (uniform in [min, max]). */
  idleUs: [number, number];
}
