/**
 * A force-claimer killed at any step of a takeover (F1-F7 in
 * src/log/writer-takeover.ts); the old writer never returns; a successor
 * recovers the force-claimer's thread, claims (completing the takeover),
 * holds a window-sized snapshot and appends.
 *
 * Invariant: the writer always finds a free segment, and the takeover is
 * completed with the copy a dead force-claimer already made (once that copy
 * was neither free nor retired, and a second copy ran the pool dry: found by
 * review).
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, recordFor, smallLog } from "./common.ts";

export default scenario({
  name: "a force-claimer killed at any step, then a successor",
  setup: () => smallLog({ retainedCapacity: 2, segmentCapacity: 2, snapshotBudget: 2, maxSnapshots: 4 }, 3),
  killable: [1],
  preemptions: 0,
  parties: [
    {
      name: "old writer (vanishes holding the claim)",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter();
        if (writer === null) return;
        writer.append(recordFor(writer.nextSequence, 0)); // seq 3
        (globalThis as { keep?: unknown }).keep = writer; // never released
      },
    },
    {
      name: "force-claimer",
      run({ shared, awaitEnd }) {
        awaitEnd(0);
        const writer = attach(shared).forceClaimWriter({ waitMs: 0 });
        (globalThis as { keep?: unknown }).keep = writer;
      },
    },
    {
      name: "successor",
      run({ shared, awaitEnd, threadIds }) {
        awaitEnd(1);
        const log = attach(shared);
        log.recoverThread(threadIds[1]!);
        const writer = log.tryClaimWriter();
        if (writer === null) return;
        let snap = null;
        try {
          for (let i = 0; i < 12; i++) {
            if (snap === null && log.stats().windowLength >= 3) snap = log.snapshot();
            writer.append(recordFor(writer.nextSequence, 1));
          }
        } catch (error) {
          ensure(false, `successor failed: ${String(error)}`);
        }
        snap?.release();
        writer.release();
      },
    },
  ],
});
