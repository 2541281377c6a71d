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
export { FieldRangeError, RecordFieldError } from "./errors.ts";
