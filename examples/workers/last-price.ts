/**
 * Reader 2: last price per symbol from a tailing cursor that spins on
 * `poll()` (lowest latency). It checks that sequences are contiguous apart
 * from the laps the cursor reports, and that every tick's symbol string
 * matches its symbolId.
 */
import { AtomicLog } from "../../src/index.ts";
import { Tick, type TickView } from "../../src/generated/market.ts";
import { CONTROL, SYMBOLS } from "../market.ts";

declare const self: Worker;
self.onmessage = (e: MessageEvent) => {
  const { handle, control } = e.data;
  const stop = new Int32Array(control);
  const log = AtomicLog.attach(Tick, handle);
  const cursor = log.cursor({ from: "oldest" });
  const last = new Array<number>(SYMBOLS.length).fill(0);
  let expected = cursor.sequence;
  let gaps = 0;
  let badSymbols = 0;
  let records = 0;
  let sampled = 0;
  const onTick = (t: TickView, seq: number) => {
    if (seq !== expected) gaps += seq - expected;
    expected = seq + 1;
    last[t.symbolId] = t.price;
    // Decoding the string on every tick would dominate; check one in 64.
    if ((seq & 63) === 0 && (sampled++, t.symbol !== SYMBOLS[t.symbolId])) badSymbols++;
    records++;
  };
  let nextReport = performance.now() + 100;
  while (Atomics.load(stop, CONTROL.STOP) === 0) {
    cursor.poll(onTick, 65536);
    if (performance.now() > nextReport) {
      nextReport += 100;
      self.postMessage({ type: "progress", role: "last-price", records, lost: cursor.lost, detail: `lag ${(log.stats().nextSequence - cursor.sequence).toLocaleString()} ticks` });
    }
  }
  // Drain until the feed has published its last batch and let go of the writer.
  const deadline = performance.now() + 2000;
  while (log.isWriterClaimed() && performance.now() < deadline) cursor.poll(onTick, 65536);
  cursor.poll(onTick);
  const ok = gaps === cursor.lost && badSymbols === 0;
  cursor.release(); // before reporting, so the main thread sees every pin returned
  self.postMessage({
    type: "done", role: "last-price", records, lost: cursor.lost, perSymbol: last,
    detail: ok ? `contiguous except ${cursor.lost.toLocaleString()} lapped; ${sampled} symbols checked` : `BROKEN: gaps ${gaps} vs lost ${cursor.lost}, bad symbols ${badSymbols}`,
  });
};
