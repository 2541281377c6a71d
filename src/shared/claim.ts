/**
 * The writer claim: who may append.
 *
 * Protocol (one word, H.CLAIM):
 * - free is 0; held is the holder's owner tag, a non-zero per-thread number;
 *   CLAIM_ROLLING is or-ed in while the holder rolls to a new segment.
 * - claim: take a fresh nonce, then compare-and-swap 0 -> tag. The nonce
 *   names this claim: the thread keeps it in a thread-local table, which is how
 *   a thread's current writer is told from a stale writer of the same thread
 *   (both have the same tag). A shared counter could not do that: it cannot
 *   change atomically with the claim word, and the interleaving tests found a
 *   claimer whose counter update landed after a force-claimer's.
 * - release: the holder checks its nonce is current, then compare-and-swaps
 *   tag -> 0.
 * - recoverThread(dead): compare-and-swap deadTag -> 0 (with or without the
 *   rolling bit). Owner and claim are one word, so this frees the claim only
 *   if the dead thread still holds it: it can never free a claim a live thread
 *   has just taken, and two concurrent recoveries free it once.
 * - forceClaim: compare-and-swap whatever is there -> tag, waiting (bounded)
 *   while the holder is mid-roll; the holder's next roll, commit or release
 *   then finds the claim gone (see writer-takeover.ts for the fencing).
 *
 * Invariant (test/interleave: claim-recovery and takeover, under every
 * interleaving): at most one Writer object at a time passes
 * {@link holdsClaim}, and recovery never frees a live thread's claim.
 */
import { CLAIM_ROLLING, H, pause } from "./control.ts";

/** A claim's nonce: what identifies one Writer object's claim. */
export type ClaimNonce = number;

/** This thread's current claim nonce per control block (thread-local: module state is per worker). */
const current = new WeakMap<ArrayBufferLike, ClaimNonce>();

function nextNonce(ctl: Int32Array): ClaimNonce {
  // Never 0 or negative (0 means "none" in the quarantine word, -1 "unknown").
  const n = (Atomics.add(ctl, H.CLAIM_EPOCH, 1) + 1) & 0x7fffffff;
  return n === 0 ? nextNonce(ctl) : n;
}

/**
 * Publishes a plain claim's nonce, but only into an empty CLAIM_NONCE: if a
 * force-claimer took the claim before this runs, it has stored its own nonce
 * (and recorded this claim's as unknown), and this late store must not
 * overwrite it (the review found a fenced writer's late nonce letting it
 * acknowledge a later takeover).
 */
function ownClaimed(ctl: Int32Array, nonce: ClaimNonce): void {
  current.set(ctl.buffer, nonce);
  Atomics.compareExchange(ctl, H.CLAIM_NONCE, 0, nonce);
}

function isCurrent(ctl: Int32Array, nonce: ClaimNonce): boolean {
  return current.get(ctl.buffer) === nonce;
}

/** Tries to take a free claim for `tag`; returns the claim's nonce, or 0 if someone holds it. */
export function tryClaim(ctl: Int32Array, tag: number): ClaimNonce {
  if (Atomics.load(ctl, H.CLAIM) !== 0) return 0;
  const nonce = nextNonce(ctl);
  if (Atomics.compareExchange(ctl, H.CLAIM, 0, tag) !== 0) return 0;
  ownClaimed(ctl, nonce);
  return nonce;
}

/** The result of {@link forceClaim}. */
export interface ForcedClaim {
  readonly nonce: ClaimNonce;
  /** Owner tag of the writer that held the claim (0 if it was free). */
  readonly previousOwner: number;
  /**
   * Nonce of that writer's claim, as it had published it; when it had not
   * published one yet, a unique negative number that no writer holds (it then
   * cannot acknowledge the takeover itself; `recoverThread` can).
   */
  readonly previousNonce: ClaimNonce;
}

/**
 * Takes the claim whoever holds it. While the holder is in the middle of a
 * segment roll (a few microseconds of work) it waits, up to `waitMs`; past
 * that the holder is presumed dead.
 */
export function forceClaim(ctl: Int32Array, tag: number, waitMs: number): ForcedClaim {
  const deadline = waitMs === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : performance.now() + waitMs;
  const nonce = nextNonce(ctl);
  for (let tries = 0; ; tries++) {
    const held = Atomics.load(ctl, H.CLAIM);
    // Reads the clock once every 1024 tries: a roll takes microseconds.
    if ((held & CLAIM_ROLLING) !== 0 && ((tries & 1023) !== 1023 || performance.now() < deadline)) {
      pause(ctl);
      continue;
    }
    if (Atomics.compareExchange(ctl, H.CLAIM, held, tag) !== held) continue;
    // Read after taking the claim: the previous holder published its nonce, or 0 is
    // there (not yet published, or cleared by a release or recovery) and it is unknown.
    const published = Atomics.exchange(ctl, H.CLAIM_NONCE, nonce);
    current.set(ctl.buffer, nonce);
    const previousNonce = held === 0 ? 0 : published > 0 ? published : -nextNonce(ctl);
    return { nonce, previousOwner: held & ~CLAIM_ROLLING, previousNonce };
  }
}

/** Frees the claim if the thread tagged `owner` holds it (recovery of a dead thread); returns whether it did. */
export function releaseClaimOf(ctl: Int32Array, owner: number): boolean {
  const nonce = Atomics.load(ctl, H.CLAIM_NONCE);
  const freed =
    Atomics.compareExchange(ctl, H.CLAIM, owner, 0) === owner ||
    Atomics.compareExchange(ctl, H.CLAIM, owner | CLAIM_ROLLING, 0) === (owner | CLAIM_ROLLING);
  // Clear the dead holder's nonce only (a new claimer may already have published its own).
  if (freed && nonce !== 0) Atomics.compareExchange(ctl, H.CLAIM_NONCE, nonce, 0);
  return freed;
}

/** Whether the writer (`tag`, `nonce`) still holds the claim. */
export function holdsClaim(ctl: Int32Array, tag: number, nonce: ClaimNonce): boolean {
  return isCurrent(ctl, nonce) && (Atomics.load(ctl, H.CLAIM) & ~CLAIM_ROLLING) === tag;
}

/** The holder gives the claim back; returns whether it still held it. */
export function releaseClaim(ctl: Int32Array, tag: number, nonce: ClaimNonce): boolean {
  if (!isCurrent(ctl, nonce)) return false;
  current.delete(ctl.buffer);
  if (Atomics.compareExchange(ctl, H.CLAIM, tag, 0) !== tag) return false;
  // Then our nonce only (a force-claimer that took the claim first read it, to let us
  // acknowledge; a claimer after us may find it still there and leave its own unpublished).
  Atomics.compareExchange(ctl, H.CLAIM_NONCE, nonce, 0);
  return true;
}

/** The holder marks itself as rolling; false if it no longer holds the claim. */
export function beginRoll(ctl: Int32Array, tag: number, nonce: ClaimNonce): boolean {
  return isCurrent(ctl, nonce) && Atomics.compareExchange(ctl, H.CLAIM, tag, tag | CLAIM_ROLLING) === tag;
}

/** The holder's roll is done; false if the claim was taken while it rolled (after the force-claim wait ran out). */
export function endRoll(ctl: Int32Array, tag: number): boolean {
  return Atomics.compareExchange(ctl, H.CLAIM, tag | CLAIM_ROLLING, tag) === (tag | CLAIM_ROLLING);
}

/** Whether anybody holds the claim. */
export function isClaimed(ctl: Int32Array): boolean {
  return Atomics.load(ctl, H.CLAIM) !== 0;
}
