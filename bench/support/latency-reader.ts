/**
 * Child process of bench/durable.bench.ts: opens the durable log in argv[2]
 * read-only and measures, for `count` records, the one-way latency from the
 * writer's append (its CLOCK_MONOTONIC time in nanoseconds, stored in the
 * record's `price`) to this process seeing the record, either
 * spinning on `tryNext()` or parked in `ready()` (woken by the doorbell).
 * Prints "ready" once its cursor is open, then one JSON line of latencies (ns).
 */
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { monoNs } from "./monotonic.ts";

const [dir, mode, countArg] = process.argv.slice(2) as [string, "spin" | "park", string];
const count = Number(countArg);
const log = AtomicLog.open(Trade, dir, { readOnly: true });
const cursor = log.cursor({ from: "latest" });
const out: number[] = [];
console.log("ready");
while (out.length < count) {
  let v = cursor.tryNext();
  if (v === null) {
    if (mode === "park") await cursor.ready(5000);
    else while ((v = cursor.tryNext()) === null);
    if (v === null) v = cursor.tryNext();
    if (v === null) continue;
  }
  out.push(monoNs() - v.price);
}
cursor.release();
log.close();
console.log(JSON.stringify(out));
