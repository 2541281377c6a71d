/**
 * `AtomicLog`: the read handle of a rolling log, and the factory for writers
 * and snapshots. Any number of `AtomicLog` objects, in any number of workers,
 * can refer to the same shared memory.
 */
import { forceClaim, isClaimed, tryClaim } from "../shared/claim.ts";
import { cancelTakeover, recordFencedWriter, releaseDeadWriter, reserveTakeover } from "./writer-takeover.ts";
import { ownerTag } from "../shared/thread.ts";
import { WriterReleasedError, WriterTakeoverPendingError } from "../errors.ts";
import { INSPECT, label } from "../records/record-view.ts";
import { Cursor, type CursorOptions } from "./cursor.ts";
import { attachState, makeHandle, type LogHandle } from "./handle.ts";
import type { RecordCodec } from "../records/codec.ts";
import { H, loadPair } from "../shared/control.ts";
import { LogState } from "./log-state.ts";
import { type LogOptions, checkOptionNames, resolveOptions } from "./options.ts";
import type { RecordView } from "../records/record-view.ts";
import { Snapshot } from "./snapshot.ts";
import { WindowState, readWindow } from "../shared/window.ts";
import { Writer } from "./writer.ts";
import { InvalidOptionError, LogInUseError } from "../errors.ts";
import { type DurableLogOptions, openDurable } from "../store/durable-open.ts";
import type { DurableRecovery } from "../store/durable-state.ts";
import type { WriterLock } from "../store/writer-lock.ts";
import { type ReapReport, leaveEntry, reapDead } from "../store/process-table.ts";
import { requireDurableSupport } from "./platform.ts";

/** A point-in-time summary of a log, for monitoring. */
export interface LogStats {
  /** Sequence the next record will get. */
  readonly nextSequence: number;
  /** Sequence of the oldest record in the window. */
  readonly oldestSequence: number;
  /** Records in the window. */
  readonly windowLength: number;
  /** Segments in the pool (the memory bound). */
  readonly poolSegments: number;
  /** Pin budget in segments, and how much of it live snapshots hold. */
  readonly snapshotBudget: number;
  readonly snapshotBudgetUsed: number;
  /** Whether a writer holds the claim. */
  readonly writerClaimed: boolean;
  /** Live snapshots and cursors (pin slots taken). */
  readonly pins: number;
  /** Gated cursors: while any exists, `tryAppend` may refuse (see `Cursor` gating). */
  readonly gates: number;
}

/** What {@link AtomicLog.recoverThread} released. */
export interface RecoveryReport {
  /** Whether the dead thread held the writer claim (now free). */
  readonly writerReleased: boolean;
  /** Snapshot and cursor pins released. */
  readonly pinsReleased: number;
  /** Pin budget returned, in segments. */
  readonly segmentsReturned: number;
}

/**
 * The part of a worker that {@link AtomicLog.watch} uses: a Bun (web) `Worker` or a
 * `node:worker_threads` `Worker` fits it as is.
 */
export interface WatchableWorker {
  /** The worker's thread id while it runs (Bun and Node report -1 once it has exited). */
  readonly threadId: number;
  /** Web workers (Bun): `watch` listens for "close". */
  addEventListener?(type: "close", listener: () => void): void;
  /** `node:worker_threads` workers (Node.js, Bun): `watch` listens for "exit". */
  on?(event: "exit", listener: () => void): unknown;
}

/** A rolling log of fixed-width records: one writer, any number of readers. */
export class AtomicLog<V extends RecordView, D> {
  /** @internal */ readonly state: LogState<V, D>;

  /** @internal */
  constructor(state: LogState<V, D>) {
    this.state = state;
  }

  /**
   * Creates a log with no writer; claim one with {@link tryClaimWriter}.
   * @throws {InvalidOptionError} (a RangeError) naming any bad option.
   */
  static create<V extends RecordView, D>(codec: RecordCodec<V, D>, options: LogOptions): AtomicLog<V, D> {
    checkCodec(codec);
    checkOptionNames(options);
    return new AtomicLog(LogState.create(codec, resolveOptions(options, codec.byteLength)));
  }

