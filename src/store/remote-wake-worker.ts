/**
 * The waker thread of a read-only process (see remote-wake.ts `runWaker`):
 * maps the control file itself, blocks in `futex_wait` on its WAKE word, and
 * rings the process's bell each time the word changes.
 */
import { join } from "node:path";
import { CONTROL_FILE, HEADER_BYTES } from "./file-format.ts";
import { runWaker } from "./remote-wake.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ dir: string; bell: SharedArrayBuffer; seen: number }>) => {
  const { dir, bell, seen } = event.data;
  const control = Bun.mmap(join(dir, CONTROL_FILE), { shared: true });
  runWaker(new Int32Array(control.buffer, 0, HEADER_BYTES / 4), new Int32Array(bell), seen);
  process.exit(0);
};
