/**
 * Typed errors thrown by the runtime.
 *
 * Every error carries a stable `code` so callers can branch without matching
 * message text, and a message that names the bad value and what was expected.
 * Errors that describe bad arguments extend the built-in class a caller would
 * expect (`RangeError` for out-of-range options and values, `TypeError` for a
 * field of the wrong type), so generic `instanceof RangeError` handling works.
 */

/** Stable machine-readable codes for every error the runtime throws. */
export type AtomicLogErrorCode =
  | "INVALID_OPTION"
  | "FIELD_TYPE"
  | "FIELD_RANGE"
  | "WRITER_RELEASED"
  | "SNAPSHOT_RELEASED"
  | "SNAPSHOT_BUDGET"
  | "SEQUENCE_OVERFLOW"
  | "FINGERPRINT_MISMATCH"
  | "INVALID_HANDLE"
  | "UNSUPPORTED_PLATFORM"
  | "WRITER_STALLED"
  | "POOL_EXHAUSTED"
  | "TAKEOVER_PENDING"
  | "CORRUPT_LOG"
  | "LOG_LOCKED"
  | "LOG_STORAGE"
  | "LOG_IN_USE"
  | "BRIDGE_FENCED"
  | "BRIDGE_STREAM"
  | "PAYLOAD_LENGTH";

