/**
 * The two client processes of the cluster test (test/bridge/cluster.test.ts),
 * each run inside its own network namespace with
 * `ip netns exec <ns> bun cluster-child.ts <role> <config JSON>`:
 *
 * - `publisher`: creates the stream (num_replicas 3), connects to its leader
 *   first (`noRandomize`, the other servers after it), bridges a log in
 *   memory to it: a burst (for the publish rate), then a steady writer until
 *   told to `stop`; then drains and reports the bridge's final counters.
 * - `replica`: consumes the stream into a log in memory, connecting to the
 *   same leader first; on `where` says which server holds its consumer; on
 *   `check <N>` waits for N records, checks every record's fields and
 *   sequence, walks the stream's messages, and reports.
 *
 * Protocol: one JSON object per line on stdout (`{"type": ...}`), commands
 * one per line on stdin. A closed stdin (the test died) ends the process, so
 * a child never outlives its test. Separate processes in separate namespaces
 * because that is the deployment the bridge is for: the writer's host, a
 * reader's host, and the servers on three others.
 */
import { createInterface } from "node:readline";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import { AtomicLog, type Writer } from "../../src/index.ts";
import { publish, readMeta, replica } from "../../src/bridge/index.ts";
import { Trade, type TradeData, type TradeView } from "./trade.ts";

/** The record with sequence `seq`: every field derived from it, so a reader can check each one. */
export function clusterRecord(seq: number): TradeData {
  return { ts: seq * 0.5, id: seq >>> 0, price: 100 + (seq % 1000) / 8, qty: (seq * 7) % 100_000, side: seq & 1 };
}

/** The publisher's configuration (argv[3], JSON). */
export interface PublisherConfig {
  /** Node name → client URL, e.g. `{ n1: "nats://10.1.2.1:4222", ... }`. */
  nodes: Record<string, string>;
  stream: string;
  subject: string;
  /** Records appended at once before the steady phase (for the publish rate). */
  burst: number;
  /** The steady writer's rate, records per second. */
  rate: number;
  retainedCapacity: number;
  segmentCapacity: number;
}

/** The replica's configuration (argv[3], JSON). */
export interface ReplicaConfig {
  /** Client URLs, the one to connect to first first. */
  servers: string[];
  stream: string;
  retainedCapacity: number;
  segmentCapacity: number;
}

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Commands from the test, one per line; the end of stdin ends the process. A failure is reported as an `error` line. */
function commands(onLine: (line: string) => Promise<void>): void {
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => void onLine(line).catch(fail));
  rl.on("close", () => process.exit(0));
}

function fail(error: unknown): never {
  emit({ type: "error", message: String((error as Error)?.stack ?? error) });
  process.exit(1);
}

/**
 * The stream's info, asked again on failure: right after a failover the JetStream API can time
 * out for a while (no meta or stream leader yet), which is the servers' business, not the test's.
 */
async function streamInfo(nc: NatsConnection, stream: string, timeoutMs = 20_000): Promise<StreamInfo> {
  // checkAPI: false, or creating the manager is itself a request (account info) that can time out.
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await jsm.streams.info(stream);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(100);
    }
  }
}

/** Reports the connection's events (disconnect, reconnect, ...) with their times, for the failover figures. */
function watchStatus(nc: NatsConnection, who: string): void {
  void (async () => {
    for await (const s of nc.status()) {
      emit({ type: "status", who, t: Date.now(), kind: s.type, server: "server" in s ? String(s.server) : null, now: nc.info?.server_name ?? null });
    }
  })();
}

/** The stream's info once it has a leader and every replica is current (a new R3 stream elects its leader after creation). */
async function settledInfo(nc: NatsConnection, stream: string, timeoutMs: number): Promise<StreamInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await streamInfo(nc, stream, timeoutMs);
    const c = info.cluster;
    if (c?.leader && (c.replicas ?? []).length === 2 && c.replicas!.every((r) => r.current && !r.offline)) return info;
    if (Date.now() > deadline) throw new Error(`stream ${stream} not settled after ${timeoutMs} ms: ${JSON.stringify(c)}`);
    await Bun.sleep(50);
  }
}

function clusterOf(info: StreamInfo): { leader: string | undefined; replicas: { name: string; current: boolean; offline?: boolean }[] } {
  return { leader: info.cluster?.leader, replicas: (info.cluster?.replicas ?? []).map((r) => ({ name: r.name, current: r.current, offline: r.offline })) };
}

