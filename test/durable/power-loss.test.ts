/**
 * Power loss, modelled (it cannot be simulated): a log is written in this
 * process with durability "none" and explicit syncs (plus releases and
 * re-claims, same-boot crashes and clean reopens), its directory is copied
 * into images, and each image is damaged the ways a power loss can damage it
 * (see fixtures/disk-model.ts): pages written since they were last flushed
 * lost, stale, zeroed or torn (whole sectors, or words within one); a zeroed
 * suffix of a segment file or of the control block; renames undone; and
 * always another boot id, as after every real power loss.
 *
 * Each image must open in "rebuilt" mode (the only accepted failure: a
 * CorruptLogError when the control file's header sector itself is destroyed),
 * keep every record below the synced point that retention still held, hold
 * only records equal to `tradeFor(sequence)` as one contiguous run no longer
 * than what was appended, and continue after it: appending other records
 * (`tradeAfter`), syncing, reopening clean, and surviving one more power loss
 * with all of it. Control cases: an undamaged copy with the same boot id keeps
 * everything published; zeros over synced records ("media", beyond a power
 * loss) still give a valid prefix.
 *
 * Where cachestat(2) shows which pages are dirty (a disk file system), the
 * model takes "on disk" from the kernel rather than from the library's word,
 * and every sync is also checked directly: no changed page of a segment file
 * may be left unflushed. POWER_MODEL=diff forces the plain model (pages that
 * differ from a copy taken right after the last sync are the dirty ones).
 *
 * Reproduce a failure with POWER_SEED=<seed printed in the failure>.
 */
import { simulateCrash } from "../support/durable.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtomicLog, CorruptLogError, type Writer } from "../../src/index.ts";
import { Trade, type TradeData, type TradeView } from "../../src/generated/market.ts";
import { between, checkWindow, pageCacheObservable, prng, removeRoot, tmpfsRoot, tradeAfter, tradeFor, type TradeLog } from "./fixtures/durable-helpers.ts";
import { DiskModel, type ImageFile, PAGE, SECTOR, describeDir, writeImage } from "./fixtures/disk-model.ts";

const SEGMENT = 256; // 8 KiB of records: two record pages, sixteen sectors per segment file
const RETAINED = 1024;
const RECORD = 32;
const HEADER = 4096;
/** Control file: the header page, then the control block, whose first 48 words are its own header (geometry, window). */
const CONTROL_BLOCK_HEADER_END = HEADER + 48 * 4;

// The live logs go where the page cache can be observed (a disk file system), the images to tmpfs.
const liveRoot = mkdtempSync(join(tmpdir(), "atomic-log-power-"));
const imageRoot = tmpfsRoot("atomic-log-power-img-");
// POWER_MODEL=diff forces the model used where the page cache cannot be observed.
const OBSERVED = process.env.POWER_MODEL !== "diff" && pageCacheObservable(liveRoot);
afterAll(() => {
  removeRoot(liveRoot);
  removeRoot(imageRoot);
});
let dirs = 0;

function open(dir: string): TradeLog {
  return AtomicLog.open(Trade, dir, { retainedCapacity: RETAINED, segmentCapacity: SEGMENT, durability: "none" });
}

/** What the log held when the power went. */
interface AtLoss {
  /** log.syncedSequence: every record below it was made durable. */
  synced: number;
  /** Sequence the next record would have got. */
  next: number;
  /** First sequence of the window. */
  oldest: number;
  /** Sequence of the segment holding the last record (-1 if none): every segment before it is sealed. */
  lastSeq: number;
}

/** A live log and its disk model, written by {@link History}. */
class History {
  readonly dir = join(liveRoot, `log-${dirs++}`);
  readonly model: DiskModel;
  log: TradeLog;
  writer: Writer<TradeView, TradeData>;
  seq = 0;
  readonly events: string[] = [];

  constructor() {
    this.log = open(this.dir);
    this.writer = this.log.tryClaimWriter()!;
    this.model = new DiskModel(this.dir, OBSERVED);
    this.model.settle(true);
  }

