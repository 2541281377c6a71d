/**
 * The processes that have a durable log open, in the control file's header.
 *
 * Pins and the writer claim are tagged with their owner (thread.ts). Thread
 * ids repeat across processes, so each process takes an entry here and tags
 * with `generation << 22 | (entry + 1) << 16 | (threadId + 1)` (below 2^29,
 * under the pin and claim flag bits): distinct across processes, and a dead
 * process's pins are found by the entry and generation bits alone.
 *
 * Entry: [pid, start time (clock ticks since boot, from /proc), flags,
 * generation]. An entry is taken with one compare-and-swap of its pid word
 * from 0, after which its taker bumps the generation (mod 128) and only then
 * tags anything. It is given back by its process when it closes the log, or by
 * any other process that finds the process dead (`kill(pid, 0)` fails, or the
 * pid was reused: another start time). Reaping releases the dead process's
 * pins (returning their budget, the same per-slot protocol as
 * `recoverThread`, pins.ts) and its writer claim, then frees the entry.
 *
 * Invariant: a reaper releases only pins of the process it found dead. It
 * reads (pid, generation) and re-reads pid: if the pid is unchanged, the
 * generation is the dead process's (a dead process changes nothing, and a new
 * taker must first win the pid word, which is not 0), so it releases exactly
 * the tags of that generation. A slow reaper that finds the entry reaped and
 * retaken by a live process sees another pid, or releases a generation that
 * process does not use. (Without the generation, a second reaper that had seen
 * the dead pid released the new taker's live pins: found by review.)
 */
import { readFileSync } from "node:fs";
import type { LogState } from "../log/log-state.ts";
import { H } from "../shared/control.ts";
import { releaseDeadWriter } from "../log/writer-takeover.ts";
import { AtomicLogError } from "../errors.ts";
import { CF } from "./file-format.ts";

/** Entries in the table. */
export const PROCESS_SLOTS = 64;
const ENTRY_WORDS = 4;
const BASE = CF.PROCESS_TABLE_BYTE / 4;
const PID = 0;
const START = 1;
/** Flags word of an entry. */
export const FLAGS = 2;
const GEN = 3;
const GEN_SHIFT = 22;
const GEN_MASK = 127;
/** Set in FLAGS while the process may have a reader parked in `ready()` (see remote-wake.ts). */
export const FLAG_PARKED = 1;
/** Bits of an owner tag that are the thread (the rest name the process entry). */
export const THREAD_BITS = 16;

/** Word index of entry `slot`'s word `field` in the header. */
export function entryWord(slot: number, field: number): number {
  return BASE + slot * ENTRY_WORDS + field;
}

/** The owner-tag base of entry `slot` at generation `gen`. */
export function tagBase(slot: number, gen: number): number {
  return ((gen & GEN_MASK) << GEN_SHIFT) | ((slot + 1) << THREAD_BITS);
}

/** The entry and generation an owner tag names. */
function tagEntry(owner: number): { slot: number; gen: number } {
  return { slot: ((owner >>> THREAD_BITS) & 63) - 1, gen: (owner >>> GEN_SHIFT) & GEN_MASK };
}

/** The process start time of `pid` in clock ticks since boot, or 0 where unknown (then only the pid is compared). */
export function startTime(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]) % 2147483647 | 0;
  } catch {
    return 0;
  }
}

/** Whether the process of an entry still runs. */
export function isAlive(pid: number, start: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return start === 0 || startTime(pid) === 0 || startTime(pid) === start;
}

/**
 * Takes an entry for this process. Entries of dead processes are reaped
 * first, so a crashed process's entry is reused.
 * @throws {AtomicLogError} if every entry belongs to a live process.
 */
export function takeEntry(st: LogState<never, never>, header: Int32Array): { slot: number; tagBase: number } {
  reapDead(st, header);
  const pid = process.pid;
  const start = startTime(pid);
  for (let slot = 0; slot < PROCESS_SLOTS; slot++) {
    if (Atomics.compareExchange(header, entryWord(slot, PID), 0, pid) === 0) {
      Atomics.store(header, entryWord(slot, START), start);
      Atomics.store(header, entryWord(slot, FLAGS), 0);
      const gen = (Atomics.add(header, entryWord(slot, GEN), 1) + 1) & GEN_MASK;
      return { slot, tagBase: tagBase(slot, gen) };
    }
  }
  throw new AtomicLogError("LOG_LOCKED", `all ${PROCESS_SLOTS} process entries of the log are taken by live processes`);
}

