/**
 * atomic-log: a rolling window of typed records shared from one writer to
 * many readers across Bun workers, zero-copy over SharedArrayBuffer.
 *
 * Records are declared in `schemas/*.ts` with the types of `atomic-log/schema`
 * and turned into codecs and flyweight views by `atomic-log codegen`.
 */
export { AtomicLog, type LogStats, type RecoveryReport, type WatchableWorker } from "./log/log.ts";
export { Cursor, type CursorOptions, type CursorStart } from "./log/cursor.ts";
export { Dispatcher, type Consumer, type ConsumerStats, type DispatcherOptions } from "./log/dispatcher.ts";
export type { LogHandle } from "./log/handle.ts";
export { Writer } from "./log/writer.ts";
export { RecordSpan, type ReadSpan, type WriteSpan } from "./log/span.ts";
export { Snapshot } from "./log/snapshot.ts";
export { SegmentChunk } from "./log/chunk.ts";
export type { LogOptions } from "./log/options.ts";
export type { DurableLogOptions } from "./store/durable-open.ts";
export type { DurabilityPolicy, DurableRecovery } from "./store/durable-state.ts";
export type { RecordCodec, FieldInfo, FieldKind, ViewOf, DataOf } from "./records/codec.ts";
export { RecordView, type ViewLayout } from "./records/record-view.ts";
export { Slab } from "./records/slab.ts";
export { truncateUtf8, utf8Length } from "./records/utf8.ts";
export {
  AtomicLogError,
  type AtomicLogErrorCode,
  CorruptLogError,
  LogInUseError,
  LogLockedError,
  LogStorageError,
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
