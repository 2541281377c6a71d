/**
 * Helpers for tests that drive real workers: Bun's web `Worker` under Bun, and
 * `node:worker_threads` under Node.js (the Node phase of `npm test`, where the
 * fixtures are bundled to JavaScript against the compiled dist/: see
 * scripts/node-tests.ts). The fixtures use test/support/worker-scope.ts.
 */
import { join } from "node:path";
import { Worker as NodeWorker } from "node:worker_threads";
import { isBun } from "./runtime.ts";

/** What the tests use of a worker, on either runtime; `AtomicLog.watch` accepts both kinds. */
export interface PortableWorker {
  /** The thread id while the worker runs (Bun reports -1 once it has closed). */
  readonly threadId: number;
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Bun (web) workers. */
  addEventListener?(type: "close", listener: () => void): void;
  /** `node:worker_threads` workers. */
  on?(event: "exit", listener: () => void): unknown;
}

/** A started worker with an inbox of its messages. */
export interface TestWorker {
  readonly worker: PortableWorker;
  /** Resolves with the next message whose `type` matches (rejects on a worker error or after `timeoutMs`). */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  /** Resolves when the worker has closed. */
  readonly closed: Promise<void>;
  /**
   * Calls `listener` synchronously from the worker's own close event (Bun "close",
   * Node "exit"), in registration order with `log.watch(worker)`'s listener,
   * which a promise callback would not be.
   */
  onClose(listener: () => void): void;
}

/**
 * Where the Node phase put the bundled fixtures (scripts/node-tests.ts sets it);
 * unset under Bun, which runs the TypeScript fixtures as they are.
 */
const nodeFixtures = process.env.ATOMIC_LOG_NODE_FIXTURES;

/** Starts `file` (relative to test/workers/fixtures) as a worker and posts `init` to it. */
export function startWorker(file: string, init: unknown): TestWorker {
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
  const receive = (data: { type: string }) => {
    inbox.push(data);
    deliver();
  };
  const fail = (message: string) => {
    failure = new Error(`worker ${file} failed: ${message}`);
    deliver();
  };

  let worker: PortableWorker;
  let onClose: (listener: () => void) => void;
  if (isBun) {
    const web = new Worker(new URL(`../workers/fixtures/${file}`, import.meta.url).href);
    web.addEventListener("message", (e: MessageEvent) => receive(e.data));
    web.addEventListener("error", (e: ErrorEvent) => fail(e.message));
    onClose = (listener) => web.addEventListener("close", listener);
    worker = web;
  } else {
    if (nodeFixtures === undefined) throw new Error("startWorker: ATOMIC_LOG_NODE_FIXTURES is unset (run the Node phase through scripts/node-tests.ts)");
    const node = new NodeWorker(join(nodeFixtures, file.replace(/\.ts$/, ".js")));
    node.on("message", receive);
    node.on("error", (error: Error) => fail(error.message));
    onClose = (listener) => node.on("exit", listener);
    worker = node;
  }
  const closed = new Promise<void>((resolve) => onClose(() => resolve()));
  worker.postMessage(init);
  return {
    worker,
    closed,
    onClose,
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
