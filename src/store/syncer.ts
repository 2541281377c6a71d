/**
 * Syncing off the writer's thread, for the `{ intervalMs }` durability policy.
 *
 * `fdatasync` of what a writer dirtied takes milliseconds (12–55 ms per
 * 64 MiB, measured here), far too long to stall a writer for. So the process
 * that opens the log for writing starts one syncer worker; the writer only
 * extends the head's checksum (microseconds) and posts "make everything below
 * S durable". The syncer flushes the files of the segments from the last
 * synced one to S's, then the control file, and only then stores the synced
 * sequence: the same four steps as the synchronous sync (durable-state.ts).
 *
 * Shared words (a SharedArrayBuffer posted to every thread of the process):
 * a request and a result, each a (hi, lo) sequence behind a sequence lock
 * (the writer of each is a single thread at a time: the claimed writer for
 * the request, the syncer for the result), and an error word.
 *
 * Invariants: `syncedSequence` is stored only by the syncer while it runs
 * (one writer of the word), and only after the flushes that make it true;
 * a sequence read behind either lock is one that was written, never halves of
 * two (values cross 2^32); no request is left unserved while the syncer
 * waits; `requestAndWait(S)` returns only once S is durable. Checked under
 * every interleaving by test/interleave/scenarios/syncer.ts.
 */
import { AtomicLogError, LogStorageError } from "../errors.ts";

const REQ_GEN = 0;
const REQ_HI = 1;
const REQ_LO = 2;
const DONE_GEN = 3;
const DONE_HI = 4;
const DONE_LO = 5;
/** 0, or the code (ERRNOS) of the error of the syncer's last failed flush. */
const ERROR = 6;
const ERRNOS = ["", "EIO", "ENOSPC", "ENOENT", "EROFS", "EACCES", "EDQUOT"];
function errorCode(errno: string | undefined): number {
  const at = ERRNOS.indexOf(errno ?? "");
  return at > 0 ? at : 1;
}
const STOP = 7;
/** Never written: the sequence lock's readers load it between tries (a spin-loop hint, as control.ts `pause`). */
const PAUSE = 8;
const WORDS = 9;

const TWO_32 = 4294967296;

/** Writes a sequence behind a sequence lock at `gen` (odd while writing). Single writer. */
function publish(words: Int32Array, gen: number, at: number, value: number): void {
  Atomics.add(words, gen, 1);
  Atomics.store(words, at, Math.floor(value / TWO_32));
  Atomics.store(words, at + 1, value >>> 0);
  Atomics.add(words, gen, 1);
  Atomics.notify(words, gen);
}

/** Reads a sequence behind a sequence lock: a value from one `publish`, never halves of two. */
function read(words: Int32Array, gen: number, at: number): number {
  for (;;) {
    const g1 = Atomics.load(words, gen);
    const value = Atomics.load(words, at) * TWO_32 + (Atomics.load(words, at + 1) >>> 0);
    if ((g1 & 1) === 0 && Atomics.load(words, gen) === g1) return value;
    Atomics.load(words, PAUSE);
  }
}

/**
 * The syncer's loop (syncer-worker.ts), until stopped: waits for a request
 * above what is synced, calls `flush(synced, target)` to make [synced, target)
 * durable, and only then publishes `target` as done. A failed flush publishes
 * its error code and bumps the done generation (waking `requestAndWait`),
 * then waits for a new request or a second before trying again.
 *
 * No request is missed: the loop reads the request generation before it reads
 * the request, and waits only while the generation is unchanged, so a request
 * published after the read ends the wait at once (`Atomics.wait` compares and
 * blocks in one step).
 */
