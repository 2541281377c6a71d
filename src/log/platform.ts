/**
 * What differs between the runtimes the log runs on (Bun, Node.js >= 20), kept
 * in one place so the rest of the runtime is the same code everywhere.
 *
 * - Durable logs map files with `Bun.mmap` and call libc through `bun:ffi`:
 *   they need Bun, and say so with a typed error elsewhere instead of a
 *   `ReferenceError: Bun is not defined` from deep inside the store.
 * - A parked `ready()` must keep its thread alive. Node's `Atomics.waitAsync`
 *   registers nothing with the event loop, so a worker whose only pending work
 *   is a parked `ready()` ends silently and a main thread exits with code 13
 *   (unsettled top-level await). Bun keeps its loop alive for a pending
 *   `waitAsync`, but nothing promises that, so every runtime holds a handle:
 *   a setInterval + clearInterval pair measured 0.2 µs per park on Bun 1.4.5
 *   and 0.65–0.83 µs on Node 20, against a 17 µs wake-up.
 */
import { AtomicLogError } from "../errors.ts";

/** Whether this is Bun (the durable mode's only runtime). */
export const isBun: boolean = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/**
 * Throws unless durable logs can work here.
 * @throws {AtomicLogError} with code `"UNSUPPORTED_PLATFORM"` on any runtime but Bun.
 */
export function requireDurableSupport(what: string): void {
  if (isBun) return;
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  throw new AtomicLogError(
    "UNSUPPORTED_PLATFORM",
    `durable logs need Bun (${what}): they map their files with Bun.mmap and lock them through bun:ffi, ` +
      `which ${node === undefined ? "this runtime" : `Node.js ${node}`} does not have. ` +
      "Logs in memory (AtomicLog.create, AtomicLog.newClaimed, AtomicLog.attach) work on every runtime.",
  );
}

/** Parked `ready()` calls in this thread; while there is one, `keepAlive` holds the event loop. */
let parked = 0;
let keepAlive: ReturnType<typeof setInterval> | null = null;

/** Does nothing: the interval exists only to be a ref'd handle. */
function noop(): void {}

/**
 * Holds the event loop open until the matching {@link leaveParked}. One
 * interval serves every parked `ready()` of the thread: a timer per park would
 * add a timer-heap insert and removal to each wake-up.
 */
export function enterParked(): void {
  // 2^30 ms (12 days) fits every runtime's timer range; it fires only to do nothing.
  if (parked++ === 0) keepAlive = setInterval(noop, 2 ** 30);
}

/** Ends one {@link enterParked}; the last one lets the event loop exit again. */
export function leaveParked(): void {
  if (--parked === 0 && keepAlive !== null) {
    clearInterval(keepAlive);
    keepAlive = null;
  }
}