  /** Creates a log and claims its writer: `const [writer, log] = AtomicLog.newClaimed(Trade, opts)`. */
  static newClaimed<V extends RecordView, D>(codec: RecordCodec<V, D>, options: LogOptions): [Writer<V, D>, AtomicLog<V, D>] {
    const log = AtomicLog.create(codec, options);
    return [log.tryClaimWriter()!, log];
  }

  /**
   * Opens the durable log in directory `dir`, or creates it (with
   * `retainedCapacity` and `segmentCapacity`). Every segment is a
   * preallocated, memory-mapped file; the writer, snapshots, cursors,
   * dispatchers, gating and worker handles are the same as in memory. On open,
   * recovery keeps every record that can be trusted and the writer continues
   * after the last one (`log.recovery` says what it found). The process holds
   * the directory's writer lock until {@link close}; workers attach with the
   * handle as usual and map the files themselves. A directory on a tmpfs
   * (`/dev/shm`) gives a log at memory speed that survives its process.
   * @throws {InvalidOptionError} for bad options, or geometry options that differ from the existing log's.
   * @throws {FingerprintMismatchError} naming both records if the log holds another record.
   * @throws {CorruptLogError} if a file is not a valid log file (wrong magic, version, truncated or garbage header).
   * @throws {LogLockedError} if another process (or another open in this one) has the log open.
   * @throws {LogStorageError} if the directory is missing (with `create: false`), cannot be written, or the disk is full.
   * @throws {AtomicLogError} with code `"UNSUPPORTED_PLATFORM"` on any runtime but Bun (durable logs are Bun-only).
   */
  static open<V extends RecordView, D>(codec: RecordCodec<V, D>, dir: string, options: DurableLogOptions = {}): AtomicLog<V, D> {
    requireDurableSupport("AtomicLog.open");
    checkCodec(codec);
    const opened = openDurable(codec, dir, options);
    const log = new AtomicLog(opened.state);
    const reaper = setInterval(() => log.reapDeadProcesses(), 1000);
    (reaper as { unref?: () => void }).unref?.();
    log.opened = { lock: opened.lock, closed: false, reaper };
    return log;
  }

  /**
   * Durable logs: releases the pins (and writer claim) of processes that died
   * with the log open, returning their snapshot budget. The process that
   * opened the log does this every second, and every open does it first.
   * @returns how many dead processes were found, and the pins released.
   */
  reapDeadProcesses(): ReapReport {
    const durable = this.state.durable;
    if (durable === null || this.opened?.closed) return { processes: 0, pins: 0, writerReleased: false };
    return reapDead(this.state as unknown as LogState<never, never>, durable.header);
  }

  /** A durable log opened (not attached) in this thread: its writer lock (null if read-only), and whether it was closed. */
  private opened: { lock: WriterLock | null; closed: boolean; reaper: ReturnType<typeof setInterval> } | null = null;

  /**
   * Whether this is a durable log (from {@link open}, or attached from one).
   */
  get isDurable(): boolean {
    return this.state.durable !== null;
  }

  /**
   * Durable logs: the time retention in ms (`retentionMs` at open; segments whose last record is
   * older leave at `writer.cleanup()`), or 0 for none. Always 0 for a log in memory.
   */
  get retentionMs(): number {
    return this.state.durable?.retentionMs ?? 0;
  }

  /**
   * Durable logs: the span of a time-aligned segment in ms (`segmentDurationMs` at open: the
   * writer closes its head segment at each multiple), or 0 for none. Always 0 in memory.
   */
  get segmentDurationMs(): number {
    return this.state.durable?.segmentDurationMs ?? 0;
  }

  /**
   * Durable logs: records below this sequence are checksummed and on disk
   * (they survive a power loss). Null for a log in memory.
   */
  get syncedSequence(): number | null {
    return this.state.durable?.syncedSequence ?? null;
  }

