/**
 * Round trips through generated views over a SharedArrayBuffer, for every
 * field type at its edge values, plus the checked write() path's errors.
 * Uses the committed goldens (kept fresh by golden.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { FieldRangeError, InvalidOptionError, RecordFieldError } from "../../src/errors.ts";
import { truncateUtf8, utf8Length, writeUtf8 } from "../../src/records/utf8.ts";
import { Trade, Quote, records as marketRecords } from "../../src/generated/market.ts";
import * as fixtureSchema from "../fixtures/schemas/all-types.ts";
import * as sharedSchema from "../fixtures/schemas/shared.ts";
import {
  Arrays, Color, Deep, Delta, Enums, Inner, Outer, Scalars, Strings, records,
  type ArraysData, type DeepData, type EnumsData, type OuterData, type ScalarsData, type StringsData,
} from "../golden/fixtures/all-types.ts";
import { Large } from "../golden/fixtures/large.ts";
import { Level, Venue } from "../golden/fixtures/shared.ts";

/** A fresh shared buffer with room for `n` records of `codec`. */
function sab(codec: { byteLength: number }, n = 4): SharedArrayBuffer {
  return new SharedArrayBuffer(codec.byteLength * n);
}

/** Bytes of one slot, copied, to prove a failed write left it untouched. */
function slotBytes(buffer: ArrayBufferLike, offset: number, length: number): number[] {
  return Array.from(new Uint8Array(buffer, offset, length));
}

/** Asserts `fn` throws `type` with `field` (and, for nested errors, `record`). */
function expectFieldError(fn: () => void, type: typeof RecordFieldError | typeof FieldRangeError, field: string, record?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(type);
  expect((caught as RecordFieldError).field).toBe(field);
  if (record !== undefined) expect((caught as RecordFieldError).record).toBe(record);
}

const scalarsMin: ScalarsData = {
  a_u8: 0, a_i8: -128, a_u16: 0, a_i16: -32768, a_u32: 0, a_i32: -2147483648,
  a_u64: 0n, a_i64: -(2n ** 63n), a_f32: -Infinity, a_f64: -Infinity, a_bool: false,
};
const scalarsMax: ScalarsData = {
  a_u8: 255, a_i8: 127, a_u16: 65535, a_i16: 32767, a_u32: 4294967295, a_i32: 2147483647,
  a_u64: 2n ** 64n - 1n, a_i64: 2n ** 63n - 1n, a_f32: Infinity, a_f64: Infinity, a_bool: true,
};

