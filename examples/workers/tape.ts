/**
 * Reader 3: a "tape" of large trades that sleeps in `await cursor.ready()`
 * instead of spinning, and measures how long after the tick's timestamp it
 * woke up to see it.
 */
import { AtomicLog } from "../../src/index.ts";
import { Tick, type TickView } from "../../src/generated/market.ts";
import { CONTROL } from "../market.ts";

declare const self: Worker;
self.onmessage = async (e: MessageEvent) => {
  const { handle, control } = e.data;
  const stop = new Int32Array(control);
  const log = AtomicLog.attach(Tick, handle);
  const cursor = log.cursor({ from: "latest" });
  let records = 0;
  let large = 0;
  const wakeLags: number[] = [];
  let first = true;
  const onTick = (t: TickView) => {
    if (first) {
      wakeLags.push(performance.timeOrigin + performance.now() - t.ts);
      first = false;
    }
    if (t.qty >= 99) large++;
    records++;
  };
  let nextReport = performance.now() + 100;
  while (Atomics.load(stop, CONTROL.STOP) === 0) {
    if (await cursor.ready(50)) {
      first = true;
      cursor.poll(onTick, 4096);
    }
    if (performance.now() > nextReport) {
      nextReport += 100;
      self.postMessage({ type: "progress", role: "tape", records, lost: cursor.lost, detail: `${large.toLocaleString()} large trades` });
    }
  }
  wakeLags.sort((a, b) => a - b);
  const p50 = wakeLags.length ? wakeLags[wakeLags.length >> 1]! : 0;
  cursor.release(); // before reporting, so the main thread sees every pin returned
  self.postMessage({
    type: "done", role: "tape", records, lost: cursor.lost,
    detail: `${large.toLocaleString()} large trades; ${wakeLags.length} wake-ups, median ${(p50 * 1000).toFixed(0)} µs after the tick`,
  });
};
