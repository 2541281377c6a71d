/**
 * Pin release and budget: two readers take and release snapshots while the
 * writer rolls a log whose budget is exactly one window. The pauses only mark
 * where a party waits for the others; every interleaving of the accesses
 * around them is still tried.
 *
 * Invariants: the writer always finds a free segment (it once ran dry when a
 * release returned its budget before unpinning, and another reader took that
 * budget while the old segments were still pinned); every snapshot is intact;
 * a snapshot that does not fit the budget is refused with SnapshotBudgetError
 * and changes nothing; all budget is back at the end.
 */
import { SnapshotBudgetError } from "../../../src/index.ts";
import { ensure, scenario, type Party } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 9;

/** Takes a snapshot and checks it; with `hold`, lets the others run (a pause) and checks it again before releasing it. */
function reader(name: string, hold: boolean): Party {
  return {
    name,
    run({ shared, pause }) {
      const log = attach(shared);
      try {
        const snap = log.snapshot();
        snap.forEach((view, seq) => expectRecord(view, seq, name));
        if (hold) {
          pause();
          snap.forEach((view, seq) => expectRecord(view, seq, `${name}, later`));
        }
        snap.release();
      } catch (error) {
        ensure(error instanceof SnapshotBudgetError, `${name}: ${String(error)}`);
      }
    },
  };
}

export default scenario({
  name: "snapshot churn against the budget",
  setup: () => smallLog({ snapshotBudget: 2 }, 2),
  parties: [
    {
      name: "writer",
      run({ shared, pause }) {
        const writer = attach(shared).tryClaimWriter()!;
        // Far enough to evict what a snapshot taken first pins; then let the readers move.
        for (let s = 2; s < 5; s++) writer.append(recordFor(s));
        pause();
        for (let s = 5; s < RECORDS; s++) writer.append(recordFor(s));
        writer.release();
      },
    },
    reader("reader A", true),
    reader("reader B", false),
  ],
  check({ setup }) {
    const stats = setup.log.stats();
    ensure(stats.pins === 0 && stats.snapshotBudgetUsed === 0, `pins left: ${JSON.stringify(stats)}`);
    ensure(stats.nextSequence === RECORDS, `next sequence ${stats.nextSequence}`);
  },
});
