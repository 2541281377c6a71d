/** Sequence numbers stay exact near 2^32 and up to 2^53 - 1, with an injected starting sequence. */
import { describe, expect, test } from "bun:test";
import { SequenceOverflowError } from "../../src/index.ts";
import { ids, newLog, tradeFor } from "../support/log-helpers.ts";

describe("sequence numbers", () => {
  test("cross 2^32 without wrapping", () => {
    const S = 4096;
    const start = 2 ** 32 - 2 * S;
    const [writer, log] = newLog(2 * S, S, { initialSequence: start });
    expect(log.initialSequence).toBe(start);
    expect(writer.nextSequence).toBe(start);
    for (let i = 0; i < 4 * S; i++) writer.append(tradeFor(i));
    expect(writer.nextSequence).toBe(start + 4 * S);
    const snap = log.snapshot();
    expect(snap.startSequence).toBe(2 ** 32 - S);
    expect(snap.endSequence).toBe(2 ** 32 + 2 * S);
    const chunks = snap.chunks();
    expect(chunks.map((c) => c.sequence)).toEqual([2 ** 20 - 1, 2 ** 20, 2 ** 20 + 1]);
    expect(chunks[1]!.startSequence).toBe(2 ** 32);
    let expected = snap.startSequence;
    snap.forEach((view, seq) => {
      expect(seq).toBe(expected);
      expect(view.id).toBe((seq - start) >>> 0);
      expected++;
    });
  });

  test("reach 2^53 - 1 exactly, then refuse with a typed error", () => {
    const S = 4;
    const start = 2 ** 53 - 3 * S;
    const [writer, log] = newLog(8, S, { initialSequence: start });
    for (let i = 0; i < 3 * S; i++) writer.append(tradeFor(i));
    expect(writer.nextSequence).toBe(2 ** 53);
    const snap = log.snapshot();
    expect(snap.endSequence).toBe(2 ** 53);
    expect(snap.sequenceAt(snap.length - 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(ids(snap)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(() => writer.append(tradeFor(99))).toThrow(SequenceOverflowError);
    // The failed roll changed nothing readers can see.
    expect(ids(log.snapshot())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(() => writer.append(tradeFor(99))).toThrow(SequenceOverflowError);
  });

  test("segment sequences above 2^32 survive a writer hand-over", () => {
    const S = 2;
    const start = 2 ** 33 * S;
    const [writer, log] = newLog(4, S, { initialSequence: start });
    for (let i = 0; i < 7; i++) writer.append(tradeFor(i));
    writer.release();
    const again = log.tryClaimWriter()!;
    expect(again.nextSequence).toBe(start + 7);
    again.append(tradeFor(7));
    expect(log.snapshot().chunks().map((c) => c.sequence)).toEqual([2 ** 33 + 1, 2 ** 33 + 2, 2 ** 33 + 3]);
  });
});
