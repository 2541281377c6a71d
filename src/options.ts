/**
 * Log options, their validation, and the derived geometry.
 *
 * Retention rule (the same as the Rust crate's): the window is the head
 * segment plus up to `R = ceil(retainedCapacity / segmentCapacity)` full
 * segments before it. A fresh snapshot therefore holds between
 * `retainedCapacity` (once the log is that long) and `(R + 1) * segmentCapacity`
 * records.
 *
 * Memory bound: the pool has `R + 1 + snapshotBudget` segments, all
 * allocated at creation and never more. Snapshots reserve budget for every
 * segment they pin, so the writer always finds a free segment and never waits.
 */
import { InvalidOptionError } from "./errors.ts";

/** Options for {@link AtomicLog.create}. */
export interface LogOptions {
  /** Records the window must keep, at least. Rounded up to whole segments. */
  retainedCapacity: number;
  /** Records per segment. Segments are the unit of retention and reclamation. */
  segmentCapacity: number;
  /**
   * Segments that live snapshots may pin in total, beyond the window.
   * Default: 8 windows' worth (`8 * (R + 1)`), capped by the 4 GiB pool limit.
   * Pool pages beyond the window are touched only when snapshots pin them.
   */
  snapshotBudget?: number;
  /** Maximum number of snapshots alive at once (each takes one pin slot). Default 1024. */
  maxSnapshots?: number;
  /** Sequence number of the first record; a multiple of `segmentCapacity`. Default 0. */
  initialSequence?: number;
  /** Touch the window's pages at creation so the first appends run at full speed. Default true. */
  preTouch?: boolean;
}

/** Validated options plus everything derived from them. */
export interface LogGeometry {
  readonly retainedCapacity: number;
  readonly segmentCapacity: number;
  /** R: full segments kept behind the head. */
  readonly retainedSegments: number;
  readonly snapshotBudget: number;
  readonly maxSnapshots: number;
  readonly poolSegments: number;
  readonly dirSize: number;
  readonly recordBytes: number;
  readonly segmentBytes: number;
  readonly initialSequence: number;
  readonly preTouch: boolean;
}

/** The largest pool: view offsets are unsigned 32-bit. */
export const MAX_POOL_BYTES = 2 ** 32;
const MAX_SEGMENT_CAPACITY = 2 ** 24;
const MAX_SNAPSHOTS = 65536;

function positiveInt(name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(name, value, `an integer from 1 to ${max}`);
  }
  return value;
}

/** Validates options for a record of `recordBytes` bytes. */
export function resolveOptions(options: LogOptions, recordBytes: number): LogGeometry {
  if (options === null || typeof options !== "object") {
    throw new InvalidOptionError("options", options, "an object with retainedCapacity and segmentCapacity");
  }
  const segmentCapacity = positiveInt("segmentCapacity", options.segmentCapacity, MAX_SEGMENT_CAPACITY);
  const segmentBytes = segmentCapacity * recordBytes;
  const maxSegments = Math.floor(MAX_POOL_BYTES / segmentBytes);
  if (maxSegments < 2) {
    throw new InvalidOptionError("segmentCapacity", segmentCapacity, `a segment small enough that two fit in the 4 GiB pool`);
  }
  const retainedCapacity = positiveInt("retainedCapacity", options.retainedCapacity, (maxSegments - 1) * segmentCapacity);
  const retainedSegments = Math.ceil(retainedCapacity / segmentCapacity);
  const window = retainedSegments + 1;
  const budgetRoom = maxSegments - window;
  if (budgetRoom < window) {
    throw new InvalidOptionError(
      "retainedCapacity",
      retainedCapacity,
      `a window that fits twice in the 4 GiB pool (one window plus room for one full snapshot)`,
    );
  }
  const snapshotBudget =
    options.snapshotBudget === undefined
      ? Math.min(8 * window, budgetRoom)
      : budgetInRange(options.snapshotBudget, window, budgetRoom);
  const maxSnapshots = options.maxSnapshots === undefined ? 1024 : positiveInt("maxSnapshots", options.maxSnapshots, MAX_SNAPSHOTS);
  const initialSequence = options.initialSequence ?? 0;
  if (
    typeof initialSequence !== "number" ||
    !Number.isSafeInteger(initialSequence) ||
    initialSequence < 0 ||
    initialSequence % segmentCapacity !== 0 ||
    initialSequence + segmentCapacity - 1 > Number.MAX_SAFE_INTEGER
  ) {
    throw new InvalidOptionError(
      "initialSequence",
      initialSequence,
      `a non-negative multiple of segmentCapacity (${segmentCapacity}) whose first segment stays within 2^53 - 1`,
    );
  }
  const preTouch = options.preTouch ?? true;
  if (typeof preTouch !== "boolean") throw new InvalidOptionError("preTouch", preTouch, "a boolean");
  let dirSize = 2;
  while (dirSize < window + 1) dirSize *= 2;
  return {
    retainedCapacity,
    segmentCapacity,
    retainedSegments,
    snapshotBudget,
    maxSnapshots,
    poolSegments: window + snapshotBudget,
    dirSize,
    recordBytes,
    segmentBytes,
    initialSequence,
    preTouch,
  };
}

function budgetInRange(value: unknown, window: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < window || value > max) {
    throw new InvalidOptionError(
      "snapshotBudget",
      value,
      `an integer from ${window} (one full-window snapshot) to ${max} (the 4 GiB pool limit)`,
    );
  }
  return value;
}
