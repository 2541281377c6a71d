/** Bad input to the log: options, codecs, records, indices and released handles. */
import { describe, expect, test } from "bun:test";
import {
  AtomicLog,
  InvalidOptionError,
  RecordFieldError,
  SnapshotReleasedError,
  WriterReleasedError,
} from "../../src/index.ts";
import { Trade } from "../support/trade.ts";
import { newLog, tradeFor } from "../support/log-helpers.ts";

const good = { retainedCapacity: 16, segmentCapacity: 4 };

describe("options", () => {
  const bad: [string, unknown][] = [
    ["segmentCapacity", 0],
    ["segmentCapacity", -4],
    ["segmentCapacity", 2.5],
    ["segmentCapacity", Number.NaN],
    ["segmentCapacity", "4"],
    ["segmentCapacity", 2 ** 40],
    ["retainedCapacity", 0],
    ["retainedCapacity", -1],
    ["retainedCapacity", 1.5],
    ["retainedCapacity", Infinity],
    ["retainedCapacity", 1e15],
    ["snapshotBudget", 0],
    ["snapshotBudget", 1e12],
    ["maxSnapshots", 0],
    ["initialSequence", 3],
    ["initialSequence", -4],
    ["initialSequence", 2 ** 60],
    ["preTouch", "yes"],
  ];
  for (const [option, value] of bad) {
    test(`${option} = ${String(value)} is a RangeError naming the option and the value`, () => {
      let caught: unknown;
      try {
        AtomicLog.create(Trade, { ...good, [option]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RangeError);
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(option);
      expect((caught as Error).message).toContain(option);
      expect((caught as Error).message).toContain(String(value === "yes" ? '"yes"' : value));
    });
  }

  test("missing options object", () => {
    expect(() => AtomicLog.create(Trade, undefined as never)).toThrow(InvalidOptionError);
  });

  test("something that is not a codec", () => {
    expect(() => AtomicLog.create({} as never, good)).toThrow(/codec/);
  });

  test("the pool is the window plus the budget", () => {
    const log = AtomicLog.create(Trade, { ...good, snapshotBudget: 10 });
    expect(log.retainedSegments).toBe(4);
    expect(log.poolSegments).toBe(5 + 10);
  });
});

describe("records", () => {
  test("a missing field is a TypeError naming the field", () => {
    const [writer] = newLog(4, 2);
    const { price: _omit, ...rest } = tradeFor(1);
    expect(() => writer.append(rest as never)).toThrow(RecordFieldError);
    expect(() => writer.append(rest as never)).toThrow(/Trade\.price is missing/);
  });

  test("a wrong type is a TypeError naming the field", () => {
    const [writer] = newLog(4, 2);
    expect(() => writer.append({ ...tradeFor(1), qty: "3" } as never)).toThrow(/Trade\.qty has the wrong type/);
    expect(() => writer.append(null as never)).toThrow(TypeError);
  });

  test("the view form is unchecked: out-of-range values wrap like typed arrays", () => {
    const [writer, log] = newLog(4, 2);
    const view = writer.reserve();
    view.side = 257;
    writer.commit();
    expect(log.snapshot().at(0).side).toBe(1);
  });
});

describe("released handles", () => {
  test("append on a released writer", () => {
    const [writer] = newLog(4, 2);
    writer.release();
    writer.release(); // idempotent
    expect(() => writer.append(tradeFor(1))).toThrow(WriterReleasedError);
  });

  test("every use of a released snapshot is a typed error", () => {
    const [writer, log] = newLog(4, 2);
    writer.append(tradeFor(0));
    const snap = log.snapshot();
    snap.release();
    for (const use of [
      () => snap.length,
      () => snap.at(0),
      () => snap.refresh(),
      () => snap.toArray(),
      () => snap.chunks(),
      () => [...snap],
      () => snap.forEach(() => {}),
    ]) {
      expect(use).toThrow(SnapshotReleasedError);
    }
  });

  test("at() rejects out-of-range and non-integer indices", () => {
    const [writer, log] = newLog(4, 2);
    writer.append(tradeFor(0));
    const snap = log.snapshot();
    expect(snap.at(0).id).toBe(0);
    for (const bad of [-1, 1, 0.5, Number.NaN]) expect(() => snap.at(bad)).toThrow(RangeError);
  });
});
