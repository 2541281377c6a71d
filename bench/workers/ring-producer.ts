/**
 * ringbuf.js baseline, producer side: fills batches of {@link BATCH} records
 * into a staging buffer and pushes them into a ringbuf.js `RingBuffer` over a
 * SharedArrayBuffer, spinning while it is full. The ring holds either bytes
 * (`Uint8Array`, 32 elements per record, as the issue specifies) or
 * `Float64Array` elements (4 per record: ringbuf.js copies element by element,
 * so this is its fastest honest configuration for 32-byte records).
 */
import { RingBuffer } from "ringbuf.js";
import { sharedClock } from "./clock.ts";
import { BATCH, RECORD_BYTES, fillRecords, lanes } from "./records.ts";
import { serve } from "./serve.ts";

/** Element type of the ring. */
export type RingElement = "u8" | "f64";

let ring: RingBuffer;
let clock: () => number;
let seq = 0;
let perRecord = RECORD_BYTES;
let staging: Uint8Array | Float64Array;
const stagingBuffer = new ArrayBuffer(BATCH * RECORD_BYTES);
const stagingLanes = lanes(stagingBuffer);

serve({
  init(msg: { sab: SharedArrayBuffer; element: RingElement; mainOrigin: number }) {
    clock = sharedClock(msg.mainOrigin);
    const type = msg.element === "f64" ? Float64Array : Uint8Array;
    ring = new RingBuffer(msg.sab, type);
    staging = new type(stagingBuffer);
    perRecord = RECORD_BYTES / type.BYTES_PER_ELEMENT;
  },
  round(msg: { n: number; timeoutMs: number }) {
    const deadline = performance.now() + msg.timeoutMs;
    const first = seq;
    const t0 = clock();
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
