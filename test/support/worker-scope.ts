/**
 * The worker side of test/support/workers.ts: the fixtures talk to the main
 * thread through `scope.onmessage` / `scope.postMessage`, which is the web
 * worker global (`self`) under Bun and an adapter over `node:worker_threads`'
 * `parentPort` under Node.js (which has no `self` in a worker thread).
 */
import { parentPort } from "node:worker_threads";

/** What the fixtures use of a worker's global scope. */
export interface WorkerScope {
  /** Called with each message from the main thread, as `{ data }`. */
  onmessage: ((event: MessageEvent) => unknown) | null;
  /** Sends `message` to the main thread (structured clone; SharedArrayBuffers are shared). */
  postMessage(message: unknown): void;
}

function nodeScope(): WorkerScope {
  const port = parentPort;
  if (port === null) throw new Error("worker-scope: not inside a worker thread");
  let handler: WorkerScope["onmessage"] = null;
  // One listener for the worker's lifetime, like `self.onmessage`: while set, it keeps the worker alive.
  const listener = (data: unknown) => void handler?.({ data } as MessageEvent);
  return {
    get onmessage() {
      return handler;
    },
    set onmessage(fn) {
      if (handler === null && fn !== null) port.on("message", listener);
      else if (handler !== null && fn === null) port.off("message", listener);
      handler = fn;
    },
    postMessage(message: unknown) {
      port.postMessage(message);
    },
  };
}

const web = (globalThis as { self?: WorkerScope }).self;

/** This worker's scope: Bun's `self`, or the `parentPort` adapter on Node.js. */
export const scope: WorkerScope = web !== undefined && typeof web.postMessage === "function" ? web : nodeScope();
