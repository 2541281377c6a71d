/**
 * The window: which segment is the head and which is the oldest retained.
 *
 * The writer changes it once per segment roll under a seqlock
 * (`WINDOW_VERSION` odd while it writes). Readers copy it out consistently
 * and, because it changes only once per segment, almost never retry.
 */
import { H, loadPair, storePair } from "./control.ts";
import { AtomicLogError } from "./errors.ts";

/** A consistent copy of the window, reused to avoid allocation. */
export class WindowState {
  /** Seqlock version the copy was taken at (always even). */
  version = 0;
  /** Sequence of the oldest retained segment. */
  oldest = 0;
  /** Sequence of the head segment. */
  head = 0;
  /** Physical index of the head segment. */
  headPhys = 0;
}

// A roll holds the seqlock for a few stores. Far more spins than that means the
// writer died inside a roll; fail loudly instead of hanging the reader.
const MAX_SPINS = 1 << 22;

/** Copies the window into `out` under the seqlock. */
export function readWindow(ctl: Int32Array, out: WindowState): WindowState {
  for (let spins = 0; spins < MAX_SPINS; spins++) {
    const v1 = Atomics.load(ctl, H.WINDOW_VERSION);
    if ((v1 & 1) !== 0) continue;
    const oldest = loadPair(ctl, H.OLDEST_SEQ_HI);
    const head = loadPair(ctl, H.HEAD_SEQ_HI);
    const headPhys = Atomics.load(ctl, H.HEAD_PHYS);
    if (Atomics.load(ctl, H.WINDOW_VERSION) === v1) {
      out.version = v1;
      out.oldest = oldest;
      out.head = head;
      out.headPhys = headPhys;
      return out;
    }
  }
  throw new AtomicLogError("WRITER_STALLED", "the writer stopped in the middle of a segment roll; claim the writer again to repair the log");
}

/** Reads only the oldest retained segment sequence (the reader's validation step). */
export function readOldest(ctl: Int32Array): number {
  for (let spins = 0; spins < MAX_SPINS; spins++) {
    const v1 = Atomics.load(ctl, H.WINDOW_VERSION);
    if ((v1 & 1) !== 0) continue;
    const oldest = loadPair(ctl, H.OLDEST_SEQ_HI);
    if (Atomics.load(ctl, H.WINDOW_VERSION) === v1) return oldest;
  }
  throw new AtomicLogError("WRITER_STALLED", "the writer stopped in the middle of a segment roll; claim the writer again to repair the log");
}

/** Writer side: publishes a new window. Only the writer calls this. */
export function writeWindow(ctl: Int32Array, oldest: number, head: number, headPhys: number): void {
  const v = Atomics.load(ctl, H.WINDOW_VERSION) | 0;
  const start = (v & 1) === 0 ? v : v + 1; // repair a version left odd by a writer that died mid-roll
  Atomics.store(ctl, H.WINDOW_VERSION, start + 1);
  storePair(ctl, H.OLDEST_SEQ_HI, oldest);
  storePair(ctl, H.HEAD_SEQ_HI, head);
  Atomics.store(ctl, H.HEAD_PHYS, headPhys);
  Atomics.store(ctl, H.WINDOW_VERSION, (start + 2) | 0);
}

/**
 * Writer side, at claim time: reads the window, repairing it first if a
 * previous writer died inside a roll (version left odd). The directory entry
 * of a new head is written before the head is published, so it is the
 * authority for which physical segment the head is.
 */
export function readWindowForRepair(ctl: Int32Array, dirBase: number, dirSize: number, out: WindowState): WindowState {
  if ((Atomics.load(ctl, H.WINDOW_VERSION) & 1) === 0) return readWindow(ctl, out);
  const oldest = loadPair(ctl, H.OLDEST_SEQ_HI);
  const head = loadPair(ctl, H.HEAD_SEQ_HI);
  const headPhys = Atomics.load(ctl, dirBase + (head % dirSize));
  writeWindow(ctl, oldest, head, headPhys);
  return readWindow(ctl, out);
}
