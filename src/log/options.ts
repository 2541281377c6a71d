/**
 * Log options, their validation, and the derived geometry.
 *
 * Retention rule (the same as the Rust crate's): the window is the head
 * segment plus up to `R = ceil(retainedCapacity / segmentCapacity)` full
 * segments before it. A fresh snapshot therefore holds between
 * `retainedCapacity` (once the log is that long) and `(R + 1) * segmentCapacity`
 * records.
 *
 * Memory bound: the pool has `R + 1 + snapshotBudget + 1` segments (the last is
 * the takeover spare, see TAKEOVER_SPARE), all
 * allocated at creation and never more. Snapshots reserve budget for every
 * segment they pin, so the writer always finds a free segment and never waits.
 */
import { InvalidOptionError } from "../errors.ts";
import { MAX_SLAB_BYTES } from "../records/slab.ts";

/** Options for {@link AtomicLog.create}. */
export interface LogOptions {
  /** Records the window must keep, at least. Rounded up to whole segments. */
  retainedCapacity: number;
  /** Records per segment. Segments are the unit of retention and reclamation. */
  segmentCapacity: number;
  /**
   * Segments that live snapshots may pin in total, beyond the window.
   * Default: 8 windows' worth (`8 * (R + 1)`), capped by the 4 GiB ({@link MAX_POOL_BYTES}) pool limit.
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

/**
 * The largest pool: 2^32 bytes (4 GiB), every segment in one SharedArrayBuffer.
 *
 * Decision: keep 4 GiB, the largest size that is both allocatable and addressable.
 * Measured under Bun 1.4.5 on x64 Linux, 24 GiB RAM (see {@link MAX_SLAB_BYTES}):
 * - `new SharedArrayBuffer(2 ** 32)` works (allocation is lazy: ~0.2 ms, and a write
 *   and read of its last byte round-trip); `2 ** 32 + 1` bytes, 8 GiB and 16 GiB
 *   all throw `RangeError: Out of memory`, so no larger pool can exist here;
 * - typed arrays over it have 2^32 / BYTES_PER_ELEMENT elements (Uint8Array 2^32,
 *   Uint16Array 2^31, Uint32Array/Float32Array 2^30, Float64Array/BigInt64Array 2^29),
 *   one more element throws;
 * - generated views index `_f64[(byteOffset >>> 3) + k]`: the highest record offset
 *   in a 2^32-byte pool is 2^32 - recordBytes, below 2^32, so `>>> k` is exact for
 *   every slot (checked from JIT-hot loops above 2^31 too). A larger pool would
 *   wrap silently, which is why the views' slab refuses buffers past 2^32.
 * The pool used to be accepted at exactly 2^32 but its typed-array lengths were
 * computed with `n >>> k` (0 for 2^32), losing every record; they are divisions now.
 */
export const MAX_POOL_BYTES = MAX_SLAB_BYTES;
const MAX_SEGMENT_CAPACITY = 2 ** 24;
/**
 * One segment beyond the window and the snapshot budget. `forceClaimWriter()`
 * copies the head into a fresh segment and quarantines the old one until the
 * writer it replaced is known to have stopped (see writer-takeover.ts); the
 * spare is what keeps "the writer always finds a free segment" true meanwhile.
 */
export const TAKEOVER_SPARE = 1;
const MAX_SNAPSHOTS = 65536;
/** Named in every error about the pool size, with its exact value. */
const POOL_LIMIT = `the pool limit of ${MAX_POOL_BYTES} bytes (2^32, 4 GiB)`;

function positiveInt(name: string, value: unknown, max: number, why = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(name, value, `an integer from 1 to ${max}${why}`);
  }
  return value;
}

const LOG_OPTIONS = new Set(["retainedCapacity", "segmentCapacity", "snapshotBudget", "maxSnapshots", "initialSequence", "preTouch"]);

/**
 * Rejects option names `AtomicLog.create` does not know (a misspelt
 * `snapshotBudjet` would otherwise be ignored without a word).
 * @throws {InvalidOptionError} naming the unknown option.
 */
export function checkOptionNames(options: unknown): void {
  if (options === null || typeof options !== "object") return; // resolveOptions names that case
  for (const key of Object.keys(options)) {
    if (!LOG_OPTIONS.has(key)) {
      throw new InvalidOptionError(key, (options as Record<string, unknown>)[key], `no such option (known: ${[...LOG_OPTIONS].join(", ")})`);
    }
  }
}

/** Validates options for a record of `recordBytes` bytes. */
export function resolveOptions(options: LogOptions, recordBytes: number): LogGeometry {
  if (options === null || typeof options !== "object") {
    throw new InvalidOptionError("options", options, "an object with retainedCapacity and segmentCapacity");
  }
  // The smallest pool is 5 segments: a head and one retained segment (R >= 1), a
  // snapshot budget of one such window, and the takeover spare. So five must fit.
  const segmentCapacity = positiveInt(
    "segmentCapacity",
    options.segmentCapacity,
    Math.min(MAX_SEGMENT_CAPACITY, Math.floor(MAX_POOL_BYTES / ((4 + TAKEOVER_SPARE) * recordBytes))),
    ` for ${recordBytes}-byte records (five segments, the smallest pool, must fit in ${POOL_LIMIT})`,
  );
  const segmentBytes = segmentCapacity * recordBytes;
  const maxSegments = Math.floor(MAX_POOL_BYTES / segmentBytes) - TAKEOVER_SPARE;
  // The window (R + 1 segments) plus a budget of at least one window must fit (beside the spare).
  const maxWindow = Math.floor(maxSegments / 2);
  const retainedCapacity = positiveInt(
    "retainedCapacity",
    options.retainedCapacity,
    (maxWindow - 1) * segmentCapacity,
    ` for segments of ${segmentBytes} bytes (the window, R + 1 segments, must fit twice — ` +
      `once for itself, once for a one-window snapshot budget — beside the takeover spare in ${POOL_LIMIT}, i.e. at most ${maxWindow} segments)`,
  );
  const retainedSegments = Math.ceil(retainedCapacity / segmentCapacity);
  const window = retainedSegments + 1;
  const budgetRoom = maxSegments - window;
  const snapshotBudget =
    options.snapshotBudget === undefined
      ? Math.min(8 * window, budgetRoom)
      : budgetInRange(options.snapshotBudget, window, budgetRoom, maxSegments, segmentBytes);
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
    poolSegments: window + snapshotBudget + TAKEOVER_SPARE,
    dirSize,
    recordBytes,
    segmentBytes,
    initialSequence,
    preTouch,
  };
}

function budgetInRange(value: unknown, window: number, max: number, maxSegments: number, segmentBytes: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < window || value > max) {
    throw new InvalidOptionError(
      "snapshotBudget",
      value,
      `an integer from ${window} (one full-window snapshot) to ${max} ` +
        `(the window of ${window} plus the budget must stay within ${maxSegments} segments of ${segmentBytes} bytes, ` +
        `one more being the takeover spare: ${POOL_LIMIT})`,
    );
  }
  return value;
}
