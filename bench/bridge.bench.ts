/**
 * The NATS JetStream bridge against the same client used raw, in the same run
 * (issue 11, Speed). A real nats-server (Debian package) on loopback, its
 * store in the OS temp dir; 32-byte Trade records in segments of 1024, so
 * full runs are 32 KiB messages.
 *
 * Per round, interleaved:
 * - raw publish: the log's bytes, pre-cut into the same 1024-record messages,
 *   sent with `js.publish` and the same window of 32 unacknowledged messages,
 *   no headers: the ceiling for any publisher on this client and server;
 * - bridge: `publish(log)` over the same, already written, records, from the
 *   first one until the last is acknowledged. Target >= 0.8x raw;
 * - replay: an ordered consumer reading the bridge's whole stream (headers
 *   parsed, bytes touched): the stream's replay rate;
 * - replica: `replica()` applying the same stream into a log in memory.
 *   Target >= 0.8x replay.
 * Then once: live latency at 100 k rec/s (100 records every ms), from append
 * to readable in the replica's log, everything in this one process (writer,
 * bridge, replica and the reader share one event loop). Target p50 <= 1 ms.
 *
 *   bun bench/bridge.bench.ts        (BENCH_QUICK=1 for a short run)
 */
import { writeFileSync } from "node:fs";
import { connect, headers } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager, type PubAck } from "@nats-io/jetstream";
import { AtomicLog } from "../src/index.ts";
import { BridgeHeaders, publish, readMeta, replica } from "../src/bridge/index.ts";
import { Trade } from "../src/generated/market.ts";
import { NatsServer, natsSkipReason } from "../test/support/nats-server.ts";
import { median, percentile } from "./support/report.ts";

const quick = process.env.BENCH_QUICK === "1";
const N = quick ? 500_000 : 2_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 2 : 5));
const SEG = 1024;
const WINDOW = 32;

if (natsSkipReason !== null) {
  console.log(`SKIPPED: ${natsSkipReason}`);
  if (process.env.BENCH_MARKDOWN) writeFileSync(process.env.BENCH_MARKDOWN, `SKIPPED: ${natsSkipReason}\n`);
  process.exit(0);
}

const server = await NatsServer.start();
const nc = await connect({ servers: server.url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);

// The source: N records written once, read by every round.
const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: N, segmentCapacity: SEG });
for (let i = 0; i < N; i++) writer.append({ ts: i, id: i, price: 100 + (i % 100), qty: i % 7, side: i & 1 });
const payloads: Uint8Array[] = [];
{
  using cursor = log.cursor({ from: 0 });
  for (let span = cursor.take(); span.length > 0; span = cursor.take()) {
    payloads.push(new Uint8Array(span.view.buffer, span.base, span.length * Trade.byteLength).slice());
  }
}

const rate = (records: number, ms: number) => (records / ms) * 1000;
const fmt = (r: number) => `${(r / 1e6).toFixed(2)} M rec/s`;

async function rawPublish(subject: string): Promise<number> {
  const t0 = performance.now();
  const inflight: Promise<PubAck>[] = [];
  for (const p of payloads) {
    if (inflight.length >= WINDOW) await inflight.shift();
    inflight.push(js.publish(subject, p));
  }
  await Promise.all(inflight);
  return rate(N, performance.now() - t0);
}

/** Raw again, with what the bridge adds on the wire: its six headers, a message id and an expected last sequence (checked by the server). */
async function rawWithHeaders(subject: string): Promise<number> {
  const t0 = performance.now();
  const inflight: Promise<PubAck>[] = [];
  let first = 0;
  for (let i = 0; i < payloads.length; i++) {
    if (inflight.length >= WINDOW) await inflight.shift();
    const p = payloads[i]!;
    const h = headers();
    h.set(BridgeHeaders.Record, Trade.name);
    h.set(BridgeHeaders.Fingerprint, Trade.fingerprint);
    h.set(BridgeHeaders.Sequence, String(first));
    h.set(BridgeHeaders.Count, String(p.byteLength / Trade.byteLength));
    h.set(BridgeHeaders.Lost, "0");
    h.set(BridgeHeaders.SegmentCapacity, String(SEG));
    inflight.push(js.publish(subject, p, { headers: h, msgID: `${Trade.fingerprint}:${first}`, expect: { lastSequence: i } }));
    first += p.byteLength / Trade.byteLength;
  }
  await Promise.all(inflight);
  return rate(N, performance.now() - t0);
}

async function bridged(stream: string): Promise<number> {
  const t0 = performance.now();
  const bridge = await publish(log, { connection: nc, stream, subject: stream.toLowerCase(), from: 0, maxInFlight: WINDOW });
  while (bridge.stats().ackedSequence < N) await Bun.sleep(1);
  const ms = performance.now() - t0;
  await bridge.stop();
  return rate(N, ms);
}

async function replay(stream: string): Promise<number> {
  const t0 = performance.now();
  const { state } = await jsm.streams.info(stream);
  const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 64, expires: 5000 });
  let records = 0;
  let bytes = 0;
  for await (const m of messages) {
    records += readMeta(m.headers).count;
    bytes += m.data[m.data.length - 1]!;
    if (m.seq >= state.last_seq) break;
  }
  await messages.close();
  if (records !== N || bytes < 0) throw new Error(`replay read ${records} records`);
  return rate(N, performance.now() - t0);
}

