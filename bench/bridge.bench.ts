/**
 * The NATS JetStream bridge against the same client used raw, in the same run
 * (issue 11, Speed). A real nats-server (Debian package) on loopback, its
 * store in the OS temp dir; 32-byte Trade records in segments of 1024, so
 * full runs are 32 KiB messages.
 *
 * Per round, in an order that rotates from round to round (so drift and
 * warm-up hit every case alike), each into a fresh stream created before the
 * clock starts:
 * - raw: the log's bytes, pre-cut into the same 1024-record messages, sent
 *   with `js.publish` and the same window of 32 unacknowledged messages (a
 *   new publish as soon as the oldest is acknowledged, as `nats bench js pub`
 *   does with its batch window), no headers of ours: the ceiling for any
 *   publisher of this job on this client and server;
 * - raw with the bridge's headers: the same, each message with the headers a
 *   bridge sends (its six, `Nats-Msg-Id` and `Nats-Expected-Last-Sequence`),
 *   all built before the clock starts: what the wire bytes and the server's
 *   checks of ids and expectations cost, without any work of ours;
 * - bridge: `publish(log)` over the same, already written, records, from the
 *   start until `stop()` has drained them (every record acknowledged).
 *   Target >= 0.8x raw;
 * then, on the bridge's stream:
 * - replay: an ordered consumer reading the whole stream doing nothing with
 *   the messages (the stream's replay rate on this client);
 * - replica: `replica()` applying the same stream into a log in memory
 *   (created before the clock starts) holding the whole stream (64 MiB, so
 *   every 32 KiB copied lands in memory that is not in cache). Target >= 0.8x
 *   replay. For information, the same into a log of 65,536 records (a 2 MiB
 *   window: its segments are reused, so the copies land in cache);
 * Each case also reports CPU time per message: this process's (client,
 * bridge, replica) and the nats-server's (from /proc), medians over rounds:
 * on a shared machine a process's CPU time per message is steadier than its
 * wall-clock rate, and it says whose work a difference is.
 * Then once: live latency at 100 k rec/s (100 records every ms), from append
 * to readable in the replica's log, everything in this one process (writer,
 * bridge, replica and the reader share one event loop). Target p50 <= 1 ms.
 *
 * One connection for every case, with the client's async stack traces off.
 *
 * Writes bench/results/bridge.md (a quick run: bridge.md.quick.tmp).
 *
 *   bun bench/bridge.bench.ts        (BENCH_QUICK=1 for a short run, BENCH_ROUNDS=n)
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager, type PubAck } from "@nats-io/jetstream";
import { AtomicLog } from "../src/index.ts";
import { publish, replica } from "../src/bridge/index.ts";
import { BridgeMessageHeaders } from "../src/bridge/headers.ts";
import { Trade } from "../src/generated/market.ts";
import { NatsServer, natsSkipReason } from "../test/support/nats-server.ts";
import { median, percentile, perRound, printTable, range, stats, type Row } from "./support/report.ts";

const quick = process.env.BENCH_QUICK === "1";
const N = quick ? 500_000 : 2_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 3 : 11));
const SEG = 1024;
const WINDOW = 32;

if (natsSkipReason !== null) {
  console.log(`SKIPPED: ${natsSkipReason}`);
  if (process.env.BENCH_MARKDOWN) writeFileSync(process.env.BENCH_MARKDOWN, `SKIPPED: ${natsSkipReason}\n`);
  process.exit(0);
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const load0 = loadavg();
const server = await NatsServer.start();
// noAsyncTraces: the client otherwise makes an Error (for its stack) per request and per
// timer, for every case alike; the fastest honest raw publisher would turn it off.
const nc = await connect({ servers: server.url, noAsyncTraces: true });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);

/** The server's CPU time so far, in µs (utime + stime from /proc, USER_HZ = 100). */
function serverCpuUs(): number {
  const f = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 1e4;
}

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
const M = payloads.length;

/** One measurement: records per second, and CPU µs per message of this process and of the server. */
interface Sample {
  rate: number;
  clientUs: number;
  serverUs: number;
}
/** Times `run` (which handles all M messages of the job), with both processes' CPU time. */
async function timed(run: () => Promise<void>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const s0 = serverCpuUs();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { rate: (N / ms) * 1000, clientUs: (c.user + c.system) / M, serverUs: (serverCpuUs() - s0) / M };
}

