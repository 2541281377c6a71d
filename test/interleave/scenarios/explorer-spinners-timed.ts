/**
 * For testing the explorer: a correct protocol in which two parties spin (with the pause hint)
 * on a flag that a third sets after a timed wait that nobody ends. The explorer must time the
 * wait out rather than hand the turn between the spinners for ever (it once reported this as a
 * livelock on the first execution).
 */
import { scenario } from "../harness/scenario.ts";

const Y = 0;
const F = 1;
const PAUSE = 2;
const words = (shared: unknown) => new Int32Array((shared as { buffer: SharedArrayBuffer }).buffer);
const spinner = (name: string) => ({
  name,
  run({ shared }: { shared: unknown }) {
    const a = words(shared);
    while (Atomics.load(a, F) === 0) Atomics.load(a, PAUSE);
  },
});

export default scenario({
  name: "two spinners wait for a party in a timed wait",
  pauseWord: PAUSE,
  setup: () => {
    const buffer = new SharedArrayBuffer(64);
    return { shared: { buffer }, control: buffer };
  },
  parties: [
    {
      name: "W",
      run({ shared }) {
        const a = words(shared);
        Atomics.wait(a, Y, 0, 10);
        Atomics.store(a, F, 1);
      },
    },
    spinner("S1"),
    spinner("S2"),
  ],
});
