/**
 * Futex wait and wake on a word of a shared file mapping, through `bun:ffi`
 * (`syscall(SYS_futex, ...)`): the only way measured here to wake a thread of
 * another process in about 2 µs (a Unix-socket doorbell took 35 µs to reach a
 * Bun socket callback). Shared (not FUTEX_PRIVATE) operations, so the kernel
 * keys the word by the mapped file's page: every process mapping the file
 * waits on the same futex.
 */
type Syscall = (nr: number, addr: number, op: number, val: number, timeout: number, addr2: number, val3: number) => number;

let syscall: Syscall | null | undefined;
let ptrOf: ((view: Int32Array | BigInt64Array) => number) | null = null;
const SYS_FUTEX = process.arch === "arm64" ? 98 : 202;
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;

function load(): Syscall | null {
  try {
    const ffi = require("bun:ffi") as typeof import("bun:ffi");
    const { i64, ptr, i32 } = ffi.FFIType;
    const lib = ffi.dlopen(process.platform === "linux" ? "libc.so.6" : "libSystem.B.dylib", {
      syscall: { args: [i64, ptr, i32, i32, ptr, ptr, i32], returns: i64 },
    });
    ptrOf = (view) => ffi.ptr(view);
    return (nr, addr, op, val, timeout, addr2, val3) => Number(lib.symbols.syscall(nr, addr, op, val, timeout, addr2, val3));
  } catch {
    return null;
  }
}

/** Whether futexes are available (Linux under Bun). */
export function futexAvailable(): boolean {
  if (syscall === undefined) syscall = process.platform === "linux" ? load() : null;
  return syscall !== null;
}

/** Wakes every thread waiting on word `index` of `words` (a view over a shared file mapping). */
export function futexWake(words: Int32Array, index: number): void {
  if (!futexAvailable()) return;
  syscall!(SYS_FUTEX, ptrOf!(words) + index * 4, FUTEX_WAKE, 0x7fffffff, 0, 0, 0);
}

const timespec = new BigInt64Array(2);
let timespecPtr = 0;

/**
 * Blocks this thread while word `index` of `words` holds `expected`, for at
 * most `timeoutMs`. Returns on a wake, a changed word, the timeout or a signal;
 * the caller re-reads the word.
 */
export function futexWait(words: Int32Array, index: number, expected: number, timeoutMs: number): void {
  if (!futexAvailable()) return;
  if (timespecPtr === 0) timespecPtr = ptrOf!(timespec);
  timespec[0] = BigInt(Math.floor(timeoutMs / 1000));
  timespec[1] = BigInt(Math.floor((timeoutMs % 1000) * 1e6));
  syscall!(SYS_FUTEX, ptrOf!(words) + index * 4, FUTEX_WAIT, expected, timespecPtr, 0, 0);
}
