/**
 * The on-disk format of a durable log directory.
 *
 * ```
 * <dir>/control.alog      header page + the engine's control block (mapped)
 * <dir>/<seq>.<slot>.seg  one file per pool segment, named (at each sync and close) by the segment
 *                         sequence it holds (16 decimal digits) and its pool
 *                         slot: header page + records; free.<slot>.seg when
 *                         it holds none
 * <dir>/writer.lock       PID and start time of the process that has it open for writing
 * ```
 *
 * Every file is preallocated at its full size and never truncated: truncating
 * a mapped file kills every process that maps it (SIGBUS). A pool segment is
 * recycled by renaming its file to the new sequence and rewriting its header;
 * mappings follow the inode, so nobody's view breaks.
 *
 * All integers are little-endian 32-bit words at fixed word offsets; 53-bit
 * sequences are (hi, lo) pairs as in the control block.
 */
import { readFileSync } from "node:fs";
import { CorruptLogError } from "../errors.ts";

/** "ALCF": the control file. */
export const CONTROL_MAGIC = 0x46434c41;
/** "ALSG": a segment file. */
export const SEGMENT_MAGIC = 0x47534c41;
/** Bumped when the file format changes incompatibly. */
export const FILE_VERSION = 1;
/** Every header is one page, so record data and the control block start page-aligned. */
export const HEADER_BYTES = 4096;
/** Bytes reserved in the control header for the application's own header. */
export const MAX_APP_HEADER_BYTES = 1024;

/** Word offsets in the control file's header page. */
export const CF = {
  MAGIC: 0,
  VERSION: 1,
  HEADER_BYTES: 2,
  CONTROL_WORDS: 3,
  RECORD_BYTES: 4,
  SEGMENT_CAPACITY: 5,
  POOL_SEGMENTS: 6,
  FINGERPRINT_HI: 7,
  FINGERPRINT_LO: 8,
  /** Records below this sequence were checksummed and flushed to disk (hi, lo). */
  SYNCED_HI: 9,
  SYNCED_LO: 10,
  APP_HEADER_BYTES: 11,
  LAYOUT_BYTES: 12,
  /**
   * 1 once the process that had the log open for writing closed it (`close()`: every
   * published record checksummed and synced first); 0 while it is open, or if it died.
   */
  CLOSED: 13,
  /**
   * Bumped by a writer that wakes readers parked in other processes; their
   * waker threads futex-wait on it (remote-wake.ts).
   */
  WAKE: 14,
  /** Milliseconds since the epoch at creation (f64 at byte 64). */
  CREATED_F64_BYTE: 64,
  /** Retention age in milliseconds (f64 at byte 80; 0: retention by count only). */
  RETENTION_MS_F64_BYTE: 80,
  /** Time-aligned segments: their duration in milliseconds (f64 at byte 88; 0: segments close only when full). */
  SEGMENT_DURATION_MS_F64_BYTE: 88,
  /** The kernel boot id of the last process that opened the log for writing (36 ASCII bytes at byte 128). */
  BOOT_ID_BYTE: 128,
  /** Record layout as JSON: `{ name, fingerprint, byteLength, fields }` (byte 256, up to LAYOUT_MAX bytes). */
  LAYOUT_BYTE: 256,
  /** The table of processes that have the log open (byte 2048; see process-table.ts). */
  PROCESS_TABLE_BYTE: 2048,
  /** The application header (byte 3072, up to MAX_APP_HEADER_BYTES). */
  APP_HEADER_BYTE: 3072,
} as const;
/** Room for the layout JSON. */
export const LAYOUT_MAX = CF.PROCESS_TABLE_BYTE - CF.LAYOUT_BYTE;

