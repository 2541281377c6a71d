/**
 * The few runtime services the in-memory tests need, written once for Bun and
 * Node.js, so the same test files run under `bun test` and, bundled, under
 * `node --test` (scripts/node-tests.ts).
 */

/** Whether the tests run under Bun (else Node.js, in the Node phase of `npm test`). */
export const isBun: boolean = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** Resolves after `ms` milliseconds (`Bun.sleep` on Bun, a timer elsewhere). */
export function sleep(ms: number): Promise<void> {
  if (isBun) return Bun.sleep(ms);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs a full, synchronous garbage collection. On Node.js this needs
 * `--expose-gc` (the Node phase passes it); without it the finalizer tests
 * would wait for a collection that never comes, so say why rather than time out.
 */
export function collectGarbage(): void {
  if (isBun) {
    Bun.gc(true);
    return;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") throw new Error("collectGarbage: run node with --expose-gc");
  gc();
}
