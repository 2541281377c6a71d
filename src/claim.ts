/**
 * The writer claim: one word in the control block, 0 when free, otherwise the
 * token of the writer that holds it. Claiming is a compare-and-swap, so when
 * several threads race exactly one wins.
 */
import { H } from "./control.ts";
import { ownerTag } from "./thread.ts";

function newToken(ctl: Int32Array): number {
  // Tokens are never 0 and differ between successive claims, so a stale writer cannot release a newer claim.
  return ((Atomics.add(ctl, H.CLAIM_EPOCH, 1) + 1) & 0x7fffffff) || 1;
}

/** Tries to take the claim; returns the new token, or 0 if someone holds it. */
export function tryClaim(ctl: Int32Array): number {
  if (Atomics.load(ctl, H.CLAIM) !== 0) return 0;
  const token = newToken(ctl);
  if (Atomics.compareExchange(ctl, H.CLAIM, 0, token) !== 0) return 0;
  Atomics.store(ctl, H.CLAIM_OWNER, ownerTag());
  return token;
}

/** Takes the claim whoever holds it; returns the new token. Only safe when the holder is known to be gone. */
export function forceClaim(ctl: Int32Array): number {
  const token = newToken(ctl);
  Atomics.store(ctl, H.CLAIM, token);
  Atomics.store(ctl, H.CLAIM_OWNER, ownerTag());
  return token;
}

/** Releases the claim if the thread tagged `owner` holds it; returns whether it did. */
export function releaseClaimOf(ctl: Int32Array, owner: number): boolean {
  const token = Atomics.load(ctl, H.CLAIM);
  if (token === 0 || Atomics.load(ctl, H.CLAIM_OWNER) !== owner) return false;
  return Atomics.compareExchange(ctl, H.CLAIM, token, 0) === token;
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
