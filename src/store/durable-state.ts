/**
 * The file-level state of an open durable log in one thread: the mapped
 * control file's header, the segment files, the durability policy, and the
 * sync step that makes published records durable.
 *
 * Sync (protocol "durability"): (1) extend the head's commit table to the
 * published count (full segments were covered when they were sealed),
 * (2) fdatasync every segment file dirtied since the last sync, (3) store the
 * synced sequence in the control header, (4) fdatasync the control file (its
 * control block holds the window and the counts). Invariant: after a power
 * loss, every record below the stored synced sequence is on disk with a
 * verifying checksum, so recovery keeps it.
 */
import { join } from "node:path";
import { InvalidOptionError } from "../errors.ts";
import { CF, CONTROL_FILE, MAX_APP_HEADER_BYTES, readPair, writePair } from "./file-format.ts";
import { type FileSegmentStore, flushPath } from "./file-store.ts";
import { BELL, RECHECK_MS, RemoteWake } from "./remote-wake.ts";
import type { Syncer, SyncerLink } from "./syncer.ts";

/**
 * When published records are made durable (checksummed and flushed to disk).
 * - `"none"`: never by the library (call `writer.sync()`); the OS writes pages
 *   back on its own schedule. Checksums are still kept per sealed segment.
 * - `{ intervalMs }`: the writer's thread syncs every `intervalMs` while it
 *   is idle, and at a segment roll when the interval has passed.
 * - `"everyCommit"`: every `commit()` (and so every `append`) syncs before it returns.
 */
export type DurabilityPolicy = "none" | "everyCommit" | { readonly intervalMs: number };

/** Validates a durability option. */
export function checkDurability(value: unknown): DurabilityPolicy {
  if (value === undefined) return "none";
  if (value === "none" || value === "everyCommit") return value;
  const ms = (value as { intervalMs?: unknown } | null)?.intervalMs;
  if (value !== null && typeof value === "object" && typeof ms === "number" && ms > 0 && Number.isFinite(ms)) return { intervalMs: ms };
  throw new InvalidOptionError("durability", value, '"none", "everyCommit" or { intervalMs: n } with n > 0');
}

/** What recovery found and did when the log was opened. */
export interface DurableRecovery {
  /**
   * - `"created"`: a new log;
   * - `"clean"`: closed cleanly, nothing to repair;
   * - `"crashed"`: the last writer process died (same boot): the published
   *   records in the page cache were kept, every checksum in the window verified;
   * - `"rebuilt"`: the machine rebooted since, the control block was
   *   inconsistent (with itself, the files or a clean close), or a checksum
   *   failed: the window was rebuilt from the segment files (or cut at the
   *   damage), keeping only records whose checksums verify.
   */
  readonly mode: "created" | "clean" | "crashed" | "rebuilt";
  /** Sequence the next record gets. */
  readonly nextSequence: number;
  /** Records that were published but dropped because they failed verification (0 unless damaged). */
  readonly droppedRecords: number;
  /** Segments whose checksums were verified. */
  readonly verifiedSegments: number;
  /** Milliseconds recovery took. */
  readonly ms: number;
}

/** Per-thread handle on a durable log's files. */
export class DurableState {
  readonly dir: string;
  readonly store: FileSegmentStore;
  /** The control file's header page (words). */
  readonly header: Int32Array;
  readonly policy: DurabilityPolicy;
  /** What recovery did (in the thread that opened the log). */
  recovery: DurableRecovery | null = null;
  /** This process's entry in the process table (process-table.ts), -1 until taken. */
  processSlot = -1;
  /** The owner-tag base of this process's threads (entry and generation bits; 0 until an entry is taken). */
  tagBase = 0;
  /** Opened without the writer lock: no writer can be claimed here. */
  readOnly = false;

  /**
   * The application's own header: MAX_APP_HEADER_BYTES (1024) bytes in the
   * control file's header page, for whatever the application wants to keep
   * with the log (a schema version, a source id). Zeros in a new log. Writes
   * go to the mapped file at once and reach the disk with the next sync or close.
   */
  get appHeader(): Uint8Array {
    return new Uint8Array(this.header.buffer, this.header.byteOffset + CF.APP_HEADER_BYTE, MAX_APP_HEADER_BYTES);
  }

