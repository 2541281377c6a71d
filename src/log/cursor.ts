/**
 * Tailing cursors: for readers that want every record, as long as they keep up.
 *
 * A cursor pins only the segment it is reading, so the views it hands out
 * are stable while a handler runs (zero-copy, never torn). The writer does
 * not wait for cursors: when it laps one, the cursor notices on entering the
 * next segment, skips to the oldest retained record and counts what it
 * missed in {@link Cursor.lost} (Agrona-style, no registration with the writer).
 *
 * `poll()` drains everything available up to `max` in one call
 * (Disruptor-style batching). `ready()` parks on `Atomics.waitAsync`; the
 * writer pays for a notify only while someone is parked.
 */
import { COUNT_CLOSED, COUNT_MASK, COUNT_WAITER, H, countIndex } from "../shared/control.ts";
import { InvalidOptionError, SnapshotBudgetError, SnapshotReleasedError } from "../errors.ts";
import type { AtomicLog } from "./log.ts";
import type { LogState } from "./log-state.ts";
import { PinLease } from "../shared/pin-lease.ts";
import { INSPECT, type RecordView, label } from "../records/record-view.ts";
import { RecordSpan } from "./span.ts";
import { WindowState, readOldest, readWindow } from "../shared/window.ts";
import { wakeParked } from "../shared/wake.ts";
import { enterParked, leaveParked } from "./platform.ts";

/** Where a new cursor starts: the oldest retained record, the next record to be written, or a sequence number. */
export type CursorStart = "oldest" | "latest" | number;

/** Options for `log.cursor()`. */
export interface CursorOptions {
  /** Where to start. Default `"latest"` (only records appended from now on). */
  from?: CursorStart;
  /**
   * Gate the writer: while this cursor has not finished a segment, the
   * writer's `tryReserve`/`tryAppend` refuse to evict it (plain `append`
   * still laps it). For consumers that must not miss a record. Default false.
   */
  gated?: boolean;
}

const cursorFinalizer = new FinalizationRegistry<PinLease>((lease) => lease.release());

/** Checks a `max` argument: a whole number >= 1, or Infinity. */
function checkMax(max: number): void {
  if (!(max >= 1) || (max !== Number.POSITIVE_INFINITY && !Number.isInteger(max))) {
    throw new InvalidOptionError("max", max, "an integer >= 1 (or Infinity)");
  }
}

/** A tailing reader over a log. Not shared between workers: open one per worker. */
export class Cursor<V extends RecordView, D> implements Disposable, AsyncIterable<V> {
  private readonly state: LogState<V, D>;
  private readonly owner: AtomicLog<V, D>;
  private readonly ctl: Int32Array;
  private readonly lease: PinLease;
  private readonly segCap: number;
  private readonly recBytes: number;
  private readonly view: V;
  private readonly win = new WindowState();
  private seg = 0;
  private idx = 0;
  private phys = -1;
  private base = 0;
  private countAt = 0;
  /** Published count of the current segment as last read (tryNext's cache). */
  private known = 0;
  private released = false;
  private readonly span: RecordSpan<V>;
  /** Total records this cursor skipped because the writer lapped it. */
  lost = 0;

  /** @internal Use `log.cursor()`. */
  constructor(owner: AtomicLog<V, D>, state: LogState<V, D>, options: CursorOptions = {}) {
    this.owner = owner;
    this.state = state;
    this.ctl = state.ctl;
    this.segCap = state.segmentCapacity;
    this.recBytes = state.recordBytes;
    this.view = state.codec.view();
    // Views and spans handed out keep the cursor reachable, so the finalizer never unpins under them.
    this.view._owner = this;
    this.span = new RecordSpan(this.view, this.recBytes, this);
    const start = this.startSequence(options.from ?? "latest");
    if (options.gated !== undefined && typeof options.gated !== "boolean") {
      throw new InvalidOptionError("gated", options.gated, "a boolean");
    }
    this.lease = PinLease.acquire(state.ctl, state.pins, state.tagBase);
    if (!this.lease.tryGrow(1, state.budget)) {
      this.lease.release();
      throw new SnapshotBudgetError(1, 0, state.budget);
    }
    this.seg = Math.floor(start / this.segCap);
    this.idx = start - this.seg * this.segCap;
    state.pins.setRange(this.lease.slot, this.seg, this.seg);
    if (options.gated === true) this.lease.gate();
    cursorFinalizer.register(this, this.lease, this);
    this.enter();
  }

  private startSequence(from: CursorStart): number {
    const st = this.state;
    if (from === "oldest") return readWindow(this.ctl, this.win).oldest * this.segCap;
    if (from === "latest") {
      return st.nextSequence(readWindow(this.ctl, this.win));
    }
    if (typeof from !== "number" || !Number.isSafeInteger(from) || from < 0) {
      throw new InvalidOptionError("from", from, '"oldest", "latest" or a non-negative integer sequence');
    }
    return from;
  }

