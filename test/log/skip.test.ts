/**
 * Gaps: `writer.skipTo(sequence)` and `writer.closeSegment()` close the head
 * early; the sequences after its last record are never written. Snapshots
 * hold only records (every reading form agrees), cursors skip the gap and
 * count it as lost, and appending continues at the target.
 */
import { describe, expect, test } from "bun:test";
import { AtomicLog, InvalidOptionError } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { newLog, range, tradeFor } from "../support/log-helpers.ts";

type TradeLog = ReturnType<typeof newLog>[1];

/** Every reading form of a snapshot, as [sequence, id] pairs; they must all agree. */
function readAll(log: TradeLog): number[] {
  const snap = log.snapshot();
  const viaEach: number[] = [];
  snap.forEach((v, seq) => {
    expect(v.id).toBe(seq);
    viaEach.push(seq);
  });
  const viaOf: number[] = [];
  for (const v of snap) viaOf.push(v.id);
  const viaChunks: number[] = [];
  for (const chunk of snap.chunks()) {
    for (let i = 0; i < chunk.length; i++) {
      expect(chunk.at(i).id).toBe(chunk.startSequence + i);
      viaChunks.push(chunk.startSequence + i);
    }
  }
  const viaAt = range(0, snap.length).map((i) => {
    expect(snap.at(i).id).toBe(snap.sequenceAt(i));
    return snap.sequenceAt(i);
  });
  expect(viaOf).toEqual(viaEach);
  expect(viaChunks).toEqual(viaEach);
  expect(viaAt).toEqual(viaEach);
  expect(snap.length).toBe(viaEach.length);
  // endSequence is where the log stood: after a gap at the end, past the last record + 1.
  expect(snap.endSequence).toBe(log.stats().nextSequence);
  if (viaEach.length > 0) {
    expect(snap.startSequence).toBeLessThanOrEqual(viaEach[0]!);
    expect(snap.endSequence).toBeGreaterThanOrEqual(viaEach[viaEach.length - 1]! + 1);
  }
  snap.release();
  return viaEach;
}

const appendTo = (writer: ReturnType<typeof newLog>[0], from: number, to: number) => {
  for (let s = from; s < to; s++) writer.append(tradeFor(s));
};