describe("scalars", () => {
  test("integer min and max of every type, ±Infinity and bool round-trip through write/read", () => {
    const buf = sab(Scalars);
    const view = Scalars.view(buf);
    for (const data of [scalarsMin, scalarsMax]) {
      Scalars.write(view, data);
      const back = Scalars.read(view);
      expect(back).toEqual(data);
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    }
  });

  test("view getters and setters at the edges", () => {
    const view = Scalars.view(sab(Scalars), Scalars.byteLength);
    view.a_u64 = 2n ** 64n - 1n;
    view.a_i64 = -(2n ** 63n);
    view.a_i32 = -2147483648;
    view.a_u32 = 4294967295;
    view.a_bool = true;
    expect([view.a_u64, view.a_i64, view.a_i32, view.a_u32, view.a_bool]).toEqual([2n ** 64n - 1n, -(2n ** 63n), -2147483648, 4294967295, true]);
  });

  test("NaN, -0 and ±Infinity in f32 and f64 (-0 checked with Object.is)", () => {
    const view = Scalars.view(sab(Scalars));
    for (const v of [NaN, -0, 0, Infinity, -Infinity]) {
      Scalars.write(view, { ...scalarsMax, a_f32: v, a_f64: v });
      const back = Scalars.read(view);
      expect(Object.is(back.a_f32, v)).toBe(true);
      expect(Object.is(back.a_f64, v)).toBe(true);
      expect(Object.is(view.a_f32, v)).toBe(true);
    }
    view.a_f32 = 0.1;
    expect(view.a_f32).toBe(Math.fround(0.1));
  });

  test("out-of-range integers throw FieldRangeError naming the field", () => {
    const view = Scalars.view(sab(Scalars));
    const cases: [keyof ScalarsData, unknown][] = [
      ["a_u8", 256], ["a_u8", -1], ["a_i8", 128], ["a_i8", -129], ["a_u16", 65536], ["a_i16", -32769],
      ["a_u32", 2 ** 32], ["a_u32", -1], ["a_i32", 2 ** 31], ["a_i32", -(2 ** 31) - 1], ["a_u32", 1.5],
      ["a_u64", -1n], ["a_u64", 2n ** 64n], ["a_i64", 2n ** 63n], ["a_i64", -(2n ** 63n) - 1n],
      // The generated checks are bit identities (`(v & 0xff) === v`, ...): values that wrap
      // to an in-range value, NaN, infinities and fractions must all still be refused.
      ["a_u8", 256 + 7], ["a_u16", 65536 + 7], ["a_u16", -1], ["a_i16", 32768], ["a_i16", 65535],
      ["a_u32", 2 ** 32 + 7], ["a_u32", 2 ** 53], ["a_i32", 2 ** 32 - 1], ["a_i8", 255],
    ];
    for (const field of ["a_u8", "a_i8", "a_u16", "a_i16", "a_u32", "a_i32"] as const) {
      for (const value of [NaN, Infinity, -Infinity, 0.5, -0.5]) cases.push([field, value]);
    }
    for (const [field, value] of cases) {
      expectFieldError(() => Scalars.write(view, { ...scalarsMax, [field]: value } as ScalarsData), FieldRangeError, field, "Scalars");
    }
  });

  test("-0 is accepted by every integer type and stored as 0", () => {
    const view = Scalars.view(sab(Scalars));
    Scalars.write(view, { ...scalarsMax, a_u8: -0, a_i8: -0, a_u16: -0, a_i16: -0, a_u32: -0, a_i32: -0 });
    for (const field of ["a_u8", "a_i8", "a_u16", "a_i16", "a_u32", "a_i32"] as const) expect(Object.is(view[field], 0)).toBe(true);
  });

  test("missing fields and wrong types throw RecordFieldError naming the field", () => {
    const view = Scalars.view(sab(Scalars));
    const { a_i16: _, ...missing } = scalarsMax;
    expectFieldError(() => Scalars.write(view, missing as ScalarsData), RecordFieldError, "a_i16");
    const wrong: [keyof ScalarsData, unknown][] = [
      ["a_u8", "1"], ["a_f64", 1n], ["a_u64", 1], ["a_i64", "0"], ["a_bool", 1], ["a_f32", null],
    ];
    for (const [field, value] of wrong) {
      expectFieldError(() => Scalars.write(view, { ...scalarsMax, [field]: value } as ScalarsData), RecordFieldError, field);
    }
    expectFieldError(() => Scalars.write(view, null as unknown as ScalarsData), RecordFieldError, "(record)");
  });

  test("a failed write leaves the slot unchanged (every field is checked before any byte is written)", () => {
    const buf = sab(Scalars);
    const view = Scalars.view(buf, Scalars.byteLength);
    Scalars.write(view, scalarsMin);
    const before = slotBytes(buf, 0, buf.byteLength);
    // The last field is the bad one, so a write-as-you-go codec would have changed the others.
    expect(() => Scalars.write(view, { ...scalarsMax, a_bool: "yes" as unknown as boolean })).toThrow(RecordFieldError);
    expect(() => Scalars.write(view, { ...scalarsMax, a_f64: 1, a_i32: 2 ** 40 })).toThrow(FieldRangeError);
    expect(slotBytes(buf, 0, buf.byteLength)).toEqual(before);
  });
});

const full8 = "\u{1F600}\u{1F601}"; // two 4-byte emoji: exactly 8 bytes
const strings: StringsData = {
  short: full8,
  long: "€".repeat(100), // 3 bytes each: exactly 300
  payload: new Uint8Array(16).map((_, i) => 255 - i),
  blob: new Uint8Array(256).map((_, i) => i),
};

