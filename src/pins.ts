/**
 * Pin slots: how a snapshot keeps its segments from being recycled.
 *
 * A snapshot takes one slot and writes the range of segment sequences it
 * covers, `[start, end]`. The writer, before recycling a segment that left the
 * window, scans the slots and skips any segment inside a live range. Taking a
 * snapshot is therefore O(1) in the number of segments it covers (no
 * per-segment reference counts), and the writer pays one scan per segment
 * roll, bounded by the highest slot ever used.
 *
 * Correctness is the store-then-load handshake of hazard pointers: the reader
 * stores its range, then re-reads the window's oldest sequence; the writer
 * stores the new oldest sequence, then scans the slots. With sequentially
 * consistent Atomics, either the writer sees the pin or the reader sees that
 * its start was evicted and retries.
 *
 * Slot words: version (odd while the owner rewrites the range), state
 * (0 free, 1 taken), start (hi, lo), end (hi, lo), owner tag, reserved
 * budget in segments.
 */
import { H, PIN_WORDS, loadPair, storePair } from "./control.ts";

const VERSION = 0;
const STATE = 1;
const START = 2;
const END = 4;
const OWNER = 6;
const RESERVED = 7;
/** STATE value of a slot held by a gated cursor. */
const GATED = 2;

/** Operations on the pin table of one control block. */
export class PinTable {
  private readonly ctl: Int32Array;
  private readonly base: number;
  private readonly slots: number;

  constructor(ctl: Int32Array, pinBase: number, pinSlots: number) {
    this.ctl = ctl;
    this.base = pinBase;
    this.slots = pinSlots;
  }

  /** Takes a free slot for `owner` and returns its index, or -1 when every slot is taken. */
  acquire(owner: number): number {
    const ctl = this.ctl;
    for (let k = 0; k < this.slots; k++) {
      const at = this.base + k * PIN_WORDS;
      if (Atomics.load(ctl, at + STATE) === 0 && Atomics.compareExchange(ctl, at + STATE, 0, 1) === 0) {
        Atomics.store(ctl, at + OWNER, owner);
        // Raise the high-water mark before the slot can hold a range, so the writer's scan covers it.
        for (;;) {
          const hw = Atomics.load(ctl, H.PIN_HIGH_WATER);
          if (hw > k || Atomics.compareExchange(ctl, H.PIN_HIGH_WATER, hw, k + 1) === hw) break;
        }
        return k;
      }
    }
    return -1;
  }

  /** Publishes the range `[start, end]` of segment sequences for slot `k`. */
  setRange(k: number, start: number, end: number): void {
    const ctl = this.ctl;
    const at = this.base + k * PIN_WORDS;
    const v = Atomics.load(ctl, at + VERSION);
    Atomics.store(ctl, at + VERSION, v + 1);
    storePair(ctl, at + START, start);
    storePair(ctl, at + END, end);
    Atomics.store(ctl, at + VERSION, v + 2);
  }

  /** Budget (segments) recorded as reserved by slot `k`. */
  reserved(k: number): number {
    return Atomics.load(this.ctl, this.base + k * PIN_WORDS + RESERVED);
  }

  /** Records the budget slot `k` holds, so that recovery can return it. */
  setReserved(k: number, segments: number): void {
    Atomics.store(this.ctl, this.base + k * PIN_WORDS + RESERVED, segments);
  }

  /** Owner tag of slot `k` (see {@link acquire}). */
  owner(k: number): number {
    return Atomics.load(this.ctl, this.base + k * PIN_WORDS + OWNER);
  }

  /** Whether slot `k` is taken. */
  isTaken(k: number): boolean {
    return Atomics.load(this.ctl, this.base + k * PIN_WORDS + STATE) !== 0;
  }

