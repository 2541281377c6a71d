/**
 * The cluster demo's writer process (host A): a log in memory, a writer
 * appending ticks at a steady rate, and the bridge publishing them to
 * JetStream. The bridge reads through a gated cursor and the writer uses
 * `tryReserve`, which refuses rather than lap it: the demo's final check is
 * that nothing was lost, so a writer faster than the bridge is held back
 * instead (a real feed would use plain `append` and let `stats().lost` count
 * what a slow bridge missed). Reads commands on stdin: "start" starts
 * writing, "stop" stops, drains the bridge and reports.
 *
 *   bun examples/cluster/writer.ts nats://127.0.0.1:4222 <ticks per second>
 */
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { AtomicLog } from "../../src/index.ts";
import { publish } from "../../src/bridge/index.ts";
import { Tick } from "../../src/generated/market.ts";
import { GEOMETRY, STREAM, SUBJECT, fillTick, now, report } from "./ticks.ts";

const url = process.argv[2]!;
const rate = Number(process.argv[3] ?? 500_000);
const nc = await connect({ servers: url, name: "cluster demo writer" });
const [writer, log] = AtomicLog.newClaimed(Tick, GEOMETRY);
const bridge = await publish(log, { connection: nc, stream: STREAM, subject: SUBJECT, gated: true });

const { promise: start, resolve: started } = Promise.withResolvers<void>();
let stopping = false;
void (async () => {
  for await (const line of console) {
    if (line === "start") started();
    if (line === "stop") break;
  }
  started();
  stopping = true;
})();

const progress = setInterval(() => {
  const s = bridge.stats();
  report({ role: "writer", type: "progress", at: now(), written: writer.nextSequence, published: s.ackedSequence, lost: s.lost, inFlight: s.inFlight });
}, 50);

// Report at once that the bridge is up (the stream exists), then wait for the go.
report({ role: "writer", type: "progress", at: now(), written: 0, published: 0, lost: 0, inFlight: 0 });
await start;
const began = performance.now();
// Up to 4096 ticks at a time, as many as the rate allows by now, then a turn of the event loop
// for the bridge (it runs on this thread).
while (!stopping) {
  const due = Math.min(4096, Math.floor((rate * (performance.now() - began)) / 1000) - writer.nextSequence);
  let n = 0;
  for (; n < due; n++) {
    const v = writer.tryReserve();
    if (v === null) break; // the bridge is a whole window behind: let it catch up
    fillTick(v, writer.nextSequence - 1);
  }
  writer.commit();
  if (n < 4096) await Bun.sleep(1);
  else await new Promise((resolve) => setImmediate(resolve));
}
clearInterval(progress);

const final = await bridge.stop({ timeoutMs: 30_000 });
const info = await (await jetstreamManager(nc)).streams.info(STREAM);
report({
  role: "writer",
  type: "done",
  written: writer.nextSequence,
  published: final.ackedSequence,
  lost: final.lost,
  errors: final.errors,
  stream: { messages: info.state.messages, bytes: info.state.bytes, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq },
  limitsWarning: final.limitsWarning,
});
writer.release();
await nc.close();
