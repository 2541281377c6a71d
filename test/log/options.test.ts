/** Bad input to the log: options, codecs, records, indices and released handles. */
import { describe, expect, test } from "bun:test";
import {
  AtomicLog,
  InvalidHandleError,
  InvalidOptionError,
  RecordFieldError,
  SnapshotReleasedError,
  WriterReleasedError,
} from "../../src/index.ts";
import { MAX_POOL_BYTES, TAKEOVER_SPARE, resolveOptions } from "../../src/log/options.ts";
import { Large } from "../golden/fixtures/large.ts";
import { Trade } from "../support/trade.ts";
import { newLog, thrown, tradeFor } from "../support/log-helpers.ts";

const good = { retainedCapacity: 16, segmentCapacity: 4 };


/** Asserts `error` is an InvalidOptionError for `option` whose message names `value`, `max` and the 2^32 pool limit. */
function expectPoolLimitError(error: unknown, option: string, value: number, max: number): void {
  expect(error).toBeInstanceOf(InvalidOptionError);
  expect((error as InvalidOptionError).option).toBe(option);
  expect((error as Error).message).toContain(`got ${value}`);
  expect((error as Error).message).toContain(`to ${max} `);
  expect((error as Error).message).toContain(`${MAX_POOL_BYTES} bytes`);
}

// Options are checked before anything is allocated, so these use resolveOptions
// (the validation AtomicLog.create runs) and never allocate a 4 GiB pool; the
// accepted maximums are allocated for real in pool-limit.test.ts.
describe("the 2^32-byte pool limit", () => {
  test("MAX_POOL_BYTES is 2^32", () => {
    expect(MAX_POOL_BYTES).toBe(2 ** 32);
  });

  test("the pool keeps one takeover spare beyond the window and the budget", () => {
    // The numbers below count it: every pool is window + snapshotBudget + 1.
    expect(TAKEOVER_SPARE).toBe(1);
  });

  test("the reported geometry is exactly 2^32 bytes with the default budget; one more budget segment is refused", () => {
    // 32768 segments fit: the window of 4097, the takeover spare, and 28670 (one less than
    // before the spare) for the budget, which the default (8 windows) is capped to.
    const g = resolveOptions({ retainedCapacity: 2 ** 24, segmentCapacity: 4096 }, 32);
    expect([g.retainedSegments, g.snapshotBudget, g.poolSegments]).toEqual([4096, 28670, 32768]);
    expect(g.poolSegments).toBe(g.retainedSegments + 1 + g.snapshotBudget + TAKEOVER_SPARE);
    expect(g.poolSegments * g.segmentBytes).toBe(2 ** 32);
    expect(resolveOptions({ retainedCapacity: 2 ** 24, segmentCapacity: 4096, snapshotBudget: 28670 }, 32).poolSegments).toBe(32768);
    const error = thrown(() => resolveOptions({ retainedCapacity: 2 ** 24, segmentCapacity: 4096, snapshotBudget: 28671 }, 32));
    expectPoolLimitError(error, "snapshotBudget", 28671, 28670);
    expect((error as Error).message).toContain("takeover spare");
    expect(thrown(() => AtomicLog.create(Trade, { retainedCapacity: 2 ** 24, segmentCapacity: 4096, snapshotBudget: 28671 }))).toBeInstanceOf(
      InvalidOptionError,
    );
  });

  test("retainedCapacity: the largest window that fits twice is accepted, one record more is refused", () => {
    // 32-byte records in 4096-record segments: 32768 segments fit, one of them the takeover
    // spare, so a window of at most floor(32767 / 2) = 16383 (16384 before the spare).
    const max = 16382 * 4096;
    const g = resolveOptions({ retainedCapacity: max, segmentCapacity: 4096 }, 32);
    expect([g.retainedSegments + 1, g.snapshotBudget, g.poolSegments]).toEqual([16383, 16384, 32768]);
    expect(g.poolSegments * g.segmentBytes).toBe(2 ** 32);
    expectPoolLimitError(thrown(() => resolveOptions({ retainedCapacity: max + 1, segmentCapacity: 4096 }, 32)), "retainedCapacity", max + 1, max);
  });

  test("segmentCapacity: five segments (the smallest pool) must fit; one record more is refused, naming the option", () => {
    // The smallest pool is a window of 2, a budget of 2 and the takeover spare (four before the spare).
    // 135,548-byte records: floor(2^32 / 5 / 135548) = 6337 records per segment at most.
    expect(Math.floor(MAX_POOL_BYTES / 5 / Large.byteLength)).toBe(6337);
    const g = resolveOptions({ retainedCapacity: 1, segmentCapacity: 6337 }, Large.byteLength);
    expect([g.retainedSegments + 1, g.snapshotBudget]).toEqual([2, 2]);
    expect([g.poolSegments, g.poolSegments * g.segmentBytes]).toEqual([5, 5 * 6337 * Large.byteLength]);
    const error = thrown(() => resolveOptions({ retainedCapacity: 1, segmentCapacity: 6338 }, Large.byteLength));
    expectPoolLimitError(error, "segmentCapacity", 6338, 6337);
    expect((error as Error).message).toContain("five segments");
    // Small records stop at the 2^24 segment cap instead.
    expect(thrown(() => resolveOptions({ retainedCapacity: 1, segmentCapacity: 2 ** 24 + 1 }, 32))).toBeInstanceOf(InvalidOptionError);
  });
});

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

  test("the pool is the window plus the budget plus the takeover spare", () => {
    const log = AtomicLog.create(Trade, { ...good, snapshotBudget: 10 });
    expect(log.retainedSegments).toBe(4);
    expect(log.poolSegments).toBe(5 + 10 + 1);
  });
});


