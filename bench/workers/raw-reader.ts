/**
 * Raw shared-memory ceiling, reader side (see raw-writer.ts): takes everything
 * published, in runs of consecutive slots (no `%` per record), and reads and
 * checks every record exactly as the log's readers do: `ts` must equal the
 * record's sequence number, and the other four fields are summed. Like the
 * log's readers it spins `spins` empty polls when caught up, then parks (here
 * a blocking `Atomics.wait` on the count, 5 ms at most) so that idle readers
 * leave the CPU to the writer.
 */
import { sharedClock } from "./clock.ts";
import { COUNT, WAITERS } from "./raw-control.ts";
import { type Tally, expectedSum } from "./records.ts";
import { reply, serve } from "./serve.ts";

let f64: Float64Array;
let u32: Uint32Array;
let u8: Uint8Array;
let ctl: Int32Array;
let slots = 0;
let clock: () => number;
/** Next sequence number to read, and its slot. */
let next = 0;
let pos = 0;
const tally: Tally = { sum: 0, bad: 0 };

/** Reads and checks records `s0 .. s0 + run - 1` at slots `p0 ..` (no wrap inside). */
function readRun(p0: number, s0: number, run: number): void {
  let sum = 0;
  let bad = 0;
  for (let k = 0; k < run; k++) {
    const r = p0 + k;
    if (f64[r * 4] !== s0 + k) bad++;
    sum += u32[r * 8 + 2]! + f64[r * 4 + 2]! + u32[r * 8 + 6]! + u8[r * 32 + 28]!;
  }
  tally.sum += sum;
  tally.bad += bad;
}

serve({
  init(msg: { ring: SharedArrayBuffer; control: SharedArrayBuffer; mainOrigin: number }) {
    clock = sharedClock(msg.mainOrigin);
    f64 = new Float64Array(msg.ring);
    u32 = new Uint32Array(msg.ring);
    u8 = new Uint8Array(msg.ring);
    ctl = new Int32Array(msg.control);
    slots = msg.ring.byteLength / 32;
  },
  round(msg: { n: number; timeoutMs: number; spins: number }) {
    const deadline = performance.now() + msg.timeoutMs;
    const first = next;
    const end = first + msg.n;
    tally.sum = 0;
    tally.bad = 0;
    let parks = 0;
    let idle = 0;
    let timedOut = false;
    reply({ type: "armed" });
    while (next < end) {
      const published = Atomics.load(ctl, COUNT);
      const avail = published < end ? published : end;
      if (avail === next) {
        if (++idle < msg.spins) continue;
        idle = 0;
        if (performance.now() > deadline) {
          timedOut = true;
          break;
        }
        Atomics.store(ctl, WAITERS, 1);
        Atomics.wait(ctl, COUNT, next, 5);
        parks++;
        continue;
      }
      idle = 0;
      while (next < avail) {
        const room = slots - pos;
        const run = avail - next < room ? avail - next : room;
        readRun(pos, next, run);
        next += run;
        pos += run;
        if (pos === slots) pos = 0;
      }
    }
    const tEnd = clock();
    const delivered = next - first;
    return { tEnd, delivered, lost: 0, bad: tally.bad, sumOk: tally.sum === expectedSum(first, delivered), parks, timedOut };
  },
});
