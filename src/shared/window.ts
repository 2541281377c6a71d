/**
 * The window: which segment is the head and which is the oldest retained.
 *
 * The writer changes it once or twice per segment roll. It writes the
 * inactive one of two entries and then flips WINDOW_VERSION (whose low bit
 * names the current entry). Readers copy the current entry and retry only if
 * a flip happened while they read, which means the writer made progress: a
 * writer preempted (or killed) mid-update never blocks a reader.
 */
import { H, WIN, WINDOW_ENTRY, loadPair, storePair } from "./control.ts";
import { AtomicLogError } from "../errors.ts";

/** A consistent copy of the window, reused to avoid allocation. */
export class WindowState {
  /** Version the copy was taken at. */
  version = 0;
  /** Sequence of the oldest retained segment. */
  oldest = 0;
  /** Sequence of the head segment. */
  head = 0;
  /** Physical index of the head segment. */
  headPhys = 0;
}

// Each retry means the writer flipped the window during a ~10 ns read; this
// many in a row cannot happen with rolls that take microseconds.
const MAX_RETRIES = 1 << 20;

/** Copies the current window into `out`. */
export function readWindow(ctl: Int32Array, out: WindowState): WindowState {
  for (let tries = 0; tries < MAX_RETRIES; tries++) {
    const v1 = Atomics.load(ctl, H.WINDOW_VERSION);
    const at = WINDOW_ENTRY[v1 & 1]!;
    const oldest = loadPair(ctl, at + WIN.OLDEST);
    const head = loadPair(ctl, at + WIN.HEAD);
    const headPhys = Atomics.load(ctl, at + WIN.HEAD_PHYS);
    if (Atomics.load(ctl, H.WINDOW_VERSION) === v1) {
      out.version = v1;
      out.oldest = oldest;
      out.head = head;
      out.headPhys = headPhys;
      return out;
    }
  }
  throw new AtomicLogError("WRITER_STALLED", "the window kept changing while being read; this indicates memory corruption");
}

/** Reads only the oldest retained segment sequence (the reader's validation step). */
export function readOldest(ctl: Int32Array): number {
  for (;;) {
    const v1 = Atomics.load(ctl, H.WINDOW_VERSION);
    const oldest = loadPair(ctl, WINDOW_ENTRY[v1 & 1]! + WIN.OLDEST);
    if (Atomics.load(ctl, H.WINDOW_VERSION) === v1) return oldest;
  }
}

/** Writer side: publishes a new window with one atomic flip. Only the writer calls this. */
export function writeWindow(ctl: Int32Array, oldest: number, head: number, headPhys: number): void {
  const v = Atomics.load(ctl, H.WINDOW_VERSION);
  const at = WINDOW_ENTRY[(v & 1) ^ 1]!;
  storePair(ctl, at + WIN.OLDEST, oldest);
  storePair(ctl, at + WIN.HEAD, head);
  Atomics.store(ctl, at + WIN.HEAD_PHYS, headPhys);
  Atomics.store(ctl, H.WINDOW_VERSION, (v + 1) | 0);
}
