/**
 * Waking a reader parked in another process (src/store/remote-wake.ts): a
 * writer process commits while a reader process, whose readers park on their
 * own process's bell, registers its waker thread, parks in `ready()`, and is
 * woken through the control file's WAKE word.
 *
 * The parties are threads playing the two processes over one buffer that holds
 * what the real memory holds: the control header (WAKE and the process table),
 * the control block, and each process's bell (in reality a SharedArrayBuffer
 * per process; here in the scheduled buffer, so that its accesses are steps
 * too). The futex is modelled by `Atomics.wait`/`notify` on the same word: both
 * compare the word and block in one step, as `futex_wait` does. The waker's
 * 100 ms slices and the readers' 50 ms re-checks are left out (untimed waits),
 * so a wake-up that relies on them shows as a deadlock. The worker's
 * `terminate()` at close is modelled as a bump of WAKE and a notify, which ends
 * the waker's wait the way terminating it does.
 *
 * Invariant: the reader process's cursor reads every record, in order, and is
 * never left parked after a commit it has not seen.
 */
import { AtomicLog } from "../../../src/index.ts";
import { H } from "../../../src/shared/control.ts";
import { LogState } from "../../../src/log/log-state.ts";
import type { Doorbells } from "../../../src/shared/wake.ts";
import { CF, HEADER_BYTES } from "../../../src/store/file-format.ts";
import { entryWord } from "../../../src/store/process-table.ts";
import { BELL, RemoteWake, registerWaker, runWaker } from "../../../src/store/remote-wake.ts";
import { MemorySegmentStore } from "../../../src/store/segment-store.ts";
import { Trade } from "../../support/trade.ts";
import { ensure, scenario } from "../harness/scenario.ts";
import { expectRecord, recordFor, smallLog } from "./common.ts";

const RECORDS = 3;
/** The reader process's entry in the process table, and a pid that is not this process's (poke skips its own). */
const READER_SLOT = 1;
const READER_PID = 2147483000;

interface Shared {
  file: SharedArrayBuffer;
  data: SharedArrayBuffer;
  words: number;
  segmentBytes: number;
}

/** Where each region sits in the scheduled buffer, in bytes. */
function layout(words: number) {
  const control = HEADER_BYTES;
  const writerBell = control + words * 4;
  const readerBell = writerBell + BELL.WORDS * 4;
  const handoff = readerBell + BELL.WORDS * 4;
  return { control, writerBell, readerBell, handoff, bytes: handoff + 4 };
}

/** A process's view: the header, the log state over the control block, its bell, and the waker's hand-off word. */
function open(shared: unknown, writer: boolean) {
  const s = shared as Shared;
  const at = layout(s.words);
  const header = new Int32Array(s.file, 0, HEADER_BYTES / 4);
  const ctl = new Int32Array(s.file, at.control, s.words);
  const bell = new Int32Array(s.file, writer ? at.writerBell : at.readerBell, BELL.WORDS);
  const store = new MemorySegmentStore(s.data, s.segmentBytes);
  // The writer process rings other processes through WAKE (the modelled futex); readers rely on their bell alone.
  const remote = new RemoteWake(header, (words, index) => void Atomics.notify(words, index));
  const state = writer ? new (class extends LogState<never, never> {
    override get doorbells(): Doorbells {
      return remote;
    }
  })(Trade as never, ctl, store, bell) : new LogState(Trade as never, ctl, store, bell);
  return { header, bell, state, handoff: new Int32Array(s.file, at.handoff, 1) };
}

export default scenario({
  // The control block starts after the header: its spin-loop hint is there.
  pauseWord: HEADER_BYTES / 4 + H.PAUSE,
  name: "a reader parked in another process, woken through the control file",
  setup: () => {
    const { shared: mem } = smallLog({ retainedCapacity: 4, segmentCapacity: 2 });
    const control = mem.handle.control!;
    const words = control.byteLength / 4;
    const file = new SharedArrayBuffer(layout(words).bytes);
    new Uint8Array(file, HEADER_BYTES).set(new Uint8Array(control));
    const shared: Shared = {
      file,
      data: (mem.handle.store as { data: SharedArrayBuffer }).data,
      words,
      segmentBytes: (mem.handle.store as { segmentBytes: number }).segmentBytes,
    };
    new Int32Array(file)[entryWord(READER_SLOT, 0)] = READER_PID;
    return { shared, control: file };
  },
  parties: [
    {
      name: "writer process",
      run({ shared }) {
        const writer = new AtomicLog(open(shared, true).state).tryClaimWriter()!;
        for (let s = 0; s < RECORDS; s++) writer.append(recordFor(s) as never);
      },
    },
    {
      name: "reader process's waker",
      run({ shared, pause }) {
        const { header, bell, handoff } = open(shared, false);
        // postMessage's hand-off of `seen`: the worker starts after it.
        while (Atomics.load(handoff, 0) === 0) pause();
        runWaker(header, bell, Atomics.load(handoff, 0) - 1, (words, index, expected) => void Atomics.wait(words, index, expected));
      },
    },
    {
      name: "reader process",
      async run({ shared }) {
        const { header, bell, state, handoff } = open(shared, false);
        const stop = registerWaker(header, READER_SLOT, bell, (seen) => Atomics.store(handoff, 0, seen + 1));
        const cursor = new AtomicLog(state).cursor({ from: 0 });
        let next = 0;
        while (next < RECORDS) {
          cursor.poll((view, seq) => {
            ensure(seq === next, `read ${seq}, expected ${next}`);
            expectRecord(view as never, seq, "reader process");
            next = seq + 1;
          });
          if (next < RECORDS) await cursor.ready();
        }
        stop();
        // worker.terminate(), modelled: ends the waker's wait whatever step it is at.
        Atomics.add(header, CF.WAKE, 1);
        Atomics.notify(header, CF.WAKE);
      },
    },
  ],
});
