/**
 * Publication and reading, the window flip, lap detection: a writer appends
 * through several rolls of a 2-segment window while a cursor tails it.
 *
 * Invariants: every record the cursor hands out is complete and is the record
 * of its sequence; sequences strictly increase; the cursor counts exactly
 * what it skipped when lapped (`delivered + lost` is its position); nothing
 * is pinned after it releases.
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 5;

/** The scenario, for a log whose first sequence is `first` (sequences.ts runs it across 2^32). */
export function tailing(name: string, first: number) {
  const END = first + RECORDS;
  return scenario({
  name,
  setup: () => smallLog({ initialSequence: first }),
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = first; s < END; s++) writer.append(recordFor(s));
      },
    },
    {
      name: "cursor",
      run({ shared, pause }) {
        const cursor = attach(shared).cursor({ from: first });
        let delivered = 0;
        let last = first - 1;
        while (cursor.sequence < END) {
          const n = cursor.poll((view, seq) => {
            ensure(seq > last, `sequence ${seq} after ${last}`);
            expectRecord(view, seq, "cursor");
            last = seq;
            delivered++;
          });
          if (n === 0) pause();
        }
        ensure(delivered + cursor.lost === RECORDS, `delivered ${delivered} + lost ${cursor.lost} != ${RECORDS}`);
        cursor.release();
      },
    },
  ],
  check({ setup }) {
    const stats = setup.log.stats();
    ensure(stats.snapshotBudgetUsed === 0 && stats.pins === 0, `pins left: ${JSON.stringify(stats)}`);
    ensure(stats.nextSequence === END, `next sequence ${stats.nextSequence}`);
  },
  });
}

export default tailing("publication and a tailing cursor, with laps", 0);
