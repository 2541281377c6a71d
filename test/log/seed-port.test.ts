/**
 * Ports of the Rust seed crate's test module (atomic-log, src/lib.rs tests),
 * one `test` per seed test, same names. Where our refresh trims the front to
 * the retention window, the expected values differ and the test says why.
 */
import { describe, expect, test } from "bun:test";
import { AtomicLog, Snapshot } from "../../src/index.ts";
import { Trade } from "../support/trade.ts";
import { appendValues, ids, newLog, range, tradeFor } from "../support/log-helpers.ts";
import { sleep } from "../support/runtime.ts";

describe("seed crate tests", () => {
  test("empty_snapshot_is_empty", () => {
    const [_writer, log] = newLog(4, 2);
    const snapshot = log.snapshot();
    expect(snapshot.isEmpty()).toBe(true);
    expect(snapshot.length).toBe(0);
    expect([...snapshot].length).toBe(0);
    expect(snapshot.chunks()).toEqual([]);
  });

  test("new_starts_without_claimed_writer", () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 4, segmentCapacity: 2 });
    expect(log.isWriterClaimed()).toBe(false);
    const writer = log.tryClaimWriter();
    expect(writer).not.toBeNull();
    expect(log.isWriterClaimed()).toBe(true);
  });

  test("snapshot_returns_full_retained_view", () => {
    const [writer, log] = newLog(5, 2);
    appendValues(writer, 0, 8);
    expect(ids(log.snapshot())).toEqual(range(0, 8));
  });

  test("snapshot_captures_full_retained_view", () => {
    const [writer, log] = newLog(8, 3);
    appendValues(writer, 0, 7);
    expect(ids(log.snapshot())).toEqual(range(0, 7));
  });

  test("chunk_iteration_exposes_segment_sequences", () => {
    const [writer, log] = newLog(6, 2);
    appendValues(writer, 0, 5);
    const chunks = log.snapshot().chunks().map((chunk) => [chunk.sequence, chunk.toArray().map((t) => t.id)]);
    expect(chunks).toEqual([
      [0, [0, 1]],
      [1, [2, 3]],
      [2, [4]],
    ]);
  });

  test("held_snapshot_remains_stable_after_reclamation", () => {
    const [writer, log] = newLog(3, 1);
    appendValues(writer, 0, 3);
    const snapshot = log.snapshot();
    appendValues(writer, 3, 20);
    expect(ids(snapshot)).toEqual([0, 1, 2]);
    expect(snapshot.toArray()).toEqual([0, 1, 2].map(tradeFor));
    expect(ids(log.snapshot())).toEqual([16, 17, 18, 19]);
  });

  test("refresh_replaces_snapshot_with_latest_view", () => {
    const [writer, log] = newLog(4, 2);
    appendValues(writer, 0, 4);
    const snapshot = log.snapshot();
    appendValues(writer, 4, 9);
    snapshot.refresh();
    // Seed expects [0..=8]: its refresh keeps the old front while the segments are
    // continuous. Ours trims to the window (2 full segments + head = segments 2, 3, 4),
    // so a refreshed snapshot never holds more than a fresh one would.
    expect(ids(snapshot)).toEqual([4, 5, 6, 7, 8]);
    expect(ids(snapshot)).toEqual(ids(log.snapshot()));
  });

  test("snapshot_refresh_extends_same_head_without_rebuild", () => {
    const [writer, log] = newLog(4, 8);
    appendValues(writer, 0, 2);
    const snapshot = log.snapshot();
    appendValues(writer, 2, 4);
    snapshot.refresh();
    expect(ids(snapshot)).toEqual([0, 1, 2, 3]);
    expect(snapshot.chunks().length).toBe(1);
  });

  test("snapshot_refresh_appends_new_segments_when_continuous", () => {
    const [writer, log] = newLog(5, 2);
    appendValues(writer, 0, 3);
    const snapshot = log.snapshot();
    appendValues(writer, 3, 6);
    snapshot.refresh();
    expect(ids(snapshot)).toEqual(range(0, 6));
    expect(snapshot.chunks().length).toBe(3);
  });

  test("writer_drop_preserves_retained_segments_for_refresh", () => {
    const [writer, log] = newLog(4, 2);
    appendValues(writer, 0, 3);
    const snapshot = log.snapshot();
    appendValues(writer, 3, 6);
    writer.release();
    expect(log.isWriterClaimed()).toBe(false);
    snapshot.refresh();
    expect(ids(snapshot)).toEqual(range(0, 6));
    expect(ids(log.snapshot())).toEqual(range(0, 6));
  });

  test("writer_can_be_reclaimed_after_drop", () => {
    const [writer, log] = newLog(4, 2);
    appendValues(writer, 0, 3);
    writer[Symbol.dispose]();
    const again = log.tryClaimWriter();
    expect(again).not.toBeNull();
    expect(again!.nextSequence).toBe(3);
    appendValues(again!, 3, 5);
    expect(ids(log.snapshot())).toEqual(range(0, 5));
  });

  test("writer_cannot_be_reclaimed_while_existing_writer_lives", () => {
    const [writer, log] = newLog(4, 2);
    expect(log.tryClaimWriter()).toBeNull();
    expect(log.tryClaimWriter()).toBeNull();
    writer.release();
    expect(log.tryClaimWriter()).not.toBeNull();
    expect(log.tryClaimWriter()).toBeNull();
  });

  test("drops_only_initialized_values (no unpublished slot is ever visible)", () => {
    const [writer, log] = newLog(10, 8);
    appendValues(writer, 0, 3);
    const view = writer.reserve();
    view.id = 99;
    expect(log.snapshot().length).toBe(3); // reserved and filled, not committed
    expect(() => writer.append({ ...tradeFor(5), qty: -1 })).toThrow(RangeError);
    expect(() => writer.append({ ts: 1 } as never)).toThrow(TypeError);
    expect(log.snapshot().length).toBe(3); // failed appends publish nothing
    writer.commit();
    expect(ids(log.snapshot())).toEqual([0, 1, 2, 99]);
  });

  test("many_readers_can_snapshot_while_writer_appends", () => {
    // The threaded version (real workers) lives in the worker tests; here four
    // readers interleave with the writer on one thread, at every step.
    const [writer, log] = newLog(64, 8);
    const readers = [log, log, log, log];
    for (let value = 0; value < 1000; value++) {
      writer.append(tradeFor(value));
      for (const reader of readers) {
        // `using` releases at the end of the block, like the seed's drop at end of statement.
        using snapshot = reader.snapshot();
        const values = ids(snapshot);
        for (let i = 1; i < values.length; i++) expect(values[i]).toBe(values[i - 1]! + 1);
        expect(values.at(-1)).toBe(value);
      }
    }
  });

  test("writer_can_be_shared_through_a_lock_when_requested", async () => {
    const [writer, log] = newLog(8, 2);
    // A promise-chain mutex: the JS analogue of Arc<Mutex<Writer>> across tasks.
    let lock: Promise<void> = Promise.resolve();
    const withWriter = (fn: () => void) => (lock = lock.then(async () => {
      await sleep(1);
      fn();
    }));
    await Promise.all([withWriter(() => writer.append(tradeFor(1))), withWriter(() => writer.append(tradeFor(2)))]);
    const values = ids(log.snapshot());
    expect(values.length).toBe(2);
    expect(values).toContain(1);
    expect(values).toContain(2);
  });

  test("log_snapshot_and_writer_conversions_round_trip", () => {
    const [writer, log] = newLog(8, 2);
    appendValues(writer, 0, 5);
    const logFromWriter = writer.log();
    const snapshot = Snapshot.from(logFromWriter);
    const logFromSnapshot = AtomicLog.from(snapshot);
    expect(ids(logFromSnapshot.snapshot())).toEqual(range(0, 5));
    expect(AtomicLog.from(writer)).toBe(log);
    const cloned = log.snapshot().log();
    expect(ids(cloned.snapshot())).toEqual(range(0, 5));
  });
});