  /** Sequence number of the next record this cursor will deliver. */
  get sequence(): number {
    return this.seg * this.segCap + this.idx;
  }

  /**
   * Makes the cursor's next segment current: pins it, validates the pin, and
   * handles a lap. Returns false if that segment is not published yet.
   */
  private enter(): boolean {
    // A cursor released (say, by its own poll handler) never touches shared memory again.
    if (this.released) return false;
    const st = this.state;
    const S = this.segCap;
    for (;;) {
      let next = this.seg * S + this.idx;
      let seg = Math.floor(next / S);
      const win = readWindow(this.ctl, this.win);
      if (seg > win.head) return false;
      if (seg < win.oldest) {
        this.lost += win.oldest * S - next;
        next = win.oldest * S;
        seg = win.oldest;
      }
      const phys = st.physOf(seg);
      st.pins.setRange(this.lease.slot, seg, seg);
      if (readOldest(this.ctl) > seg) {
        this.seg = seg;
        this.idx = next - seg * S;
        continue; // evicted before the pin took hold: count the lap and retry
      }
      this.seg = seg;
      this.idx = next - seg * S;
      this.phys = phys;
      this.base = st.store.base(phys);
      this.countAt = countIndex(phys);
      this.known = 0;
      this.view._wrapSlab(st.store.slab(phys), this.base);
      return true;
    }
  }

  /**
   * Hands every available record (up to `max`) to `handler(view, sequence)`,
   * in order, and returns how many it delivered. The view is the cursor's
   * flyweight: read what you need inside the handler. If the handler throws,
   * the cursor stays after that record and the error propagates.
   */
  poll(handler: (view: V, sequence: number) => void, max = Number.POSITIVE_INFINITY): number {
    if (this.released) throw new SnapshotReleasedError("cursor");
    checkMax(max);
    const S = this.segCap;
    const view = this.view;
    let delivered = 0;
    for (;;) {
      if (this.phys < 0 && !this.enter()) return delivered;
      const raw = Atomics.load(this.ctl, this.countAt);
      const count = raw & COUNT_MASK;
      let i = this.idx;
      if (i < count) {
        const end = Math.min(count, i + (max - delivered));
        const base = this.base;
        const rec = this.recBytes;
        let seq = this.seg * S + i;
        for (; i < end; i++) {
          view.byteOffset = base + i * rec;
          this.idx = i + 1;
          delivered++;
          handler(view, seq++);
          // Released from inside the handler: the segment is no longer pinned, stop at once.
          if (this.released) return delivered;
        }
        if (delivered >= max) return delivered;
      }
      if (this.idx < S && !this.passGap(raw) && !this.moved(raw)) return delivered;
      this.phys = -1;
    }
  }

  /**
   * Whether the current segment was sealed by a writer takeover and now lives
   * elsewhere (writer-takeover.ts): its first records are intact, the rest
   * continue in the copy the directory now names, so the cursor re-enters.
   */
  private moved(raw: number): boolean {
    return raw < 0 && this.idx >= (raw & COUNT_MASK) && this.state.physOf(this.seg) !== this.phys;
  }

  /**
   * Whether the current segment was closed early by the writer (COUNT_CLOSED:
   * `skipTo`, a time boundary) and the cursor has read all of it. Then its
   * never-written rest is counted as lost and the cursor moves past it. The
   * closed count is final (published with the flag in one compare-and-swap).
   */
  private passGap(raw: number): boolean {
    if (raw < 0 || (raw & COUNT_CLOSED) === 0) return false;
    this.lost += this.segCap - this.idx;
    this.idx = this.segCap;
    return true;
  }

  /**
   * Takes the run of available records in the cursor's current segment (at
   * most `max`) and moves past them: the fastest way to consume. The span
   * stays valid (pinned, stable) until the next call on this cursor; read it
   * with `span.at(i)` or by positioning `span.view` at
   * `span.base + i * span.recordBytes`. `span.length` is 0 when nothing is
   * available. The span object is reused by the next call.
   */
  take(max = Number.POSITIVE_INFINITY): RecordSpan<V> {
    if (this.released) throw new SnapshotReleasedError("cursor");
    checkMax(max);
    const span = this.span;
    for (;;) {
      if (this.phys < 0 && !this.enter()) break;
      const i = this.idx;
      const raw = Atomics.load(this.ctl, this.countAt);
      const count = raw & COUNT_MASK;
      if (i < count) {
        const n = Math.min(count - i, max);
        span.base = this.base + i * this.recBytes;
        span.length = n;
        span.startSequence = this.seg * this.segCap + i;
        this.idx = i + n;
        return span;
      }
      if (i < this.segCap && !this.passGap(raw) && !this.moved(raw)) break;
      this.phys = -1;
    }
    span.length = 0;
    span.startSequence = this.sequence;
    return span;
  }

