/**
 * Reading the next sequence (stats(), a "latest" cursor, hasNext) while the
 * writer recycles the window under the reader.
 *
 * Invariant: the value read is one the log really had during the call, so
 * successive reads never go backwards (a reader descheduled across a recycle
 * once added a recycled segment's count to the old head).
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, recordFor, smallLog } from "./common.ts";

const RECORDS = 6;

export default scenario({
  name: "next sequence while the writer recycles",
  // One record already in the head, so the reader's first read is not at a segment boundary.
  setup: () => smallLog({}, 1),
  preemptions: 2,
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = 1; s < RECORDS; s++) writer.append(recordFor(s));
      },
    },
    {
      name: "reader",
      run({ shared }) {
        const log = attach(shared);
        const first = log.stats().nextSequence;
        const second = log.stats().nextSequence;
        ensure(second >= first, `next sequence went back from ${first} to ${second}`);
        const cursor = log.cursor({ from: "latest" });
        ensure(cursor.sequence >= first, `a latest cursor at ${cursor.sequence} after next sequence ${first}`);
        const then = log.stats().nextSequence;
        ensure(then >= cursor.sequence, `next sequence ${then} after a latest cursor at ${cursor.sequence}`);
        cursor.release();
      },
    },
  ],
});
