/**
 * The contract between generated modules and the runtime.
 *
 * The code generator emits, per record, a codec object that satisfies
 * {@link RecordCodec} and a view class that extends `RecordView`. The log only
 * ever talks to records through this interface, so any generated codec (or a
 * hand-written one that keeps the same promises) can be stored in a log.
 */
import type { RecordView } from "./record-view.ts";

/** How a field is stored; `type` keeps the schema's own spelling. */
export type FieldKind =
  | "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64"
  | "f32" | "f64" | "bool" | "utf8" | "bytes" | "array" | "enum" | "record";

/** Layout metadata of one field, in declaration order. */
export interface FieldInfo {
  /** Field name as declared. */
  readonly name: string;
  /** How it is stored. */
  readonly kind: FieldKind;
  /** The schema's spelling of the type, e.g. `"utf8<16>"` or `"Fixed<f64, 4>"`. */
  readonly type: string;
  /** Byte offset from the start of the record. */
  readonly offset: number;
  /** Bytes the field occupies, including any length prefix. */
  readonly size: number;
  /** Alignment of the field in bytes. */
  readonly alignment: number;
}

/**
 * A record codec: the layout, a factory for flyweight views, and conversions
 * between views and plain objects.
 *
 * @typeParam V - the generated view class.
 * @typeParam D - the plain-object type that `write` takes and `read` returns.
 */
export interface RecordCodec<V extends RecordView = RecordView, D = unknown> {
  /** Record name as declared in the schema. */
  readonly name: string;
  /** Bytes per record: the padded size, a multiple of `alignment`. */
  readonly byteLength: number;
  /** Largest field alignment. */
  readonly alignment: number;
  /** Stable hash of the name, fields, types and offsets; changes whenever the layout does. */
  readonly fingerprint: string;
  /** Field metadata in declaration order. */
  readonly fields: readonly FieldInfo[];
  /** A new flyweight view; wrapped over `buffer` at `byteOffset` when a buffer is given. */
  view(buffer?: ArrayBufferLike, byteOffset?: number): V;
  /** Copies the record under `view` out into a new plain object. */
  read(view: V): D;
  /**
   * Writes a plain object into the slot under `view`, checking every field.
   * @throws {RecordFieldError} when a field is missing or has the wrong type.
   * @throws {FieldRangeError} when a value does not fit the field.
   */
  write(view: V, data: D): void;
}

/** The view type of a codec. */
export type ViewOf<C> = C extends RecordCodec<infer V, unknown> ? V : never;
/** The plain-object type of a codec. */
export type DataOf<C> = C extends RecordCodec<RecordView, infer D> ? D : never;