  /** Retention age in ms (0: by count only), stored in the control header. */
  get retentionMs(): number {
    return new Float64Array(this.header.buffer, this.header.byteOffset + CF.RETENTION_MS_F64_BYTE, 1)[0]!;
  }

  set retentionMs(ms: number) {
    new Float64Array(this.header.buffer, this.header.byteOffset + CF.RETENTION_MS_F64_BYTE, 1)[0] = ms;
  }

  /** Duration of time-aligned segments in ms (0: off), stored in the control header. */
  get segmentDurationMs(): number {
    return new Float64Array(this.header.buffer, this.header.byteOffset + CF.SEGMENT_DURATION_MS_F64_BYTE, 1)[0]!;
  }

  set segmentDurationMs(ms: number) {
    new Float64Array(this.header.buffer, this.header.byteOffset + CF.SEGMENT_DURATION_MS_F64_BYTE, 1)[0] = ms;
  }

  /** Whether this process runs a waker thread for its parked readers (remote-wake.ts). */
  listening = false;
  /** The process's bell (see LogState.bell), set at open or attach. */
  bell: Int32Array | null = null;

  /** Wake-ups from writers in other processes that this process's waker passed on (monitoring and tests). */
  get doorbellRings(): number {
    return this.bell === null ? 0 : Atomics.load(this.bell, BELL.RINGS);
  }
  /** Stops the waker thread (opener thread of a read-only log). */
  stopListening: (() => void) | null = null;
  private bells: RemoteWake | null = null;

  /**
   * Re-check interval of parked readers. Readers in a process without the
   * writer lock are woken by their waker thread, re-checking every RECHECK_MS
   * in case a wake-up is lost; without a waker they poll every millisecond.
   */
  get pollMs(): number | null {
    if (!this.readOnly) return null;
    return this.listening ? RECHECK_MS : 1;
  }

  /** The doorbells of other processes' parked readers, rung by a writer in this process. */
  get doorbells(): RemoteWake {
    return (this.bells ??= new RemoteWake(this.header));
  }

  constructor(dir: string, store: FileSegmentStore, header: Int32Array, policy: DurabilityPolicy) {
    this.dir = dir;
    this.store = store;
    this.header = header;
    this.policy = policy;
  }

  /** Records below this sequence are durable. */
  get syncedSequence(): number {
    // One writer stores it (hi, lo); re-read until both halves agree with each other.
    for (;;) {
      const hi = Atomics.load(this.header, CF.SYNCED_HI);
      const value = readPair(this.header, CF.SYNCED_HI);
      if (Atomics.load(this.header, CF.SYNCED_HI) === hi) return value;
    }
  }

  /**
   * The sync protocol (see the file comment), for a head `phys` holding
   * segment `seq` with `published` records; with a syncer (interval policy),
   * steps 2–4 run on the syncer and this waits for them. Writer's thread only.
   * @returns the synced sequence.
   */
  sync(phys: number, seq: number, published: number, segmentCapacity: number): number {
    this.store.seal(phys, seq, published);
    const synced = seq * segmentCapacity + published;
    if (this.syncer !== null) {
      // Under the interval policy the syncer is the one thread that stores the synced point.
      this.syncer.requestAndWait(synced, this.dir);
      return synced;
    }
    this.store.flush();
    if (synced > this.syncedSequence) {
      writePair(this.header, CF.SYNCED_HI, synced);
      flushPath(join(this.dir, CONTROL_FILE));
    }
    return synced;
  }

  /**
   * Interval policy: checksums the head's published prefix on this (the
   * writer's) thread, and asks the syncer to flush it; returns at once.
   */
  requestSync(phys: number, seq: number, published: number, segmentCapacity: number): void {
    this.store.seal(phys, seq, published);
    this.syncer?.request(seq * segmentCapacity + published);
  }

  /** The syncer of the interval policy (syncer.ts), shared by the opener's threads; null otherwise. */
  syncer: SyncerLink | null = null;
  /** The syncer worker itself, in the opener's thread (stopped by close()). */
  syncerProcess: Syncer | null = null;

  /** At close, after a sync: marks the log closed cleanly (recovery then expects nothing beyond the synced point). */
  markClosed(): void {
    Atomics.store(this.header, CF.CLOSED, 1);
    flushPath(join(this.dir, CONTROL_FILE));
  }
}