  /**
   * Frees every slot owned by `owner` (a dead thread) and returns the budget
   * they held. Repairs a version left odd by an owner that died mid-update.
   */
  releaseOwnedBy(owner: number): { slots: number; segments: number; gates: number } {
    const ctl = this.ctl;
    let slots = 0;
    let segments = 0;
    let gates = 0;
    for (let k = 0; k < this.slots; k++) {
      const at = this.base + k * PIN_WORDS;
      if (Atomics.load(ctl, at + STATE) === 0 || Atomics.load(ctl, at + OWNER) !== owner) continue;
      const v = Atomics.load(ctl, at + VERSION);
      if ((v & 1) !== 0) Atomics.store(ctl, at + VERSION, v + 1);
      segments += Atomics.load(ctl, at + RESERVED);
      if (Atomics.load(ctl, at + STATE) === GATED) gates++;
      this.release(k);
      slots++;
    }
    return { slots, segments, gates };
  }

  /** Marks slot `k` as gating the writer's `tryReserve` (see cursor.ts). */
  setGated(k: number): void {
    Atomics.store(this.ctl, this.base + k * PIN_WORDS + STATE, GATED);
  }

  /**
   * Writer side: whether a gated slot still needs segment `seq` (its pinned
   * segment is at or before `seq`). Called only when some gate exists.
   */
  gateNeeds(seq: number): boolean {
    const ctl = this.ctl;
    const hw = Math.min(Atomics.load(ctl, H.PIN_HIGH_WATER), this.slots);
    for (let k = 0; k < hw; k++) {
      const at = this.base + k * PIN_WORDS;
      if (Atomics.load(ctl, at + STATE) !== GATED) continue;
      const v1 = Atomics.load(ctl, at + VERSION);
      const start = loadPair(ctl, at + START);
      const v2 = Atomics.load(ctl, at + VERSION);
      if ((v1 & 1) !== 0 || v1 !== v2 || start <= seq) return true;
    }
    return false;
  }

  /** Clears slot `k`'s range and frees it. */
  release(k: number): void {
    const ctl = this.ctl;
    const at = this.base + k * PIN_WORDS;
    // An empty range (start > end) first, so a stale range never outlives the slot's owner.
    this.setRange(k, 1, 0);
    Atomics.store(ctl, at + RESERVED, 0);
    Atomics.store(ctl, at + OWNER, 0);
    Atomics.store(ctl, at + STATE, 0);
  }

  /**
   * Writer side: collects every live range into `out` as [start0, end0, start1, end1, ...]
   * and returns how many ranges it wrote. A slot caught mid-update counts as
   * pinning everything (range [0, MAX_SAFE_INTEGER]) so the writer errs on the
   * side of keeping data.
   */
  collect(out: number[]): number {
    const ctl = this.ctl;
    const hw = Math.min(Atomics.load(ctl, H.PIN_HIGH_WATER), this.slots);
    let n = 0;
    for (let k = 0; k < hw; k++) {
      const at = this.base + k * PIN_WORDS;
      if (Atomics.load(ctl, at + STATE) === 0) continue;
      const v1 = Atomics.load(ctl, at + VERSION);
      const start = loadPair(ctl, at + START);
      const end = loadPair(ctl, at + END);
      const v2 = Atomics.load(ctl, at + VERSION);
      if ((v1 & 1) !== 0 || v1 !== v2) {
        out[2 * n] = 0;
        out[2 * n + 1] = Number.MAX_SAFE_INTEGER;
        n++;
      } else if (start <= end) {
        out[2 * n] = start;
        out[2 * n + 1] = end;
        n++;
      }
    }
    return n;
  }

  /** Number of slots. */
  get size(): number {
    return this.slots;
  }
}

/** True when `seq` lies in one of the first `n` ranges collected by {@link PinTable.collect}. */
export function isPinned(ranges: number[], n: number, seq: number): boolean {
  for (let i = 0; i < n; i++) {
    if (seq >= ranges[2 * i]! && seq <= ranges[2 * i + 1]!) return true;
  }
  return false;
}
