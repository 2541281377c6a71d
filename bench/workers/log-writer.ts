/**
 * Throughput writer over the log: appends each round's records in batches of
 * {@link BATCH} with `reserveMany` and one `commit` per span, as fast as it can.
 */
import { AtomicLog, type Writer } from "../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../../src/generated/market.ts";
import { sharedClock } from "./clock.ts";
import { BATCH } from "./records.ts";
import { serve } from "./serve.ts";

let writer: Writer<TradeView, TradeData>;
let clock: () => number;

serve({
  init(msg) {
    clock = sharedClock(msg.mainOrigin);
    const w = AtomicLog.attach(Trade, msg.handle).tryClaimWriter();
    if (w === null) throw new Error("log writer: the writer claim is already taken");
    writer = w;
  },
  round(msg: { n: number }) {
    const first = writer.nextSequence;
    const t0 = clock();
    let left = msg.n;
    while (left > 0) {
      const span = writer.reserveMany(left < BATCH ? left : BATCH);
      const len = span.length;
      const seq0 = span.startSequence;
      for (let i = 0; i < len; i++) {
        const v = span.at(i);
        const seq = seq0 + i;
        v.ts = seq;
        v.id = seq;
        v.price = seq * 0.25;
        v.qty = seq & 1023;
        v.side = seq & 1;
      }
      writer.commit();
      left -= len;
    }
    return { t0, t1: clock(), first };
  },
});
