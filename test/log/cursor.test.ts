/** Tailing cursors, gating and the dispatcher, on one thread (worker tests cover threads). */
import { describe, expect, test } from "bun:test";
import { Dispatcher, InvalidOptionError, SnapshotReleasedError } from "../../src/index.ts";
import { appendValues, newLog, range, tradeFor } from "../support/log-helpers.ts";
import type { TradeView } from "../support/trade.ts";
import { sleep } from "../support/runtime.ts";

function drain(cursor: { poll(h: (v: TradeView, s: number) => void, max?: number): number }, max?: number) {
  const got: [number, number][] = [];
  cursor.poll((v, s) => got.push([s, v.id]), max);
  return got;
}

describe("cursor", () => {
  test("from oldest, latest, and a sequence", () => {
    const [writer, log] = newLog(8, 4);
    appendValues(writer, 0, 6);
    const oldest = log.cursor({ from: "oldest" });
    const latest = log.cursor({ from: "latest" });
    const at = log.cursor({ from: 3 });
    expect(oldest.sequence).toBe(0);
    expect(latest.sequence).toBe(6);
    expect(drain(oldest).map(([s]) => s)).toEqual(range(0, 6));
    expect(drain(latest)).toEqual([]);
    expect(drain(at).map(([s, id]) => s === id && s)).toEqual(range(3, 6));
    appendValues(writer, 6, 9);
    expect(drain(latest).map(([s]) => s)).toEqual([6, 7, 8]);
    expect(drain(oldest).map(([s]) => s)).toEqual([6, 7, 8]);
    expect(oldest.lost).toBe(0);
  });

  test("poll batches up to max and resumes where it stopped", () => {
    const [writer, log] = newLog(64, 4);
    const cursor = log.cursor({ from: "oldest" });
    appendValues(writer, 0, 10);
    expect(drain(cursor, 3).map(([s]) => s)).toEqual([0, 1, 2]);
    expect(drain(cursor, 4).map(([s]) => s)).toEqual([3, 4, 5, 6]);
    expect(drain(cursor).map(([s]) => s)).toEqual([7, 8, 9]);
    expect(cursor.poll(() => {})).toBe(0);
  });

  test("a cursor lapped by the writer reports exactly what it missed", () => {
    const [writer, log] = newLog(4, 2); // window: 2 full segments + head
    const cursor = log.cursor({ from: "oldest" });
    appendValues(writer, 0, 3);
    expect(drain(cursor, 1).map(([s]) => s)).toEqual([0]);
    appendValues(writer, 3, 20);
    // The cursor keeps its pinned segment 0 (record 1 is still readable), then jumps.
    const got = drain(cursor).map(([s]) => s);
    expect(got[0]).toBe(1);
    expect(got.slice(1)).toEqual(range(14, 20));
    expect(cursor.lost).toBe(14 - 2);
    expect(cursor.sequence).toBe(20);
  });

  test("a cursor created behind the window starts at the oldest record and counts the gap", () => {
    const [writer, log] = newLog(4, 2);
    appendValues(writer, 0, 20);
    const cursor = log.cursor({ from: 5 });
    expect(drain(cursor).map(([s]) => s)).toEqual(range(14, 20));
    expect(cursor.lost).toBe(9);
  });

  test("a cursor can wait for a future sequence", () => {
    const [writer, log] = newLog(8, 2);
    const cursor = log.cursor({ from: 5 });
    appendValues(writer, 0, 4);
    expect(drain(cursor)).toEqual([]);
    appendValues(writer, 4, 7);
    expect(drain(cursor).map(([s]) => s)).toEqual([5, 6]);
  });

  test("take() hands out contiguous runs per segment, laps included", () => {
    const [writer, log] = newLog(4, 4); // window: 1 full segment + head
    const cursor = log.cursor({ from: "oldest" });
    expect(cursor.take().length).toBe(0);
    appendValues(writer, 0, 6);
    const runs: [number, number[]][] = [];
    for (let span = cursor.take(3); span.length > 0; span = cursor.take(3)) {
      const got: number[] = [];
      for (let i = 0; i < span.length; i++) got.push(span.at(i).id);
      runs.push([span.startSequence, got]);
    }
    expect(runs).toEqual([[0, [0, 1, 2]], [3, [3]], [4, [4, 5]]]);
    appendValues(writer, 6, 20); // laps the cursor: window is now 12..19
    const span = cursor.take();
    expect(span.startSequence).toBe(6); // the rest of its pinned segment 1 is still there
    expect(span.length).toBe(2);
    const next = cursor.take();
    expect(next.startSequence).toBe(12);
    expect(cursor.lost).toBe(4);
    expect(() => cursor.take(0)).toThrow(RangeError);
  });

  test("tryNext and hasNext walk record by record across segments", () => {
    const [writer, log] = newLog(16, 2);
    const cursor = log.cursor({ from: "oldest" });
    expect(cursor.hasNext()).toBe(false);
    expect(cursor.tryNext()).toBeNull();
    appendValues(writer, 0, 5);
    const seen: number[] = [];
    for (let v = cursor.tryNext(); v !== null; v = cursor.tryNext()) seen.push(v.id);
    expect(seen).toEqual(range(0, 5));
    expect(cursor.hasNext()).toBe(false);
    writer.append(tradeFor(5));
    expect(cursor.hasNext()).toBe(true);
  });

  test("a handler that throws leaves the cursor after that record", () => {
    const [writer, log] = newLog(16, 4);
    const cursor = log.cursor({ from: "oldest" });
    appendValues(writer, 0, 5);
    expect(() => cursor.poll((_, s) => {
      if (s === 2) throw new Error("boom");
    })).toThrow("boom");
    expect(cursor.sequence).toBe(3);
    expect(drain(cursor).map(([s]) => s)).toEqual([3, 4]);
  });

  test("ready() resolves on append without spinning, and times out with false", async () => {
    const [writer, log] = newLog(16, 4);
    const cursor = log.cursor();
    expect(await cursor.ready(20)).toBe(false);
    setTimeout(() => writer.append(tradeFor(1)), 10);
    expect(await cursor.ready(5000)).toBe(true);
    expect(drain(cursor).map(([, id]) => id)).toEqual([1]);
  });

  test("release() wakes a ready() that has no timeout", async () => {
    const [, log] = newLog(16, 4);
    const cursor = log.cursor();
    const waiting = cursor.ready();
    await sleep(5);
    cursor.release();
    expect(await Promise.race([waiting, sleep(2000).then(() => "hung")])).toBe(false);
  });

  test("two parked cursors both wake on one append", async () => {
    const [writer, log] = newLog(16, 4);
    const a = log.cursor();
    const b = log.cursor();
    const both = Promise.all([a.ready(5000), b.ready(5000)]);
    await sleep(5);
    writer.append(tradeFor(1));
    expect(await both).toEqual([true, true]);
  });

  test("async iteration yields records as they arrive", async () => {
    const [writer, log] = newLog(16, 4);
    const cursor = log.cursor();
    const timer = setInterval(() => writer.append(tradeFor(writer.nextSequence)), 2);
    const seen: number[] = [];
    for await (const view of cursor) {
      seen.push(view.id);
      if (seen.length === 10) cursor.release();
    }
    clearInterval(timer);
    expect(seen).toEqual(range(0, 10));
  });

  test("bad options and released cursors are typed errors", () => {
    const [, log] = newLog(16, 4);
    expect(() => log.cursor({ from: -1 })).toThrow(InvalidOptionError);
    expect(() => log.cursor({ from: "newest" as never })).toThrow(/from/);
    expect(() => log.cursor({ gated: 1 as never })).toThrow(/gated/);
    const cursor = log.cursor();
    expect(() => cursor.poll(() => {}, 0)).toThrow(RangeError);
    cursor.release();
    expect(() => cursor.poll(() => {})).toThrow(SnapshotReleasedError);
    expect(() => cursor.tryNext()).toThrow(SnapshotReleasedError);
    expect(log.stats().snapshotBudgetUsed).toBe(0);
  });
});