describe("utf8 and bytes", () => {
  test("empty and full-length values (multi-byte, emoji at the exact boundary) round-trip", () => {
    const view = Strings.view(sab(Strings));
    Strings.write(view, strings);
    expect(Strings.read(view)).toEqual(strings);
    expect(utf8Length(view.short)).toBe(8);
    const empty: StringsData = { short: "", long: "", payload: new Uint8Array(0), blob: new Uint8Array(0) };
    Strings.write(view, empty);
    expect(Strings.read(view)).toEqual(empty);
    for (const s of ["a", "é", "ab€", "abcdefgh", "\u{1F600}abcd", "é\u{1F600}"]) {
      view.short = s;
      expect(view.short).toBe(s);
    }
  });

  test("length prefixes: u8 for utf8<8>, u16 for utf8<300> and bytes<256>", () => {
    const buf = sab(Strings);
    const view = Strings.view(buf);
    view.long = "€".repeat(100);
    view.blob = new Uint8Array(256);
    const info = Object.fromEntries(Strings.fields.map((f) => [f.name, f]));
    expect([info.short!.size, info.long!.size, info.long!.alignment, info.blob!.size]).toEqual([9, 302, 2, 258]);
    const u16 = new Uint16Array(buf);
    expect(u16[info.long!.offset / 2]).toBe(300);
    expect(u16[info.blob!.offset / 2]).toBe(256);
  });

  test("u32 prefix past 65535 bytes", () => {
    const view = Large.view(sab(Large, 2), Large.byteLength);
    const text = "x".repeat(65535) + "é".repeat(0) + "y";
    const data = new Uint8Array(70000).fill(7);
    Large.write(view, { kind: 1, text, data });
    expect(view.text).toBe(text);
    expect(view.data.byteLength).toBe(70000);
    expect(Large.fields.map((f) => f.alignment)).toEqual([1, 4, 4]);
  });

  test("utf8 overflow is a FieldRangeError from the setter and from write(); write leaves the slot unchanged", () => {
    const buf = sab(Strings);
    const view = Strings.view(buf);
    Strings.write(view, strings);
    const before = slotBytes(buf, 0, Strings.byteLength);
    expectFieldError(() => Strings.write(view, { ...strings, short: `a${full8}` }), FieldRangeError, "short");
    expectFieldError(() => Strings.write(view, { ...strings, long: "€".repeat(100) + "a" }), FieldRangeError, "long");
    expectFieldError(() => Strings.write(view, { ...strings, short: "123456789" }), FieldRangeError, "short");
    expect(slotBytes(buf, 0, Strings.byteLength)).toEqual(before);
    expectFieldError(() => { view.short = `a${full8}`; }, FieldRangeError, "short");
    expectFieldError(() => { view.short = "123456789"; }, FieldRangeError, "short");
    expectFieldError(() => Strings.write(view, { ...strings, short: 5 as unknown as string }), RecordFieldError, "short");
  });

  test("a utf8 setter that throws leaves the field exactly as it was (ASCII, multi-byte, 4-byte at capacity)", () => {
    const buf = sab(Strings, 2);
    const view = Strings.view(buf, Strings.byteLength);
    Strings.write(view, strings);
    // Each case: [field, a valid previous value, a value one byte or more too long].
    const cases: [("short" | "long"), string, string][] = [
      ["short", "abc", "123456789"], // ASCII, one byte over: the old fast path wrote as it scanned
      ["short", "abc", "x".repeat(40)], // longer than capacity in UTF-16 units too
      ["short", "abc", "abcde\u{1F600}"], // 9 bytes: an ASCII prefix fits, the emoji does not
      ["short", "zz", `a${full8}`], // 9 bytes, mostly 4-byte characters
      ["short", "é", "€€€"], // 9 bytes of 3-byte characters
      ["short", "é€", "\uD800\uD800\uD800"], // lone surrogates encode as U+FFFD, 3 bytes each
      ["short", full8, `${full8}a`], // previous value at exact capacity with 4-byte characters
      ["short", full8, "\u{1F602}\u{1F603}\u{1F604}"], // 12 bytes of 4-byte characters
      ["long", "€".repeat(100), `${"€".repeat(100)}a`], // u16 prefix, previous value at exact capacity
      ["long", "hello", "a".repeat(299) + "é"], // 301 bytes: only the last character overflows
    ];
    for (const [field, previous, tooLong] of cases) {
      view[field] = previous;
      const before = slotBytes(buf, 0, buf.byteLength);
      expectFieldError(() => { view[field] = tooLong; }, FieldRangeError, field, "Strings");
      expect(view[field]).toBe(previous);
      expect(slotBytes(buf, 0, buf.byteLength)).toEqual(before);
    }
    // The field still takes a value at exact capacity, and the other fields never moved.
    view.short = "\u{1F602}\u{1F603}";
    expect(view.short).toBe("\u{1F602}\u{1F603}");
    expect(Strings.read(view)).toEqual({ ...strings, short: "\u{1F602}\u{1F603}", long: "hello" });
  });

  test("a bytes setter that throws leaves the field exactly as it was", () => {
    const buf = sab(Strings);
    const view = Strings.view(buf);
    Strings.write(view, strings);
    const before = slotBytes(buf, 0, buf.byteLength);
    expectFieldError(() => { view.payload = new Uint8Array(17).fill(9); }, FieldRangeError, "payload", "Strings");
    expectFieldError(() => { view.blob = new Uint8Array(257).fill(9); }, FieldRangeError, "blob", "Strings");
    expect(slotBytes(buf, 0, buf.byteLength)).toEqual(before);
    expect(Array.from(view.payload)).toEqual(Array.from(strings.payload));
  });

  test("writeUtf8 writes exactly TextEncoder's bytes, or throws and writes nothing (random strings)", () => {
    const encoder = new TextEncoder();
    // Deterministic xorshift, so a failure reproduces.
    let seed = 0x9e3779b9;
    const next = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const units = ["a", "Z", "~", "\u007f", "é", "\u07ff", "€", "\uffff", "\u{1F600}", "\uD800", "\uDC00"];
    const u8 = new Uint8Array(64);
    for (let round = 0; round < 5000; round++) {
      let value = "";
      for (let k = next(12); k > 0; k--) value += units[next(units.length)]!;
      const capacity = 1 + next(24);
      const start = next(8);
      const encoded = encoder.encode(value);
      for (let i = 0; i < u8.length; i++) u8[i] = (i * 37 + round) & 0xff;
      const before = Array.from(u8);
      if (encoded.length > capacity) {
        expect(() => writeUtf8(u8, start, capacity, value, "R", "f")).toThrow(FieldRangeError);
        expect(Array.from(u8)).toEqual(before);
      } else {
        expect(writeUtf8(u8, start, capacity, value, "R", "f")).toBe(encoded.length);
        expect(Array.from(u8.subarray(start, start + encoded.length))).toEqual(Array.from(encoded));
        expect(Array.from(u8.subarray(start + encoded.length))).toEqual(before.slice(start + encoded.length));
        expect(Array.from(u8.subarray(0, start))).toEqual(before.slice(0, start));
      }
      expect(utf8Length(value)).toBe(encoded.length);
    }
  });

  test("truncateUtf8 never splits a code point and makes an overlong value fit", () => {
    expect(truncateUtf8(`a${full8}`, 8)).toBe("a\u{1F600}");
    expect(truncateUtf8(full8, 7)).toBe("\u{1F600}");
    expect(truncateUtf8("€€€", 8)).toBe("€€");
    const view = Strings.view(sab(Strings));
    const samples = ["", "abc", "é€\u{1F600}x", "\u{1F600}".repeat(5), "aé€\u{1F600}".repeat(30)];
    for (const s of samples) {
      for (let max = 0; max <= 12; max++) {
        const t = truncateUtf8(s, max);
        expect(s.startsWith(t)).toBe(true);
        expect(utf8Length(t)).toBeLessThanOrEqual(max);
        expect(t).not.toMatch(/[\uD800-\uDBFF]$/); // no dangling high surrogate
        if (t.length < s.length) {
          const next = String.fromCodePoint(s.codePointAt(t.length)!);
          expect(utf8Length(t) + utf8Length(next)).toBeGreaterThan(max);
        }
        if (max <= 8) {
          view.short = t;
          expect(view.short).toBe(t);
        }
      }
    }
  });

  test("bytes: getter is a zero-copy view, read() copies, overflow throws", () => {
    const buf = sab(Strings);
    const view = Strings.view(buf);
    Strings.write(view, strings);
    const live = view.payload;
    expect(live.buffer).toBe(buf);
    const copy = Strings.read(view).payload;
    expect(copy.buffer).not.toBe(buf);
    live[0] = 1;
    expect(view.payload[0]).toBe(1);
    expect(copy[0]).toBe(255);
    const before = slotBytes(buf, 0, Strings.byteLength);
    expectFieldError(() => { view.payload = new Uint8Array(17); }, FieldRangeError, "payload");
    expectFieldError(() => Strings.write(view, { ...strings, blob: new Uint8Array(257) }), FieldRangeError, "blob");
    expectFieldError(() => Strings.write(view, { ...strings, payload: [1, 2] as unknown as Uint8Array }), RecordFieldError, "payload");
    expect(slotBytes(buf, 0, Strings.byteLength)).toEqual(before);
  });
});

