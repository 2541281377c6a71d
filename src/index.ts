/**
 * atomic-log: a rolling window of typed records shared from one writer to
 * many readers across Bun workers, zero-copy over SharedArrayBuffer.
 *
 * Records are declared in `schemas/*.ts` with the types of `atomic-log/schema`
 * and turned into codecs and flyweight views by `atomic-log codegen`.
 */
export { AtomicLog, type LogStats, type RecoveryReport, type WatchableWorker } from "./log.ts";
export { Cursor, type CursorOptions, type CursorStart } from "./cursor.ts";
export { Dispatcher, type Consumer, type ConsumerStats, type DispatcherOptions } from "./dispatcher.ts";
export type { LogHandle } from "./handle.ts";
export { Writer } from "./writer.ts";
export { RecordSpan, type ReadSpan, type WriteSpan } from "./span.ts";
export { Snapshot } from "./snapshot.ts";
export { SegmentChunk } from "./chunk.ts";
export type { LogOptions } from "./options.ts";
export type { RecordCodec, FieldInfo, FieldKind, ViewOf, DataOf } from "./codec.ts";
export { RecordView, type ViewLayout } from "./record-view.ts";
export { Slab } from "./slab.ts";
export { truncateUtf8, utf8Length } from "./utf8.ts";
export {
  AtomicLogError,
  type AtomicLogErrorCode,
  FieldRangeError,
  FingerprintMismatchError,
  InvalidHandleError,
  InvalidOptionError,
  RecordFieldError,
  SequenceOverflowError,
  SnapshotBudgetError,
  SnapshotReleasedError,
  TooManySnapshotsError,
  WriterReleasedError,
  WriterTakeoverPendingError,
} from "./errors.ts";
