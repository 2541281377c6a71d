/**
 * One set of typed arrays over a buffer, shared by every view that reads it.
 *
 * Generated views read fields as `this._f64[(this.byteOffset >>> 3) + k]`:
 * one property load and one indexed access, which measured at or above raw
 * typed-array speed here. Building the arrays once per buffer (not per view,
 * not per record) is what keeps repositioning a view allocation-free.
 */
import { AtomicLogError } from "./errors.ts";

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed arrays use the platform's byte order; the format is little-endian.
  throw new AtomicLogError("UNSUPPORTED_PLATFORM", "atomic-log needs a little-endian platform");
}

/** Typed arrays of every element type, all starting at byte 0 of `buffer`. */
export class Slab {
  /** The buffer these arrays cover. */
  readonly buffer: ArrayBufferLike;
  /** Bytes. */
  readonly u8: Uint8Array;
  /** Signed bytes. */
  readonly i8: Int8Array;
  /** 16-bit unsigned. */
  readonly u16: Uint16Array;
  /** 16-bit signed. */
  readonly i16: Int16Array;
  /** 32-bit unsigned. */
  readonly u32: Uint32Array;
  /** 32-bit signed. */
  readonly i32: Int32Array;
  /** 32-bit float. */
  readonly f32: Float32Array;
  /** 64-bit float. */
  readonly f64: Float64Array;
  /** 64-bit unsigned (bigint). */
  readonly u64: BigUint64Array;
  /** 64-bit signed (bigint). */
  readonly i64: BigInt64Array;

  private constructor(buffer: ArrayBufferLike) {
    const n = buffer.byteLength;
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer, 0, n);
    this.i8 = new Int8Array(buffer, 0, n);
    this.u16 = new Uint16Array(buffer, 0, n >>> 1);
    this.i16 = new Int16Array(buffer, 0, n >>> 1);
    this.u32 = new Uint32Array(buffer, 0, n >>> 2);
    this.i32 = new Int32Array(buffer, 0, n >>> 2);
    this.f32 = new Float32Array(buffer, 0, n >>> 2);
    this.f64 = new Float64Array(buffer, 0, n >>> 3);
    this.u64 = new BigUint64Array(buffer, 0, n >>> 3);
    this.i64 = new BigInt64Array(buffer, 0, n >>> 3);
  }

  private static readonly cache = new WeakMap<ArrayBufferLike, Slab>();

  /** The slab for `buffer`, created on first use and shared afterwards. */
  static of(buffer: ArrayBufferLike): Slab {
    let slab = Slab.cache.get(buffer);
    if (slab === undefined || slab.u8.byteLength !== buffer.byteLength) {
      slab = new Slab(buffer);
      Slab.cache.set(buffer, slab);
    }
    return slab;
  }
}