describe("attach", () => {
  const { view: _view, ...noView } = Trade;
  const notCodecs: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["{}", {}],
    ["42", 42],
    ["a codec-like object without view()", noView],
    ["a codec-like object with a string byteLength", { ...Trade, byteLength: "32" }],
  ];
  for (const [label, codec] of notCodecs) {
    test(`codec = ${label} is an InvalidOptionError naming codec, like create()`, () => {
      const [, log] = newLog(4, 2);
      for (const error of [thrown(() => AtomicLog.attach(codec as never, log.handle())), thrown(() => AtomicLog.create(codec as never, good))]) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error).toBeInstanceOf(RangeError);
        expect((error as InvalidOptionError).option).toBe("codec");
        expect((error as InvalidOptionError).value).toBe(codec);
        expect((error as Error).message).toContain("invalid option codec");
      }
    });
  }

  test("a bad codec is reported before a bad handle", () => {
    expect(thrown(() => AtomicLog.attach(null as never, null as never))).toBeInstanceOf(InvalidOptionError);
  });

  test("values that are not handles are InvalidHandleError", () => {
    const [, log] = newLog(4, 2);
    const h = log.handle();
    const notHandles: unknown[] = [
      null,
      undefined,
      42,
      "atomic-log",
      {},
      [],
      () => h,
      { kind: "atomic-log" },
      { ...h, format: String(h.format) },
      { ...h, control: new ArrayBuffer(h.control!.byteLength) },
      { ...h, control: new SharedArrayBuffer(7) }, // not whole words: was a plain RangeError from new Int32Array
      { ...h, control: new SharedArrayBuffer(64) }, // shorter than a header
      { ...h, store: null },
      { ...h, store: { ...h.store, kind: "file" } },
      { ...h, store: { ...h.store, data: new ArrayBuffer((h.store as { data: SharedArrayBuffer }).data.byteLength) } },
      { ...h, store: { ...h.store, data: new SharedArrayBuffer(0) } },
      { ...h, store: { ...h.store, segmentBytes: String(h.store.segmentBytes) } },
    ];
    for (const handle of notHandles) {
      const error = thrown(() => AtomicLog.attach(Trade, handle as never));
      expect(error).toBeInstanceOf(InvalidHandleError);
      expect((error as InvalidHandleError).code).toBe("INVALID_HANDLE");
    }
    // The good handle still attaches.
    expect(AtomicLog.attach(Trade, h).poolSegments).toBe(log.poolSegments);
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

describe("option names", () => {
  test("an unknown option (a misspelling, say) is an InvalidOptionError naming it and listing the known ones", () => {
    for (const [key, value] of [["bogus", 1], ["snapshotBudjet", 8], ["durability", "none"]] as const) {
      let error: unknown;
      try {
        AtomicLog.create(Trade, { retainedCapacity: 8, segmentCapacity: 4, [key]: value } as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(key);
      expect((error as Error).message).toContain("snapshotBudget");
    }
  });
});
