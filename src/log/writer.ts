/**
 * The single writer of a log.
 *
 * Hot path: `reserve()` positions the writer's flyweight on the next slot and
 * `commit()` publishes every reserved slot with one compare-and-swap of the
 * head segment's count. Nothing on that path allocates. When the head fills,
 * the next `reserve()` rolls to a recycled segment: it publishes the eviction
 * of the oldest segment, then picks a segment no snapshot pins.
 *
 * Protocol "publication": record bytes are written with plain stores, then
 * the count is published with one atomic read-modify-write; a reader loads the
 * count, then reads only slots below it. Invariant: a reader never sees a slot
 * before its bytes are complete, and a published slot never changes while its
 * segment is in the window or pinned.
 *
 * Protocol "fencing": the count is published by compare-and-swap from the
 * value this writer last published. A forced takeover (writer-takeover.ts)
 * seals the head's count first, so a writer whose claim was taken fails its
 * next commit, roll or release and publishes nothing; a roll also
 * compare-and-swaps the claim itself (claim.ts). Invariant: after a takeover,
 * no record is published by the writer it replaced.
 *
 * All writer state that matters to others is in shared memory, so a writer
 * released in one worker can be claimed again in any other and continues the
 * same sequence.
 */
import type { RecordCodec } from "../records/codec.ts";
import { COUNT_CLOSED, COUNT_MASK, H, countIndex } from "../shared/control.ts";
import { AtomicLogError, FingerprintMismatchError, InvalidOptionError, SequenceOverflowError, WriterReleasedError } from "../errors.ts";
import type { AtomicLog } from "./log.ts";
import type { LogState } from "./log-state.ts";
import { isPinned } from "../shared/pins.ts";
import { INSPECT, type RecordView, label } from "../records/record-view.ts";
import { RecordSpan } from "./span.ts";
import { beginRoll, endRoll, holdsClaim, releaseClaim } from "../shared/claim.ts";
import { WindowState, readWindow, writeWindow } from "../shared/window.ts";
import { publishOverMark, wakeIfMarked } from "../shared/wake.ts";
import { acknowledgeTakeover, freeQuarantine, quarantinedPhys, takeOverHead } from "./writer-takeover.ts";

/** Held by the finalizer: enough to give the claim back if a writer is dropped unreleased. */
interface ClaimLease {
  ctl: Int32Array;
  tag: number;
  nonce: number;
}

const writerFinalizer = new FinalizationRegistry<ClaimLease>((lease) => {
  releaseClaim(lease.ctl, lease.tag, lease.nonce);
});

/** A value no segment count word ever holds (counts are below 2^24; sealed ones are near -2^31). */
const NOT_A_COUNT = -1;
/** roll()'s `final` for a head that is already closed (adopted from a writer that died mid-roll). */
const ALREADY_CLOSED = -2;

/** The exclusive append handle of a log. Obtain one from `AtomicLog.newClaimed` or `log.tryClaimWriter()`. */
export class Writer<V extends RecordView, D> implements Disposable {
  private readonly state: LogState<V, D>;
  private readonly owner: AtomicLog<V, D>;
  private readonly ctl: Int32Array;
  private readonly codec: RecordCodec<V, D>;
  private readonly lease: ClaimLease;
  private readonly view: V;
  /** A one-record private buffer: records are checked here before a roll, so a rejected record changes nothing. */
  private readonly scratch: V;
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
  /** A takeover's complete copy of the head left mapped by a dead force-claimer (-1: none); set by adoption. */
  private pendingCopy = -1;
  /** Whether the claim was taken over (rather than released): reported by every later call. */
  private takenOver = false;
  private next = 0;
  /** The count this writer last published in the head (what its compare-and-swap expects). */
  private published = 0;
  private limit = 0;
  private segBase = 0;
  private countAt = 0;
  private headSeq = 0;
  private headPhys = 0;
  private oldest = 0;
  /** The adopted head was closed (COUNT_CLOSED) by a writer that died before leaving it. */
  private headClosed = false;
  /** When an interval sync is next due (performance.now() ms); +Infinity without an interval policy. */
  private syncDueAt = Number.POSITIVE_INFINITY;
  private syncTimer: ReturnType<typeof setInterval> | null = null;

