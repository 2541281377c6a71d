/**
 * The durable log's lifecycle with real files: create, append across many
 * rolls, close, reopen and continue; the same engine API (snapshots, cursors,
 * replay from a sequence, workers that map the files themselves); the sync
 * policies and the synced point.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtomicLog, type DurableLogOptions } from "../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../../src/generated/market.ts";
import { tradeFor } from "../support/log-helpers.ts";
import { startWorker } from "../support/workers.ts";

const root = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "atomic-log-open-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `log-${n++}`);

type TradeLog = AtomicLog<TradeView, TradeData>;

function open(dir: string, options: DurableLogOptions = { retainedCapacity: 64, segmentCapacity: 16 }): TradeLog {
  return AtomicLog.open(Trade, dir, options);
}

/** Every record in a snapshot, checked against `tradeFor(sequence)`; returns [first, end). */
function checkAll(log: TradeLog): [number, number] {
  const snap = log.snapshot();
  snap.forEach((v, seq) => {
    const t = tradeFor(seq);
    if (v.id !== t.id || v.ts !== t.ts || v.price !== t.price || v.qty !== t.qty || v.side !== t.side) {
      throw new Error(`record ${seq} is wrong: id ${v.id} ts ${v.ts}`);
    }
  });
  const out: [number, number] = [snap.startSequence, snap.startSequence + snap.length];
  snap.release();
  return out;
}