  /**
   * Durable logs: the application's own header, 1024 bytes kept in the
   * control file (zeros in a new log), read and written in place; writes reach
   * the disk with the next sync or close. Null for a log in memory.
   */
  get appHeader(): Uint8Array | null {
    return this.state.durable?.appHeader ?? null;
  }

  /** Durable logs, in the thread that opened it: what recovery found at open. Null otherwise. */
  get recovery(): DurableRecovery | null {
    return this.state.durable?.recovery ?? null;
  }

  /**
   * Durable logs, in the thread that opened it: flushes everything to disk,
   * leaves the log's process table and gives the directory's writer lock back,
   * so another process may open it for writing. Release the writer, and every
   * snapshot and cursor of this process (workers included), first: the next
   * writer's process would otherwise be free to recycle what they read.
   * Idempotent; a no-op on a log in memory and in workers that attached.
   * @throws {LogInUseError} if a writer still holds the claim (writable opens), or this process still holds snapshots or cursors.
   */
  close(): void {
    const opened = this.opened;
    if (opened === null || opened.closed) return;
    const st = this.state;
    const durable = st.durable!;
    if (opened.lock !== null && this.isWriterClaimed()) throw new LogInUseError("close", "a writer still holds the claim: release it first");
    if (st.pins.ownersWithin(st.tagBase, st.tagBase + (1 << 16)).length > 0) {
      throw new LogInUseError("close", "snapshots or cursors of this process are still open: release them first");
    }
    if (opened.lock !== null) {
      // No writer exists, so this thread may act as one for the sync protocol: the head's
      // published prefix is checksummed and everything flushed, so the next open is "clean".
      const win = readWindow(st.ctl, new WindowState());
      durable.sync(win.headPhys, win.head, st.countOf(win.headPhys), st.segmentCapacity);
      durable.markClosed();
    }
    this.letGo();
  }

  /**
   * What this process holds of a durable log beyond its memory: the reaper, the syncer and
   * waker threads, its process-table entry and the writer lock. Dropped at the end of close(),
   * and alone (nothing flushed, no pin or claim released) by test/support/durable.ts
   * `simulateCrash`, which plays a process that died.
   */
  private letGo(): void {
    const opened = this.opened!;
    const durable = this.state.durable!;
    clearInterval(opened.reaper);
    durable.syncerProcess?.stop();
    durable.syncerProcess = null;
    durable.syncer = null;
    durable.stopListening?.();
    leaveEntry(durable.header, durable.processSlot);
    opened.lock?.release();
    opened.closed = true;
  }

  /** The log a snapshot or writer belongs to. */
  static from<V extends RecordView, D>(source: Snapshot<V, D> | Writer<V, D>): AtomicLog<V, D> {
    return source.log();
  }

  /** The record codec. */
  get codec(): RecordCodec<V, D> {
    return this.state.codec;
  }

  /** Records the window keeps at least (as configured). */
  get retainedCapacity(): number {
    return this.state.retainedCapacity;
  }

  /** Records per segment. */
  get segmentCapacity(): number {
    return this.state.segmentCapacity;
  }

  /** Full segments kept behind the head: `ceil(retainedCapacity / segmentCapacity)`. */
  get retainedSegments(): number {
    return this.state.retainedSegments;
  }

  /** Total segments allocated: the window (`retainedSegments + 1`), the snapshot budget, and one takeover spare. */
  get poolSegments(): number {
    return this.state.poolSegments;
  }

  /**
   * Claims the writer if nobody holds it. Exactly one of several racing
   * claimers (in any workers) wins.
   * @returns the writer, or null if another writer holds the claim.
   */
  tryClaimWriter(): Writer<V, D> | null {
    this.checkOpen();
    const tag = ownerTag(this.state.tagBase);
    const nonce = tryClaim(this.state.ctl, tag);
    if (nonce === 0) return null;
    try {
      return new Writer(this, this.state, tag, nonce);
    } catch (error) {
      // Force-claimed between our claim and the writer's first check: we never held it usefully.
      if (error instanceof WriterReleasedError) return null;
      throw error;
    }
  }

