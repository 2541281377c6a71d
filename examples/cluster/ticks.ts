/**
 * The cluster demo's records: market ticks whose every field is a function of
 * the tick's sequence number, so the replica's reader can check each record it
 * reads on its own, in another process, without being sent the truth.
 */
import { Side, type TickView } from "../../src/generated/market.ts";
import { START_PRICES, SYMBOLS } from "../market.ts";

/** An arbitrary epoch for the ticks' timestamps (ms); a tick's `ts` is this plus its sequence. */
const T0 = 1_767_225_600_000;

/** Fills `v` with tick `seq`. Every value is exact in its field's type, so the check can compare with ===. */
export function fillTick(v: TickView, seq: number): void {
  const id = seq % SYMBOLS.length;
  v.ts = T0 + seq;
  v.price = START_PRICES[id]! * (1 + (seq % 1000) / 10_000);
  v.qty = 1 + (seq % 997);
  v.symbolId = id;
  v.side = (seq >>> 3) & 1 ? Side.Sell : Side.Buy;
  v.symbol = SYMBOLS[id]!;
  const depth = v.depth;
  depth[0] = seq % 100;
  depth[1] = seq % 200;
  depth[2] = seq % 400;
}

/** The first field of `v` that is not tick `seq`'s, or null if all are. */
export function tickMismatch(v: TickView, seq: number): string | null {
  const id = seq % SYMBOLS.length;
  if (v.ts !== T0 + seq) return "ts";
  if (v.price !== START_PRICES[id]! * (1 + (seq % 1000) / 10_000)) return "price";
  if (v.qty !== 1 + (seq % 997)) return "qty";
  if (v.symbolId !== id) return "symbolId";
  if (v.side !== ((seq >>> 3) & 1 ? Side.Sell : Side.Buy)) return "side";
  if (v.symbol !== SYMBOLS[id]) return "symbol";
  const depth = v.depth;
  if (depth[0] !== seq % 100 || depth[1] !== seq % 200 || depth[2] !== seq % 400) return "depth";
  return null;
}

/** The geometry of both logs: the replica's segmentCapacity must be the source's. */
export const GEOMETRY = { retainedCapacity: 1 << 20, segmentCapacity: 4096 };

/** The stream and subject the demo bridges through. */
export const STREAM = "TICKS";
export const SUBJECT = "ticks";

/** A line a child process prints on stdout for the orchestrator (one JSON object per line). */
export type Report =
  | { role: "writer"; type: "progress"; at: number; written: number; published: number; lost: number; inFlight: number }
  | { role: "writer"; type: "done"; written: number; published: number; lost: number; errors: number; stream: { messages: number; bytes: number; firstSeq: number; lastSeq: number }; limitsWarning: string | null }
  | { role: "replica"; type: "progress"; at: number; replicated: number; checked: number }
  | { role: "replica"; type: "done"; replicated: number; checked: number; first: number; last: number; bad: number; firstBad: string | null; lost: number; gaps: number; dropped: number; duplicates: number; reached: boolean };

/** Now, in ms since the epoch, comparable between processes of one host (sub-millisecond, unlike Date.now()). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Prints a report line for the orchestrator. */
export function report(r: Report): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