describe("gating", () => {
  test("tryAppend refuses to lap a gated cursor; append still laps it", () => {
    const [writer, log] = newLog(4, 2); // window = 3 segments = 6 records
    const gated = log.cursor({ from: "oldest", gated: true });
    let n = 0;
    while (writer.tryAppend(tradeFor(n))) n++;
    expect(n).toBe(6); // exactly a window: the seventh would evict segment 0
    expect(writer.canAppend()).toBe(false);
    expect(drain(gated, 2).map(([s]) => s)).toEqual([0, 1]);
    expect(writer.canAppend()).toBe(false); // still pinned to segment 0 until it moves on
    expect(drain(gated, 1).map(([s]) => s)).toEqual([2]); // entering segment 1 frees segment 0
    expect(writer.canAppend()).toBe(true);
    expect(writer.tryAppend(tradeFor(6))).toBe(true);
    // Plain append does not wait: it laps the gated cursor, which then reports the loss.
    appendValues(writer, 7, 30);
    drain(gated);
    expect(gated.lost).toBeGreaterThan(0);
    gated.release();
    expect(writer.tryAppend(tradeFor(30))).toBe(true);
  });

  test("ungated cursors never refuse the writer", () => {
    const [writer, log] = newLog(4, 2);
    log.cursor({ from: "oldest" });
    for (let v = 0; v < 100; v++) expect(writer.tryAppend(tradeFor(v))).toBe(true);
  });
});

