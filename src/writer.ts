/**
 * The single writer of a log.
 *
 * Hot path: `reserve()` positions the writer's flyweight on the next slot and
 * `commit()` publishes every reserved slot with one `Atomics.store` of the
 * head segment's count. Nothing on that path allocates. When the head fills,
 * the next `reserve()` rolls to a recycled segment: it publishes the eviction
 * of the oldest segment, then picks a segment no snapshot pins.
 *
 * All writer state that matters to others is in shared memory, so a writer
 * released in one worker can be claimed again in any other and continues the
 * same sequence.
 */
import type { RecordCodec } from "./codec.ts";
import { H, countIndex } from "./control.ts";
import { AtomicLogError, InvalidOptionError, SequenceOverflowError, WriterReleasedError } from "./errors.ts";
import type { AtomicLog } from "./log.ts";
import type { LogState } from "./log-state.ts";
import { isPinned } from "./pins.ts";
import type { RecordView } from "./record-view.ts";
import { RecordSpan } from "./span.ts";
import { holdsClaim, releaseClaim } from "./claim.ts";
import { WindowState, readWindow, writeWindow } from "./window.ts";

/** Held by the finalizer: enough to give the claim back if a writer is dropped unreleased. */
interface ClaimLease {
  ctl: Int32Array;
  token: number;
}

const writerFinalizer = new FinalizationRegistry<ClaimLease>((lease) => {
  releaseClaim(lease.ctl, lease.token);
});

// Bounded retries when every free segment is pinned by a snapshot caught mid-update.
const RECLAIM_RETRIES = 1000;

/** The exclusive append handle of a log. Obtain one from `AtomicLog.newClaimed` or `log.tryClaimWriter()`. */
export class Writer<V extends RecordView, D> implements Disposable {
  private readonly state: LogState<V, D>;
  private readonly owner: AtomicLog<V, D>;
  private readonly ctl: Int32Array;
  private readonly codec: RecordCodec<V, D>;
  private readonly lease: ClaimLease;
  private readonly view: V;
  private readonly segCap: number;
  private readonly recBytes: number;
  private readonly free: number[] = [];
  /** Evicted segments that were pinned when last checked, oldest first, with their sequences (kept locally: no atomics to re-read them). */
  private readonly retired: number[] = [];
  private readonly retiredSeq: number[] = [];
  private readonly ranges: number[] = [];
  private rollsSinceScan = 0;
  private readonly span: RecordSpan<V>;
  private released = false;
  private next = 0;
  private limit = 0;
  private segBase = 0;
  private countAt = 0;
  private headSeq = 0;
  private headPhys = 0;
  private oldest = 0;

  /** @internal Use `log.tryClaimWriter()`. */
  constructor(owner: AtomicLog<V, D>, state: LogState<V, D>, token: number) {
    this.owner = owner;
    this.state = state;
    this.ctl = state.ctl;
    this.codec = state.codec;
    this.segCap = state.segmentCapacity;
    this.recBytes = state.recordBytes;
    this.view = state.codec.view();
    this.span = new RecordSpan(this.view, this.recBytes);
    this.lease = { ctl: state.ctl, token };
    writerFinalizer.register(this, this.lease, this);
    this.adoptSharedState();
  }

  /** Rebuilds local bookkeeping from shared memory, so any worker can continue where the last writer stopped. */
  private adoptSharedState(): void {
    const st = this.state;
    const win = readWindow(this.ctl, new WindowState());
    this.oldest = win.oldest;
    this.setHead(win.head, win.headPhys);
    this.next = st.countOf(win.headPhys);
    const inWindow = new Set<number>();
    for (let s = win.oldest; s <= win.head; s++) inWindow.add(st.physOf(s));
    const used: number[] = [];
    for (let p = st.poolSegments - 1; p >= 0; p--) {
      if (inWindow.has(p)) continue;
      if (st.generationOf(p) === 0) this.free.push(p);
      else used.push(p);
    }
    // Oldest first, so reclaim hands back the most recently evicted (cache-warm) segment last.
    used.sort((a, b) => st.seqOf(a) - st.seqOf(b));
    for (const phys of used) {
      this.retired.push(phys);
      this.retiredSeq.push(st.seqOf(phys));
    }
  }

  private setHead(seq: number, phys: number): void {
    this.headSeq = seq;
    this.headPhys = phys;
    this.countAt = countIndex(phys);
    this.segBase = this.state.store.base(phys);
    this.limit = this.segCap;
    this.view._wrapSlab(this.state.store.slab(phys), this.segBase);
  }

