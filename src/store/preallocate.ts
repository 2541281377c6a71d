/**
 * Preallocation of segment files.
 *
 * Writing through a mapping into a sparse file on a full disk kills the
 * process with SIGBUS, so every file is given its blocks up front with
 * `posix_fallocate` (through `bun:ffi` into libc: 0.2 ms per 256 MiB measured
 * here), which fails cleanly with ENOSPC. Where libc cannot be loaded, the
 * fallback writes zeros through the file descriptor, which also fails cleanly
 * when the disk is full, only slower.
 */
import { writeSync } from "node:fs";

type Fallocate = (fd: number, offset: number, length: number) => number;

let fallocate: Fallocate | null | undefined;

function loadFallocate(): Fallocate | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    for (const name of ["libc.so.6", "libc.dylib", "libSystem.B.dylib"]) {
      try {
        const lib = dlopen(name, { posix_fallocate: { args: [FFIType.i32, FFIType.i64, FFIType.i64], returns: FFIType.i32 } });
        return (fd, offset, length) => lib.symbols.posix_fallocate(fd, offset, length) as number;
      } catch {
        // try the next name
      }
    }
  } catch {
    // not Bun, or no FFI
  }
  return null;
}

const ERRNO_NAMES: Record<number, string> = { 28: "ENOSPC", 27: "EFBIG", 5: "EIO", 9: "EBADF", 22: "EINVAL", 95: "EOPNOTSUPP" };

/**
 * Gives `fd` real blocks for bytes `[0, size)`.
 * @returns null on success, else the error code name (e.g. "ENOSPC").
 */
export function preallocate(fd: number, size: number): string | null {
  if (fallocate === undefined) fallocate = loadFallocate();
  if (fallocate !== null) {
    const rc = fallocate(fd, 0, size);
    // EOPNOTSUPP/EINVAL: a file system without fallocate; fall back to zeros.
    if (rc === 0) return null;
    if (rc !== 95 && rc !== 22) return ERRNO_NAMES[rc] ?? `errno ${rc}`;
  }
  const zeros = new Uint8Array(Math.min(size, 1 << 20));
  try {
    for (let at = 0; at < size; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "EIO";
  }
  return null;
}
