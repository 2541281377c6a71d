/**
 * The writer: a market-data feed. Claims the writer, then publishes ticks in
 * batches of 256 through `reserveMany` (fill the views, publish once) until
 * told to stop. It keeps its own truth (last price per symbol) for the checks.
 */
import { AtomicLog } from "../../src/index.ts";
import { Side, Tick } from "../../src/generated/market.ts";
import { CONTROL, START_PRICES, SYMBOLS, prng } from "../market.ts";

declare const self: Worker;
self.onmessage = (e: MessageEvent) => {
  const { handle, control } = e.data;
  const stop = new Int32Array(control);
  const log = AtomicLog.attach(Tick, handle);
  const writer = log.tryClaimWriter();
  if (writer === null) throw new Error("feed: someone else holds the writer");
  const random = prng(42);
  const prices = [...START_PRICES];
  const depth = new Uint32Array(3);
  let written = 0;
  while (Atomics.load(stop, CONTROL.STOP) === 0) {
    // One timestamp per batch, as a real feed stamps a packet, not each tick.
    const now = performance.timeOrigin + performance.now();
    let left = 256;
    while (left > 0) {
      const span = writer.reserveMany(left);
      for (let i = 0; i < span.length; i++) {
        const id = (random() * SYMBOLS.length) | 0;
        prices[id] = prices[id]! * (1 + (random() - 0.5) * 0.001);
        depth[0] = (random() * 100) | 0;
        depth[1] = (random() * 200) | 0;
        depth[2] = (random() * 400) | 0;
        const tick = span.at(i);
        tick.ts = now;
        tick.price = prices[id]!;
        tick.qty = 1 + ((random() * 100) | 0);
        tick.symbolId = id;
        tick.side = random() < 0.5 ? Side.Buy : Side.Sell;
        tick.symbol = SYMBOLS[id]!;
        tick.depth = depth;
      }
      left -= span.length;
    }
    writer.commit();
    written += 256;
  }
  writer.release();
  self.postMessage({ type: "done", written, lastPrices: prices });
};