  /**
   * Positions the writer's view on the next free slot and returns it, for the
   * caller to fill field by field. The record becomes visible at the next
   * {@link commit}. The view's setters are unchecked. Reserving past the end
   * of the head segment publishes the full segment and moves to a new one.
   * @throws {WriterReleasedError} after {@link release}.
   */
  reserve(): V {
    const i = this.next;
    // `limit` is the segment capacity, or the current index once released, so the
    // released check costs nothing here: both cases take the slow path.
    if (i === this.limit) return this.reserveSlow();
    this.next = i + 1;
    const view = this.view;
    view.byteOffset = this.segBase + i * this.recBytes;
    return view;
  }

  private reserveSlow(): V {
    if (this.released) throw new WriterReleasedError();
    this.roll();
    return this.reserve();
  }

  /**
   * Like {@link reserve}, but respects gated cursors: returns null instead of
   * evicting a segment that a gated cursor has not finished. Costs nothing
   * extra unless the head is full and a gate exists.
   */
  tryReserve(): V | null {
    if (this.next === this.limit && !this.released && this.lapsGate()) return null;
    return this.reserve();
  }

  /**
   * Like {@link append}, but returns false (appending nothing) when it would
   * lap a gated cursor. Never waits.
   */
  tryAppend(data: D): boolean {
    if (this.tryReserve() === null) return false;
    this.next--;
    this.codec.write(this.view, data);
    this.next++;
    this.commit();
    return true;
  }

  /** Whether the next `tryReserve`/`tryAppend` would succeed (false only when a gated cursor is a whole window behind). */
  canAppend(): boolean {
    return this.released ? false : this.next < this.segCap || !this.lapsGate();
  }

  /** True if rolling now would evict a segment that a gated cursor still needs. */
  private lapsGate(): boolean {
    if (Atomics.load(this.ctl, H.GATES) === 0) return false;
    if (this.headSeq + 1 - this.oldest <= this.state.retainedSegments) return false;
    return this.state.pins.gateNeeds(this.oldest);
  }

  /**
   * Reserves up to `count` consecutive slots in the head segment (at least 1,
   * fewer when the segment has less room) and returns a span over them: the
   * fastest way to write many records. Fill `span.at(0) .. span.at(span.length - 1)`,
   * then {@link commit} once. The span and its view are reused by the next call.
   *
   * ```ts
   * let left = n;
   * while (left > 0) {
   *   const span = writer.reserveMany(left);
   *   for (let i = 0; i < span.length; i++) { const v = span.at(i); v.price = ...; }
   *   left -= span.length;
   * }
   * writer.commit();
   * ```
   * @throws {WriterReleasedError} after {@link release}.
   * @throws {InvalidOptionError} if `count` is not a positive integer.
   */
  reserveMany(count: number): RecordSpan<V> {
    if (!Number.isInteger(count) || count < 1) throw new InvalidOptionError("count", count, "a positive integer");
    if (this.released) throw new WriterReleasedError();
    if (this.next === this.segCap) this.roll();
    const first = this.next;
    const n = Math.min(count, this.segCap - first);
    this.next = first + n;
    const span = this.span;
    span.base = this.segBase + first * this.recBytes;
    span.length = n;
    span.startSequence = this.headSeq * this.segCap + first;
    return span;
  }

  /** Publishes every record reserved so far. One atomic store, however many records. */
  commit(): void {
    if (this.released) throw new WriterReleasedError();
    Atomics.store(this.ctl, this.countAt, this.next);
    if (Atomics.load(this.ctl, H.WAITERS) !== 0) this.wake();
  }

  /** Wakes readers parked in `cursor.ready()`; paid once per parking. */
  private wake(): void {
    Atomics.store(this.ctl, H.WAITERS, 0);
    Atomics.add(this.ctl, H.NOTIFY, 1);
    Atomics.notify(this.ctl, H.NOTIFY);
  }

  /**
   * Appends one record from a plain object, checked field by field, and publishes it.
   * @throws {RecordFieldError} for a missing field or a wrong type (nothing is appended).
   * @throws {FieldRangeError} for a value that does not fit (nothing is appended).
   */
  append(data: D): void {
    this.reserve();
    // Un-reserved while `write` checks the data, so a failed check leaves nothing to undo.
    // Kept flat (no helper, no try/catch): a deeper call chain fell out of the JIT's inlining.
    this.next--;
    this.codec.write(this.view, data);
    this.next++;
    this.commit();
  }

