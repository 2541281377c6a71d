/**
 * The waker thread of a read-only process (see remote-wake.ts): maps the
 * control file itself, blocks in `futex_wait` on its WAKE word, and rings the
 * process's bell each time the word changes. Waits in slices of 100 ms so that
 * a stop request is seen even without a wake.
 */
import { join } from "node:path";
import { wakeParked } from "../shared/wake.ts";
import { CF, CONTROL_FILE, HEADER_BYTES } from "./file-format.ts";
import { futexWait } from "./futex.ts";
import { BELL } from "./remote-wake.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ dir: string; bell: SharedArrayBuffer; seen: number }>) => {
  const { dir, bell: buffer } = event.data;
  let seen = event.data.seen;
  const bell = new Int32Array(buffer);
  const control = Bun.mmap(join(dir, CONTROL_FILE), { shared: true });
  const header = new Int32Array(control.buffer, 0, HEADER_BYTES / 4);
  while (Atomics.load(bell, BELL.STOP) === 0) {
    futexWait(header, CF.WAKE, seen, 100);
    const now = Atomics.load(header, CF.WAKE);
    if (now === seen) continue;
    seen = now;
    Atomics.add(bell, BELL.RINGS, 1);
    wakeParked(bell);
  }
  process.exit(0);
};
