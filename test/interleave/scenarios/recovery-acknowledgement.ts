/**
 * recoverThread(T), where T was the fenced writer of an earlier takeover
 * that is already acknowledged (QUARANTINE_OWNER still names T), racing a new
 * forceClaimWriter that fences a live writer U.
 *
 * Invariant: a quarantine is never acknowledged while its fenced writer has
 * not stopped (here the old writer never stops: it holds the claim and
 * idles). Recovery once read the owner and then swapped the nonce in two
 * steps, and acknowledged U's takeover (found by review).
 */
import { H } from "../../../src/shared/control.ts";
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, recordFor, smallLog } from "./common.ts";

const DEAD_THREAD = 999; // the earlier takeover's fenced writer, long dead

export default scenario({
  name: "recoverThread against a new takeover",
  setup: () => {
    const s = smallLog({ retainedCapacity: 2, segmentCapacity: 2, snapshotBudget: 2, maxSnapshots: 4 }, 1);
    const ctl = new Int32Array(s.control);
    ctl[H.QUARANTINE_OWNER] = DEAD_THREAD + 1; // QUARANTINE_OWNER left by an earlier, acknowledged takeover (EPOCH 0, PHYS 0)
    return s;
  },
  preemptions: 1,
  parties: [
    {
      name: "old writer (alive, idle, holds the claim)",
      run({ shared }) {
        const w = attach(shared).tryClaimWriter();
        if (w !== null) {
          w.append(recordFor(w.nextSequence, 0));
          (globalThis as { keep?: unknown }).keep = w;
        }
      },
    },
    {
      name: "force-claimer",
      run({ shared, awaitEnd }) {
        awaitEnd(0);
        (globalThis as { keep?: unknown }).keep = attach(shared).forceClaimWriter({ waitMs: Number.POSITIVE_INFINITY });
      },
    },
    {
      name: "recoverer of the long-dead thread",
      run({ shared }) {
        attach(shared).recoverThread(DEAD_THREAD);
      },
    },
  ],
  check({ setup }) {
    const ctl = new Int32Array(setup.control);
    const q = ctl[H.QUARANTINE_PHYS]!;
    if (q !== 0) ensure(ctl[H.QUARANTINE_EPOCH] !== 0, `the quarantine of segment ${q - 1} was acknowledged though its fenced writer never stopped`);
  },
});