const arrays: ArraysData = {
  f64x4: [NaN, -0, Infinity, -Infinity],
  f32x3: [Math.fround(1.5), -Infinity, 0],
  u64x2: [0n, 2n ** 64n - 1n],
  i64x2: [-(2n ** 63n), 2n ** 63n - 1n],
  u8x5: [0, 1, 2, 254, 255],
  i8x3: [-128, 0, 127],
  u16x2: [0, 65535],
  i16x3: [-32768, 0, 32767],
  u32x2: [0, 4294967295],
  i32x2: [-2147483648, 2147483647],
};

describe("Fixed arrays", () => {
  test("every element type round-trips at its edges; read() returns plain arrays", () => {
    const view = Arrays.view(sab(Arrays), Arrays.byteLength * 2);
    Arrays.write(view, arrays);
    const back = Arrays.read(view);
    expect(back).toEqual(arrays);
    expect(Object.is(back.f64x4[1], -0)).toBe(true);
    for (const v of Object.values(back)) expect(Array.isArray(v)).toBe(true);
  });

  test("getters return zero-copy typed arrays of the element type", () => {
    const buf = sab(Arrays);
    const view = Arrays.view(buf, Arrays.byteLength);
    Arrays.write(view, arrays);
    expect(view.f64x4).toBeInstanceOf(Float64Array);
    expect(view.u64x2).toBeInstanceOf(BigUint64Array);
    expect(view.i64x2).toBeInstanceOf(BigInt64Array);
    expect(view.i8x3).toBeInstanceOf(Int8Array);
    expect(view.i16x3.length).toBe(3);
    expect(view.u32x2.buffer).toBe(buf);
    view.u8x5[2] = 42;
    expect(Arrays.read(view).u8x5[2]).toBe(42);
  });

  test("setters copy from any ArrayLike and require exactly N elements", () => {
    const view = Arrays.view(sab(Arrays));
    view.f32x3 = new Float32Array([1, 2, 3]);
    expect(Array.from(view.f32x3)).toEqual([1, 2, 3]);
    view.u64x2 = [5n, 6n];
    expect(Array.from(view.u64x2)).toEqual([5n, 6n]);
    expectFieldError(() => { view.f32x3 = [1, 2]; }, FieldRangeError, "f32x3");
    expectFieldError(() => { view.i8x3 = [1, 2, 3, 4]; }, FieldRangeError, "i8x3");
  });

  test("write() checks length, element type and element range, leaving the slot unchanged", () => {
    const buf = sab(Arrays);
    const view = Arrays.view(buf);
    Arrays.write(view, arrays);
    const before = slotBytes(buf, 0, buf.byteLength);
    expectFieldError(() => Arrays.write(view, { ...arrays, i32x2: [1] }), FieldRangeError, "i32x2");
    expectFieldError(() => Arrays.write(view, { ...arrays, i32x2: [1, 2 ** 31] }), FieldRangeError, "i32x2");
    expectFieldError(() => Arrays.write(view, { ...arrays, u8x5: [0, 0, 0, 0, 256] }), FieldRangeError, "u8x5");
    expectFieldError(() => Arrays.write(view, { ...arrays, u64x2: [1n, 1] as unknown as bigint[] }), RecordFieldError, "u64x2");
    expectFieldError(() => Arrays.write(view, { ...arrays, f64x4: 3 as unknown as number[] }), RecordFieldError, "f64x4");
    expect(slotBytes(buf, 0, buf.byteLength)).toEqual(before);
  });
});