async function rawPublish(subject: string, withHeaders: boolean): Promise<Sample> {
  // The bridge's headers for every message, built before the clock starts (the same bytes it sends).
  const template = new BridgeMessageHeaders(Trade.name, Trade.fingerprint, SEG);
  const hdrs = withHeaders ? payloads.map((p, i) => template.message(i * SEG, p.byteLength / Trade.byteLength, 0, i)) : null;
  if (hdrs) for (const h of hdrs) h.encode();
  return timed(async () => {
    const inflight: Promise<PubAck>[] = [];
    for (let i = 0; i < M; i++) {
      if (inflight.length >= WINDOW) await inflight.shift();
      inflight.push(hdrs ? js.publish(subject, payloads[i]!, { headers: hdrs[i]! }) : js.publish(subject, payloads[i]!));
    }
    const acks = await Promise.all(inflight);
    if (acks[acks.length - 1]!.seq !== M) throw new Error(`raw publish ended at stream sequence ${acks[acks.length - 1]!.seq}, not ${M}`);
  });
}

async function bridged(stream: string): Promise<Sample> {
  return timed(async () => {
    const bridge = await publish(log, { connection: nc, stream, subject: stream.toLowerCase(), from: 0, maxInFlight: WINDOW });
    const final = await bridge.stop(); // drains: publishes everything the log holds, waits for every acknowledgement
    if (final.ackedSequence !== N || final.messages !== M || final.resends !== 0) throw new Error(`bridge: ${JSON.stringify(final)}`);
  });
}

async function replay(stream: string): Promise<Sample> {
  return timed(async () => {
    const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 64, expires: 5000 });
    for await (const m of messages) if (m.seq >= M) break;
    await messages.close();
  });
}

async function replicated(stream: string, retainedCapacity = N): Promise<Sample> {
  // The local log is made before the clock starts, as the streams are: allocating and
  // pre-touching 64 MiB is not applying messages.
  const local = AtomicLog.create(Trade, { retainedCapacity, segmentCapacity: SEG });
  const sample = await timed(async () => {
    const rep = await replica(Trade, { connection: nc, stream, log: local });
    if (!(await rep.waitFor(N, 120_000))) throw new Error("replica did not catch up");
    await rep.close();
  });
  local.close();
  return sample;
}

