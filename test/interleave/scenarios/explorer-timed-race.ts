/**
 * For testing the explorer: a race between A and B, planted, while W waits for A in timed
 * slices (as syncer.ts `requestAndWait` does). A timed waiter must not hide the orders of the
 * others: the explorer must find the race at preemption bound 0. (It once treated switching
 * away from a party in a timed wait as a preemption that changed nothing, and skipped it.)
 *
 * W publishes X and waits for Y; A stores Z = 1, then Y = 1 and notifies; B, if it sees X,
 * stores Z = 2 and S = 1. The planted defect: B's Z = 2 before A's Z = 1 ends with Z = 1, S = 1.
 */
import { ensure, scenario } from "../harness/scenario.ts";

const X = 0;
const Y = 1;
const Z = 2;
const S = 3;
const words = (shared: unknown) => new Int32Array((shared as { buffer: SharedArrayBuffer }).buffer);

export default scenario({
  name: "a race between two parties while a third waits in timed slices",
  setup: () => {
    const buffer = new SharedArrayBuffer(64);
    return { shared: { buffer }, control: buffer };
  },
  parties: [
    {
      name: "W",
      run({ shared }) {
        const a = words(shared);
        Atomics.store(a, X, 1);
        while (Atomics.load(a, Y) === 0) Atomics.wait(a, Y, 0, 100);
      },
    },
    {
      name: "A",
      run({ shared }) {
        const a = words(shared);
        Atomics.store(a, Z, 1);
        Atomics.store(a, Y, 1);
        Atomics.notify(a, Y);
      },
    },
    {
      name: "B",
      run({ shared }) {
        const a = words(shared);
        if (Atomics.load(a, X) === 1) {
          Atomics.store(a, Z, 2);
          Atomics.store(a, S, 1);
        }
      },
    },
  ],
  check({ setup }) {
    const a = new Int32Array(setup.control);
    ensure(!(a[S] === 1 && a[Z] === 1), "B's store was overwritten after B saw X (the planted race)");
  },
});
