/**
 * Bad input to a durable log, with real files, mounts and processes: every
 * case ends in a typed error (class, `code`, a message naming the problem) or
 * a clean recovery — never a crash, a hang, a huge allocation or a silently
 * wrong record.
 *
 * Covered: the wrong record; wrong magic numbers and versions; truncated,
 * empty and garbage control files; control-block counts, window and
 * directory words pointing past the end (recovery rebuilds from the files);
 * a seeded bit-flip fuzz over every file of a closed log; a read-only file
 * system; a missing directory; a full disk; a second writer in another
 * process and in this one; bad options; close() and claims in the wrong state.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, statfsSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtomicLog, type DurableLogOptions } from "../../src/index.ts";
import { Tick, Trade, type TradeData, type TradeView } from "../../src/generated/market.ts";
import { CorruptLogError, FingerprintMismatchError, InvalidOptionError, LogInUseError, LogLockedError, LogStorageError } from "../../src/errors.ts";
import { CF, CONTROL_FILE, HEADER_BYTES, SF } from "../../src/store/file-format.ts";
import { H, SEG, SEG_BASE, SEG_WORDS, WIN, WINDOW_ENTRY } from "../../src/shared/control.ts";
import { thrown, tradeFor } from "../support/log-helpers.ts";

const root = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "atomic-log-bad-"));
const mounts: string[] = [];
afterAll(() => {
  for (const m of [...mounts].reverse()) unmount(m);
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const freshDir = () => join(root, `log-${n++}`);

type TradeLog = AtomicLog<TradeView, TradeData>;
const OPTS = { retainedCapacity: 64, segmentCapacity: 16 } as const;

function open(dir: string, options: DurableLogOptions = OPTS): TradeLog {
  return AtomicLog.open(Trade, dir, options);
}

/** A closed log in `dir` holding records [0, count) (tradeFor(sequence)). */
function writeLog(dir: string, count: number, options: DurableLogOptions = OPTS): string {
  const log = open(dir, options);
  const writer = log.tryClaimWriter()!;
  for (let s = 0; s < count; s++) writer.append(tradeFor(s));
  writer.release();
  log.close();
  return dir;
}

/** Every record in a snapshot, checked against `tradeFor(sequence)`; returns [first, end). */
function checkAll(log: TradeLog, where = ""): [number, number] {
  const snap = log.snapshot();
  try {
    snap.forEach((v, seq) => {
      const t = tradeFor(seq);
      if (v.id !== t.id || v.ts !== t.ts || v.price !== t.price || v.qty !== t.qty || v.side !== t.side) {
        throw new Error(`${where}record ${seq} is wrong: id ${v.id} ts ${v.ts} price ${v.price} qty ${v.qty} side ${v.side}`);
      }
    });
    return [snap.startSequence, snap.startSequence + snap.length];
  } finally {
    snap.release();
  }
}

/** Asserts `fn` throws an instance of `cls` with `code`, whose message contains every one of `parts`. */
function expectError<T extends Error>(fn: () => unknown, cls: new (...args: never[]) => T, code: string, ...parts: string[]): T {
  const error = thrown(fn) as T & { code?: string };
  if (!(error instanceof cls)) throw new Error(`expected ${cls.name}, got ${String((error as Error)?.stack ?? error)}`);
  expect(error.code).toBe(code);
  for (const part of parts) expect(error.message).toContain(part);
  return error;
}

/** Overwrites little-endian 32-bit words of a file at rest, at byte offset `at`. */
function patchWords(path: string, at: number, ...words: number[]): void {
  const buf = Buffer.alloc(4 * words.length);
  words.forEach((w, i) => buf.writeInt32LE(w | 0, 4 * i));
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, buf, 0, buf.length, at);
  } finally {
    closeSync(fd);
  }
}

/** Reads a little-endian 32-bit word of a file at byte offset `at`. */
function readWord(path: string, at: number): number {
  return readFileSync(path).readInt32LE(at);
}

/** Byte offset in control.alog of control-block word `word`. */
const ctlByte = (word: number) => HEADER_BYTES + 4 * word;

/** The current window of a closed log, read from its control file. */
function windowOf(dir: string): { version: number; entry: number; oldest: number; head: number; headPhys: number } {
  const b = readFileSync(join(dir, CONTROL_FILE));
  const word = (w: number) => b.readInt32LE(ctlByte(w));
  const version = word(H.WINDOW_VERSION);
  const entry = WINDOW_ENTRY[version & 1];
  const pair = (w: number) => word(w) * 2 ** 32 + (word(w + 1) >>> 0);
  return { version, entry, oldest: pair(entry + WIN.OLDEST), head: pair(entry + WIN.HEAD), headPhys: word(entry + WIN.HEAD_PHYS) };
}

/** The segment file holding segment sequence `seq`. */
function segmentFile(dir: string, seq: number): string {
  const name = readdirSync(dir).find((f) => f.startsWith(`${String(seq).padStart(16, "0")}.`));
  if (name === undefined) throw new Error(`no file for segment ${seq} in ${dir}`);
  return join(dir, name);
}

// ---------------------------------------------------------------------------
// Mounts: real tmpfs mounts (we run as root, so permission bits stop nothing).

