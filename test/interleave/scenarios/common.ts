/**
 * Helpers shared by the interleaving scenarios: small logs (so that a few
 * records cross segments and recycle them), and records whose every field is
 * a function of the sequence, so any misread is caught.
 */
import { AtomicLog, type LogOptions } from "../../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../../support/trade.ts";
import { ensure } from "../harness/scenario.ts";

export type TradeLog = AtomicLog<TradeView, TradeData>;

/**
 * A log in the main thread, and what the parties need to attach to it. With
 * `prefill`, sequences 0 .. prefill - 1 are appended (and the writer released) first.
 */
export function smallLog(
  options: Partial<LogOptions> = {},
  prefill = 0,
): { log: TradeLog; shared: { handle: ReturnType<TradeLog["handle"]> }; control: SharedArrayBuffer } {
  const log = AtomicLog.create(Trade, { retainedCapacity: 2, segmentCapacity: 2, snapshotBudget: 4, maxSnapshots: 4, preTouch: false, ...options });
  if (prefill > 0) {
    const writer = log.tryClaimWriter()!;
    for (let s = 0; s < prefill; s++) writer.append(recordFor(s));
    writer.release();
  }
  const handle = log.handle();
  return { log, shared: { handle }, control: handle.control! };
}

/** Attaches to the scenario's log from a party. */
export function attach(shared: unknown): TradeLog {
  return AtomicLog.attach(Trade, (shared as { handle: ReturnType<TradeLog["handle"]> }).handle);
}

/** The record appended as sequence `seq` by writer `by` (exact for sequences up to 2^52). */
export function recordFor(seq: number, by = 0): TradeData {
  return { ts: seq, id: seq >>> 0, price: seq + 0.5, qty: by, side: seq & 1 };
}

/** Throws unless `view` holds the record of sequence `seq` (by any writer); returns the writer. */
export function expectRecord(view: TradeView, seq: number, where: string): number {
  const ts = view.ts;
  ensure(
    ts === seq && view.id === seq >>> 0 && view.price === seq + 0.5 && view.side === (seq & 1),
    `${where}: sequence ${seq} read as ts ${ts}, id ${view.id}, price ${view.price}`,
  );
  return view.qty;
}
