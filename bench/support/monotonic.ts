/**
 * CLOCK_MONOTONIC in nanoseconds through `bun:ffi`: the same clock in every
 * process (Bun's `process.hrtime` counts from a per-process origin, measured
 * here 14 s apart between two processes), for one-way latencies across processes.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const lib = dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
const ts = new BigInt64Array(2);
const tsPtr = ptr(ts);
const CLOCK_MONOTONIC = 1;

/** Nanoseconds on CLOCK_MONOTONIC (exact below 2^53 ns, about 104 days of uptime). */
export function monoNs(): number {
  lib.symbols.clock_gettime(CLOCK_MONOTONIC, tsPtr);
  return Number(ts[0]!) * 1e9 + Number(ts[1]!);
}
