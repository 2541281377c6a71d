/**
 * The raw shared-memory ceiling's control block: the published record count
 * and the parked-readers flag, on separate cache lines (as the fastest raw
 * code would place them; the writer stores the count, readers store the flag).
 */

/** Int32 index of the published record count. */
export const COUNT = 0;
/** Int32 index of the "a reader is parked" flag (64 bytes after COUNT). */
export const WAITERS = 16;
/** Bytes of the control block. */
export const CONTROL_BYTES = 128;
/** Counts are Int32: a run of the benchmark must stay below this many records. */
export const MAX_COUNT = 2 ** 31 - 1;
