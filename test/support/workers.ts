/** Helpers for tests that drive real Bun workers. */

/** A started worker with an inbox of its messages. */
export interface TestWorker {
  readonly worker: Worker;
  /** Resolves with the next message whose `type` matches (rejects on a worker error or after `timeoutMs`). */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  /** Resolves when the worker has closed. */
  readonly closed: Promise<void>;
}

/** Starts `file` (relative to test/workers/fixtures) as a worker and posts `init` to it. */
export function startWorker(file: string, init: unknown): TestWorker {
  const worker = new Worker(new URL(`../workers/fixtures/${file}`, import.meta.url).href);
  const inbox: { type: string }[] = [];
  const waiters: { type: string; resolve: (m: unknown) => void; reject: (e: unknown) => void }[] = [];
  let failure: unknown;
  const deliver = () => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (failure !== undefined) {
        waiters.splice(i--, 1);
        w.reject(failure);
        continue;
      }
      const at = inbox.findIndex((m) => m.type === w.type);
      if (at >= 0) {
        waiters.splice(i--, 1);
        w.resolve(inbox.splice(at, 1)[0]);
      }
    }
  };
  worker.addEventListener("message", (e: MessageEvent) => {
    inbox.push(e.data);
    deliver();
  });
  worker.addEventListener("error", (e: ErrorEvent) => {
    failure = new Error(`worker ${file} failed: ${e.message}`);
    deliver();
  });
  const closed = new Promise<void>((resolve) => worker.addEventListener("close", () => resolve()));
  worker.postMessage(init);
  return {
    worker,
    closed,
    next<T>(type: string, timeoutMs = 20_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for "${type}" from ${file}`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        deliver();
      });
    },
  };
}
