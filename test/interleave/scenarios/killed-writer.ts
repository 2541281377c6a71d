/**
 * A writer thread killed at any step (mid-commit, mid-roll, mid-claim), then
 * recovered; a new writer claims the log and appends while a reader tails it.
 *
 * Invariants: recovery frees the dead writer's claim wherever it died; the
 * new writer continues the same sequence from the last published record;
 * the reader sees one contiguous run of intact records (a record is either
 * published whole or not at all).
 */
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog } from "./common.ts";

const DEAD = 0;

export default scenario({
  name: "a writer killed at any step, then recovered",
  setup: () => smallLog(),
  killable: [DEAD],
  preemptions: 1,
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const writer = attach(shared).tryClaimWriter()!;
        for (let s = 0; s < 3; s++) writer.append(recordFor(writer.nextSequence, 0));
        writer.release();
      },
    },
    {
      name: "successor",
      run({ shared, threadIds, awaitEnd }) {
        awaitEnd(DEAD);
        const log = attach(shared);
        log.recoverThread(threadIds[DEAD]!);
        const writer = log.tryClaimWriter();
        ensure(writer !== null, "the claim is still held after recovering the dead writer");
        for (let i = 0; i < 2; i++) writer.append(recordFor(writer.nextSequence, 1));
        writer.release();
      },
    },
  ],
  check({ setup }) {
    const snap = setup.log.snapshot();
    let expected = snap.startSequence;
    const by: number[] = [];
    snap.forEach((view, seq) => {
      ensure(seq === expected++, `gap at ${seq}`);
      by.push(expectRecord(view, seq, "final log"));
    });
    snap.release();
    ensure(/^0*11$/.test(by.join("")), `records by writer: ${by.join("")}`);
    ensure(!setup.log.isWriterClaimed(), "claim left held");
  },
});
