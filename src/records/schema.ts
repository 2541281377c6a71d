/**
 * The schema language: types for declaring records in `schemas/*.ts`.
 *
 * A record is an exported interface whose fields use these types. The code
 * generator reads them by name; they exist only for the type checker and
 * carry no runtime value. Each is its JavaScript representation plus an
 * optional brand, so plain numbers and strings stay assignable.
 *
 * @example
 * ```ts
 * import type { f64, u32, u8, utf8 } from "atomic-log/schema";
 * export interface Trade { ts: f64; id: u32; price: f64; qty: u32; side: u8; venue: utf8<8> }
 * ```
 */

declare const brand: unique symbol;
type Brand<T, B> = T & { readonly [brand]?: B };

/** Unsigned 8-bit integer, stored in 1 byte. */
export type u8 = Brand<number, "u8">;
/** Signed 8-bit integer, stored in 1 byte. */
export type i8 = Brand<number, "i8">;
/** Unsigned 16-bit integer, stored in 2 bytes. */
export type u16 = Brand<number, "u16">;
/** Signed 16-bit integer, stored in 2 bytes. */
export type i16 = Brand<number, "i16">;
/** Unsigned 32-bit integer, stored in 4 bytes. */
export type u32 = Brand<number, "u32">;
/** Signed 32-bit integer, stored in 4 bytes. */
export type i32 = Brand<number, "i32">;
/** Unsigned 64-bit integer, stored in 8 bytes, read as bigint. */
export type u64 = Brand<bigint, "u64">;
/** Signed 64-bit integer, stored in 8 bytes, read as bigint. */
export type i64 = Brand<bigint, "i64">;
/** 32-bit float, stored in 4 bytes. */
export type f32 = Brand<number, "f32">;
/** 64-bit float, stored in 8 bytes. */
export type f64 = Brand<number, "f64">;
/** Boolean, stored in 1 byte (0 or 1). */
export type bool = Brand<boolean, "bool">;
/**
 * A string of at most `N` bytes of UTF-8, stored with its length. Writing a
 * longer string is an error; use `truncateUtf8` to cut one on a code point.
 */
export type utf8<N extends number> = Brand<string, ["utf8", N]>;
/** Up to `N` bytes, stored with a length prefix, read as a zero-copy Uint8Array. */
export type bytes<N extends number> = Brand<Uint8Array, ["bytes", N]>;
/** Numeric element types allowed in {@link Fixed}. */
export type FixedElement = u8 | i8 | u16 | i16 | u32 | i32 | u64 | i64 | f32 | f64;
/** Exactly `N` elements of numeric type `T`, stored inline. */
export type Fixed<T extends FixedElement, N extends number> = Brand<T[], ["fixed", N]>;
