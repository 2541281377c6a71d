/**
 * The durable segment store: every pool segment is a preallocated file,
 * memory-mapped with `Bun.mmap` (MAP_SHARED), so records written through the
 * generated views land in the page cache at once (they survive a SIGKILL of
 * the writer) and reach the disk at the next sync.
 *
 * The engine sees the same interface as the memory pool: a slab and a base
 * offset per physical segment. The writer additionally calls {@link prepare}
 * when it recycles a file for a new head and {@link seal} when a head is full;
 * both run once per segment, off the per-record path.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, readdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { CorruptLogError, LogStorageError } from "../errors.ts";
import { Slab } from "../records/slab.ts";
import { coveredCount, extendTable, resetTable, rewriteTable } from "./commit-table.ts";
import { FILE_VERSION, HEADER_BYTES, SEGMENT_MAGIC, SF, readPair, segmentFileName, writePair } from "./file-format.ts";
import { preallocate } from "./preallocate.ts";
import type { SegmentStore, StoreHandle } from "./segment-store.ts";

/** What identifies a log's segment files. */
export interface FileGeometry {
  readonly dir: string;
  readonly poolSegments: number;
  readonly segmentCapacity: number;
  readonly recordBytes: number;
  readonly fingerprint: readonly [number, number];
}

/** Bytes of one segment file: a header page, then the records. */
export function segmentFileBytes(g: FileGeometry): number {
  return HEADER_BYTES + g.segmentCapacity * g.recordBytes;
}

/**
 * The name of pool file `phys` while it holds segment `seq` (-1: none). The
 * name is derived from the header, never cached, so a writer in any worker
 * renames correctly; the pool slot in the name keeps it unique while a
 * takeover's copy and the head it replaced hold the same sequence.
 */
export function poolFileName(phys: number, seq: number): string {
  return seq < 0 ? `free.${phys}.seg` : segmentFileName(seq, phys);
}

/** Maps a file read-write; a missing or unmappable file is a typed error. */
export function mapFile(path: string, expectedBytes: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = Bun.mmap(path, { shared: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    // An empty file cannot be mapped (EINVAL): it is a damaged log file, not a refusal of the file system.
    if (code === "EINVAL" && isEmptyFile(path)) throw new CorruptLogError(path, `the file has 0 bytes; its log's geometry says ${expectedBytes}`);
    throw new LogStorageError(path, code, "cannot map the file");
  }
  if (bytes.byteLength !== expectedBytes) {
    throw new CorruptLogError(path, `the file has ${bytes.byteLength} bytes; its log's geometry says ${expectedBytes}`);
  }
  return bytes;
}

/** Whether `path` is a file of 0 bytes (false if it cannot be examined). */
export function isEmptyFile(path: string): boolean {
  try {
    return statSync(path).size === 0;
  } catch {
    return false;
  }
}

/** Creates a file of `size` bytes with real blocks, mode 0600. A full disk is a {@link LogStorageError} (ENOSPC). */
export function createPreallocated(path: string, size: number): void {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    throw new LogStorageError(path, (error as NodeJS.ErrnoException).code ?? "EIO", "cannot create the file");
  }
  try {
    const failed = preallocate(fd, size);
    if (failed !== null) throw new LogStorageError(path, failed, `cannot preallocate ${size} bytes`);
  } finally {
    closeSync(fd);
  }
}

/** One mapped pool file. */
interface PoolFile {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  readonly slab: Slab;
  /** The header's time fields (created, sealed), as f64. */
  readonly times: Float64Array;
  /** Dirtied since the last sync. */
  dirty: boolean;
}

/** A pool of memory-mapped segment files. */
export class FileSegmentStore implements SegmentStore {
  readonly geometry: FileGeometry;
  private readonly files: PoolFile[];

  private constructor(geometry: FileGeometry, files: PoolFile[]) {
    this.geometry = geometry;
    this.files = files;
  }