function run(cmd: string[]): { ok: boolean; err: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, err: `${r.stderr.toString().trim()} (exit ${r.exitCode})` };
}

/** Mounts a tmpfs at `dir` with `options`; returns null, or why it was refused. */
function mountTmpfs(dir: string, options: string): string | null {
  mkdirSync(dir, { recursive: true });
  const r = run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir]);
  if (!r.ok) return `mount -t tmpfs -o ${options} refused: ${r.err}`;
  mounts.push(dir);
  return null;
}

function unmount(dir: string): void {
  // Files this process mapped keep the mount busy until collected: detach lazily then.
  if (!run(["umount", dir]).ok) run(["umount", "-l", dir]);
  const at = mounts.indexOf(dir);
  if (at >= 0) mounts.splice(at, 1);
}

/** Whether this machine lets us mount (probed once); the reason if not. */
const mountRefused: string | null = (() => {
  const probe = join(root, "mount-probe");
  const why = mountTmpfs(probe, "size=64k");
  if (why === null) unmount(probe);
  if (why !== null) console.log(`[bad-input] SKIPPING the read-only and full-disk cases: ${why}`);
  return why;
})();

// ---------------------------------------------------------------------------
// Child processes.

const CHILD = join(import.meta.dir, "fixtures", "child.ts");