describe("durable log", () => {
  test("create, append across rolls, close, reopen clean, and continue the same sequence", () => {
    const dir = freshDir();
    const log = open(dir);
    expect(log.isDurable).toBe(true);
    expect(log.recovery?.mode).toBe("created");
    const writer = log.tryClaimWriter()!;
    for (let s = 0; s < 100; s++) writer.append(tradeFor(s));
    expect(checkAll(log)).toEqual([32, 100]); // window: head + 4 full segments of 16
    writer.release();
    log.close();
    const again = open(dir, {});
    expect(again.recovery).toMatchObject({ mode: "clean", nextSequence: 100, droppedRecords: 0 });
    expect(again.syncedSequence).toBe(100);
    expect(checkAll(again)).toEqual([32, 100]);
    const w2 = again.tryClaimWriter()!;
    expect(w2.nextSequence).toBe(100);
    w2.appendBatch([100, 101, 102].map(tradeFor));
    expect(checkAll(again)).toEqual([32, 103]); // still in the head segment (96..111)
    w2.release();
    again.close();
  });

  test("the application header: 1024 bytes kept with the log across reopen; null in memory", () => {
    const dir = freshDir();
    const log = open(dir);
    const header = log.appHeader!;
    expect(header.length).toBe(1024);
    expect(header.every((b) => b === 0)).toBe(true);
    new TextEncoder().encodeInto("source=feed-7;v=3", header);
    log.close();
    const again = open(dir, {});
    expect(new TextDecoder().decode(again.appHeader!.subarray(0, 17))).toBe("source=feed-7;v=3");
    again.close();
    expect(AtomicLog.create(Trade, { retainedCapacity: 4, segmentCapacity: 2 }).appHeader).toBeNull();
  });

  test("files: preallocated, mode 0600, named by segment sequence and pool slot, never truncated", () => {
    const dir = freshDir();
    const log = open(dir, { retainedCapacity: 32, segmentCapacity: 16 });
    const writer = log.tryClaimWriter()!;
    for (let s = 0; s < 40; s++) writer.append(tradeFor(s));
    writer.release();
    log.close();
    const names = readdirSync(dir).sort();
    expect(names).toContain("control.alog");
    expect(names).toContain("writer.lock");
    const segs = names.filter((f) => /^\d{16}\.\d+\.seg$/.test(f)).map((f) => Number(f.slice(0, 16)));
    expect(segs.sort((a, b) => a - b)).toEqual([0, 1, 2]);
    for (const name of names.filter((f) => f.endsWith(".seg") || f.endsWith(".alog"))) {
      const st = statSync(join(dir, name));
      expect(st.mode & 0o777).toBe(0o600);
      if (name.endsWith(".seg")) {
        expect(st.size).toBe(4096 + 16 * 32);
        expect(st.blocks * 512).toBeGreaterThanOrEqual(st.size); // real blocks: a full disk fails at creation
      }
    }
  });

  test("replay: a cursor from any retained sequence crosses files and works after a restart", () => {
    const dir = freshDir();
    let log = open(dir);
    let writer = log.tryClaimWriter()!;
    for (let s = 0; s < 70; s++) writer.append(tradeFor(s));
    writer.release();
    log.close();
    log = open(dir);
    const seen: number[] = [];
    const cursor = log.cursor({ from: 20 });
    cursor.poll((v, seq) => {
      expect(v.id).toBe(seq);
      seen.push(seq);
    });
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => 20 + i));
    writer = log.tryClaimWriter()!;
    writer.append(tradeFor(70));
    expect(cursor.poll((v, seq) => expect(v.id).toBe(seq))).toBe(1);
    cursor.release();
    writer.release();
    log.close();
  });

  test("sync policies: everyCommit syncs each append; none only on sync(); the interval timer syncs an idle writer", async () => {
    const every = open(freshDir(), { retainedCapacity: 64, segmentCapacity: 16, durability: "everyCommit" });
    const w1 = every.tryClaimWriter()!;
    for (let s = 0; s < 20; s++) {
      w1.append(tradeFor(s));
      expect(every.syncedSequence).toBe(s + 1);
    }
    w1.release();
    every.close();

    const none = open(freshDir());
    const w2 = none.tryClaimWriter()!;
    for (let s = 0; s < 20; s++) w2.append(tradeFor(s));
    expect(none.syncedSequence).toBe(0);
    expect(w2.sync()).toBe(20);
    expect(none.syncedSequence).toBe(20);
    w2.release();
    none.close();

    const interval = open(freshDir(), { retainedCapacity: 64, segmentCapacity: 16, durability: { intervalMs: 5 } });
    const w3 = interval.tryClaimWriter()!;
    for (let s = 0; s < 7; s++) w3.append(tradeFor(s));
    const deadline = Date.now() + 5000;
    while (interval.syncedSequence !== 7 && Date.now() < deadline) await Bun.sleep(5);
    expect(interval.syncedSequence).toBe(7);
    w3.release();
    interval.close();
  });

  test("interval policy: flushes run on the syncer worker, for a writer in any thread; close() leaves the log clean", async () => {
    const dir = freshDir();
    const log = open(dir, { retainedCapacity: 64, segmentCapacity: 16, durability: { intervalMs: 5 } });
    const agent = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    await agent.next("attach");
    agent.worker.postMessage({ cmd: "claim" });
    expect((await agent.next<{ won: boolean }>("claim")).won).toBe(true);
    agent.worker.postMessage({ cmd: "append", n: 40 });
    expect((await agent.next<{ next: number }>("append")).next).toBe(40);
    const deadline = Date.now() + 5000;
    while (log.syncedSequence !== 40 && Date.now() < deadline) await Bun.sleep(5);
    expect(log.syncedSequence).toBe(40); // requested by the worker's timer, flushed by the syncer
    agent.worker.postMessage({ cmd: "release-writer" });
    await agent.next("release-writer");
    agent.worker.terminate();
    const writer = log.tryClaimWriter()!;
    for (let s = 40; s < 45; s++) writer.append(tradeFor(s));
    expect(writer.sync()).toBe(45); // explicit: waits for the syncer
    expect(log.syncedSequence).toBe(45);
    writer.release();
    log.close();
    const again = open(dir, {});
    expect(again.recovery).toMatchObject({ mode: "clean", nextSequence: 45 });
    expect(checkAll(again)).toEqual([0, 45]);
    again.close();
  });

  test("a worker attaches by mapping the files itself; a reader parked in ready() is woken through the bell", async () => {
    const dir = freshDir();
    const log = open(dir);
    const writer = log.tryClaimWriter()!;
    writer.append(tradeFor(0));
    const agent = startWorker("../../durable/fixtures/tail.ts", { handle: log.handle() });
    expect(await agent.next<{ durable: boolean }>("ready")).toMatchObject({ durable: true });
    await Bun.sleep(20); // let it park
    writer.append(tradeFor(1));
    expect(await agent.next<{ woke: boolean; id: number; sequence: number }>("record")).toMatchObject({ woke: true, id: 1, sequence: 1 });
    agent.worker.terminate();
    writer.release();
    log.close();
  });

  test("a worker claims the writer of a durable log and its records survive a reopen", async () => {
    const dir = freshDir();
    const log = open(dir);
    const agent = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    await agent.next("attach");
    agent.worker.postMessage({ cmd: "claim" });
    expect((await agent.next<{ won: boolean }>("claim")).won).toBe(true);
    agent.worker.postMessage({ cmd: "append", n: 40 });
    expect((await agent.next<{ next: number }>("append")).next).toBe(40);
    agent.worker.postMessage({ cmd: "release-writer" });
    await agent.next("release-writer");
    agent.worker.terminate();
    log.close();
    const again = open(dir);
    expect(again.recovery?.mode).toBe("clean");
    expect(checkAll(again)).toEqual([0, 40]);
    again.close();
  });

  test("a writer process SIGKILLed mid-append: its claim and pins are reaped; published records kept, the reserved one is not", async () => {
    const dir = freshDir();
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures/die-mid-append.ts"), dir, "37"], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("ready")) out += new TextDecoder().decode((await reader.read()).value);
    child.kill("SIGKILL");
    await child.exited;
    const again = open(dir);
    expect(again.recovery).toMatchObject({ mode: "crashed", nextSequence: 37, droppedRecords: 0 });
    expect(again.stats()).toMatchObject({ pins: 0, snapshotBudgetUsed: 0, writerClaimed: false });
    expect(checkAll(again)).toEqual([0, 37]);
    const w2 = again.tryClaimWriter()!;
    expect(w2.nextSequence).toBe(37);
    w2.append(tradeFor(37));
    expect(checkAll(again)).toEqual([0, 38]);
    w2.release();
    again.close();
  });
});

