/**
 * The base of every generated flyweight view.
 *
 * A view is a cursor over one record slot: it owns no data, only a reference to
 * the buffer's {@link Slab} and a byte offset. Generated subclasses add a typed
 * getter and setter per field at fixed offsets. Repositioning never allocates.
 */
import { InvalidOptionError } from "../errors.ts";
import { Slab } from "./slab.ts";

const EMPTY = Slab.of(new ArrayBuffer(0));

/** The key Node's `util.inspect` and Bun's `console.log` call for a custom rendering. */
export const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** `fields` shown by `console.log` under the class-like name `name` (`Name { ... }`). */
export function label(name: string, fields: object): object {
  return Object.defineProperty(Object.assign(Object.create({ constructor: { name } }), fields), Symbol.toStringTag, { value: name });
}

/** A copy of `value` that JSON can hold: bigints (64-bit fields) become decimal strings, typed arrays plain arrays. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, jsonSafe);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v);
    return out;
  }
  return value;
}

/** Static facts about a record layout that a view needs to check positioning. */
export interface ViewLayout {
  /** Record name, for error messages. */
  readonly name: string;
  /** Bytes per record, a multiple of `alignment`. */
  readonly byteLength: number;
  /** The largest field alignment; every slot offset must be a multiple of it. */
  readonly alignment: number;
}

/** Base class of generated views. Not meant to be subclassed by hand. */
export abstract class RecordView {
  /**
   * Byte offset of the current slot in the buffer. Assigning it directly is the
   * fastest way to move the view and is unchecked: it must be a multiple of the
   * record's alignment and leave room for one record. Use {@link wrap} for a
   * checked move.
   */
  byteOffset = 0;
  /** @internal */ _slab: Slab = EMPTY;
  /** @internal */ _u8: Uint8Array = EMPTY.u8;
  /** @internal */ _i8: Int8Array = EMPTY.i8;
  /** @internal */ _u16: Uint16Array = EMPTY.u16;
  /** @internal */ _i16: Int16Array = EMPTY.i16;
  /** @internal */ _u32: Uint32Array = EMPTY.u32;
  /** @internal */ _i32: Int32Array = EMPTY.i32;
  /** @internal */ _f32: Float32Array = EMPTY.f32;
  /** @internal */ _f64: Float64Array = EMPTY.f64;
  /** @internal */ _u64: BigUint64Array = EMPTY.u64;
  /** @internal */ _i64: BigInt64Array = EMPTY.i64;
  /**
   * @internal The snapshot, cursor, chunk or writer this view belongs to. Holding
   * the view keeps it reachable, so a finalizer never unpins memory under a live view.
   */
  _owner: object | null = null;

  /** The record layout this view reads. */
  abstract get layout(): ViewLayout;

  /** The record under the view, copied out as a plain object (as the codec's `read`). */
  private plain(): unknown {
    return (this.layout as unknown as { read(view: RecordView): unknown }).read(this);
  }

  /**
   * The record as JSON can hold it, for `JSON.stringify(view)`: the codec's
   * plain object, with 64-bit integer fields as decimal strings (JSON numbers
   * cannot hold them exactly, and `JSON.stringify` throws on bigints).
   */
  toJSON(): unknown {
    return jsonSafe(this.plain());
  }

  /** `console.log(view)` shows the record's fields, not the view's typed arrays. */
  [INSPECT](): unknown {
    return label(this.layout.name, this.plain() as object);
  }

  /** The buffer the view currently reads. */
  get buffer(): ArrayBufferLike {
    return this._slab.buffer;
  }

  /**
   * Points the view at the record that starts at `byteOffset` in `buffer`.
   * @throws {InvalidOptionError} if the offset is misaligned or the record does not fit.
   */
  wrap(buffer: ArrayBufferLike, byteOffset = 0): this {
    const { name, byteLength, alignment } = this.layout;
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % alignment !== 0) {
      throw new InvalidOptionError("byteOffset", byteOffset, `a non-negative multiple of ${alignment} (${name} alignment)`);
    }
    if (byteOffset + byteLength > buffer.byteLength) {
      throw new InvalidOptionError(
        "byteOffset",
        byteOffset,
        `room for ${byteLength} bytes of ${name} in a buffer of ${buffer.byteLength} bytes`,
      );
    }
    this._wrapSlab(Slab.of(buffer), byteOffset);
    return this;
  }

  /** @internal Unchecked move onto a slab; used by the log and by nested views. */
  _wrapSlab(slab: Slab, byteOffset: number): this {
    if (slab !== this._slab) {
      this._slab = slab;
      this._u8 = slab.u8;
      this._i8 = slab.i8;
      this._u16 = slab.u16;
      this._i16 = slab.i16;
      this._u32 = slab.u32;
      this._i32 = slab.i32;
      this._f32 = slab.f32;
      this._f64 = slab.f64;
      this._u64 = slab.u64;
      this._i64 = slab.i64;
    }
    this.byteOffset = byteOffset;
    return this;
  }
}
