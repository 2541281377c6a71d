/**
 * The control block: one Int32Array over a SharedArrayBuffer that holds every
 * piece of shared log state except record bytes.
 *
 * Layout (32-bit words):
 *
 * ```
 * [0, 48)                     header (below), including the two window entries
 * [SEG_BASE, +4*pool)         per physical segment: count, seqHi, seqLo, generation
 * [dirBase, +dirSize)         directory ring: segment sequence mod dirSize -> physical segment
 * [pinBase, +8*pinSlots)      pin slots, one per live snapshot (see pins.ts)
 * ```
 *
 * Sequence numbers are exact up to 2^53, so they do not fit one Int32 word.
 * They are stored as (hi, lo) pairs. Every multi-word value that changes has
 * a single owner and two entries: the owner rewrites the inactive entry, then
 * flips a version word with one atomic store. Readers never see a value in
 * flux and never wait for an owner that was descheduled (or died) mid-update.
 * Only the per-segment `count` changes on every append, and it is one word:
 * publishing a record is one `Atomics.store`.
 */

/** Header word offsets. */
export const H = {
  MAGIC: 0,
  FORMAT: 1,
  RECORD_BYTES: 2,
  SEGMENT_CAPACITY: 3,
  RETAINED_SEGMENTS: 4,
  POOL_SEGMENTS: 5,
  PIN_SLOTS: 6,
  DIR_SIZE: 7,
  /**
   * The writer claim: 0 when free, else the holder's owner tag (see thread.ts),
   * with {@link CLAIM_ROLLING} set while it is in the middle of a segment roll.
   * Owner and claim are one word, so recovery frees a claim only if the dead
   * thread still holds it (one compare-and-swap; see claim.ts).
   */
  CLAIM: 8,
  /**
   * Window version: bumped once per window change. Its low bit names which of
   * the two window entries (WINDOW_ENTRY_0 / _1) is current.
   */
  WINDOW_VERSION: 9,
  /** Unused since the wake marks moved into the count words (see wake.ts). */
  UNUSED_15: 15,
  /** Bumped to wake parked readers; they `Atomics.waitAsync` on it (see wake.ts). */
  NOTIFY: 16,
  /** Pin budget in segments. */
  BUDGET: 17,
  /** Segments currently reserved by live snapshots. */
  BUDGET_USED: 18,
  RETAINED_CAPACITY_HI: 19,
  RETAINED_CAPACITY_LO: 20,
  /** One past the highest pin slot ever taken; bounds the writer's pin scan. */
  PIN_HIGH_WATER: 21,
  /** Claim nonces: every claim attempt takes the next value, so each claim has its own. */
  CLAIM_EPOCH: 22,
  FINGERPRINT_HI: 23,
  FINGERPRINT_LO: 24,
  INITIAL_SEQ_HI: 25,
  INITIAL_SEQ_LO: 26,
  /**
   * Segments ever closed early (COUNT_CLOSED). The writer bumps it before it
   * publishes a closed count, so a snapshot that reads 0 after reading the
   * window knows every segment behind its head is full, and skips loading
   * their counts (logs that never skip pay nothing).
   */
  CLOSED_SEGMENTS: 28,
  /**
   * Never written. Spin loops load it between tries ({@link pause}); the
   * interleaving tests treat a load of it as "this party is waiting for another".
   */
  PAUSE: 29,
  /** Physical segment + 1 quarantined by a forced writer takeover; 0 when none (see writer-takeover.ts). */
  QUARANTINE_PHYS: 30,
  /** Claim nonce of the writer a takeover fenced (-1 if unknown); 0 once it acknowledged or was recovered. */
  QUARANTINE_EPOCH: 31,
  /** Owner tag of the fenced writer, so `recoverThread` can acknowledge for it. */
  QUARANTINE_OWNER: 42,
  /** Nonce of the claim now held (stored just after it is taken; informational, for takeovers). */
  CLAIM_NONCE: 43,
  /** Nonce of the last writer that stopped because it was fenced (see acknowledgeTakeover). */
  STOPPED_NONCE: 44,
} as const;