describe("retention by time", () => {
  test("sealed segments older than retentionMs leave the window at a roll and on cleanup(); the head never does; it persists across reopen", async () => {
    const dir = freshDir();
    const log = open(dir, { retainedCapacity: 160, segmentCapacity: 16, retentionMs: 60_000 });
    const writer = log.tryClaimWriter()!;
    for (let s = 0; s < 70; s++) writer.append(tradeFor(s)); // segments 0..3 sealed, head 4 (64..69)
    expect(writer.cleanup()).toEqual({ expiredSegments: 0, expiredRecords: 0, oldestSequence: 0 });
    // An hour from now every sealed segment is older than 60 s; the head stays.
    expect(writer.cleanup(Date.now() + 3_600_000)).toEqual({ expiredSegments: 4, expiredRecords: 64, oldestSequence: 64 });
    expect(checkAll(log)).toEqual([64, 70]);
    writer.release();
    log.close();
    const again = open(dir, {});
    expect(again.retentionMs).toBe(60_000); // stored in the control file
    expect(checkAll(again)).toEqual([64, 70]);
    const w2 = again.tryClaimWriter()!;
    // The stored retention (60 s) applies after reopening: nothing recent expires at rolls.
    for (let s = 70; s < 120; s++) w2.append(tradeFor(s));
    expect(checkAll(again)).toEqual([64, 120]);
    w2.release();
    again.close();
    // A short retention, set at open, expires at the next roll on its own.
    const short = open(dir, { retentionMs: 20 });
    expect(short.retentionMs).toBe(20);
    const w3 = short.tryClaimWriter()!;
    await Bun.sleep(40);
    for (let s = 120; s < 130; s++) w3.append(tradeFor(s)); // rolls into segment 8 at 128
    expect(checkAll(short)).toEqual([112, 130]); // segments 4..6 expired; 7 was sealed just now
    w3.release();
    short.close();
  });

  test("bad retentionMs is an InvalidOptionError naming it", () => {
    for (const bad of [-1, Number.NaN, "1000", Number.POSITIVE_INFINITY]) {
      expect(() => open(freshDir(), { retainedCapacity: 64, segmentCapacity: 16, retentionMs: bad as number })).toThrow(/retentionMs/);
    }
  });
});

