/**
 * Message-passing baselines, reader side: receives batches from a MessagePort
 * ("transfer") or a BroadcastChannel ("broadcast") and reads and checks every
 * field of every record, like the log readers.
 */
import { sharedClock } from "./clock.ts";
import { RECORD_BYTES, type Tally, expectedSum, lanes, readRecords } from "./records.ts";
import { reply, serve } from "./serve.ts";

let clock: () => number;
let expectSeq = 0;
let got = 0;
let target = 0;
let finish: (() => void) | null = null;
let tEnd = 0;
// Held so the channel is not collected while it listens.
let channel: BroadcastChannel | null = null;
const tally: Tally = { sum: 0, bad: 0 };

function onBatch(event: { data: unknown }): void {
  const buf = event.data as ArrayBuffer;
  const count = buf.byteLength / RECORD_BYTES;
  readRecords(lanes(buf), count, expectSeq, tally);
  expectSeq += count;
  got += count;
  if (got >= target && finish !== null) {
    tEnd = clock();
    finish();
  }
}

serve({
  init(msg) {
    clock = sharedClock(msg.mainOrigin);
    if (msg.mode === "transfer") (msg.port as MessagePort).onmessage = onBatch;
    else {
      channel = new BroadcastChannel(msg.channel);
      channel.onmessage = onBatch;
    }
  },
  async round(msg: { n: number; timeoutMs: number }) {
    const first = expectSeq;
    got = 0;
    target = msg.n;
    tally.sum = 0;
    tally.bad = 0;
    let timedOut = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timedOut = true;
        tEnd = clock();
        resolve();
      }, msg.timeoutMs);
      finish = () => {
        clearTimeout(timer);
        resolve();
      };
      reply({ type: "armed" });
    });
    finish = null;
    const sumOk = tally.sum === expectedSum(first, got);
    return { tEnd, delivered: got, lost: 0, bad: tally.bad, sumOk, timedOut };
  },
});