/** Set in H.CLAIM while the holder rolls to a new segment; a forced takeover waits for it to clear. */
export const CLAIM_ROLLING = 1 << 30;
/**
 * Set in a segment's COUNT word when a forced takeover sealed it: the low
 * bits still hold the published count, and no writer will publish there again.
 */
export const COUNT_SEALED = 1 << 31;
/** Set in a segment's COUNT word by a reader parked on it (see wake.ts). */
export const COUNT_WAITER = 1 << 30;
/**
 * Set in a segment's COUNT word when the writer closed it before it was full
 * (`writer.skipTo`, or a time-aligned segment's end): its final count is in
 * the low bits, and the sequences from there to the segment's end were never
 * written (a gap that readers skip and count as lost). Published in the same
 * compare-and-swap as the final count, so a reader never sees a closed count
 * that could still grow.
 */
export const COUNT_CLOSED = 1 << 29;
/** The published count in a COUNT word (counts are at most 2^24, the largest segment). */
export const COUNT_MASK = 0x01ffffff;

/** First word of each of the two window entries: oldest (hi, lo), head (hi, lo), head physical segment. */
export const WINDOW_ENTRY = [32, 37] as const;
/** Offsets inside a window entry. */
export const WIN = { OLDEST: 0, HEAD: 2, HEAD_PHYS: 4 } as const;
/** Words reserved for the header. */
export const HEADER_WORDS = 48;
/** First word of the per-segment table. */
export const SEG_BASE = HEADER_WORDS;
/** Words per physical segment in the segment table. */
export const SEG_WORDS = 4;
/** Offsets inside one segment-table entry. */
export const SEG = { COUNT: 0, SEQ_HI: 1, SEQ_LO: 2, GENERATION: 3 } as const;
/** Words per pin slot (see pins.ts). */
export const PIN_WORDS = 14;
/** Identifies a control block ("ALOG"). */
export const MAGIC = 0x474f4c41;
/** Bumped when the shared layout changes incompatibly. */
export const FORMAT = 3;

const TWO_32 = 4294967296;

/** Reads a 53-bit value stored as (hi, lo) words at `at`, `at + 1`. Not atomic as a pair: callers check a version. */
export function loadPair(ctl: Int32Array, at: number): number {
  return Atomics.load(ctl, at) * TWO_32 + (Atomics.load(ctl, at + 1) >>> 0);
}

/** Stores a 53-bit value as (hi, lo) words. */
export function storePair(ctl: Int32Array, at: number, value: number): void {
  Atomics.store(ctl, at, Math.floor(value / TWO_32));
  Atomics.store(ctl, at + 1, value >>> 0);
}

/**
 * A spin-loop step: one load of a word nobody writes. Costs one load in
 * production; the interleaving tests see it as "waiting for another party".
 */
export function pause(ctl: Int32Array): void {
  Atomics.load(ctl, H.PAUSE);
}

/** Where the variable-size regions of a control block start. */
export interface ControlGeometry {
  /** Physical segments in the pool. */
  readonly poolSegments: number;
  /** Directory ring size (a power of two larger than the window). */
  readonly dirSize: number;
  /** Number of pin slots. */
  readonly pinSlots: number;
  /** First word of the directory. */
  readonly dirBase: number;
  /** First word of the pin table. */
  readonly pinBase: number;
  /** Total words. */
  readonly words: number;
}

/** Computes region offsets for a control block. */
export function controlGeometry(poolSegments: number, dirSize: number, pinSlots: number): ControlGeometry {
  const dirBase = SEG_BASE + SEG_WORDS * poolSegments;
  const pinBase = dirBase + dirSize;
  return { poolSegments, dirSize, pinSlots, dirBase, pinBase, words: pinBase + PIN_WORDS * pinSlots };
}

/** Word index of physical segment `phys`'s published record count. */
export function countIndex(phys: number): number {
  return SEG_BASE + SEG_WORDS * phys + SEG.COUNT;
}
