/**
 * A stable, zero-copy view of the log's window at one moment.
 *
 * Taking a snapshot copies the window's segment map (one integer per
 * segment), reserves pin budget, publishes a pin range and validates it
 * against the window (see pins.ts). From then on the writer will not recycle
 * those segments, so the records a snapshot shows never change while it is
 * held, in any worker. Releasing it (or letting it be garbage-collected)
 * returns its segments and budget.
 *
 * Refresh moves the snapshot to the current window and, unlike the Rust
 * crate, trims its front to that window too, so no snapshot grows without
 * bound. When nothing rolled since the last capture, refresh is two atomic
 * loads.
 */
import { COUNT_MASK, H, countIndex } from "../shared/control.ts";
import { InvalidOptionError, SnapshotBudgetError, SnapshotReleasedError } from "../errors.ts";
import type { AtomicLog } from "./log.ts";
import type { LogState } from "./log-state.ts";
import { PinLease } from "../shared/pin-lease.ts";
import { INSPECT, type RecordView, label } from "../records/record-view.ts";
import type { SegmentStore } from "../store/segment-store.ts";
import { SegmentChunk } from "./chunk.ts";
import { SegmentsIterator } from "./view-iterator.ts";
import { WindowState, readOldest, readWindow } from "../shared/window.ts";

const snapshotFinalizer = new FinalizationRegistry<PinLease>((lease) => lease.release());
/** Captures retried because the writer evicted mid-capture, before keeping a shorter, still consistent window. */
const MAX_RECAPTURES = 16;
const scratch = new WindowState();

/** A stable view of the log's window; iterate it, index it, or walk it per segment. */
export class Snapshot<V extends RecordView, D> implements Iterable<V>, Disposable {
  private readonly state: LogState<V, D>;
  private readonly owner: AtomicLog<V, D>;
  private readonly lease: PinLease;
  private readonly segCap: number;
  private readonly recBytes: number;
  /** Physical segment of each captured segment, oldest first. */
  private segs: Int32Array;
  private segCount = 0;
  private firstSeg = 0;
  private lastCount = 0;
  private lastCountAt = 0;
  /**
   * Record counts of the segments before the last, when one of them was
   * closed early (a gap, COUNT_CLOSED); null when they are all full, the
   * common case, which every index computation below takes first.
   */
  private counts: Int32Array | null = null;
  /** Records in the segments before the last (with `counts`). */
  private countsTotal = 0;
  private windowVersion = -1;
  private released = false;
  private readonly flyweight: V;

  /** @internal Use `log.snapshot()` or `Snapshot.from(log)`. */
  constructor(owner: AtomicLog<V, D>, state: LogState<V, D>) {
    this.owner = owner;
    this.state = state;
    this.segCap = state.segmentCapacity;
    this.recBytes = state.recordBytes;
    this.segs = state.takeMapArray();
    this.flyweight = state.codec.view();
    // The view (from at(), iteration, forEach) keeps the snapshot reachable, and so pinned.
    this.flyweight._owner = this;
    this.lease = PinLease.acquire(state.ctl, state.pins, state.tagBase);
    try {
      this.capture(true);
    } catch (error) {
      this.lease.release();
      state.returnMapArray(this.segs);
      throw error;
    }
    snapshotFinalizer.register(this, this.lease, this);
  }

  /** A fresh snapshot of `log`; the same as `log.snapshot()`. */
  static from<V extends RecordView, D>(log: AtomicLog<V, D>): Snapshot<V, D> {
    return log.snapshot();
  }