  /** Creates every pool file (preallocated, free) in an empty log directory. */
  static create(g: FileGeometry): FileSegmentStore {
    const size = segmentFileBytes(g);
    // Every file gets its blocks before any is mapped: a full disk fails here, and removing
    // the files gives their space back at once (a mapping would hold it until collected).
    for (let phys = 0; phys < g.poolSegments; phys++) createPreallocated(join(g.dir, poolFileName(phys, -1)), size);
    const files: PoolFile[] = [];
    for (let phys = 0; phys < g.poolSegments; phys++) {
      const path = join(g.dir, poolFileName(phys, -1));
      const file = poolFile(mapFile(path, size));
      const w = file.words;
      w[SF.MAGIC] = SEGMENT_MAGIC;
      w[SF.VERSION] = FILE_VERSION;
      w[SF.HEADER_BYTES] = HEADER_BYTES;
      w[SF.PHYS] = phys;
      w[SF.RECORD_BYTES] = g.recordBytes;
      w[SF.SEGMENT_CAPACITY] = g.segmentCapacity;
      w[SF.FINGERPRINT_HI] = g.fingerprint[0];
      w[SF.FINGERPRINT_LO] = g.fingerprint[1];
      writePair(w, SF.SEQ_HI, -1);
      // The header must reach the disk with the log's creation: a pool file whose header
      // page was never written back reads as zeros after a power loss, and a file with a
      // wrong magic number makes the whole log fail to open (found by test/durable/power-loss.test.ts).
      file.dirty = true;
      files.push(file);
    }
    return new FileSegmentStore(g, files);
  }

  /**
   * Maps the pool files of an existing log directory, finding each by the
   * pool slot in its header. Files are renamed while the log runs, so a name
   * that vanished between listing and mapping means "list again".
   * @throws {CorruptLogError} for a missing, duplicated or foreign pool file.
   */
  static open(g: FileGeometry, fixNames: boolean): FileSegmentStore {
    const size = segmentFileBytes(g);
    for (let attempt = 0; ; attempt++) {
      const found: (PoolFile | undefined)[] = new Array(g.poolSegments);
      const names: string[] = new Array(g.poolSegments);
      let vanished = false;
      for (const name of readdirSync(g.dir)) {
        if (!name.endsWith(".seg")) continue;
        const path = join(g.dir, name);
        let bytes: Uint8Array;
        try {
          bytes = mapFile(path, size);
        } catch (error) {
          if (error instanceof LogStorageError && error.errno === "ENOENT") {
            vanished = true;
            continue;
          }
          throw error;
        }
        const file = poolFile(bytes);
        const phys = checkSegmentHeader(path, file.words, g);
        if (found[phys] !== undefined) throw new CorruptLogError(path, `a second file claims pool slot ${phys}`);
        found[phys] = file;
        names[phys] = name;
      }
      const missing = found.findIndex((f) => f === undefined);
      if (missing < 0) {
        const store = new FileSegmentStore(g, found as PoolFile[]);
        // Names lag headers until a sync (see prepare): give each file its header's name (writers only).
        if (fixNames) for (let phys = 0; phys < g.poolSegments; phys++) store.renameFrom(phys, names[phys]!);
        return store;
      }
      if (!vanished || attempt >= 100) {
        throw new CorruptLogError(join(g.dir, poolFileName(missing, -1)), `pool slot ${missing} of ${g.poolSegments} has no segment file`);
      }
    }
  }

  slab(phys: number): Slab {
    return this.files[phys]!.slab;
  }

  base(_phys: number): number {
    return HEADER_BYTES;
  }

  share(): StoreHandle {
    const g = this.geometry;
    return { kind: "file", dir: g.dir, poolSegments: g.poolSegments, segmentBytes: g.segmentCapacity * g.recordBytes };
  }

  /** The header words of pool file `phys`. */
  header(phys: number): Int32Array {
    return this.files[phys]!.words;
  }

  /** The record bytes (from {@link base}) of pool file `phys`. */
  bytes(phys: number): Uint8Array {
    return this.files[phys]!.bytes;
  }

  /**
   * Writes one zero byte per page of the first `segments` pool files' records,
   * so the kernel maps them now rather than on the writer's hot path (first
   * touch of fresh file pages measured 217–249 M rec/s against 640 warm).
   * Only for a new log, whose files are all zeros.
   */
  preTouch(segments: number): void {
    for (let phys = 0; phys < Math.min(segments, this.files.length); phys++) {
      const u8 = this.files[phys]!.bytes;
      for (let i = HEADER_BYTES; i < u8.length; i += 4096) u8[i] = 0;
    }
  }

