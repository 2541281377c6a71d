/**
 * Waking readers parked in other processes: a Unix-domain socket doorbell.
 *
 * A process that opens a durable log read-only listens on
 * `<dir>/wake.<entry>.sock` and, once listening, sets FLAG_PARKED in its
 * process-table entry. Its readers park on the process's bell as usual (an
 * `Atomics.waitAsync` on a SharedArrayBuffer); a byte arriving on the socket
 * rings that bell.
 *
 * The writer's side runs only where the wake protocol already takes its slow
 * path (a parked reader marked the count word, wake.ts): besides its own bell,
 * it sends one byte to every other process whose entry is flagged, over a
 * connection it keeps (a nonblocking `send` through `bun:ffi`: measured here at
 * about 1.3 µs per notify). A writer with nobody parked pays nothing.
 *
 * Invariant: a parked reader in another process is woken by the first commit
 * after its mark. Its process flagged itself before any of its readers could
 * mark (the server is listening before the flag is set, and readers mark only
 * after the open returned), the writer reads the flags after it saw the mark,
 * and a byte sent on a connected socket is delivered. Readers also re-check
 * every `RECHECK_MS`, so a lost doorbell (a full socket buffer, a process that
 * could not listen) delays a wake-up but never loses it.
 */
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { FLAGS, FLAG_PARKED, PROCESS_SLOTS, entryWord } from "./process-table.ts";

/** Parked readers re-check this often even with a doorbell. */
export const RECHECK_MS = 50;

type Libc = {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
};
let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    const { i32, ptr, u64, i64 } = FFIType;
    const lib = dlopen(process.platform === "darwin" ? "libSystem.B.dylib" : "libc.so.6", {
      socket: { args: [i32, i32, i32], returns: i32 },
      connect: { args: [i32, ptr, i32], returns: i32 },
      send: { args: [i32, ptr, u64, i32], returns: i64 },
      close: { args: [i32], returns: i32 },
    });
    const s = lib.symbols;
    return {
      socket: (d, t, p) => s.socket(d, t, p) as number,
      connect: (fd, addr, len) => s.connect(fd, addr, len) as number,
      send: (fd, buf, len, flags) => Number(s.send(fd, buf, len, flags)),
      close: (fd) => s.close(fd) as number,
    };
  } catch {
    return null;
  }
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
/** MSG_DONTWAIT | MSG_NOSIGNAL (Linux): never block the writer, never SIGPIPE it. */
const SEND_FLAGS = 0x40 | 0x4000;
const ONE_BYTE = new Uint8Array(1);

/** The socket path of process entry `slot`. */
export function wakeSocketPath(dir: string, slot: number): string {
  return join(dir, `wake.${slot}.sock`);
}

function sockaddr(path: string): Uint8Array | null {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length > 107) return null; // sun_path is 108 bytes, NUL-terminated
  const addr = new Uint8Array(110);
  addr[0] = AF_UNIX; // sa_family (little-endian u16)
  addr.set(bytes, 2);
  return addr;
}

/** The writer's side: rings the doorbells of other processes with parked readers. */
export class RemoteWake {
  private readonly fds = new Map<number, { pid: number; fd: number }>();
  constructor(
    private readonly dir: string,
    private readonly header: Int32Array,
  ) {}

  /** Sends one byte to every other process whose entry is flagged as having parked readers. */
  poke(): void {
    if (libc === undefined) libc = loadLibc();
    if (libc === null) return;
    for (let slot = 0; slot < PROCESS_SLOTS; slot++) {
      if ((Atomics.load(this.header, entryWord(slot, FLAGS)) & FLAG_PARKED) === 0) continue;
      const pid = Atomics.load(this.header, entryWord(slot, 0));
      if (pid === 0 || pid === process.pid) continue;
      let conn = this.fds.get(slot);
      if (conn !== undefined && conn.pid !== pid) {
        libc.close(conn.fd);
        this.fds.delete(slot);
        conn = undefined;
      }
      if (conn === undefined) {
        const fd = this.connect(slot);
        if (fd < 0) continue;
        conn = { pid, fd };
        this.fds.set(slot, conn);
      }
      if (libc.send(conn.fd, ONE_BYTE, 1, SEND_FLAGS) < 0) {
        // A dead reader, or a full buffer (it has bytes to read, so it will wake anyway).
        libc.close(conn.fd);
        this.fds.delete(slot);
      }
    }
  }

  private connect(slot: number): number {
    const addr = sockaddr(wakeSocketPath(this.dir, slot));
    if (addr === null) return -1;
    const fd = libc!.socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (libc!.connect(fd, addr, addr.length) !== 0) {
      libc!.close(fd);
      return -1;
    }
    return fd;
  }
}

/**
 * The reader process's side: listens on its doorbell and rings `ring` for
 * every byte. Returns a function that stops listening, or null if it could
 * not listen (readers then re-check every RECHECK_MS only).
 */
export function listenForWakes(dir: string, slot: number, header: Int32Array, ring: () => void): (() => void) | null {
  const path = wakeSocketPath(dir, slot);
  try {
    unlinkSync(path); // left by a dead process that had the same entry
  } catch {
    // none
  }
  try {
    const server = Bun.listen({
      unix: path,
      socket: {
        data() {
          ring();
        },
      },
    });
    (server as { unref?: () => void }).unref?.();
    Atomics.or(header, entryWord(slot, FLAGS), FLAG_PARKED);
    return () => {
      Atomics.and(header, entryWord(slot, FLAGS), ~FLAG_PARKED);
      server.stop(true);
      try {
        unlinkSync(path);
      } catch {
        // gone
      }
    };
  } catch {
    return null;
  }
}
