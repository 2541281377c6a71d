/**
 * One segment's worth of a snapshot: a contiguous run of records in one
 * buffer. For tight loops, `at(i)` moves one flyweight; for raw access,
 * `buffer`, `byteOffset` and `recordBytes` locate the records directly.
 */
import type { RecordCodec } from "../records/codec.ts";
import { InvalidOptionError } from "../errors.ts";
import type { RecordView } from "../records/record-view.ts";
import type { Slab } from "../records/slab.ts";
import { RangeIterator } from "./view-iterator.ts";

/** A per-segment slice of a snapshot. */
export class SegmentChunk<V extends RecordView, D> implements Iterable<V> {
  /** @internal */ readonly slab: Slab;
  /** Byte offset of the first record in {@link buffer}. */
  readonly byteOffset: number;
  /** Number of records in this chunk. */
  readonly length: number;
  /** The segment's sequence number (0 for the first segment of a log that starts at sequence 0). */
  readonly sequence: number;
  /** Sequence number of the chunk's first record. */
  readonly startSequence: number;
  /** Bytes per record. */
  readonly recordBytes: number;
  private readonly codec: RecordCodec<V, D>;
  /**
   * The chunk's flyweight, already on this chunk's buffer. For the tightest
   * loops (SBE style), position it yourself:
   * `for (let o = chunk.byteOffset; o < chunk.byteEnd; o += chunk.recordBytes) { view.byteOffset = o; ... }`.
   */
  readonly view: V;

  /** @internal The snapshot the chunk belongs to: held so its pin outlives every chunk. */
  readonly _owner: object;

  /** @internal Chunks come from `snapshot.chunks()`. */
  constructor(
    owner: object,
    codec: RecordCodec<V, D>,
    slab: Slab,
    byteOffset: number,
    length: number,
    sequence: number,
    startSequence: number,
    recordBytes: number,
  ) {
    this._owner = owner;
    this.codec = codec;
    this.slab = slab;
    this.byteOffset = byteOffset;
    this.length = length;
    this.sequence = sequence;
    this.startSequence = startSequence;
    this.recordBytes = recordBytes;
    this.view = codec.view()._wrapSlab(slab, byteOffset);
    this.view._owner = owner;
  }

  /** One past the last record's byte offset: `byteOffset + length * recordBytes`. */
  get byteEnd(): number {
    return this.byteOffset + this.length * this.recordBytes;
  }

  /** The buffer holding the records (shared memory: read-only by contract). */
  get buffer(): ArrayBufferLike {
    return this.slab.buffer;
  }

  /**
   * This chunk's flyweight positioned on record `index`. Each call moves the same view.
   * @throws {RangeError} if `index` is not an integer in `[0, length)`.
   */
  at(index: number): V {
    // One unsigned shift checks "non-negative integer below 2^32"; this is the hot read path.
    if (index >>> 0 !== index || index >= this.length) {
      throw new InvalidOptionError("index", index, `an integer in [0, ${this.length})`);
    }
    const view = this.view;
    view.byteOffset = this.byteOffset + index * this.recordBytes;
    return view;
  }

  private viewAt(index: number): V {
    const view = this.view;
    view.byteOffset = this.byteOffset + index * this.recordBytes;
    return view;
  }

  /** Calls `fn(view, sequence)` for each record in the chunk. */
  forEach(fn: (view: V, sequence: number) => void): void {
    const view = this.viewAt(0);
    const base = this.byteOffset;
    for (let i = 0; i < this.length; i++) {
      view.byteOffset = base + i * this.recordBytes;
      fn(view, this.startSequence + i);
    }
  }

  /** Copies the chunk's records out as plain objects. */
  toArray(): D[] {
    const out: D[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.codec.read(this.viewAt(i)));
    return out;
  }

  /** Iterates the chunk's records, yielding its flyweight. */
  [Symbol.iterator](): Iterator<V> {
    return new RangeIterator(this, this.viewAt(0), this.byteOffset, this.byteEnd, this.recordBytes);
  }
}
