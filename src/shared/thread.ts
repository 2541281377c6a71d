/**
 * Identity of the current thread, used to tag pin slots and writer claims
 * with their owner so that a dead owner's resources can be found later.
 */
import { threadId } from "node:worker_threads";

/**
 * A non-zero tag for the current thread (main thread = 1, worker n = n + 1),
 * plus `base`: 0 for a log in memory, the process's entry bits for a durable
 * log that several processes open (store/process-table.ts).
 */
export function ownerTag(base = 0): number {
  return base + threadId + 1;
}