  /** A durable log closed in this thread takes no writer: another process may have opened it since. */
  private checkOpen(): void {
    if (this.state.durable?.readOnly) throw new LogInUseError("claim a writer of", "it was opened read-only (open it without readOnly, in one process, to write)");
    if (this.opened?.closed) throw new LogInUseError("claim a writer of", "the log was closed");
  }

  /** Whether some writer currently holds the claim. */
  isWriterClaimed(): boolean {
    return isClaimed(this.state.ctl);
  }

  /**
   * Captures a stable snapshot of the current window.
   * @throws {SnapshotBudgetError} if pinning it would exceed the snapshot budget.
   * @throws {TooManySnapshotsError} if `maxSnapshots` snapshots are alive.
   */
  snapshot(): Snapshot<V, D> {
    return new Snapshot(this, this.state);
  }

  /**
   * Opens a tailing cursor in this worker.
   * @throws {InvalidOptionError} for a bad `from` or `gated`.
   * @throws {SnapshotBudgetError} / {TooManySnapshotsError} when no pin slot or budget is left (a cursor pins one segment).
   */
  cursor(options: CursorOptions = {}): Cursor<V, D> {
    return new Cursor(this, this.state, options);
  }

  /**
   * A structured-cloneable handle to post to a worker, where
   * `AtomicLog.attach(codec, handle)` opens the same log, zero-copy.
   */
  handle(): LogHandle {
    return makeHandle(this.state);
  }

  /**
   * Opens, in this worker, the log a handle describes.
   * @throws {InvalidOptionError} (a RangeError, `.option === "codec"`) if `codec` is not a record codec.
   * @throws {FingerprintMismatchError} naming both records if `codec` is not the log's record.
   * @throws {InvalidHandleError} if `handle` is not a log handle.
   */
  static attach<V extends RecordView, D>(codec: RecordCodec<V, D>, handle: LogHandle): AtomicLog<V, D> {
    // Checked first, as create() does: attachState reads codec.fingerprint, which
    // on null or a number is a plain TypeError instead of an error naming `codec`.
    checkCodec(codec);
    return new AtomicLog(attachState(codec, handle));
  }

  /**
   * Takes the writer claim even though someone holds it: for when the holder
   * is gone and its thread id is unknown (prefer {@link recoverThread}). Safe
   * even if the holder is still running (unless it stalls in the middle of a
   * segment roll for longer than `waitMs`, and is then presumed dead): it is fenced, and its next
   * `commit`, `append`, roll or `release` publishes nothing (they throw
   * `WriterReleasedError`, or return quietly for `release`). The head's
   * published records are copied to a fresh segment; the old one is kept
   * aside until the old writer stops or its thread is recovered.
   *
   * @param options.waitMs - how long to wait for a holder that is in the
   *   middle of a segment roll (microseconds of work) before presuming it
   *   dead. Default 1000.
   * @throws {WriterTakeoverPendingError} if an earlier forced takeover's old
   *   writer has neither stopped nor been recovered.
   */
  forceClaimWriter(options: { waitMs?: number } = {}): Writer<V, D> {
    this.checkOpen();
    const waitMs = options.waitMs ?? 1000;
    if (typeof waitMs !== "number" || !(waitMs >= 0)) throw new InvalidOptionError("waitMs", waitMs, "a number of milliseconds >= 0");
    const st = this.state;
    const tag = ownerTag(this.state.tagBase);
    if (!reserveTakeover(st, readWindow(st.ctl, new WindowState()).oldest)) throw new WriterTakeoverPendingError();
    const forced = forceClaim(st.ctl, tag, waitMs);
    if (forced.previousOwner === 0) {
      cancelTakeover(st.ctl);
      return new Writer(this, st, tag, forced.nonce);
    }
    recordFencedWriter(st.ctl, forced.previousOwner, forced.previousNonce);
    return new Writer(this, st, tag, forced.nonce, true);
  }