describe("skipTo", () => {
  test("to the next segment boundary: the head is closed early, the rest of it is a gap", () => {
    const [writer, log] = newLog(16, 4); // R = 4
    appendTo(writer, 0, 6); // segments 0 (full), 1 (4, 5)
    writer.skipTo(8);
    expect(writer.nextSequence).toBe(8);
    appendTo(writer, 8, 11);
    expect(readAll(log)).toEqual([0, 1, 2, 3, 4, 5, 8, 9, 10]);
    const snap = log.snapshot();
    expect(snap.length).toBe(9);
    expect([snap.startSequence, snap.endSequence]).toEqual([0, 11]);
    expect(snap.chunks().map((c) => [c.sequence, c.startSequence, c.length])).toEqual([
      [0, 0, 4],
      [1, 4, 2],
      [2, 8, 3],
    ]);
    snap.release();
  });

  test("several segments ahead within the window: empty closed segments keep the records before the gap", () => {
    const [writer, log] = newLog(16, 4);
    appendTo(writer, 0, 3);
    writer.skipTo(12); // segments 0 (3 records, closed), 1 and 2 (empty, closed), head 3
    appendTo(writer, 12, 14);
    expect(readAll(log)).toEqual([0, 1, 2, 12, 13]);
    expect(log.stats()).toMatchObject({ nextSequence: 14, oldestSequence: 0 });
  });

  test("more than a window ahead: the old window leaves entirely and the log continues at the target", () => {
    const [writer, log] = newLog(8, 4); // R = 2
    appendTo(writer, 0, 10);
    writer.skipTo(1000);
    expect(readAll(log)).toEqual([]);
    expect(log.stats()).toMatchObject({ nextSequence: 1000, oldestSequence: 1000, windowLength: 0 });
    appendTo(writer, 1000, 1011);
    expect(readAll(log)).toEqual(range(1000, 1011));
    // Retention works as before after the jump.
    appendTo(writer, 1011, 1030);
    expect(readAll(log)).toEqual(range(1020, 1030)); // the head (1028..1031) and 2 full segments
  });

  test("skipTo(next) only commits; a full head rolls normally; reserved records are published first", () => {
    const [writer, log] = newLog(16, 4);
    appendTo(writer, 0, 4);
    writer.reserve().id = 4;
    writer.reserve().id = 5;
    writer.skipTo(6); // the next sequence: publishes the two reserved records
    expect(readAll(log).length).toBe(6);
    appendTo(writer, 6, 8); // head full
    writer.skipTo(8);
    appendTo(writer, 8, 9);
    expect(readAll(log)).toEqual(range(0, 9));
    writer.reserve().id = 9;
    writer.skipTo(12); // publishes 9, then the gap 10, 11
    expect(readAll(log)).toEqual([...range(0, 10)]);
    appendTo(writer, 12, 13);
    expect(readAll(log)).toEqual([...range(0, 10), 12]);
  });

  test("bad targets are InvalidOptionErrors naming the option and what is allowed", () => {
    const [writer] = newLog(16, 4);
    appendTo(writer, 0, 5);
    for (const bad of [4, 6, 7, 9, -1, 1.5, Number.NaN, "8" as unknown as number, 2 ** 53]) {
      const error = (() => {
        try {
          writer.skipTo(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe("sequence");
    }
    expect(writer.nextSequence).toBe(5); // nothing changed
  });

  test("a cursor skips the gap and counts it as lost; ready() does not wake for a gap alone", async () => {
    const [writer, log] = newLog(32, 4);
    const cursor = log.cursor({ from: 0 });
    appendTo(writer, 0, 2);
    writer.skipTo(12); // gap 2..11: the rest of segment 0 and two empty segments
    const seen: number[] = [];
    cursor.poll((v, seq) => {
      expect(v.id).toBe(seq);
      seen.push(seq);
    });
    expect(seen).toEqual([0, 1]);
    expect(cursor.hasNext()).toBe(false);
    expect(await cursor.ready(20)).toBe(false); // nothing after the gap yet
    appendTo(writer, 12, 14);
    expect(await cursor.ready(1000)).toBe(true);
    const v = cursor.tryNext()!;
    expect(v.id).toBe(12);
    expect(cursor.lost).toBe(10);
    expect(cursor.take().length).toBe(1);
    expect(cursor.sequence).toBe(14);
    cursor.release();
  });

  test("closeSegment() closes a head that holds records and does nothing on an empty one", () => {
    const [writer, log] = newLog(16, 4);
    expect(writer.closeSegment()).toBe(false);
    appendTo(writer, 0, 2);
    expect(writer.closeSegment()).toBe(true);
    expect(writer.nextSequence).toBe(4);
    expect(writer.closeSegment()).toBe(false);
    appendTo(writer, 4, 5);
    expect(readAll(log)).toEqual([0, 1, 4]);
  });

  test("a writer claimed in another worker after a gap continues after it (the closed head is left)", () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 16, segmentCapacity: 4 });
    let writer = log.tryClaimWriter()!;
    appendTo(writer, 0, 2);
    writer.skipTo(4);
    writer.release();
    writer = log.tryClaimWriter()!;
    expect(writer.nextSequence).toBe(4);
    appendTo(writer, 4, 5);
    expect(readAll(log)).toEqual([0, 1, 4]);
  });

  test("random gaps against a model: snapshots and a tailing cursor agree with what was written", () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 30; round++) {
      const S = 1 + rnd(5);
      const [writer, log] = newLog(1 + rnd(20), S);
      const cursor = log.cursor({ from: 0 });
      const written: number[] = [];
      let delivered = 0;
      for (let step = 0; step < 60; step++) {
        const op = rnd(10);
        if (op < 7) {
          const s = writer.nextSequence;
          writer.append(tradeFor(s));
          written.push(s);
        } else if (op < 9) {
          const next = writer.nextSequence;
          const boundary = (Math.floor(next / S) + 1 + rnd(4)) * S;
          writer.skipTo(rnd(3) === 0 ? next : boundary);
        } else {
          writer.closeSegment();
        }
        if (rnd(3) === 0) delivered += cursor.poll((v, seq) => expect(v.id).toBe(seq));
      }
      delivered += cursor.poll((v, seq) => expect(v.id).toBe(seq));
      const inWindow = readAll(log);
      const oldest = log.stats().oldestSequence;
      expect(inWindow).toEqual(written.filter((s) => s >= oldest));
      expect(delivered + cursor.lost).toBe(writer.nextSequence);
      cursor.release();
    }
  });
});

describe("appendRaw", () => {
  test("copies whole records of the same layout across segments, and refuses another layout or a partial record", () => {
    const [source, srcLog] = newLog(64, 4);
    appendTo(source, 0, 11);
    const bytes: Uint8Array[] = [];
    for (const chunk of srcLog.snapshot().chunks()) {
      bytes.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length * chunk.recordBytes).slice());
    }
    const [writer, log] = newLog(64, 4);
    expect(writer.appendRaw(bytes[0]!, Trade.fingerprint)).toBe(4);
    const joined = new Uint8Array([...bytes[1]!, ...bytes[2]!]);
    expect(writer.appendRaw(joined, Trade.fingerprint)).toBe(7); // crosses a segment boundary
    expect(readAll(log)).toEqual(range(0, 11));
    expect(() => writer.appendRaw(bytes[0]!, "0000000000000000")).toThrow(/fingerprint/);
    expect(() => writer.appendRaw(bytes[0]!.subarray(0, 33), Trade.fingerprint)).toThrow(InvalidOptionError);
    expect(() => writer.appendRaw("x" as unknown as Uint8Array, Trade.fingerprint)).toThrow(InvalidOptionError);
    expect(writer.nextSequence).toBe(11); // nothing appended by the failures
    expect(writer.appendRaw(new Uint8Array(0), Trade.fingerprint)).toBe(0);
  });
});
