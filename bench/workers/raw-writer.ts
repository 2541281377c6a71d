/**
 * Raw shared-memory ceiling, writer side: the fastest honest code for the
 * log's job without the log. The same fields written with plain typed-array
 * stores into a SharedArrayBuffer ring of records (pre-touched, so warm), published
 * the way the log's writer publishes: one `Atomics.store` of the record count
 * per batch of {@link BATCH} (the log commits once per `reserveMany` span of
 * BATCH), then one `Atomics.load` of the parked-readers flag and a notify
 * only when a reader is parked (the log's `commit()` does the same).
 *
 * No `%` per record: records go in runs of consecutive slots, split only where
 * the ring wraps. No segments, no lap detection, no views: the gap between
 * this and the log cases is what the log's design costs. The ring holds a
 * whole round, so a round never overwrites records a reader has not read.
 */
import { sharedClock } from "./clock.ts";
import { COUNT, MAX_COUNT, WAITERS } from "./raw-control.ts";
import { BATCH } from "./records.ts";
import { serve } from "./serve.ts";

let f64: Float64Array;
let u32: Uint32Array;
let u8: Uint8Array;
let ctl: Int32Array;
let slots = 0;
let clock: () => number;
let seq = 0;
/** Next slot to write. */
let pos = 0;

/** Writes records `s0 .. s0 + run - 1` into slots `p0 .. p0 + run - 1` (no wrap inside). */
function writeRun(p0: number, s0: number, run: number): void {
  for (let k = 0; k < run; k++) {
    const s = s0 + k;
    const r = p0 + k;
    f64[r * 4] = s;
    u32[r * 8 + 2] = s;
    f64[r * 4 + 2] = s * 0.25;
    u32[r * 8 + 6] = s & 1023;
    u8[r * 32 + 28] = s & 1;
  }
}

serve({
  init(msg: { ring: SharedArrayBuffer; control: SharedArrayBuffer; mainOrigin: number }) {
    clock = sharedClock(msg.mainOrigin);
    f64 = new Float64Array(msg.ring);
    u32 = new Uint32Array(msg.ring);
    u8 = new Uint8Array(msg.ring);
    ctl = new Int32Array(msg.control);
    slots = msg.ring.byteLength / 32;
    // Warm memory: touch every page now (the log pre-touches its window too).
    for (let i = 0; i < u8.length; i += 4096) u8[i] = 0;
  },
  round(msg: { n: number }) {
    if (seq + msg.n > MAX_COUNT) throw new Error("raw writer: the Int32 record count would overflow; run fewer rounds");
    const first = seq;
    const t0 = clock();
    for (let left = msg.n; left > 0; ) {
      const batch = left < BATCH ? left : BATCH;
      for (let done = 0; done < batch; ) {
        const room = slots - pos;
        const run = batch - done < room ? batch - done : room;
        writeRun(pos, seq + done, run);
        done += run;
        pos += run;
        if (pos === slots) pos = 0;
      }
      seq += batch;
      left -= batch;
      Atomics.store(ctl, COUNT, seq);
      if (Atomics.load(ctl, WAITERS) !== 0) {
        Atomics.store(ctl, WAITERS, 0);
        Atomics.notify(ctl, COUNT);
      }
    }
    return { t0, t1: clock(), first };
  },
});
