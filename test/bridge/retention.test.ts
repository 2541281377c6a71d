/**
 * The log's retention mapped onto the stream's limits (`publish`'s
 * `retention`), against a real nats-server: the limits a created stream gets,
 * read back with the JetStream manager; an existing stream left as it is and
 * reported; and a stream that discards old messages while replicas still get
 * a contiguous tail holding at least the log's window.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { AtomicLog, InvalidOptionError } from "../../src/index.ts";
import { BridgeStreamError, publish, replica, windowLimits } from "../../src/bridge/index.ts";
import { messageOverheadBound } from "../../src/bridge/retention.ts";
import { Trade } from "../support/trade.ts";
import { NatsServer, natsSkipReason } from "../support/nats-server.ts";
import { acked, appendUpTo, checkRecords, record } from "../support/bridge.ts";

test("a bad retention is an InvalidOptionError naming it, thrown before connecting", async () => {
  const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 1024, segmentCapacity: 128 });
  // Port 1: nothing listens there, so reaching the connection would be a different error.
  const base = { servers: "nats://127.0.0.1:1", stream: "S", subject: "s" };
  for (const [retention, option] of [
    ["forever", "retention"],
    [null, "retention"],
    [[1], "retention"],
    [{ maxBytes: -5 }, "retention.maxBytes"],
    [{ maxMsgs: 1.5 }, "retention.maxMsgs"],
    [{ maxAgeMs: 0 }, "retention.maxAgeMs"],
    [{ maxAgeMs: Number.POSITIVE_INFINITY }, "retention.maxAgeMs"],
    [{ maxAge: 1000 }, "retention.maxAge"],
  ] as const) {
    const error = await publish(log, { ...base, retention: retention as never }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
  }
  writer.release();
});

test("windowLimits: the window's most records, as that many single-record messages; max_age from retentionMs", () => {
  const log = AtomicLog.create(Trade, { retainedCapacity: 1000, segmentCapacity: 128 });
  // ceil(1000 / 128) = 8 full segments behind the head, plus the head.
  const records = 9 * 128;
  const overhead = messageOverheadBound("Trade", Trade.fingerprint, 128, "trades");
  expect(windowLimits(log, "trades")).toEqual({ max_msgs: records, max_bytes: records * (32 + overhead), max_age: 0 });
  // The headers at their widest, the framing, the subject and the slack: a few hundred bytes.
  expect(overhead).toBeGreaterThan(300);
  expect(overhead).toBeLessThan(500);
});

describe.skipIf(natsSkipReason !== null)("stream limits from the log's retention (real nats-server)", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  test('retention "window" (default): the created stream mirrors an in-memory log\'s window', async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 1 << 14, segmentCapacity: 1024 });
    const bridge = await publish(log, { servers: server.url, stream: "WIN", subject: "win" });
    const { config } = await jsm.streams.info("WIN");
    const want = windowLimits(log, "win");
    expect(want.max_msgs).toBe(17 * 1024);
    expect(config).toMatchObject({ ...want, max_age: 0, duplicate_window: 120e9, discard: "old" });
    expect(bridge.stats()).toMatchObject({ streamLimits: want, limitsWarning: null });
    await bridge.stop();
    writer.release();
  });

  test("a durable log's retentionMs becomes max_age (and the duplicate window, which may not exceed it)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-log-retention-"));
    try {
      const log = AtomicLog.open(Trade, dir, { retainedCapacity: 4096, segmentCapacity: 256, retentionMs: 60_000 });
      const bridge = await publish(log, { servers: server.url, stream: "AGE", subject: "age" });
      const { config } = await jsm.streams.info("AGE");
      expect(config).toMatchObject({ max_msgs: 17 * 256, max_age: 60e9, duplicate_window: 60e9 });
      expect(bridge.stats().limitsWarning).toBeNull();
      await bridge.stop();
      log.close();
      // Time-aligned segments: a segment's first record is up to one duration older than its last.
      const aligned = mkdtempSync(join(tmpdir(), "atomic-log-retention-"));
      const log2 = AtomicLog.open(Trade, aligned, { retainedCapacity: 4096, segmentCapacity: 256, retentionMs: 60_000, segmentDurationMs: 10_000 });
      expect(log2.segmentDurationMs).toBe(10_000);
      expect(windowLimits(log2, "x").max_age).toBe(70e9);
      log2.close();
      rmSync(aligned, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('retention "none", explicit limits, and createStream fields winning', async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 4096, segmentCapacity: 256 });
    const none = await publish(log, { servers: server.url, stream: "NONE", subject: "none", retention: "none" });
    expect((await jsm.streams.info("NONE")).config).toMatchObject({ max_msgs: -1, max_bytes: -1, max_age: 0 });
    await none.stop();
    const explicit = await publish(log, { servers: server.url, stream: "EXPL", subject: "expl", retention: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 } });
    expect((await jsm.streams.info("EXPL")).config).toMatchObject({ max_msgs: -1, max_bytes: 1 << 20, max_age: 3600e9, duplicate_window: 120e9 });
    expect(explicit.stats().limitsWarning).toBeNull();
    await explicit.stop();
    const mixed = await publish(log, { servers: server.url, stream: "MIX", subject: "mix", createStream: { max_msgs: 500, storage: "memory" as never } });
    const want = windowLimits(log, "mix");
    expect((await jsm.streams.info("MIX")).config).toMatchObject({ max_msgs: 500, max_bytes: want.max_bytes, max_age: 0, storage: "memory" });
    expect(mixed.stats().limitsWarning).toBeNull();
    await mixed.stop();
    writer.release();
  });

  test("an existing stream with other limits is left as it is, and reported in stats().limitsWarning", async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 4096, segmentCapacity: 256 });
    await jsm.streams.add({ name: "OLD", subjects: ["old"], max_bytes: 100_000, max_age: 0, max_msgs: -1 });
    const bridge = await publish(log, { servers: server.url, stream: "OLD", subject: "old" });
    const warning = bridge.stats().limitsWarning!;
    const want = windowLimits(log, "old");
    expect(warning).toContain("stream OLD exists with other limits");
    expect(warning).toContain(`max_bytes is 100000, retention asks for ${want.max_bytes} (it can drop records the log still holds)`);
    expect(warning).toContain(`max_msgs is unlimited, retention asks for ${want.max_msgs}`);
    expect(warning).not.toContain("max_age");
    expect(bridge.stats().streamLimits).toEqual({ max_msgs: -1, max_bytes: 100_000, max_age: 0 });
    expect((await jsm.streams.info("OLD")).config).toMatchObject({ max_msgs: -1, max_bytes: 100_000 });
    await bridge.stop();
    // Asked to leave the limits alone, the bridge does not compare them.
    const none = await publish(log, { servers: server.url, stream: "OLD", subject: "old", retention: "none", createStream: false });
    expect(none.stats().limitsWarning).toBeNull();
    await none.stop();
    writer.release();
  });

  test('discard "new" is refused: asked for, an InvalidOptionError; found on an existing limited stream, a BridgeStreamError', async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 4096, segmentCapacity: 256 });
    const asked = await publish(log, { servers: server.url, stream: "DNEW", subject: "dnew", createStream: { discard: "new" as never } }).catch((e: unknown) => e);
    expect(asked).toBeInstanceOf(InvalidOptionError);
    expect((asked as InvalidOptionError).option).toBe("createStream.discard");
    await jsm.streams.add({ name: "DNEW2", subjects: ["dnew2"], max_msgs: 1000, discard: "new" as never });
    const found = await publish(log, { servers: server.url, stream: "DNEW2", subject: "dnew2" }).catch((e: unknown) => e);
    expect(found).toBeInstanceOf(BridgeStreamError);
    expect((found as Error).message).toContain('discard "new"');
    writer.release();
  });

  test("a stream's max_msg_size caps the records per message (headers counted); one too small for a record is a BridgeStreamError", async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 4096, segmentCapacity: 256 });
    await jsm.streams.add({ name: "SMALL", subjects: ["small"], max_msg_size: 2000 });
    const bridge = await publish(log, { servers: server.url, stream: "SMALL", subject: "small" });
    await appendUpTo(writer, 3000);
    await acked(bridge, 3000);
    const stats = bridge.stats();
    expect(stats.lost).toBe(0);
    expect(stats.errors).toBe(0); // never refused: every message fit
    expect(stats.records).toBe(3000);
    expect(stats.bytes / stats.messages).toBeLessThan(2000);
    await bridge.stop();
    await jsm.streams.add({ name: "TINY", subjects: ["tiny"], max_msg_size: 200 });
    const refused = await publish(log, { servers: server.url, stream: "TINY", subject: "tiny" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BridgeStreamError);
    expect((refused as Error).message).toContain("max_msg_size (200 bytes) cannot hold one record");
    writer.release();
  });

  test("the overhead bound holds for the server's own accounting, at the widest sequence numbers", async () => {
    const geometry = { retainedCapacity: 4096, segmentCapacity: 1024, initialSequence: 10 ** 15 };
    const [writer, log] = AtomicLog.newClaimed(Trade, geometry);
    const bridge = await publish(log, { servers: server.url, stream: "WIDE", subject: "wide.trades" });
    // Single-record messages: the worst case the limits are sized for.
    for (let i = 0; i < 20; i++) {
      writer.append(record(i));
      await acked(bridge, writer.nextSequence);
    }
    const { state } = await jsm.streams.info("WIDE");
    const perMessage = (state.bytes - 20 * Trade.byteLength) / state.messages;
    expect(state.messages).toBe(20);
    expect(perMessage).toBeLessThanOrEqual(messageOverheadBound("Trade", Trade.fingerprint, 1024, "wide.trades"));
    await bridge.stop();
    writer.release();
  });

  test("one record per message, past the window: the stream keeps exactly the window's worth (max_msgs), never less than the log", async () => {
    const small = { retainedCapacity: 64, segmentCapacity: 16 };
    const [writer, log] = AtomicLog.newClaimed(Trade, small);
    const bridge = await publish(log, { servers: server.url, stream: "TRICKLE", subject: "trickle" });
    const W = windowLimits(log, "trickle").max_msgs; // 80
    for (let i = 0; i < 3 * W; i++) {
      writer.append(record(writer.nextSequence));
      await acked(bridge, writer.nextSequence);
    }
    const { state } = await jsm.streams.info("TRICKLE");
    expect(state.messages).toBe(W);
    expect(state.first_seq).toBe(2 * W + 1);
    // The stream's first record (one per message: stream sequence - 1) is at or before the log's oldest.
    expect(state.first_seq - 1).toBeLessThanOrEqual(log.stats().oldestSequence);
    await bridge.stop();
    writer.release();
  });

  test("full runs past the window: the stream discards old messages; a live replica gets everything, a late one a contiguous tail covering the log's window", async () => {
    const small = { retainedCapacity: 1024, segmentCapacity: 128 };
    const [writer, log] = AtomicLog.newClaimed(Trade, small);
    const bridge = await publish(log, { servers: server.url, stream: "ROLL", subject: "roll", maxInFlight: 4 });
    const live = await replica(Trade, { servers: server.url, stream: "ROLL", open: { retainedCapacity: 1 << 17, segmentCapacity: 128 } });
    const limits = windowLimits(log, "roll");
    const N = 100_000;
    // Bursts of whole segments, waiting for each: the bridge is never lapped, and its messages are full runs.
    for (let end = 1024; end <= N; end += 1024) {
      await appendUpTo(writer, Math.min(end, N), Number.MAX_SAFE_INTEGER);
      await acked(bridge, writer.nextSequence);
    }
    await appendUpTo(writer, N);
    await acked(bridge, N);
    expect(bridge.stats().lost).toBe(0);
    const { state } = await jsm.streams.info("ROLL");
    expect(state.first_seq).toBeGreaterThan(1); // old messages were discarded...
    expect(state.bytes).toBeLessThanOrEqual(limits.max_bytes); // ...by max_bytes
    expect(state.messages).toBeLessThan(limits.max_msgs);
    // The live replica consumed as the bridge published: all of it, contiguous.
    expect(await live.waitFor(N, 20_000)).toBe(true);
    const all = checkRecords(live.log);
    expect(all.length).toBe(N);
    expect(all.every((seq, i) => seq === i)).toBe(true);
    await live.close();
    // A replica started now starts at the stream's first message: a contiguous tail, from a
    // segment boundary, to the end, holding at least what the source log still holds.
    const late = await replica(Trade, { servers: server.url, stream: "ROLL", open: { retainedCapacity: 1 << 17, segmentCapacity: 128 } });
    expect(await late.waitFor(N, 20_000)).toBe(true);
    const tail = checkRecords(late.log);
    expect(tail[0]! % 128).toBe(0);
    expect(tail.every((seq, i) => seq === tail[0]! + i)).toBe(true);
    expect(tail.at(-1)).toBe(N - 1);
    expect(tail[0]).toBeLessThanOrEqual(log.stats().oldestSequence);
    expect(tail.length).toBeLessThan(N);
    await late.close();
    await bridge.stop();
    writer.release();
  });
});
