/**
 * Helpers for the bridge's tests beside `test/bridge/nats.test.ts`: records
 * derived from their sequence (so any record can be checked alone), appending
 * with yields (the bridge runs on the same event loop), and waiting for
 * acknowledgements.
 */
import type { AtomicLog, Writer } from "../../src/index.ts";
import type { Bridge } from "../../src/bridge/index.ts";
import { Trade, type TradeData, type TradeView } from "./trade.ts";

/** The record with sequence `seq`: every field a function of it. */
export function record(seq: number): TradeData {
  return { ts: seq * 0.5, id: seq >>> 0, price: 100 + (seq % 1000) / 8, qty: (seq * 7) % 100_000, side: seq & 1 };
}

/** Whether view `v` holds {@link record}(seq), field by field. */
export function matches(v: TradeView, seq: number): boolean {
  return v.ts === seq * 0.5 && v.id === seq >>> 0 && v.price === 100 + (seq % 1000) / 8 && v.qty === (seq * 7) % 100_000 && v.side === (seq & 1);
}

/** Appends records for sequences [writer.nextSequence, end), yielding to the event loop every `yieldEvery`. */
export async function appendUpTo(writer: Writer<TradeView, TradeData>, end: number, yieldEvery = 4096): Promise<void> {
  for (let seq = writer.nextSequence; seq < end; seq++) {
    writer.append(record(seq));
    if (seq % yieldEvery === yieldEvery - 1) await Bun.sleep(0);
  }
}

/** The sequences `log` holds, in order, after checking each record's fields; throws at the first that differs. */
export function checkRecords(log: AtomicLog<TradeView, TradeData>): number[] {
  const seqs: number[] = [];
  using snap = log.snapshot();
  snap.forEach((v, seq) => {
    if (!matches(v, seq)) throw new Error(`record ${seq} differs: ${JSON.stringify(Trade.read(v))} != ${JSON.stringify(record(seq))}`);
    seqs.push(seq);
  });
  return seqs;
}

/** Waits until a bridge has had every record below `sequence` acknowledged. */
export async function acked(bridge: Bridge<TradeView, TradeData>, sequence: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (bridge.stats().ackedSequence < sequence) {
    if (Date.now() > deadline) throw new Error(`bridge acknowledged up to ${bridge.stats().ackedSequence}, wanted ${sequence}: ${JSON.stringify(bridge.stats())}`);
    await Bun.sleep(2);
  }
}
