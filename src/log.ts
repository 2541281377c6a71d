/**
 * `AtomicLog`: the read handle of a rolling log, and the factory for writers
 * and snapshots. Any number of `AtomicLog` objects, in any number of workers,
 * can refer to the same shared memory.
 */
import { tryClaim, isClaimed } from "./claim.ts";
import type { RecordCodec } from "./codec.ts";
import { H, loadPair } from "./control.ts";
import { LogState } from "./log-state.ts";
import { type LogOptions, resolveOptions } from "./options.ts";
import type { RecordView } from "./record-view.ts";
import { Snapshot } from "./snapshot.ts";
import { WindowState, readWindow } from "./window.ts";
import { Writer } from "./writer.ts";
import { InvalidOptionError } from "./errors.ts";

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
    return new AtomicLog(LogState.create(codec, resolveOptions(options, codec.byteLength)));
  }

  /** Creates a log and claims its writer: `const [writer, log] = AtomicLog.newClaimed(Trade, opts)`. */
  static newClaimed<V extends RecordView, D>(codec: RecordCodec<V, D>, options: LogOptions): [Writer<V, D>, AtomicLog<V, D>] {
    const log = AtomicLog.create(codec, options);
    return [log.tryClaimWriter()!, log];
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

  /** Total segments allocated: the window (`retainedSegments + 1`) plus the snapshot budget. */
  get poolSegments(): number {
    return this.state.poolSegments;
  }

  /**
   * Claims the writer if nobody holds it. Exactly one of several racing
   * claimers (in any workers) wins.
   * @returns the writer, or null if another writer holds the claim.
   */
  tryClaimWriter(): Writer<V, D> | null {
    const token = tryClaim(this.state.ctl);
    return token === 0 ? null : new Writer(this, this.state, token);
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

  /** A point-in-time summary, for monitoring. */
  stats(): LogStats {
    const st = this.state;
    const win = readWindow(st.ctl, new WindowState());
    const nextSequence = win.head * st.segmentCapacity + st.countOf(win.headPhys);
    const oldestSequence = win.oldest * st.segmentCapacity;
    return {
      nextSequence,
      oldestSequence,
      windowLength: nextSequence - oldestSequence,
      poolSegments: st.poolSegments,
      snapshotBudget: st.budget,
      snapshotBudgetUsed: Atomics.load(st.ctl, H.BUDGET_USED),
      writerClaimed: this.isWriterClaimed(),
    };
  }

  /** Sequence number of the first record the log was created with. */
  get initialSequence(): number {
    return loadPair(this.state.ctl, H.INITIAL_SEQ_HI);
  }
}

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
