/**
 * Regression tests for the defects an outside review and black-box tests
 * found (the shared-memory ones also have interleaving scenarios under
 * test/interleave/). Each test names its defect.
 */
import { describe, expect, test } from "bun:test";
import {
  AtomicLog,
  Dispatcher,
  FieldRangeError,
  InvalidOptionError,
  RecordFieldError,
  SnapshotReleasedError,
  WriterReleasedError,
  WriterTakeoverPendingError,
} from "../../src/index.ts";
import { appendValues, ids, newLog, range, tradeFor } from "../support/log-helpers.ts";
import { Trade, type TradeData } from "../support/trade.ts";
import { collectGarbage, sleep } from "../support/runtime.ts";

/** Runs the garbage collector until finalizers have had their chance. */
async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    collectGarbage();
    await sleep(1);
  }
}

describe("defect 1: releasing a cursor or dispatcher from its own handler", () => {
  test("release inside poll stops delivery at once; later snapshots read the right records", () => {
    const [writer, log] = newLog(8, 4);
    appendValues(writer, 0, 6);
    const cursor = log.cursor({ from: "oldest" });
    const seen: number[] = [];
    const delivered = cursor.poll((view, seq) => {
      seen.push(seq);
      cursor.release();
    });
    expect(seen).toEqual([0]);
    expect(delivered).toBe(1);
    expect(() => cursor.poll(() => {})).toThrow(SnapshotReleasedError);
    appendValues(writer, 6, 40); // recycle the window several times
    const snap = log.snapshot();
    snap.forEach((view, seq) => expect(view.id).toBe(seq));
    expect(log.stats().pins).toBe(1);
    snap.release();
    expect(log.stats()).toMatchObject({ pins: 0, snapshotBudgetUsed: 0 });
  });

  test("a dispatcher released by a consumer: no consumer sees another record, not even the rest of this one's", () => {
    const [writer, log] = newLog(8, 4);
    const calls: string[] = [];
    const dispatcher: Dispatcher<typeof Trade extends { view(): infer V } ? V : never, TradeData> = new Dispatcher(
      log,
      [
        {
          name: "first",
          handle: (_v, seq) => {
            calls.push(`first ${seq}`);
            if (seq === 2) dispatcher.release();
          },
        },
        { name: "second", handle: (_v, seq) => calls.push(`second ${seq}`) },
      ],
      { from: "oldest" },
    );
    appendValues(writer, 0, 6);
    expect(dispatcher.poll()).toBe(3);
    expect(calls).toEqual(["first 0", "second 0", "first 1", "second 1", "first 2"]);
    expect(dispatcher.cursor.isReleased).toBe(true);
    expect(log.stats().pins).toBe(0);
  });
});

describe("defect 4: derived objects keep their snapshot or cursor (and its pin) alive", () => {
  test("chunks, at() views, iterators and take() spans outlive a dropped owner safely", async () => {
    const [writer, log] = newLog(8, 4, { snapshotBudget: 12 });
    appendValues(writer, 0, 12);
    const keep = (() => {
      const snap = log.snapshot();
      const chunks = snap.chunks();
      const view = snap.at(0);
      const iterator = log.snapshot()[Symbol.iterator]();
      const cursor = log.cursor({ from: "oldest" });
      const span = cursor.take(2);
      return { chunks, view, iterator, span };
    })(); // every owner is unreachable from here on, but what it handed out is not
    await collect();
    expect(log.stats().pins).toBe(3);
    appendValues(writer, 12, 200); // recycle the window many times over
    expect(keep.chunks.flatMap((c) => c.toArray().map((d) => d.id))).toEqual(range(0, 12));
    expect(keep.view.id).toBe(0);
    const first = keep.iterator.next();
    expect(first.done).toBe(false);
    expect((first.value as { id: number }).id).toBe(0);
    expect([keep.span.at(0).id, keep.span.at(1).id]).toEqual([0, 1]);
  });

  test("once nothing derived is reachable either, the pins are released by the collector", async () => {
    const [writer, log] = newLog(8, 4);
    appendValues(writer, 0, 6);
    (() => {
      log.snapshot().chunks();
      log.cursor({ from: "oldest" }).take();
    })();
    await collect();
    expect(log.stats()).toMatchObject({ pins: 0, snapshotBudgetUsed: 0 });
    writer.release();
  });
});

describe("defect 5: forceClaimWriter while the old writer still runs", () => {
  test("the old writer publishes nothing more; published records never change; the new writer continues", () => {
    const [old, log] = newLog(8, 4);
    appendValues(old, 0, 6);
    const held = old.reserve(); // reserved and filled, never published
    Trade.write(held, tradeFor(999));
    const replacement = log.forceClaimWriter();
    expect(old.holdsClaim()).toBe(false);
    expect(replacement.nextSequence).toBe(6);
    appendValues(replacement, 6, 8);
    expect(() => old.commit()).toThrow(WriterReleasedError);
    expect(old.wasTakenOver).toBe(true);
    try {
      old.append(tradeFor(777));
    } catch (error) {
      expect((error as WriterReleasedError).takenOver).toBe(true);
    }
    old.release(); // quiet, publishes nothing
    expect(ids(log.snapshot())).toEqual(range(0, 8));
    appendValues(replacement, 8, 40);
    const snap = log.snapshot();
    snap.forEach((view, seq) => expect(view.id).toBe(seq));
    snap.release();
  });

  test("a second takeover waits until the first one's old writer stopped (or its thread was recovered)", () => {
    const [old, log] = newLog(8, 4);
    appendValues(old, 0, 3);
    const second = log.forceClaimWriter();
    expect(() => log.forceClaimWriter()).toThrow(WriterTakeoverPendingError);
    expect(() => old.commit()).toThrow(WriterReleasedError); // the old writer notices, and says so
    appendValues(second, 3, 40); // the quarantined head leaves the window
    const third = log.forceClaimWriter();
    appendValues(third, 40, 44);
    expect(log.stats().nextSequence).toBe(44);
  });

  test("a writer that released after being fenced still reports the takeover", () => {
    const [old, log] = newLog(8, 4);
    appendValues(old, 0, 2);
    log.forceClaimWriter();
    old.release();
    expect(old.wasTakenOver).toBe(true);
    expect(() => old.commit()).toThrow(expect.objectContaining({ takenOver: true }));
  });
});

