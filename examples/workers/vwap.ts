/**
 * Reader 1: VWAP per symbol over the whole retained window, recomputed from a
 * snapshot every 100 ms. The snapshot is refreshed in place (cheap) and walked
 * per segment with `chunks()`, zero-copy.
 */
import { AtomicLog, type Snapshot } from "../../src/index.ts";
import { Tick, type TickData, type TickView } from "../../src/generated/market.ts";
import { CONTROL, SYMBOLS } from "../market.ts";

declare const self: Worker;

function vwap(snap: Snapshot<TickView, TickData>): number[] {
  const notional = new Float64Array(SYMBOLS.length);
  const volume = new Float64Array(SYMBOLS.length);
  for (const chunk of snap.chunks()) {
    for (let i = 0; i < chunk.length; i++) {
      const t = chunk.at(i);
      notional[t.symbolId] += t.price * t.qty;
      volume[t.symbolId] += t.qty;
    }
  }
  return Array.from(notional, (n, s) => (volume[s]! > 0 ? n / volume[s]! : 0));
}

self.onmessage = async (e: MessageEvent) => {
  const { handle, control } = e.data;
  const stop = new Int32Array(control);
  const log = AtomicLog.attach(Tick, handle);
  const snap = log.snapshot();
  let windows = 0;
  let records = 0;
  let last: number[] = [];
  while (Atomics.load(stop, CONTROL.STOP) === 0) {
    snap.refresh();
    last = vwap(snap);
    windows++;
    records += snap.length;
    self.postMessage({ type: "progress", role: "vwap", records, lost: 0, detail: `${windows} windows of ${snap.length.toLocaleString()} ticks` });
    await Bun.sleep(100);
  }
  await Bun.sleep(50); // let the feed finish its last batch
  snap.refresh();
  last = vwap(snap);
  const detail = `${windows} windows; final window ${snap.startSequence.toLocaleString()}..${snap.endSequence.toLocaleString()}`;
  snap.release(); // before reporting, so the main thread sees every pin returned
  self.postMessage({ type: "done", role: "vwap", records, lost: 0, perSymbol: last, detail });
};
