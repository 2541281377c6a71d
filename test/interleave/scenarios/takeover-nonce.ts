/**
 * A takeover of a writer that is claiming, appending or releasing at any
 * step: what the takeover records about the writer it fences.
 *
 * Invariants: the recorded claim nonce is the fenced writer's own, or, when
 * that writer had not published it yet, a unique unknown (negative) value —
 * never another writer's, which could let a stale writer acknowledge a later
 * takeover; and when it is known, the fenced writer acknowledges once it
 * stops, so a later forceClaimWriter is not refused. (The takeover once read
 * a stale nonce, and a writer fenced inside release() never acknowledged:
 * found by review.)
 */
import { H } from "../../../src/shared/control.ts";
import { WriterReleasedError, WriterTakeoverPendingError } from "../../../src/index.ts";
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, recordFor, smallLog } from "./common.ts";

export default scenario({
  name: "the fenced writer's nonce, and its acknowledgement",
  setup: () => {
    const setup = smallLog({ retainedCapacity: 2, segmentCapacity: 2, snapshotBudget: 2, maxSnapshots: 4 }, 1);
    // Not the control block (not scheduled): [old writer's nonce, recorded nonce, 1 if a takeover fenced it].
    const box = new Int32Array(new SharedArrayBuffer(12));
    return { ...setup, shared: { ...setup.shared, box } };
  },
  preemptions: 1,
  parties: [
    {
      name: "old writer",
      run({ shared }) {
        const box = (shared as { box: Int32Array }).box;
        try {
          const writer = attach(shared).tryClaimWriter();
          if (writer === null) return;
          Atomics.store(box, 0, (writer as unknown as { lease: { nonce: number } }).lease.nonce);
          writer.append(recordFor(writer.nextSequence, 0));
          writer.release();
        } catch (error) {
          ensure(error instanceof WriterReleasedError, String(error));
        }
      },
    },
    {
      name: "force-claimer",
      run({ shared, awaitEnd }) {
        const box = (shared as { box: Int32Array }).box;
        const log = attach(shared);
        const ctl = new Int32Array((shared as { handle: { control: SharedArrayBuffer } }).handle.control);
        const w = log.forceClaimWriter({ waitMs: Number.POSITIVE_INFINITY });
        const fenced = Atomics.load(ctl, H.QUARANTINE_PHYS) > 0;
        const recorded = Atomics.load(ctl, H.QUARANTINE_EPOCH);
        if (fenced) {
          Atomics.store(box, 1, recorded);
          Atomics.store(box, 2, 1);
        }
        awaitEnd(0); // the old writer has stopped (and acknowledged, if it was fenced and knew how)
        for (let i = 0; i < 8; i++) w.append(recordFor(w.nextSequence, 1)); // the quarantined head leaves the window
        w.release();
        try {
          log.forceClaimWriter({ waitMs: Number.POSITIVE_INFINITY }).release();
        } catch (error) {
          // Refused only if the takeover could not know the fenced writer's nonce (then recoverThread acknowledges).
          ensure(error instanceof WriterTakeoverPendingError && fenced && recorded < 0, `second takeover: ${String(error)}`);
        }
      },
    },
  ],
  check({ setup }) {
    const box = (setup.shared as { box: Int32Array }).box;
    if (Atomics.load(box, 2) === 0) return;
    const recorded = Atomics.load(box, 1);
    const own = Atomics.load(box, 0);
    // 0: the fenced writer had already acknowledged when the force-claimer looked; own is 0 when the
    // takeover came before the old writer's constructor returned (it then got no writer).
    ensure(recorded <= 0 || own === 0 || recorded === own, `the takeover recorded nonce ${recorded}; the fenced writer's is ${own}`);
  },
});
