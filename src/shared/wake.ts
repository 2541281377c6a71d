/**
 * Wake requests: how a cursor parked in `ready()` is woken by the next commit,
 * while a writer with nobody parked pays nothing beyond its publication.
 *
 * A parked reader marks the head segment's count word with COUNT_WAITER. The
 * writer already publishes with a compare-and-swap on that word, so a marked
 * word fails it: only then does the writer take the slow path, publish and
 * clear the mark in one compare-and-swap, and notify. (The previous protocol
 * loaded a separate WAITERS word after every commit; an SC load after the
 * publication measured 40% of the one-record-at-a-time rate.)
 *
 * Reader, one parking (cursor.ts `ready()`):
 *   R0 s = load NOTIFY
 *   R1 check for a record (return if there is one)
 *   R2 read the window (head H, count word w of H's segment); if a record
 *      arrived, go round; else compare-and-swap w -> w | COUNT_WAITER
 *      (on failure, go round)
 *   R3 if the window version changed since R2, go round
 *   R4 waitAsync(NOTIFY, s)
 * Writer:
 *   C1 publish: compare-and-swap the count word from `published` to `next`
 *   C2 if that failed because the word carries COUNT_WAITER: compare-and-swap
 *      (published | WAITER) -> next, then C3 add NOTIFY 1 and notify
 *   Roll: the full-segment publication is C1/C2 too; after flipping the window
 *   to the new head (W1), load the old head's word (W2) and notify if marked.
 *   Takeover: after the window flip F7, the same check on the sealed head.
 *
 * Invariant: a reader never stays parked while a record it has not seen is
 * published. Proof: say the reader parks (R4) with NOTIFY still s. Its mark
 * went on the word of the head H it read at R2, at count c. A record after
 * c lands either in H, by a commit whose C1 follows R2 (R2's swap expected c
 * and succeeded), so C1 sees the mark, C2 clears it and C3 bumps NOTIFY after
 * R0: the wait returns at once or is notified; or in a later segment, after a
 * roll of H whose window flip W1 follows R3 (R3 saw no flip), so W2 follows
 * the mark (R2 < R3 < W1 < W2 in the single order of SC atomics) and notifies.
 * A mark set after C2 cleared an earlier one is a new mark (R2 expects the
 * unmarked count), so a later commit sees it. Checked under every
 * interleaving by test/interleave/scenarios/wake-up.ts.
 */
import { COUNT_WAITER, H } from "./control.ts";

/**
 * Writer side, C3: wakes every parked reader (they re-check and park again if
 * needed). `bell` holds the NOTIFY word readers wait on: the control block
 * itself for a log in memory; for a durable log, whose control block is a
 * mapped file (where `Atomics.wait` is not allowed), a SharedArrayBuffer of the
 * process, shared with its workers through the handle.
 */
export function wakeParked(bell: Int32Array, remote: Doorbells | null = null): void {
  Atomics.add(bell, H.NOTIFY, 1);
  Atomics.notify(bell, H.NOTIFY);
  remote?.poke();
}

/** Readers parked in other processes (a durable log's futex wake-ups, store/remote-wake.ts). */
export interface Doorbells {
  poke(): void;
}

/**
 * Writer side, C2: publishes `next` over a marked `published` count at word
 * `at`. Returns false if the word is not `published` marked (a takeover sealed
 * it: the writer is fenced).
 */
export function publishOverMark(ctl: Int32Array, at: number, published: number, next: number, bell: Int32Array, remote: Doorbells | null): boolean {
  const marked = published | COUNT_WAITER;
  if (Atomics.compareExchange(ctl, at, marked, next) !== marked) return false;
  wakeParked(bell, remote);
  return true;
}

/** Writer side, W2: wakes readers that marked a segment that is no longer the head. */
export function wakeIfMarked(ctl: Int32Array, at: number, bell: Int32Array, remote: Doorbells | null): void {
  if ((Atomics.load(ctl, at) & COUNT_WAITER) !== 0) wakeParked(bell, remote);
}
