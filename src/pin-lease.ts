/**
 * A pin slot plus the budget it holds, owned by one snapshot or cursor.
 * Kept apart from its owner so a FinalizationRegistry can release it after
 * the owner is garbage-collected (the held value must not reference the owner).
 */
import { H } from "./control.ts";
import { TooManySnapshotsError } from "./errors.ts";
import type { PinTable } from "./pins.ts";
import { ownerTag } from "./thread.ts";

/** A pin slot and its reserved budget. */
export class PinLease {
  /** The pin slot held, or -1 once released. */
  slot = -1;
  /** Budget segments held. */
  reserved = 0;
  /** Whether the slot gates the writer (cursors only). */
  gated = false;
  private constructor(
    readonly ctl: Int32Array,
    readonly pins: PinTable,
  ) {}

  /**
   * Takes a pin slot for the current thread.
   * @throws {TooManySnapshotsError} when every slot is taken.
   */
  static acquire(ctl: Int32Array, pins: PinTable): PinLease {
    const lease = new PinLease(ctl, pins);
    lease.slot = pins.acquire(ownerTag());
    if (lease.slot < 0) throw new TooManySnapshotsError(pins.size);
    return lease;
  }

  /** Marks the slot as a gate on the writer's `tryReserve`. */
  gate(): void {
    this.gated = true;
    this.pins.setGated(this.slot);
    Atomics.add(this.ctl, H.GATES, 1);
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

  /** Returns `delta` segments of budget. */
  shrink(delta: number): void {
    this.reserved -= delta;
    this.pins.setReserved(this.slot, this.reserved);
    Atomics.sub(this.ctl, H.BUDGET_USED, delta);
  }

  /** Returns the budget and frees the slot (and the gate). Idempotent. */
  release(): void {
    if (this.slot < 0) return;
    // Recovery may already have freed this slot for a thread it believed dead; never free a slot twice.
    if (!this.pins.isTaken(this.slot) || this.pins.owner(this.slot) !== ownerTag()) {
      this.slot = -1;
      return;
    }
    if (this.gated) Atomics.sub(this.ctl, H.GATES, 1);
    Atomics.sub(this.ctl, H.BUDGET_USED, this.reserved);
    this.reserved = 0;
    this.pins.release(this.slot);
    this.slot = -1;
  }
}