  /**
   * Appends every record of `records` and publishes them together (and at
   * each segment boundary). If a record fails its checks, the records before
   * it are published, it and the rest are not, and the error is rethrown.
   * @returns the number of records appended.
   */
  appendBatch(records: Iterable<D>): number {
    if (this.released) throw new WriterReleasedError();
    const codec = this.codec;
    let n = 0;
    for (const data of records) {
      const view = this.reserve();
      try {
        codec.write(view, data);
      } catch (error) {
        this.next--;
        this.commit();
        throw error;
      }
      n++;
    }
    this.commit();
    return n;
  }

  /** Sequence number the next appended record will get. */
  get nextSequence(): number {
    return this.headSeq * this.segCap + this.next;
  }

  /** Whether this writer still holds the claim. */
  get isReleased(): boolean {
    return this.released;
  }

  /** The log this writer appends to. */
  log(): AtomicLog<V, D> {
    return this.owner;
  }

  /**
   * Publishes anything reserved and gives the claim back. The history stays;
   * the next writer continues the same sequence. Idempotent.
   */
  release(): void {
    if (this.released) return;
    Atomics.store(this.ctl, this.countAt, this.next);
    this.released = true;
    this.limit = this.next; // routes the next reserve() to the slow path, which throws
    writerFinalizer.unregister(this);
    releaseClaim(this.ctl, this.lease.token);
    if (this.ctl[H.WAITERS] !== 0) this.wake();
  }

  /** Same as {@link release}; enables `using writer = ...`. */
  [Symbol.dispose](): void {
    this.release();
  }

  private roll(): void {
    const st = this.state;
    const ctl = this.ctl;
    if (!holdsClaim(ctl, this.lease.token)) {
      // The claim was taken over (forceClaimWriter or recoverThread): stop before touching shared state.
      this.released = true;
      this.limit = this.next;
      writerFinalizer.unregister(this);
      throw new WriterReleasedError();
    }
    Atomics.store(ctl, this.countAt, this.segCap);
    const nextSeq = this.headSeq + 1;
    if ((nextSeq + 1) * this.segCap - 1 > Number.MAX_SAFE_INTEGER) {
      throw new SequenceOverflowError(nextSeq * this.segCap);
    }
    let evicted = -1;
    if (nextSeq - this.oldest > st.retainedSegments) {
      evicted = st.physOf(this.oldest);
      this.oldest += 1;
      // Publish the eviction before scanning pins: a snapshot either sees its start
      // evicted, or the scan below sees its pin (see pins.ts).
      writeWindow(ctl, this.oldest, this.headSeq, this.headPhys);
    }
    const phys = this.takeFree(evicted, this.oldest - 1);
    st.prepareSegment(phys, nextSeq);
    writeWindow(ctl, this.oldest, nextSeq, phys);
    this.setHead(nextSeq, phys);
    this.next = 0;
  }

  /**
   * Picks the segment for the next head. The segment just evicted is the
   * warmest choice and, unless a snapshot pins it, is taken at once: O(pins),
   * independent of how many older segments long-held snapshots keep retired.
   * Those are rescanned only when no free segment is left, or every 64 rolls
   * to return the segments of released snapshots.
   */
  private takeFree(evicted: number, evictedSeq: number): number {
    const st = this.state;
    if (evicted >= 0) {
      const n = st.pins.collect(this.ranges);
      if (n === 0 || !isPinned(this.ranges, n, evictedSeq)) {
        if (++this.rollsSinceScan >= 64 && this.retired.length > 0) this.reclaim();
        return evicted;
      }
      this.retired.push(evicted);
      this.retiredSeq.push(evictedSeq);
    }
    if (this.free.length === 0 || ++this.rollsSinceScan >= 64) this.reclaim();
    for (let tries = 0; this.free.length === 0 && tries < RECLAIM_RETRIES; tries++) this.reclaim();
    const phys = this.free.pop();
    if (phys === undefined) {
      throw new AtomicLogError(
        "POOL_EXHAUSTED",
        `every one of the ${this.state.poolSegments} pool segments is in the window or pinned by a snapshot; ` +
          `this means pins leaked (a reader died holding snapshots) — see "Memory bound" in the README`,
      );
    }
    return phys;
  }

  /** Moves retired segments that no snapshot pins any more to the free stack. */
  private reclaim(): void {
    this.rollsSinceScan = 0;
    const n = this.state.pins.collect(this.ranges);
    const retired = this.retired;
    const seqs = this.retiredSeq;
    let kept = 0;
    for (let i = 0; i < retired.length; i++) {
      const seq = seqs[i]!;
      if (n > 0 && isPinned(this.ranges, n, seq)) {
        retired[kept] = retired[i]!;
        seqs[kept++] = seq;
      } else {
        this.free.push(retired[i]!);
      }
    }
    retired.length = kept;
    seqs.length = kept;
  }
}

