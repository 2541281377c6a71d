/**
 * A reader thread killed at any step of taking, moving and releasing pins,
 * then recovered with recoverThread while the writer keeps going (the
 * snapshot and cursor programs are in killed-snapshot.ts and killed-cursor.ts).
 *
 * Invariants: the writer never stops or fails; recovery finds every slot the
 * dead reader held, wherever it died (the owner is the slot's state word, so
 * a slot is never taken without one); after recovery no slot, gate or parked
 * flag is left, and the budget is back except for the one documented case: a
 * thread killed between reserving budget and recording it in its slot leaks
 * that one reservation (pin-lease.ts explains why a leak, never an over-count).
 */
import { TooManySnapshotsError } from "../../../src/index.ts";
import { ensure, scenario, type Party } from "../harness/scenario.ts";
import { attach, expectRecord, recordFor, smallLog, type TradeLog } from "./common.ts";

const READER = 1;
const SLOTS = 3;

/**
 * The scenario for one reader program. After recovery every one of the log's
 * pin slots can be taken again (a slot taken without an owner once leaked for
 * good), and the budget is back but for the documented one-step leak.
 */
export function killedReader(name: string, reader: Party["run"]) {
  return scenario({
    name,
    setup: () => smallLog({ snapshotBudget: 6, maxSnapshots: SLOTS }, 4),
    killable: [READER],
    preemptions: 1,
    parties: [
      {
        name: "writer",
        run({ shared }) {
          const writer = attach(shared).tryClaimWriter()!;
          writer.append(recordFor(4)); // rolls, and evicts a segment the reader may hold
          writer.release();
        },
      },
      { name: "reader", run: reader },
      {
        name: "recoverer",
        run({ shared, threadIds, awaitEnd }) {
          awaitEnd(READER);
          attach(shared).recoverThread(threadIds[READER]!);
        },
      },
    ],
    check({ setup, killed }) {
      const log: TradeLog = setup.log;
      const used = log.stats().snapshotBudgetUsed;
      // At most one reservation step (a window's worth here) may leak, and only if the reader was killed.
      const leakBound = killed[READER] ? log.retainedSegments + 1 : 0;
      ensure(used <= leakBound, `budget used after recovery: ${used} (killed: ${killed[READER]})`);
      // Every slot can be taken again; cursors take one segment of budget each.
      const held = [];
      try {
        for (let k = 0; k < SLOTS; k++) held.push(log.cursor({ from: "oldest" }));
      } catch (error) {
        ensure(!(error instanceof TooManySnapshotsError), `a pin slot leaked: only ${held.length} of ${SLOTS} could be taken`);
        throw error;
      } finally {
        for (const c of held) c.release();
      }
      ensure(log.stats().nextSequence === 5, `next sequence ${log.stats().nextSequence}`);
    },
  });
}



