/**
 * Pin slots: how snapshots and cursors keep their segments from being recycled.
 *
 * A reader takes one slot and publishes the range of segment sequences it
 * reads, `[start, end]`. The writer, before recycling a segment that left the
 * window, scans the slots and skips any segment inside a live range. Taking a
 * snapshot is O(1) in the number of segments it covers, and the writer pays
 * one scan per segment roll, bounded by the highest slot ever used.
 *
 * Protocol "pin versus recycle" (hazard pointers): the reader stores its
 * range, then re-reads the window's oldest sequence; the writer stores the new
 * oldest sequence, then scans the slots. With sequentially consistent Atomics,
 * either the writer sees the pin or the reader sees that its start was evicted
 * and retries. Invariant: a segment inside a validated range is never recycled.
 *
 * Protocol "pin flip": a slot has two range entries and a version word whose
 * low bit names the current one. Only the slot's holder writes its range: it
 * rewrites the inactive entry and flips the version with one store. The writer
 * copies the current entry and retries only if the version moved meanwhile
 * (so the holder made progress). Invariant: the writer never acts on a range
 * the holder did not publish, and never waits for a preempted holder.
 *
 * Protocol "slot ownership": the OWNER word is the holder's tag (0 when free),
 * taken by compare-and-swap, so a thread killed right after taking a slot is
 * still its owner and recovery finds it. Releasing is claimed by one
 * compare-and-swap to `tag | RELEASING` (the holder) or `tag | RECOVERING`
 * (`recoverThread`), so the owner's release and any number of recoveries free
 * a slot, its budget and its gate exactly once. Recovery also completes a
 * release that its dead owner had begun.
 *
 * Protocol "pin release and budget": the range is cleared before the budget
 * is returned (and widened only after budget is reserved), so at every
 * instant each slot's range is covered by its reservation, the segments
 * pinned outside the window never exceed the budget, and the writer always
 * finds a free segment. See pin-lease.ts for the reservation steps.
 *
 * All of it is checked under every interleaving by test/interleave/.
 */
import { H, PIN_WORDS, loadPair, storePair } from "./control.ts";

const VERSION = 0;
/** Owner tag, 0 when free; with RELEASING or RECOVERING while being freed. */
const OWNER = 1;
const ENTRY = [2, 6] as const;
const START = 0;
const END = 2;
/** 1 while the slot gates the writer's `tryReserve` (gated cursors). */
const GATED = 10;
/** Budget segments the slot holds (see pin-lease.ts). */
const RESERVED = 11;

/** OWNER bit: the owner is releasing the slot. */
const RELEASING = 1 << 29;
/** OWNER bit: `recoverThread` is releasing the slot for its dead owner. */
const RECOVERING = 1 << 30;
// Owner tags (thread id + 1, thread.ts) stay below RELEASING, and below CLAIM_ROLLING in the claim word.

// A holder flipping its range this many times during one ~10 ns read is not a
// reader, it is corruption; past it the writer treats the slot as pinning all.
const MAX_RETRIES = 1 << 16;

/** What one release freed. */
interface Freed {
  segments: number;
  gated: boolean;
}

/** Operations on the pin table of one control block. */
export class PinTable {
  private readonly ctl: Int32Array;
  private readonly base: number;
  private readonly slots: number;
  private readonly scratch: number[] = [0, 0];

  constructor(ctl: Int32Array, pinBase: number, pinSlots: number) {
    this.ctl = ctl;
    this.base = pinBase;
    this.slots = pinSlots;
  }

  private at(k: number): number {
    return this.base + k * PIN_WORDS;
  }

