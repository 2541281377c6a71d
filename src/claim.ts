/**
 * The writer claim: one word in the control block, 0 when free, otherwise the
 * token of the writer that holds it. Claiming is a compare-and-swap, so when
 * several threads race exactly one wins.
 */
import { H } from "./control.ts";

/** Tries to take the claim; returns the new token, or 0 if someone holds it. */
export function tryClaim(ctl: Int32Array): number {
  if (Atomics.load(ctl, H.CLAIM) !== 0) return 0;
  // Tokens are never 0 and differ between successive claims, so a stale writer cannot release a newer claim.
  const token = ((Atomics.add(ctl, H.CLAIM_EPOCH, 1) + 1) & 0x7fffffff) || 1;
  return Atomics.compareExchange(ctl, H.CLAIM, 0, token) === 0 ? token : 0;
}

/** Gives the claim back if `token` still holds it; returns whether it did. */
export function releaseClaim(ctl: Int32Array, token: number): boolean {
  return Atomics.compareExchange(ctl, H.CLAIM, token, 0) === token;
}

/** Whether `token` still holds the claim. */
export function holdsClaim(ctl: Int32Array, token: number): boolean {
  return Atomics.load(ctl, H.CLAIM) === token;
}

/** Whether anybody holds the claim. */
export function isClaimed(ctl: Int32Array): boolean {
  return Atomics.load(ctl, H.CLAIM) !== 0;
}