describe("dispatcher", () => {
  test("fans out in order, isolates a throwing consumer, and counts per consumer", () => {
    const [writer, log] = newLog(64, 8);
    const a: number[] = [];
    const b: number[] = [];
    const dispatcher = new Dispatcher(log, [
      { name: "a", handle: (v) => a.push(v.id) },
      { name: "flaky", handle: (_, s) => { if (s % 3 === 0) throw new Error(`bad ${s}`); } },
      { name: "b", handle: (v, s) => b.push(s === v.id ? s : -1) },
    ], { from: "oldest" });
    appendValues(writer, 0, 10);
    expect(dispatcher.poll()).toBe(10);
    expect(a).toEqual(range(0, 10));
    expect(b).toEqual(range(0, 10));
    const [sa, flaky, sb] = dispatcher.stats();
    expect(sa).toMatchObject({ name: "a", records: 10, errors: 0, lost: 0 });
    expect(flaky).toMatchObject({ name: "flaky", records: 6, errors: 4 });
    expect((flaky!.lastError as Error).message).toBe("bad 9");
    expect(sb!.records).toBe(10);
  });

  test("lost records are reported to every consumer", () => {
    const [writer, log] = newLog(4, 2);
    const dispatcher = new Dispatcher(log, [{ name: "x", handle: () => {} }, { name: "y", handle: () => {} }], { from: "oldest" });
    appendValues(writer, 0, 30);
    expect(dispatcher.poll()).toBe(2 + 6); // its pinned segment 0 (records 0, 1), then the window 24..29
    for (const s of dispatcher.stats()) expect(s).toMatchObject({ lost: 22, records: 8 });
  });

  test("a gated consumer gates the writer", () => {
    const [writer, log] = newLog(4, 2);
    const dispatcher = new Dispatcher(log, [{ name: "must-see-all", gated: true, handle: () => {} }], { from: "oldest" });
    let n = 0;
    while (writer.tryAppend(tradeFor(n))) n++;
    expect(n).toBe(6);
    dispatcher.poll();
    expect(writer.tryAppend(tradeFor(n))).toBe(true);
    expect(dispatcher.stats()[0]).toMatchObject({ records: 6, lost: 0 });
  });

  test("run() drains until aborted", async () => {
    const [writer, log] = newLog(64, 8);
    let seen = 0;
    const dispatcher = new Dispatcher(log, [{ name: "count", handle: () => void seen++ }]);
    const stop = new AbortController();
    const running = dispatcher.run(stop.signal);
    for (let v = 0; v < 100; v++) {
      writer.append(tradeFor(v));
      if (v % 10 === 0) await sleep(1);
    }
    while (seen < 100) await sleep(1);
    stop.abort();
    await running;
    expect(seen).toBe(100);
  });

  test("rejects bad consumers", () => {
    const [, log] = newLog(4, 2);
    expect(() => new Dispatcher(log, [])).toThrow(InvalidOptionError);
    expect(() => new Dispatcher(log, [{ name: "x" } as never])).toThrow(/handle/);
  });
});