async function replicated(stream: string): Promise<number> {
  const t0 = performance.now();
  const rep = await replica(Trade, { connection: nc, stream, open: { retainedCapacity: N, segmentCapacity: SEG } });
  if (!(await rep.waitFor(N, 120_000))) throw new Error("replica did not catch up");
  const ms = performance.now() - t0;
  await rep.close();
  return rate(N, ms);
}

const raw: number[] = [];
const rawH: number[] = [];
const bridge: number[] = [];
const rep: number[] = [];
const rp: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const rawStream = `RAW${r}`;
  await jsm.streams.add({ name: rawStream, subjects: [rawStream.toLowerCase()] });
  raw.push(await rawPublish(rawStream.toLowerCase()));
  await jsm.streams.delete(rawStream);
  await jsm.streams.add({ name: rawStream, subjects: [rawStream.toLowerCase()] });
  rawH.push(await rawWithHeaders(rawStream.toLowerCase()));
  await jsm.streams.delete(rawStream);
  const stream = `BRIDGE${r}`;
  bridge.push(await bridged(stream));
  rp.push(await replay(stream));
  rep.push(await replicated(stream));
  await jsm.streams.delete(stream);
  console.log(`round ${r + 1}: raw ${fmt(raw[r]!)}, raw with headers ${fmt(rawH[r]!)}, bridge ${fmt(bridge[r]!)}, replay ${fmt(rp[r]!)}, replica ${fmt(rep[r]!)}`);
}

// Live latency: 100 records per ms; each record's ts is performance.now() at its append.
const liveLog = AtomicLog.create(Trade, { retainedCapacity: 1 << 20, segmentCapacity: SEG });
const liveWriter = liveLog.tryClaimWriter()!;
const liveBridge = await publish(liveLog, { connection: nc, stream: "LIVE", subject: "live", from: "latest" });
const liveReplica = await replica(Trade, { connection: nc, stream: "LIVE", open: { retainedCapacity: 1 << 20, segmentCapacity: SEG } });
const latencies: number[] = [];
const cursor = liveReplica.log.cursor({ from: 0 });
let reading = true;
const reader = (async () => {
  while (reading) {
    cursor.poll((v) => {
      latencies.push(performance.now() - v.ts);
    });
    await cursor.ready(50);
  }
})();
const liveMs = quick ? 1000 : 3000;
const tEnd = performance.now() + liveMs;
let id = 0;
const tStart = performance.now();
// Timers fire at most every ms and often later: each tick appends what 100 k rec/s owes by now.
const ticker = setInterval(() => {
  const owed = Math.min(tEnd, performance.now()) - tStart;
  while (id < owed * 100) liveWriter.append({ ts: performance.now(), id: id++, price: 1, qty: 1, side: 0 });
}, 1);
while (performance.now() < tEnd) await Bun.sleep(50);
clearInterval(ticker);
await liveReplica.waitFor(liveWriter.nextSequence, 10_000);
await Bun.sleep(20);
reading = false;
await reader;
cursor.release();
const liveRate = rate(liveWriter.nextSequence, liveMs);
await liveBridge.stop();
await liveReplica.close();

const ratios = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
const spread = (v: number[]) => `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;
const bridgeRatio = ratios(bridge, raw);
const bridgeRatioH = ratios(bridge, rawH);
const replicaRatio = ratios(rep, rp);
const lines = [
  `NATS JetStream on loopback (nats-server ${(nc.info?.version ?? "?")}), ${N.toLocaleString("en")} Trade records of 32 bytes, segments of ${SEG} (32 KiB messages at full runs), ${WINDOW} messages in flight, ${ROUNDS} rounds.`,
  ``,
  `| case | median | ratio [spread over rounds] | target |`,
  `|---|---|---|---|`,
  `| raw \`js.publish\` of the same runs | ${fmt(median(raw))} | baseline | |`,
  `| raw, with the bridge's headers, message ids and expectations | ${fmt(median(rawH))} | ${median(ratios(rawH, raw)).toFixed(2)}x raw [${spread(ratios(rawH, raw))}] | |`,
  `| bridge \`publish(log)\` | ${fmt(median(bridge))} | ${median(bridgeRatio).toFixed(2)}x raw [${spread(bridgeRatio)}]; ${median(bridgeRatioH).toFixed(2)}x raw with headers [${spread(bridgeRatioH)}] | >= 0.8x raw: ${median(bridgeRatio) >= 0.8 ? "met" : "**not met**"} |`,
  `| replay (ordered consumer) | ${fmt(median(rp))} | baseline | |`,
  `| \`replica()\` apply | ${fmt(median(rep))} | ${median(replicaRatio).toFixed(2)}x replay [${spread(replicaRatio)}] | >= 0.8x replay: ${median(replicaRatio) >= 0.8 ? "met" : "**not met**"} |`,
  `| live, append → readable in the replica, at ${(liveRate / 1e3).toFixed(0)} k rec/s, p50 / p99 | ${median(latencies).toFixed(2)} / ${percentile(latencies, 0.99).toFixed(2)} ms | ${latencies.length.toLocaleString("en")} records | p50 <= 1 ms: ${median(latencies) <= 1 ? "met" : "**not met**"} |`,
];
console.log(`\n${lines.join("\n")}`);
if (process.env.BENCH_MARKDOWN) writeFileSync(process.env.BENCH_MARKDOWN, `${lines.join("\n")}\n`);
writer.release();
liveWriter.release();
await nc.close();
await server.stop();
