/**
 * Forced writer takeover: `forceClaimWriter()` when the holder may still be
 * running (its thread is unknown, or presumed dead but not known to be).
 *
 * The old writer writes record bytes with plain stores into slots it has
 * reserved but not published, and nothing can stop a thread mid-store. So
 * the new writer never writes where the old one might:
 *
 *   F1 claim the quarantine word (0 -> PENDING), or refuse: one takeover at a time
 *   F2 take the claim (claim.ts; waits while the old writer is mid-roll)
 *   F3 record the old writer's tag and claim nonce (QUARANTINE_OWNER / _EPOCH)
 *   F4 seal the head: compare-and-swap its count c -> c | COUNT_SEALED
 *   F5 name the head P as quarantined (QUARANTINE_PHYS = P + 1)
 *   F6 copy P's c published records into a free segment P', map sequence s to P'
 *   F7 flip the window's head to P', and continue appending at c in P'
 *
 * The old writer's next commit, roll or release fails its compare-and-swap on
 * the sealed count (or on the claim), so it publishes nothing; it then
 * acknowledges (QUARANTINE_EPOCH -> 0). `recoverThread` of its thread
 * acknowledges for it. P stays out of circulation until acknowledged and
 * evicted and unpinned: stray stores of the old writer land only in P's
 * unpublished slots, which nobody reads. Readers that entered P before F7 read
 * its c records (unchanged, identical in P'), see the seal, and re-enter at
 * P' through the directory.
 *
 * Invariants (test/interleave/takeover.test.ts, every interleaving of an old
 * writer, a force-claimer and a reader): no published record ever changes; a
 * record published by the old writer after F4 never appears; readers see one
 * gap-free sequence. The pool keeps one spare segment (options.ts) so F6
 * always finds a free segment while one quarantine is held.
 *
 * A writer that adopts the log with the head sealed, or the quarantine word
 * PENDING, completes F4-F7 itself (the force-claimer died midway).
 */
import { COUNT_MASK, COUNT_SEALED, H, countIndex } from "../shared/control.ts";
import type { LogState } from "./log-state.ts";
import { isPinned } from "../shared/pins.ts";
import { releaseClaimOf } from "../shared/claim.ts";
import type { RecordView } from "../records/record-view.ts";
import { writeWindow } from "../shared/window.ts";
import { wakeIfMarked } from "../shared/wake.ts";

/** QUARANTINE_PHYS while a takeover is between F1 and F5. */
const PENDING = -1;
/** QUARANTINE_EPOCH before F3: matches no writer, so nothing acknowledges early. */
const UNKNOWN_EPOCH = -1;

/** F1: claims the single takeover slot; false if an earlier takeover's segment is still quarantined. */
export function reserveTakeover<V extends RecordView, D>(st: LogState<V, D>, oldest: number): boolean {
  const ctl = st.ctl;
  for (;;) {
    const q = Atomics.load(ctl, H.QUARANTINE_PHYS);
    // An acknowledged quarantine whose segment left the window can be handed over now
    // (the new writer's adoption finds that segment retired and frees it when unpinned).
    const reusable = q === 0 || (q > 0 && Atomics.load(ctl, H.QUARANTINE_EPOCH) === 0 && st.seqOf(q - 1) < oldest);
    if (!reusable) return false;
    if (Atomics.compareExchange(ctl, H.QUARANTINE_PHYS, q, PENDING) !== q) continue;
    // Until F3 names the fenced writer, nothing may acknowledge: a force-claimer that dies
    // here leaves the segment quarantined for good (a leak), never freed under a live writer.
    Atomics.store(ctl, H.QUARANTINE_OWNER, 0);
    Atomics.store(ctl, H.QUARANTINE_EPOCH, UNKNOWN_EPOCH);
    return true;
  }
}

/** Gives F1's slot back when the claim turned out to be free (nobody to fence). */
export function cancelTakeover(ctl: Int32Array): void {
  Atomics.store(ctl, H.QUARANTINE_EPOCH, 0);
  Atomics.compareExchange(ctl, H.QUARANTINE_PHYS, PENDING, 0);
}

/**
 * F3: the fenced writer's tag and claim nonce (a negative one if unknown: then
 * only recovery acknowledges). A writer fenced before F3 could not find its
 * nonce here to acknowledge; it left it in STOPPED_NONCE, which this reads
 * after recording (store, then load, against the writer's store, then swap:
 * one of the two sees the other, so a stopped writer is always acknowledged).
 */
