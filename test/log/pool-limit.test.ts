/**
 * The largest pool: 2^32 bytes (MAX_POOL_BYTES), every segment in one
 * SharedArrayBuffer. A pool of exactly 2^32 bytes used to lose every record
 * silently (its 2-, 4- and 8-byte typed arrays were sized with `n >>> k`, which
 * is 0 for n = 2^32). These tests allocate real 4 GiB buffers, one at a time:
 * allocation is lazy, and they touch only the pages of the slots they use.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { AtomicLog, InvalidOptionError, Slab, WriterReleasedError, type FieldKind, type RecordCodec, type RecordView } from "../../src/index.ts";
import { MAX_POOL_BYTES, resolveOptions } from "../../src/log/options.ts";
import { MAX_SLAB_BYTES } from "../../src/records/slab.ts";
import { Trade } from "../support/trade.ts";
import { thrown, tradeFor } from "../support/log-helpers.ts";
import { Arrays, Color, Deep, Delta, Enums, Scalars, Strings } from "../golden/fixtures/all-types.ts";
import { Large } from "../golden/fixtures/large.ts";
import { Venue } from "../golden/fixtures/shared.ts";
import { collectGarbage } from "../support/runtime.ts";

/** Why this machine cannot allocate a MAX_POOL_BYTES buffer, or null if it can (it can on the CI machine class). */
const cannotAllocate: string | null = (() => {
  try {
    const probe = new SharedArrayBuffer(MAX_POOL_BYTES);
    new Uint8Array(probe)[MAX_POOL_BYTES - 1] = 1;
    return null;
  } catch (error) {
    return String(error);
  }
})();
if (cannotAllocate !== null) {
  console.warn(`pool-limit: skipping the ${MAX_POOL_BYTES}-byte pool tests: this machine cannot allocate one (${cannotAllocate})`);
}
/** A test that needs a real 4 GiB buffer: skipped (with the reason printed above) only if the allocation fails. */
const bigTest = test.skipIf(cannotAllocate !== null);

// Drop each test's 4 GiB buffer before the next allocates one.
afterEach(() => collectGarbage());


describe("Slab", () => {
  bigTest("over a 2^32-byte buffer every typed array covers all of it, and its last element round-trips", () => {
    const buffer = new SharedArrayBuffer(MAX_SLAB_BYTES);
    const slab = Slab.of(buffer);
    const top = new Uint8Array(buffer, MAX_SLAB_BYTES - 8, 8);
    const arrays = [slab.u8, slab.i8, slab.u16, slab.i16, slab.u32, slab.i32, slab.f32, slab.f64, slab.u64, slab.i64];
    for (const array of arrays) {
      const k = array.BYTES_PER_ELEMENT;
      expect(array.length * k).toBe(MAX_SLAB_BYTES);
      const last = array.length - 1;
      const value = typeof array[0] === "bigint" ? -3n : -3;
      (array as unknown as { [i: number]: number | bigint })[last] = value;
      // What a one-element array of the same type stores for -3 (253 for Uint8Array, -3 for Float64Array...).
      const stored = new (array.constructor as new (values: unknown[]) => ArrayLike<unknown>)([value])[0];
      expect(array[last]).toBe(stored as never);
      // It landed in exactly the buffer's last k bytes, not at a wrapped-around low offset.
      expect(top.subarray(8 - k).some((b) => b !== 0)).toBe(true);
      expect(top.subarray(0, 8 - k).every((b) => b === 0)).toBe(true);
      expect(new Uint8Array(buffer, 0, 8).every((b) => b === 0)).toBe(true);
      top.fill(0);
    }
  });

  test("lengths are whole elements of the buffer (a 13-byte buffer: 6 u16, 3 u32, 1 f64)", () => {
    const slab = Slab.of(new SharedArrayBuffer(13));
    expect([slab.u8.length, slab.u16.length, slab.i16.length, slab.u32.length, slab.f32.length, slab.f64.length, slab.i64.length]).toEqual([
      13, 6, 6, 3, 3, 1, 1,
    ]);
  });

  test("a buffer larger than views can address is an InvalidOptionError naming buffer and the limit", () => {
    // Bun cannot allocate more than 2^32 bytes (measured: RangeError "Out of memory"), so a
    // stand-in with the byteLength of a larger buffer exercises the guard that a runtime
    // with larger buffers would hit, before any typed array is built.
    const tooBig = { byteLength: MAX_SLAB_BYTES + 8 } as unknown as ArrayBuffer;
    for (const use of [() => Slab.of(tooBig), () => Trade.view(tooBig, 0)]) {
      const error = thrown(use);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe("buffer");
      expect((error as Error).message).toContain(`at most ${MAX_SLAB_BYTES} bytes`);
    }
  });
});

