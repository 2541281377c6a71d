/**
 * Power loss, modelled (it cannot be simulated): logs written in this process
 * with durability "none" and explicit syncs, copied into images damaged the
 * ways a power loss can damage them (see fixtures/disk-model.ts), always with
 * another boot id; one case per bug found. Where cachestat(2) shows which
 * pages are dirty, every sync is also checked directly: no changed page of a
 * segment file may be left unflushed.
 */
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
    (this.log as unknown as { lock: { release(): void } }).lock.release();
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
    const seg2 = h.model.snapshot().find((f) => f.liveName.startsWith("0000000000000002."))!.liveName;
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
});
