/**
 * A pin slot plus the budget it holds, owned by one snapshot or cursor.
 * Kept apart from its owner so a FinalizationRegistry can release it after
 * the owner is garbage-collected (the held value must not reference the owner).
 *
 * Budget steps, and why in this order (see pins.ts for the invariant they keep):
 * - grow: add to the shared BUDGET_USED, then record the new total in the slot;
 * - shrink: record the smaller total in the slot, then subtract;
 * - release: clear the range, then return what the slot records (pins.ts).
 * A thread killed between the two steps of a grow, a shrink or a release (in
 * pins.ts, between taking the slot's recorded budget and subtracting it)
 * leaves BUDGET_USED higher than the slots record, by at most that one step
 * (at most one window of segments): recovery cannot return it. Two words
 * cannot change at once, and the other order would let recovery return
 * budget that was never reserved or return it twice; an over-committed
 * budget can leave the writer without a free segment, so a leak of one step
 * is the chosen failure. The churn stress test measured it at about 1 kill in
 * 100 when killing threads that do nothing but pin steps.
 */
import { H } from "./control.ts";
import { TooManySnapshotsError } from "../errors.ts";
import type { PinTable } from "./pins.ts";
import { ownerTag } from "./thread.ts";

/** A pin slot and its reserved budget. */
export class PinLease {
  /** The pin slot held, or -1 once released. */
  slot = -1;
  /** Budget segments held. */
  reserved = 0;
  private constructor(
    readonly ctl: Int32Array,
    readonly pins: PinTable,
    private readonly tag: number,
  ) {}

  /**
   * Takes a pin slot for the current thread (`tagBase`: see ownerTag).
   * @throws {TooManySnapshotsError} when every slot is taken.
   */
  static acquire(ctl: Int32Array, pins: PinTable, tagBase = 0): PinLease {
    const lease = new PinLease(ctl, pins, ownerTag(tagBase));
    lease.slot = pins.acquire(lease.tag);
    if (lease.slot < 0) throw new TooManySnapshotsError(pins.size);
    return lease;
  }

  /** Marks the slot as a gate on the writer's `tryReserve`. */
  gate(): void {
    this.pins.setGated(this.slot);
  }

  /** Reserves `delta` more segments of budget; returns false (reserving nothing) if that would exceed `budget`. */
  tryGrow(delta: number, budget: number): boolean {
    const used = Atomics.add(this.ctl, H.BUDGET_USED, delta) + delta;
    if (used > budget) {
      Atomics.sub(this.ctl, H.BUDGET_USED, delta);
      return false;
    }
    this.reserved += delta;
    this.pins.setReserved(this.slot, this.reserved);
    return true;
  }

  /** Budget still free, for error messages. */
  available(budget: number): number {
    return Math.max(0, budget - Atomics.load(this.ctl, H.BUDGET_USED));
  }

  /** Returns `delta` segments of budget (the range must already be within the smaller reservation). */
  shrink(delta: number): void {
    this.reserved -= delta;
    this.pins.setReserved(this.slot, this.reserved);
    Atomics.sub(this.ctl, H.BUDGET_USED, delta);
  }

  /** Unpins, returns the budget and frees the slot (and the gate). Idempotent; a no-op if recovery freed it. */
  release(): void {
    if (this.slot < 0) return;
    const slot = this.slot;
    this.slot = -1;
    this.reserved = 0;
    this.pins.release(slot, this.tag);
  }
}