/** A record type and a sample value per sequence number, with every field a known function of it at or near its type's extremes. */
interface Case {
  codec: RecordCodec<RecordView, unknown>;
  make(seq: number): unknown;
}

const cases: Case[] = [
  { codec: Trade, make: tradeFor },
  {
    codec: Scalars,
    make: (seq) => ({
      a_u8: 255 - (seq & 0x7f),
      a_i8: -128 + (seq & 0x7f),
      a_u16: 65535 - (seq & 0xfff),
      a_i16: -32768 + (seq & 0xfff),
      a_u32: 4294967295 - seq,
      a_i32: -2147483648 + seq,
      a_u64: 2n ** 64n - 1n - BigInt(seq),
      a_i64: -(2n ** 63n) + BigInt(seq),
      a_f32: Math.fround(seq + 0.5),
      a_f64: seq + 0.125,
      a_bool: seq % 2 === 1,
    }),
  },
  {
    // Filled to capacity, so the blob's last byte is the slot's last byte.
    codec: Strings,
    make: (seq) => ({
      short: `s${seq % 10_000_000}`,
      long: `${"é".repeat(145)}${String(seq).padStart(10, "0")}`, // 290 + 10 = 300 bytes of UTF-8
      payload: Uint8Array.from({ length: 16 }, (_, i) => (seq + i) & 0xff),
      blob: Uint8Array.from({ length: 256 }, (_, i) => (seq * 3 + i) & 0xff),
    }),
  },
  {
    codec: Arrays,
    make: (seq) => ({
      f64x4: [seq, -seq - 0.5, Number.MAX_VALUE, -Infinity],
      f32x3: [Math.fround(seq / 3), -0.5, Infinity],
      u64x2: [BigInt(seq), 2n ** 64n - 1n],
      i64x2: [-(2n ** 63n), BigInt(seq)],
      u8x5: [0, 255, seq & 0xff, 1, 2],
      i8x3: [-128, 127, seq & 0x7f],
      u16x2: [65535, seq & 0xffff],
      i16x3: [-32768, 32767, seq & 0x7fff],
      u32x2: [4294967295, seq >>> 0],
      i32x2: [-2147483648, seq | 0],
    }),
  },
  {
    codec: Enums,
    make: (seq) => ({
      color: [Color.Red, Color.Green, Color.Blue][seq % 3],
      delta: [Delta.Down, Delta.Flat, Delta.Up][seq % 3],
      venue: [Venue.Dark, Venue.Nyse, Venue.Nasdaq, Venue.Arca][seq % 4],
      side: seq % 2 === 0 ? "buy" : "sell",
      grade: (["low", "mid", "high"] as const)[seq % 3],
    }),
  },
  {
    codec: Deep,
    make: (seq) => ({
      flag: seq % 2 === 0,
      outer: { id: seq & 0xffff, inner: { tag: seq & 0xff, value: seq + 0.5 }, level: { price: seq * 0.01, size: seq >>> 0 }, name: `n${seq % 1000}` },
      levels: [seq >>> 0, 4294967295],
    }),
  },
  {
    // 135,548-byte records with u32 length prefixes, also filled to capacity.
    codec: Large,
    make: (seq) => ({
      kind: seq & 0xff,
      text: `${"x".repeat(65526)}${String(seq).padStart(10, "0")}`,
      data: new Uint8Array(70000).map((_, i) => (seq + i) & 0xff),
    }),
  },
] as Case[];

