/**
 * Latency reader: takes each record the writer publishes, computes
 * `now - ts` on the writer's clock (its own `performance.now()` minus the
 * synced offset), and acks it. Spin modes spin on `cursor.tryNext()` /
 * `Atomics.load`; wake modes park in `cursor.ready()`, `Atomics.waitAsync`
 * or the MessagePort's event loop.
 */
import { AtomicLog, type Cursor } from "../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../../src/generated/market.ts";
import { spinUntil, syncFollower } from "./clock.ts";
import { F, type LatencyRound, W } from "./latency-control.ts";
import { reply, serve } from "./serve.ts";

let cursor: Cursor<TradeView, TradeData>;
let i32: Int32Array;
let f64: Float64Array;
let port: MessagePort;

function ack(k: number, notify: boolean): void {
  Atomics.store(i32, W.ACK, k);
  if (notify) Atomics.notify(i32, W.ACK);
}

function spinLog(k: number, deadline: number): TradeView {
  for (let i = 0; ; i++) {
    const v = cursor.tryNext();
    if (v !== null) return v;
    if ((i & 4095) === 0 && performance.now() > deadline) throw new Error(`latency reader: record ${k} never arrived`);
  }
}

function check(k: number, id: number): void {
  if (id !== k) throw new Error(`latency reader: expected record ${k}, got ${id}`);
}

async function runRound(msg: LatencyRound, theta: number, deadline: number, lat: Float64Array): Promise<number> {
  const total = msg.warmup + msg.samples;
  let early = 0; // wake modes: samples where the record was already there before parking
  const keep = (k: number, t: number, ts: number) => {
    if (k > msg.warmup) lat[k - msg.warmup - 1] = t - theta - ts;
  };
  if (msg.mode === "postmessage") {
    let k = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`latency reader: message ${k + 1} never arrived`)), deadline - performance.now());
      port.onmessage = (e) => {
        const t = performance.now();
        keep(++k, t, e.data as number);
        ack(k, true);
        if (k === total) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    port.onmessage = null;
    return early;
  }
  for (let k = 1; k <= total; k++) {
    const left = deadline - performance.now();
    if (msg.mode === "log-spin") {
      const v = spinLog(k, deadline);
      const t = performance.now();
      keep(k, t, v.ts);
      check(k, v.id);
      ack(k, false);
    } else if (msg.mode === "raw-spin") {
      spinUntil(() => Atomics.load(i32, W.RAW_SEQ) === k, deadline, `raw sample ${k}`);
      keep(k, performance.now(), f64[F.RAW_TS]!);
      ack(k, false);
    } else if (msg.mode === "log-ready") {
      if (cursor.hasNext()) early++;
      if (!(await cursor.ready(left))) throw new Error(`latency reader: ready() timed out waiting for record ${k}`);
      const t = performance.now();
      const v = cursor.tryNext();
      if (v === null) throw new Error(`latency reader: ready() resolved but tryNext() returned null at record ${k}`);
      keep(k, t, v.ts);
      check(k, v.id);
      ack(k, true);
    } else {
      if (Atomics.load(i32, W.RAW_SEQ) >= k) early++;
      const r = Atomics.waitAsync(i32, W.RAW_SEQ, k - 1, left);
      if (r.async && (await r.value) === "timed-out") throw new Error(`latency reader: waitAsync timed out at ${k}`);
      const t = performance.now();
      keep(k, t, f64[F.RAW_TS]!);
      ack(k, true);
    }
  }
  return early;
}

serve({
  init(msg) {
    i32 = new Int32Array(msg.control);
    f64 = new Float64Array(msg.control);
    port = msg.port;
    cursor = AtomicLog.attach(Trade, msg.handle).cursor({ from: "latest" });
  },
  async round(msg: LatencyRound) {
    const deadline = performance.now() + msg.timeoutMs;
    reply({ type: "armed" });
    const theta = syncFollower(i32, f64, 2000, deadline);
    const lat = new Float64Array(msg.samples);
    const early = await runRound(msg, theta, deadline, lat);
    return { lat, early };
  },
});
