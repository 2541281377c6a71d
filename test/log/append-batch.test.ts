/**
 * The six append_batch cases. The seed's bodies were not available to port
 * verbatim; these cover the same ground by name: empty, within the head,
 * exactly filling a segment, spanning segments, larger than the window, and
 * interleaved with single appends — plus the failure contract.
 */
import { describe, expect, test } from "bun:test";
import { FieldRangeError, WriterReleasedError } from "../../src/index.ts";
import { appendValues, ids, newLog, range, tradeFor } from "../support/log-helpers.ts";

describe("appendBatch", () => {
  test("append_batch_empty_is_a_no_op", () => {
    const [writer, log] = newLog(4, 2);
    expect(writer.appendBatch([])).toBe(0);
    expect(log.snapshot().isEmpty()).toBe(true);
    expect(writer.nextSequence).toBe(0);
  });

  test("append_batch_within_head_segment", () => {
    const [writer, log] = newLog(8, 8);
    expect(writer.appendBatch(range(0, 5).map(tradeFor))).toBe(5);
    const snap = log.snapshot();
    expect(ids(snap)).toEqual(range(0, 5));
    expect(snap.chunks().length).toBe(1);
  });

  test("append_batch_fills_segment_exactly", () => {
    const [writer, log] = newLog(8, 4);
    writer.appendBatch(range(0, 4).map(tradeFor));
    const chunks = log.snapshot().chunks();
    expect(chunks.map((c) => [c.sequence, c.length])).toEqual([[0, 4]]);
    writer.append(tradeFor(4));
    expect(log.snapshot().chunks().map((c) => [c.sequence, c.length])).toEqual([[0, 4], [1, 1]]);
  });

  test("append_batch_spans_segments", () => {
    const [writer, log] = newLog(16, 4);
    writer.appendBatch(range(0, 11).map(tradeFor));
    const snap = log.snapshot();
    expect(ids(snap)).toEqual(range(0, 11));
    expect(snap.chunks().map((c) => [c.sequence, c.length])).toEqual([[0, 4], [1, 4], [2, 3]]);
  });

  test("append_batch_larger_than_retention_keeps_the_window", () => {
    const [writer, log] = newLog(4, 2);
    // A generator, to show any iterable works and nothing is materialised up front.
    function* values() {
      for (let v = 0; v < 25; v++) yield tradeFor(v);
    }
    expect(writer.appendBatch(values())).toBe(25);
    // window: ceil(4/2) = 2 full segments + head (segment 12 holds record 24)
    expect(ids(log.snapshot())).toEqual(range(20, 25));
  });

  test("append_batch_interleaves_with_single_appends", () => {
    const [writer, log] = newLog(32, 4);
    appendValues(writer, 0, 3);
    writer.appendBatch(range(3, 9).map(tradeFor));
    appendValues(writer, 9, 10);
    writer.appendBatch(range(10, 13).map(tradeFor));
    expect(ids(log.snapshot())).toEqual(range(0, 13));
    expect(writer.nextSequence).toBe(13);
  });

  test("a bad record publishes the records before it and none after", () => {
    const [writer, log] = newLog(32, 4);
    const batch = [tradeFor(0), tradeFor(1), { ...tradeFor(2), side: 300 }, tradeFor(3)];
    expect(() => writer.appendBatch(batch)).toThrow(FieldRangeError);
    expect(ids(log.snapshot())).toEqual([0, 1]);
    writer.append(tradeFor(2));
    expect(ids(log.snapshot())).toEqual([0, 1, 2]);
  });

  test("a bad record at any position, in an array or any iterable, across segment boundaries: exactly the prefix is published", () => {
    for (const form of ["array", "generator"] as const) {
      for (const before of [0, 1, 3, 4, 5]) {
        for (let bad = 0; bad < 10; bad++) {
          const [writer, log] = newLog(64, 4);
          appendValues(writer, 0, before);
          const batch = range(before, before + 10).map(tradeFor);
          batch[bad] = { ...batch[bad]!, id: -1 };
          const input = form === "array" ? batch : (function* () { yield* batch; })();
          expect(() => writer.appendBatch(input)).toThrow(FieldRangeError);
          expect(ids(log.snapshot())).toEqual(range(0, before + bad));
          expect(writer.nextSequence).toBe(before + bad);
          writer.append(tradeFor(before + bad)); // continues exactly after the prefix
          expect(ids(log.snapshot())).toEqual(range(0, before + bad + 1));
        }
      }
    }
  });

  test("appendBatch on a released writer is a typed error", () => {
    const [writer] = newLog(4, 2);
    writer.release();
    expect(() => writer.appendBatch([tradeFor(0)])).toThrow(WriterReleasedError);
    expect(() => writer.reserve()).toThrow(WriterReleasedError);
    expect(() => writer.commit()).toThrow(WriterReleasedError);
  });
});