/** Base class for runtime failures that are not argument errors. */
export class AtomicLogError extends Error {
  /** Stable code; see {@link AtomicLogErrorCode}. */
  readonly code: AtomicLogErrorCode;
  constructor(code: AtomicLogErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option passed to a constructor or factory is not acceptable. */
export class InvalidOptionError extends RangeError {
  /** Always `"INVALID_OPTION"`. */
  readonly code = "INVALID_OPTION" as const;
  /** The option's name, e.g. `"segmentCapacity"`. */
  readonly option: string;
  /** The value that was rejected. */
  readonly value: unknown;
  constructor(option: string, value: unknown, expected: string) {
    super(`invalid option ${option}: got ${describeValue(value)}, expected ${expected}`);
    this.name = "InvalidOptionError";
    this.option = option;
    this.value = value;
  }
}

/** A record field given to `write`/`append` is missing or has the wrong type. */
export class RecordFieldError extends TypeError {
  /** Always `"FIELD_TYPE"`. */
  readonly code = "FIELD_TYPE" as const;
  /** The record's name, e.g. `"Trade"`. */
  readonly record: string;
  /** The field's path, e.g. `"price"` or `"quote.bid"`. */
  readonly field: string;
  constructor(record: string, field: string, expected: string, value: unknown) {
    super(
      value === undefined
        ? `${record}.${field} is missing: expected ${expected}`
        : `${record}.${field} has the wrong type: got ${describeValue(value)}, expected ${expected}`,
    );
    this.name = "RecordFieldError";
    this.record = record;
    this.field = field;
  }
}

/** A record field's value does not fit its declared type (integer range, utf8/bytes capacity, array length). */
export class FieldRangeError extends RangeError {
  /** Always `"FIELD_RANGE"`. */
  readonly code = "FIELD_RANGE" as const;
  /** The record's name. */
  readonly record: string;
  /** The field's path. */
  readonly field: string;
  constructor(record: string, field: string, detail: string) {
    super(`${record}.${field} is out of range: ${detail}`);
    this.name = "FieldRangeError";
    this.record = record;
    this.field = field;
  }
}

/**
 * A writer was used after it was released, or after its claim was taken over
 * (`forceClaimWriter`, or `recoverThread` for its thread). Nothing was published.
 */
export class WriterReleasedError extends AtomicLogError {
  /** Whether another writer took the claim (rather than this one releasing it). */
  readonly takenOver: boolean;
  constructor(takenOver = false) {
    super(
      "WRITER_RELEASED",
      takenOver
        ? "this writer's claim was taken over (forceClaimWriter or recoverThread); nothing was published — claim a new one with log.tryClaimWriter()"
        : "this writer was released; claim a new one with log.tryClaimWriter()",
    );
    this.takenOver = takenOver;
  }
}

/**
 * `forceClaimWriter()` was refused because the segment quarantined by an
 * earlier forced takeover is still held: the writer that takeover replaced
 * has not stopped (it stops at its next commit) and was not recovered.
 */
export class WriterTakeoverPendingError extends AtomicLogError {
  constructor() {
    super(
      "TAKEOVER_PENDING",
      "an earlier forceClaimWriter() is still waiting for the writer it replaced to stop; " +
        "if that writer's thread is gone, call log.recoverThread(itsThreadId) first",
    );
  }
}

/** A released snapshot (or cursor) was used. */
export class SnapshotReleasedError extends AtomicLogError {
  constructor(what = "snapshot") {
    super("SNAPSHOT_RELEASED", `this ${what} was released; take a new one with log.${what === "cursor" ? "cursor" : "snapshot"}()`);
  }
}

/**
 * Taking or refreshing a snapshot would pin more segments than the log's pin
 * budget allows. The writer is never affected; release or refresh older
 * snapshots, or create the log with a larger `snapshotBudget`.
 */
export class SnapshotBudgetError extends AtomicLogError {
  /** Segments the snapshot needed. */
  readonly needed: number;
  /** Segments still available in the budget. */
  readonly available: number;
  constructor(needed: number, available: number, budget: number) {
    super(
      "SNAPSHOT_BUDGET",
      `snapshot needs ${needed} segments but only ${available} of the pin budget (${budget}) are free; ` +
        `release snapshots you no longer read (snap.release(), or \`using snap = log.snapshot()\`), ` +
        `reuse one with snap.refresh(), or raise snapshotBudget. Snapshots dropped without release ` +
        `return their budget only after garbage collection`,
    );
    this.needed = needed;
    this.available = available;
  }
}

/** Every snapshot slot is taken (`maxSnapshots` snapshots are alive). */
export class TooManySnapshotsError extends AtomicLogError {
  constructor(slots: number) {
    super("SNAPSHOT_BUDGET", `all ${slots} snapshot slots are taken; release snapshots or raise maxSnapshots`);
  }
}

/** Appending would push a sequence number past `Number.MAX_SAFE_INTEGER`. */
export class SequenceOverflowError extends AtomicLogError {
  constructor(sequence: number) {
    super("SEQUENCE_OVERFLOW", `record sequence ${sequence} would exceed Number.MAX_SAFE_INTEGER (2^53 - 1)`);
  }
}

/** A codec does not match the layout a shared log was created with. */
export class FingerprintMismatchError extends AtomicLogError {
  /** The record name and fingerprint the log was created with. */
  readonly expected: { name: string; fingerprint: string };
  /** The record name and fingerprint of the codec that was offered. */
  readonly actual: { name: string; fingerprint: string };
  constructor(expected: { name: string; fingerprint: string }, actual: { name: string; fingerprint: string }) {
    super(
      "FINGERPRINT_MISMATCH",
      `record layout mismatch: the log holds ${expected.name} (fingerprint ${expected.fingerprint}) ` +
        `but the codec is ${actual.name} (fingerprint ${actual.fingerprint})`,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** A value passed as a log handle is not one (or is from an incompatible version). */
export class InvalidHandleError extends AtomicLogError {
  constructor(detail: string) {
    super("INVALID_HANDLE", `invalid log handle: ${detail}`);
  }
}

/**
 * A durable log's files are not a log this version can open: a wrong magic
 * number or version, a truncated or garbage header, or sizes and counts that
 * point past the end. Damage to records is not this error: recovery keeps the
 * valid prefix and reports what it dropped (`log.recovery`).
 */
export class CorruptLogError extends AtomicLogError {
  /** The file that failed its check. */
  readonly path: string;
  constructor(path: string, detail: string) {
    super("CORRUPT_LOG", `${path}: ${detail}`);
    this.path = path;
  }
}

/** A durable log is already open for writing by another live process (or this one). */
export class LogLockedError extends AtomicLogError {
  /** The directory. */
  readonly dir: string;
  /** The process holding it. */
  readonly pid: number;
  constructor(dir: string, pid: number, detail: string) {
    super("LOG_LOCKED", `${dir} is open for writing by process ${pid}${detail}`);
    this.dir = dir;
    this.pid = pid;
  }
}

/**
 * The file system refused: the directory is missing or not writable, or the
 * disk is full when a segment file is created (files are preallocated, so a
 * full disk surfaces here, never as a crash while appending).
 */
export class LogStorageError extends AtomicLogError {
  /** The path the operation was on. */
  readonly path: string;
  /** The system error code, e.g. `"ENOSPC"`, `"EACCES"`, `"ENOENT"`. */
  readonly errno: string;
  constructor(path: string, errno: string, detail: string) {
    super("LOG_STORAGE", `${path}: ${detail} (${errno})`);
    this.path = path;
    this.errno = errno;
  }
}

/** An operation on a log conflicts with its state: closing it while a writer holds the claim, or claiming a writer after closing it. */
export class LogInUseError extends AtomicLogError {
  constructor(operation: string, detail: string) {
    super("LOG_IN_USE", `cannot ${operation} the log: ${detail}`);
  }
}

/** Renders a value for an error message without throwing on exotic inputs. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    return `a ${Object.prototype.toString.call(value).slice(8, -1)} of ${value.byteLength} bytes`;
  }
  return `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
}
