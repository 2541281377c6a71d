/**
 * Message-passing baselines, writer side. Fills batches of {@link BATCH}
 * records into an ArrayBuffer and either
 * - "transfer": posts each batch on a MessagePort with the buffer transferred
 *   (a fresh buffer per batch, since a transferred one is gone), or
 * - "broadcast": posts each batch to a BroadcastChannel (cloned per receiver,
 *   so one staging buffer is reused).
 */
import { sharedClock } from "./clock.ts";
import { BATCH, RECORD_BYTES, fillRecords, lanes } from "./records.ts";
import { serve } from "./serve.ts";

let mode: "transfer" | "broadcast";
let port: MessagePort | null = null;
let channel: BroadcastChannel | null = null;
let clock: () => number;
let seq = 0;
const staging = new ArrayBuffer(BATCH * RECORD_BYTES);
const stagingLanes = lanes(staging);

serve({
  init(msg) {
    clock = sharedClock(msg.mainOrigin);
    mode = msg.mode;
    if (mode === "transfer") port = msg.port;
    else channel = new BroadcastChannel(msg.channel);
  },
  round(msg: { n: number }) {
    const first = seq;
    const t0 = clock();
    for (let left = msg.n; left > 0; ) {
      const count = left < BATCH ? left : BATCH;
      if (mode === "transfer") {
        const buf = new ArrayBuffer(count * RECORD_BYTES);
        fillRecords(lanes(buf), count, seq);
        port!.postMessage(buf, [buf]);
      } else {
        fillRecords(stagingLanes, count, seq);
        channel!.postMessage(count === BATCH ? staging : staging.slice(0, count * RECORD_BYTES));
      }
      seq += count;
      left -= count;
    }
    return { t0, t1: clock(), first };
  },
});
