/**
 * Setup shared by the benches that need a log full of records before they measure: `count`
 * Trade records appended through `reserveMany` spans of up to 4096, filled by manual offsets
 * (the fastest way, so setup stays short). Record k (counting from `first`) holds ts = id = k,
 * price = k / 2, qty = `qty(k)`, side = k & 1.
 */
import type { Writer } from "../../src/index.ts";
import type { TradeData, TradeView } from "../../src/generated/market.ts";

/** Appends `count` records numbered from `first`; returns the number after the last one. */
export function fillTrades(writer: Writer<TradeView, TradeData>, count: number, first = 0, qty: (k: number) => number = (k) => k): number {
  let left = count;
  let k = first;
  while (left > 0) {
    const span = writer.reserveMany(Math.min(left, 4096));
    const v = span.view;
    const end = span.base + span.length * 32;
    for (let o = span.base; o < end; o += 32, k++) {
      v.byteOffset = o;
      v.ts = k;
      v.id = k;
      v.price = k * 0.5;
      v.qty = qty(k);
      v.side = k & 1;
    }
    left -= span.length;
    writer.commit();
  }
  return k;
}