/**
 * Forgets every entry (after a reboot, when no process of the table can be
 * alive). Generations are kept, so tags of the old processes still in the
 * control block never equal a new process's.
 */
export function clearProcessTable(header: Int32Array): void {
  for (let slot = 0; slot < PROCESS_SLOTS; slot++) {
    header[entryWord(slot, PID)] = 0;
    header[entryWord(slot, START)] = 0;
    header[entryWord(slot, FLAGS)] = 0;
  }
}

/** Gives this process's entry back (its pins and claim must already be released). */
export function leaveEntry(header: Int32Array, slot: number): void {
  Atomics.store(header, entryWord(slot, FLAGS), 0);
  Atomics.compareExchange(header, entryWord(slot, PID), process.pid, 0);
}

/** What reaping found. */
export interface ReapReport {
  readonly processes: number;
  readonly pins: number;
  readonly writerReleased: boolean;
}

/**
 * Releases everything held by processes that died with the log open, and
 * pins whose owner tag names no live entry (left by a crash of the process
 * that owned the entry, after another process reused it would be impossible:
 * the entry is freed only after its pins are released).
 */
export function reapDead(st: LogState<never, never>, header: Int32Array): ReapReport {
  let processes = 0;
  let pins = 0;
  let writerReleased = false;
  for (let slot = 0; slot < PROCESS_SLOTS; slot++) {
    const pid = Atomics.load(header, entryWord(slot, PID));
    if (pid === 0 || pid === process.pid || isAlive(pid, Atomics.load(header, entryWord(slot, START)))) continue;
    const gen = Atomics.load(header, entryWord(slot, GEN)) & GEN_MASK;
    // Reaped and retaken since we looked: not ours to touch (see the invariant above).
    if (Atomics.load(header, entryWord(slot, PID)) !== pid) continue;
    const r = releaseEntry(st, tagBase(slot, gen));
    pins += r.pins;
    writerReleased ||= r.writerReleased;
    Atomics.compareExchange(header, entryWord(slot, PID), pid, 0);
    processes++;
  }
  return { processes, pins, writerReleased };
}

/**
 * Releases pins whose owner tag names no taken entry: left behind if a
 * process died between taking a pin and... nothing else can leave them, but a
 * damaged control block can, and they would hold budget forever.
 */
export function releaseOrphans(st: LogState<never, never>, header: Int32Array): number {
  const live = (owner: number) => {
    const { slot, gen } = tagEntry(owner);
    return slot >= 0 && Atomics.load(header, entryWord(slot, PID)) !== 0 && (Atomics.load(header, entryWord(slot, GEN)) & GEN_MASK) === gen;
  };
  let released = 0;
  for (const owner of st.pins.ownersWithin(1, 1 << 29)) {
    if (!live(owner)) released += st.pins.releaseOwnedBy(owner).slots;
  }
  const claim = Atomics.load(st.ctl, H.CLAIM) & ((1 << 29) - 1);
  if (claim !== 0 && !live(claim)) {
    releaseDeadWriter(st.ctl, claim);
  }
  return released;
}

/** Releases the pins and the writer claim of every thread tagged from `base` (one entry, one generation). */
function releaseEntry(st: LogState<never, never>, base: number): { pins: number; writerReleased: boolean } {
  let pins = 0;
  for (const owner of st.pins.ownersWithin(base, base + (1 << THREAD_BITS))) pins += st.pins.releaseOwnedBy(owner).slots;
  let writerReleased = false;
  const claim = Atomics.load(st.ctl, H.CLAIM) & ((1 << 29) - 1);
  if (claim >= base && claim < base + (1 << THREAD_BITS)) {
    writerReleased = releaseDeadWriter(st.ctl, claim);
  }
  return { pins, writerReleased };
}
