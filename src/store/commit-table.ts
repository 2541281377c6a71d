/**
 * A segment's commit table: how many of its records are covered by a
 * checksum, and the checksum.
 *
 * Checksums are per batch, never per record (per record every implementation
 * measured fell to 7–123 M rec/s; per 4096-record batch `Bun.hash.crc32` ran at
 * 885 M rec/s, the fastest option measured, and it ships with Bun: nothing to
 * compile). A batch is what was published since the last entry: a whole
 * segment at a roll, the head's published prefix at a sync or a release.
 *
 * The CRC covers the whole prefix `[0, covered)` and is extended in place
 * (CRC-32 continues from a previous value), so one entry describes the
 * segment. The CRC is seeded with the segment's sequence, so the stale records
 * of a recycled file never verify under its new sequence.
 *
 * Crash safety: two entries and a version word, like the control block's
 * window. The writer fills the inactive entry, then bumps the version. Each
 * entry carries a check word over (covered, crc), so an entry torn by a power
 * loss is recognised and the other entry (a shorter prefix) is used.
 *
 * Invariant: an entry that verifies covers records that were published, in
 * order, under this segment sequence; recovery never returns a record beyond
 * the longest verified prefix when it cannot trust the page cache.
 */
import { SEGMENT_MAGIC, SF } from "./file-format.ts";

const seedBytes = new Float64Array(1);
const seedView = new Uint8Array(seedBytes.buffer);

/** The CRC of nothing, for segment `seq`: the seed of its prefix CRC. */
export function seedFor(seq: number): number {
  seedBytes[0] = seq;
  return Bun.hash.crc32(seedView, SEGMENT_MAGIC) >>> 0;
}

function checkWord(covered: number, crc: number): number {
  return (Math.imul(covered, 0x9e3779b1) ^ crc ^ SEGMENT_MAGIC) | 0;
}

/** Records covered by the current entry (trusted without verification: for the writer, in a live log). */
export function coveredCount(words: Int32Array): number {
  const at = SF.TABLE_ENTRY[Atomics.load(words, SF.TABLE_VERSION) & 1]!;
  return words[at]!;
}

/** Forgets every entry: the segment is being reused for a new sequence. */
export function resetTable(words: Int32Array): void {
  for (const at of SF.TABLE_ENTRY) {
    words[at] = 0;
    words[at + 1] = 0;
    words[at + 2] = 0;
  }
  Atomics.store(words, SF.TABLE_VERSION, 0);
}

/**
 * Extends the table to cover records `[0, count)` of segment `seq`, whose
 * records start at byte `base` of `bytes`. Single writer: the log's writer.
 * Returns false (changing nothing) if `count` is not beyond what is covered.
 */
export function extendTable(words: Int32Array, bytes: Uint8Array, base: number, recordBytes: number, seq: number, count: number): boolean {
  const version = Atomics.load(words, SF.TABLE_VERSION);
  const cur = SF.TABLE_ENTRY[version & 1]!;
  const covered = words[cur]!;
  if (count <= covered) return false;
  const prev = covered === 0 ? seedFor(seq) : words[cur + 1]! >>> 0;
  const crc = Bun.hash.crc32(bytes.subarray(base + covered * recordBytes, base + count * recordBytes), prev) >>> 0;
  const next = SF.TABLE_ENTRY[(version + 1) & 1]!;
  words[next] = count;
  words[next + 1] = crc | 0;
  words[next + 2] = checkWord(count, crc);
  Atomics.store(words, SF.TABLE_VERSION, version + 1);
  return true;
}

/**
 * Recovery: makes the current entry cover exactly records `[0, count)` of
 * segment `seq`, which verified. Needed when the current entry covered more
 * (it was damaged): {@link extendTable} only ever extends the current entry,
 * so the writer would never checksum this segment's new records again. Crash
 * safe like extendTable: the inactive entry is filled, then the version flips.
 */
export function rewriteTable(words: Int32Array, bytes: Uint8Array, base: number, recordBytes: number, seq: number, count: number): void {
  const version = Atomics.load(words, SF.TABLE_VERSION);
  const crc = Bun.hash.crc32(bytes.subarray(base, base + count * recordBytes), seedFor(seq)) >>> 0;
  const next = SF.TABLE_ENTRY[(version + 1) & 1]!;
  words[next] = count;
  words[next + 1] = crc | 0;
  words[next + 2] = checkWord(count, crc);
  Atomics.store(words, SF.TABLE_VERSION, version + 1);
}

/**
 * Recovery: the longest prefix of segment `seq` that an entry covers and
 * that verifies against the bytes, at most `limit` records. 0 if neither entry
 * verifies.
 */
export function verifiedCount(words: Int32Array, bytes: Uint8Array, base: number, recordBytes: number, seq: number, limit: number): number {
  let best = 0;
  for (const at of SF.TABLE_ENTRY) {
    const covered = words[at]!;
    const crc = words[at + 1]! >>> 0;
    if (covered <= best || covered > limit || words[at + 2] !== checkWord(covered, crc)) continue;
    const actual = Bun.hash.crc32(bytes.subarray(base, base + covered * recordBytes), seedFor(seq)) >>> 0;
    if (actual === crc) best = covered;
  }
  return best;
}