describe("defect 8: a fractional max", () => {
  test("take() and poll() reject fractions, zero, NaN and negatives with InvalidOptionError", () => {
    const [writer, log] = newLog(8, 4);
    appendValues(writer, 0, 4);
    const cursor = log.cursor({ from: "oldest" });
    for (const bad of [1.5, 0, -1, Number.NaN, 0.5]) {
      expect(() => cursor.take(bad)).toThrow(InvalidOptionError);
      expect(() => cursor.poll(() => {}, bad)).toThrow(InvalidOptionError);
    }
    expect(cursor.take(Number.POSITIVE_INFINITY).length).toBe(4);
  });
});

describe("defect 10: a rejected record changes nothing, not even on a full head", () => {
  const bad = { ...tradeFor(1), price: "not a number" } as unknown as TradeData;
  const tooBig = { ...tradeFor(1), qty: 2 ** 40 };

  for (const form of ["append", "tryAppend", "appendBatch"] as const) {
    test(`${form}: the window does not roll and no cursor loses records`, () => {
      const [writer, log] = newLog(4, 4); // window: 1 full segment + the head
      appendValues(writer, 0, 8); // the head is full: the next append would roll and evict
      const cursor = log.cursor({ from: "oldest" });
      const before = log.stats();
      for (const record of [bad, tooBig]) {
        const attempt = () => {
          if (form === "append") writer.append(record);
          else if (form === "tryAppend") writer.tryAppend(record);
          else writer.appendBatch([record]);
        };
        expect(attempt).toThrow(record === bad ? RecordFieldError : FieldRangeError);
      }
      expect(log.stats()).toEqual(before);
      const seen: number[] = [];
      cursor.poll((view, seq) => seen.push(seq));
      expect(seen).toEqual(range(0, 8));
      expect(cursor.lost).toBe(0);
      writer.append(tradeFor(8)); // a good record still rolls as usual
      expect(log.stats().nextSequence).toBe(9);
    });
  }
});

describe("defect 11: appendBatch whose iterable throws", () => {
  test("the prefix is published at once, and a later commit publishes nothing extra", () => {
    const [writer, log] = newLog(16, 8);
    function* failing(): Generator<TradeData> {
      yield tradeFor(0);
      yield tradeFor(1);
      throw new Error("source failed");
    }
    expect(() => writer.appendBatch(failing())).toThrow("source failed");
    expect(ids(log.snapshot())).toEqual([0, 1]);
    writer.commit();
    expect(log.stats().nextSequence).toBe(2);
    appendValues(writer, 2, 4);
    expect(ids(log.snapshot())).toEqual([0, 1, 2, 3]);
  });
});

describe("appendBatch when the claim is taken over while its iterable runs", () => {
  test("the error that stopped the batch is the one thrown; nothing of the batch is published", () => {
    const [old, log] = newLog(8, 4);
    function* failing(): Generator<TradeData> {
      yield tradeFor(0);
      log.forceClaimWriter();
      throw new Error("source failed");
    }
    expect(() => old.appendBatch(failing())).toThrow("source failed");
    expect(old.wasTakenOver).toBe(true);
    expect(log.stats().nextSequence).toBe(0);
  });
});

describe("defect 9: recovery API", () => {
  test("recoverThread with a closed Bun worker's -1 is an InvalidOptionError that points at watch()", () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 8, segmentCapacity: 4 });
    expect(() => log.recoverThread(-1)).toThrow(InvalidOptionError);
    expect(() => log.recoverThread(-1)).toThrow(/watch/);
    expect(() => log.recoverThread({ threadId: -1 })).toThrow(InvalidOptionError);
    expect(() => log.watch({ threadId: -1, addEventListener() {} })).toThrow(InvalidOptionError);
    expect(log.recoverThread({ threadId: 12345 })).toEqual({ writerReleased: false, pinsReleased: 0, segmentsReturned: 0 });
  });

  test("two recoveries of the same thread free its pins and budget once", () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 8, segmentCapacity: 4 });
    const snap = log.snapshot(); // owned by this thread (the main thread, id 0)
    expect(log.recoverThread(0).pinsReleased).toBe(1);
    expect(log.recoverThread(0).pinsReleased).toBe(0);
    expect(log.stats()).toMatchObject({ pins: 0, snapshotBudgetUsed: 0 });
    snap.release(); // the owner's own release is now a no-op
    expect(log.stats().snapshotBudgetUsed).toBe(0);
  });
});
