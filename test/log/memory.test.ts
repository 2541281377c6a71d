/**
 * The memory bound: the pool never grows, the writer never waits, and held
 * snapshots that would pin more than the pool can spare are refused at
 * snapshot time — never by corrupting or changing a held snapshot.
 */
import { describe, expect, test } from "bun:test";
import { SnapshotBudgetError, TooManySnapshotsError } from "../../src/index.ts";
import { ids, newLog, range, tradeFor, type TradeSnapshot } from "../support/log-helpers.ts";
import { collectGarbage, sleep } from "../support/runtime.ts";

describe("memory bound", () => {
  test("held snapshots that would pin more than the pool spares are refused; the writer and held snapshots are untouched", () => {
    // window = 2 full + head = 3 segments; budget 6 segments = two full-window snapshots.
    const [writer, log] = newLog(4, 2, { snapshotBudget: 6 });
    expect(log.poolSegments).toBe(10); // + the takeover spare
    const held: [TradeSnapshot, number[]][] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 6; i++) writer.append(tradeFor(held.length * 6 + i));
      const snap = log.snapshot();
      held.push([snap, ids(snap)]);
    }
    expect(log.stats().snapshotBudgetUsed).toBe(6);
    expect(() => log.snapshot()).toThrow(SnapshotBudgetError);
    // The writer keeps going far past the pool size with every pinned segment out of the window.
    for (let v = 12; v < 500; v++) writer.append(tradeFor(v));
    for (const [snap, seen] of held) expect(ids(snap)).toEqual(seen);
    expect(ids(held[0]![0])).toEqual(range(0, 6));
    expect(ids(held[1]![0])).toEqual(range(6, 12));
    // Releasing one makes room again.
    held[0]![0].release();
    const fresh = log.snapshot();
    expect(ids(fresh)).toEqual(range(494, 500));
    expect(ids(held[1]![0])).toEqual(range(6, 12));
  });

  test("a refresh refused for budget leaves the snapshot exactly as it was", () => {
    const [writer, log] = newLog(4, 2, { snapshotBudget: 3 });
    writer.append(tradeFor(0));
    const small = log.snapshot(); // 1 segment
    const other = log.snapshot(); // 1 segment
    for (let v = 1; v < 6; v++) writer.append(tradeFor(v));
    expect(() => small.refresh()).toThrow(SnapshotBudgetError); // needs 3, only 2 free
    expect(ids(small)).toEqual([0]);
    other.release();
    small.refresh();
    expect(ids(small)).toEqual(range(0, 6));
  });

  test("maxSnapshots bounds live snapshots with a typed error", () => {
    const [, log] = newLog(4, 2, { maxSnapshots: 2 });
    const a = log.snapshot();
    log.snapshot();
    expect(() => log.snapshot()).toThrow(TooManySnapshotsError);
    a.release();
    expect(log.snapshot().length).toBe(0);
  });

  test("a snapshot dropped without release is released after garbage collection", async () => {
    const [writer, log] = newLog(4, 2);
    for (let v = 0; v < 6; v++) writer.append(tradeFor(v));
    (() => {
      log.snapshot(); // dropped on the floor
    })();
    expect(log.stats().snapshotBudgetUsed).toBe(3);
    for (let i = 0; i < 50 && log.stats().snapshotBudgetUsed !== 0; i++) {
      collectGarbage();
      await sleep(5);
    }
    expect(log.stats().snapshotBudgetUsed).toBe(0);
  });

  test("a writer dropped without release gives its claim back after garbage collection", async () => {
    const [writer, log] = newLog(4, 2);
    writer.append(tradeFor(0));
    (() => {
      writer.release();
      log.tryClaimWriter(); // claimed and dropped
    })();
    expect(log.isWriterClaimed()).toBe(true);
    for (let i = 0; i < 50 && log.isWriterClaimed(); i++) {
      collectGarbage();
      await sleep(5);
    }
    expect(log.isWriterClaimed()).toBe(false);
    expect(log.tryClaimWriter()!.nextSequence).toBe(1);
  });

  test("steady appending reuses the same segments (LIFO): only the window's segments are ever touched", () => {
    const [writer, log] = newLog(8, 4);
    for (let v = 0; v < 10_000; v++) writer.append(tradeFor(v));
    const state = (log as unknown as { state: { poolSegments: number; generationOf(p: number): number } }).state;
    let used = 0;
    for (let p = 0; p < state.poolSegments; p++) if (state.generationOf(p) > 0) used++;
    expect(used).toBe(log.retainedSegments + 1);
  });
});