  /** Takes a free slot for `owner` and returns its index, or -1 when every slot is taken. */
  acquire(owner: number): number {
    const ctl = this.ctl;
    for (let k = 0; k < this.slots; k++) {
      const at = this.at(k);
      if (Atomics.load(ctl, at + OWNER) === 0 && Atomics.compareExchange(ctl, at + OWNER, 0, owner) === 0) {
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

  /** Publishes the range `[start, end]` of segment sequences for slot `k` (its holder only). */
  setRange(k: number, start: number, end: number): void {
    const ctl = this.ctl;
    const at = this.at(k);
    const v = Atomics.load(ctl, at + VERSION);
    const entry = at + ENTRY[(v & 1) ^ 1]!;
    storePair(ctl, entry + START, start);
    storePair(ctl, entry + END, end);
    Atomics.store(ctl, at + VERSION, (v + 1) | 0);
  }

  /** Reads the current range of the slot at word `at` into `out[o..o+1]`. */
  private readRange(at: number, out: number[], o: number): void {
    const ctl = this.ctl;
    for (let tries = 0; tries < MAX_RETRIES; tries++) {
      const v1 = Atomics.load(ctl, at + VERSION);
      const entry = at + ENTRY[v1 & 1]!;
      const start = loadPair(ctl, entry + START);
      const end = loadPair(ctl, entry + END);
      if (Atomics.load(ctl, at + VERSION) === v1) {
        out[o] = start;
        out[o + 1] = end;
        return;
      }
    }
    out[o] = 0;
    out[o + 1] = Number.MAX_SAFE_INTEGER;
  }

  /** Records the budget slot `k` holds, so that recovery can return it. */
  setReserved(k: number, segments: number): void {
    Atomics.store(this.ctl, this.at(k) + RESERVED, segments);
  }

  /** Marks slot `k` as gating the writer's `tryReserve` (see cursor.ts). */
  setGated(k: number): void {
    Atomics.store(this.ctl, this.at(k) + GATED, 1);
  }

  /**
   * Writer side: whether a gated slot still needs segment `seq` (its pinned
   * segment is at or before `seq`). Called only by `tryReserve`/`tryAppend`
   * when a roll would evict, so once per segment: a scan of the slots in use,
   * with no shared gate counter to drift when a thread dies mid-update.
   */
  gateNeeds(seq: number): boolean {
    const ctl = this.ctl;
    const hw = Math.min(Atomics.load(ctl, H.PIN_HIGH_WATER), this.slots);
    const range = this.scratch;
    for (let k = 0; k < hw; k++) {
      const at = this.at(k);
      if (Atomics.load(ctl, at + GATED) === 0) continue;
      this.readRange(at, range, 0);
      if (range[0]! <= seq && range[0]! <= range[1]!) return true;
    }
    return false;
  }

  /**
   * The holder (`owner`) frees slot `k`: clears its range, then returns its
   * budget and gate. Returns false, doing nothing, if the slot is no longer
   * `owner`'s (recovery freed it already).
   */
  release(k: number, owner: number): boolean {
    const at = this.at(k);
    if (Atomics.compareExchange(this.ctl, at + OWNER, owner, owner | RELEASING) !== owner) return false;
    this.free(k, owner | RELEASING);
    return true;
  }

  /**
   * Recovery: frees every slot of `owner` (a dead thread), including one whose
   * release that thread had begun, and returns what they held.
   */
  releaseOwnedBy(owner: number): { slots: number; segments: number; gates: number } {
    const ctl = this.ctl;
    let slots = 0;
    let segments = 0;
    let gates = 0;
    for (let k = 0; k < this.slots; k++) {
      const at = this.at(k);
      const o = Atomics.load(ctl, at + OWNER);
      if (o !== owner && o !== (owner | RELEASING)) continue;
      if (Atomics.compareExchange(ctl, at + OWNER, o, owner | RECOVERING) !== o) continue;
      const freed = this.free(k, owner | RECOVERING);
      segments += freed.segments;
      if (freed.gated) gates++;
      slots++;
    }
    return { slots, segments, gates };
  }

  /**
   * Owner tags in `[lo, hi)` that hold a slot (without the RELEASING or
   * RECOVERING bits): the threads of one process of a durable log.
   */
  ownersWithin(lo: number, hi: number): number[] {
    const out = new Set<number>();
    for (let k = 0; k < this.slots; k++) {
      const o = Atomics.load(this.ctl, this.at(k) + OWNER) & ~(RELEASING | RECOVERING);
      if (o >= lo && o < hi) out.add(o);
    }
    return [...out];
  }

  /** Steps of a release, by the one thread that claimed it with `claimed` in OWNER. */
  private free(k: number, claimed: number): Freed {
    const ctl = this.ctl;
    const at = this.at(k);
    // Unpin first: the budget must cover the range for as long as the range exists.
    this.setRange(k, 1, 0);
    const segments = Atomics.exchange(ctl, at + RESERVED, 0);
    if (segments !== 0) Atomics.sub(ctl, H.BUDGET_USED, segments);
    const gated = Atomics.exchange(ctl, at + GATED, 0) !== 0;
    Atomics.compareExchange(ctl, at + OWNER, claimed, 0);
    return { segments, gated };
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
      const at = this.at(k);
      if (Atomics.load(ctl, at + OWNER) === 0) continue;
      this.readRange(at, out, 2 * n);
      if (out[2 * n]! <= out[2 * n + 1]!) n++;
    }
    return n;
  }

  /** Number of gated slots now (for stats). */
  gates(): number {
    const hw = Math.min(Atomics.load(this.ctl, H.PIN_HIGH_WATER), this.slots);
    let n = 0;
    for (let k = 0; k < hw; k++) if (Atomics.load(this.ctl, this.at(k) + GATED) !== 0) n++;
    return n;
  }

  /** Number of slots taken now (for stats). */
  taken(): number {
    let n = 0;
    for (let k = 0; k < this.slots; k++) if (Atomics.load(this.ctl, this.at(k) + OWNER) !== 0) n++;
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
