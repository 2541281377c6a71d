/**
 * The harness's own check: a protocol known to be broken must be caught.
 * Two parties increment a shared word with a plain load and store (not an
 * atomic add); under some interleaving one increment is lost. If the
 * explorer ever stops finding this, it has stopped exploring.
 */
import { H } from "../../../src/shared/control.ts";
import { ensure, scenario, type Party } from "../harness/scenario.ts";
import { smallLog } from "./common.ts";

const WORD = H.UNUSED_15;

const incrementer = (name: string): Party => ({
  name,
  run({ shared }) {
    const ctl = new Int32Array((shared as { handle: { control: SharedArrayBuffer } }).handle.control);
    const v = Atomics.load(ctl, WORD);
    Atomics.store(ctl, WORD, v + 1);
  },
});

export default scenario({
  name: "a non-atomic increment (must be caught)",
  setup: () => smallLog(),
  parties: [incrementer("a"), incrementer("b")],
  check({ setup }) {
    const ctl = new Int32Array(setup.control);
    ensure(Atomics.load(ctl, WORD) === 2, `lost update: the word is ${Atomics.load(ctl, WORD)}`);
  },
});
