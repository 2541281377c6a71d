/**
 * Opening a durable log directory: create it, or map it and recover it; and
 * attaching to it from a worker, which maps the files itself.
 *
 * The control block lives in `control.alog` (after its header page), so the
 * engine's protocols run unchanged over the mapping (`Atomics` load, store and
 * compare-and-swap work on mapped memory). Parked readers wait on a small
 * SharedArrayBuffer of the process instead (the "bell", see wake.ts), since
 * `Atomics.wait` refuses memory that is not a SharedArrayBuffer.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CorruptLogError, FingerprintMismatchError, InvalidHandleError, InvalidOptionError, LogStorageError } from "../errors.ts";
import { LogState, controlWords, fingerprintWords, initializeControl } from "../log/log-state.ts";
import { type LogOptions, TAKEOVER_SPARE, resolveOptions } from "../log/options.ts";
import type { RecordCodec } from "../records/codec.ts";
import type { RecordView } from "../records/record-view.ts";
import { FORMAT, H, MAGIC, controlGeometry, loadPair } from "../shared/control.ts";
import { DurableState, type DurabilityPolicy, checkDurability } from "./durable-state.ts";
import {
  CF,
  CONTROL_FILE,
  CONTROL_MAGIC,
  FILE_VERSION,
  HEADER_BYTES,
  currentBootId,
  readBootId,
  readLayout,
  writeBootId,
  writeLayout,
} from "./file-format.ts";
import { FileSegmentStore, createPreallocated, flushDirectory, flushPath, isEmptyFile, mapFile } from "./file-store.ts";
import { recover } from "./recovery.ts";
import { WriterLock, withOpenLock } from "./writer-lock.ts";
import { clearProcessTable, takeEntry } from "./process-table.ts";
import { BELL, listenForWakes } from "./remote-wake.ts";
import { Syncer, SyncerLink } from "./syncer.ts";

/** Options for `AtomicLog.open`. The geometry options are needed only to create a log; on an existing one they must match. */
export interface DurableLogOptions extends Partial<Omit<LogOptions, "preTouch">> {
  /** When records are made durable; default `"none"` (see {@link DurabilityPolicy}). */
  durability?: DurabilityPolicy;
  /** Create the log if the directory holds none (default true). With false, a missing log is a `LogStorageError` (ENOENT). */
  create?: boolean;
  /**
   * Retention by time: sealed segments whose last record is older than this
   * many milliseconds leave the window (at each roll, and on
   * `writer.cleanup()`), on top of retention by count. Stored in the log; 0
   * turns it off. Default: the log's stored value (0 for a new log).
   */
  retentionMs?: number;
  /**
   * Time-aligned segments (nano_wal's `segment_duration`): the writer closes
   * its head when the clock passes the end of the `segmentDurationMs`-long
   * window (aligned to the epoch) it was started in, so each segment holds
   * the records of one window (a segment also closes when full). The rest of
   * a closed segment's sequences are a gap (see `writer.skipTo`). Checked at
   * every roll, every 1024 commits and on a timer while the writer's thread is
   * idle, so a segment may take records for up to one check after its window
   * ends. Stored in the log; 0 turns it off. Default: the stored value (0).
   */
  segmentDurationMs?: number;
  /**
   * Open without the writer lock, alongside a writer in another process (or
   * none): snapshots, cursors and dispatchers work; no writer can be claimed.
   * Never creates or repairs the log. Default false.
   */
  readOnly?: boolean;
}

const KNOWN_OPTIONS = new Set(["retainedCapacity", "segmentCapacity", "snapshotBudget", "maxSnapshots", "initialSequence", "durability", "create", "readOnly", "retentionMs", "segmentDurationMs"]);

/** What a worker needs to map a durable log itself. */
export interface DurableHandle {
  readonly dir: string;
  readonly bell: SharedArrayBuffer;
  readonly durability: DurabilityPolicy;
  /** The opening process's entry in the process table, and its tag base: its workers tag with it too. */
  readonly processSlot: number;
  readonly tagBase: number;
  readonly readOnly: boolean;
  /** Whether the opener listens on a doorbell that rings the bell (remote-wake.ts). */
  readonly listening: boolean;
  /** The opener's syncer (interval policy), for writers in workers; null otherwise. */
  readonly syncer: SharedArrayBuffer | null;
}

