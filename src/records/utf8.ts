/**
 * UTF-8 helpers for `utf8<N>` fields.
 *
 * Decision: a string whose UTF-8 encoding is longer than N bytes is an error
 * (`FieldRangeError`), on the view setter and in `write`, never a silent
 * truncation. Callers who want truncation call {@link truncateUtf8} first; it
 * never splits a code point.
 */
import { FieldRangeError } from "../errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Encodes `value` into `u8[start .. start + capacity)` and returns the bytes
 * written.
 *
 * All or nothing: a value that does not fit throws before a single byte is
 * written, so a failed `view.name = tooLong` leaves the field reading its
 * previous value (the caller stores the length prefix only on success). The
 * common case, a short ASCII string, allocates nothing and makes no encoder call.
 * @throws {FieldRangeError} if the encoding needs more than `capacity` bytes;
 *   `u8` is then unchanged.
 */
export function writeUtf8(
  u8: Uint8Array,
  start: number,
  capacity: number,
  value: string,
  record: string,
  field: string,
): number {
  const n = value.length;
  // Every UTF-16 unit takes at least one byte, so more units than bytes never fits.
  if (n > capacity) throw overflow(value, capacity, record, field);
  // Every UTF-16 unit takes at most three bytes, so up to capacity / 3 units always
  // fits: copy ASCII as it is scanned, and hand the rest to the encoder, which
  // cannot run out of room here.
  const alwaysFits = n * 3 <= capacity;
  let i = 0;
  if (alwaysFits) {
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) break;
      u8[start + i] = c;
    }
    if (i === n) return n;
  } else {
    // It might not fit: scan first and write only once the whole value is known
    // to be ASCII (n <= capacity bytes, checked above).
    while (i < n && value.charCodeAt(i) <= 0x7f) i++;
    if (i === n) {
      for (let j = 0; j < n; j++) u8[start + j] = value.charCodeAt(j);
      return n;
    }
    // Non-ASCII: count the bytes before touching the destination. encodeInto
    // would write the prefix that fits before reporting that the rest did not.
    if (utf8Length(value) > capacity) throw overflow(value, capacity, record, field);
  }
  // Fits (utf8Length matches the encoder: a lone surrogate becomes U+FFFD, 3 bytes).
  return encoder.encodeInto(value, u8.subarray(start, start + capacity)).written;
}

/** The error {@link writeUtf8} throws; off the hot path, so it may count bytes. */
function overflow(value: string, capacity: number, record: string, field: string): FieldRangeError {
  return new FieldRangeError(record, field, `UTF-8 length ${utf8Length(value)} exceeds the field's ${capacity} bytes`);
}

/** Decodes `length` bytes of UTF-8 at `start`. */
export function readUtf8(u8: Uint8Array, start: number, length: number): string {
  if (length <= 16) {
    let ascii = true;
    for (let i = 0; i < length; i++) if (u8[start + i]! > 0x7f) { ascii = false; break; }
    if (ascii) {
      let s = "";
      for (let i = 0; i < length; i++) s += String.fromCharCode(u8[start + i]!);
      return s;
    }
  }
  return decoder.decode(u8.subarray(start, start + length));
}

/** Number of bytes `value` takes in UTF-8. */
export function utf8Length(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { bytes += 4; i++; } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The longest prefix of `value` whose UTF-8 encoding fits in `maxBytes`,
 * cut on a code point boundary (a surrogate pair is never split).
 */
export function truncateUtf8(value: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    let width = 1;
    let units = 1;
    if (c >= 0x80 && c < 0x800) width = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      width = 4;
      units = 2;
    } else if (c >= 0x800) width = 3;
    if (bytes + width > maxBytes) break;
    bytes += width;
    i += units;
  }
  return i === value.length ? value : value.slice(0, i);
}
