/**
 * Gating against tryAppend: a gated cursor must not be lapped; the writer
 * uses tryAppend and waits (spins) while it is refused.
 *
 * Invariants: the gated cursor loses nothing and reads every record intact,
 * in order; tryAppend never evicts a segment the gated cursor still needs.
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 6;

export default scenario({
  name: "a gated cursor against tryAppend",
  setup: () => {
    const setup = smallLog();
    // Not the control block, so not scheduled: the reader raises it once its gated cursor exists.
    const ready = new Int32Array(new SharedArrayBuffer(4));
    return { ...setup, shared: { ...setup.shared, ready } };
  },
  parties: [
    {
      name: "writer",
      run({ shared, pause }) {
        const log = attach(shared);
        const writer = log.tryClaimWriter()!;
        // Start once the reader's gated cursor exists, so it sees every record.
        const ready = (shared as { ready: Int32Array }).ready;
        while (Atomics.load(ready, 0) === 0) pause();
        for (let s = 0; s < RECORDS; s++) {
          while (!writer.tryAppend(recordFor(s))) pause();
        }
      },
    },
    {
      name: "reader",
      run({ shared, pause }) {
        const cursor = attach(shared).cursor({ from: 0, gated: true });
        Atomics.store((shared as { ready: Int32Array }).ready, 0, 1);
        let next = 0;
        while (next < RECORDS) {
          const n = cursor.poll((view, seq) => {
            ensure(seq === next, `sequence ${seq}, expected ${next}`);
            expectRecord(view, seq, "gated cursor");
            next++;
          });
          if (n === 0) pause();
        }
        ensure(cursor.lost === 0, `a gated cursor lost ${cursor.lost}`);
        cursor.release();
      },
    },
  ],
});
