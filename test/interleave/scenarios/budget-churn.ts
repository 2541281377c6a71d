/**
 * Pin release and budget: two readers take and release snapshots while the
 * writer rolls a log whose budget is exactly one window.
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

const RECORDS = 5;

function reader(name: string, rounds: number): Party {
  return {
    name,
    run({ shared }) {
      const log = attach(shared);
      for (let r = 0; r < rounds; r++) {
        try {
          const snap = log.snapshot();
          snap.forEach((view, seq) => expectRecord(view, seq, name));
          snap.release();
        } catch (error) {
          ensure(error instanceof SnapshotBudgetError, `${name}: ${String(error)}`);
        }
      }
    },
  };
}

export default scenario({
  name: "snapshot churn against the budget",
  setup: () => {
    const setup = smallLog({ snapshotBudget: 2 });
    const writer = setup.log.tryClaimWriter()!;
    writer.append(recordFor(0));
    writer.append(recordFor(1));
    writer.release();
    return setup;
  },
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = 2; s < RECORDS; s++) writer.append(recordFor(s));
        writer.release();
      },
    },
    reader("reader A", 2),
    reader("reader B", 1),
  ],
  check({ setup }) {
    const stats = setup.log.stats();
    ensure(stats.pins === 0 && stats.snapshotBudgetUsed === 0, `pins left: ${JSON.stringify(stats)}`);
    ensure(stats.nextSequence === RECORDS, `next sequence ${stats.nextSequence}`);
  },
});
