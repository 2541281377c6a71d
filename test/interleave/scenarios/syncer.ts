/**
 * The durable log's syncer (src/store/syncer.ts): a writer thread posts "make
 * everything below S durable" requests behind a sequence lock and waits for
 * one, the syncer thread serves them, and a third thread reads the synced
 * sequence (as `log.syncedSequence` does). The sequences cross 2^32, so a read
 * that mixed the halves of two writes would show a value nobody wrote.
 *
 * The syncer's file flushes are modelled by a store of the target to a
 * "durable" word (the control file's synced sequence); `terminate()` at stop
 * is left out, so the stop request alone must end the syncer's loop.
 *
 * Invariants: every sequence read is one that was written; the syncer flushes
 * only ranges it was asked for, in order; `requestAndWait(S)` returns only once
 * S is durable, and is woken, never saved by its 100 ms slices (strictTimedWaits);
 * a missed request is a wait that never ends (the syncer's wait is untimed); the
 * syncer ends after stop.
 */
import { LogStorageError } from "../../../src/errors.ts";
import { SyncerLink, requestStop, serveRequests, syncerBuffer, syncerWords } from "../../../src/store/syncer.ts";
import { ensure, scenario } from "../harness/scenario.ts";

const TWO_32 = 4294967296;
/** Durable at the start, then the two requests: each crosses 2^32 from the one before. */
const START = TWO_32 - 4;
const FIRST = TWO_32 - 1;
const SECOND = TWO_32 + 3;
/** The scenario's own words after the syncer's: what the modelled flushes made durable, and whether the syncer ended. */
const DURABLE = syncerWords.WORDS;
const ENDED = DURABLE + 1;

function words(shared: unknown): Int32Array {
  return new Int32Array((shared as { buffer: SharedArrayBuffer }).buffer);
}

export default scenario({
  name: "syncer requests and results behind sequence locks",
  pauseWord: syncerWords.PAUSE,
  // requestAndWait waits in 100 ms slices; a wake-up it misses must show, not be saved by a slice.
  strictTimedWaits: true,
  setup: () => {
    const buffer = new SharedArrayBuffer((syncerWords.WORDS + 2) * 4);
    new Int32Array(buffer).set(new Int32Array(syncerBuffer(START)));
    return { shared: { buffer }, control: buffer };
  },
  parties: [
    {
      name: "writer",
      run({ shared }) {
        const w = words(shared);
        const link = new SyncerLink(w.buffer as SharedArrayBuffer);
        link.request(FIRST);
        try {
          link.requestAndWait(SECOND, "<dir>", 5000);
        } catch (error) {
          if (error instanceof LogStorageError) ensure(false, `requestAndWait failed: ${error.message}`);
          throw error;
        }
        const done = link.done();
        ensure(done === SECOND, `requestAndWait returned with done ${done}`);
        ensure(Atomics.load(w, DURABLE) === SECOND - TWO_32, "requestAndWait returned before the flush");
        requestStop(w);
      },
    },
    {
      name: "syncer",
      run({ shared }) {
        const w = words(shared);
        let flushedTo = START;
        serveRequests(w, (synced, target) => {
          ensure(synced === flushedTo, `flushed from ${synced}, but ${flushedTo} was durable`);
          ensure(target === FIRST || target === SECOND, `asked to flush to ${target}, which nobody requested`);
          ensure(target > synced, `flushed backwards, ${synced} to ${target}`);
          flushedTo = target;
          Atomics.store(w, DURABLE, target - TWO_32);
        });
        Atomics.store(w, ENDED, 1);
      },
    },
    {
      name: "monitor",
      run({ shared }) {
        const link = new SyncerLink(words(shared).buffer as SharedArrayBuffer);
        let last = START;
        for (let i = 0; i < 2; i++) {
          const done = link.done();
          ensure(done === START || done === FIRST || done === SECOND, `read synced sequence ${done}, which nobody wrote`);
          ensure(done >= last, `synced sequence went back from ${last} to ${done}`);
          last = done;
        }
      },
    },
  ],
  check({ setup }) {
    const w = words(setup.shared);
    ensure(Atomics.load(w, ENDED) === 1, "the syncer did not end after stop");
    ensure(Atomics.load(w, DURABLE) === SECOND - TWO_32, "the last request was not flushed");
  },
});
