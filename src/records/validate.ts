/**
 * Field checks used by generated `write()` functions.
 *
 * The object form of writing is the convenient, checked path: a missing field
 * or a wrong type is a `RecordFieldError` (a TypeError) naming the field, and
 * a value that does not fit is a `FieldRangeError`. View setters skip these
 * checks by design; that is the fast, unchecked path.
 *
 * Each check takes the field's path prefix and name separately and joins
 * them only when it throws: building `path + name` eagerly allocated a string
 * per field per record and cut `append({...})` to a fifth of its speed.
 */
import { FieldRangeError, RecordFieldError } from "../errors.ts";

/** Checks a float field (`f32`/`f64`): any number, including NaN and ±Infinity. */
export function checkFloat(record: string, path: string, field: string, value: unknown): number {
  if (typeof value !== "number") throw new RecordFieldError(record, path + field, "a number", value);
  return value;
}

/** Checks an integer field of at most 32 bits against its range. */
export function checkInt(record: string, path: string, field: string, value: unknown, min: number, max: number, type: string): number {
  if (typeof value !== "number") throw new RecordFieldError(record, path + field, `a number (${type})`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FieldRangeError(record, path + field, `${value} is not a ${type} integer in [${min}, ${max}]`);
  }
  return value;
}

/** Checks a 64-bit integer field (`u64`/`i64`), which is a bigint. */
export function checkBigInt(record: string, path: string, field: string, value: unknown, min: bigint, max: bigint, type: string): bigint {
  if (typeof value !== "bigint") throw new RecordFieldError(record, path + field, `a bigint (${type})`, value);
  if (value < min || value > max) throw new FieldRangeError(record, path + field, `${value}n is not in ${type} range [${min}, ${max}]`);
  return value;
}

/** Checks a `bool` field. */
export function checkBool(record: string, path: string, field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new RecordFieldError(record, path + field, "a boolean", value);
  return value;
}

/** Checks a `utf8<N>` field's type; the byte length is checked while encoding. */
export function checkString(record: string, path: string, field: string, value: unknown): string {
  if (typeof value !== "string") throw new RecordFieldError(record, path + field, "a string", value);
  return value;
}

/** Checks a `bytes<N>` field: a Uint8Array of at most `capacity` bytes. */
export function checkBytes(record: string, path: string, field: string, value: unknown, capacity: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new RecordFieldError(record, path + field, `a Uint8Array of at most ${capacity} bytes`, value);
  if (value.byteLength > capacity) {
    throw new FieldRangeError(record, path + field, `${value.byteLength} bytes exceed the field's ${capacity} bytes`);
  }
  return value;
}

/** Checks a fixed-length array field: array-like with exactly `length` elements. */
export function checkArray(record: string, path: string, field: string, value: unknown, length: number): ArrayLike<unknown> {
  if (value === null || typeof value !== "object" || typeof (value as ArrayLike<unknown>).length !== "number") {
    throw new RecordFieldError(record, path + field, `an array of ${length} elements`, value);
  }
  const got = (value as ArrayLike<unknown>).length;
  if (got !== length) throw new FieldRangeError(record, path + field, `array length ${got}, expected exactly ${length}`);
  return value as ArrayLike<unknown>;
}

/** Checks a nested record field: a non-null object. */
export function checkObject(record: string, path: string, field: string, value: unknown, expected: string): object {
  if (value === null || typeof value !== "object") throw new RecordFieldError(record, path + field, expected, value);
  return value;
}
