/**
 * Waking readers parked in other processes: a futex in the control file.
 *
 * A process that opens a durable log read-only starts one waker thread (a
 * worker, remote-wake-worker.ts) that blocks in `futex_wait` on the control
 * header's WAKE word, then sets FLAG_PARKED in its process-table entry. Its
 * readers park on the process's bell as usual (an `Atomics.waitAsync` on a
 * SharedArrayBuffer). When WAKE changes, the waker rings that bell.
 *
 * The writer's side runs only where the wake protocol already takes its slow
 * path (a parked reader marked the count word, wake.ts): if any other process
 * is flagged, it bumps WAKE and calls `futex_wake` (one system call, about
 * 2 µs measured here). A writer with nobody parked pays nothing. A Unix-socket
 * doorbell was tried first: a byte took 35 µs p50 to reach a Bun socket
 * callback on this machine, futex about 2 µs.
 *
 * Invariant: a parked reader in another process is woken by the first commit
 * after its mark. Its process flagged itself before any of its readers could
 * mark (the flag is set before the open returns, readers mark after), and the
 * waker was given the WAKE value read before the flag, so a bump after that
 * read ends its wait at once. The writer reads the flags after it saw the
 * mark, so it bumps and wakes. Readers also re-check every RECHECK_MS, so a
 * waker that could not start delays a wake-up but never loses it.
 * Checked under every interleaving (futexes modelled as Atomics.wait/notify on
 * the same word, which have the same compare-and-block semantics) by
 * test/interleave/scenarios/remote-wake.ts.
 */
import { wakeParked } from "../shared/wake.ts";
import { CF } from "./file-format.ts";
import { futexAvailable, futexWait, futexWake } from "./futex.ts";
import { FLAGS, FLAG_PARKED, PROCESS_SLOTS, entryWord } from "./process-table.ts";

/** Parked readers re-check this often even with a waker. */
export const RECHECK_MS = 50;

/** Words of a durable log's bell (a SharedArrayBuffer per process): NOTIFY as in the control block, then the waker's. */
export const BELL = {
  /** Set to stop the waker thread. */
  STOP: 17,
  /** Wake-ups the waker passed on (monitoring and tests). */
  RINGS: 18,
  WORDS: 19,
} as const;

/** Blocks while `words[index]` holds `expected`, for at most `timeoutMs` (futex.ts `futexWait`). */
export type WaitOnWord = (words: Int32Array, index: number, expected: number, timeoutMs: number) => void;
/** Wakes every thread blocked on `words[index]` (futex.ts `futexWake`). */
export type WakeOnWord = (words: Int32Array, index: number) => void;

/** The waker waits in slices this long, so that a stop request is seen even without a wake. */
const WAKER_SLICE_MS = 100;

/** The writer's side: wakes the wakers of other processes with parked readers. */
export class RemoteWake {
  constructor(
    private readonly header: Int32Array,
    private readonly wake: WakeOnWord = futexWake,
  ) {}

  /** If another process has flagged parked readers, bumps WAKE and wakes every waiter on it. */
  poke(): void {
    for (let slot = 0; slot < PROCESS_SLOTS; slot++) {
      if ((Atomics.load(this.header, entryWord(slot, FLAGS)) & FLAG_PARKED) === 0) continue;
      if (Atomics.load(this.header, entryWord(slot, 0)) === process.pid) continue;
      Atomics.add(this.header, CF.WAKE, 1);
      this.wake(this.header, CF.WAKE);
      return;
    }
  }
}

/**
 * The reader process's side: starts the waker thread, which rings `bell` each
 * time WAKE changes. Returns a function that stops it, or null if it could not
 * start (readers then re-check every millisecond instead).
 */
export function listenForWakes(dir: string, slot: number, header: Int32Array, bell: Int32Array): (() => void) | null {
  if (!futexAvailable()) return null;
  let worker: Worker;
  try {
    worker = new Worker(new URL("./remote-wake-worker.ts", import.meta.url).href);
  } catch {
    return null;
  }
  const stop = registerWaker(header, slot, bell, (seen) => worker.postMessage({ dir, bell: bell.buffer, seen }));
  (worker as { unref?: () => void }).unref?.();
  return () => {
    stop();
    worker.terminate();
  };
}

/**
 * Registers this process's waker: reads WAKE, hands that value to the waker
 * (`start`), then flags the process as having parked readers. (The flag must be
 * set before any reader of the process marks a count word, which holds because
 * readers exist only after the open returns; the order of the first two steps
 * matters less: a bump between them is not for any of this process's readers.)
 * Returns the first steps of stopping: unflag, and ask the waker to stop.
 */
export function registerWaker(header: Int32Array, slot: number, bell: Int32Array, start: (seen: number) => void): () => void {
  start(Atomics.load(header, CF.WAKE));
  Atomics.or(header, entryWord(slot, FLAGS), FLAG_PARKED);
  return () => {
    Atomics.and(header, entryWord(slot, FLAGS), ~FLAG_PARKED);
    Atomics.store(bell, BELL.STOP, 1);
  };
}

/**
 * The waker thread's loop (remote-wake-worker.ts): blocks on WAKE while it
 * holds `seen`, and rings `bell` each time it changes, until asked to stop.
 */
export function runWaker(header: Int32Array, bell: Int32Array, seen: number, wait: WaitOnWord = futexWait): void {
  while (Atomics.load(bell, BELL.STOP) === 0) {
    wait(header, CF.WAKE, seen, WAKER_SLICE_MS);
    const now = Atomics.load(header, CF.WAKE);
    if (now === seen) continue;
    seen = now;
    Atomics.add(bell, BELL.RINGS, 1);
    wakeParked(bell);
  }
}
