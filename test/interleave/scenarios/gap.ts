/**
 * Gaps against a parked reader: the writer appends, closes its head early
 * with `skipTo` (rolls that publish `count | COUNT_CLOSED`, through empty
 * closed segments, or a jump past the whole window), and appends after the
 * gap, while a reader tails it, parking in `ready()` whenever it is caught up.
 *
 * Invariants: the reader is woken for the record after the gap (no lost
 * wake-up across closed rolls); it delivers exactly the records written,
 * each the record of its sequence, in order; what it did not deliver is
 * counted as lost (`delivered + lost` is its position); nothing stays pinned.
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

/** Appends 0, skips to `target`, appends `target`. Segments of 2, a window of 2 + 1. */
export function gap(name: string, target: number) {
  return scenario({
    name,
    setup: () => smallLog({ retainedCapacity: 4, segmentCapacity: 2 }),
    parties: [
      {
        name: "writer",
        run({ shared }) {
          const writer = attach(shared).tryClaimWriter()!;
          writer.append(recordFor(0));
          writer.skipTo(target);
          writer.append(recordFor(target));
        },
      },
      {
        name: "reader",
        async run({ shared }) {
          const cursor = attach(shared).cursor({ from: 0 });
          const seen: number[] = [];
          while (seen[seen.length - 1] !== target) {
            cursor.poll((view, seq) => {
              expectRecord(view, seq, "cursor");
              ensure(seen.length === 0 || seq > seen[seen.length - 1]!, `sequence ${seq} after ${seen.join(",")}`);
              seen.push(seq);
            });
            if (seen[seen.length - 1] !== target) await cursor.ready();
          }
          ensure(seen.every((s) => s === 0 || s === target), `delivered ${seen.join(",")}: only 0 and ${target} were written`);
          ensure(seen.length + cursor.lost === target + 1, `delivered ${seen.length} + lost ${cursor.lost} != ${target + 1}`);
          cursor.release();
        },
      },
    ],
    check({ setup }) {
      const stats = setup.log.stats();
      ensure(stats.pins === 0 && stats.snapshotBudgetUsed === 0, `pins left: ${JSON.stringify(stats)}`);
      ensure(stats.nextSequence === target + 1, `next sequence ${stats.nextSequence}`);
    },
  });
}

export default gap("a gap (closed and empty closed segments) against a parked reader", 4);
