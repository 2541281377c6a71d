/**
 * Child process of bench/durable.bench.ts, killed with SIGKILL by the parent
 * once it has printed its line, so every open it measures follows a real
 * crash. `fill <n> <retained> <segment>`: opens (creating) the log in argv[2]
 * and appends n records. `open`: opens it and prints what recovery did.
 */
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";

const [dir, mode, n, retained, segment] = process.argv.slice(2) as [string, string, string, string, string];
if (mode === "fill") {
  const log = AtomicLog.open(Trade, dir, { retainedCapacity: Number(retained), segmentCapacity: Number(segment) });
  const w = log.tryClaimWriter()!;
  let left = Number(n);
  let i = 0;
  while (left > 0) {
    const span = w.reserveMany(Math.min(left, 4096));
    const v = span.view;
    const end = span.base + span.length * 32;
    for (let o = span.base; o < end; o += 32, i++) {
      v.byteOffset = o;
      v.ts = i;
      v.id = i;
      v.price = i * 0.5;
      v.qty = 1;
      v.side = i & 1;
    }
    left -= span.length;
    w.commit();
  }
  console.log("filled");
} else {
  const t = performance.now();
  const log = AtomicLog.open(Trade, dir);
  const ms = performance.now() - t;
  console.log(JSON.stringify({ ms, mode: log.recovery!.mode, next: log.recovery!.nextSequence }));
}
setInterval(() => {}, 1000);