  /** @internal Use `log.tryClaimWriter()`. `takeover` when the claim was forced from a writer that may still run. */
  constructor(owner: AtomicLog<V, D>, state: LogState<V, D>, tag: number, nonce: number, takeover = false) {
    this.owner = owner;
    this.state = state;
    this.ctl = state.ctl;
    this.codec = state.codec;
    this.segCap = state.segmentCapacity;
    this.recBytes = state.recordBytes;
    this.view = state.codec.view();
    this.view._owner = this;
    this.scratch = state.codec.view(new ArrayBuffer(state.recordBytes));
    this.span = new RecordSpan(this.view, this.recBytes, this);
    this.lease = { ctl: state.ctl, tag, nonce };
    writerFinalizer.register(this, this.lease, this);
    const sealed = this.adoptSharedState();
    if (takeover || sealed) {
      // Like a roll, under the claim's rolling bit: if this claim was itself taken
      // meanwhile (it is not ours to complete), stop before changing anything.
      if (!beginRoll(state.ctl, tag, nonce)) this.fenced();
      // A force-claimer that died between F6 and F7 left a complete copy mapped: use it.
      const copy = this.pendingCopy >= 0 ? this.pendingCopy : this.takeFree(-1, -1);
      const count = takeOverHead(state, this.oldest, this.headSeq, this.headPhys, copy, this.pendingCopy >= 0);
      this.setHead(this.headSeq, copy);
      this.next = this.published = count;
      if (!endRoll(state.ctl, tag)) this.fenced();
    } else if (!holdsClaim(state.ctl, tag, nonce)) {
      // The state above must have been read while this claim held: a takeover after
      // this check seals the very head read above, so this writer can never publish
      // into the segment its successor writes (found by test/interleave/takeover.test.ts).
      this.fenced();
    } else if (this.headClosed) {
      // The last writer closed its head (skipTo, a time boundary) and died before leaving it:
      // finish that roll, so this writer appends after the gap, never into a closed segment.
      this.roll(ALREADY_CLOSED);
    }
    this.startSyncPolicy();
    this.startTimeWindows();
  }

