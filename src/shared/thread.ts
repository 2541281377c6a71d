/**
 * Identity of the current thread, used to tag pin slots and writer claims
 * with their owner so that a dead owner's resources can be found later.
 */
import { threadId } from "node:worker_threads";

/** A non-zero tag for the current thread (main thread = 1, worker n = n + 1). */
export function ownerTag(): number {
  return threadId + 1;
}
