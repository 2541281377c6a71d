/**
 * The NATS JetStream bridge against a real nats-server (the Debian package),
 * started by this file on a free port with a store in a temporary directory.
 * Skipped, with the reason printed, only where the binary is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { AtomicLog, FingerprintMismatchError, type Writer } from "../../src/index.ts";
import { BridgeFencedError, BridgeHeaders, PayloadLengthError, publish, readMeta, replica, type Bridge } from "../../src/bridge/index.ts";
import { BridgeMessageHeaders, MessageHeaders, parseMeta, rawHeaderBytes, readMessageMeta } from "../../src/bridge/headers.ts";
import { MsgHdrsImpl } from "@nats-io/transport-node";
import { Trade, type TradeData, type TradeView } from "../support/trade.ts";
import { NatsServer, natsSkipReason } from "../support/nats-server.ts";

if (natsSkipReason !== null) console.warn(`\n*** ${natsSkipReason} ***\n`);

/** The record with sequence `seq` (a different `salt` makes another log's records differ). */
function record(seq: number, salt = 0): TradeData {
  return { ts: seq * 0.5 + salt, id: (seq + salt) >>> 0, price: 100 + (seq % 1000) / 8, qty: (seq * 7 + salt) % 100_000, side: seq & 1 };
}

/** Appends records for sequences [writer.nextSequence, end), yielding to the event loop every `yieldEvery`. */
async function appendUpTo(writer: Writer<TradeView, TradeData>, end: number, salt = 0, yieldEvery = 4096): Promise<void> {
  for (let seq = writer.nextSequence; seq < end; seq++) {
    writer.append(record(seq, salt));
    if (seq % yieldEvery === yieldEvery - 1) await Bun.sleep(0);
  }
}

/** Checks every record of `log` against {@link record}; returns the sequences held, in order. */
function checkRecords(log: AtomicLog<TradeView, TradeData>, salt = 0): number[] {
  const seqs: number[] = [];
  using snap = log.snapshot();
  snap.forEach((v, seq) => {
    const want = record(seq, salt);
    if (v.ts !== want.ts || v.id !== want.id || v.price !== want.price || v.qty !== want.qty || v.side !== want.side) {
      throw new Error(`record ${seq} differs: ${JSON.stringify(Trade.read(v))} != ${JSON.stringify(want)}`);
    }
    seqs.push(seq);
  });
  return seqs;
}

/** Every message of a stream, in order: its headers' first sequence, count and loss. */
async function streamRuns(nc: NatsConnection, stream: string): Promise<{ first: number; count: number; lost: number; seq: number }[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const runs: { first: number; count: number; lost: number; seq: number }[] = [];
  if (state.messages === 0) return runs;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 256, expires: 1000 });
  for await (const m of messages) {
    const meta = readMeta(m.headers);
    runs.push({ first: meta.first, count: meta.count, lost: meta.lost, seq: m.seq });
    if (m.seq >= state.last_seq) break;
  }
  await messages.close();
  return runs;
}

/** Asserts the runs cover [start, end) exactly once, in order, apart from the gaps listed as [from, to). */
function expectContiguous(runs: { first: number; count: number }[], start: number, end: number, gaps: [number, number][] = []): void {
  let next = start;
  for (const run of runs) {
    const gap = gaps.find(([from]) => from === next);
    if (gap !== undefined && run.first === gap[1]) next = gap[1];
    expect(run.first).toBe(next);
    expect(run.count).toBeGreaterThan(0);
    next += run.count;
  }
  expect(next).toBe(end);
}

/** Waits until a bridge has had every record below `sequence` acknowledged. */
async function acked(bridge: Bridge<TradeView, TradeData>, sequence: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (bridge.stats().ackedSequence < sequence) {
    if (Date.now() > deadline) throw new Error(`bridge acknowledged up to ${bridge.stats().ackedSequence}, wanted ${sequence}: ${JSON.stringify(bridge.stats())}`);
    await Bun.sleep(5);
  }
}

const geometry = { retainedCapacity: 1 << 17, segmentCapacity: 1024 };

