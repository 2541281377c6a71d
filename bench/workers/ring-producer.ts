/**
 * ringbuf.js baseline, producer side: fills batches of {@link BATCH} records
 * into a staging buffer and pushes them into a ringbuf.js `RingBuffer` over a
 * SharedArrayBuffer, spinning while it is full. The ring holds either bytes
 * (`Uint8Array`, 32 elements per record, as the issue specifies) or
 * `Float64Array` elements (4 per record: ringbuf.js's `pop` copies element by
 * element, so fewer, wider elements are faster).
 *
 * Mode "push" fills a staging buffer and `push`es it (ringbuf.js copies it in,
 * with `TypedArray.set` when the whole buffer fits before the wrap). Mode
 * "callback" writes the fields straight into the ring's storage through
 * `writeCallbackWithOffset` (no staging copy, no allocation): ringbuf.js at its
 * best for a producer. Only whole records are ever offered, so the consumer's
 * pops stay record-aligned.
 */
import { RingBuffer } from "ringbuf.js";
import { sharedClock } from "./clock.ts";
import { BATCH, RECORD_BYTES, fillRecords, lanes } from "./records.ts";
import { serve } from "./serve.ts";

/** Element type of the ring. */
export type RingElement = "u8" | "f64";
/** How the producer hands records to ringbuf.js. */
export type RingMode = "push" | "callback";

let ring: RingBuffer;
let clock: () => number;
let seq = 0;
let perRecord = RECORD_BYTES;
let staging: Uint8Array | Float64Array;
let mode: RingMode = "push";
/** Lanes over the whole ring SAB (records start at byte 8, after ringbuf.js's two indices). */
let ringLanes: ReturnType<typeof lanes>;
/** First sequence number the next callback writes. */
let cbSeq = 0;

/** Writes `n` records from `cbSeq` at storage element `e0` (4 float64 elements per record). */
function writeAt(e0: number, n: number): void {
  const { f64, u32, u8 } = ringLanes;
  for (let k = 0; k < n; k++) {
    const seq = cbSeq + k;
    const e = e0 + k * 4; // storage element index; storage starts at byte 8 = f64 index 1
    f64[1 + e] = seq;
    u32[2 + e * 2 + 2] = seq;
    f64[1 + e + 2] = seq * 0.25;
    u32[2 + e * 2 + 6] = seq & 1023;
    u8[8 + e * 8 + 28] = seq & 1;
  }
  cbSeq += n;
}

/** `writeCallbackWithOffset`'s callback: two runs of storage elements, both whole records. */
function writeCallback(_storage: unknown, off1: number, n1: number, off2: number, n2: number): number {
  writeAt(off1, n1 / 4);
  if (n2 > 0) writeAt(off2, n2 / 4);
  return n1 + n2;
}
const stagingBuffer = new ArrayBuffer(BATCH * RECORD_BYTES);
const stagingLanes = lanes(stagingBuffer);

serve({
  init(msg: { sab: SharedArrayBuffer; element: RingElement; mode?: RingMode; mainOrigin: number }) {
    clock = sharedClock(msg.mainOrigin);
    mode = msg.mode ?? "push";
    if (mode === "callback" && msg.element !== "f64") throw new Error("ringbuf producer: callback mode is for the f64 ring");
    ringLanes = lanes(msg.sab);
    const type = msg.element === "f64" ? Float64Array : Uint8Array;
    ring = new RingBuffer(msg.sab, type);
    staging = new type(stagingBuffer);
    perRecord = RECORD_BYTES / type.BYTES_PER_ELEMENT;
  },
  round(msg: { n: number; timeoutMs: number }) {
    const deadline = performance.now() + msg.timeoutMs;
    const first = seq;
    const t0 = clock();
    if (mode === "callback") {
      cbSeq = seq;
      for (let left = msg.n; left > 0; ) {
        const records = Math.min(left, BATCH, (ring.availableWrite() / perRecord) | 0);
        if (records === 0) {
          if (performance.now() > deadline) throw new Error("ringbuf producer: the consumer stopped popping");
          continue;
        }
        ring.writeCallbackWithOffset(records * perRecord, writeCallback);
        left -= records;
      }
      seq = cbSeq;
      return { t0, t1: clock(), first };
    }
    for (let left = msg.n; left > 0; ) {
      const count = left < BATCH ? left : BATCH;
      fillRecords(stagingLanes, count, seq);
      const elements = count * perRecord;
      let pushed = ring.push(staging, elements, 0);
      while (pushed < elements) {
        const k = ring.push(staging, elements - pushed, pushed);
        pushed += k;
        if (k === 0 && performance.now() > deadline) throw new Error("ringbuf producer: the consumer stopped popping");
      }
      seq += count;
      left -= count;
    }
    return { t0, t1: clock(), first };
  },
});
