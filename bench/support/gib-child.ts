/**
 * Child process of bench/durable.bench.ts, killed with SIGKILL by the parent
 * once it has printed its line, so every open it measures follows a real
 * crash. `fill <n> <retained> <segment>`: opens (creating) the log in argv[2]
 * and appends n records. `open`: opens it and prints what recovery did.
 */
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { fillTrades } from "./fill.ts";

const [dir, mode, n, retained, segment] = process.argv.slice(2) as [string, string, string, string, string];
if (mode === "fill") {
  const log = AtomicLog.open(Trade, dir, { retainedCapacity: Number(retained), segmentCapacity: Number(segment) });
  fillTrades(log.tryClaimWriter()!, Number(n), 0, () => 1);
  console.log("filled");
} else {
  const t = performance.now();
  const log = AtomicLog.open(Trade, dir);
  const ms = performance.now() - t;
  console.log(JSON.stringify({ ms, mode: log.recovery!.mode, next: log.recovery!.nextSequence }));
}
setInterval(() => {}, 1000);