  /**
   * Copies and pins the current window. `fresh` for a new snapshot (which the
   * constructor releases if this throws); otherwise a refresh, which must
   * leave the snapshot as it was if it fails before changing anything.
   */
  private capture(fresh: boolean): void {
    const st = this.state;
    const ctl = st.ctl;
    const lease = this.lease;
    for (let attempt = 0; ; attempt++) {
      const win = readWindow(ctl, scratch);
      const head = win.head;
      let oldest = win.oldest;
      let n = head - oldest + 1;
      if (n > lease.reserved && !lease.tryGrow(n - lease.reserved, st.budget)) {
        // First attempt (or a new snapshot): nothing to keep, so fail; a refresh is left as it was.
        if (attempt === 0 || fresh) throw new SnapshotBudgetError(n, lease.available(st.budget) + lease.reserved, st.budget);
        // A retry already moved the pin, so there is no old state to return to: keep the
        // newest segments the reservation covers (still a consistent, recent window).
        oldest = head - lease.reserved + 1;
        n = lease.reserved;
      }
      // The map must be read before the pin is validated: an entry read before a
      // successful validation is known to be current (see pins.ts).
      st.copyMap(oldest, n, this.segs);
      st.pins.setRange(lease.slot, oldest, head);
      const nowOldest = readOldest(ctl);
      if (nowOldest > head) continue; // we were slower than a whole window of rolls; start again
      let skip = 0;
      if (nowOldest > oldest) {
        // The writer evicted while we copied: what is pinned is only part of a window. Take it
        // again, so a snapshot is a whole window as it was at one moment (found by the churn
        // stress test: snapshots shorter than the retention). Under a writer that rolls faster
        // than a capture completes, give up after a few tries and keep the part that is safe:
        // segments before nowOldest may already be recycled; the rest are pinned and mapped.
        if (attempt < MAX_RECAPTURES) continue;
        skip = nowOldest - oldest;
        this.segs.copyWithin(0, skip, n);
        st.pins.setRange(lease.slot, nowOldest, head);
      }
      this.firstSeg = oldest + skip;
      this.segCount = n - skip;
      if (lease.reserved > this.segCount) lease.shrink(lease.reserved - this.segCount);
      this.lastCountAt = countIndex(win.headPhys);
      this.lastCount = Atomics.load(ctl, this.lastCountAt) & COUNT_MASK;
      this.windowVersion = win.version;
      this.loadCounts();
      return;
    }
  }

  /**
   * After a capture: the counts of segments behind the head, if the log ever
   * closed a segment early (H.CLOSED_SEGMENTS, bumped before any closed count
   * is published, so reading 0 after the window means all are full). Plain
   * loads, as in copyMap: each count was final before the window flip that
   * left its segment behind the head, and the segments are pinned.
   */
  private loadCounts(): void {
    this.counts = null;
    const n = this.segCount - 1;
    if (n <= 0 || Atomics.load(this.state.ctl, H.CLOSED_SEGMENTS) === 0) return;
    const ctl = this.state.ctl;
    let total = 0;
    let partial = false;
    const counts = (this.countsBuffer ??= new Int32Array(this.segs.length));
    for (let s = 0; s < n; s++) {
      const c = ctl[countIndex(this.segs[s]!)]! & COUNT_MASK;
      counts[s] = c;
      total += c;
      if (c !== this.segCap) partial = true;
    }
    if (!partial) return;
    this.counts = counts;
    this.countsTotal = total;
  }

  private countsBuffer: Int32Array | null = null;

  /** Records in captured segment `s` (0 = oldest). */
  private countOf(s: number): number {
    if (s === this.segCount - 1) return this.lastCount;
    return this.counts === null ? this.segCap : this.counts[s]!;
  }

  /**
   * Moves the snapshot to the log's current window (trimming its front to
   * the retention window) and returns it. Records seen before a refresh may
   * be gone after it; records inside the new window are stable until the next
   * refresh or release.
   * @throws {SnapshotBudgetError} if the new window needs more pin budget than is free; the snapshot is then unchanged.
   */
  refresh(): this {
    this.check();
    if (Atomics.load(this.state.ctl, H.WINDOW_VERSION) === this.windowVersion) {
      this.lastCount = Atomics.load(this.state.ctl, this.lastCountAt) & COUNT_MASK;
      return this;
    }
    this.capture(false);
    return this;
  }

  private check(): void {
    if (this.released) throw new SnapshotReleasedError();
  }

  /** Number of records in the snapshot. */
  get length(): number {
    this.check();
    if (this.segCount === 0) return 0;
    return (this.counts === null ? (this.segCount - 1) * this.segCap : this.countsTotal) + this.lastCount;
  }

  /** Whether the snapshot holds no records. */
  isEmpty(): boolean {
    return this.length === 0;
  }

  /** Sequence number of the first record (or of the next record to be written, when empty). */
  get startSequence(): number {
    this.check();
    return this.firstSeg * this.segCap;
  }

  /**
   * The sequence the log had reached when the snapshot was taken (or last
   * refreshed): one past the last record, or past a gap the writer skipped
   * after it (see `writer.skipTo`). Across a gap, more than
   * `startSequence + length`.
   */
  get endSequence(): number {
    this.check();
    if (this.segCount === 0) return this.startSequence;
    return (this.firstSeg + this.segCount - 1) * this.segCap + this.lastCount;
  }

  /** Segment sequences covered, oldest first, as `[first, last]`. */
  get segmentRange(): readonly [number, number] {
    this.check();
    return [this.firstSeg, this.firstSeg + this.segCount - 1];
  }

