/**
 * A run of consecutive record slots in one segment: what `writer.reserveMany()`
 * reserves and what `cursor.take()` hands out. Loop over it with `at(i)`, or
 * position `view` yourself at `base + i * recordBytes` (fastest). The owner
 * reuses the span object on its next call.
 */
import type { RecordView } from "../records/record-view.ts";

/** Consecutive records in one segment, read or written through one flyweight. */
export class RecordSpan<V extends RecordView> {
  /** Number of records (0 when a cursor had nothing available). */
  length = 0;
  /** Sequence number of record 0. */
  startSequence = 0;
  /** Byte offset of record 0 in the view's buffer. */
  base = 0;
  /** The owner's flyweight, on the right buffer. */
  readonly view: V;
  /** Bytes per record. */
  readonly recordBytes: number;
  /** @internal The writer or cursor whose memory this is; held so it stays reachable while the span is. */
  readonly _owner: object;

  /** @internal Spans come from `reserveMany()` and `take()`. */
  constructor(view: V, recordBytes: number, owner: object) {
    this.view = view;
    this.recordBytes = recordBytes;
    this._owner = owner;
  }

  /** The view positioned on record `i`. Unchecked for speed: keep `i` in `[0, length)`. */
  at(i: number): V {
    const view = this.view;
    view.byteOffset = this.base + i * this.recordBytes;
    return view;
  }
}

/** The span `cursor.take()` returns. */
export type ReadSpan<V extends RecordView> = RecordSpan<V>;
/** The span `writer.reserveMany()` returns. */
export type WriteSpan<V extends RecordView> = RecordSpan<V>;
