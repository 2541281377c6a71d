/**
 * Worker side of the benchmark protocol: every message from the main thread
 * has a `type`; the handler's result is posted back as `{ type: "<type>:done", ...result }`.
 * Any failure is posted as `{ type: "error", message }`, so the main thread
 * fails the phase with a clear message instead of waiting for a reply that
 * never comes.
 */
import { parentPort } from "node:worker_threads";

/** The worker's channel to the main thread: Bun's `self`, or `parentPort` under Node.js (which has no `self` in a worker thread). */
const port: { postMessage(message: unknown): void } = (globalThis as { self?: Worker }).self ?? parentPort!;
/** Installs the message handler on `port`. */
function listen(handler: (data: unknown) => void): void {
  const self = (globalThis as { self?: Worker }).self;
  if (self !== undefined) self.onmessage = (event: MessageEvent) => handler(event.data);
  else parentPort!.on("message", handler);
}

/** A message handler: may post intermediate replies with {@link reply} and returns the final result. */
export type Handler = (msg: any) => object | void | Promise<object | void>;

/** Posts a message to the main thread. */
export function reply(msg: { type: string } & Record<string, unknown>): void {
  port.postMessage(msg);
}

/** Installs `handlers` as this worker's message dispatch. */
export function serve(handlers: Record<string, Handler>): void {
  listen(async (data: unknown) => {
    const msg = data as { type: string };
    try {
      const handler = handlers[msg.type];
      if (handler === undefined) throw new Error(`unknown message type ${JSON.stringify(msg.type)}`);
      const result = await handler(msg);
      port.postMessage({ ...(result ?? {}), type: `${msg.type}:done` });
    } catch (error) {
      const e = error as Error;
      port.postMessage({ type: "error", message: `${e?.message ?? String(error)}\n${e?.stack ?? ""}` });
    }
  });
}