test("the cases cover every field kind a record can use", () => {
  const all: FieldKind[] = ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "bool", "utf8", "bytes", "array", "enum", "record"];
  const covered = new Set(cases.flatMap((c) => c.codec.fields.map((f) => f.kind)));
  expect([...covered].sort()).toEqual([...all].sort());
});

/**
 * The largest pool the options accept for `recordBytes`-byte records with an odd
 * number P >= 5 of segments, as few as `segmentCapacity <= 2^24` allows. With
 * retainedCapacity = segmentCapacity the window is 2 segments, the budget P - 3
 * and the takeover spare 1 (TAKEOVER_SPARE in options.ts), so (P - 3) / 2 held
 * snapshots occupy every segment below the writer's last window, and only a forced
 * takeover (which copies the head into the spare) reaches the highest physical
 * segment. The pool is less than P records short of 2^32 bytes. P is odd so that
 * the budget is whole pairs of segments; an exactly-2^32 pool (which needs a power
 * of two) is checked under "the reported geometry" below.
 */
function largestGeometry(recordBytes: number): { segments: number; segmentCapacity: number; poolBytes: number } {
  for (let segments = 5; ; segments += 2) {
    const segmentCapacity = Math.floor(MAX_POOL_BYTES / (segments * recordBytes));
    if (segmentCapacity <= 2 ** 24) return { segments, segmentCapacity, poolBytes: segments * segmentCapacity * recordBytes };
  }
}

/** Publishes `n` records of the head segment without writing them (their bytes stay as they are), so a test can reach a segment's last slot cheaply. */
function skip(writer: { reserveMany(n: number): { length: number }; commit(): void }, n: number): void {
  for (let left = n; left > 0; ) left -= writer.reserveMany(left).length;
  writer.commit();
}