  append(rand: () => number, n: number): void {
    const w = this.writer;
    const r = rand();
    const path = r < 0.3 ? "append" : r < 0.6 ? "appendBatch" : "reserveMany";
    if (r < 0.3) {
      for (let i = 0; i < n; i++) w.append(tradeFor(this.seq++));
    } else if (r < 0.6) {
      const batch: TradeData[] = [];
      for (let i = 0; i < n; i++) batch.push(tradeFor(this.seq + i));
      this.seq += w.appendBatch(batch);
    } else {
      let left = n;
      while (left > 0) {
        const span = w.reserveMany(left);
        for (let i = 0; i < span.length; i++) {
          const t = tradeFor(this.seq++);
          const v = span.at(i);
          v.ts = t.ts;
          v.id = t.id;
          v.price = t.price;
          v.qty = t.qty;
          v.side = t.side;
        }
        left -= span.length;
      }
      w.commit();
    }
    this.events.push(`${path} ${n} -> ${this.seq}`);
  }

  sync(): number {
    const synced = this.writer.sync();
    expect(synced).toBe(this.seq);
    // Observed directly: a sync leaves no changed page of a segment file unflushed (they all hold records below `synced`).
    if (OBSERVED) expect(this.model.unflushedSegmentFiles()).toEqual([]);
    this.model.settle(true);
    this.events.push(`sync ${synced}`);
    return synced;
  }

  /** Hands the writer back and claims it again. */
  reclaim(): void {
    this.writer.release();
    this.writer = this.log.tryClaimWriter()!;
    expect(this.writer.nextSequence).toBe(this.seq);
    this.events.push("release+claim");
  }

  /** The process dies (same boot): the lock is dropped without release() or close(); the log is reopened. */
  crash(): void {
    simulateCrash(this.log);
    this.log = open(this.dir);
    expect(["crashed", "clean"]).toContain(this.log.recovery!.mode);
    expect(this.log.recovery!.nextSequence).toBe(this.seq);
    this.writer = this.log.tryClaimWriter()!;
    this.model.settle(false);
    this.events.push("crash+reopen");
  }

  /** Clean close and reopen. */
  reopen(): void {
    this.writer.release();
    this.log.close();
    this.model.settle(true);
    this.log = open(this.dir);
    expect(this.log.recovery).toMatchObject({ mode: "clean", nextSequence: this.seq });
    this.writer = this.log.tryClaimWriter()!;
    this.events.push("close+reopen");
  }

  atLoss(): AtLoss {
    const stats = this.log.stats();
    expect(stats.nextSequence).toBe(this.seq);
    return { synced: this.log.syncedSequence!, next: this.seq, oldest: stats.oldestSequence, lastSeq: Math.floor((stats.nextSequence - 1) / SEGMENT) };
  }

  close(): void {
    this.writer.release();
    this.log.close();
  }
}

// ---------------------------------------------------------------------------
// Images.

const OTHER_BOOT = "00000000-dead-4bee-8000-000000000000";

/** Writes boot id `id` into the control header of the log in `dir` (a reboot since it was written). */
function setBootId(dir: string, id: string): void {
  const fd = openSync(join(dir, "control.alog"), "r+");
  try {
    writeSync(fd, new TextEncoder().encode(id), 0, 36, 128);
  } finally {
    closeSync(fd);
  }
}

let images = 0;

/** An image of `history` in which each page the model calls dirty is new or as on disk, as `choose` says; another boot id. */
function imageOf(history: History, choose: (file: ImageFile, page: number) => "new" | "disk"): string {
  const files = history.model.snapshot();
  const contents = files.map((f) => {
    const out = f.current.slice();
    for (let p = 0; p < f.dirty.length; p++) if (f.dirty[p] && choose(f, p) === "disk") out.set(f.disk.subarray(p * PAGE, (p + 1) * PAGE), p * PAGE);
    if (f.liveName === "control.alog") out.set(new TextEncoder().encode(OTHER_BOOT), 128);
    return out;
  });
  const imageDir = join(imageRoot, `image-${images++}`);
  writeImage(history.dir, imageDir, files, contents);
  return imageDir;
}

/** Opens an image and returns its recovery and checked window [start, end). */
function openImage(imageDir: string): { mode: string; start: number; end: number } {
  const log = AtomicLog.open(Trade, imageDir, {});
  try {
    const [start, end] = checkWindow(log);
    expect(log.recovery!.nextSequence).toBe(end);
    return { mode: log.recovery!.mode, start, end };
  } finally {
    log.close();
  }
}

