/**
 * One set of typed arrays over a buffer, shared by every view that reads it.
 *
 * Generated views read fields as `this._f64[(this.byteOffset >>> 3) + k]`:
 * one property load and one indexed access, which measured at or above raw
 * typed-array speed here. Building the arrays once per buffer (not per view,
 * not per record) is what keeps repositioning a view allocation-free.
 */
import { AtomicLogError, InvalidOptionError } from "../errors.ts";

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed arrays use the platform's byte order; the format is little-endian.
  throw new AtomicLogError("UNSUPPORTED_PLATFORM", "atomic-log needs a little-endian platform");
}

/**
 * The largest buffer a slab (and so any generated view) can cover: 2^32 bytes.
 *
 * Views index with `byteOffset >>> k`, an unsigned 32-bit shift: exact for every
 * byte offset up to 2^32 - 1, but an offset of 2^32 or more wraps to a low
 * address and would read or write the wrong record without any error. So every
 * record must end at or below 2^32, i.e. the buffer must not be larger.
 *
 * This is also the runtime's own limit. Measured under Bun 1.4.5 (JavaScriptCore)
 * on x64 Linux with 24 GiB of RAM: `new SharedArrayBuffer(2 ** 32)` allocates
 * and its last byte reads back, 2^32 + 1 bytes (and 8 GiB, and a growable
 * buffer with a larger maxByteLength) throw `RangeError: Out of memory`;
 * typed arrays over a 2^32-byte buffer have 2^32 / BYTES_PER_ELEMENT elements
 * (Uint8Array 2^32 ... Float64Array 2^29) and their last element round-trips,
 * including from JIT-compiled loops at offsets above 2^31.
 */
export const MAX_SLAB_BYTES = 2 ** 32;

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
    if (!(n <= MAX_SLAB_BYTES)) {
      throw new InvalidOptionError(
        "buffer",
        buffer,
        `at most ${MAX_SLAB_BYTES} bytes (2^32): views address records with unsigned 32-bit byte offsets`,
      );
    }
    this.buffer = buffer;
    // Lengths by division, not `n >>> k`: a 2^32-byte buffer (the largest pool) is
    // 0 after `>>>`, which made every array but the byte ones empty and dropped
    // every write. Each array covers the whole buffer except a tail shorter than
    // one element.
    this.u8 = new Uint8Array(buffer, 0, n);
    this.i8 = new Int8Array(buffer, 0, n);
    this.u16 = new Uint16Array(buffer, 0, Math.floor(n / 2));
    this.i16 = new Int16Array(buffer, 0, Math.floor(n / 2));
    this.u32 = new Uint32Array(buffer, 0, Math.floor(n / 4));
    this.i32 = new Int32Array(buffer, 0, Math.floor(n / 4));
    this.f32 = new Float32Array(buffer, 0, Math.floor(n / 4));
    this.f64 = new Float64Array(buffer, 0, Math.floor(n / 8));
    this.u64 = new BigUint64Array(buffer, 0, Math.floor(n / 8));
    this.i64 = new BigInt64Array(buffer, 0, Math.floor(n / 8));
  }

  private static readonly cache = new WeakMap<ArrayBufferLike, Slab>();

  /**
   * The slab for `buffer`, created on first use and shared afterwards.
   * @throws {InvalidOptionError} (`.option === "buffer"`) if `buffer` is larger
   *   than {@link MAX_SLAB_BYTES}, which views cannot address.
   */
  static of(buffer: ArrayBufferLike): Slab {
    let slab = Slab.cache.get(buffer);
    if (slab === undefined || slab.u8.byteLength !== buffer.byteLength) {
      slab = new Slab(buffer);
      Slab.cache.set(buffer, slab);
    }
    return slab;
  }
}