  /** Moves to the next record and returns the cursor's view on it, or null if there is none yet. */
  tryNext(): V | null {
    if (this.released) throw new SnapshotReleasedError("cursor");
    for (;;) {
      if (this.phys < 0 && !this.enter()) return null;
      const i = this.idx;
      // Reload the published count only when the cached one is used up: one atomic load per run, not per record.
      if (i < this.known) {
        this.idx = i + 1;
        this.view.byteOffset = this.base + i * this.recBytes;
        return this.view;
      }
      const raw = Atomics.load(this.ctl, this.countAt);
      this.known = raw & COUNT_MASK;
      if (i < this.known) continue;
      if (i < this.segCap && !this.passGap(raw) && !this.moved(raw)) return null;
      this.phys = -1;
    }
  }

  /** Whether a record is available now. */
  hasNext(): boolean {
    if (this.released) return false;
    // As tryNext() looks, without taking the record: exact across gaps (segments closed
    // early, even empty ones), where "the writer is past my sequence" is not.
    for (;;) {
      if (this.phys < 0 && !this.enter()) return false;
      const raw = Atomics.load(this.ctl, this.countAt);
      if (this.idx < (raw & COUNT_MASK)) return true;
      if (this.idx < this.segCap && !this.passGap(raw) && !this.moved(raw)) return false;
      this.phys = -1;
    }
  }

  /**
   * Resolves true as soon as a record is available, or false after
   * `timeoutMs` (default: wait indefinitely) or when the cursor is released.
   * Parks on `Atomics.waitAsync` without spinning, and keeps the thread's
   * event loop alive while parked (on Node.js too, where a pending
   * `waitAsync` alone would let the thread exit).
   */
  async ready(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.hasNext()) return true;
    if (!(timeoutMs >= 0)) throw new InvalidOptionError("timeoutMs", timeoutMs, "a number of milliseconds >= 0");
    const bell = this.state.bell;
    const forever = timeoutMs === Number.POSITIVE_INFINITY;
    const deadline = forever ? 0 : performance.now() + timeoutMs;
    for (;;) {
      if (this.released) return false;
      // The wake protocol (R0-R4), with its proof, is in wake.ts.
      const seen = Atomics.load(bell, H.NOTIFY);
      if (this.hasNext()) return true;
      if (!this.markHead()) continue;
      const left = forever ? Number.POSITIVE_INFINITY : deadline - performance.now();
      if (left <= 0) return false;
      // A writer in another process cannot ring this process's bell: re-check every pollMs.
      const poll = this.state.pollMs;
      const slice = poll === null ? (forever ? undefined : left) : Math.min(poll, left);
      const wait = Atomics.waitAsync(bell, H.NOTIFY, seen, slice);
      let outcome: "ok" | "not-equal" | "timed-out";
      if (wait.async) {
        // Node does not count a pending waitAsync as work: without a handle the thread would exit while parked.
        enterParked();
        try {
          outcome = await wait.value;
        } finally {
          leaveParked();
        }
      } else outcome = wait.value;
      if (outcome === "timed-out" && poll === null) return this.hasNext();
    }
  }

  /**
   * R2-R3 of the wake protocol: marks the head segment's count word as waited
   * on, unless a record arrived or the window moved meanwhile (then returns
   * false, and the caller looks again).
   */
  private markHead(): boolean {
    const ctl = this.ctl;
    const win = readWindow(ctl, this.win);
    const at = countIndex(win.headPhys);
    const raw = Atomics.load(ctl, at);
    if (win.head * this.segCap + (raw & COUNT_MASK) > this.sequence) return false;
    if ((raw & COUNT_WAITER) === 0 && Atomics.compareExchange(ctl, at, raw, raw | COUNT_WAITER) !== raw) return false;
    return Atomics.load(ctl, H.WINDOW_VERSION) === win.version;
  }

  /** Yields each record's view as it arrives, waiting without spinning; ends when the cursor is released. */
  async *[Symbol.asyncIterator](): AsyncIterator<V> {
    while (!this.released) {
      const view = this.tryNext();
      if (view !== null) yield view;
      else await this.ready(250);
    }
  }

  /** `console.log(cursor)` shows its position and loss, not its buffers. */
  [INSPECT](): unknown {
    return label(`Cursor<${this.state.codec.name}>`, { sequence: this.sequence, lost: this.lost, released: this.released });
  }

  /** The log this cursor reads. */
  log(): AtomicLog<V, D> {
    return this.owner;
  }

  /** Whether {@link release} was called. */
  get isReleased(): boolean {
    return this.released;
  }

  /**
   * Unpins the cursor's segment and drops its gate. Idempotent. A pending
   * `ready()` resolves false; async iteration ends.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    cursorFinalizer.unregister(this);
    this.lease.release();
    // Wake parked ready() calls (ours and, harmlessly, other cursors' which re-check and park again).
    wakeParked(this.state.bell);
  }

  /** Same as {@link release}. */
  [Symbol.dispose](): void {
    this.release();
  }
}

