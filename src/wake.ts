/**
 * Wake requests: how a cursor parked in `ready()` is woken by the next commit,
 * while a writer with nobody parked pays one load per commit.
 *
 * Words: H.NOTIFY (a counter readers `Atomics.waitAsync` on), H.WAITERS (a
 * hint: someone may be parked) and each pin slot's PARKED flag.
 *
 * Reader, one parking (cursor.ts `ready()`):
 *   R0 s = load NOTIFY
 *   R1 store PARKED = 1        (its own slot)
 *   R2 store WAITERS = 1
 *   R3 check for a record      (return if there is one, clearing PARKED)
 *   R4 waitAsync(NOTIFY, s)
 *   R5 store PARKED = 0, and go round again
 * Writer, after publishing (commit, roll, release):
 *   C1 store the count         (the publication)
 *   C2 if load WAITERS != 0:
 *   C3   add NOTIFY 1;  C4 notify NOTIFY
 *   C5   store WAITERS = 0;  C6 if any slot is PARKED, store WAITERS = 1
 *
 * Invariant: a reader never stays parked while a record it has not seen is
 * published. Proof: say the reader parks at R4 with NOTIFY still s, and a
 * commit Y publishes a record R3 missed, so C1(Y) follows R3 and C2(Y)
 * follows R2. The last store to WAITERS before C2(Y) is R2's 1, or some
 * commit X's C5/C6 after R2; then X's scan C6 came after R1 and saw PARKED,
 * so X stored 1 last. Either way C2(Y) sees 1 and Y bumps NOTIFY (C3): if
 * before R4, the wait returns at once (the value is no longer s); if after,
 * the reader is parked and C4 wakes it. (The previous protocol let the writer
 * clear the flag after a reader set it again: a lost wake-up, found by
 * test/interleave/wake-up.test.ts.)
 *
 * The writer pays C3-C6 only while a reader is parked (and for the commits
 * between a wake and the reader clearing PARKED). A reader that dies parked
 * keeps its PARKED flag until `recoverThread` frees its slot.
 */
import { H } from "./control.ts";
import type { PinTable } from "./pins.ts";

/** Writer side, C2-C6: call after publishing. */
export function wakeParked(ctl: Int32Array, pins: PinTable): void {
  if (Atomics.load(ctl, H.WAITERS) === 0) return;
  Atomics.add(ctl, H.NOTIFY, 1);
  Atomics.notify(ctl, H.NOTIFY);
  Atomics.store(ctl, H.WAITERS, 0);
  if (pins.anyParked()) Atomics.store(ctl, H.WAITERS, 1);
}

/** Reader side, R0-R2: announces a parking on `slot`; returns the NOTIFY value to wait on. */
export function announceParking(ctl: Int32Array, pins: PinTable, slot: number): number {
  const seen = Atomics.load(ctl, H.NOTIFY);
  pins.setParked(slot, true);
  Atomics.store(ctl, H.WAITERS, 1);
  return seen;
}

/** Reader side, R5 (and the early return of R3). */
export function endParking(pins: PinTable, slot: number): void {
  pins.setParked(slot, false);
}