const addStream = (name: string) => jsm.streams.add({ name, subjects: [name.toLowerCase()], duplicate_window: 120e9 });
const fmt = (r: number) => `${(r / 1e6).toFixed(2)} M rec/s`;
const SMALL = 1 << 16;
const results: Record<"raw" | "rawH" | "bridge" | "replay" | "replica" | "replicaSmall", Sample[]> = { raw: [], rawH: [], bridge: [], replay: [], replica: [], replicaSmall: [] };
const publishCases = ["raw", "rawH", "bridge"] as const;
const consumeCases = ["replay", "replica", "replicaSmall"] as const;
for (let r = 0; r < ROUNDS; r++) {
  const stream = `BRIDGE${r}`;
  for (let k = 0; k < publishCases.length; k++) {
    const which = publishCases[(k + r) % publishCases.length]!;
    if (which === "bridge") {
      await addStream(stream);
      results.bridge.push(await bridged(stream));
    } else {
      const name = `RAW${r}${which}`;
      await addStream(name);
      results[which].push(await rawPublish(name.toLowerCase(), which === "rawH"));
      await jsm.streams.delete(name);
    }
  }
  for (let k = 0; k < consumeCases.length; k++) {
    const which = consumeCases[(k + r) % consumeCases.length]!;
    results[which].push(which === "replay" ? await replay(stream) : await replicated(stream, which === "replica" ? N : SMALL));
  }
  await jsm.streams.delete(stream);
  const line = Object.entries(results)
    .map(([k, v]) => `${k} ${fmt(v[r]!.rate)} (${v[r]!.clientUs.toFixed(0)}/${v[r]!.serverUs.toFixed(0)} µs)`)
    .join(", ");
  console.log(`round ${r + 1}: ${line}  [load ${loadavg()}]`);
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
const liveRate = (liveWriter.nextSequence / liveMs) * 1000;
const liveStats = liveBridge.stats();
await liveBridge.stop();
await liveReplica.close();
const load1 = loadavg();

// ---- the table
const rates = (k: keyof typeof results) => results[k].map((s) => s.rate);
const cpu = (k: keyof typeof results) => {
  const c = median(results[k].map((s) => s.clientUs));
  const s = median(results[k].map((s) => s.serverUs));
  return `CPU per message: this process ${c.toFixed(0)} µs, server ${s.toFixed(0)} µs`;
};
const ratio = (a: keyof typeof results, b: keyof typeof results, name: string) => ({ stats: stats(perRound(rates(a), rates(b))), baseline: name });
const figure = (k: keyof typeof results) => fmt(median(rates(k)));
const spread = (k: keyof typeof results) => range(stats(rates(k).map((r) => r / 1e6)), 2);
const bridgeVsRaw = stats(perRound(rates("bridge"), rates("raw")));
const replicaVsReplay = stats(perRound(rates("replica"), rates("replay")));
const p50 = median(latencies);
const rows: Row[] = [
  { name: `raw \`js.publish\`, ${WINDOW} in flight, no headers of ours (baseline; ${cpu("raw")})`, figure: figure("raw"), spread: spread("raw") },
  {
    name: `raw with the bridge's headers, ids and expectations, built beforehand (${cpu("rawH")})`,
    figure: figure("rawH"),
    spread: spread("rawH"),
    ratios: [ratio("rawH", "raw", "raw")],
  },
  {
    name: `bridge \`publish(log)\`, from start to drained (${cpu("bridge")})`,
    figure: figure("bridge"),
    spread: spread("bridge"),
    ratios: [ratio("bridge", "raw", "raw"), ratio("bridge", "rawH", "raw with headers")],
    target: ">= 0.8x raw",
    pass: bridgeVsRaw.median >= 0.8,
  },
  { name: `replay: ordered consumer, no work (baseline; ${cpu("replay")})`, figure: figure("replay"), spread: spread("replay") },
  {
    name: `\`replica()\` applying the stream into a log in memory (${cpu("replica")})`,
    figure: figure("replica"),
    spread: spread("replica"),
    ratios: [ratio("replica", "replay", "replay")],
    target: ">= 0.8x replay",
    pass: replicaVsReplay.median >= 0.8,
  },
  {
    name: `(info) the same into a log of ${SMALL.toLocaleString("en")} records (2 MiB window: segments reused, the copy's destination stays in cache) (${cpu("replicaSmall")})`,
    figure: figure("replicaSmall"),
    spread: spread("replicaSmall"),
    ratios: [ratio("replicaSmall", "replay", "replay")],
  },
  {
    name: `live at ${(liveRate / 1e3).toFixed(0)} k rec/s, append → readable in the replica, p50 / p99 (${latencies.length.toLocaleString("en")} records, ${liveStats.messages.toLocaleString("en")} messages, one process)`,
    figure: `${p50.toFixed(2)} / ${percentile(latencies, 0.99).toFixed(2)} ms`,
    target: "p50 <= 1 ms",
    pass: p50 <= 1,
  },
];
const title =
  `NATS JetStream bridge on loopback (nats-server ${nc.info?.version ?? "?"}): ${N.toLocaleString("en")} Trade records of 32 bytes, ` +
  `segments of ${SEG} (${M} messages of 32 KiB), ${WINDOW} in flight, ${ROUNDS} rounds (order rotating), ratios per round, median [min–max]`;
const table = printTable(title, rows);
const loadNote = `load average before / after: ${load0} / ${load1} (${navigator.hardwareConcurrency} vCPUs)`;
console.log(`\n${loadNote}`);
const md = `${table}\n\n- ${loadNote}\n`;
if (process.env.BENCH_MARKDOWN) writeFileSync(process.env.BENCH_MARKDOWN, md);
const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
const out = join(dir, quick ? "bridge.md.quick.tmp" : "bridge.md");
writeFileSync(out, [`# NATS bridge benchmark (bench/bridge.bench.ts)`, ``, `${new Date().toISOString()}, Bun ${Bun.version}, ${quick ? "BENCH_QUICK=1" : "full run"}.`, ``, md].join("\n"));
console.log(`wrote ${out}`);
writer.release();
liveWriter.release();
await nc.close();
await server.stop();