/** Whether strace can trace a child here (installed, and ptrace allowed). */
function straceWorks(): boolean {
  try {
    return Bun.spawnSync(["strace", "-qq", "-o", "/dev/null", "true"]).exitCode === 0;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Case by case: each bug the random histories found, as one deterministic case;
// and what damage to the control file is allowed to do.

describe("durable log: power loss, case by case", () => {
  test.skipIf(!OBSERVED)("the pool files created with a log reach the disk with it (their headers are flushed at creation)", () => {
    const h = new History(); // settles right after creation: a header page still dirty would count as zeros on disk
    h.append(() => 0, 10);
    h.sync(); // checks that no segment-file page is left unflushed
    const got = openImage(imageOf(h, () => "disk"));
    expect(got).toMatchObject({ mode: "rebuilt", start: 0, end: 10 });
    h.close();
  });

  test.skipIf(!OBSERVED)("after a writer process died, the next process's sync also flushes what the dead one wrote", () => {
    const h = new History();
    h.append(() => 0, 300);
    h.sync();
    h.append(() => 0, 600); // seals segments 1 and 2; nothing flushes them
    h.crash(); // same boot: the page cache keeps them, dirty
    h.append(() => 0, 1);
    h.sync(); // 901: checks that no segment-file page is left unflushed
    const got = openImage(imageOf(h, () => "disk"));
    expect(got.end).toBe(901);
    expect(got.start).toBe(0);
    h.close();
  });

  test("a release between two rolls never overwrites the synced commit-table entry", () => {
    const h = new History();
    h.append(() => 0, 100);
    h.sync(); // segment 0's table: [100] current
    h.append(() => 0, 1);
    h.reclaim(); // a release that checksummed the head put [101] in the other entry
    h.append(() => 0, 200); // the roll seals segment 0: [256] (no sync since)
    // The header page (with the table) was written back; the record pages were not.
    const image = imageOf(h, (f, p) => (p === 0 ? "new" : "disk"));
    const got = openImage(image);
    expect(got.mode).toBe("rebuilt");
    expect(got.end).toBeGreaterThanOrEqual(100);
    expect(got.start).toBe(0);
    h.close();
  });

  test("a rebuild keeps the run of segments that holds the synced point, even when a later segment file reached the disk", () => {
    const h = new History();
    h.append(() => 0, 300);
    h.sync(); // synced 300: segment 1 holds 44 synced records
    h.append(() => 0, 600); // segments 2 and 3 start in fresh pool files
    // The file that became segment 2 lost everything since (it reads as the free file it was);
    // segment 3's file, written later, reached the disk.
    // Found by its header's sequence (words 4, 5): files are renamed to their sequence only at a sync.
    const seqOf = (f: { current: Uint8Array }) => {
      const w = new Int32Array(f.current.buffer, f.current.byteOffset, 8);
      return w[4]! * 4294967296 + (w[5]! >>> 0);
    };
    const seg2 = h.model.snapshot().find((f) => f.liveName.endsWith(".seg") && seqOf(f) === 2)!.liveName;
    const got = openImage(imageOf(h, (f) => (f.liveName === seg2 ? "disk" : "new")));
    expect(got.start).toBe(0);
    expect(got.end).toBe(512); // segments 0 and 1 complete; segment 2 missing
    h.close();
  });

  test("a writer continuing after a rebuild that cut a segment extends the verified checksum, so its synced records survive the next rebuild", () => {
    const h = new History();
    h.append(() => 0, 100);
    h.sync(); // segment 0's table: [100]
    h.append(() => 0, 200); // the roll seals segment 0: [256], unsynced
    // The header page reached the disk, segment 0's records after 100 did not: it verifies to 100 only.
    const image = imageOf(h, (f, p) => (p === 0 ? "new" : "disk"));
    const first = openImage(image);
    expect(first).toMatchObject({ mode: "rebuilt", start: 0, end: 100 });
    // Continue with other records, sync, close: everything below 160 is durable now.
    let log = AtomicLog.open(Trade, image, {});
    const writer = log.tryClaimWriter()!;
    for (let s = 100; s < 160; s++) writer.append(tradeAfter(s));
    expect(writer.sync()).toBe(160);
    writer.release();
    log.close();
    // Another power loss (nothing unflushed this time): the rebuild must keep all 160.
    setBootId(image, OTHER_BOOT.replace("dead", "beef"));
    log = AtomicLog.open(Trade, image, {});
    expect(log.recovery).toMatchObject({ mode: "rebuilt", nextSequence: 160, droppedRecords: 0 });
    expect(checkWindow(log, (s) => (s < 100 ? tradeFor(s) : tradeAfter(s)))).toEqual([0, 160]);
    log.close();
    h.close();
  });

  test.skipIf(!OBSERVED)("a segment is stamped sealed once: a later seal of the same count does not rewrite its header after the sync", () => {
    const h = new History();
    h.append(() => 0, SEGMENT); // the head is exactly full
    h.sync(); // covers it all and stamps it sealed
    h.append(() => 0, 1); // the roll seals it again: nothing to extend
    h.sync(); // checks that no segment-file page is left unflushed
    h.close();
  });

  test.skipIf(!straceWorks())("creating a log syncs the directories whose names it created (observed with strace)", () => {
    // fdatasync of a file does not make its name durable: without an fsync of the directory,
    // a power loss after creation (even after a sync) could leave control.alog.tmp and no
    // control.alog, and the next open would take the log for an unfinished creation.
    const parent = join(liveRoot, `new-parent-${dirs++}`);
    const dir = join(parent, "log");
    const prefix = join(liveRoot, `strace-${dirs++}`);
    const run = Bun.spawnSync(
      ["strace", "-qq", "-ff", "-o", prefix, "-e", "trace=mkdir,mkdirat,rename,renameat,renameat2,openat,fsync,fdatasync", process.execPath, join(import.meta.dir, "fixtures", "create-log.ts"), dir],
      { stderr: "pipe" },
    );
    expect(run.exitCode).toBe(0);
    const traces = readdirSync(liveRoot).filter((n) => n.startsWith(`${prefix.slice(liveRoot.length + 1)}.`));
    const lines = traces.map((n) => readFileSync(join(liveRoot, n), "utf8").split("\n")).find((l) => l.some((x) => x.includes("control.alog.tmp")))!;
    expect(lines).toBeDefined();
    /** Index of the first line at or after `from` that fsyncs or fdatasyncs a descriptor opened on `path` after `from`; -1 if none. */
    const syncOf = (path: string, from: number): number => {
      const fds = new Set<string>();
      for (let i = from; i < lines.length; i++) {
        const open = lines[i]!.match(/^openat\(AT_FDCWD, "([^"]*)", [^)]*\)\s+=\s+(\d+)$/);
        if (open !== null) {
          if (open[1]!.replace(/\/$/, "") === path) fds.add(open[2]!);
          else fds.delete(open[2]!); // the number was reused for another file
        }
        const sync = lines[i]!.match(/^f(?:data)?sync\((\d+)\)\s+=\s+0$/);
        if (sync !== null && fds.has(sync[1]!)) return i;
      }
      return -1;
    };
    const renamed = lines.findIndex((l) => /^rename(at2?)?\(.*control\.alog\.tmp", .*control\.alog"/.test(l));
    expect(renamed).toBeGreaterThan(0);
    // The control file is flushed before it is renamed into place (the disk model relies on it).
    const tmpOpened = lines.findIndex((l) => l.includes("control.alog.tmp") && l.includes("O_RDWR"));
    expect(syncOf(join(dir, "control.alog.tmp"), tmpOpened)).toBeGreaterThan(tmpOpened);
    expect(syncOf(join(dir, "control.alog.tmp"), tmpOpened)).toBeLessThan(renamed);
    expect(syncOf(dir, renamed)).toBeGreaterThan(renamed);
    // The two directories open created: each one's parent is synced after it was made.
    const quoted = (path: string) => JSON.stringify(path).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const made = (path: string) => lines.findIndex((l) => new RegExp(`^mkdir(at)?\\((AT_FDCWD, )?${quoted(path)}, 0?700\\)\\s+=\\s+0$`).test(l));
    const madeParent = made(parent);
    const madeDir = made(dir);
    expect(madeParent).toBeGreaterThanOrEqual(0);
    expect(madeDir).toBeGreaterThan(madeParent);
    expect(syncOf(parent, madeDir)).toBeGreaterThan(madeDir);
    expect(syncOf(liveRoot, madeDir)).toBeGreaterThan(madeDir);
  });

  test("the control file: a destroyed header sector is a CorruptLogError; a zeroed control block after its header words is rebuilt", () => {
    const h = new History();
    h.append(() => 0, 700);
    h.sync();
    h.append(() => 0, 100);
    const files = h.model.snapshot();
    const control = files.findIndex((f) => f.liveName === "control.alog");
    for (const destroy of ["zeros", "garbage"]) {
      const contents = files.map((f) => f.current.slice());
      if (destroy === "zeros") contents[control]!.fill(0, 0, SECTOR);
      else for (let b = 0; b < SECTOR; b++) contents[control]![b] = (b * 151 + 7) & 255;
      const dir = join(imageRoot, `image-${images++}`);
      writeImage(h.dir, dir, files, contents);
      expect(() => AtomicLog.open(Trade, dir, {})).toThrow(CorruptLogError);
    }
    const contents = files.map((f) => f.current.slice());
    contents[control]!.fill(0, CONTROL_BLOCK_HEADER_END);
    contents[control]!.set(new TextEncoder().encode(OTHER_BOOT), 128);
    const dir = join(imageRoot, `image-${images++}`);
    writeImage(h.dir, dir, files, contents);
    const got = openImage(dir);
    expect(got.mode).toBe("rebuilt");
    expect(got.end).toBeGreaterThanOrEqual(700);
    expect(got.start).toBe(0); // 800 records: the window (4 segments + the head) still holds them all
    h.close();
  });
});

// ---------------------------------------------------------------------------
// Damage.

type Kind = "same-boot" | "boot" | "lost" | "torn" | "renames" | "suffix-segment" | "suffix-control" | "header" | "media";

/** Little-endian (hi, lo) pair at word `at`. */
function pairAt(bytes: Uint8Array, at: number): number {
  const w = new Int32Array(bytes.buffer, bytes.byteOffset, 64);
  return w[at]! * 4294967296 + (w[at + 1]! >>> 0);
}

/** Records of segment file `f` that the model requires after the loss: its on-disk sequence's records in [oldest, synced). */
function requiredRecords(f: ImageFile, loss: AtLoss): number {
  if (!f.liveName.endsWith(".seg")) return 0;
  const seq = pairAt(f.disk, 4);
  if (!(seq >= 0)) return 0;
  const first = seq * SEGMENT;
  if (first + SEGMENT <= loss.oldest) return 0;
  return Math.max(0, Math.min(SEGMENT, loss.synced - first));
}

/** Whether page `p` of `f` may read as zeros: it is a record page holding no required record (never a header page). */
function mayZero(f: ImageFile, p: number, loss: AtLoss): boolean {
  if (!f.liveName.endsWith(".seg") || p === 0) return false;
  return (p * PAGE - HEADER) / RECORD >= requiredRecords(f, loss);
}

/** A dirty page's content after the loss: new, stale, zeros where allowed, or torn between new and stale. */
function lostPage(rand: () => number, f: ImageFile, p: number, loss: AtLoss, torn: boolean): Uint8Array {
  const cur = f.current.subarray(p * PAGE, (p + 1) * PAGE);
  const old = f.disk.subarray(p * PAGE, (p + 1) * PAGE);
  const r = rand();
  if (torn && r < 0.6) {
    const out = old.slice();
    for (let s = 0; s < PAGE; s += SECTOR) if (rand() < 0.5) out.set(cur.subarray(s, s + SECTOR), s);
    if (rand() < 0.3) {
      // One sector written only partly: its 8-byte words from either version.
      const s = between(rand, 0, PAGE / SECTOR - 1) * SECTOR;
      for (let b = s; b < s + SECTOR; b += 8) out.set((rand() < 0.5 ? cur : old).subarray(b, b + 8), b);
    }
    return out;
  }
  if (r < 0.35) return cur.slice();
  if (r < 0.8 || !mayZero(f, p, loss)) return old.slice();
  return new Uint8Array(PAGE);
}

/** Builds the damaged contents and names of an image; returns what the open must do. */
function damage(rand: () => number, files: ImageFile[], kind: Kind, loss: AtLoss): { contents: Uint8Array[]; expectCorrupt: boolean } {
  const contents = files.map((f) => f.current.slice());
  let expectCorrupt = false;
  const lose = (torn: boolean) => {
    files.forEach((f, i) => {
      for (let p = 0; p < f.dirty.length; p++) if (f.dirty[p]) contents[i]!.set(lostPage(rand, f, p, loss, torn), p * PAGE);
    });
  };
  const segs = files.map((f, i) => i).filter((i) => files[i]!.liveName.endsWith(".seg"));
  const control = files.findIndex((f) => f.liveName === "control.alog");
  switch (kind) {
    case "same-boot":
    case "boot":
      break;
    case "lost":
      lose(false);
      break;
    case "torn":
      lose(true);
      break;
    case "renames":
      lose(rand() < 0.5);
      for (const f of files) if (rand() < 0.5) f.name = f.settledName;
      break;
    case "suffix-segment": {
      // Everything after a random point of a segment file's unrequired part reads zeros (after the header sector).
      lose(false);
      const i = segs[between(rand, 0, segs.length - 1)]!;
      const f = files[i]!;
      const from = Math.max(SECTOR, HEADER + requiredRecords(f, loss) * RECORD);
      contents[i]!.fill(0, between(rand, from, f.current.length));
      break;
    }
    case "suffix-control": {
      // The control block after its own header words reads zeros: window, segment table, directory, pins.
      lose(rand() < 0.5);
      contents[control]!.fill(0, between(rand, CONTROL_BLOCK_HEADER_END, files[control]!.current.length - 1));
      break;
    }
    case "header": {
      // The control file's header sector destroyed: zeros or garbage.
      const c = contents[control]!;
      if (rand() < 0.5) c.fill(0, 0, SECTOR);
      else for (let b = 0; b < SECTOR; b++) c[b] = between(rand, 0, 255);
      expectCorrupt = true;
      break;
    }
    case "media": {
      // Beyond a power loss: zeros over records that were synced, in some segment file.
      lose(false);
      const i = segs[between(rand, 0, segs.length - 1)]!;
      const at = HEADER + between(rand, 0, SEGMENT - 1) * RECORD;
      contents[i]!.fill(0, at, Math.min(files[i]!.current.length, at + between(rand, 1, 3 * PAGE)));
      break;
    }
  }
  if (kind !== "same-boot" && control >= 0 && !expectCorrupt) {
    // In a real power loss the machine boots again: another boot id.
    contents[control]!.set(new TextEncoder().encode(OTHER_BOOT), 128);
  }
  return { contents, expectCorrupt };
}

// ---------------------------------------------------------------------------
// The check of one image.

function checkImage(history: History, rand: () => number, kind: Kind, loss: AtLoss): string {
  const files = history.model.snapshot();
  const { contents, expectCorrupt } = damage(rand, files, kind, loss);
  const imageDir = join(imageRoot, `image-${images++}`);
  writeImage(history.dir, imageDir, files, contents);
  const before = describeDir(imageDir);
  try {
    let log: TradeLog;
    try {
      log = AtomicLog.open(Trade, imageDir, {});
    } catch (error) {
      if (expectCorrupt && error instanceof CorruptLogError) return "corrupt";
      throw error;
    }
    if (expectCorrupt) throw new Error("an image whose control header sector is destroyed opened");
    const rec = log.recovery!;
    const [start, end] = checkWindow(log); // every record is tradeFor(seq), one contiguous run
    expect(rec.nextSequence).toBe(end);
    expect(end).toBeLessThanOrEqual(loss.next); // nothing invented
    expect(rec.droppedRecords).toBeGreaterThanOrEqual(0);
    expect(rec.droppedRecords).toBeLessThanOrEqual(loss.next - end);
    if (kind === "same-boot") {
      // The same boot trusts the page cache: everything published is kept.
      expect(["crashed", "clean"]).toContain(rec.mode);
      expect(end).toBe(loss.next);
    } else {
      expect(rec.mode).toBe("rebuilt");
    }
    if (kind !== "media" && loss.synced > loss.oldest) {
      // Everything synced is kept, as far as retention still held it (records the writer had
      // evicted before the loss may be overwritten on disk).
      expect(end).toBeGreaterThanOrEqual(loss.synced);
      const mustFrom = Math.max(loss.oldest, end - RETAINED);
      if (mustFrom < loss.synced) expect(start).toBeLessThanOrEqual(mustFrom);
    }
    // The synced point never claims more than the log holds.
    expect(log.syncedSequence).toBe(Math.min(loss.synced, end));
    if (kind === "boot") {
      // Nothing lost at all: every sealed segment verifies, so at least the last segment's start is kept.
      expect(end).toBeGreaterThanOrEqual(Math.max(loss.synced, loss.lastSeq * SEGMENT));
    }
    // The log continues after the last record, durably, with records unlike those lost
    // there (tradeAfter), so nothing can verify by matching what was written before.
    const continued = (s: number) => (s < end ? tradeFor(s) : tradeAfter(s));
    const writer = log.tryClaimWriter()!;
    expect(writer.nextSequence).toBe(end);
    const more = between(rand, 1, SEGMENT + 10);
    const batch: TradeData[] = [];
    for (let s = end; s < end + more; s++) batch.push(tradeAfter(s));
    writer.appendBatch(batch);
    expect(writer.sync()).toBe(end + more);
    expect(checkWindow(log, continued)[1]).toBe(end + more);
    writer.release();
    log.close();
    const again = AtomicLog.open(Trade, imageDir, {});
    expect(again.recovery).toMatchObject({ mode: "clean", nextSequence: end + more });
    expect(checkWindow(again, continued)[1]).toBe(end + more);
    again.close();
    // Another power loss, with everything flushed: the rebuild from the files alone keeps it all.
    setBootId(imageDir, OTHER_BOOT.replace("dead", "beef"));
    const third = AtomicLog.open(Trade, imageDir, {});
    expect(third.recovery).toMatchObject({ mode: "rebuilt", nextSequence: end + more });
    expect(checkWindow(third, continued)[1]).toBe(end + more);
    third.close();
    return rec.mode;
  } catch (error) {
    const e = error as Error;
    e.message = `${e.message}\nat the loss: ${JSON.stringify(loss)}; dirty pages: ${files
      .filter((f) => f.dirty.includes(true))
      .map((f) => `${f.liveName} [${f.dirty.map((d) => (d ? 1 : 0)).join("")}]`)
      .join(", ")}\nthe image as damaged:\n${before}\nlive:\n${describeDir(history.dir)}`;
    throw e;
  } finally {
    removeRoot(imageDir);
  }
}

/** Runs `fn`, prefixing a failure with what reproduces it. */
function withContext<T>(context: () => string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const e = error as Error;
    e.message = `${context()}\n${e.message}`;
    throw e;
  }
}

// ---------------------------------------------------------------------------

describe(`durable log: modelled power loss (${OBSERVED ? "page cache observed with cachestat" : "pages diffed against the last sync"})`, () => {
  test("random histories, each cut by random power losses", () => {
    const seed = Number(process.env.POWER_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const rand = prng(seed);
    const kinds: Kind[] = ["same-boot", "boot", "lost", "lost", "torn", "torn", "renames", "suffix-segment", "suffix-control", "header", "media"];
    const outcomes: Record<string, number> = {};
    let history: History | null = null;
    let kind: Kind = "boot";
    let h = 0;
    const context = () => `POWER_SEED=${seed}, history ${h} [${history?.events.join(", ")}], image kind ${kind}`;
    for (h = 0; h < 10; h++) {
      history = new History();
      const hist = history;
      withContext(context, () => {
        const steps = between(rand, 10, 40);
        for (let s = 0; s < steps; s++) {
          const r = rand();
          if (r < 0.6) hist.append(rand, between(rand, 1, 2 * SEGMENT));
          else if (r < 0.8) hist.sync();
          else if (r < 0.9) hist.reclaim();
          else if (r < 0.96) hist.crash();
          else hist.reopen();
        }
        // Often the loss comes a little after a sync.
        if (rand() < 0.5) {
          hist.sync();
          hist.append(rand, between(rand, 1, 3 * SEGMENT));
        }
      });
      const loss = hist.atLoss();
      for (let i = 0; i < 9; i++) {
        kind = kinds[between(rand, 0, kinds.length - 1)]!;
        const mode = withContext(context, () => checkImage(hist, rand, kind, loss));
        outcomes[`${kind}:${mode}`] = (outcomes[`${kind}:${mode}`] ?? 0) + 1;
      }
      hist.close();
    }
    console.log(`power-loss test: seed ${seed}, ${images} images, ${JSON.stringify(outcomes)}`);
  }, 30_000);
});
