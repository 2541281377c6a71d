/**
 * Claim, release and recovery: the main thread held the writer and died (it
 * is never used again); two recoverers run `recoverThread` for it while a
 * third thread claims the freed writer, appends and releases.
 *
 * Invariants: recovery frees only a claim the dead thread still holds, never
 * one a live thread has just taken; two recoveries free it once; the live
 * writer holds its claim until it releases it.
 */
import { AtomicLog } from "../../../src/index.ts";
import { Trade } from "../../support/trade.ts";
import { ensure, scenario } from "../harness/scenario.ts";
import { attach, recordFor, smallLog } from "./common.ts";

export default scenario({
  name: "recoverThread against a new claim",
  setup: () => {
    const setup = smallLog();
    // Held by the main thread (thread id 0), which plays a dead thread.
    const dead = setup.log.tryClaimWriter()!;
    return { ...setup, dead };
  },
  parties: [
    {
      name: "recoverer 1",
      run({ shared }) {
        attach(shared).recoverThread(0);
      },
    },
    {
      name: "recoverer 2",
      run({ shared }) {
        attach(shared).recoverThread(0);
      },
    },
    {
      name: "claimer",
      run({ shared, pause }) {
        const log = attach(shared);
        let writer = log.tryClaimWriter();
        while (writer === null) {
          pause();
          writer = log.tryClaimWriter();
        }
        writer.append(recordFor(0, 2));
        ensure(writer.holdsClaim() && log.isWriterClaimed(), "a recovery freed the claim of a live writer");
        writer.release();
      },
    },
  ],
  check({ setup }) {
    ensure(!setup.log.isWriterClaimed(), "the claim is still held after the live writer released it");
    ensure(setup.log.stats().nextSequence === 1, `next sequence ${setup.log.stats().nextSequence}`);
    void AtomicLog;
    void Trade;
  },
});
