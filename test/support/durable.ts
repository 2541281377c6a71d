/**
 * Test helpers for durable logs.
 */
import type { AtomicLog } from "../../src/index.ts";

/**
 * Makes the process let go of a durable log as if it had died: the writer
 * lock and its process-table entry are dropped, and nothing is flushed,
 * checksummed or released (its writer claim and pins stay behind, as a dead
 * process's do, for the next open to find as orphans).
 */
export function simulateCrash(log: AtomicLog<never, never> | AtomicLog<any, any>): void {
  (log as unknown as { letGo(): void }).letGo();
}