  /**
   * Rebuilds local bookkeeping from shared memory, so any worker can continue
   * where the last writer stopped (or died, even mid-roll). Returns whether
   * the head is sealed: a forced takeover began and must be completed.
   */
  private adoptSharedState(): boolean {
    const st = this.state;
    const win = readWindow(this.ctl, new WindowState());
    this.oldest = win.oldest;
    this.setHead(win.head, win.headPhys);
    const raw = Atomics.load(this.ctl, this.countAt);
    this.next = this.published = raw & COUNT_MASK;
    this.headClosed = raw >= 0 && (raw & COUNT_CLOSED) !== 0;
    const quarantined = quarantinedPhys(this.ctl);
    // The window's segments: the directory's up to the head, and the window's own head (the
    // directory can name another segment for the head: a takeover's copy whose window flip,
    // F7, never happened because its force-claimer died; found by review).
    const inWindow = new Set<number>();
    for (let s = win.oldest; s < win.head; s++) inWindow.add(st.physOf(s));
    inWindow.add(win.headPhys);
    const mapped = st.physOf(win.head);
    this.pendingCopy = mapped !== win.headPhys && raw < 0 && !inWindow.has(mapped) ? mapped : -1;
    const used: number[] = [];
    for (let p = st.poolSegments - 1; p >= 0; p--) {
      if (inWindow.has(p) || p === quarantined || p === this.pendingCopy) continue;
      // Free: never used; or holding a sequence from the window's oldest on but mapped by
      // neither the directory nor the window: prepared by a writer that died mid-roll before
      // its window flip, or a copy of a force-claimer that died before mapping it. Readers
      // reach segments only through those two, so nobody can be reading it, and keeping it
      // retired for a window cost the writer its free segment (found by review).
      // Retired: everything evicted (sequence before the oldest), freed once unpinned.
      if (st.generationOf(p) === 0 || st.seqOf(p) >= win.oldest) this.free.push(p);
      else used.push(p);
    }
    // Oldest first, so reclaim hands back the most recently evicted (cache-warm) segment last.
    used.sort((a, b) => st.seqOf(a) - st.seqOf(b));
    for (const phys of used) {
      this.retired.push(phys);
      this.retiredSeq.push(st.seqOf(phys));
    }
    return raw < 0 || Atomics.load(this.ctl, H.QUARANTINE_PHYS) === -1;
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
   * @throws {WriterReleasedError} after {@link release}, or once the claim was taken over.
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
    if (this.released) throw new WriterReleasedError(this.takenOver);
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
   * lap a gated cursor. Never waits. A record that fails its checks throws,
   * gate or not, and changes nothing.
   */
  tryAppend(data: D): boolean {
    if (this.next === this.limit && !this.rollFor(data, true)) return false;
    const view = this.reserve();
    this.next--;
    this.codec.write(view, data);
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
   * @throws {WriterReleasedError} after {@link release}, or once the claim was taken over.
   * @throws {InvalidOptionError} if `count` is not a positive integer.
   */
  reserveMany(count: number): RecordSpan<V> {
    if (!Number.isInteger(count) || count < 1) throw new InvalidOptionError("count", count, "a positive integer");
    if (this.released) throw new WriterReleasedError(this.takenOver);
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

  /**
   * Publishes every record reserved so far. One compare-and-swap, however many records.
   * @throws {WriterReleasedError} after {@link release}, or if the claim was taken over (then nothing is published).
   */
  commit(): void {
    const next = this.next;
    const expected = this.published;
    // A released writer's `published` is a value no count word holds, so this one
    // compare-and-swap is also the released check (one load less per record).
    if (Atomics.compareExchange(this.ctl, this.countAt, expected, next) !== expected) this.commitRefused(next);
    this.published = next;
  }

  /** The publication failed: a parked reader marked the word (publish and wake), or the claim was taken. */
  private commitRefused(next: number): void {
    if (this.released) throw new WriterReleasedError(this.takenOver);
    if (!publishOverMark(this.ctl, this.countAt, this.published, next, this.state.bell, this.state.doorbells)) this.fenced();
  }

  /** The claim was taken over: stop for good, tell the takeover, publish nothing. */
  private fenced(): never {
    this.stop();
    this.takenOver = true;
    acknowledgeTakeover(this.ctl, this.lease.nonce);
    throw new WriterReleasedError(true);
  }

  private stop(): void {
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    this.syncTimer = null;
    if (this.windowTimer !== null) clearInterval(this.windowTimer);
    this.windowTimer = null;
    this.released = true;
    this.published = NOT_A_COUNT; // fails commit()'s compare-and-swap
    this.limit = this.next; // routes the next reserve() to the slow path, which throws
    writerFinalizer.unregister(this);
  }

  /**
   * Appends one record from a plain object, checked field by field, and publishes it.
   * A record that fails its checks changes nothing: not even a full head is rolled.
   * @throws {RecordFieldError} for a missing field or a wrong type (nothing is appended).
   * @throws {FieldRangeError} for a value that does not fit (nothing is appended).
   * @throws {WriterReleasedError} after {@link release}, or once the claim was taken over.
   */
  append(data: D): void {
    if (this.next === this.limit) this.rollFor(data);
    const view = this.reserve();
    // Un-reserved while `write` checks the data, so a failed check leaves nothing to undo.
    // Kept flat (no helper, no try/catch): a deeper call chain fell out of the JIT's inlining.
    this.next--;
    this.codec.write(view, data);
    this.next++;
    this.commit();
  }

  /**
   * The head is full (or the writer released): check `data` in private memory,
   * then roll; with `respectGates`, return false instead when a gated cursor
   * would be lapped. A rejected record therefore never rolls.
   */
  private rollFor(data: D, respectGates = false): boolean {
    if (this.released) throw new WriterReleasedError(this.takenOver);
    this.codec.write(this.scratch, data);
    if (respectGates && this.lapsGate()) return false;
    this.roll();
    return true;
  }

  /** Publishes `count` in the head: over the last published count, or over a parked reader's mark (then waking it). */
  private tryPublish(count: number): boolean {
    const expected = this.published;
    return (
      Atomics.compareExchange(this.ctl, this.countAt, expected, count) === expected ||
      publishOverMark(this.ctl, this.countAt, expected, count, this.state.bell, this.state.doorbells)
    );
  }

  /**
   * Appends every record of `records` and publishes them together (and at
   * each segment boundary). If a record fails its checks, or the iterable
   * itself throws, the records before it are published, it and the rest are
   * not, and the error is rethrown.
   * @returns the number of records appended.
   */
  /**
   * Appends records given as raw bytes in this log's record layout, as a
   * replica receives them from its source (`chunk`/`span` bytes, or a bridge
   * message): `bytes.byteLength` must be a whole number of records, and
   * `fingerprint` the layout they were written in. The bytes are copied (they
   * are not checked field by field: they come from a log of the same layout)
   * and published per segment run; on an error nothing is appended.
   * @returns the number of records appended.
   * @throws {FingerprintMismatchError} if `fingerprint` is not this log's record layout.
   * @throws {InvalidOptionError} if `bytes` is not a Uint8Array of a whole number of records.
   * @throws {WriterReleasedError} after {@link release}, or once the claim was taken over.
   */
  appendRaw(bytes: Uint8Array, fingerprint: string): number {
    if (this.released) throw new WriterReleasedError(this.takenOver);
    const codec = this.codec;
    if (fingerprint !== codec.fingerprint) {
      throw new FingerprintMismatchError({ name: codec.name, fingerprint: codec.fingerprint }, { name: "(raw records)", fingerprint: String(fingerprint) });
    }
    const rec = this.recBytes;
    if (!(bytes instanceof Uint8Array) || bytes.byteLength % rec !== 0) {
      throw new InvalidOptionError("bytes", bytes, `a Uint8Array of a whole number of ${rec}-byte ${codec.name} records`);
    }
    const n = bytes.byteLength / rec;
    let done = 0;
    while (done < n) {
      if (this.next === this.limit) this.roll();
      const run = Math.min(n - done, this.limit - this.next);
      const at = this.segBase + this.next * rec;
      this.view._slab.u8.set(bytes.subarray(done * rec, (done + run) * rec), at);
      this.next += run;
      done += run;
      this.commit();
    }
    return n;
  }

  appendBatch(records: Iterable<D>): number {
    if (this.released) throw new WriterReleasedError(this.takenOver);
    const codec = this.codec;
    let n = 0;
    try {
      if (Array.isArray(records)) {
        // Arrays (the common case) skip the iterator and reserve(): records are checked
        // and stored straight into the head's slots, and `next` advances once per segment
        // run. A record that fails its checks throws before `next` covers its slot.
        const list = records as readonly D[];
        const view = this.view;
        const rec = this.recBytes;
        while (n < list.length) {
          if (this.next === this.limit) this.rollFor(list[n]!);
          const start = this.next;
          const run = Math.min(list.length - n, this.limit - start);
          let offset = this.segBase + start * rec;
          for (let k = 0; k < run; k++, offset += rec) {
            view.byteOffset = offset;
            codec.write(view, list[n + k]!);
            this.next = start + k + 1;
          }
          n += run;
        }
      } else {
        for (const data of records) {
          if (this.next === this.limit) this.rollFor(data);
          const view = this.reserve();
          this.next--;
          codec.write(view, data);
          this.next++;
          n++;
        }
      }
    } catch (error) {
      // Whatever stopped the loop, publish the prefix now rather than leave it for an unrelated
      // commit; if that finds the claim taken over, the error that stopped the loop still wins.
      if (!this.released) {
        try {
          this.commit();
        } catch {
          // fenced: the prefix is not published, and the caller learns why from the next call
        }
      }
      throw error;
    }
    this.commit();
    return n;
  }

  /**
   * Durable logs: makes every published record durable now (checksums the
   * head's published prefix, flushes the dirtied segment files and the control
   * file to disk, then advances `log.syncedSequence`). Records reserved but not
   * committed are not included: commit first. On a log in memory it does
   * nothing. Blocks for as long as the flush takes (12–55 ms per 64 MiB
   * dirtied, measured here): on this thread, or, under the interval policy,
   * waiting for the log's syncer worker, which does every flush of that policy.
   * @returns the sequence below which every record is durable.
   * @throws {WriterReleasedError} after {@link release}.
   */
  sync(): number {
    const durable = this.state.durable;
    if (durable === null) {
      if (this.released) throw new WriterReleasedError(this.takenOver);
      return this.headSeq * this.segCap + this.published;
    }
    if (this.released && this.published === NOT_A_COUNT) throw new WriterReleasedError(this.takenOver);
    const synced = durable.sync(this.headPhys, this.headSeq, this.published, this.segCap);
    if (typeof durable.policy === "object") this.syncDueAt = performance.now() + durable.policy.intervalMs;
    return synced;
  }

  /**
   * Durable logs with `retentionMs`: evicts, oldest first, the sealed
   * segments whose last record was appended more than `retentionMs` ago (the
   * writer also does this at every segment roll). Evicted segments leave the
   * window at once; their files are reused for new segments once no snapshot
   * or cursor pins them, and never truncated or deleted (a mapped file that
   * shrinks kills every process mapping it). The head is never evicted: it
   * holds the newest records.
   * @param now - the current time in ms since the epoch (default `Date.now()`).
   * @returns the segments and records that left the window, and the new oldest sequence.
   * @throws {WriterReleasedError} after {@link release}, or once the claim was taken over.
   */
  cleanup(now = Date.now()): { expiredSegments: number; expiredRecords: number; oldestSequence: number } {
    if (this.released) throw new WriterReleasedError(this.takenOver);
    const age = this.state.durable?.retentionMs ?? 0;
    let expired = 0;
    if (age > 0) {
      if (!beginRoll(this.ctl, this.lease.tag, this.lease.nonce)) this.fenced();
      expired = this.expire(now - age);
      if (!endRoll(this.ctl, this.lease.tag)) this.fenced();
    }
    return { expiredSegments: expired, expiredRecords: expired * this.segCap, oldestSequence: this.oldest * this.segCap };
  }

  /**
   * Evicts sealed segments sealed before `cutoff` (ms since the epoch), under
   * the claim's rolling bit. Each eviction is published before its segment can
   * be reused, as a roll's is (pins.ts): the segment is retired, and freed by
   * reclaim() only once no pin covers it.
   */
  private expire(cutoff: number): number {
    const st = this.state;
    const store = st.store as { sealedAt?(phys: number): number };
    let n = 0;
    while (this.oldest < this.headSeq) {
      const phys = st.physOf(this.oldest);
      const sealed = store.sealedAt?.(phys) ?? 0;
      if (sealed === 0 || sealed > cutoff) break;
      this.oldest += 1;
      writeWindow(this.ctl, this.oldest, this.headSeq, this.headPhys);
      this.retired.push(phys);
      this.retiredSeq.push(this.oldest - 1);
      n++;
    }
    return n;
  }

  /** Interval policy: checksum the head here, flush on the syncer. */
  private requestSync(): void {
    const durable = this.state.durable!;
    if (durable.syncer === null) {
      this.sync(); // a writer in a worker of a process without a syncer: sync here
      return;
    }
    durable.requestSync(this.headPhys, this.headSeq, this.published, this.segCap);
    if (typeof durable.policy === "object") this.syncDueAt = performance.now() + durable.policy.intervalMs;
  }

  /** End of the current head's time window (ms since the epoch); +Infinity without time-aligned segments. */
  private windowEnd = Number.POSITIVE_INFINITY;
  private windowTimer: ReturnType<typeof setInterval> | null = null;

  /** Time-aligned segments (durable `segmentDurationMs`): a timer, a check every 1024 commits, and one at every roll. */
  private startTimeWindows(): void {
    const duration = this.state.durable?.segmentDurationMs ?? 0;
    if (!(duration > 0)) return;
    this.windowEnd = (Math.floor(Date.now() / duration) + 1) * duration;
    this.windowTimer = setInterval(() => {
      if (!this.released) this.checkWindow(duration);
    }, Math.max(1, Math.min(duration, 1000)));
    (this.windowTimer as { unref?: () => void }).unref?.();
    // Only writers of such logs get the counting wrapper: the memory hot path stays one CAS.
    const commit = this.commit;
    let countdown = 1024;
    this.commit = () => {
      commit.call(this);
      if (--countdown === 0) {
        countdown = 1024;
        this.checkWindow(duration);
      }
    };
  }

  /** Closes the head if its time window has ended and it holds records; an empty head takes the current window. */
  private checkWindow(duration: number): void {
    const now = Date.now();
    if (now < this.windowEnd) return;
    if (this.next > 0) this.closeSegment(); // the roll starts the new head's window
    else this.windowEnd = (Math.floor(now / duration) + 1) * duration;
  }

  /** Sets up the durable log's sync policy for this writer (constructor). */
  private startSyncPolicy(): void {
    const policy = this.state.durable?.policy;
    if (policy === undefined || policy === "none") return;
    if (policy === "everyCommit") {
      // Only writers of such logs get the wrapper: the memory hot path stays one CAS.
      const commit = this.commit;
      this.commit = () => {
        commit.call(this);
        this.sync();
      };
      return;
    }
    this.syncDueAt = performance.now() + policy.intervalMs;
    let lastRequested = -1;
    // While the writer's thread is idle, a timer asks for a sync; a busy writer asks at rolls.
    // The flush itself runs on the syncer worker (syncer.ts), never on this thread.
    this.syncTimer = setInterval(() => {
      if (this.released) return;
      const next = this.headSeq * this.segCap + this.published;
      if (next !== lastRequested) {
        lastRequested = next;
        this.requestSync();
      }
    }, policy.intervalMs);
    (this.syncTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Continues at `sequence`, leaving the sequences from {@link nextSequence}
   * up to it unwritten: a gap that cursors skip and count as lost, and that
   * snapshots simply do not contain (their `length` counts records, so it is
   * less than `endSequence - startSequence` across a gap). Records reserved
   * but not committed are published first. A gap ends at a segment boundary:
   * `sequence` must be the next sequence (then this only commits) or a
   * multiple of `segmentCapacity`. The head is closed early (its unused slots
   * are never used); a jump of more than a window leaves the old window
   * entirely. Used by replicas to mirror a source's gaps, and by
   * time-aligned segments.
   * @throws {InvalidOptionError} if `sequence` is below the next sequence, or neither the next sequence nor a segment boundary.
   * @throws {WriterReleasedError} after {@link release}, or once the claim was taken over.
   * @throws {SequenceOverflowError} past 2^53 - 1.
   */
  skipTo(sequence: number): void {
    if (this.released) throw new WriterReleasedError(this.takenOver);
    const S = this.segCap;
    const next = this.headSeq * S + this.next;
    if (typeof sequence !== "number" || !Number.isSafeInteger(sequence) || sequence < next) {
      throw new InvalidOptionError("sequence", sequence, `an integer >= the next sequence (${next})`);
    }
    if (sequence === next) {
      this.commit();
      return;
    }
    if (sequence % S !== 0) {
      throw new InvalidOptionError("sequence", sequence, `the next sequence (${next}) or a multiple of segmentCapacity (${S}): a gap ends at a segment boundary`);
    }
    const target = sequence / S;
    const final = this.next === S ? S : this.next | COUNT_CLOSED;
    this.roll(final, target - this.headSeq > this.state.retainedSegments + 1 ? target : this.headSeq + 1);
    // Segments between are empty and closed, so the window keeps the records before the gap.
    while (this.headSeq < target) this.roll(COUNT_CLOSED, this.headSeq + 1);
  }

  /**
   * Closes the head early if it holds records, so the next record starts a
   * new segment (time-aligned segments). The head's unused sequences become a
   * gap, as with {@link skipTo}.
   * @returns whether the head was closed.
   */
  closeSegment(): boolean {
    if (this.released) throw new WriterReleasedError(this.takenOver);
    if (this.next === 0) return false;
    this.skipTo((this.headSeq + 1) * this.segCap);
    return true;
  }

  /** Sequence number the next appended record will get. */
  get nextSequence(): number {
    return this.headSeq * this.segCap + this.next;
  }

  /** Whether this writer was released (or fenced by a takeover). */
  get isReleased(): boolean {
    return this.released;
  }

  /** Whether another writer took this one's claim (`forceClaimWriter`/`recoverThread`); then nothing reserved since its last successful commit was published. */
  get wasTakenOver(): boolean {
    return this.takenOver;
  }

  /** Whether this writer still holds the claim (false after a takeover, even before it notices). */
  holdsClaim(): boolean {
    return !this.released && holdsClaim(this.ctl, this.lease.tag, this.lease.nonce);
  }

  /** `console.log(writer)` shows its position and state, not its buffers. */
  [INSPECT](): unknown {
    return label(`Writer<${this.codec.name}>`, { nextSequence: this.nextSequence, released: this.released, takenOver: this.takenOver });
  }

  /** The log this writer appends to. */
  log(): AtomicLog<V, D> {
    return this.owner;
  }

  /**
   * Publishes anything reserved and gives the claim back. The history stays;
   * the next writer continues the same sequence. Idempotent. After a
   * takeover it publishes nothing and returns quietly.
   */
  release(): void {
    if (this.released) return;
    const published = this.tryPublish(this.next);
    // Under a sync policy, a durable log's head is synced now. Under "none" it is left
    // alone: a checksum written without a flush is a second commit-table extension since the
    // last sync once the head rolls (or is released again), and that one overwrites the
    // synced entry of the two; a power loss that then wrote back the header page but not the
    // records lost synced records (found by test/durable/power-loss.test.ts). close() syncs.
    if (published && this.state.durable !== null && this.state.durable.policy !== "none") {
      this.published = this.next;
      this.sync();
    }
    this.stop();
    // Taken over before the publication, or between it and giving the claim back (found
    // by review): either way this writer has stopped, so tell the takeover.
    if (!published || !releaseClaim(this.ctl, this.lease.tag, this.lease.nonce)) {
      this.takenOver = true;
      acknowledgeTakeover(this.ctl, this.lease.nonce);
    }
  }

  /** Same as {@link release}; enables `using writer = ...`. */
  [Symbol.dispose](): void {
    this.release();
  }

  /**
   * Leaves the head for a new one.
   * @param final - the count to publish in the head first: the capacity (a
   *   full segment), `n | COUNT_CLOSED` (closed early: the rest of its
   *   sequences are a gap), or ALREADY_CLOSED (an adopted head that a dead
   *   writer closed but never left).
   * @param nextSeq - the new head: the next segment, or one more than a whole
   *   window ahead (a jump: every segment of the window leaves with it, since
   *   the sequences between were never written).
   */
  private roll(final = this.segCap, nextSeq = this.headSeq + 1): void {
    const st = this.state;
    const ctl = this.ctl;
    const jump = nextSeq > this.headSeq + 1;
    if ((nextSeq + 1) * this.segCap - 1 > Number.MAX_SAFE_INTEGER) {
      throw new SequenceOverflowError(nextSeq * this.segCap);
    }
    // Mark the claim as mid-roll (a forced takeover waits for it), failing if the claim was taken.
    if (!beginRoll(ctl, this.lease.tag, this.lease.nonce)) this.fenced();
    if (final !== ALREADY_CLOSED && (final & COUNT_CLOSED) !== 0) Atomics.add(ctl, H.CLOSED_SEGMENTS, 1);
    if (final !== ALREADY_CLOSED && !this.tryPublish(final)) {
      endRoll(ctl, this.lease.tag);
      this.fenced();
    }
    const oldCountAt = this.countAt;
    const oldHeadSeq = this.headSeq;
    const oldHeadPhys = this.headPhys;
    const count = final === ALREADY_CLOSED ? st.countOf(oldHeadPhys) : final & COUNT_MASK;
    this.published = final;
    // Durable logs: the segment's checksum (one CRC per segment, not per record), an
    // interval sync that is due, and retention by time; memory logs have none.
    if (st.durable !== null) {
      st.store.seal?.(oldHeadPhys, oldHeadSeq, count, count < this.segCap);
      if (this.syncDueAt <= performance.now()) this.requestSync();
      if (st.durable.retentionMs > 0) this.expire(Date.now() - st.durable.retentionMs);
    }
    let evicted = -1;
    if (jump) {
      // Every segment before the head leaves now, the head itself with the flip below; both
      // are published before any pin scan (in takeFree) can free them (pins.ts).
      const from = this.oldest;
      this.oldest = oldHeadSeq;
      writeWindow(ctl, this.oldest, oldHeadSeq, oldHeadPhys);
      for (let seq = from; seq < oldHeadSeq; seq++) {
        this.retired.push(st.physOf(seq));
        this.retiredSeq.push(seq);
      }
    } else if (nextSeq - this.oldest > st.retainedSegments) {
      evicted = st.physOf(this.oldest);
      this.oldest += 1;
      // Publish the eviction before scanning pins: a snapshot either sees its start
      // evicted, or the scan below sees its pin (see pins.ts).
      writeWindow(ctl, this.oldest, this.headSeq, this.headPhys);
    }
    const phys = this.takeFree(evicted, this.oldest - 1);
    st.prepareSegment(phys, nextSeq);
    if (jump) this.oldest = nextSeq;
    writeWindow(ctl, this.oldest, nextSeq, phys);
    // The old head leaves the window only with the flip just published: retire it now.
    if (jump) {
      this.retired.push(oldHeadPhys);
      this.retiredSeq.push(oldHeadSeq);
    }
    this.headClosed = false;
    this.setHead(nextSeq, phys);
    if (this.windowEnd !== Number.POSITIVE_INFINITY) {
      const duration = st.durable!.segmentDurationMs;
      this.windowEnd = (Math.floor(Date.now() / duration) + 1) * duration;
    }
    this.next = 0;
    this.published = 0;
    // W2 (wake.ts): a reader that marked the old head before the window flip is waiting
    // for this new segment.
    wakeIfMarked(ctl, oldCountAt, st.bell, st.doorbells);
    // A false here means a takeover ran out of patience mid-roll; stop before doing more.
    if (!endRoll(ctl, this.lease.tag)) this.fenced();
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
    const phys = this.free.pop();
    if (phys === undefined) {
      // Unreachable while the budget invariant holds (pins.ts); kept as a loud failure rather than a wrong segment.
      throw new AtomicLogError(
        "POOL_EXHAUSTED",
        `every one of the ${this.state.poolSegments} pool segments is in the window or pinned by a snapshot; ` +
          `this is a bug in the pin budget accounting — please report it`,
      );
    }
    return phys;
  }

  /** Moves retired segments that have left the window and that no snapshot pins any more to the free stack. */
  private reclaim(): void {
    this.rollsSinceScan = 0;
    const n = this.state.pins.collect(this.ranges);
    const freed = freeQuarantine(this.state, this.oldest, this.ranges, n);
    if (freed >= 0) this.free.push(freed);
    const retired = this.retired;
    const seqs = this.retiredSeq;
    let kept = 0;
    for (let i = 0; i < retired.length; i++) {
      const seq = seqs[i]!;
      // Retired segments are evicted ones (adoption frees unreachable segments still
      // in the window's range); the sequence test guards that a segment is never
      // freed before it has left the window.
      if (seq >= this.oldest || (n > 0 && isPinned(this.ranges, n, seq))) {
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
