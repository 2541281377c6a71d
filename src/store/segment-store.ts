/**
 * Where record bytes live. The log engine sees segments only through this
 * interface, so the in-memory pool and the file-backed store share one engine.
 */
import { Slab } from "../records/slab.ts";

/** Backing storage for a fixed pool of segments. */
export interface SegmentStore {
  /** The slab (typed arrays) that holds physical segment `phys`. */
  slab(phys: number): Slab;
  /** Byte offset of slot 0 of physical segment `phys` within its slab. */
  base(phys: number): number;
  /** Something structured-cloneable from which {@link attachStore} rebuilds this store in another worker. */
  share(): StoreHandle;
  /**
   * Writer side, once per segment: physical segment `phys` is about to hold
   * segment `seq` (the file store renames the file and rewrites its header).
   */
  prepare?(phys: number, seq: number): void;
  /**
   * Writer side: `count` records of segment `seq` in `phys` are published and
   * final (a roll, a sync or a release); `closed` when the writer closed the
   * segment early at `count` (a gap follows).
   */
  seal?(phys: number, seq: number, count: number, closed?: boolean): void;
}

/** The cloneable description of a store, carried inside a log handle. */
export type StoreHandle =
  | { kind: "memory"; data: SharedArrayBuffer; segmentBytes: number }
  | { kind: "file"; dir: string; poolSegments: number; segmentBytes: number };

/**
 * The default store: every segment in one SharedArrayBuffer, so one slab (one
 * set of typed arrays) serves the whole pool and moving between segments is
 * just a new base offset.
 */
export class MemorySegmentStore implements SegmentStore {
  readonly data: SharedArrayBuffer;
  private readonly segmentBytes: number;
  private readonly pool: Slab;

  constructor(data: SharedArrayBuffer, segmentBytes: number) {
    this.data = data;
    this.segmentBytes = segmentBytes;
    this.pool = Slab.of(data);
  }

  /** Allocates a pool of `segments` segments of `segmentBytes` bytes. */
  static allocate(segments: number, segmentBytes: number): MemorySegmentStore {
    return new MemorySegmentStore(new SharedArrayBuffer(segments * segmentBytes), segmentBytes);
  }

  /**
   * Writes one byte per page of the first `segments` segments, so the kernel
   * maps them now rather than on the writer's hot path (first touch measured
   * 4x slower than a warm page here).
   */
  preTouch(segments: number): void {
    const u8 = this.pool.u8;
    const end = Math.min(segments * this.segmentBytes, u8.length);
    for (let i = 0; i < end; i += 4096) u8[i] = 0;
  }

  slab(_phys: number): Slab {
    return this.pool;
  }

  base(phys: number): number {
    return phys * this.segmentBytes;
  }

  share(): StoreHandle {
    return { kind: "memory", data: this.data, segmentBytes: this.segmentBytes };
  }
}

/** Rebuilds a store from its handle (in the same or another worker). */
export function attachStore(handle: Extract<StoreHandle, { kind: "memory" }>): SegmentStore {
  return new MemorySegmentStore(handle.data, handle.segmentBytes);
}
