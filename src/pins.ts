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
 * Slot words: version (its low bit names the current range entry), state
 * (0 free, 1 taken, 2 taken and gating the writer), two range entries of
 * (start hi, lo, end hi, lo), owner tag, reserved budget in segments. The
 * owner rewrites the inactive entry and flips the version, so the writer
 * never sees a range in flux and never waits for a preempted reader.
 */
import { H, PIN_WORDS, loadPair, storePair } from "./control.ts";

const VERSION = 0;
const STATE = 1;
const ENTRY = [2, 6] as const;
const START = 0;
const END = 2;
const OWNER = 10;
const RESERVED = 11;
/** STATE value of a slot held by a gated cursor. */
const GATED = 2;
// A reader flipping its range this many times during one ~10 ns read is not
// a reader, it is corruption; past it the writer treats the slot as pinning all.
const MAX_RETRIES = 1 << 16;

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
    const entry = at + ENTRY[(v & 1) ^ 1];
    storePair(ctl, entry + START, start);
    storePair(ctl, entry + END, end);
    Atomics.store(ctl, at + VERSION, (v + 1) | 0);
  }

  /**
   * Reads slot `k`'s current range into `out[0..1]`; returns false if the slot
   * is free or (never in practice) its owner kept flipping during the read.
   */
  private readRange(at: number, out: number[], o: number): boolean {
    const ctl = this.ctl;
    for (let tries = 0; tries < MAX_RETRIES; tries++) {
      const v1 = Atomics.load(ctl, at + VERSION);
      const entry = at + ENTRY[v1 & 1];
      const start = loadPair(ctl, entry + START);
      const end = loadPair(ctl, entry + END);
      if (Atomics.load(ctl, at + VERSION) === v1) {
        out[o] = start;
        out[o + 1] = end;
        return true;
      }
    }
    out[o] = 0;
    out[o + 1] = Number.MAX_SAFE_INTEGER;
    return true;
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
   * they held.
   */
  releaseOwnedBy(owner: number): { slots: number; segments: number; gates: number } {
    const ctl = this.ctl;
    let slots = 0;
    let segments = 0;
    let gates = 0;
    for (let k = 0; k < this.slots; k++) {
      const at = this.base + k * PIN_WORDS;
      if (Atomics.load(ctl, at + STATE) === 0 || Atomics.load(ctl, at + OWNER) !== owner) continue;
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
    const range = this.scratch;
    for (let k = 0; k < hw; k++) {
      const at = this.base + k * PIN_WORDS;
      if (Atomics.load(ctl, at + STATE) !== GATED) continue;
      this.readRange(at, range, 0);
      if (range[0]! <= seq) return true;
    }
    return false;
  }

  private readonly scratch: number[] = [0, 0];

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
   * Writer side: collects every live range into `out` as [start0, end0,
   * start1, end1, ...] and returns how many ranges it wrote.
   */
  collect(out: number[]): number {
    const ctl = this.ctl;
    const hw = Math.min(Atomics.load(ctl, H.PIN_HIGH_WATER), this.slots);
    let n = 0;
    for (let k = 0; k < hw; k++) {
      const at = this.base + k * PIN_WORDS;
      if (Atomics.load(ctl, at + STATE) === 0) continue;
      this.readRange(at, out, 2 * n);
      if (out[2 * n]! <= out[2 * n + 1]!) n++;
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
