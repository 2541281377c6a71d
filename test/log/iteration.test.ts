/** Every way of reading a snapshot yields the same records, across segment boundaries. */
import { expect, test } from "bun:test";
import { appendValues, ids, newLog, range } from "../support/log-helpers.ts";

test("for...of, iter(), forEach, at(), chunks (at and manual positioning) agree across segments", () => {
  const [writer, log] = newLog(10, 3);
  appendValues(writer, 0, 14); // window: 4 full segments + head = records 0..13 in segments 0..4
  const snap = log.snapshot();
  const expected = range(0, 14);
  expect(ids(snap)).toEqual(expected);
  expect([...snap].length).toBe(14);
  const ofIds: number[] = [];
  for (const v of snap) ofIds.push(v.id);
  expect(ofIds).toEqual(expected);
  expect(Array.from(snap.iter(), (v) => v.id)).toEqual(expected); // mapped while iterating: fine
  expect(Array.from(snap.iter()).map((v) => v.id)).toEqual(Array(14).fill(13)); // collected flyweights: one view
  expect(range(0, 14).map((i) => snap.at(i).id)).toEqual(expected);
  expect(range(0, 14).map((i) => snap.read(i).id)).toEqual(expected);
  const viaAt: number[] = [];
  const viaView: number[] = [];
  for (const chunk of snap.chunks()) {
    for (let i = 0; i < chunk.length; i++) viaAt.push(chunk.at(i).id);
    const view = chunk.view;
    for (let o = chunk.byteOffset; o < chunk.byteEnd; o += chunk.recordBytes) {
      view.byteOffset = o;
      viaView.push(view.id);
    }
    expect(() => chunk.at(chunk.length)).toThrow(RangeError);
    expect(() => chunk.at(-1)).toThrow(RangeError);
    expect(() => chunk.at(0.5)).toThrow(RangeError);
  }
  expect(viaAt).toEqual(expected);
  expect(viaView).toEqual(expected);
  expect(snap.chunks().map((c) => [c.sequence, c.startSequence, c.length])).toEqual([
    [0, 0, 3], [1, 3, 3], [2, 6, 3], [3, 9, 3], [4, 12, 2],
  ]);
});

test("a write span exposes manual positioning too", () => {
  const [writer, log] = newLog(64, 8);
  writer.append({ ts: 0, id: 0, price: 0, qty: 0, side: 0 });
  const span = writer.reserveMany(100);
  expect(span.length).toBe(7); // the rest of the head segment
  expect(span.startSequence).toBe(1);
  for (let i = 0; i < span.length; i++) {
    span.view.byteOffset = span.base + i * span.recordBytes;
    span.view.id = 1 + i;
  }
  writer.commit();
  expect(ids(log.snapshot())).toEqual(range(0, 8));
  expect(() => writer.reserveMany(0)).toThrow(RangeError);
});

test("for...of over a snapshot and over each chunk agrees with forEach at every fill level, empty head included", () => {
  const [writer, log] = newLog(7, 3);
  let next = 0;
  for (let fill = 0; fill < 24; fill++) {
    appendValues(writer, next, next + 1);
    next++;
    // A reserved, unpublished record: at a segment boundary it rolls to an empty head.
    writer.reserve().id = next;
    {
      const snap = log.snapshot();
      const viaEach: number[] = [];
      snap.forEach((v, s) => {
        expect(s).toBe(v.id);
        viaEach.push(v.id);
      });
      const viaOf: number[] = [];
      for (const v of snap) viaOf.push(v.id);
      const viaChunks: number[] = [];
      for (const chunk of snap.chunks()) for (const v of chunk) viaChunks.push(v.id);
      expect(viaOf).toEqual(viaEach);
      expect(viaChunks).toEqual(viaEach);
      expect(viaEach.length).toBe(snap.length);
      // A finished iterator stays finished.
      const it = snap[Symbol.iterator]();
      for (let i = 0; i < snap.length; i++) expect(it.next().done).toBe(false);
      expect(it.next().done).toBe(true);
      expect(it.next().done).toBe(true);
      snap.release();
    }
    writer.commit();
    next++;
  }
});
