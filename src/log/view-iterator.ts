/**
 * Iterators behind `for...of` over snapshots and chunks. Both reuse one
 * flyweight and one result object, so iterating allocates nothing per record,
 * and both keep `next()` tiny so the engine inlines it into the loop: stepping
 * to the next segment is out of line. That split doubled `for...of` over a
 * snapshot (bench/log.bench.ts, "snapshot() + for...of").
 */
import type { RecordView } from "../records/record-view.ts";
import type { SegmentStore } from "../store/segment-store.ts";

/** Iterates one contiguous run of records: [byteOffset, byteEnd) of one slab the view already wraps. */
export class RangeIterator<V extends RecordView> implements Iterator<V> {
  private readonly result: IteratorResult<V>;
  constructor(
    /** Held so the chunk (and its snapshot's pin) lives as long as the iterator. */
    readonly owner: object,
    private readonly view: V,
    private offset: number,
    private readonly end: number,
    private readonly recBytes: number,
  ) {
    this.result = { done: false, value: view };
  }
  next(): IteratorResult<V> {
    const offset = this.offset;
    if (offset < this.end) {
      this.offset = offset + this.recBytes;
      this.view.byteOffset = offset;
      return this.result;
    }
    return { done: true, value: undefined };
  }
}

/** Flat iteration over a snapshot: walks its segment map directly and reuses one result object. */
export class SegmentsIterator<V extends RecordView> implements Iterator<V> {
  private readonly result: IteratorResult<V>;
  private s = -1;
  /** Byte offset of the next record in the current segment, and the end of its published records. */
  private offset = 0;
  private end = 0;
  constructor(
    /** Held so the snapshot (and its pin) lives as long as the iterator. */
    readonly owner: object,
    private readonly segs: Int32Array,
    private readonly segCount: number,
    private readonly lastCount: number,
    /** Counts of the segments before the last when one was closed early; null when all are full. */
    private readonly counts: Int32Array | null,
    private readonly segCap: number,
    private readonly recBytes: number,
    private readonly store: SegmentStore,
    private readonly view: V,
  ) {
    this.result = { done: false, value: view };
  }
  next(): IteratorResult<V> {
    const offset = this.offset;
    if (offset < this.end) {
      this.offset = offset + this.recBytes;
      this.view.byteOffset = offset;
      return this.result;
    }
    return this.nextSegment();
  }
  private nextSegment(): IteratorResult<V> {
    for (;;) {
      if (++this.s >= this.segCount) return { done: true, value: undefined };
      const count = this.s === this.segCount - 1 ? this.lastCount : this.counts === null ? this.segCap : this.counts[this.s]!;
      if (count === 0) continue;
      const phys = this.segs[this.s]!;
      const base = this.store.base(phys);
      this.view._wrapSlab(this.store.slab(phys), base);
      this.offset = base + this.recBytes;
      this.end = base + count * this.recBytes;
      return this.result;
    }
  }
}
