/**
 * Pin versus recycle, and the window and pin flips: a snapshot is taken while
 * the writer rolls and recycles a 2-segment window, and read again after the
 * writer has gone on.
 *
 * Invariants: a snapshot covers a contiguous run ending at the head and every
 * record in it is the record of its sequence; its records never change while
 * it is held, however far the writer goes; a refresh moves it to a later
 * window with the same guarantees; nothing is pinned after release.
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 5;

export default scenario({
  name: "snapshot stability while the writer recycles",
  setup: () => smallLog(),
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = 0; s < RECORDS; s++) writer.append(recordFor(s));
      },
    },
    {
      name: "snapshot",
      run({ shared, pause }) {
        const snap = attach(shared).snapshot();
        const check = (when: string) => {
          let expected = snap.startSequence;
          snap.forEach((view, seq) => {
            ensure(seq === expected++, `snapshot ${when}: sequence ${seq}, expected ${expected - 1}`);
            expectRecord(view, seq, `snapshot ${when}`);
          });
          return expected;
        };
        const end = check("when taken");
        pause();
        pause();
        ensure(check("later") === end, "the snapshot changed length while held");
        snap.refresh();
        check("after refresh");
        snap.release();
      },
    },
  ],
  check({ setup }) {
    const stats = setup.log.stats();
    ensure(stats.snapshotBudgetUsed === 0 && stats.pins === 0, `pins left: ${JSON.stringify(stats)}`);
  },
});
