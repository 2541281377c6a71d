/**
 * The process table of a durable log (src/store/process-table.ts): two
 * processes reap a dead one's entry while a third process takes an entry and
 * pins. Here the parties are threads playing processes over one buffer that
 * holds the control header (with the table) and the control block, as a
 * durable log's control file does; the dead process's pid is one no process has.
 *
 * Invariants: the dead process's pin is released exactly once, and its
 * budget returned; the new process's pin is never released by a reaper (a
 * slow reaper that saw the dead pid before the entry was reaped and retaken
 * must not release the new taker's tags: the generation and the pid re-read);
 * the budget count equals what live pins hold.
 */
import { AtomicLog } from "../../../src/index.ts";
import { LogState } from "../../../src/log/log-state.ts";
import { PinLease } from "../../../src/shared/pin-lease.ts";
import { entryWord, reapDead, tagBase, takeEntry } from "../../../src/store/process-table.ts";
import { MemorySegmentStore } from "../../../src/store/segment-store.ts";
import { HEADER_BYTES } from "../../../src/store/file-format.ts";
import { H } from "../../../src/shared/control.ts";
import { Trade } from "../../support/trade.ts";
import { ensure, scenario } from "../harness/scenario.ts";

const DEAD_PID = 2147483000; // above pid_max: no process has it
const DEAD_GEN = 5;

interface Shared {
  file: SharedArrayBuffer;
  data: SharedArrayBuffer;
  words: number;
  segmentBytes: number;
}

/** The log state and header over the shared "control file". */
function open(shared: unknown): { st: LogState<never, never>; header: Int32Array } {
  const s = shared as Shared;
  const ctl = new Int32Array(s.file, HEADER_BYTES, s.words);
  const st = new LogState(Trade, ctl, new MemorySegmentStore(s.data, s.segmentBytes)) as unknown as LogState<never, never>;
  return { st, header: new Int32Array(s.file, 0, HEADER_BYTES / 4) };
}

export default scenario({
  // The control block starts after the header: its spin-loop hint is there.
  pauseWord: HEADER_BYTES / 4 + H.PAUSE,
  name: "reaping a dead process's entry against a process taking it",
  setup: () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 2, segmentCapacity: 2, snapshotBudget: 4, maxSnapshots: 4, preTouch: false });
    const handle = log.handle();
    const control = handle.control!;
    const file = new SharedArrayBuffer(HEADER_BYTES + control.byteLength);
    new Uint8Array(file, HEADER_BYTES).set(new Uint8Array(control));
    const shared: Shared = {
      file,
      data: (handle.store as { data: SharedArrayBuffer }).data,
      words: control.byteLength / 4,
      segmentBytes: (handle.store as { segmentBytes: number }).segmentBytes,
    };
    // The dead process: entry 0, generation 5, one pin of two segments.
    const { st, header } = open(shared);
    header[entryWord(0, 0)] = DEAD_PID;
    header[entryWord(0, 3)] = DEAD_GEN;
    const lease = PinLease.acquire(st.ctl, st.pins, tagBase(0, DEAD_GEN));
    ensure(lease.tryGrow(2, st.budget), "setup: budget");
    st.pins.setRange(lease.slot, 0, 1);
    return { shared, control: file };
  },
  parties: [
    {
      name: "reaper A",
      run({ shared }) {
        const { st, header } = open(shared);
        reapDead(st, header);
      },
    },
    {
      name: "reaper B",
      run({ shared }) {
        const { st, header } = open(shared);
        reapDead(st, header);
      },
    },
    {
      name: "new process",
      run({ shared }) {
        const { st, header } = open(shared);
        const { tagBase: base } = takeEntry(st, header);
        const lease = PinLease.acquire(st.ctl, st.pins, base);
        ensure(lease.tryGrow(1, st.budget), "the new process found no budget");
        st.pins.setRange(lease.slot, 0, 0);
      },
    },
  ],
  check({ setup }) {
    const { st, header } = open(setup.shared);
    const dead = st.pins.ownersWithin(tagBase(0, DEAD_GEN), tagBase(0, DEAD_GEN) + (1 << 16));
    ensure(dead.length === 0, `the dead process's pin survived: ${dead}`);
    const live = st.pins.ownersWithin(1, 1 << 29);
    ensure(live.length === 1, `the new process's pin was released (owners left: ${live.join(",")})`);
    ensure(Atomics.load(st.ctl, H.BUDGET_USED) === 1, `budget used ${Atomics.load(st.ctl, H.BUDGET_USED)}, expected the new pin's 1`);
    ensure(Atomics.load(header, entryWord(0, 0)) !== DEAD_PID || st.pins.taken() === 1, "the dead entry was never reaped");
  },
});