export function serveRequests(words: Int32Array, flush: (synced: number, target: number) => void): void {
  let synced = read(words, DONE_GEN, DONE_HI);
  for (;;) {
    const gen = Atomics.load(words, REQ_GEN);
    if (Atomics.load(words, STOP) !== 0) return;
    const target = read(words, REQ_GEN, REQ_HI);
    if (target <= synced) {
      Atomics.wait(words, REQ_GEN, gen);
      continue;
    }
    try {
      flush(synced, target);
      synced = target;
      publish(words, DONE_GEN, DONE_HI, target);
    } catch (error) {
      const failure = error as { errno?: string; code?: string };
      Atomics.store(words, ERROR, errorCode(failure.errno ?? failure.code));
      Atomics.add(words, DONE_GEN, 2);
      Atomics.notify(words, DONE_GEN);
      Atomics.wait(words, REQ_GEN, gen, 1000);
    }
  }
}

/** A thread's side of the syncer: post requests, and wait for them. */
export class SyncerLink {
  readonly words: Int32Array;
  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  /** Asks the syncer to make every record below `sequence` durable. Returns at once. */
  request(sequence: number): void {
    if (sequence > read(this.words, REQ_GEN, REQ_HI)) publish(this.words, REQ_GEN, REQ_HI, sequence);
  }

  /** The sequence below which the syncer has made everything durable. */
  done(): number {
    return read(this.words, DONE_GEN, DONE_HI);
  }

  /**
   * Requests `sequence` and blocks this thread until the syncer reports it
   * durable (explicit `writer.sync()` under the interval policy).
   * @throws {LogStorageError} if the syncer's flush failed, or it did not answer in `timeoutMs`.
   */
  requestAndWait(sequence: number, dir: string, timeoutMs = 30_000): void {
    this.request(sequence);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const gen = Atomics.load(this.words, DONE_GEN);
      if (this.done() >= sequence) return;
      const failed = Atomics.load(this.words, ERROR);
      if (failed !== 0) throw new LogStorageError(dir, ERRNOS[failed] ?? "EIO", "the syncer could not flush the log to disk");
      const left = deadline - performance.now();
      if (left <= 0) throw new LogStorageError(dir, "ETIMEDOUT", `the syncer did not sync within ${timeoutMs} ms`);
      Atomics.wait(this.words, DONE_GEN, gen, Math.min(left, 100));
    }
  }
}

/** The opener's handle on its syncer worker. */
export class Syncer {
  readonly link: SyncerLink;
  private readonly worker: Worker;

  private constructor(buffer: SharedArrayBuffer, worker: Worker) {
    this.link = new SyncerLink(buffer);
    this.worker = worker;
  }

  /** Starts the syncer of the log in `dir`, whose everything below `synced` is already durable. */
  static start(dir: string, synced: number): Syncer {
    const buffer = syncerBuffer(synced);
    let worker: Worker;
    try {
      worker = new Worker(new URL("./syncer-worker.ts", import.meta.url).href);
    } catch (error) {
      throw new AtomicLogError("LOG_STORAGE", `cannot start the syncer worker: ${(error as Error).message}`);
    }
    worker.postMessage({ dir, buffer });
    (worker as { unref?: () => void }).unref?.();
    return new Syncer(buffer, worker);
  }

  /** Stops the worker (after its current flush). */
  stop(): void {
    requestStop(this.link.words);
    this.worker.terminate();
  }
}

/** The shared words of a new syncer, whose everything below `synced` is already durable. */
export function syncerBuffer(synced: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(WORDS * 4);
  const words = new Int32Array(buffer);
  publish(words, REQ_GEN, REQ_HI, synced);
  publish(words, DONE_GEN, DONE_HI, synced);
  return buffer;
}

/** Asks `serveRequests` to return (after its current flush), waking it if it waits. */
export function requestStop(words: Int32Array): void {
  Atomics.store(words, STOP, 1);
  Atomics.add(words, REQ_GEN, 2); // keeps the generation even: a wake-up, not a request
  Atomics.notify(words, REQ_GEN);
}

/** The words' layout, for the interleaving scenario. */
export const syncerWords = { PAUSE, WORDS } as const;
