/**
 * Wake requests against commit: a reader that parks in `cursor.ready()` (no
 * timeout, as the README shows it) must be woken by the next commit. A lost
 * wake-up shows as a deadlock: the reader parked, the writer finished.
 */
import { scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 3;

/** The scenario on a log of `segmentCapacity`-record segments, appending `records`. */
export function wakeUp(name: string, segmentCapacity: number, records: number) {
  return scenario({
  name,
  setup: () => smallLog({ retainedCapacity: 2 * segmentCapacity, segmentCapacity }),
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = 0; s < records; s++) writer.append(recordFor(s));
      },
    },
    {
      name: "reader",
      async run({ shared }) {
        const cursor = attach(shared).cursor({ from: 0 });
        let next = 0;
        while (next < records) {
          cursor.poll((view, seq) => {
            expectRecord(view, seq, "cursor");
            next = seq + 1;
          });
          if (next < records) await cursor.ready();
        }
      },
    },
  ],
});
}

export default wakeUp("ready() against commit", 8, RECORDS);
