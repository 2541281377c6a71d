/**
 * Worker side of the benchmark protocol: every message from the main thread
 * has a `type`; the handler's result is posted back as `{ type: "<type>:done", ...result }`.
 * Any failure is posted as `{ type: "error", message }`, so the main thread
 * fails the phase with a clear message instead of waiting for a reply that
 * never comes.
 */
declare const self: Worker;

/** A message handler: may post intermediate replies with {@link reply} and returns the final result. */
export type Handler = (msg: any) => object | void | Promise<object | void>;

/** Posts a message to the main thread. */
export function reply(msg: { type: string } & Record<string, unknown>): void {
  self.postMessage(msg);
}

/** Installs `handlers` as this worker's message dispatch. */
export function serve(handlers: Record<string, Handler>): void {
  self.onmessage = async (event: MessageEvent) => {
    const msg = event.data as { type: string };
    try {
      const handler = handlers[msg.type];
      if (handler === undefined) throw new Error(`unknown message type ${JSON.stringify(msg.type)}`);
      const result = await handler(msg);
      self.postMessage({ ...(result ?? {}), type: `${msg.type}:done` });
    } catch (error) {
      const e = error as Error;
      self.postMessage({ type: "error", message: `${e?.message ?? String(error)}\n${e?.stack ?? ""}` });
    }
  };
}
