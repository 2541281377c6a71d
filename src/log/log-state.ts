/**
 * The shared state of one log as seen from one worker: the control block, the
 * segment store and the codec. Writers, snapshots and cursors all read
 * through it; everything here except the codec is shared memory.
 */
import type { RecordCodec } from "../records/codec.ts";
import { COUNT_MASK, FORMAT, H, MAGIC, SEG, SEG_BASE, SEG_WORDS, controlGeometry, countIndex, loadPair, storePair } from "../shared/control.ts";
import type { LogGeometry } from "./options.ts";
import { PinTable } from "../shared/pins.ts";
import type { RecordView } from "../records/record-view.ts";
import { MemorySegmentStore, type SegmentStore } from "../store/segment-store.ts";
import type { DurableState } from "../store/durable-state.ts";
import type { Doorbells } from "../shared/wake.ts";
import { type WindowState, readWindow, writeWindow } from "../shared/window.ts";

/** Fingerprints are 16 hex digits; the control block keeps them as two words. */
export function fingerprintWords(fingerprint: string): [number, number] {
  const padded = fingerprint.padStart(16, "0").slice(-16);
  return [parseInt(padded.slice(0, 8), 16) | 0, parseInt(padded.slice(8), 16) | 0];
}

/** Per-worker access to one log's shared memory. */
export class LogState<V extends RecordView, D> {
  readonly codec: RecordCodec<V, D>;
  readonly ctl: Int32Array;
  readonly store: SegmentStore;
  readonly pins: PinTable;
  readonly segmentCapacity: number;
  readonly retainedSegments: number;
  readonly retainedCapacity: number;
  readonly poolSegments: number;
  readonly recordBytes: number;
  readonly dirBase: number;
  readonly dirSize: number;
  readonly budget: number;
  /**
   * The word array parked readers wait on (H.NOTIFY): the control block for a
   * log in memory; a per-process SharedArrayBuffer for a durable log, whose
   * control block is a mapped file where `Atomics.wait` is not allowed (wake.ts).
   */
  readonly bell: Int32Array;
  /** The durable log's file-level state; null for a log in memory. */
  readonly durable: DurableState | null;

  constructor(codec: RecordCodec<V, D>, ctl: Int32Array, store: SegmentStore, bell: Int32Array = ctl, durable: DurableState | null = null) {
    this.codec = codec;
    this.ctl = ctl;
    this.store = store;
    this.bell = bell;
    this.durable = durable;
    if (durable !== null) durable.bell = bell;

    this.segmentCapacity = ctl[H.SEGMENT_CAPACITY]!;
    this.retainedSegments = ctl[H.RETAINED_SEGMENTS]!;
    this.retainedCapacity = loadPair(ctl, H.RETAINED_CAPACITY_HI);
    this.poolSegments = ctl[H.POOL_SEGMENTS]!;
    this.recordBytes = ctl[H.RECORD_BYTES]!;
    this.dirSize = ctl[H.DIR_SIZE]!;
    this.budget = ctl[H.BUDGET]!;
    const geometry = controlGeometry(this.poolSegments, this.dirSize, ctl[H.PIN_SLOTS]!);
    this.dirBase = geometry.dirBase;
    this.pins = new PinTable(ctl, geometry.pinBase, geometry.pinSlots);
  }

  /** Added to thread tags of pins and claims (0 in memory; the process's entry bits for a durable log, see ownerTag). */
  get tagBase(): number {
    return this.durable?.tagBase ?? 0;
  }

  /**
   * Milliseconds between re-checks of a reader parked in `ready()` when the
   * writer may be in another process, whose wake-ups cannot reach this
   * process's bell; null when every writer rings this bell.
   */
  get pollMs(): number | null {
    return this.durable?.pollMs ?? null;
  }

  /** Doorbells of readers parked in other processes (durable logs; null in memory). */
  get doorbells(): Doorbells | null {
    return this.durable?.doorbells ?? null;
  }

  /** Allocates and initialises a new log: an empty head segment at the initial sequence. */
  static create<V extends RecordView, D>(codec: RecordCodec<V, D>, g: LogGeometry): LogState<V, D> {
    const ctl = new Int32Array(new SharedArrayBuffer(controlWords(g) * 4));
    const store = MemorySegmentStore.allocate(g.poolSegments, g.segmentBytes);
    // With no pins, the evicted segment becomes the next head (LIFO), so steady
    // appending only ever touches the window's segments: pre-touch exactly those.
    if (g.preTouch) store.preTouch(g.retainedSegments + 1);
    initializeControl(codec, g, ctl);
    const state = new LogState(codec, ctl, store);
    state.startHead(g);
    return state;
  }

  /** Writer side, at creation: an empty head segment at the initial sequence. */
  startHead(g: LogGeometry): void {
    const headSeq = g.initialSequence / g.segmentCapacity;
    this.prepareSegment(0, headSeq);
    writeWindow(this.ctl, headSeq, headSeq, 0);
  }