test("the runtime never imports the bridge or a NATS package (atomic-log keeps zero runtime dependencies)", () => {
  const root = join(import.meta.dir, "../../src");
  const offenders: string[] = [];
  for (const file of new Bun.Glob("**/*.ts").scanSync(root)) {
    if (file.startsWith("bridge/")) continue;
    const text = readFileSync(join(root, file), "utf8");
    if (/from\s+["'](@nats-io\/|[./]+bridge\/)/.test(text)) offenders.push(file);
  }
  expect(offenders).toEqual([]);
});

test("MessageHeaders encodes exactly what the client's headers() would, once, and again after a change", () => {
  const values = { [BridgeHeaders.Record]: "Trade", [BridgeHeaders.Sequence]: 1024, [BridgeHeaders.MsgId]: "0123456789abcdef:1024", [BridgeHeaders.ExpectedLastSequence]: 7 };
  const ours = new MessageHeaders(values);
  const theirs = headers();
  for (const [k, v] of Object.entries(values)) theirs.set(k, String(v));
  const wire = ours.encode();
  expect(new TextDecoder().decode(wire)).toBe(new TextDecoder().decode((theirs as unknown as { encode(): Uint8Array }).encode()));
  expect(ours.encode()).toBe(wire); // cached: a re-send sends the same bytes
  expect(ours.get(BridgeHeaders.Sequence)).toBe("1024");
  ours.set(BridgeHeaders.ExpectedLastSequence, "8");
  theirs.set(BridgeHeaders.ExpectedLastSequence, "8");
  expect(new TextDecoder().decode(ours.encode())).toBe(new TextDecoder().decode((theirs as unknown as { encode(): Uint8Array }).encode()));
  ours.delete(BridgeHeaders.Record);
  expect(ours.has(BridgeHeaders.Record)).toBe(false);
  expect(new TextDecoder().decode(ours.encode())).not.toContain("Trade");
  // A bridge's template: every header, as the client decodes it.
  const m = new BridgeMessageHeaders("Trade", "0123456789abcdef", 1024).message(2048, 17, 3, 41);
  const decoded = MsgHdrsImpl.decode(m.encode());
  expect(Object.fromEntries([...decoded].map(([k, v]) => [k, v]))).toEqual({
    [BridgeHeaders.Record]: ["Trade"],
    [BridgeHeaders.Fingerprint]: ["0123456789abcdef"],
    [BridgeHeaders.SegmentCapacity]: ["1024"],
    [BridgeHeaders.Sequence]: ["2048"],
    [BridgeHeaders.Count]: ["17"],
    [BridgeHeaders.Lost]: ["3"],
    [BridgeHeaders.MsgId]: ["0123456789abcdef:2048"],
    [BridgeHeaders.ExpectedLastSequence]: ["41"],
  });
  expect(m.get(BridgeHeaders.Count)).toBe("17");
  expect(parseMeta(m.encode())).toEqual(readMeta(decoded));
});

test("a record whose name cannot be a header value is refused before connecting (headers are built without the client's checks)", async () => {
  const log = AtomicLog.create(Trade, geometry);
  const bad = Object.create(log, { codec: { value: { byteLength: Trade.byteLength, name: "Trade\r\nX-Injected: 1", fingerprint: Trade.fingerprint } } }) as typeof log;
  await expect(publish(bad, { servers: "nats://127.0.0.1:1", stream: "S", subject: "s" })).rejects.toMatchObject({ option: "codec" });
  log.close();
});

test("parseMeta reads encoded headers exactly as readMeta reads the client's decoding of them", () => {
  const cases = [
    "NATS/1.0\r\nAtomic-Log-Record: Trade\r\nAtomic-Log-Fingerprint: 0123456789abcdef\r\nAtomic-Log-Sequence: 1024\r\nAtomic-Log-Count: 3\r\nAtomic-Log-Lost: 0\r\nAtomic-Log-Segment-Capacity: 1024\r\nNats-Msg-Id: x:1024\r\n\r\n",
    // values trimmed, keys not; the first of repeated keys; other case is another key; no colon, empty values, odd numbers
    "NATS/1.0\r\nAtomic-Log-Sequence:   7  \r\nAtomic-Log-Sequence: 8\r\natomic-log-count: 5\r\nAtomic-Log-Count:6\r\nno colon here\r\nAtomic-Log-Lost:\r\nAtomic-Log-Segment-Capacity: 1e3\r\nconstructor: 1\r\n__proto__: 2\r\n\r\n",
    "NATS/1.0 503 No Responders\r\n\r\n",
    "NATS/1.0\r\nAtomic-Log-Count: 99999999999999999\r\nAtomic-Log-Record: a:b: c\r\n\r\n",
  ];
  for (const text of cases) {
    const bytes = new TextEncoder().encode(text);
    expect(parseMeta(bytes)).toEqual(readMeta(MsgHdrsImpl.decode(bytes)));
  }
  // A key the client refuses (a blank in it: its decoder throws) is a line that names none of ours.
  const odd = new TextEncoder().encode("NATS/1.0\r\nAtomic-Log-Count : 6\r\nAtomic-Log-Count: 5\r\n\r\n");
  expect(() => MsgHdrsImpl.decode(odd)).toThrow();
  expect(parseMeta(odd).count).toBe(5);
  // Without the client's internals (another version), the public headers are read.
  const h = headers();
  h.set(BridgeHeaders.Count, "4");
  expect(readMessageMeta({ headers: h }).count).toBe(4);
  expect(readMessageMeta({}).count).toBeNaN();
});

describe.skipIf(natsSkipReason !== null)("NATS JetStream bridge (real nats-server)", () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  test("publish → replica: every record, the same sequences, every field; small messages at low rates", async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, geometry);
    const bridge = await publish(log, { servers: server.url, stream: "E2E", subject: "e2e.trades" });
    const rep = await replica(Trade, { servers: server.url, stream: "E2E", open: geometry });
    // Low rate: one record at a time, each published as it comes.
    for (let i = 0; i < 5; i++) {
      writer.append(record(writer.nextSequence));
      await acked(bridge, writer.nextSequence);
    }
    expect(bridge.stats().messages).toBe(5);
    // Every header of a stored message, the id and the fence included.
    const jsm = await jetstreamManager(nc);
    for (let seq = 1; seq <= 5; seq++) {
      const h = (await jsm.streams.getMessage("E2E", { seq }))!.header;
      expect(h.get(BridgeHeaders.Record)).toBe(Trade.name);
      expect(h.get(BridgeHeaders.Fingerprint)).toBe(Trade.fingerprint);
      expect(h.get(BridgeHeaders.Sequence)).toBe(String(seq - 1));
      expect(h.get(BridgeHeaders.Count)).toBe("1");
      expect(h.get(BridgeHeaders.Lost)).toBe("0");
      expect(h.get(BridgeHeaders.SegmentCapacity)).toBe(String(geometry.segmentCapacity));
      expect(h.get(BridgeHeaders.MsgId)).toBe(`${Trade.fingerprint}:${seq - 1}`);
      expect(h.get(BridgeHeaders.ExpectedLastSequence)).toBe(String(seq - 1));
    }
    // The replica reads received headers from their bytes: this client keeps them where it expects.
    const probe = await (await jetstream(nc).consumers.get("E2E", { deliver_policy: DeliverPolicy.All })).next({ expires: 1000 });
    expect(rawHeaderBytes(probe!)).toBeInstanceOf(Uint8Array);
    expect(readMessageMeta(probe!)).toEqual(readMeta(probe!.headers));
    // High rate: runs of up to a segment.
    const N = 100_000;
    await appendUpTo(writer, N);
    expect(await rep.waitFor(N, 20_000)).toBe(true);
    const runs = await streamRuns(nc, "E2E");
    expectContiguous(runs, 0, N);
    expect(Math.max(...runs.map((r) => r.count))).toBe(geometry.segmentCapacity);
    expect(runs.length).toBeLessThan(N / 100);
    const seqs = checkRecords(rep.log);
    expect(seqs.length).toBe(N);
    expect(seqs[0]).toBe(0);
    expect(seqs[N - 1]).toBe(N - 1);
    expect(rep.stats()).toMatchObject({ records: N, duplicates: 0, gaps: 0, dropped: 0, sourceLost: 0, state: "running" });
    const final = await bridge.stop();
    expect(final).toMatchObject({ state: "stopped", ackedSequence: N, records: N, lost: 0, inFlight: 0 });
    await rep.close();
    expect(rep.stats().state).toBe("stopped");
    writer.release();
  });

  test("a bridge killed mid-stream and started again resumes exactly: no record twice, none missing", async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, geometry);
    const first = await publish(log, { servers: server.url, stream: "RESUME", subject: "resume", maxInFlight: 4 });
    await appendUpTo(writer, 30_000, 0, 500);
    await acked(first, 10_000);
    // Kill it: no drain, messages still in flight are abandoned.
    await first.stop({ drain: false });
    const stoppedAt = first.stats().ackedSequence;
    expect(stoppedAt).toBeLessThan(30_000 + 1);
    await appendUpTo(writer, 50_000);
    const second = await publish(log, { servers: server.url, stream: "RESUME", subject: "resume" });
    await appendUpTo(writer, 60_000);
    await acked(second, 60_000);
    await second.stop();
    expectContiguous(await streamRuns(nc, "RESUME"), 0, 60_000);
    // And a drained stop, then a restart: the same.
    const third = await publish(log, { servers: server.url, stream: "RESUME", subject: "resume" });
    expect(third.stats().nextSequence).toBe(60_000);
    await appendUpTo(writer, 61_000);
    await third.stop();
    expect(third.stats().ackedSequence).toBe(61_000);
    const rep = await replica(Trade, { servers: server.url, stream: "RESUME", open: geometry });
    expect(await rep.waitFor(61_000, 10_000)).toBe(true);
    expect(checkRecords(rep.log).length).toBe(61_000);
    expect(rep.stats()).toMatchObject({ records: 61_000, duplicates: 0, gaps: 0 });
    await rep.close();
    writer.release();
  });

  test("a second bridge on the same subject is fenced, and its records never reach the stream", async () => {
    const [w1, log1] = AtomicLog.newClaimed(Trade, geometry);
    const a = await publish(log1, { servers: server.url, stream: "FENCE", subject: "fence" });
    await appendUpTo(w1, 1000);
    await acked(a, 1000);
    // Another host's log of the same layout, misconfigured onto the same subject.
    const [w2, log2] = AtomicLog.newClaimed(Trade, geometry);
    await appendUpTo(w2, 1000, 7);
    const b = await publish(log2, { servers: server.url, stream: "FENCE", subject: "fence" });
    expect(b.stats().nextSequence).toBe(1000); // it resumed after a's last message
    await appendUpTo(w1, 1500);
    await acked(a, 1500);
    await appendUpTo(w2, 1500, 7); // same sequences, same message ids, other bytes
    expect(await b.done.then(() => null, (e: unknown) => e)).toBeInstanceOf(BridgeFencedError);
    expect(b.stats().state).toBe("failed");
    // The first bridge goes on; the stream holds only log1's records.
    await appendUpTo(w1, 2000);
    await acked(a, 2000);
    await a.stop();
    expectContiguous(await streamRuns(nc, "FENCE"), 0, 2000);
    const rep = await replica(Trade, { servers: server.url, stream: "FENCE", open: geometry });
    expect(await rep.waitFor(2000, 10_000)).toBe(true);
    expect(checkRecords(rep.log).length).toBe(2000);
    await rep.close();
    w1.release();
    w2.release();
  });

  test("a lapped bridge reports its loss exactly, in stats and headers, and the replica leaves the same gap", async () => {
    const small = { retainedCapacity: 256, segmentCapacity: 64 };
    const [writer, log] = AtomicLog.newClaimed(Trade, small);
    const bridge = await publish(log, { servers: server.url, stream: "LAP", subject: "lap", maxInFlight: 1 });
    await appendUpTo(writer, 10);
    await acked(bridge, 10);
    // 50 segments in one synchronous burst: the bridge cannot run, the writer never waits.
    const N = 64 * 50;
    await appendUpTo(writer, N, 0, Number.MAX_SAFE_INTEGER);
    await acked(bridge, N);
    const stats = bridge.stats();
    const oldest = log.stats().oldestSequence;
    // The bridge finished its pinned segment 0, then skipped to the window's oldest record.
    expect(stats.lost).toBe(oldest - 64);
    expect(stats.records).toBe(N - stats.lost);
    const runs = await streamRuns(nc, "LAP");
    expectContiguous(runs, 0, N, [[64, oldest]]);
    expect(runs.at(-1)!.lost).toBe(stats.lost);
    const rep = await replica(Trade, { servers: server.url, stream: "LAP", open: { ...small, retainedCapacity: N } });
    expect(await rep.waitFor(N, 10_000)).toBe(true);
    const seqs = checkRecords(rep.log);
    expect(seqs.length).toBe(N - stats.lost);
    expect(seqs.slice(60, 66)).toEqual([60, 61, 62, 63, oldest, oldest + 1]);
    expect(rep.stats()).toMatchObject({ gaps: stats.lost, sourceLost: stats.lost, records: N - stats.lost });
    // Readers of the replica see the gap as a lap would: counted in `lost`.
    using cursor = rep.log.cursor({ from: 0 });
    let n = 0;
    cursor.poll(() => n++);
    expect(n).toBe(N - stats.lost);
    expect(cursor.lost).toBe(stats.lost);
    await bridge.stop();
    await rep.close();
    writer.release();
  });

  test("a wrong fingerprint and a truncated payload are refused with typed errors, and nothing of them is applied", async () => {
    for (const [stream, bad, errorClass] of [
      ["BADFP", (h: ReturnType<typeof headers>, data: Uint8Array) => (h.set(BridgeHeaders.Fingerprint, "0123456789abcdef"), data), FingerprintMismatchError],
      ["SHORT", (_h: ReturnType<typeof headers>, data: Uint8Array) => data.subarray(0, data.byteLength - 16), PayloadLengthError],
    ] as const) {
      const [writer, log] = AtomicLog.newClaimed(Trade, geometry);
      const bridge = await publish(log, { servers: server.url, stream, subject: stream.toLowerCase() });
      await appendUpTo(writer, 10);
      await acked(bridge, 10);
      await bridge.stop();
      // A message that looks like the next run, spoiled.
      const h = headers();
      for (const [k, v] of Object.entries({ Record: "Trade", Fingerprint: Trade.fingerprint, Sequence: "10", Count: "5", Lost: "0", SegmentCapacity: "1024" })) {
        h.set(BridgeHeaders[k as keyof typeof BridgeHeaders], v);
      }
      const data = new Uint8Array(5 * Trade.byteLength).fill(1);
      await jetstream(nc).publish(stream.toLowerCase(), bad(h, data), { headers: h });
      const rep = await replica(Trade, { servers: server.url, stream, open: geometry });
      const error = await rep.done.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(errorClass);
      expect(rep.stats()).toMatchObject({ state: "failed", messages: 1, records: 10, nextSequence: 10 });
      expect(checkRecords(rep.log)).toEqual([...Array(10).keys()]);
      writer.release();
    }
  });

  test("a replica started mid-segment drops up to the boundary; a durable replica resumes from its files", async () => {
    const small = { retainedCapacity: 4096, segmentCapacity: 64 };
    const dir = mkdtempSync(join(tmpdir(), "atomic-log-replica-"));
    try {
      const [writer, log] = AtomicLog.newClaimed(Trade, small);
      await appendUpTo(writer, 100);
      // From "latest": the stream starts at 100, in the middle of the segment [64, 128).
      const bridge = await publish(log, { servers: server.url, stream: "DURABLE", subject: "durable", from: "latest" });
      await appendUpTo(writer, 1000);
      await acked(bridge, 1000);
      const first = await replica(Trade, { servers: server.url, stream: "DURABLE", dir, open: small });
      expect(await first.waitFor(1000, 10_000)).toBe(true);
      // A log continues only at a boundary: 100..127 cannot be placed, 0..127 is a gap.
      expect(first.stats()).toMatchObject({ dropped: 28, gaps: 128, records: 872, duplicates: 0 });
      const seqs = checkRecords(first.log);
      expect([seqs[0], seqs.length]).toEqual([128, 872]);
      await first.close();
      await appendUpTo(writer, 2000);
      await acked(bridge, 2000);
      // Reopened from its files (geometry read from them): it goes on at 1000.
      const again = await replica(Trade, { servers: server.url, stream: "DURABLE", dir });
      expect(again.log.recovery?.mode).toBe("clean");
      expect(await again.waitFor(2000, 10_000)).toBe(true);
      expect(again.stats()).toMatchObject({ records: 1000, gaps: 0, dropped: 0 });
      const all = checkRecords(again.log);
      expect([all[0], all.length, all.at(-1)]).toEqual([128, 1872, 1999]);
      await again.close();
      await bridge.stop();
      writer.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * A steady writer (200 records every 2 ms, about 60 k rec/s) while the server is SIGKILLed
   * 300 ms in, restarted 300 ms later, and left running `afterMs` more. Returns the records written.
   */
  async function killAndRestartWhileWriting(writer: Writer<TradeView, TradeData>, afterMs: number): Promise<number> {
    let writing = true;
    const writing$ = (async () => {
      while (writing) {
        await appendUpTo(writer, writer.nextSequence + 200, 0, Number.MAX_SAFE_INTEGER);
        await Bun.sleep(2);
      }
    })();
    await Bun.sleep(300);
    await server.kill("SIGKILL");
    await Bun.sleep(300);
    await server.launch();
    await Bun.sleep(afterMs);
    writing = false;
    await writing$;
    return writer.nextSequence;
  }

  test("a nats-server killed (SIGKILL) and restarted mid-stream: nothing lost, nothing duplicated", async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, geometry);
    const bridge = await publish(log, { servers: server.url, stream: "CRASH", subject: "crash", maxInFlight: 16, ackTimeoutMs: 1000 });
    const rep = await replica(Trade, { servers: server.url, stream: "CRASH", open: geometry });
    const N = await killAndRestartWhileWriting(writer, 700);
    expect(N).toBeLessThan(geometry.retainedCapacity); // the window still held everything while the server was down
    await acked(bridge, N, 20_000);
    expect(await rep.waitFor(N, 20_000)).toBe(true);
    const stats = bridge.stats();
    expect(stats.lost).toBe(0);
    expect(stats.errors + stats.resends).toBeGreaterThan(0); // the kill was felt
    expectContiguous(await streamRuns(nc, "CRASH"), 0, N);
    expect(checkRecords(rep.log).length).toBe(N);
    expect(rep.stats()).toMatchObject({ records: N, duplicates: 0, gaps: 0, dropped: 0 });
    await bridge.stop();
    await rep.close();
    writer.release();
  }, 45_000);

  test("after a reconnect, messages left unanswered are re-sent at once, not after ackTimeoutMs", async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, geometry);
    // An acknowledgement time-out far beyond the test's deadline: only the reconnect can unblock the bridge.
    const bridge = await publish(log, { servers: server.url, stream: "RECON", subject: "recon", maxInFlight: 16, ackTimeoutMs: 120_000 });
    const N = await killAndRestartWhileWriting(writer, 500);
    await acked(bridge, N, 15_000);
    const stats = bridge.stats();
    expect(stats.lost).toBe(0);
    expect(stats.resends).toBeGreaterThan(0); // messages in flight at the kill were sent again
    expectContiguous(await streamRuns(nc, "RECON"), 0, N);
    await bridge.stop();
    writer.release();
  }, 45_000);
});