  /** When segment `phys` was sealed (its last record appended), ms since the epoch; 0 while it is the head. */
  sealedAt(phys: number): number {
    return this.files[phys]!.times[1]!;
  }

  /** Segment sequence pool file `phys` holds, from its header (-1: none). */
  seqOf(phys: number): number {
    return readPair(this.files[phys]!.words, SF.SEQ_HI);
  }

  /** The current file name of pool file `phys`. */
  fileName(phys: number): string {
    return poolFileName(phys, this.seqOf(phys));
  }

  /**
   * Writer side, before the directory maps `seq` to `phys`: rewrites the
   * file's header for the new sequence. The table is reset before the
   * sequence changes, so no state pairs the new sequence with the old
   * checksum. The file is renamed to its new sequence later, at the next
   * sync or close ({@link syncNames}): a rename per roll cost the batched
   * append path a third of its rate, and nothing depends on names (the
   * header is the truth; names are for people and tools).
   */
  prepare(phys: number, seq: number): void {
    const file = this.files[phys]!;
    const w = file.words;
    resetTable(w);
    w[SF.CLOSED] = 0;
    writePair(w, SF.SEQ_HI, seq);
    writePair(w, SF.FIRST_HI, seq * this.geometry.segmentCapacity);
    w[SF.GENERATION] = w[SF.GENERATION]! + 1;
    file.times[0] = Date.now();
    file.times[1] = 0;
    file.dirty = true;
  }

  /**
   * Gives every pool file the name its header says. Finds the current names
   * by listing the directory (the pool slot is in every name), so it needs no
   * memory of earlier renames and works from any thread.
   */
  syncNames(): Map<number, string> {
    const dir = this.geometry.dir;
    const names = new Map<number, string>();
    for (const name of readdirSync(dir)) {
      const m = /\.(\d+)\.seg$/.exec(name);
      if (m === null) continue;
      const phys = Number(m[1]);
      if (phys < this.files.length) names.set(phys, this.renameFrom(phys, name));
    }
    return names;
  }

  /** Gives pool file `phys` its free name (recovery: it holds nothing any more). */
  discard(phys: number): void {
    const w = this.files[phys]!.words;
    resetTable(w);
    w[SF.CLOSED] = 0;
    writePair(w, SF.SEQ_HI, -1);
    this.files[phys]!.dirty = true;
  }

  /** Renames pool file `phys` from `oldName` to the name its header gives. */
  /** Renames pool file `phys` from `oldName` to the name its header gives; returns the name it has now. */
  private renameFrom(phys: number, oldName: string): string {
    const name = this.fileName(phys);
    if (oldName === name) return name;
    const dir = this.geometry.dir;
    try {
      renameSync(join(dir, oldName), join(dir, name));
    } catch (error) {
      throw new LogStorageError(join(dir, oldName), (error as NodeJS.ErrnoException).code ?? "EIO", `cannot rename to ${name}`);
    }
    return name;
  }

  /**
   * Writer side: extends segment `phys`'s commit table to cover `count`
   * records (a full segment at a roll, the published prefix at a sync).
   */
  seal(phys: number, seq: number, count: number, closed = false): void {
    const file = this.files[phys]!;
    const extended = extendTable(file.words, file.bytes, HEADER_BYTES, this.geometry.recordBytes, seq, count);
    if (closed && file.words[SF.CLOSED] !== count + 1) {
      file.words[SF.CLOSED] = count + 1;
      file.times[1] = Date.now();
      file.dirty = true;
      return;
    }
    if (!extended) return;
    file.dirty = true;
    // Stamped once, when the table first covers the whole segment: a later seal of the same
    // count (the roll after a sync that covered a full head) changes nothing, so it must not
    // rewrite the header page either (the page would change after the sync, unflushed).
    if (count === this.geometry.segmentCapacity) file.times[1] = Date.now();
  }

  /** The count segment `phys` was closed at early, or -1 if it was not closed (SF.CLOSED). */
  closedAt(phys: number): number {
    return this.files[phys]!.words[SF.CLOSED]! - 1;
  }

