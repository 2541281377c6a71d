/**
 * Latency writer: publishes one timestamped record at a time (through the log
 * or a baseline), then waits for the reader's ack before the next, spacing
 * appends by a short busy-wait (spin modes) or a random sleep (wake modes).
 * The timestamp is this worker's `performance.now()` taken just before the
 * append; the reader maps its own clock onto it with the synced offset.
 * It also records the round trip (append to ack) as a cross-check.
 */
import { AtomicLog, type Writer } from "../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../../src/generated/market.ts";
import { spinUntil, syncLeader } from "./clock.ts";
import { F, type LatencyRound, W, isWakeMode } from "./latency-control.ts";
import { serve } from "./serve.ts";

let writer: Writer<TradeView, TradeData>;
let i32: Int32Array;
let f64: Float64Array;
let port: MessagePort;

function uniform([lo, hi]: [number, number]): number {
  return lo + Math.random() * (hi - lo);
}

/** Waits for ack `k`: spinning in spin modes, parked on Atomics.wait in wake modes (so both threads idle). */
function waitAck(k: number, wake: boolean, deadline: number): void {
  if (!wake) return spinUntil(() => Atomics.load(i32, W.ACK) >= k, deadline, `reader ack ${k}`);
  while (Atomics.load(i32, W.ACK) < k) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`latency writer: timed out waiting for reader ack ${k}`);
    Atomics.wait(i32, W.ACK, k - 1, left);
  }
}

function publish(mode: LatencyRound["mode"], k: number): number {
  const t = performance.now();
  if (mode === "log-spin" || mode === "log-ready") {
    const v = writer.reserve();
    v.ts = t;
    v.id = k;
    v.price = k * 0.25;
    v.qty = k & 1023;
    v.side = k & 1;
    writer.commit();
  } else if (mode === "postmessage") {
    port.postMessage(t);
  } else {
    f64[F.RAW_TS] = t;
    Atomics.store(i32, W.RAW_SEQ, k);
    if (mode === "raw-waitasync") Atomics.notify(i32, W.RAW_SEQ);
  }
  return t;
}

serve({
  init(msg) {
    i32 = new Int32Array(msg.control);
    f64 = new Float64Array(msg.control);
    port = msg.port;
    const w = AtomicLog.attach(Trade, msg.handle).tryClaimWriter();
    if (w === null) throw new Error("latency writer: the writer claim is already taken");
    writer = w;
  },
  round(msg: LatencyRound) {
    const deadline = performance.now() + msg.timeoutMs;
    const sync = syncLeader(i32, f64, 2000, deadline);
    const wake = isWakeMode(msg.mode);
    const total = msg.warmup + msg.samples;
    const rtt = new Float64Array(msg.samples);
    for (let k = 1; k <= total; k++) {
      if (wake) Atomics.wait(i32, W.IDLE, 0, uniform(msg.idleUs) / 1000);
      else {
        const until = performance.now() + uniform(msg.gapUs) / 1000;
        while (performance.now() < until);
      }
      const t = publish(msg.mode, k);
      waitAck(k, wake, deadline);
      if (k > msg.warmup) rtt[k - msg.warmup - 1] = performance.now() - t;
    }
    return { rtt, syncRtt: sync.rtt, theta: sync.theta };
  },
});
