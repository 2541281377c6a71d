/**
 * Wake requests against commit: a reader that parks in `cursor.ready()` (no
 * timeout, as the README shows it) must be woken by the next commit. A lost
 * wake-up shows as a deadlock: the reader parked, the writer finished.
 */
import { scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 3;

export default scenario({
  name: "ready() against commit",
  setup: () => smallLog({ retainedCapacity: 8, segmentCapacity: 8 }),
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = 0; s < RECORDS; s++) writer.append(recordFor(s));
      },
    },
    {
      name: "reader",
      async run({ shared }) {
        const cursor = attach(shared).cursor({ from: 0 });
        let next = 0;
        while (next < RECORDS) {
          cursor.poll((view, seq) => {
            expectRecord(view, seq, "cursor");
            next = seq + 1;
          });
          if (next < RECORDS) await cursor.ready();
        }
      },
    },
  ],
});
