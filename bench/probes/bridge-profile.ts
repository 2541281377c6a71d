/**
 * Probe (not part of `bun run bench`): where the bridge and the replica spend
 * their time against raw publishing and a raw replay. Runs one case (argv[2]:
 * raw | rawh | bridge | replay | replica) ROUNDS times (default 5) over N
 * records (default 2,000,000) against a fresh nats-server, and prints per
 * round the wall rate, this process's CPU time per message (user/sys), its
 * page faults and context switches per message, and the server's CPU time
 * per message (from /proc). rawh sends the bridge's headers (built per
 * message); replay/replica consume a stream published once by rawh, the
 * replica into a log of REP_CAP records (default N). One case per process,
 * so CPU profiles stay apart:
 *
 *   bun bench/probes/bridge-profile.ts bridge
 *   bun --cpu-prof --cpu-prof-dir=/tmp/prof bench/probes/bridge-profile.ts bridge
 */
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager, type PubAck } from "@nats-io/jetstream";
import { AtomicLog } from "../../src/index.ts";
import { publish, replica } from "../../src/bridge/index.ts";
import { BridgeMessageHeaders } from "../../src/bridge/headers.ts";
import { Trade } from "../../src/generated/market.ts";
import { NatsServer } from "../../test/support/nats-server.ts";

const which = process.argv[2] ?? "bridge";
const N = Number(process.env.N ?? 2_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SEG = 1024;
const WINDOW = 32;
const server = await NatsServer.start();
const nc = await connect({ servers: server.url, noAsyncTraces: true });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: N, segmentCapacity: SEG });
for (let i = 0; i < N; i++) writer.append({ ts: i, id: i, price: 100 + (i % 100), qty: i % 7, side: i & 1 });
const payloads: Uint8Array[] = [];
{
  using cursor = log.cursor({ from: 0 });
  for (let span = cursor.take(); span.length > 0; span = cursor.take()) payloads.push(new Uint8Array(span.view.buffer, span.base, span.length * Trade.byteLength).slice());
}
const serverCpu = () => {
  const f = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // ms (USER_HZ 100)
};
const template = new BridgeMessageHeaders(Trade.name, Trade.fingerprint, SEG);
async function raw(subject: string, withHeaders: boolean) {
  const inflight: Promise<PubAck>[] = [];
  let first = 0;
  for (let i = 0; i < payloads.length; i++) {
    if (inflight.length >= WINDOW) await inflight.shift();
    const p = payloads[i]!;
    if (withHeaders) {
      const h = template.message(first, p.byteLength / Trade.byteLength, 0, i);
      inflight.push(js.publish(subject, p, { headers: h }));
    } else inflight.push(js.publish(subject, p));
    first += p.byteLength / Trade.byteLength;
  }
  await Promise.all(inflight);
}
const consuming = which === "replica" || which === "replay";
if (consuming) {
  await jsm.streams.add({ name: "SRC", subjects: ["src"], duplicate_window: 120e9 });
  await raw("src", true);
}
for (let r = 0; r < ROUNDS; r++) {
  const stream = consuming ? "SRC" : `S${r}`;
  if (!consuming) await jsm.streams.add({ name: stream, subjects: [stream.toLowerCase()], duplicate_window: 120e9 });
  const local = which === "replica" ? AtomicLog.create(Trade, { retainedCapacity: Number(process.env.REP_CAP ?? N), segmentCapacity: SEG }) : null;
  const f0 = process.resourceUsage();
  const c0 = process.cpuUsage();
  const s0 = serverCpu();
  const t0 = performance.now();
  if (which === "replica") {
    const rep = await replica(Trade, { connection: nc, stream, log: local! });
    if (!(await rep.waitFor(N, 120_000))) throw new Error("replica did not catch up");
    await rep.close();
  } else if (which === "replay") {
    const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 64, expires: 5000 });
    for await (const m of messages) if (m.seq >= payloads.length) break;
    await messages.close();
  } else if (which === "bridge") {
    const b = await publish(log, { connection: nc, stream, subject: stream.toLowerCase(), from: 0, maxInFlight: WINDOW });
    await b.stop();
    if (b.stats().ackedSequence !== N) throw new Error("short");
  } else await raw(stream.toLowerCase(), which === "rawh");
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const f1 = process.resourceUsage();
  const faults = (f1.minorPageFault - f0.minorPageFault) / payloads.length;
  const csw = (f1.voluntaryContextSwitches + f1.involuntaryContextSwitches - f0.voluntaryContextSwitches - f0.involuntaryContextSwitches) / payloads.length;
  const s = serverCpu() - s0;
  const msgs = payloads.length;
  console.log(`${which} r${r}: ${((N / ms) / 1e3).toFixed(2)} M rec/s, client CPU ${((c.user + c.system) / msgs).toFixed(1)} µs/msg (user ${(c.user / msgs).toFixed(0)}, sys ${(c.system / msgs).toFixed(0)}) (${(((c.user + c.system) / 1000) / ms * 100).toFixed(0)}% of wall), faults ${faults.toFixed(1)}/msg, ctx switches ${csw.toFixed(2)}/msg, server CPU ${((s * 1000) / msgs).toFixed(1)} µs/msg, wall ${(ms * 1000 / msgs).toFixed(1)} µs/msg`);
  local?.close();
  if (!consuming) await jsm.streams.delete(stream);
}
writer.release();
await nc.close();
await server.stop();
