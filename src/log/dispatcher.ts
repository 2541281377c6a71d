/**
 * A dispatcher drains one cursor into several consumers, in order, keeping
 * per-consumer statistics. One consumer throwing does not stop the others or
 * the dispatcher: the error is counted and kept as `lastError`.
 *
 * Gating is opt-in: if any consumer is `gated`, the dispatcher's cursor gates
 * the writer's `tryAppend` so that consumer cannot be lapped (the writer is
 * refused instead; it never waits and never deadlocks).
 */
import type { Cursor, CursorStart } from "./cursor.ts";
import { InvalidOptionError } from "../errors.ts";
import type { AtomicLog } from "./log.ts";
import type { RecordView } from "../records/record-view.ts";

/** A consumer of records. `handle` gets the cursor's flyweight: copy out what you keep. */
export interface Consumer<V> {
  /** Name used in stats. */
  readonly name: string;
  /** Called once per record, in order. */
  handle(view: V, sequence: number): void;
  /** If true, the dispatcher's cursor gates the writer's `tryAppend` (see cursor.ts). */
  readonly gated?: boolean;
}

/** Per-consumer counters. */
export interface ConsumerStats {
  readonly name: string;
  /** Records handled without throwing. */
  records: number;
  /** Records missed because the writer lapped the dispatcher. */
  lost: number;
  /** Records whose handler threw. */
  errors: number;
  /** The most recent error thrown by this consumer. */
  lastError: unknown;
}

/** Options for a {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Where the dispatcher's cursor starts. Default `"latest"`. */
  from?: CursorStart;
}

/** Fans one cursor out to several consumers. */
export class Dispatcher<V extends RecordView, D> implements Disposable {
  /** The cursor being drained. */
  readonly cursor: Cursor<V, D>;
  private readonly consumers: readonly Consumer<V>[];
  private readonly counters: ConsumerStats[];
  private readonly deliver: (view: V, sequence: number) => void;
  private lostSeen = 0;

  constructor(log: AtomicLog<V, D>, consumers: readonly Consumer<V>[], options: DispatcherOptions = {}) {
    if (!Array.isArray(consumers) || consumers.length === 0) {
      throw new InvalidOptionError("consumers", consumers, "a non-empty array of { name, handle }");
    }
    for (const c of consumers) {
      if (c === null || typeof c !== "object" || typeof c.handle !== "function" || typeof c.name !== "string") {
        throw new InvalidOptionError("consumers", c, "objects with a string name and a handle(view, sequence) function");
      }
    }
    this.consumers = consumers;
    this.counters = consumers.map((c) => ({ name: c.name, records: 0, lost: 0, errors: 0, lastError: undefined }));
    this.cursor = log.cursor({ from: options.from ?? "latest", gated: consumers.some((c) => c.gated === true) });
    const list = this.consumers;
    const counters = this.counters;
    const cursor = this.cursor;
    // Built once, so polling allocates nothing per record or per call.
    this.deliver = (view, sequence) => {
      for (let i = 0; i < list.length; i++) {
        // A consumer released the dispatcher: the record is no longer pinned, so nobody else sees it.
        if (cursor.isReleased) return;
        const stats = counters[i]!;
        try {
          list[i]!.handle(view, sequence);
          stats.records++;
        } catch (error) {
          stats.errors++;
          stats.lastError = error;
        }
      }
    };
  }

  /** Delivers up to `max` available records to every consumer; returns how many records it delivered. */
  poll(max = Number.POSITIVE_INFINITY): number {
    const n = this.cursor.poll(this.deliver, max);
    this.syncLost();
    return n;
  }

  /**
   * Adds what the cursor lost since the last look to every consumer. The
   * cursor can also move past a lap or a gap while only looking for records
   * (`ready()`), so stats() looks too.
   */
  private syncLost(): void {
    const lost = this.cursor.lost;
    if (lost !== this.lostSeen) {
      for (const stats of this.counters) stats.lost += lost - this.lostSeen;
      this.lostSeen = lost;
    }
  }

  /**
   * Polls until `signal` aborts or the dispatcher is released, parking on `cursor.ready()` when idle.
   * @param batch - records per poll before yielding to the event loop.
   */
  async run(signal: AbortSignal, batch = 65536): Promise<void> {
    // Ends when aborted, or when the dispatcher is released (by a consumer, say).
    while (!signal.aborted && !this.cursor.isReleased) {
      if (this.poll(batch) === 0) await this.cursor.ready(50);
      else await Promise.resolve();
    }
  }

  /** A copy of the per-consumer counters. */
  stats(): ConsumerStats[] {
    this.syncLost();
    return this.counters.map((c) => ({ ...c }));
  }

  /** Releases the cursor (and its gate). */
  release(): void {
    this.cursor.release();
  }

  /** Same as {@link release}. */
  [Symbol.dispose](): void {
    this.release();
  }
}