  /**
   * The snapshot's flyweight view positioned on record `index` (0 is the oldest).
   * Each call moves the same view; copy values out or use {@link read} to keep them.
   * @throws {RangeError} if `index` is not an integer in `[0, length)`.
   */
  at(index: number): V {
    const length = this.length;
    if (!Number.isInteger(index) || index < 0 || index >= length) {
      throw new InvalidOptionError("index", index, `an integer in [0, ${length})`);
    }
    const [s, i] = this.locate(index);
    const phys = this.segs[s]!;
    const store = this.state.store;
    return this.flyweight._wrapSlab(store.slab(phys), store.base(phys) + i * this.recBytes);
  }

  /** Captured segment and slot of record `index` (in range). */
  private locate(index: number): [number, number] {
    if (this.counts === null) {
      const s = Math.floor(index / this.segCap);
      return [s, index - s * this.segCap];
    }
    let s = 0;
    while (s < this.segCount - 1 && index >= this.counts[s]!) index -= this.counts[s++]!;
    return [s, index];
  }

  /** Copies record `index` out as a plain object. */
  read(index: number): D {
    return this.state.codec.read(this.at(index));
  }

  /** Sequence number of record `index` (across a gap, not `startSequence + index`). */
  sequenceAt(index: number): number {
    if (this.counts === null) return this.startSequence + index;
    const [s, i] = this.locate(index);
    return (this.firstSeg + s) * this.segCap + i;
  }

  /**
   * Calls `fn(view, sequence)` for every record, oldest first. The fastest
   * flat iteration: no iterator objects, one flyweight repositioned per record.
   */
  forEach(fn: (view: V, sequence: number) => void): void {
    this.check();
    const store = this.state.store;
    const view = this.flyweight;
    const rec = this.recBytes;
    for (let s = 0; s < this.segCount; s++) {
      const phys = this.segs[s]!;
      const count = this.countOf(s);
      let seq = (this.firstSeg + s) * this.segCap;
      const base = store.base(phys);
      const end = base + count * rec;
      view._wrapSlab(store.slab(phys), base);
      for (let offset = base; offset < end; offset += rec) {
        view.byteOffset = offset;
        fn(view, seq++);
      }
    }
  }

  /** Iterates records oldest first, yielding the snapshot's flyweight view. */
  [Symbol.iterator](): Iterator<V> {
    this.check();
    return new SegmentsIterator(this, this.segs, this.segCount, this.lastCount, this.counts, this.segCap, this.recBytes, this.state.store, this.flyweight);
  }

  /** Same as `[Symbol.iterator]()`. */
  iter(): IterableIterator<V> {
    const it = this[Symbol.iterator]();
    return Object.assign(it, { [Symbol.iterator]: () => it }) as IterableIterator<V>;
  }

  /** Per-segment slices, oldest first, each with its segment sequence and records. Empty segments are skipped. */
  chunks(): SegmentChunk<V, D>[] {
    this.check();
    return this.chunkList();
  }

  private chunkList(): SegmentChunk<V, D>[] {
    const out: SegmentChunk<V, D>[] = [];
    const store = this.state.store;
    for (let s = 0; s < this.segCount; s++) {
      const count = this.countOf(s);
      if (count === 0) continue;
      const phys = this.segs[s]!;
      const seq = this.firstSeg + s;
      out.push(new SegmentChunk(this, this.state.codec, store.slab(phys), store.base(phys), count, seq, seq * this.segCap, this.recBytes));
    }
    return out;
  }

  /** Copies every record out as plain objects, oldest first. */
  toArray(): D[] {
    const out: D[] = [];
    const codec = this.state.codec;
    this.forEach((view) => {
      out.push(codec.read(view));
    });
    return out;
  }

  /** `console.log(snapshot)` shows its range, not its buffers. */
  [INSPECT](): unknown {
    if (this.released) return label(`Snapshot<${this.state.codec.name}>`, { released: true });
    return label(`Snapshot<${this.state.codec.name}>`, { startSequence: this.startSequence, endSequence: this.endSequence, length: this.length, segments: this.segCount });
  }

  /** The log this snapshot was taken from. */
  log(): AtomicLog<V, D> {
    return this.owner;
  }

  /** Whether {@link release} was called. */
  get isReleased(): boolean {
    return this.released;
  }

  /** Unpins the snapshot's segments and returns its budget. Idempotent; the snapshot is unusable afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    snapshotFinalizer.unregister(this);
    this.lease.release();
    this.state.returnMapArray(this.segs);
  }

  /** Same as {@link release}; enables `using snap = log.snapshot()`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
