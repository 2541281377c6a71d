/** Small helpers shared by the log tests. */
import { AtomicLog, type Snapshot, type Writer, type LogOptions } from "../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "./trade.ts";

export type TradeLog = AtomicLog<TradeView, TradeData>;
export type TradeWriter = Writer<TradeView, TradeData>;
export type TradeSnapshot = Snapshot<TradeView, TradeData>;

/** A trade whose every field is a known function of `value`, so readers can check what they read. */
export function tradeFor(value: number): TradeData {
  return { ts: value * 2, id: value >>> 0, price: value + 0.25, qty: (value * 7) >>> 0, side: value & 1 };
}

/** `AtomicLog.newClaimed(Trade, { retainedCapacity, segmentCapacity })`, like the seed's `AtomicLog::new`. */
export function newLog(retainedCapacity: number, segmentCapacity: number, extra: Partial<LogOptions> = {}): [TradeWriter, TradeLog] {
  return AtomicLog.newClaimed(Trade, { retainedCapacity, segmentCapacity, ...extra });
}

/** Appends values through the object form. */
export function appendValues(writer: TradeWriter, from: number, to: number): void {
  for (let v = from; v < to; v++) writer.append(tradeFor(v));
}

/** The ids in a snapshot, read through the flyweight, oldest first. */
export function ids(snapshot: TradeSnapshot): number[] {
  const out: number[] = [];
  snapshot.forEach((view) => out.push(view.id));
  return out;
}

/** [from, to) as an array. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** The error `fn` throws (fails the test if it throws nothing). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}
