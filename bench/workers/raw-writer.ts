/**
 * Raw shared-memory ceiling, writer side: the same fields written with plain
 * typed-array stores into a SharedArrayBuffer ring of records, published with
 * one `Atomics.store` of the record count per batch of {@link BATCH}. No
 * segments, no lap detection, no views: what the log's design costs is the
 * gap between this and the log cases. The ring holds a whole round, so a round
 * never overwrites records a reader has not read.
 */
import { sharedClock } from "./clock.ts";
import { BATCH } from "./records.ts";
import { serve } from "./serve.ts";

let f64: Float64Array;
let u32: Uint32Array;
let u8: Uint8Array;
let count: Int32Array;
let slots = 0;
let clock: () => number;
let seq = 0;

serve({
  init(msg: { ring: SharedArrayBuffer; count: SharedArrayBuffer; mainOrigin: number }) {
    clock = sharedClock(msg.mainOrigin);
    f64 = new Float64Array(msg.ring);
    u32 = new Uint32Array(msg.ring);
    u8 = new Uint8Array(msg.ring);
    count = new Int32Array(msg.count);
    slots = msg.ring.byteLength / 32;
  },
  round(msg: { n: number }) {
    const first = seq;
    const t0 = clock();
    for (let left = msg.n; left > 0; ) {
      const batch = left < BATCH ? left : BATCH;
      for (let i = 0; i < batch; i++) {
        const s = seq + i;
        const r = s % slots;
        f64[r * 4] = s;
        u32[r * 8 + 2] = s;
        f64[r * 4 + 2] = s * 0.25;
        u32[r * 8 + 6] = s & 1023;
        u8[r * 32 + 28] = s & 1;
      }
      seq += batch;
      left -= batch;
      Atomics.store(count, 0, seq);
    }
    return { t0, t1: clock(), first };
  },
});