/** Word offsets in a segment file's header page. */
export const SF = {
  MAGIC: 0,
  VERSION: 1,
  HEADER_BYTES: 2,
  /** The pool slot this file is (stable across recycling). */
  PHYS: 3,
  /** Segment sequence (hi, lo). */
  SEQ_HI: 4,
  SEQ_LO: 5,
  /** Sequence of the segment's first record (hi, lo) = seq * segmentCapacity. */
  FIRST_HI: 6,
  FIRST_LO: 7,
  /** Times this pool file was (re)used. */
  GENERATION: 8,
  RECORD_BYTES: 9,
  SEGMENT_CAPACITY: 10,
  FINGERPRINT_HI: 11,
  FINGERPRINT_LO: 12,
  /**
   * 0 while the segment may still grow or is full; `count + 1` once the writer
   * closed it early at `count` records (its later sequences are a gap, see
   * COUNT_CLOSED). In the header's first sector with the sequence and the
   * commit table, so a torn write never pairs it with another segment's.
   */
  CLOSED: 13,
  /** Milliseconds since the epoch when the segment became the head (f64 at byte 64). */
  CREATED_F64_BYTE: 64,
  /** Milliseconds since the epoch when it was sealed (f64 at byte 72; 0 while it is the head). */
  SEALED_F64_BYTE: 72,
  /** Commit table: version word; its low bit picks the current of the two entries. */
  TABLE_VERSION: 32,
  /** The two entries: [covered records, crc32, check word]. */
  TABLE_ENTRY: [33, 36] as const,
} as const;

/** Name of pool file `phys` while it holds segment `seq`. */
export function segmentFileName(seq: number, phys: number): string {
  return `${String(seq).padStart(16, "0")}.${phys}.seg`;
}

/** The file name of the control file. */
export const CONTROL_FILE = "control.alog";
/** The file name of the writer lock. */
export const LOCK_FILE = "writer.lock";

const TWO_32 = 4294967296;

/** Reads a (hi, lo) pair with plain loads (files at rest, or single-owner words). */
export function readPair(words: Int32Array, at: number): number {
  return words[at]! * TWO_32 + (words[at + 1]! >>> 0);
}

/** Writes a (hi, lo) pair. */
export function writePair(words: Int32Array, at: number, value: number): void {
  words[at] = Math.floor(value / TWO_32);
  words[at + 1] = value >>> 0;
}

/** The record layout stored in the control header, for error messages and tools. */
export interface StoredLayout {
  readonly name: string;
  readonly fingerprint: string;
  readonly byteLength: number;
  readonly fields: readonly { readonly name: string; readonly type: string; readonly offset: number; readonly size: number }[];
}

/** Decodes the layout JSON of a control header, or throws {@link CorruptLogError}. */
export function readLayout(path: string, bytes: Uint8Array, words: Int32Array): StoredLayout {
  const n = words[CF.LAYOUT_BYTES]!;
  if (!(n > 0 && n <= LAYOUT_MAX)) throw new CorruptLogError(path, `layout length ${n} is outside (0, ${LAYOUT_MAX}]`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(CF.LAYOUT_BYTE, CF.LAYOUT_BYTE + n)));
  } catch {
    throw new CorruptLogError(path, "the record layout in the header is not valid JSON");
  }
  const l = parsed as Partial<StoredLayout> | null;
  if (l === null || typeof l !== "object" || typeof l.name !== "string" || typeof l.fingerprint !== "string" || !Array.isArray(l.fields)) {
    throw new CorruptLogError(path, "the record layout in the header lacks name, fingerprint or fields");
  }
  return l as StoredLayout;
}

/** Writes the layout JSON into a control header. */
export function writeLayout(bytes: Uint8Array, words: Int32Array, layout: StoredLayout): void {
  const json = new TextEncoder().encode(JSON.stringify(layout));
  if (json.length > LAYOUT_MAX) {
    // Only the name and fields' names make it long; keep what identifies the record.
    const short = new TextEncoder().encode(JSON.stringify({ ...layout, fields: [] }));
    bytes.set(short, CF.LAYOUT_BYTE);
    words[CF.LAYOUT_BYTES] = short.length;
    return;
  }
  bytes.set(json, CF.LAYOUT_BYTE);
  words[CF.LAYOUT_BYTES] = json.length;
}

/** The current kernel boot id: a reboot (or power loss) since a log was written changes it. "" where unknown. */
export function currentBootId(): string {
  try {
    // A synchronous read of a tiny procfs file; only at open.
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().slice(0, 36);
  } catch {
    return "";
  }
}

/** Reads the boot id stored in a control header. */
export function readBootId(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 36; i++) {
    const c = bytes[CF.BOOT_ID_BYTE + i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Stores a boot id in a control header. */
export function writeBootId(bytes: Uint8Array, id: string): void {
  for (let i = 0; i < 36; i++) bytes[CF.BOOT_ID_BYTE + i] = i < id.length ? id.charCodeAt(i) & 0x7f : 0;
}
