/**
 * The benchmark's record contents, shared by every case so all of them write
 * and read the same 32-byte Trade layout (ts f64 @0, id u32 @8, price f64 @16,
 * qty u32 @24, side u8 @28). Every field is a function of the record's
 * sequence number, so a reader can check what it read.
 */

/** Bytes per record. */
export const RECORD_BYTES = 32;

/** Records per batch, for the batched writers and the message baselines. */
export const BATCH = 1024;

/**
 * Typed views over one byte buffer, indexed like the generated TradeView does
 * (f64 index = byte/8, u32 index = byte/4).
 */
export interface Lanes {
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
  readonly u8: Uint8Array;
}

/** Typed views over `buffer` from byte 0 (its length must be a multiple of 8). */
export function lanes(buffer: ArrayBufferLike): Lanes {
  return { f64: new Float64Array(buffer), u32: new Uint32Array(buffer), u8: new Uint8Array(buffer) };
}

/** Writes records `seq0 .. seq0 + count - 1` at record slots `0 .. count - 1` of `l`. */
export function fillRecords(l: Lanes, count: number, seq0: number): void {
  const { f64, u32, u8 } = l;
  for (let r = 0; r < count; r++) {
    const seq = seq0 + r;
    f64[r * 4] = seq;
    u32[r * 8 + 2] = seq;
    f64[r * 4 + 2] = seq * 0.25;
    u32[r * 8 + 6] = seq & 1023;
    u8[r * 32 + 28] = seq & 1;
  }
}

/** What a reader accumulates: a sum over every field but ts, and how many records had a wrong ts. */
export interface Tally {
  sum: number;
  bad: number;
}

/**
 * Reads `count` records at slots `0 ..` of `l` that should be `seq0 ..`,
 * adding to `t`. Reads every field of every record, as the log readers do.
 */
export function readRecords(l: Lanes, count: number, seq0: number, t: Tally): void {
  const { f64, u32, u8 } = l;
  let sum = 0;
  let bad = 0;
  for (let r = 0; r < count; r++) {
    if (f64[r * 4] !== seq0 + r) bad++;
    sum += u32[r * 8 + 2]! + f64[r * 4 + 2]! + u32[r * 8 + 6]! + u8[r * 32 + 28]!;
  }
  t.sum += sum;
  t.bad += bad;
}

/** The sum a reader of records `first .. first + count - 1` must report (exact: every term is a multiple of 1/4 and small). */
export function expectedSum(first: number, count: number): number {
  let sum = 0;
  for (let seq = first; seq < first + count; seq++) sum += (seq >>> 0) + seq * 0.25 + (seq & 1023) + (seq & 1);
  return sum;
}