const enums: EnumsData = { color: Color.Blue, delta: Delta.Down, venue: Venue.Arca, side: "sell", grade: "high" };

describe("enums and string-literal unions", () => {
  test("round-trip, including negative enum values and i16 storage", () => {
    const view = Enums.view(sab(Enums), Enums.byteLength);
    for (const data of [enums, { color: Color.Red, delta: Delta.Up, venue: Venue.Dark, side: "buy", grade: "low" } as const]) {
      Enums.write(view, data);
      expect(Enums.read(view)).toEqual(data);
    }
    expect(Enums.fields.map((f) => f.size)).toEqual([1, 1, 2, 1, 1]);
  });

  test("the generated module declares the schema's enums with the same members and values", () => {
    // Copies, not the schema's objects: the generated module imports nothing from the schemas dir.
    expect(Color).not.toBe(fixtureSchema.Color);
    expect({ ...Color }).toEqual({ ...fixtureSchema.Color });
    expect({ ...Delta }).toEqual({ ...fixtureSchema.Delta });
    expect({ ...Venue }).toEqual({ ...sharedSchema.Venue });
  });

  test("values of the schema's own enums go in and come out (this file is type-checked by `bun run typecheck`)", () => {
    const view = Enums.view(sab(Enums));
    const data: EnumsData = { ...enums, color: fixtureSchema.Color.Green, delta: fixtureSchema.Delta.Up, venue: sharedSchema.Venue.Nyse };
    Enums.write(view, data);
    const color: fixtureSchema.Color = Enums.read(view).color;
    const venue: sharedSchema.Venue = view.venue;
    expect(color).toBe(fixtureSchema.Color.Green);
    expect(venue).toBe(sharedSchema.Venue.Nyse);
  });

  test("write() rejects non-members, unknown literals and wrong types", () => {
    const buf = sab(Enums);
    const view = Enums.view(buf);
    Enums.write(view, enums);
    const before = slotBytes(buf, 0, buf.byteLength);
    expectFieldError(() => Enums.write(view, { ...enums, venue: 0 as Venue }), FieldRangeError, "venue");
    expectFieldError(() => Enums.write(view, { ...enums, color: 3 as Color }), FieldRangeError, "color");
    expectFieldError(() => Enums.write(view, { ...enums, delta: -2 as Delta }), FieldRangeError, "delta");
    expectFieldError(() => Enums.write(view, { ...enums, grade: "top" as "low" }), FieldRangeError, "grade");
    expectFieldError(() => Enums.write(view, { ...enums, side: 1 as unknown as "buy" }), RecordFieldError, "side");
    expectFieldError(() => Enums.write(view, { ...enums, color: "Red" as unknown as Color }), RecordFieldError, "color");
    expect(slotBytes(buf, 0, buf.byteLength)).toEqual(before);
  });

  test("literal setter maps to the index and throws on an unknown literal", () => {
    const buf = sab(Enums);
    const view = Enums.view(buf);
    view.grade = "mid";
    expect(new Uint8Array(buf)[Enums.fields[4]!.offset]).toBe(1);
    expect(view.grade).toBe("mid");
    expectFieldError(() => { view.side = "hold" as "buy"; }, FieldRangeError, "side");
  });
});