  /**
   * Writer side: makes physical segment `phys` the segment with sequence `seq`
   * holding `count` published records (0 for a new head; a takeover's copy
   * keeps its records) and maps it in the directory.
   */
  prepareSegment(phys: number, seq: number, count = 0): void {
    const ctl = this.ctl;
    const at = SEG_BASE + SEG_WORDS * phys;
    this.store.prepare?.(phys, seq);
    // The generation marks a segment as ever used: a writer adopting the log treats
    // never-used segments as free without checking pins.
    Atomics.add(ctl, at + SEG.GENERATION, 1);
    storePair(ctl, at + SEG.SEQ_HI, seq);
    Atomics.store(ctl, at + SEG.COUNT, count);
    Atomics.store(ctl, this.dirBase + (seq % this.dirSize), phys);
  }

  /** Physical segment mapped to segment sequence `seq` (valid only while `seq` is in the window or pinned). */
  physOf(seq: number): number {
    return Atomics.load(this.ctl, this.dirBase + (seq % this.dirSize));
  }

  /**
   * Copies the physical segments of sequences `first .. first + n - 1` into `out`.
   *
   * Plain loads, on purpose. The review asked whether the JS memory model orders
   * them; it does: the caller read the window with a sequentially consistent
   * `Atomics.load`, which synchronizes with the writer's `Atomics.store` that
   * published it, and every directory entry it names was stored before that
   * (happens-before), so a plain read here returns that entry or a later one.
   * A later one means a recycle, which the caller's pin validation detects: its
   * pin store precedes (in agent order) the writer's scan that would allow the
   * recycle, so the read cannot observe a write that happens after it. Atomic
   * loads here measured 8 ns each (2 µs for a 257-segment window, tripling
   * `snapshot()`) against 1 ns, for no added guarantee. The one exception is
   * the head's entry, which a writer takeover remaps while the head stays in
   * the window (writer-takeover.ts, F6): it is read atomically, so the copied
   * records happen before this reader's reads of them (found by review).
   */
  copyMap(first: number, n: number, out: Int32Array): void {
    const ctl = this.ctl;
    const mask = this.dirSize - 1;
    // One modulo up front: sequences are doubles, and `%` on doubles is a libm call.
    let at = first % this.dirSize;
    for (let i = 0; i < n - 1; i++) {
      out[i] = ctl[this.dirBase + at]!;
      at = (at + 1) & mask;
    }
    if (n > 0) out[n - 1] = Atomics.load(ctl, this.dirBase + at);
  }

  private readonly mapArrays: Int32Array[] = [];

  /** A segment-map array for a snapshot, reused across snapshots in this worker. */
  takeMapArray(): Int32Array {
    return this.mapArrays.pop() ?? new Int32Array(this.retainedSegments + 1);
  }

  /** Gives a snapshot's map array back for reuse. */
  returnMapArray(map: Int32Array): void {
    if (this.mapArrays.length < 64) this.mapArrays.push(map);
  }

  /** Segment sequence currently held by physical segment `phys`. */
  seqOf(phys: number): number {
    return loadPair(this.ctl, SEG_BASE + SEG_WORDS * phys + SEG.SEQ_HI);
  }

  /** How many times physical segment `phys` has been (re)used; 0 if never. */
  generationOf(phys: number): number {
    return Atomics.load(this.ctl, SEG_BASE + SEG_WORDS * phys + SEG.GENERATION);
  }

  /** Published record count of physical segment `phys` (without the sealed flag). */
  countOf(phys: number): number {
    return Atomics.load(this.ctl, countIndex(phys)) & COUNT_MASK;
  }

  /**
   * Sequence the next record will get. `win` is a window copy; it is re-read
   * until the head's count is read while that window is still current, so a
   * reader descheduled across a roll never adds a recycled segment's count to
   * the old head (`win` is left holding the window the result belongs to).
   */
  nextSequence(win: WindowState): number {
    for (;;) {
      const count = this.countOf(win.headPhys);
      if (Atomics.load(this.ctl, H.WINDOW_VERSION) === win.version) return win.head * this.segmentCapacity + count;
      readWindow(this.ctl, win);
    }
  }
}

/** Words of the control block for geometry `g`. */
export function controlWords(g: LogGeometry): number {
  return controlGeometry(g.poolSegments, g.dirSize, g.maxSnapshots).words;
}

/** Writes a new log's header words into a zeroed control block. */
export function initializeControl(codec: { readonly fingerprint: string }, g: LogGeometry, ctl: Int32Array): void {
  ctl[H.MAGIC] = MAGIC;
  ctl[H.FORMAT] = FORMAT;
  ctl[H.RECORD_BYTES] = g.recordBytes;
  ctl[H.SEGMENT_CAPACITY] = g.segmentCapacity;
  ctl[H.RETAINED_SEGMENTS] = g.retainedSegments;
  ctl[H.POOL_SEGMENTS] = g.poolSegments;
  ctl[H.PIN_SLOTS] = g.maxSnapshots;
  ctl[H.DIR_SIZE] = g.dirSize;
  ctl[H.BUDGET] = g.snapshotBudget;
  storePair(ctl, H.RETAINED_CAPACITY_HI, g.retainedCapacity);
  storePair(ctl, H.INITIAL_SEQ_HI, g.initialSequence);
  const [fpHi, fpLo] = fingerprintWords(codec.fingerprint);
  ctl[H.FINGERPRINT_HI] = fpHi;
  ctl[H.FINGERPRINT_LO] = fpLo;
}