async function runPublisher(cfg: PublisherConfig): Promise<void> {
  // Create the stream first, to learn its leader: the bridge then connects to the leader, so
  // killing it costs the bridge both its connection and the stream's leader (the worst case).
  const admin = await connect({ servers: Object.values(cfg.nodes), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const ajsm = await jetstreamManager(admin, { checkAPI: false });
  // The bridge's own defaults (publish's createStream: true) plus three replicas. Asked again if
  // it times out: a server restarted just before (the second test) may still be catching up.
  // Adding the same configuration twice is not an error.
  for (const deadline = Date.now() + 15_000; ; ) {
    try {
      await ajsm.streams.add({ name: cfg.stream, subjects: [cfg.subject], num_replicas: 3, duplicate_window: 120e9 });
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(200);
    }
  }
  const created = await settledInfo(admin, cfg.stream, 15_000);
  const leader = created.cluster!.leader!;
  const order = [leader, ...Object.keys(cfg.nodes).filter((n) => n !== leader)];
  // The options link() gives a bridge's own connection (reconnect forever, every 250 ms), plus
  // noRandomize; a connection of our own so its events can be watched and reported.
  const nc = await connect({
    name: "cluster-test bridge",
    servers: order.map((n) => cfg.nodes[n]!),
    noRandomize: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
  });
  watchStatus(nc, "publisher");
  const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: cfg.retainedCapacity, segmentCapacity: cfg.segmentCapacity });
  // createStream: false: the bridge must use the replicated stream made above, not make its own.
  const bridge = await publish(log, { connection: nc, stream: cfg.stream, subject: cfg.subject, createStream: false });
  emit({ type: "ready", server: nc.info?.server_name, ...clusterOf(created) });

  let writing = true;
  const acked = () => bridge.stats().ackedSequence;
  // Progress lines whenever something moved (sampled every 10 ms): the test reads stalls from them.
  let last = "";
  const progress = setInterval(() => {
    const s = bridge.stats();
    const line = `${writer.nextSequence}:${s.ackedSequence}:${s.errors}`;
    if (line === last) return;
    last = line;
    emit({ type: "p", t: Date.now(), next: writer.nextSequence, acked: s.ackedSequence, errors: s.errors, resends: s.resends, inFlight: s.inFlight });
  }, 10);

  // The burst: as fast as the writer goes, yielding now and then so the bridge runs alongside.
  const t0 = performance.now();
  const appending = appendFast(writer, cfg.burst);
  while (acked() < cfg.burst) await Bun.sleep(1);
  await appending;
  const burstMs = performance.now() - t0;
  emit({ type: "burst", records: cfg.burst, ms: burstMs, rate: cfg.burst / (burstMs / 1000), messages: bridge.stats().messages });

  // The steady writer: `rate` records per second in small batches, whatever the bridge does
  // (the writer never waits; the window holds everything, so a stall must not lose anything).
  const base = writer.nextSequence;
  const start = performance.now();
  emit({ type: "steady", t: Date.now(), from: base });
  const steady = (async () => {
    while (writing) {
      const target = base + Math.floor(((performance.now() - start) * cfg.rate) / 1000);
      while (writer.nextSequence < target) writer.append(clusterRecord(writer.nextSequence));
      await Bun.sleep(2);
    }
  })();

  commands(async (line) => {
    if (line !== "stop") return;
    writing = false;
    await steady;
    const N = writer.nextSequence;
    const t = Date.now();
    const final = await bridge.stop({ timeoutMs: 30_000 });
    clearInterval(progress);
    const info = await streamInfo(nc, cfg.stream);
    emit({ type: "done", t, N, drainMs: Date.now() - t, stats: final, ...clusterOf(info), state: info.state });
    writer.release();
    await nc.close();
    await admin.close();
    process.exit(0);
  });
}

/** Appends records up to sequence `end`, yielding to the event loop every 4096 (so the bridge publishes meanwhile). */
async function appendFast(writer: Writer<TradeView, TradeData>, end: number): Promise<void> {
  for (let seq = writer.nextSequence; seq < end; seq++) {
    writer.append(clusterRecord(seq));
    if (seq % 4096 === 4095) await Bun.sleep(0);
  }
}