const outer: OuterData = { id: 65535, inner: { tag: 255, value: -0.5 }, level: { price: 101.25, size: 4294967295 }, name: "a€" };
const deep: DeepData = { flag: true, outer, levels: [1, 2] };

describe("nested records", () => {
  test("same-file and cross-file nesting round-trip at the child's alignment", () => {
    const view = Deep.view(sab(Deep), Deep.byteLength);
    Deep.write(view, deep);
    expect(Deep.read(view)).toEqual(deep);
    expect(Outer.fields.map((f) => [f.name, f.offset])).toEqual([["id", 0], ["inner", 8], ["level", 24], ["name", 40]]);
    expect(Deep.fields.find((f) => f.name === "outer")!.offset % Outer.alignment).toBe(0);
  });

  test("child views are cached per parent and repositioned, not reallocated", () => {
    const buf = sab(Outer, 3);
    const view = Outer.view(buf);
    const child = view.inner;
    expect(view.inner).toBe(child);
    for (let slot = 0; slot < 3; slot++) {
      view.byteOffset = slot * Outer.byteLength;
      view.inner.tag = slot + 10;
      view.level.size = slot;
    }
    const reader = Outer.view(buf);
    for (let slot = 0; slot < 3; slot++) {
      reader.byteOffset = slot * Outer.byteLength;
      expect(reader.inner.tag).toBe(slot + 10);
      expect(reader.level.size).toBe(slot);
      expect(reader.inner.byteOffset).toBe(slot * Outer.byteLength + 8);
    }
    expect(view.inner).toBe(child);
    expect(child.buffer).toBe(buf);
  });

  test("nested setter writes a Data object through the child codec (checked)", () => {
    const view = Outer.view(sab(Outer));
    view.level = { price: 3.5, size: 7 };
    expect(Level.read(view.level)).toEqual({ price: 3.5, size: 7 });
    expectFieldError(() => { view.inner = { tag: 256, value: 0 }; }, FieldRangeError, "tag", "Inner");
  });

  test("errors name the nested path and the outer record; a bad nested field leaves the slot unchanged", () => {
    const buf = sab(Deep);
    const view = Deep.view(buf);
    Deep.write(view, deep);
    const before = slotBytes(buf, 0, buf.byteLength);
    expectFieldError(() => Deep.write(view, { ...deep, outer: { ...outer, inner: { tag: 256, value: 1 } } }), FieldRangeError, "outer.inner.tag", "Deep");
    expectFieldError(() => Deep.write(view, { ...deep, outer: { ...outer, level: { price: "1" as unknown as number, size: 1 } } }), RecordFieldError, "outer.level.price", "Deep");
    expectFieldError(() => Deep.write(view, { ...deep, outer: null as unknown as OuterData }), RecordFieldError, "outer", "Deep");
    expectFieldError(() => Deep.write(view, { flag: false, levels: [0, 0] } as unknown as DeepData), RecordFieldError, "outer", "Deep");
    expect(slotBytes(buf, 0, buf.byteLength)).toEqual(before);
    expect(Inner.read(view.outer.inner)).toEqual(outer.inner);
  });
});

