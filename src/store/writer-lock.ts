/**
 * One writing process per log directory.
 *
 * `<dir>/writer.lock` is held with `flock(LOCK_EX | LOCK_NB)` (through
 * `bun:ffi` into libc) for as long as the log is open for writing. The kernel
 * drops the lock when the process dies, however it dies, so a SIGKILLed
 * writer never leaves a stale lock, and two racing openers cannot both win
 * (a PID file checked with `kill(pid, 0)` has both problems). The holder's PID
 * is written into the file for the error message of the loser.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { LogLockedError, LogStorageError } from "../errors.ts";
import { LOCK_FILE } from "./file-format.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;

type Flock = (fd: number, op: number) => number;
let flock: Flock | null | undefined;

function loadFlock(): Flock | null {
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    for (const name of ["libc.so.6", "libc.dylib", "libSystem.B.dylib"]) {
      try {
        const lib = dlopen(name, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
        return (fd, op) => lib.symbols.flock(fd, op) as number;
      } catch {
        // next name
      }
    }
  } catch {
    // no FFI
  }
  return null;
}

/**
 * Runs `fn` holding `<dir>/open.lock`: exclusively while the writer's process
 * opens and recovers the log, shared while a read-only process maps it, so a
 * reader never maps a log in the middle of its recovery. Blocks (for at most
 * the length of a recovery).
 */
export function withOpenLock<T>(dir: string, exclusive: boolean, fn: () => T): T {
  if (flock === undefined) flock = loadFlock();
  const path = join(dir, "open.lock");
  let fd: number;
  try {
    fd = openSync(path, exclusive ? "a+" : "r", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    // A read-only process of a log created before open.lock existed has nothing to wait for.
    if (!exclusive && code === "ENOENT") return fn();
    throw new LogStorageError(path, code, "cannot open the open lock");
  }
  try {
    if (flock !== null) flock(fd, exclusive ? LOCK_EX : LOCK_SH);
    return fn();
  } finally {
    closeSync(fd); // drops the flock
  }
}

/** A held writer lock; {@link release} gives it back (the kernel does too if the process dies). */
export class WriterLock {
  private fd: number;
  private constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * Takes the writer lock of `dir`.
   * @throws {LogLockedError} if another process (or another open in this one) holds it.
   * @throws {LogStorageError} if the lock file cannot be created.
   */
  static acquire(dir: string): WriterLock {
    if (flock === undefined) flock = loadFlock();
    const path = join(dir, LOCK_FILE);
    let fd: number;
    try {
      fd = openSync(path, "a+", 0o600);
    } catch (error) {
      throw new LogStorageError(path, (error as NodeJS.ErrnoException).code ?? "EIO", "cannot open the writer lock");
    }
    if (flock === null) {
      closeSync(fd);
      throw new LogStorageError(path, "ENOSYS", "flock is not available (durable logs need Bun on Linux or macOS)");
    }
    if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd);
      let pid = 0;
      try {
        pid = Number.parseInt(readFileSync(path, "utf8"), 10) || 0;
      } catch {
        // unreadable: report pid 0
      }
      throw new LogLockedError(dir, pid, pid === process.pid ? " (this process: close the other AtomicLog first)" : "");
    }
    try {
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`, 0);
    } catch (error) {
      // A full disk refuses even these few bytes: a typed error, and the lock given back.
      closeSync(fd);
      throw new LogStorageError(path, (error as NodeJS.ErrnoException).code ?? "EIO", "cannot write the writer lock");
    }
    return new WriterLock(fd);
  }

  /** Whether the lock is still held by this object. */
  get held(): boolean {
    return this.fd >= 0;
  }

  /** Gives the lock back. Idempotent. */
  release(): void {
    if (this.fd < 0) return;
    closeSync(this.fd); // closing the descriptor drops the flock
    this.fd = -1;
  }
}
