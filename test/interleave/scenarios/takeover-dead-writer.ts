/**
 * forceClaimWriter after a writer died at any step (mid-roll included), its
 * thread unknown (so it is never recovered and its quarantine never
 * acknowledged); the new writer holds a window-sized snapshot and appends.
 *
 * Invariant: the writer always finds a free segment. (A writer that died after
 * preparing its next segment but before its window flip once left that
 * segment retired for a window, which with the quarantine took two segments
 * beyond the budget: found by review.)
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, recordFor, smallLog } from "./common.ts";

const DEAD = 0;

export default scenario({
  name: "forceClaimWriter after a writer died at any step",
  setup: () => smallLog({ retainedCapacity: 2, segmentCapacity: 2, snapshotBudget: 2, maxSnapshots: 4 }, 3),
  killable: [DEAD],
  preemptions: 0,
  parties: [
    {
      name: "old writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        writer.append(recordFor(writer.nextSequence, 0)); // seq 3: fills seg 1
        writer.append(recordFor(writer.nextSequence, 0)); // seq 4: rolls to seg 2
        writer.release();
      },
    },
    {
      name: "force-claimer",
      run({ shared, awaitEnd }) {
        awaitEnd(DEAD);
        const log = attach(shared);
        const writer = log.forceClaimWriter({ waitMs: 0 });
        let snap = null;
        try {
          for (let i = 0; i < 12; i++) {
            if (snap === null && log.stats().windowLength >= 3) snap = log.snapshot();
            writer.append(recordFor(writer.nextSequence, 1));
          }
        } catch (error) {
          ensure(false, `new writer failed: ${String(error)}`);
        }
        snap?.release();
        writer.release();
      },
    },
  ],
});