describe("views over slots", () => {
  test("one view repositioned by byteOffset reads the record of each slot", () => {
    const n = 64;
    const buf = sab(Trade, n);
    const writer = Trade.view(buf);
    for (let i = 0; i < n; i++) {
      writer.byteOffset = i * Trade.byteLength;
      Trade.write(writer, { ts: i * 1000, id: i, price: i / 4, qty: n - i, side: i & 1 });
    }
    const reader = Trade.view();
    for (let i = n - 1; i >= 0; i--) {
      reader.wrap(buf, i * Trade.byteLength);
      expect(Trade.read(reader)).toEqual({ ts: i * 1000, id: i, price: i / 4, qty: n - i, side: i & 1 });
    }
  });

  test("Trade keeps its 32-byte layout", () => {
    expect([Trade.byteLength, Trade.alignment]).toEqual([32, 8]);
    expect(Trade.fields.map((f) => [f.name, f.offset, f.size])).toEqual([
      ["ts", 0, 8], ["id", 8, 4], ["price", 16, 8], ["qty", 24, 4], ["side", 28, 1],
    ]);
    expect(Trade.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(marketRecords.map((r) => r.fingerprint)).size).toBe(marketRecords.length);
    expect(Quote.byteLength).toBe(48);
  });

  test("wrap() rejects misaligned, negative, fractional and out-of-bounds offsets with InvalidOptionError", () => {
    const buf = sab(Trade, 2);
    const view = Trade.view();
    for (const offset of [4, 12, -32, 0.5, 64, 40, Number.NaN]) {
      expect(() => view.wrap(buf, offset)).toThrow(InvalidOptionError);
    }
    expect(() => Trade.view(buf, 33)).toThrow(InvalidOptionError);
    expect(view.wrap(buf, 32).byteOffset).toBe(32);
  });

  test("view.layout is the codec and records lists every codec in order", () => {
    expect(Trade.view().layout).toBe(Trade);
    expect(records.map((r) => r.name)).toEqual(["Scalars", "Strings", "Arrays", "Enums", "Inner", "Outer", "Deep"]);
  });
});
