/**
 * Test helpers for durable logs.
 */
import type { AtomicLog } from "../../src/index.ts";
import { leaveEntry } from "../../src/store/process-table.ts";

interface Opened {
  lock: { release(): void } | null;
  closed: boolean;
  reaper: ReturnType<typeof setInterval>;
}
interface DurableInternals {
  header: Int32Array;
  processSlot: number;
  syncerProcess: { stop(): void } | null;
  syncer: unknown;
  stopListening: (() => void) | null;
}

/**
 * Makes the process let go of a durable log as if it had died: the writer
 * lock and its process-table entry are dropped, and nothing is flushed,
 * checksummed or released (its writer claim and pins stay behind, as a dead
 * process's do, for the next open to find as orphans).
 */
export function simulateCrash(log: AtomicLog<never, never> | AtomicLog<any, any>): void {
  const internals = log as unknown as { opened: Opened; state: { durable: DurableInternals } };
  const opened = internals.opened;
  const durable = internals.state.durable;
  clearInterval(opened.reaper);
  durable.syncerProcess?.stop();
  durable.syncerProcess = null;
  durable.syncer = null;
  durable.stopListening?.();
  leaveEntry(durable.header, durable.processSlot);
  opened.lock?.release();
  opened.closed = true;
}