/** An open durable log in the thread that opened it: its state and the writer lock it holds. */
export interface OpenedLog<V extends RecordView, D> {
  readonly state: LogState<V, D>;
  /** The writer lock (null when opened read-only). */
  readonly lock: WriterLock | null;
}

/**
 * Opens (recovering) or creates the durable log in `dir`.
 * @throws {InvalidOptionError} for bad options, or geometry that differs from the existing log's.
 * @throws {FingerprintMismatchError} if the log holds another record.
 * @throws {CorruptLogError} if the control file or a segment file is not a valid log file.
 * @throws {LogLockedError} if another process (or another open in this one) has it open.
 * @throws {LogStorageError} if the directory cannot be created or written, or the disk is full.
 */
export function openDurable<V extends RecordView, D>(codec: RecordCodec<V, D>, dirArg: unknown, optionsArg: unknown): OpenedLog<V, D> {
  if (typeof dirArg !== "string" || dirArg === "") throw new InvalidOptionError("dir", dirArg, "a directory path");
  const options = (optionsArg ?? {}) as DurableLogOptions;
  if (typeof options !== "object") throw new InvalidOptionError("options", optionsArg, "an options object");
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new InvalidOptionError(key, (options as Record<string, unknown>)[key], `no such option (known: ${[...KNOWN_OPTIONS].join(", ")})`);
  }
  const policy = checkDurability(options.durability);
  const retentionMs = options.retentionMs;
  if (retentionMs !== undefined && !(typeof retentionMs === "number" && Number.isFinite(retentionMs) && retentionMs >= 0)) {
    throw new InvalidOptionError("retentionMs", retentionMs, "a number of milliseconds >= 0 (0: retention by count only)");
  }
  const segmentDurationMs = options.segmentDurationMs;
  if (segmentDurationMs !== undefined && !(typeof segmentDurationMs === "number" && Number.isFinite(segmentDurationMs) && segmentDurationMs >= 0)) {
    throw new InvalidOptionError("segmentDurationMs", segmentDurationMs, "a number of milliseconds >= 0 (0: segments close only when full)");
  }
  const create = options.create ?? true;
  if (typeof create !== "boolean") throw new InvalidOptionError("create", create, "a boolean");
  const readOnly = options.readOnly ?? false;
  if (typeof readOnly !== "boolean") throw new InvalidOptionError("readOnly", readOnly, "a boolean");
  const dir = resolve(dirArg);
  const exists = existsSync(join(dir, CONTROL_FILE));
  if (readOnly) {
    if (!exists) throw new LogStorageError(dir, "ENOENT", "no durable log here to open read-only");
    const bell = new Int32Array(new SharedArrayBuffer(BELL.WORDS * 4));
    const state = withOpenLock(dir, false, () => openReadOnly(codec, dir, options, policy, bell));
    return { state, lock: null };
  }
  if (!exists) {
    if (!create) throw new LogStorageError(dir, "ENOENT", "no durable log here (open with create: true to create one)");
    let made: string | undefined;
    try {
      made = mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new LogStorageError(dir, (error as NodeJS.ErrnoException).code ?? "EIO", "cannot create the log directory");
    }
    // Each directory created is durable once its parent is synced.
    for (let d = dir; made !== undefined; d = dirname(d)) {
      flushDirectory(dirname(d));
      if (d === made || dirname(d) === d) break;
    }
  }
  const lock = WriterLock.acquire(dir);
  try {
    const bell = new Int32Array(new SharedArrayBuffer(BELL.WORDS * 4));
    const state = withOpenLock(dir, true, () =>
      existsSync(join(dir, CONTROL_FILE)) ? openExisting(codec, dir, options, policy, bell) : createLog(codec, dir, options, policy, bell),
    );
    const durable = state.durable!;
    if (retentionMs !== undefined) durable.retentionMs = retentionMs;
    if (segmentDurationMs !== undefined) durable.segmentDurationMs = segmentDurationMs;
    if (typeof policy === "object") {
      durable.syncerProcess = Syncer.start(dir, durable.syncedSequence);
      durable.syncer = durable.syncerProcess.link;
    }
    return { state, lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

function createLog<V extends RecordView, D>(
  codec: RecordCodec<V, D>,
  dir: string,
  options: DurableLogOptions,
  policy: DurabilityPolicy,
  bell: Int32Array,
): LogState<V, D> {
  const missing = options.retainedCapacity === undefined ? "retainedCapacity" : options.segmentCapacity === undefined ? "segmentCapacity" : null;
  if (missing !== null) throw new InvalidOptionError(missing, undefined, "retainedCapacity and segmentCapacity, to create a log");
  // Files are preallocated: the snapshot budget defaults to one window (the minimum), not eight.
  const probe = resolveOptions({ ...options, snapshotBudget: undefined, preTouch: false } as LogOptions, codec.byteLength);
  const g = resolveOptions(
    { ...options, snapshotBudget: options.snapshotBudget ?? probe.retainedSegments + 1, preTouch: false } as LogOptions,
    codec.byteLength,
  );
  removeUnfinishedCreation(dir);
  // A failure (a full disk, most often) must not leave the pool files behind holding the space.
  let state: LogState<V, D>;
  let durable: DurableState;
  try {
    // The control file is built under a temporary name and renamed last: a directory
    // with a control file always holds a complete log. Every file is preallocated
    // before any is mapped (see FileSegmentStore.create).
    const tmp = join(dir, `${CONTROL_FILE}.tmp`);
    const words = controlWords(g);
    const size = HEADER_BYTES + words * 4;
    createPreallocated(tmp, size);
    const fingerprint = fingerprintWords(codec.fingerprint);
    const store = FileSegmentStore.create({ dir, poolSegments: g.poolSegments, segmentCapacity: g.segmentCapacity, recordBytes: g.recordBytes, fingerprint });
    const bytes = mapFile(tmp, size);
    const header = new Int32Array(bytes.buffer, 0, HEADER_BYTES / 4);
    header[CF.MAGIC] = CONTROL_MAGIC;
    header[CF.VERSION] = FILE_VERSION;
    header[CF.HEADER_BYTES] = HEADER_BYTES;
    header[CF.CONTROL_WORDS] = words;
    header[CF.RECORD_BYTES] = g.recordBytes;
    header[CF.SEGMENT_CAPACITY] = g.segmentCapacity;
    header[CF.POOL_SEGMENTS] = g.poolSegments;
    header[CF.FINGERPRINT_HI] = fingerprint[0];
    header[CF.FINGERPRINT_LO] = fingerprint[1];
    new Float64Array(bytes.buffer, CF.CREATED_F64_BYTE, 1)[0] = Date.now();
    writeBootId(bytes, currentBootId());
    writeLayout(bytes, header, { name: codec.name, fingerprint: codec.fingerprint, byteLength: codec.byteLength, fields: layoutFields(codec) });
    const ctl = new Int32Array(bytes.buffer, HEADER_BYTES, words);
    initializeControl(codec, g, ctl);
    durable = new DurableState(dir, store, header, policy);
    state = new LogState(codec, ctl, store, bell, durable);
    ({ slot: durable.processSlot, tagBase: durable.tagBase } = takeEntry(state as unknown as LogState<never, never>, header));
    // As in memory: steady appending reuses the window's segments, so touch exactly those.
    store.preTouch(g.retainedSegments + 1);
    state.startHead(g);
    writeSynced(header, g.initialSequence);
    store.flush();
    flushPath(tmp);
    renameSync(tmp, join(dir, CONTROL_FILE));
    // The new names (the pool files, control.alog) are durable only once the directory is
    // synced: without it a power loss could leave control.alog.tmp, and the next open would
    // take the log for an unfinished creation (found by review; the system calls are checked
    // by test/durable/power-loss.test.ts under strace).
    flushDirectory(dir);
  } catch (error) {
    try {
      removeUnfinishedCreation(dir);
    } catch {
      // keep the original error
    }
    throw error;
  }
  durable.recovery = { mode: "created", nextSequence: g.initialSequence, droppedRecords: 0, verifiedSegments: 0, ms: 0 };
  return state;
}

function writeSynced(header: Int32Array, value: number): void {
  header[CF.SYNCED_HI] = Math.floor(value / 4294967296);
  header[CF.SYNCED_LO] = value >>> 0;
}

function layoutFields(codec: RecordCodec<RecordView, unknown> | RecordCodec<never, never>): StoredField[] {
  const fields = (codec as { fields?: readonly { name: string; type?: string; kind?: string; offset: number; size: number }[] }).fields ?? [];
  return fields.map((f) => ({ name: f.name, type: String(f.type ?? f.kind ?? "?"), offset: f.offset, size: f.size }));
}
type StoredField = { name: string; type: string; offset: number; size: number };

/**
 * A crash (or a failure) while creating left pool files but no control file:
 * remove them (they hold nothing). Creation names the first head's file by its
 * sequence before it renames the finished control file into place, so while
 * `control.alog.tmp` exists a sequence-named file is creation's too; without
 * it, such a file may belong to a log that lost its control file: refuse.
 */
function removeUnfinishedCreation(dir: string): void {
  const names = readdirSync(dir);
  const creating = names.includes(`${CONTROL_FILE}.tmp`);
  for (const name of names) {
    if (/^free\.\d+\.seg$/.test(name) || name === `${CONTROL_FILE}.tmp` || (creating && /^\d{16}\.\d+\.seg$/.test(name))) unlinkSync(join(dir, name));
    else if (name.endsWith(".seg")) {
      throw new CorruptLogError(join(dir, name), `a segment file with a record sequence, but no ${CONTROL_FILE}: not a log this version can open`);
    }
  }
}

/** Maps and checks the control file; throws typed errors naming what is wrong. */
function mapControl(dir: string, codec: RecordCodec<RecordView, unknown> | RecordCodec<never, never>): { bytes: Uint8Array; header: Int32Array; ctl: Int32Array } {
  const path = join(dir, CONTROL_FILE);
  let bytes: Uint8Array;
  try {
    bytes = Bun.mmap(path, { shared: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    // An empty file cannot be mapped (EINVAL): it is a truncated control file, not a refusal of the file system.
    if (code === "EINVAL" && isEmptyFile(path)) throw new CorruptLogError(path, `the control file has 0 bytes, less than its ${HEADER_BYTES}-byte header`);
    throw new LogStorageError(path, code, "cannot map the control file");
  }
  if (bytes.byteLength < HEADER_BYTES) throw new CorruptLogError(path, `the control file has ${bytes.byteLength} bytes, less than its ${HEADER_BYTES}-byte header`);
  const header = new Int32Array(bytes.buffer, 0, HEADER_BYTES / 4);
  if (header[CF.MAGIC] !== CONTROL_MAGIC) throw new CorruptLogError(path, "not an atomic-log control file (wrong magic number)");
  if (header[CF.VERSION] !== FILE_VERSION) throw new CorruptLogError(path, `file format version ${header[CF.VERSION]} is not supported (expected ${FILE_VERSION})`);
  if (header[CF.HEADER_BYTES] !== HEADER_BYTES) throw new CorruptLogError(path, `header size ${header[CF.HEADER_BYTES]} (expected ${HEADER_BYTES})`);
  const layout = readLayout(path, bytes, header);
  const [fpHi, fpLo] = fingerprintWords(codec.fingerprint);
  if (header[CF.FINGERPRINT_HI] !== fpHi || header[CF.FINGERPRINT_LO] !== fpLo || header[CF.RECORD_BYTES] !== codec.byteLength) {
    throw new FingerprintMismatchError({ name: layout.name, fingerprint: layout.fingerprint }, { name: codec.name, fingerprint: codec.fingerprint });
  }
  const words = header[CF.CONTROL_WORDS]!;
  if (!(words > 0 && HEADER_BYTES + words * 4 === bytes.byteLength)) {
    throw new CorruptLogError(path, `the header describes ${words} control words, which do not fill the ${bytes.byteLength}-byte file`);
  }
  const ctl = new Int32Array(bytes.buffer, HEADER_BYTES, words);
  if (ctl[H.MAGIC] !== MAGIC || ctl[H.FORMAT] !== FORMAT) throw new CorruptLogError(path, "the control block has a wrong magic number or format");
  const pool = ctl[H.POOL_SEGMENTS]!;
  const segCap = ctl[H.SEGMENT_CAPACITY]!;
  const retained = ctl[H.RETAINED_SEGMENTS]!;
  const budget = ctl[H.BUDGET]!;
  const dirSize = ctl[H.DIR_SIZE]!;
  const initial = loadPair(ctl, H.INITIAL_SEQ_HI);
  if (
    pool !== header[CF.POOL_SEGMENTS] ||
    segCap !== header[CF.SEGMENT_CAPACITY] ||
    ctl[H.RECORD_BYTES] !== codec.byteLength ||
    !(ctl[H.DIR_SIZE]! > 0 && ctl[H.PIN_SLOTS]! > 0 && ctl[H.RETAINED_SEGMENTS]! > 0) ||
    controlGeometry(pool, ctl[H.DIR_SIZE]!, ctl[H.PIN_SLOTS]!).words !== words ||
    ctl[H.RETAINED_SEGMENTS]! + 1 >= pool ||
    !(segCap > 0 && segCap * codec.byteLength <= 2 ** 32) ||
    // What options.ts derives, exactly: the pool is the window, the budget (at least one window) and the spare;
    // the directory ring a power of two larger than the window; R from retainedCapacity.
    budget < retained + 1 ||
    pool !== retained + 1 + budget + TAKEOVER_SPARE ||
    (dirSize & (dirSize - 1)) !== 0 ||
    dirSize < retained + 2 ||
    Math.ceil(loadPair(ctl, H.RETAINED_CAPACITY_HI) / segCap) !== retained ||
    !(Number.isSafeInteger(initial) && initial >= 0 && initial % segCap === 0)
  ) {
    throw new CorruptLogError(path, "the control block's geometry does not hold together (pool, segment, window, snapshot budget or directory sizes)");
  }
  return { bytes, header, ctl };
}

/** Maps the pool files of the log whose (checked) control block is `ctl`; `fixNames` for the writer's process only. */
function openPool(dir: string, ctl: Int32Array, codec: { readonly byteLength: number; readonly fingerprint: string }, fixNames: boolean): FileSegmentStore {
  return FileSegmentStore.open(
    { dir, poolSegments: ctl[H.POOL_SEGMENTS]!, segmentCapacity: ctl[H.SEGMENT_CAPACITY]!, recordBytes: codec.byteLength, fingerprint: fingerprintWords(codec.fingerprint) },
    fixNames,
  );
}

function openExisting<V extends RecordView, D>(
  codec: RecordCodec<V, D>,
  dir: string,
  options: DurableLogOptions,
  policy: DurabilityPolicy,
  bell: Int32Array,
): LogState<V, D> {
  const { bytes, header, ctl } = mapControl(dir, codec);
  checkSameGeometry(dir, ctl, options);
  const store = openPool(dir, ctl, codec, true);
  const durable = new DurableState(dir, store, header, policy);
  const state = new LogState(codec, ctl, store, bell, durable);
  const boot = currentBootId();
  const sameBoot = boot !== "" && readBootId(bytes) === boot;
  // After a reboot no process of the table can be alive: forget them all before taking an entry.
  if (!sameBoot) clearProcessTable(header);
  ({ slot: durable.processSlot, tagBase: durable.tagBase } = takeEntry(state as unknown as LogState<never, never>, header));
  durable.recovery = recover(state as unknown as LogState<never, never>, durable, sameBoot, header[CF.CLOSED] === 1);
  writeBootId(bytes, boot);
  header[CF.CLOSED] = 0;
  // Every file, not only those recovery dirtied: a writer that died (same boot) left pages
  // in the page cache that were never flushed, and this process's syncs flush only the
  // files it dirties itself, so its next sync would declare those records durable while
  // they are not on disk (found by test/durable/power-loss.test.ts).
  store.flush(true);
  flushPath(join(dir, CONTROL_FILE));
  return state;
}

/** Options given when opening an existing log must be the ones it was created with. */
function checkSameGeometry(dir: string, ctl: Int32Array, options: DurableLogOptions): void {
  const stored: Record<string, number> = {
    retainedCapacity: loadPair(ctl, H.RETAINED_CAPACITY_HI),
    segmentCapacity: ctl[H.SEGMENT_CAPACITY]!,
    snapshotBudget: ctl[H.BUDGET]!,
    maxSnapshots: ctl[H.PIN_SLOTS]!,
    initialSequence: loadPair(ctl, H.INITIAL_SEQ_HI),
  };
  for (const [name, value] of Object.entries(stored)) {
    const given = (options as Record<string, unknown>)[name];
    if (given !== undefined && given !== value) {
      throw new InvalidOptionError(name, given, `${value}, the value the log in ${dir} was created with (omit it to use the log's)`);
    }
  }
}

/** The handle a durable log posts to workers. */
export function durableHandle(state: LogState<RecordView, unknown> | LogState<never, never>): DurableHandle {
  const durable = state.durable!;
  return { dir: durable.dir, bell: state.bell.buffer as SharedArrayBuffer, durability: durable.policy, processSlot: durable.processSlot, tagBase: durable.tagBase, readOnly: durable.readOnly, listening: durable.listening, syncer: (durable.syncer?.words.buffer as SharedArrayBuffer | undefined) ?? null };
}

/**
 * A read-only open: maps the files as they are (no recovery, no renames) and
 * takes a process entry, so this process's pins are honoured by the writer's
 * process and released if this one dies.
 */
function openReadOnly<V extends RecordView, D>(
  codec: RecordCodec<V, D>,
  dir: string,
  options: DurableLogOptions,
  policy: DurabilityPolicy,
  bell: Int32Array,
): LogState<V, D> {
  const { header, ctl } = mapControl(dir, codec);
  checkSameGeometry(dir, ctl, options);
  const store = openPool(dir, ctl, codec, false);
  const durable = new DurableState(dir, store, header, policy);
  durable.readOnly = true;
  const state = new LogState(codec, ctl, store, bell, durable);
  ({ slot: durable.processSlot, tagBase: durable.tagBase } = takeEntry(state as unknown as LogState<never, never>, header));
  durable.stopListening = listenForWakes(dir, durable.processSlot, header, bell);
  durable.listening = durable.stopListening !== null;
  return state;
}

/**
 * In a worker: maps the log's files itself and shares the opener's bell. No
 * recovery and no lock: the opening process holds both.
 */
export function attachDurable<V extends RecordView, D>(codec: RecordCodec<V, D>, handle: DurableHandle): LogState<V, D> {
  if (typeof handle.dir !== "string" || !(handle.bell instanceof SharedArrayBuffer)) {
    throw new InvalidHandleError("its durable part lacks the directory or the bell");
  }
  const { header, ctl } = mapControl(handle.dir, codec);
  const store = openPool(handle.dir, ctl, codec, false);
  const durable = new DurableState(handle.dir, store, header, checkDurability(handle.durability));
  durable.processSlot = handle.processSlot;
  durable.tagBase = handle.tagBase;
  durable.readOnly = handle.readOnly;
  durable.listening = handle.listening;
  if (handle.syncer instanceof SharedArrayBuffer) durable.syncer = new SyncerLink(handle.syncer);
  return new LogState(codec, ctl, store, new Int32Array(handle.bell), durable);
}