/** Starts the child fixture; resolves with its process once it printed its first line. */
async function startChild(mode: "hold" | "fill", dir: string, count: number, options: object = {}) {
  const proc = Bun.spawn([process.execPath, CHILD, mode, dir, String(count), JSON.stringify(options)], { stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (!text.includes("\n")) {
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), Math.max(1, deadline - Date.now())));
    const chunk = await Promise.race([reader.read(), timeout]);
    if (chunk === "timeout" || chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  return { proc, line: text.trim() };
}

// ---------------------------------------------------------------------------

describe("the wrong record", () => {
  test("a Trade log opened with Tick: FingerprintMismatchError naming both records, and the log is left intact", () => {
    const dir = writeLog(freshDir(), 20);
    const error = expectError(() => AtomicLog.open(Tick, dir, {}), FingerprintMismatchError, "FINGERPRINT_MISMATCH", "Trade", "Tick");
    expect(error.expected.name).toBe("Trade");
    expect(error.actual.name).toBe("Tick");
    // Refusing it released the lock and changed nothing.
    const log = open(dir, {});
    expect(log.recovery?.mode).toBe("clean");
    expect(checkAll(log)).toEqual([0, 20]);
    log.close();
  });

  test("a segment file of another record (fingerprint in its header): CorruptLogError naming the file", () => {
    const dir = writeLog(freshDir(), 20);
    const path = segmentFile(dir, 0);
    patchWords(path, 4 * SF.FINGERPRINT_LO, readWord(path, 4 * SF.FINGERPRINT_LO) ^ 1);
    expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG", path, "another record");
  });
});

describe("wrong magic numbers and versions", () => {
  test("control.alog: wrong magic, wrong version, wrong header size, wrong control-block magic", () => {
    const pristine = writeLog(freshDir(), 20);
    const cases: [number, number, string][] = [
      [4 * CF.MAGIC, 0x12345678, "wrong magic number"],
      [4 * CF.VERSION, 2, "version 2 is not supported"],
      [4 * CF.HEADER_BYTES, 512, "header size 512"],
      [ctlByte(H.MAGIC), 0, "control block has a wrong magic number"],
      [ctlByte(H.FORMAT), 99, "control block has a wrong magic number or format"],
    ];
    for (const [at, value, message] of cases) {
      const dir = freshDir();
      cpSync(pristine, dir, { recursive: true });
      patchWords(join(dir, CONTROL_FILE), at, value);
      const error = expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG", message);
      expect(error.path).toBe(join(dir, CONTROL_FILE));
    }
  });

  test("control-block geometry words that do not hold together: CorruptLogError (not a log that fails later)", () => {
    const pristine = writeLog(freshDir(), 20);
    const path = (dir: string) => join(dir, CONTROL_FILE);
    const word = (w: number) => readWord(path(pristine), ctlByte(w));
    const cases: [string, number, number[]][] = [
      ["snapshot budget negative", H.BUDGET, [word(H.BUDGET) ^ (1 << 31)]],
      ["snapshot budget one more than the pool holds", H.BUDGET, [word(H.BUDGET) + 1]],
      ["snapshot budget smaller than a window", H.BUDGET, [1]],
      ["retained segments changed", H.RETAINED_SEGMENTS, [word(H.RETAINED_SEGMENTS) - 1]],
      ["pool segments changed", H.POOL_SEGMENTS, [word(H.POOL_SEGMENTS) + 1]],
      ["directory size not a power of two", H.DIR_SIZE, [word(H.DIR_SIZE) + 1]],
      ["retained capacity changed", H.RETAINED_CAPACITY_HI, [0, 1 << 20]],
      ["initial sequence not a multiple of the segment", H.INITIAL_SEQ_HI, [0, 5]],
      ["initial sequence negative", H.INITIAL_SEQ_HI, [-1, 0]],
      ["segment capacity zero", H.SEGMENT_CAPACITY, [0]],
    ];
    for (const [what, at, values] of cases) {
      const dir = freshDir();
      cpSync(pristine, dir, { recursive: true });
      patchWords(path(dir), ctlByte(at), ...values);
      const error = thrown(() => open(dir, {}));
      if (!(error instanceof CorruptLogError)) throw new Error(`${what}: expected CorruptLogError, got ${String(error)}`);
      expect(error.code).toBe("CORRUPT_LOG");
      expect(error.message).toContain("does not hold together");
    }
  });

  test("a segment file: wrong magic, wrong version, a pool slot outside the pool", () => {
    const pristine = writeLog(freshDir(), 40);
    const cases: [number, number, string][] = [
      [4 * SF.MAGIC, 0, "not an atomic-log segment file (wrong magic number)"],
      [4 * SF.VERSION, 7, "segment file version 7 is not supported"],
      [4 * SF.PHYS, 1000, "pool slot 1000 is outside the pool"],
      [4 * SF.SEGMENT_CAPACITY, 17, "the log has 16 of 32"],
    ];
    for (const [at, value, message] of cases) {
      const dir = freshDir();
      cpSync(pristine, dir, { recursive: true });
      const path = segmentFile(dir, 1);
      patchWords(path, at, value);
      const error = expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG", message);
      expect(error.path).toBe(path);
    }
  });

  test("two segment files claiming one pool slot, or a pool slot without a file: CorruptLogError", () => {
    const pristine = writeLog(freshDir(), 40);
    let dir = freshDir();
    cpSync(pristine, dir, { recursive: true });
    patchWords(segmentFile(dir, 1), 4 * SF.PHYS, readWord(segmentFile(dir, 0), 4 * SF.PHYS));
    expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG", "a second file claims pool slot");
    dir = freshDir();
    cpSync(pristine, dir, { recursive: true });
    rmSync(segmentFile(dir, 2));
    expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG", "has no segment file");
  });
});

describe("truncated, empty and garbage control files", () => {
  const cases: [string, (path: string) => void, string][] = [
    ["shorter than its header", (p) => truncateSync(p, 1000), "less than its 4096-byte header"],
    ["shorter than its control words", (p) => truncateSync(p, HEADER_BYTES + 64), "control words"],
    ["longer than its control words", (p) => truncateSync(p, statSync(p).size + 4096), "control words"],
    ["empty (zero length)", (p) => truncateSync(p, 0), "0 bytes"],
    ["a garbage header (random bytes)", (p) => {
      const b = readFileSync(p);
      b.set(crypto.getRandomValues(new Uint8Array(HEADER_BYTES)), 0);
      writeFileSync(p, b);
    }, "wrong magic number"],
    ["a garbage control block (random bytes after a good header)", (p) => {
      const b = readFileSync(p);
      b.set(crypto.getRandomValues(new Uint8Array(b.length - HEADER_BYTES)), HEADER_BYTES);
      writeFileSync(p, b);
    }, "control block"],
    ["a layout length past the end", (p) => patchWords(p, 4 * CF.LAYOUT_BYTES, 1 << 30), "layout length"],
    ["control words past the end", (p) => patchWords(p, 4 * CF.CONTROL_WORDS, 0x7fffffff), "control words"],
  ];
  const pristine = writeLog(freshDir(), 20);
  for (const [what, damage, message] of cases) {
    test(`a control file ${what}: CorruptLogError`, () => {
      const dir = freshDir();
      cpSync(pristine, dir, { recursive: true });
      damage(join(dir, CONTROL_FILE));
      const error = expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG", message);
      expect(error.path).toBe(join(dir, CONTROL_FILE));
      // The lock was given back: the error is not "locked" the second time.
      expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG");
    });
  }

  test("no control file, a creation interrupted before its last rename (control.alog.tmp and the first head's file): created anew", () => {
    const dir = writeLog(freshDir(), 0);
    renameSync(join(dir, CONTROL_FILE), join(dir, `${CONTROL_FILE}.tmp`));
    expect(readdirSync(dir).filter((f) => /^\d{16}\.0\.seg$/.test(f))).toHaveLength(1);
    const log = open(dir);
    expect(log.recovery?.mode).toBe("created");
    expect(readdirSync(dir)).not.toContain(`${CONTROL_FILE}.tmp`);
    log.close();
  });

  test("no control file beside segment files holding sequences: CorruptLogError, the files left alone", () => {
    const dir = writeLog(freshDir(), 40);
    rmSync(join(dir, CONTROL_FILE));
    const before = readdirSync(dir).sort();
    expectError(() => open(dir), CorruptLogError, "CORRUPT_LOG", "a segment file with a record sequence, but no control.alog");
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  test("an empty segment file: CorruptLogError naming it", () => {
    const dir = freshDir();
    cpSync(pristine, dir, { recursive: true });
    const path = segmentFile(dir, 0);
    truncateSync(path, 0);
    expectError(() => open(dir, {}), CorruptLogError, "CORRUPT_LOG", path, "0 bytes");
  });
});

describe("control-block counts, window and directory words pointing past the end: recovery rebuilds from the files", () => {
  // 100 records in segments of 16: the window is segments 2..6 (records 32..99), head 6 holds 4.
  const pristine = writeLog(freshDir(), 100);
  const win = windowOf(pristine);
  const headCount = ctlByte(SEG_BASE + SEG_WORDS * win.headPhys + SEG.COUNT);
  const physOfSeq = (dir: string, seq: number) => Number(segmentFile(dir, seq).split(".").at(-2));
  const pool = readWord(join(pristine, CONTROL_FILE), ctlByte(H.POOL_SEGMENTS));
  const dirSize = readWord(join(pristine, CONTROL_FILE), ctlByte(H.DIR_SIZE));
  /** Byte offset of the directory entry of segment `seq` (the directory follows the segment table). */
  const dirWord = (seq: number) => ctlByte(SEG_BASE + SEG_WORDS * pool + (seq % dirSize));

  const cases: [string, (dir: string) => void][] = [
    ["the head's count past the segment's end", (d) => patchWords(join(d, CONTROL_FILE), headCount, 16 + 5)],
    ["the head's count past every bound", (d) => patchWords(join(d, CONTROL_FILE), headCount, 0x3fffffff)],
    ["the head's count beyond what was written (inside the segment)", (d) => patchWords(join(d, CONTROL_FILE), headCount, 9)],
    ["the head's count lowered", (d) => patchWords(join(d, CONTROL_FILE), headCount, 1)],
    ["a full segment's count set to 3", (d) => patchWords(join(d, CONTROL_FILE), ctlByte(SEG_BASE + SEG_WORDS * physOfSeq(d, 4) + SEG.COUNT), 3)],
    ["a segment's sequence words far ahead", (d) => patchWords(join(d, CONTROL_FILE), ctlByte(SEG_BASE + SEG_WORDS * physOfSeq(d, 3) + SEG.SEQ_HI), 5, 0)],
    ["the window's head far past the end", (d) => patchWords(join(d, CONTROL_FILE), ctlByte(win.entry + WIN.HEAD), 0, 1_000_000)],
    ["the window's oldest after its head", (d) => patchWords(join(d, CONTROL_FILE), ctlByte(win.entry + WIN.OLDEST), 0, 50)],
    ["the window's head segment outside the pool", (d) => patchWords(join(d, CONTROL_FILE), ctlByte(win.entry + WIN.HEAD_PHYS), 9999)],
    ["the window's head segment negative", (d) => patchWords(join(d, CONTROL_FILE), ctlByte(win.entry + WIN.HEAD_PHYS), -1)],
    ["the window version pointing at the other (stale) entry", (d) => patchWords(join(d, CONTROL_FILE), ctlByte(H.WINDOW_VERSION), win.version ^ 1)],
    ["a directory entry outside the pool", (d) => patchWords(join(d, CONTROL_FILE), dirWord(3), 4096)],
    ["a directory entry naming another segment", (d) => patchWords(join(d, CONTROL_FILE), dirWord(3), physOfSeq(d, 4))],
    ["the head's directory entry outside the pool", (d) => patchWords(join(d, CONTROL_FILE), dirWord(win.head), 4096)],
    ["the head's directory entry naming another segment of the window", (d) => patchWords(join(d, CONTROL_FILE), dirWord(win.head), physOfSeq(d, 4))],
    ["the head's directory entry naming a free segment", (d) => patchWords(join(d, CONTROL_FILE), dirWord(win.head), Number(readdirSync(d).find((f) => f.startsWith("free."))!.split(".")[1]))],
    ["the synced sequence far past the end", (d) => patchWords(join(d, CONTROL_FILE), 4 * CF.SYNCED_HI, 1, 0)],
    ["the synced sequence negative", (d) => patchWords(join(d, CONTROL_FILE), 4 * CF.SYNCED_HI, -1, -1)],
    ["the head file's commit table covering past the end", (d) => {
      const path = segmentFile(d, 6);
      const entry = SF.TABLE_ENTRY[readWord(path, 4 * SF.TABLE_VERSION) & 1];
      patchWords(path, 4 * entry, 1 << 29);
    }],
    ["a sealed file's commit table covering past the end", (d) => {
      const path = segmentFile(d, 4);
      const entry = SF.TABLE_ENTRY[readWord(path, 4 * SF.TABLE_VERSION) & 1];
      patchWords(path, 4 * entry, 0x7fffffff);
    }],
  ];

  for (const [what, damage] of cases) {
    test(what, () => {
      const dir = freshDir();
      cpSync(pristine, dir, { recursive: true });
      damage(dir);
      const log = open(dir, {});
      const [first, end] = checkAll(log, `${what}: `);
      const rec = log.recovery!;
      expect(rec.mode).toBe("rebuilt");
      expect(end).toBe(rec.nextSequence);
      expect(end).toBeLessThanOrEqual(100);
      expect(first).toBeGreaterThanOrEqual(0);
      // Nothing the files still prove was lost, except where the damage was to the files' own proof.
      if (!what.includes("commit table")) expect(end).toBe(100);
      expect(rec.nextSequence + rec.droppedRecords).toBeLessThanOrEqual(100);
      const writer = log.tryClaimWriter()!;
      expect(writer.nextSequence).toBe(end);
      for (let s = end; s < end + 40; s++) writer.append(tradeFor(s));
      expect(checkAll(log, `${what}, after appending: `)[1]).toBe(end + 40);
      writer.release();
      log.close();
      const again = open(dir, {});
      expect(again.recovery?.mode).toBe("clean");
      expect(checkAll(again, `${what}, reopened: `)[1]).toBe(end + 40);
      again.close();
    });
  }

  test("after recovery replaced a damaged commit-table entry, the records appended later get checksums (they survive a reboot)", () => {
    const dir = freshDir();
    cpSync(pristine, dir, { recursive: true });
    const path = segmentFile(dir, 6);
    patchWords(path, 4 * SF.TABLE_ENTRY[readWord(path, 4 * SF.TABLE_VERSION) & 1], 1 << 29);
    const log = open(dir, {});
    const [, end] = checkAll(log);
    const writer = log.tryClaimWriter()!;
    for (let s = end; s < 140; s++) writer.append(tradeFor(s));
    writer.sync();
    writer.release();
    log.close();
    // As if the machine had rebooted: recovery trusts only what the files' checksums prove.
    const b = readFileSync(join(dir, CONTROL_FILE));
    b.fill(0, CF.BOOT_ID_BYTE, CF.BOOT_ID_BYTE + 36);
    writeFileSync(join(dir, CONTROL_FILE), b);
    const again = open(dir, {});
    expect(again.recovery).toMatchObject({ mode: "rebuilt", nextSequence: 140, droppedRecords: 0 });
    expect(checkAll(again)[1]).toBe(140);
    again.close();
  });

  test("a record flipped inside a checksummed segment of a cleanly closed log is not returned", () => {
    const dir = freshDir();
    cpSync(pristine, dir, { recursive: true });
    const path = segmentFile(dir, 4); // records 64..79
    const b = readFileSync(path);
    b[HEADER_BYTES + 32 * 5 + 8] ^= 1; // record 69's id
    writeFileSync(path, b);
    const log = open(dir, {});
    // Checksums cover prefixes, sealed per segment: the damaged segment's whole entry fails.
    expect(checkAll(log)).toEqual([32, 64]);
    expect(log.recovery).toMatchObject({ mode: "rebuilt", nextSequence: 64, droppedRecords: 36 });
    // The writer rewrites from there, and its records are checksummed again (the damaged entry was replaced).
    const writer = log.tryClaimWriter()!;
    for (let s = 64; s < 90; s++) writer.append(tradeFor(s));
    writer.release();
    log.close();
    const again = open(dir, {});
    expect(again.recovery).toMatchObject({ mode: "clean", nextSequence: 90, droppedRecords: 0 });
    expect(checkAll(again)).toEqual([32, 90]); // the window only moves forward: segment 1 stays evicted
    again.close();
  });
});

describe("random bytes flipped anywhere (seeded fuzz)", () => {
  /** xorshift32: the same flips for the same seed. */
  function rng(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 4294967296;
    };
  }

  test("500 damaged copies of closed logs: a typed error, or a log of exactly the records written that appends on", () => {
    const seed = Number(process.env.BAD_INPUT_SEED ?? 0x5eed_a10c);
    const iterations = Number(process.env.BAD_INPUT_ITERATIONS ?? 500);
    const options = { retainedCapacity: 32, segmentCapacity: 8, maxSnapshots: 2 };
    // Images: an empty log, a partial head, a head just rolled, after recycling; each as
    // closed on this boot (recovery trusts the control block once it holds together) and
    // as if the machine had rebooted since (boot id cleared: recovery rebuilds from the files).
    const images: { dir: string; written: number }[] = [];
    for (const written of [0, 37, 64, 83]) {
      for (const rebooted of [false, true]) {
        const dir = writeLog(freshDir(), written, options);
        if (rebooted) {
          const b = readFileSync(join(dir, CONTROL_FILE));
          b.fill(0, CF.BOOT_ID_BYTE, CF.BOOT_ID_BYTE + 36);
          writeFileSync(join(dir, CONTROL_FILE), b);
        }
        images.push({ dir, written });
      }
    }
    const rand = rng(seed);
    const outcomes: Record<string, number> = {};
    const started = performance.now();
    const work = join(root, "fuzz");
    for (let it = 0; it < iterations; it++) {
      const image = images[Math.floor(rand() * images.length)]!;
      rmSync(work, { recursive: true, force: true });
      cpSync(image.dir, work, { recursive: true });
      const files = readdirSync(work).sort();
      const flips: string[] = [];
      const count = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < count; f++) {
        const name = files[Math.floor(rand() * files.length)]!;
        const path = join(work, name);
        const b = readFileSync(path);
        if (b.length === 0) continue;
        // Half the flips land in the headers and the control block (where the structure is),
        // half anywhere in the file.
        const span = rand() < 0.5 ? Math.min(b.length, name === CONTROL_FILE ? b.length : HEADER_BYTES / 16) : b.length;
        const at = Math.floor(rand() * span);
        const mask = rand() < 0.7 ? 1 << Math.floor(rand() * 8) : 1 + Math.floor(rand() * 255);
        b[at]! ^= mask;
        writeFileSync(path, b);
        flips.push(`${name}@${at}^0x${mask.toString(16)}`);
      }
      const where = `seed ${seed} (BAD_INPUT_SEED=${seed}) iteration ${it}, image of ${image.written} records in ${image.dir}, flips ${flips.join(" ")}: `;
      let log: TradeLog;
      try {
        log = open(work, {});
      } catch (error) {
        if (error instanceof CorruptLogError || error instanceof FingerprintMismatchError || error instanceof LogStorageError) {
          outcomes[error.code] = (outcomes[error.code] ?? 0) + 1;
          continue;
        }
        throw new Error(`${where}untyped error ${(error as Error)?.stack ?? error}`);
      }
      try {
        const rec = log.recovery!;
        outcomes[rec.mode] = (outcomes[rec.mode] ?? 0) + 1;
        const [first, end] = checkAll(log, where);
        if (end !== rec.nextSequence || end > image.written || first < 0) {
          throw new Error(`${where}window [${first}, ${end}) with nextSequence ${rec.nextSequence}; ${image.written} were written`);
        }
        const writer = log.tryClaimWriter()!;
        if (writer.nextSequence !== end) throw new Error(`${where}the writer continues at ${writer.nextSequence}, not ${end}`);
        for (let s = end; s < end + 20; s++) writer.append(tradeFor(s));
        const after = checkAll(log, `${where}after appending: `);
        if (after[1] !== end + 20) throw new Error(`${where}after appending 20 the window ends at ${after[1]}, not ${end + 20}`);
        writer.release();
        log.close();
        const again = open(work, {});
        const reopened = checkAll(again, `${where}reopened: `);
        again.close();
        if (reopened[1] !== end + 20 || again.recovery?.mode !== "clean") {
          throw new Error(`${where}reopened as ${again.recovery?.mode} ending at ${reopened[1]}, not clean at ${end + 20}`);
        }
      } catch (error) {
        log.close();
        throw error instanceof Error && error.message.startsWith("seed") ? error : new Error(`${where}${(error as Error)?.stack ?? error}`);
      }
    }
    const ms = performance.now() - started;
    console.log(`[bad-input] fuzz seed ${seed}: ${iterations} iterations in ${ms.toFixed(0)} ms`, outcomes);
    expect(ms).toBeLessThan(10_000);
  }, 30_000);
});

describe("storage: read-only, missing, full", () => {
  test("a missing directory with { create: false }: LogStorageError ENOENT, nothing created", () => {
    const dir = join(freshDir(), "not", "here");
    const error = expectError(() => open(dir, { create: false }), LogStorageError, "LOG_STORAGE", "no durable log here", "ENOENT");
    expect(error.errno).toBe("ENOENT");
    expect(existsSync(dir)).toBe(false);
    // An existing directory without a log is the same.
    const empty = freshDir();
    mkdirSync(empty);
    expect(expectError(() => open(empty, { create: false }), LogStorageError, "LOG_STORAGE").errno).toBe("ENOENT");
    expect(readdirSync(empty)).toEqual([]);
  });

  test.skipIf(mountRefused !== null)("a read-only tmpfs: LogStorageError EROFS when creating, inside it or below it", () => {
    const dir = join(root, "ro-mount");
    expect(mountTmpfs(dir, "ro,size=1m")).toBeNull();
    try {
      for (const target of [dir, join(dir, "sub", "log")]) {
        const error = expectError(() => open(target), LogStorageError, "LOG_STORAGE", "cannot");
        expect(["EROFS", "EACCES"]).toContain(error.errno);
        expect(error.message).toContain(`(${error.errno})`);
      }
    } finally {
      unmount(dir);
    }
  });

  test.skipIf(mountRefused !== null)("an existing log on a file system remounted read-only: LogStorageError EROFS, then it opens again read-write", () => {
    const dir = writeLog(freshDir(), 30);
    const view = join(root, "ro-bind");
    mkdirSync(view);
    const bind = run(["mount", "--bind", dir, view]);
    if (!bind.ok) {
      console.log(`[bad-input] SKIPPING the read-only remount case: mount --bind refused: ${bind.err}`);
      return;
    }
    mounts.push(view);
    try {
      const ro = run(["mount", "-o", "remount,bind,ro", view]);
      if (!ro.ok) {
        console.log(`[bad-input] SKIPPING the read-only remount case: remount,ro refused: ${ro.err}`);
        return;
      }
      const error = expectError(() => open(view, {}), LogStorageError, "LOG_STORAGE", "writer lock");
      expect(["EROFS", "EACCES"]).toContain(error.errno);
      expect(error.message).toContain(`(${error.errno})`);
    } finally {
      unmount(view);
    }
    const log = open(dir, {});
    expect(checkAll(log)).toEqual([0, 30]);
    log.close();
  });

  test.skipIf(mountRefused !== null)(
    "a full disk (1 MiB tmpfs): ENOSPC at creation, nothing left behind; a log that fits appends across rolls with the disk full, no SIGBUS",
    async () => {
      const disk = join(root, "full-mount");
      expect(mountTmpfs(disk, "size=1m")).toBeNull();
      try {
        const free = () => statfsFree(disk);
        const before = free();
        // 5 segments of 8192 Trade records (260 KiB each): 1.3 MiB.
        const big = join(disk, "big");
        const error = expectError(() => open(big, { retainedCapacity: 8192, segmentCapacity: 8192 }), LogStorageError, "LOG_STORAGE", "ENOSPC");
        expect(error.errno).toBe("ENOSPC");
        expect(error.message).toContain("preallocate");
        // The refused creation gave its space back (its pool files were removed).
        expect(readdirSync(big).filter((f) => f.endsWith(".seg") || f.startsWith(CONTROL_FILE))).toEqual([]);
        expect(free()).toBeGreaterThanOrEqual(before - 64 * 1024);

        // A log that fits: 5 segments of 1024 records (36 KiB each) and a small control block.
        const small = join(disk, "small");
        const fits = { retainedCapacity: 1024, segmentCapacity: 1024, maxSnapshots: 4 };
        writeLog(small, 100, fits);
        // Fill the rest of the disk.
        const fd = openSync(join(disk, "filler"), "w");
        const chunk = new Uint8Array(16 * 1024);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (e) {
          expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
        } finally {
          closeSync(fd);
        }
        expect(free()).toBeLessThan(16 * 1024);
        // Appending 20 000 records (20 rolls through every pool file) writes only preallocated
        // pages: in a child process, so a SIGBUS would show as its exit signal, not kill the test run.
        const child = await startChild("fill", small, 20_000);
        expect(child.line).toBe("done 20100");
        expect(await child.proc.exited).toBe(0);
        expect(child.proc.signalCode).toBeNull();
        const log = open(small, {});
        expect(log.recovery?.mode).toBe("clean");
        expect(checkAll(log)).toEqual([18 * 1024, 20_100]); // head 19 and one retained segment
        log.close();
        // A new log on the full disk: a typed ENOSPC, whatever file it fails at.
        const late = expectError(() => open(join(disk, "late"), fits), LogStorageError, "LOG_STORAGE", "ENOSPC");
        expect(late.errno).toBe("ENOSPC");
        // ...and the failure left no lock behind: after freeing space the same process creates it.
        rmSync(join(disk, "filler"));
        const later = open(join(disk, "late"), fits);
        later.close();
      } finally {
        unmount(disk);
      }
    },
    30_000,
  );
});

/** Free bytes of the file system holding `path`. */
function statfsFree(path: string): number {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
}

describe("two writers", () => {
  test("another process holds the log: LogLockedError naming its pid; after it is SIGKILLed the open succeeds and keeps its records", async () => {
    const dir = writeLog(freshDir(), 10);
    const child = await startChild("hold", dir, 25);
    try {
      expect(child.line).toBe(`ready ${child.proc.pid} 35`);
      const error = expectError(() => open(dir, {}), LogLockedError, "LOG_LOCKED", `process ${child.proc.pid}`, dir);
      expect(error.pid).toBe(child.proc.pid);
      expect(error.dir).toBe(dir);
    } finally {
      child.proc.kill("SIGKILL");
    }
    await child.proc.exited;
    expect(child.proc.signalCode).toBe("SIGKILL");
    const log = open(dir, {});
    // Same boot: the killed writer's published records were in the page cache.
    expect(log.recovery).toMatchObject({ mode: "crashed", nextSequence: 35, droppedRecords: 0 });
    expect(checkAll(log)).toEqual([0, 35]);
    const writer = log.tryClaimWriter()!;
    writer.append(tradeFor(35));
    writer.release();
    log.close();
  }, 20_000);

  test("the same process opening twice: LogLockedError naming this process; open again after close()", () => {
    const dir = freshDir();
    const first = open(dir);
    const error = expectError(() => open(dir, {}), LogLockedError, "LOG_LOCKED", `process ${process.pid}`, "this process");
    expect(error.pid).toBe(process.pid);
    // The refused open changed nothing: the first one still works.
    const writer = first.tryClaimWriter()!;
    writer.append(tradeFor(0));
    writer.release();
    first.close();
    const second = open(dir, {});
    expect(checkAll(second)).toEqual([0, 1]);
    second.close();
  });
});

describe("bad options", () => {
  test("unknown option names: InvalidOptionError naming the option, nothing created", () => {
    for (const [name, value] of [["segmentCapcity", 16], ["preTouch", true], ["path", "/x"], ["sync", "everyCommit"]] as const) {
      const dir = freshDir();
      const error = expectError(() => open(dir, { ...OPTS, [name]: value } as DurableLogOptions), InvalidOptionError, "INVALID_OPTION", name, "no such option");
      expect(error.option).toBe(name);
      expect(existsSync(dir)).toBe(false);
    }
  });

  test("bad durability values: InvalidOptionError naming durability", () => {
    for (const value of ["always", "", 5, null, true, {}, { intervalMs: 0 }, { intervalMs: -5 }, { intervalMs: Number.NaN }, { intervalMs: Infinity }, { intervalMs: "5" }, ["none"]]) {
      const error = expectError(() => open(freshDir(), { ...OPTS, durability: value as never }), InvalidOptionError, "INVALID_OPTION", "durability", "everyCommit");
      expect(error.option).toBe("durability");
    }
  });

  test("a non-boolean create, non-object options: InvalidOptionError", () => {
    expect(expectError(() => open(freshDir(), { ...OPTS, create: "yes" as never }), InvalidOptionError, "INVALID_OPTION", "create").option).toBe("create");
    expect(expectError(() => AtomicLog.open(Trade, freshDir(), "fast" as never), InvalidOptionError, "INVALID_OPTION", "options").option).toBe("options");
  });

  test("a non-string or empty dir: InvalidOptionError naming dir", () => {
    for (const dir of [42, undefined, null, "", {}, ["a"], new URL("file:///tmp/x")]) {
      const error = expectError(() => AtomicLog.open(Trade, dir as never, OPTS), InvalidOptionError, "INVALID_OPTION", "dir", "a directory path");
      expect(error.option).toBe("dir");
    }
  });

  test("creating without retainedCapacity or segmentCapacity: InvalidOptionError naming the missing one; no log is left", () => {
    const cases: [DurableLogOptions, string][] = [
      [{}, "retainedCapacity"],
      [{ segmentCapacity: 16 }, "retainedCapacity"],
      [{ retainedCapacity: 64 }, "segmentCapacity"],
      [{ durability: "everyCommit" }, "retainedCapacity"],
    ];
    for (const [options, missing] of cases) {
      const dir = freshDir();
      const error = expectError(() => open(dir, options), InvalidOptionError, "INVALID_OPTION", missing, "to create a log");
      expect(error.option).toBe(missing);
      expect(existsSync(join(dir, CONTROL_FILE))).toBe(false);
      // And a later good open creates it.
      open(dir).close();
    }
  });

  test("bad geometry at creation: InvalidOptionError naming it", () => {
    const cases: [DurableLogOptions, string][] = [
      [{ retainedCapacity: 64, segmentCapacity: 0 }, "segmentCapacity"],
      [{ retainedCapacity: -1, segmentCapacity: 16 }, "retainedCapacity"],
      [{ retainedCapacity: 64, segmentCapacity: 16, snapshotBudget: 1 }, "snapshotBudget"],
      [{ retainedCapacity: 64, segmentCapacity: 16, initialSequence: 5 }, "initialSequence"],
      [{ retainedCapacity: 64, segmentCapacity: 16, maxSnapshots: 0 }, "maxSnapshots"],
    ];
    for (const [options, name] of cases) {
      const dir = freshDir();
      expect(expectError(() => open(dir, options), InvalidOptionError, "INVALID_OPTION", name).option).toBe(name);
      expect(existsSync(join(dir, CONTROL_FILE))).toBe(false);
    }
  });

  test("geometry that differs from the existing log's: InvalidOptionError naming the option and the stored value", () => {
    const dir = writeLog(freshDir(), 5, { ...OPTS, snapshotBudget: 9, maxSnapshots: 8, initialSequence: 0 });
    const cases: [DurableLogOptions, string, string][] = [
      [{ segmentCapacity: 32 }, "segmentCapacity", "expected 16"],
      [{ retainedCapacity: 128, segmentCapacity: 16 }, "retainedCapacity", "expected 64"],
      [{ snapshotBudget: 10 }, "snapshotBudget", "expected 9"],
      [{ maxSnapshots: 1024 }, "maxSnapshots", "expected 8"],
      [{ initialSequence: 32 }, "initialSequence", "expected 0"],
    ];
    for (const [options, name, stored] of cases) {
      const error = expectError(() => open(dir, options), InvalidOptionError, "INVALID_OPTION", name, stored, dir);
      expect(error.option).toBe(name);
    }
    // The same values, or none, open it.
    const log = open(dir, { ...OPTS, snapshotBudget: 9, maxSnapshots: 8, initialSequence: 0, durability: "everyCommit" });
    expect(checkAll(log)).toEqual([0, 5]);
    log.close();
  });
});

describe("close() and claims in the wrong state", () => {
  test("close() while a writer holds the claim: LogInUseError; tryClaimWriter/forceClaimWriter after close: LogInUseError", () => {
    const dir = freshDir();
    const log = open(dir);
    const writer = log.tryClaimWriter()!;
    writer.append(tradeFor(0));
    expectError(() => log.close(), LogInUseError, "LOG_IN_USE", "close", "writer");
    // Refusing to close changed nothing.
    writer.append(tradeFor(1));
    writer.release();
    log.close();
    log.close(); // idempotent
    expectError(() => log.tryClaimWriter(), LogInUseError, "LOG_IN_USE", "claim a writer", "closed");
    expectError(() => log.forceClaimWriter(), LogInUseError, "LOG_IN_USE", "claim a writer", "closed");
    // Reading a closed log still works (its mappings stay valid).
    expect(checkAll(log)).toEqual([0, 2]);
    const again = open(dir, {});
    expect(checkAll(again)).toEqual([0, 2]);
    again.close();
  });
});