describe("the largest pool, for every record type", () => {
  for (const { codec, make } of cases) {
    const B = codec.byteLength;
    const { segments: P, segmentCapacity: S, poolBytes } = largestGeometry(B);
    // Budget P - 3: the window's 2 segments and the takeover spare make P.
    const options = { retainedCapacity: S, segmentCapacity: S, snapshotBudget: P - 3, preTouch: false };

    test(`${codec.name} (${B} bytes): ${P} segments of ${S} records (${poolBytes} bytes) is the largest; one segment more is an InvalidOptionError`, () => {
      expect(P % 2).toBe(1);
      expect(MAX_POOL_BYTES - poolBytes).toBeLessThan(P * B);
      // 32-byte records: 9 segments of 14913080 records, 256 bytes short of 2^32 (8 segments,
      // exactly 2^32, before the takeover spare made P odd).
      if (B === 32) expect([P, S, poolBytes]).toEqual([9, 14913080, 2 ** 32 - 256]);
      expect(resolveOptions(options, B).poolSegments).toBe(P);
      // Rejected while validating options, before anything is allocated.
      const error = thrown(() => AtomicLog.create(codec, { ...options, snapshotBudget: P - 2 }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe("snapshotBudget");
      expect((error as Error).message).toContain(`to ${P - 3} `);
      expect((error as Error).message).toContain(String(MAX_POOL_BYTES));
    });

    bigTest(`${codec.name}: the first and last slots of the pool, and the writer through its last physical segment (the takeover spare)`, () => {
      const log = AtomicLog.create(codec, options);
      const data = (log.handle().store as { data: SharedArrayBuffer }).data;
      expect(log.poolSegments).toBe(P);
      expect(data.byteLength).toBe(poolBytes);

      // Views directly: the last slot, then the first; neither write may land on the other.
      const lastSlot = poolBytes - B;
      const last = codec.view(data, lastSlot);
      codec.write(last, make(1));
      expect(new Uint8Array(data, 0, B).every((b) => b === 0)).toBe(true);
      expect(codec.read(last)).toEqual(make(1));
      const first = codec.view(data, 0);
      codec.write(first, make(2));
      expect(codec.read(first)).toEqual(make(2));
      expect(codec.read(last)).toEqual(make(1));

      // The writer: each segment's first and last record are real, the middle is skipped.
      // Held snapshots pin every pair of segments below the window (0 .. P - 4, the whole
      // budget), so the writer's free segments run out in order, its last head is physical
      // segment P - 2, and the only free segment left is the spare, P - 1.
      const writer = log.tryClaimWriter()!;
      const held = [];
      for (let seg = 0; seg < P - 2; seg++) {
        const firstView = writer.reserve();
        if (seg === 0) expect(firstView.byteOffset).toBe(0); // the pool's first slot
        codec.write(firstView, make(seg * S));
        writer.commit();
        skip(writer, S - 2);
        const lastView = writer.reserve();
        expect(lastView.byteOffset).toBe(seg * S * B + (S - 1) * B); // slot S - 1 of physical segment `seg`
        codec.write(lastView, make(seg * S + S - 1));
        writer.commit();
        if (seg % 2 === 1) held.push(log.snapshot());
      }
      expect(held.length).toBe((P - 3) / 2);
      expect(log.stats().snapshotBudgetUsed).toBe(P - 3);
      // The last head, physical P - 2: two published records, and a third reserved and
      // written but never committed (the first writer is about to be fenced).
      const head = (P - 2) * S;
      for (let i = 0; i < 2; i++) {
        const view = writer.reserve();
        expect(view.byteOffset).toBe((P - 2) * S * B + i * B);
        codec.write(view, make(head + i));
        writer.commit();
      }
      const stray = writer.reserve();
      expect(stray.byteOffset).toBe((P - 2) * S * B + 2 * B);
      codec.write(stray, make(7));
      expect(log.stats().nextSequence).toBe(head + 2);

      // A forced takeover from this thread fences the first writer and copies the head's two
      // published records into the spare, physical P - 1; the new writer continues right after them.
      const taker = log.forceClaimWriter();
      expect(writer.holdsClaim()).toBe(false);
      expect(taker.holdsClaim()).toBe(true);
      expect(log.stats().nextSequence).toBe(head + 2); // the copy, not the stray record
      expect(new Uint8Array(data, (P - 1) * S * B, 2 * B)).toEqual(new Uint8Array(data, (P - 2) * S * B, 2 * B));
      expect(taker.nextSequence).toBe(head + 2);
      const next = taker.reserve();
      expect(next.byteOffset).toBe((P - 1) * S * B + 2 * B); // slot 2 of physical segment P - 1
      codec.write(next, make(head + 2));
      taker.commit();
      skip(taker, S - 4);
      const lastView = taker.reserve();
      expect(lastView.byteOffset).toBe(lastSlot); // the pool's last slot, through the writer
      codec.write(lastView, make(head + S - 1));
      taker.commit();
      const end = head + S; // (P - 1) * S records appended in all
      expect(log.stats().nextSequence).toBe(end);

      // The fenced writer publishes nothing: its commit fails on the sealed head and says the
      // claim was taken over (the stray record stays unpublished), and its release then returns
      // quietly. Commit comes first because it is what reports `takenOver`: once released, a
      // writer's commit throws a plain WriterReleasedError.
      const fenced = thrown(() => writer.commit());
      expect(fenced).toBeInstanceOf(WriterReleasedError);
      expect((fenced as WriterReleasedError).takenOver).toBe(true);
      writer.release();
      expect(writer.isReleased).toBe(true);
      expect(log.stats().nextSequence).toBe(end);
      expect(taker.holdsClaim()).toBe(true);

      // Every held snapshot still reads its segments' first and last records, the
      // oldest one from the pool's first slot.
      for (const [k, snap] of held.entries()) {
        expect(snap.startSequence).toBe(2 * k * S);
        expect(snap.length).toBe(2 * S);
        for (const index of [0, S - 1, S, 2 * S - 1]) expect(codec.read(snap.at(index))).toEqual(make(2 * k * S + index));
      }
      expect(held[0]!.chunks()[0]!.byteOffset).toBe(0);
      for (const snap of held) snap.release();

      // The window through a snapshot: segment P - 3 in place, then the head's copy in the
      // spare, whose first records read back identically and whose end is the pool's end.
      const window = log.snapshot();
      expect([window.startSequence, window.length]).toEqual([(P - 3) * S, 2 * S]);
      const [retained, copy] = window.chunks();
      expect([retained!.byteOffset, retained!.byteEnd]).toEqual([(P - 3) * S * B, (P - 2) * S * B]);
      expect([copy!.byteOffset, copy!.byteEnd]).toEqual([(P - 1) * S * B, poolBytes]);
      for (const index of [0, S - 1]) expect(codec.read(retained!.at(index))).toEqual(make((P - 3) * S + index));
      for (const index of [0, 1, 2]) expect(codec.read(window.at(S + index))).toEqual(make(head + index));
      expect(codec.read(copy!.at(S - 1))).toEqual(make(end - 1)); // the pool's last slot, through the log
      window.release();

      // Append across the end of the last physical segment: the next head reuses the
      // segment just evicted (P - 3, now unpinned; the old head P - 2 stays quarantined).
      for (let seq = end; seq < end + 3; seq++) taker.append(make(seq));
      const snap = log.snapshot();
      expect([snap.startSequence, snap.length]).toEqual([head, S + 3]);
      const [lastSegment, after] = snap.chunks();
      expect([lastSegment!.byteOffset, lastSegment!.byteEnd]).toEqual([(P - 1) * S * B, poolBytes]);
      expect(after!.byteOffset).toBe((P - 3) * S * B);
      for (const index of [0, 1, 2]) expect(codec.read(snap.at(index))).toEqual(make(head + index));
      expect(codec.read(lastSegment!.at(S - 1))).toEqual(make(end - 1)); // the pool's last slot, through the log
      for (let i = 0; i < 3; i++) expect(codec.read(snap.at(S + i))).toEqual(make(end + i));
      snap.release();

      // A cursor reads across the same boundary.
      const cursor = log.cursor({ from: end - 1 });
      const seen: unknown[] = [];
      for (let v = cursor.tryNext(); v !== null; v = cursor.tryNext()) seen.push(codec.read(v));
      expect(seen).toEqual([make(end - 1), make(end), make(end + 1), make(end + 2)]);
      cursor.release();
      taker.release();
    });
  }
});

describe("the reported geometry", () => {
  bigTest("default options with retainedCapacity 2^24 of 32-byte records in 4096-record segments: a 2^32-byte pool that keeps its records", () => {
    // Defect 15: this pool was accepted, then every record read back as NaN/0.
    // Still exactly 2^32 with the takeover spare: 4097 (window) + 28670 (default budget, capped) + 1.
    const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 2 ** 24, segmentCapacity: 4096, preTouch: false });
    expect(log.poolSegments).toBe(32768);
    expect((log.handle().store as { data: SharedArrayBuffer }).data.byteLength).toBe(2 ** 32);
    for (let v = 0; v < 4096 + 2; v++) writer.append(tradeFor(v));
    const snap = log.snapshot();
    expect(snap.length).toBe(4098);
    for (const i of [0, 1, 4095, 4096, 4097]) expect(Trade.read(snap.at(i))).toEqual(tradeFor(i));
    snap.release();
    // The pool's last slot through a view over the log's buffer.
    const view = Trade.view((log.handle().store as { data: SharedArrayBuffer }).data, 2 ** 32 - 32);
    Trade.write(view, tradeFor(123));
    expect(Trade.read(view)).toEqual(tradeFor(123));
  });
});
