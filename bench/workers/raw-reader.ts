/**
 * Raw shared-memory ceiling, reader side: spins on the published count and
 * reads and checks every field with plain typed-array loads (see raw-writer.ts).
 */
import { sharedClock } from "./clock.ts";
import { expectedSum } from "./records.ts";
import { reply, serve } from "./serve.ts";

let f64: Float64Array;
let u32: Uint32Array;
let u8: Uint8Array;
let count: Int32Array;
let slots = 0;
let clock: () => number;
let next = 0;

serve({
  init(msg: { ring: SharedArrayBuffer; count: SharedArrayBuffer; mainOrigin: number }) {
    clock = sharedClock(msg.mainOrigin);
    f64 = new Float64Array(msg.ring);
    u32 = new Uint32Array(msg.ring);
    u8 = new Uint8Array(msg.ring);
    count = new Int32Array(msg.count);
    slots = msg.ring.byteLength / 32;
  },
  round(msg: { n: number; timeoutMs: number }) {
    const deadline = performance.now() + msg.timeoutMs;
    const first = next;
    const end = first + msg.n;
    let sum = 0;
    let bad = 0;
    let timedOut = false;
    reply({ type: "armed" });
    for (let spins = 0; next < end; ) {
      const avail = Math.min(Atomics.load(count, 0), end);
      if (avail === next) {
        if ((++spins & 1023) === 0 && performance.now() > deadline) {
          timedOut = true;
          break;
        }
        continue;
      }
      for (let s = next; s < avail; s++) {
        const r = s % slots;
        if (f64[r * 4] !== s) bad++;
        sum += u32[r * 8 + 2]! + f64[r * 4 + 2]! + u32[r * 8 + 6]! + u8[r * 32 + 28]!;
      }
      next = avail;
    }
    const tEnd = clock();
    const delivered = next - first;
    return { tEnd, delivered, lost: 0, bad, sumOk: sum === expectedSum(first, delivered), timedOut };
  },
});