  /** Recovery: makes segment `phys`'s commit table cover exactly its `count` verified records (see rewriteTable). */
  retable(phys: number, seq: number, count: number): void {
    const file = this.files[phys]!;
    if (coveredCount(file.words) === count) return;
    rewriteTable(file.words, file.bytes, HEADER_BYTES, this.geometry.recordBytes, seq, count);
    file.dirty = true;
  }

  /**
   * Renames files to their sequences, then flushes every file dirtied since
   * the last flush to disk (fdatasync on a separate descriptor); with `all`,
   * every file, including pages that another process dirtied (this process's
   * flags know only its own writes).
   */
  flush(all = false): void {
    const names = this.syncNames();
    for (let phys = 0; phys < this.files.length; phys++) {
      const file = this.files[phys]!;
      if (!file.dirty && !all) continue;
      file.dirty = false;
      this.flushFile(phys, names);
    }
  }

  /**
   * fdatasync of pool file `phys`, found by the name it has on disk
   * (`names`, from {@link syncNames}). Not by the name its header gives: a
   * writer in another thread may rewrite the header (prepare) between the
   * rename and this flush, and the file keeps its old name until the next one.
   */
  flushFile(phys: number, names: ReadonlyMap<number, string>): void {
    flushPath(join(this.geometry.dir, names.get(phys) ?? this.fileName(phys)));
  }
}

/** fdatasync of a file by path: flushes the pages dirtied through any mapping of it. */
export function flushPath(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r+");
  } catch (error) {
    throw new LogStorageError(path, (error as NodeJS.ErrnoException).code ?? "EIO", "cannot open the file to sync it");
  }
  try {
    fdatasyncSync(fd);
  } catch (error) {
    throw new LogStorageError(path, (error as NodeJS.ErrnoException).code ?? "EIO", "fdatasync failed");
  } finally {
    closeSync(fd);
  }
}

/**
 * fsync of a directory: makes the names created or renamed in it durable
 * (fdatasync of a file does not cover its directory entry). A file system that
 * cannot sync a directory (EINVAL) has nothing more to do.
 */
export function flushDirectory(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new LogStorageError(path, (error as NodeJS.ErrnoException).code ?? "EIO", "cannot open the directory to sync it");
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    if (code !== "EINVAL") throw new LogStorageError(path, code, "fsync of the directory failed");
  } finally {
    closeSync(fd);
  }
}

function poolFile(bytes: Uint8Array): PoolFile {
  return {
    bytes,
    words: new Int32Array(bytes.buffer, bytes.byteOffset, HEADER_BYTES / 4),
    slab: Slab.of(bytes.buffer),
    times: new Float64Array(bytes.buffer, bytes.byteOffset + SF.CREATED_F64_BYTE, 2),
    dirty: false,
  };
}

/** Checks a segment file's header against the log; returns its pool slot. */
function checkSegmentHeader(path: string, w: Int32Array, g: FileGeometry): number {
  if (w[SF.MAGIC] !== SEGMENT_MAGIC) throw new CorruptLogError(path, "not an atomic-log segment file (wrong magic number)");
  if (w[SF.VERSION] !== FILE_VERSION) throw new CorruptLogError(path, `segment file version ${w[SF.VERSION]} is not supported (expected ${FILE_VERSION})`);
  if (w[SF.HEADER_BYTES] !== HEADER_BYTES) throw new CorruptLogError(path, `header size ${w[SF.HEADER_BYTES]} (expected ${HEADER_BYTES})`);
  const phys = w[SF.PHYS]!;
  if (!(phys >= 0 && phys < g.poolSegments)) throw new CorruptLogError(path, `pool slot ${phys} is outside the pool of ${g.poolSegments}`);
  if (w[SF.RECORD_BYTES] !== g.recordBytes || w[SF.SEGMENT_CAPACITY] !== g.segmentCapacity) {
    throw new CorruptLogError(path, `segment of ${w[SF.SEGMENT_CAPACITY]} records of ${w[SF.RECORD_BYTES]} bytes; the log has ${g.segmentCapacity} of ${g.recordBytes}`);
  }
  if (w[SF.FINGERPRINT_HI] !== g.fingerprint[0] || w[SF.FINGERPRINT_LO] !== g.fingerprint[1]) {
    throw new CorruptLogError(path, "the segment file belongs to a log of another record");
  }
  return phys;
}