async function runReplica(cfg: ReplicaConfig): Promise<void> {
  // `servers` (the bridge's own connection, link()'s defaults) with the leader first.
  const r = await replica(Trade, {
    servers: cfg.servers,
    connectOptions: { noRandomize: true },
    stream: cfg.stream,
    open: { retainedCapacity: cfg.retainedCapacity, segmentCapacity: cfg.segmentCapacity },
    name: "cluster-test replica",
  });
  emit({ type: "ready" });
  let last = -1;
  const progress = setInterval(() => {
    const next = r.stats().nextSequence;
    if (next === last) return;
    last = next;
    emit({ type: "p", t: Date.now(), next });
  }, 10);

  commands(async (line) => {
    if (line === "where") {
      // Which server holds the replica's consumer (ephemeral: one replica, placed by the servers).
      const nc = await connect({ servers: cfg.servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      const consumers = await jsm.consumers.list(cfg.stream).next();
      emit({ type: "where", consumers: consumers.map((ci) => ({ name: ci.name, leader: ci.cluster?.leader })) });
      await nc.close();
      return;
    }
    const m = /^check (\d+)$/.exec(line);
    if (m === null) return;
    const N = Number(m[1]);
    const reached = await r.waitFor(N, 30_000);
    clearInterval(progress);
    emit({ type: "p", t: Date.now(), next: r.stats().nextSequence });
    const records = checkRecords(r.log);
    const stats = r.stats();
    await r.close();
    const stream = await walkStream(cfg.servers, cfg.stream);
    emit({ type: "checked", reached, records, stats, stream });
    process.exit(0);
  });
}

/** Every record of the replica's log against {@link clusterRecord}: how many, first, last, and the first few problems. */
function checkRecords(log: AtomicLog<TradeView, TradeData>): { count: number; first: number; last: number; problems: string[] } {
  const problems: string[] = [];
  let count = 0;
  let first = -1;
  let prev = -1;
  using snap = log.snapshot();
  snap.forEach((v, seq) => {
    if (count === 0) first = seq;
    else if (seq !== prev + 1 && problems.length < 10) problems.push(`sequence ${seq} after ${prev}`);
    const want = clusterRecord(seq);
    if ((v.ts !== want.ts || v.id !== want.id || v.price !== want.price || v.qty !== want.qty || v.side !== want.side) && problems.length < 10) {
      problems.push(`record ${seq} differs: ${JSON.stringify(Trade.read(v))} != ${JSON.stringify(want)}`);
    }
    prev = seq;
    count++;
  });
  return { count, first, last: prev, problems };
}

/**
 * Reads every message of the stream, in order, from a fresh consumer: the
 * stream itself must hold each record once (a duplicate message would be
 * skipped by the replica, so the replica alone could not show it).
 */
async function walkStream(servers: string[], stream: string): Promise<{ messages: number; end: number; problems: string[]; lastSeq: number; leader: string | undefined }> {
  const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  try {
    const info = await streamInfo(nc, stream);
    const problems: string[] = [];
    let messages = 0;
    let end = 0;
    if (info.state.messages > 0) {
      // Creating a consumer can time out for a while after a failover (as streamInfo above): the
      // servers may place it (one replica, on a peer of the stream) on the dead server until they
      // notice it is gone, and such a request is never answered. So: short timeouts, many tries.
      const js = jetstream(nc, { timeout: 2000 });
      const deadline = Date.now() + 30_000;
      let consumer;
      for (;;) {
        try {
          consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await Bun.sleep(100);
        }
      }
      const iter = await consumer.consume({ max_messages: 256, expires: 1000 });
      for await (const m of iter) {
        const meta = readMeta(m.headers);
        if (meta.first !== end && problems.length < 10) problems.push(`message ${m.seq} starts at ${meta.first}, expected ${end}`);
        end = meta.first + meta.count;
        messages++;
        if (m.seq >= info.state.last_seq) break;
      }
      await iter.close();
    }
    return { messages, end, problems, lastSeq: info.state.last_seq, leader: info.cluster?.leader };
  } finally {
    await nc.close();
  }
}

if (import.meta.main) {
  const [role, json] = process.argv.slice(2);
  const run = role === "publisher" ? runPublisher(JSON.parse(json!)) : role === "replica" ? runReplica(JSON.parse(json!)) : Promise.reject(new Error(`unknown role ${role}`));
  run.catch(fail);
}
