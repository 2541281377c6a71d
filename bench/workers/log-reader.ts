/**
 * Throughput reader over the log: a tailing cursor that drains everything
 * available with `take()` (the documented fastest form: one span per run of
 * records, read with manual offsets), reading and checking every field of every record;
 * spins a little when it is caught up, then parks in `ready()` so that idle
 * readers leave the CPU to the writer (2 vCPUs, up to 4 busy threads).
 */
import { AtomicLog, type Cursor, type ReadSpan } from "../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../../src/generated/market.ts";
import { sharedClock } from "./clock.ts";
import { type Tally, expectedSum } from "./records.ts";
import { reply, serve } from "./serve.ts";

let cursor: Cursor<TradeView, TradeData>;
let clock: () => number;
// Accumulate into an object's fields, not module-level `let`s: in Bun, a poll
// handler that updates module-level bindings ran at ~90 M rec/s here against
// ~150 M rec/s for the same handler updating object fields.
const tally: Tally = { sum: 0, bad: 0 };

/**
 * Reads and checks every record of a span. A plain function on purpose: the
 * same loop written inside the async `round()` below ran ~5x slower, because
 * Bun optimizes loops in async (generator) bodies far less.
 */
function consume(span: ReadSpan<TradeView>): void {
  const v = span.view;
  const step = span.recordBytes;
  const end = span.base + span.length * step;
  let seq = span.startSequence;
  for (let o = span.base; o < end; o += step, seq++) {
    v.byteOffset = o;
    if (v.ts !== seq) tally.bad++;
    tally.sum += v.id + v.price + v.qty + v.side;
  }
}

serve({
  init(msg) {
    clock = sharedClock(msg.mainOrigin);
    cursor = AtomicLog.attach(Trade, msg.handle).cursor({ from: "latest" });
  },
  async round(msg: { n: number; timeoutMs: number; spins: number }) {
    const c = cursor;
    const deadline = performance.now() + msg.timeoutMs;
    const first = c.sequence;
    const lost0 = c.lost;
    tally.sum = 0;
    tally.bad = 0;
    let got = 0;
    let idle = 0;
    let parks = 0;
    let timedOut = false;
    reply({ type: "armed" });
    while (got + (c.lost - lost0) < msg.n) {
      const span = c.take(msg.n - got - (c.lost - lost0));
      const k = span.length;
      if (k > 0) {
        consume(span);
        got += k;
        idle = 0;
        continue;
      }
      if (++idle < msg.spins) continue;
      idle = 0;
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
      parks++;
      await c.ready(5);
    }
    const tEnd = clock();
    const lost = c.lost - lost0;
    // Checked after timing. With a lap the delivered records are not contiguous, so only `bad` applies.
    const sumOk = lost > 0 || tally.sum === expectedSum(first, got);
    return { tEnd, delivered: got, lost, bad: tally.bad, sumOk, parks, timedOut };
  },
});
