/**
 * The runtime surface that generated modules import (`atomic-log/runtime`).
 *
 * Generated code depends on this module only, so the generator and the runtime
 * can evolve separately: anything exported here is part of the generated-code
 * contract and changes only with a major version.
 */
export { RecordView, type ViewLayout } from "./record-view.ts";
export { Slab } from "./slab.ts";
export type { RecordCodec, FieldInfo, FieldKind } from "./codec.ts";
export { readUtf8, writeUtf8, truncateUtf8, utf8Length } from "./utf8.ts";
export {
  checkArray,
  checkBigInt,
  checkBool,
  checkBytes,
  checkFloat,
  checkInt,
  checkObject,
  checkString,
} from "./validate.ts";
export { FieldRangeError, RecordFieldError } from "../errors.ts";

import type { RecordCodec as Codec } from "./codec.ts";
import type { RecordView as View } from "./record-view.ts";

/**
 * What every generated codec satisfies: {@link Codec RecordCodec} plus the two
 * halves of `write`, which generated modules call on each other for nested
 * records (check the whole outer record first, then store it).
 */
export interface GeneratedCodec<V extends View, D> extends Codec<V, D> {
  /**
   * Checks `data` as `write` would, without writing, and returns it typed.
   * `record` and `path` (e.g. `"quote."`) name the outer record and field path in errors.
   */
  check(data: unknown, record?: string, path?: string): D;
  /** Stores already checked `data` through the view's setters. */
  assign(view: V, data: D): void;
}
