/**
 * A cursor released inside its own poll() handler (as a dispatcher released
 * by a consumer does), while the writer recycles and another reader takes a
 * snapshot.
 *
 * Invariants: release stops delivery at once; the released cursor never
 * touches shared memory again (it once wrote pin slot -1, over directory
 * words, and other readers' snapshots then read the wrong records).
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 5;

export default scenario({
  name: "a cursor released from its own handler",
  setup: () => smallLog({}, 2),
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = 2; s < RECORDS; s++) writer.append(recordFor(s));
        writer.release();
      },
    },
    {
      name: "reader",
      run({ shared }) {
        const log = attach(shared);
        const cursor = log.cursor({ from: "oldest" });
        let calls = 0;
        cursor.poll((view, seq) => {
          calls++;
          expectRecord(view, seq, "cursor");
          cursor.release();
        });
        ensure(calls === 1, `the handler ran ${calls} times; release() must stop delivery at once`);
        const snap = log.snapshot();
        snap.forEach((view, seq) => expectRecord(view, seq, "snapshot after the release"));
        snap.release();
      },
    },
  ],
  check({ setup }) {
    const stats = setup.log.stats();
    ensure(stats.pins === 0 && stats.snapshotBudgetUsed === 0, `pins left: ${JSON.stringify(stats)}`);
    const snap = setup.log.snapshot();
    snap.forEach((view, seq) => expectRecord(view, seq, "final log"));
    snap.release();
  },
});
