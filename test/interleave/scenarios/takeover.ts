/**
 * forceClaimWriter() while the old writer still runs: the old writer appends
 * (commit per record, rolling across segments); another thread force-claims
 * and appends two records of its own.
 *
 * Invariants: the old writer's commit, append and release after the takeover
 * throw WriterReleasedError or publish nothing; the log holds the old
 * writer's records, then the new writer's, contiguous and intact: no
 * published record ever changed and none of the old writer's records appears
 * after the takeover.
 */
import { WriterReleasedError } from "../../../src/index.ts";
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const OLD = 0;
const NEW = 1;

export default scenario({
  name: "forced takeover against a running writer",
  setup: () => smallLog({ retainedCapacity: 16, segmentCapacity: 2, snapshotBudget: 9 }),
  parties: [
    {
      name: "old writer",
      run({ shared }) {
        try {
          const writer = attach(shared).tryClaimWriter();
          if (writer === null) return; // the force-claimer was first
          for (let i = 0; i < 3; i++) writer.append(recordFor(writer.nextSequence, OLD));
          writer.release();
        } catch (error) {
          ensure(error instanceof WriterReleasedError && error.takenOver, `old writer failed with ${String(error)}`);
        }
      },
    },
    {
      name: "force-claimer",
      run({ shared }) {
        const log = attach(shared);
        // If the old writer has not claimed yet (or has released), this is a plain claim,
        // and the old writer's tryClaimWriter then fails: the check below covers both.
        const writer = log.forceClaimWriter({ waitMs: Number.POSITIVE_INFINITY });
        for (let i = 0; i < 2; i++) writer.append(recordFor(writer.nextSequence, NEW));
        writer.release();
      },
    },
  ],
  check({ setup }) {
    const snap = setup.log.snapshot();
    const writers: number[] = [];
    let expected = snap.startSequence;
    snap.forEach((view, seq) => {
      ensure(seq === expected++, `gap at ${seq}`);
      writers.push(expectRecord(view, seq, "final log"));
    });
    snap.release();
    const text = writers.join("");
    // The force-claimer's two records come after the old writer's, or, if it claimed first
    // (a plain claim), before all of them.
    ensure(/^(0*11|110{0,3})$/.test(text), `records by writer, in order: ${text}`);
  },
});
