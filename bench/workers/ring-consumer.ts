/**
 * ringbuf.js baseline, consumer side: pops elements into a local buffer,
 * reads and checks every field of every whole record, and carries a partial
 * record over to the next pop (pops are not record-aligned).
 */
import { RingBuffer } from "ringbuf.js";
import { sharedClock } from "./clock.ts";
import { BATCH, RECORD_BYTES, type Tally, expectedSum, lanes, readRecords } from "./records.ts";
import type { RingElement } from "./ring-producer.ts";
import { reply, serve } from "./serve.ts";

let ring: RingBuffer;
let clock: () => number;
let expectSeq = 0;
let perRecord = RECORD_BYTES;
let local: Uint8Array | Float64Array;
const localBuffer = new ArrayBuffer(BATCH * RECORD_BYTES);
const localLanes = lanes(localBuffer);
const tally: Tally = { sum: 0, bad: 0 };

serve({
  init(msg: { sab: SharedArrayBuffer; element: RingElement; mainOrigin: number }) {
    clock = sharedClock(msg.mainOrigin);
    const type = msg.element === "f64" ? Float64Array : Uint8Array;
    ring = new RingBuffer(msg.sab, type);
    local = new type(localBuffer);
    perRecord = RECORD_BYTES / type.BYTES_PER_ELEMENT;
  },
  round(msg: { n: number; timeoutMs: number }) {
    const deadline = performance.now() + msg.timeoutMs;
    const first = expectSeq;
    tally.sum = 0;
    tally.bad = 0;
    let got = 0;
    let have = 0; // elements in `local`; the tail may be a partial record
    let timedOut = false;
    reply({ type: "armed" });
    for (let spins = 0; got < msg.n; ) {
      const want = Math.min(local.length, (msg.n - got) * perRecord) - have;
      const k = ring.pop(local, want, have);
      if (k === 0) {
        if ((++spins & 1023) === 0 && performance.now() > deadline) {
          timedOut = true;
          break;
        }
        continue;
      }
      have += k;
      const records = (have / perRecord) | 0;
      readRecords(localLanes, records, expectSeq, tally);
      expectSeq += records;
      got += records;
      const used = records * perRecord;
      if (used < have) local.copyWithin(0, used, have);
      have -= used;
    }
    const tEnd = clock();
    const sumOk = tally.sum === expectedSum(first, got);
    return { tEnd, delivered: got, lost: 0, bad: tally.bad, sumOk, timedOut };
  },
});