describe("gaps and time-aligned segments on disk", () => {
  test("a log with gaps reopens as it was: same boot, and rebuilt from the files after a reboot", () => {
    const dir = freshDir();
    const log = open(dir, { retainedCapacity: 64, segmentCapacity: 16 });
    const writer = log.tryClaimWriter()!;
    for (let s = 0; s < 20; s++) writer.append(tradeFor(s));
    writer.skipTo(48); // segment 1 closed at 4 records, segment 2 empty and closed
    for (let s = 48; s < 52; s++) writer.append(tradeFor(s));
    writer.release();
    log.close();
    const ids = (l: TradeLog) => {
      const out: number[] = [];
      const snap = l.snapshot();
      snap.forEach((v, seq) => {
        expect(v.id).toBe(seq);
        out.push(seq);
      });
      snap.release();
      return out;
    };
    const expected = [...Array.from({ length: 20 }, (_, i) => i), 48, 49, 50, 51];
    let again = open(dir, {});
    expect(again.recovery?.mode).toBe("clean");
    expect(ids(again)).toEqual(expected);
    again.close();
    // A reboot: another boot id in the header (byte 128), so the window is rebuilt from the files.
    const fd = openSync(join(dir, "control.alog"), "r+");
    writeSync(fd, "00000000-0000-0000-0000-000000000000", 128);
    closeSync(fd);
    again = open(dir, {});
    expect(again.recovery).toMatchObject({ mode: "rebuilt", nextSequence: 52 });
    expect(ids(again)).toEqual(expected);
    const w2 = again.tryClaimWriter()!;
    w2.append(tradeFor(52));
    expect(ids(again)).toEqual([...expected, 52]);
    w2.release();
    again.close();
  });

  test("segmentDurationMs: an idle writer's head is closed when its window ends; the next records start a new segment", async () => {
    const dir = freshDir();
    const log = open(dir, { retainedCapacity: 64, segmentCapacity: 16, segmentDurationMs: 40 });
    const writer = log.tryClaimWriter()!;
    for (let s = 0; s < 3; s++) writer.append(tradeFor(s));
    await Bun.sleep(100); // past the window's end: the timer closes the head
    expect(writer.nextSequence).toBe(16);
    for (let s = 16; s < 18; s++) writer.append(tradeFor(s));
    const snap = log.snapshot();
    expect(snap.chunks().map((c) => [c.sequence, c.length])).toEqual([[0, 3], [1, 2]]);
    snap.release();
    writer.release();
    log.close();
    expect(() => open(freshDir(), { retainedCapacity: 64, segmentCapacity: 16, segmentDurationMs: -5 })).toThrow(/segmentDurationMs/);
  });

  test("segmentDurationMs: a busy writer that never yields still closes segments (checked every 1024 commits)", () => {
    const dir = freshDir();
    const log = open(dir, { retainedCapacity: 1 << 16, segmentCapacity: 1 << 14, segmentDurationMs: 5 });
    const writer = log.tryClaimWriter()!;
    // 50 records per millisecond for 80 ms, never yielding to the event loop (no timer runs).
    const until = Date.now() + 80;
    let s = 0;
    while (Date.now() < until) {
      const tick = Date.now();
      for (let i = 0; i < 50; i++, s++) writer.append(tradeFor(writer.nextSequence));
      while (Date.now() === tick);
    }
    const snap = log.snapshot();
    const chunks = snap.chunks();
    // Closed by time (every 1024 commits, about every 20 ms here), never by filling 16384 slots.
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.every((c) => c.length < 1 << 14)).toBe(true);
    expect(snap.length).toBe(s);
    snap.release();
    writer.release();
    log.close();
  });
});