export function recordFencedWriter(ctl: Int32Array, owner: number, nonce: number): void {
  Atomics.store(ctl, H.QUARANTINE_OWNER, owner);
  Atomics.store(ctl, H.QUARANTINE_EPOCH, nonce);
  if (nonce > 0 && Atomics.load(ctl, H.STOPPED_NONCE) === nonce) Atomics.compareExchange(ctl, H.QUARANTINE_EPOCH, nonce, 0);
}

/** The physical segment currently quarantined, or -1. */
export function quarantinedPhys(ctl: Int32Array): number {
  const q = Atomics.load(ctl, H.QUARANTINE_PHYS);
  return q > 0 ? q - 1 : -1;
}

/**
 * F4-F7, by the new writer: seals head `phys` (sequence `seq`), copies its
 * published records into `copy` (unless a dead force-claimer's F6 already
 * did: `copied`), and makes `copy` the head. Returns the count.
 */
export function takeOverHead<V extends RecordView, D>(
  st: LogState<V, D>,
  oldest: number,
  seq: number,
  phys: number,
  copy: number,
  copied = false,
): number {
  const ctl = st.ctl;
  const at = countIndex(phys);
  let raw = Atomics.load(ctl, at);
  // F4: the old writer may publish concurrently; retry until the seal lands on the current count.
  while (raw >= 0) {
    const seen = Atomics.compareExchange(ctl, at, raw, raw | COUNT_SEALED);
    if (seen === raw) break;
    raw = seen;
  }
  const count = raw & COUNT_MASK;
  Atomics.store(ctl, H.QUARANTINE_PHYS, phys + 1); // F5
  if (!copied) {
    // F6: published records never change, so a plain copy is exact.
    const from = st.store.base(phys);
    const bytes = count * st.recordBytes;
    st.store.slab(copy).u8.set(st.store.slab(phys).u8.subarray(from, from + bytes), st.store.base(copy));
    st.prepareSegment(copy, seq, count);
  }
  writeWindow(ctl, oldest, seq, copy); // F7
  wakeIfMarked(ctl, at, st.bell, st.doorbells); // readers parked on the sealed head continue in the copy (wake.ts)
  return count;
}

/** The fenced writer (claim `nonce`) says it has stopped: its quarantined segment may be reused. */
export function acknowledgeTakeover(ctl: Int32Array, nonce: number): void {
  if (nonce <= 0) return;
  Atomics.store(ctl, H.STOPPED_NONCE, nonce); // for a takeover that has not recorded us yet (F3)
  Atomics.compareExchange(ctl, H.QUARANTINE_EPOCH, nonce, 0);
}

/**
 * Recovery of thread `owner`: acknowledges for it if it was the writer a
 * takeover fenced. The nonce is read before the owner and is unique to one
 * takeover (unknown ones are unique negatives), so a takeover that starts in
 * between changes it and the compare-and-swap fails: recovery never
 * acknowledges someone else's quarantine (found by review).
 */
export function acknowledgeFor(ctl: Int32Array, owner: number): void {
  const nonce = Atomics.load(ctl, H.QUARANTINE_EPOCH);
  if (nonce === 0 || Atomics.load(ctl, H.QUARANTINE_OWNER) !== owner) return;
  Atomics.compareExchange(ctl, H.QUARANTINE_EPOCH, nonce, 0);
}

/**
 * Recovery of a writer thread `owner` that is dead (or, at a durable open, stale): frees the
 * writer claim if `owner` still holds it, then acknowledges its quarantine (acknowledgeFor), in
 * the order that `recovery-acknowledgement` proves. Returns whether the claim was freed.
 */
export function releaseDeadWriter(ctl: Int32Array, owner: number): boolean {
  const released = releaseClaimOf(ctl, owner);
  acknowledgeFor(ctl, owner);
  return released;
}

/**
 * Writer side, at reclaim: frees the quarantined segment once acknowledged,
 * evicted (its sequence is before `oldest`) and unpinned. Returns it, or -1.
 */
export function freeQuarantine<V extends RecordView, D>(st: LogState<V, D>, oldest: number, ranges: number[], pins: number): number {
  const ctl = st.ctl;
  const q = Atomics.load(ctl, H.QUARANTINE_PHYS);
  if (q <= 0 || Atomics.load(ctl, H.QUARANTINE_EPOCH) !== 0) return -1;
  const seq = st.seqOf(q - 1);
  if (seq >= oldest || (pins > 0 && isPinned(ranges, pins, seq))) return -1;
  return Atomics.compareExchange(ctl, H.QUARANTINE_PHYS, q, 0) === q ? q - 1 : -1;
}