  /**
   * Releases everything a dead thread held: its writer claim, the pins of its
   * snapshots and cursors (returning their budget), and its gates. Call it
   * once you know the thread is gone, for example from a worker's exit event
   * (see {@link watch}, which does it for you). Pass the worker itself or its
   * `threadId` read while it was running: Bun resets `worker.threadId` to -1
   * once the worker has closed.
   * @throws {InvalidOptionError} for a negative or non-integer thread id (e.g. a closed worker's -1).
   */
  recoverThread(thread: number | { readonly threadId: number }): RecoveryReport {
    const threadId = typeof thread === "object" && thread !== null ? thread.threadId : thread;
    if (!Number.isInteger(threadId) || (threadId as number) < 0) {
      throw new InvalidOptionError(
        "threadId",
        threadId,
        "a worker's threadId, read while it ran (a closed Bun worker reports -1: use log.watch(worker), which reads it at once)",
      );
    }
    const st = this.state;
    const owner = st.tagBase + (threadId as number) + 1;
    const writerReleased = releaseDeadWriter(st.ctl, owner);
    const freed = st.pins.releaseOwnedBy(owner);
    return { writerReleased, pinsReleased: freed.slots, segmentsReturned: freed.segments };
  }

  /**
   * Calls {@link recoverThread} for `worker` when it exits, so a terminated or
   * crashed worker never strands the writer claim or pinned segments. Works
   * with Bun's web `Worker` ("close") and `node:worker_threads` ("exit").
   * The thread id is read now, while the worker runs.
   */
  watch(worker: WatchableWorker): void {
    const threadId = worker.threadId;
    if (!Number.isInteger(threadId) || threadId < 0) {
      throw new InvalidOptionError("worker", worker, "a running Worker (its threadId is -1 once it has closed)");
    }
    const recover = () => this.recoverThread(threadId);
    if (typeof worker.addEventListener === "function") worker.addEventListener("close", recover);
    else if (typeof worker.on === "function") worker.on("exit", recover);
    else throw new InvalidOptionError("worker", worker, "a Worker with addEventListener or on");
  }

  /** `console.log(log)` shows the record, whether it is durable, and its stats, not its buffers. */
  [INSPECT](): unknown {
    return label(`AtomicLog<${this.state.codec.name}>`, { durable: this.isDurable, ...this.stats() });
  }

  /** A point-in-time summary, for monitoring. */
  stats(): LogStats {
    const st = this.state;
    const win = readWindow(st.ctl, new WindowState());
    const nextSequence = st.nextSequence(win);
    const oldestSequence = win.oldest * st.segmentCapacity;
    return {
      nextSequence,
      oldestSequence,
      windowLength: nextSequence - oldestSequence,
      poolSegments: st.poolSegments,
      snapshotBudget: st.budget,
      snapshotBudgetUsed: Atomics.load(st.ctl, H.BUDGET_USED),
      writerClaimed: this.isWriterClaimed(),
      pins: st.pins.taken(),
      gates: st.pins.gates(),
    };
  }

  /** Sequence number of the first record the log was created with. */
  get initialSequence(): number {
    return loadPair(this.state.ctl, H.INITIAL_SEQ_HI);
  }
}

/**
 * Rejects anything that is not a generated record codec, before any of its
 * properties is used, so create() and attach() fail the same way.
 * @throws {InvalidOptionError} naming `codec`.
 */
function checkCodec(codec: unknown): void {
  const c = codec as Partial<RecordCodec>;
  if (
    c === null ||
    typeof c !== "object" ||
    typeof c.view !== "function" ||
    typeof c.byteLength !== "number" ||
    !Number.isInteger(c.byteLength) ||
    c.byteLength < 1 ||
    typeof c.fingerprint !== "string"
  ) {
    throw new InvalidOptionError("codec", codec, "a generated record codec (e.g. Trade from the generated module)");
  }
}
