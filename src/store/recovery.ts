/**
 * Recovery of a durable log at open, by the process that took the writer lock
 * (so nobody else runs the engine on these files meanwhile).
 *
 * Two cases, told apart by the kernel boot id stored in the control header:
 *
 * - **Same boot** (the last writer process exited or was killed): the page
 *   cache was never lost, so the control block's window and counts are the
 *   truth for everything published, including records after the last
 *   checksum. Every checksummed prefix in the window is verified (bit rot, a
 *   stray write or a damaged file is caught there, synced or not: files at
 *   rest can change); the engine's own adoption (writer.ts) then finishes
 *   whatever roll or takeover the dead writer left half done. A log that was
 *   closed cleanly has nothing beyond its checksums and its synced point, so
 *   a window that reaches beyond them (a damaged count or window word) is not
 *   trusted.
 * - **Another boot** (power loss or reboot), or a control block whose window,
 *   directory or counts do not hold together: unsynced pages may be lost or
 *   stale in any combination, so nothing in the control block is trusted. The
 *   window is rebuilt from the segment files alone: each file's longest prefix
 *   whose checksum verifies, chained by sequence, cut at the first segment
 *   that is not complete; of such runs, the one that holds the synced point
 *   (the synced point is in the control header, flushed at every sync).
 *   Everything synced verifies, so it is kept. A file whose header's two
 *   copies of its sequence disagree and that verifies no record is left out
 *   (a damaged sequence must not become the head).
 *
 * Either way, what is returned is a valid prefix of what was appended, and the
 * writer continues right after its last record.
 */
import type { LogState } from "../log/log-state.ts";
import { COUNT_CLOSED, COUNT_MASK, COUNT_SEALED, COUNT_WAITER, H, SEG, SEG_BASE, SEG_WORDS, controlGeometry, storePair } from "../shared/control.ts";
import { WindowState, readWindow, writeWindow } from "../shared/window.ts";
import { coveredCount, verifiedCount } from "./commit-table.ts";
import type { DurableState, DurableRecovery } from "./durable-state.ts";
import { CF, HEADER_BYTES, SF, readPair, writePair } from "./file-format.ts";
import { releaseOrphans } from "./process-table.ts";
import { CLAIM_ROLLING } from "../shared/control.ts";
import { releaseDeadWriter } from "../log/writer-takeover.ts";

/** Runs recovery; see the file comment. `closedCleanly`: the last writer process called close(). */
export function recover(st: LogState<never, never>, durable: DurableState, sameBoot: boolean, closedCleanly: boolean): DurableRecovery {
  const started = performance.now();
  const synced = durable.syncedSequence;
  const window = sameBoot ? consistentWindow(st, durable, synced, closedCleanly) : null;
  let report: Omit<DurableRecovery, "ms">;
  if (window !== null) {
    // Readers in other live processes keep their pins; a dead process's were reaped
    // when this process took its entry (process-table.ts).
    releaseOrphans(st, durable.header);
    // This process holds the writer lock, and only its holder can claim the writer: a claim
    // left in the control block is stale even if its process lives (a copy of a live log's
    // directory, say).
    const claim = Atomics.load(st.ctl, H.CLAIM) & ~CLAIM_ROLLING;
    if (claim !== 0) {
      releaseDeadWriter(st.ctl, claim);
    }
    report = verifyWindow(st, durable, window, synced);
  } else {
    // Another boot: no process of the old one is alive. (A control block that does not
    // hold together on the same boot is rebuilt too: readers still open in other
    // processes must reopen; their pins cannot be trusted either.)
    resetProcessState(st);
    report = rebuild(st, durable, synced);
  }
  if (report.nextSequence < synced) writePair(durable.header, CF.SYNCED_HI, report.nextSequence);
  return { ...report, ms: performance.now() - started };
}

/**
 * Clears what only live threads of the previous process could have held:
 * pins, the budget they reserved, the writer claim, a takeover's bookkeeping
 * and parked-reader marks. Nobody else has the files open (the writer lock).
 */
function resetProcessState(st: LogState<never, never>): void {
  const ctl = st.ctl;
  const g = controlGeometry(st.poolSegments, st.dirSize, ctl[H.PIN_SLOTS]!);
  ctl.fill(0, g.pinBase, g.words);
  for (const word of [H.BUDGET_USED, H.PIN_HIGH_WATER, H.CLAIM, H.CLAIM_NONCE, H.QUARANTINE_PHYS, H.QUARANTINE_EPOCH, H.QUARANTINE_OWNER, H.STOPPED_NONCE, H.NOTIFY]) {
    ctl[word] = 0;
  }
  clearWaiterMarks(st);
}

/** Parked-reader marks of readers that are gone only cost the writer a wake-up; clear them anyway. */
function clearWaiterMarks(st: LogState<never, never>): void {
  const ctl = st.ctl;
  for (let phys = 0; phys < st.poolSegments; phys++) {
    const at = SEG_BASE + SEG_WORDS * phys + SEG.COUNT;
    ctl[at] = ctl[at]! & ~COUNT_WAITER;
  }
}

/** The window, if the control block holds together with the segment files and the synced point; else null. */
function consistentWindow(st: LogState<never, never>, durable: DurableState, synced: number, closedCleanly: boolean): WindowState | null {
  const ctl = st.ctl;
  const win = readWindow(ctl, new WindowState());
  const segCap = st.segmentCapacity;
  if (!(Number.isSafeInteger(win.oldest) && Number.isSafeInteger(win.head) && win.oldest >= 0 && win.oldest <= win.head)) return null;
  if (win.head - win.oldest > st.retainedSegments) return null;
  if (!(win.headPhys >= 0 && win.headPhys < st.poolSegments)) return null;
  const seen = new Set<number>();
  for (let seq = win.oldest; seq <= win.head; seq++) {
    const phys = seq === win.head ? win.headPhys : st.physOf(seq);
    if (!(phys >= 0 && phys < st.poolSegments) || seen.has(phys)) return null;
    seen.add(phys);
    if (st.seqOf(phys) !== seq || durable.store.seqOf(phys) !== seq) return null;
    const raw = ctl[SEG_BASE + SEG_WORDS * phys + SEG.COUNT]!;
    const count = raw & COUNT_MASK;
    if (count > segCap || (raw & ~(COUNT_MASK | COUNT_SEALED | COUNT_CLOSED)) !== 0) return null;
    // Behind the head, a segment is full, or closed early (a gap follows it).
    if (seq < win.head && count !== segCap && (raw & COUNT_CLOSED) === 0) return null;
  }
  // Readers find the head through the directory too: it must name the head, or a takeover's
  // copy of it whose window flip never happened (the writer's adoption completes that).
  const mapped = st.physOf(win.head);
  if (mapped !== win.headPhys) {
    if (!(mapped >= 0 && mapped < st.poolSegments) || seen.has(mapped)) return null;
    if (st.seqOf(mapped) !== win.head || durable.store.seqOf(mapped) !== win.head) return null;
  }
  const next = nextSequenceOf(st, win);
  // Published records only grow past the synced point: a window ending before it lost some.
  if (next < synced) return null;
  // Closed cleanly: every published record was checksummed and synced; anything beyond is damage.
  if (closedCleanly && (next !== synced || coveredCount(durable.store.header(win.headPhys)) !== st.countOf(win.headPhys))) return null;
  return win;
}

/** Same boot: verify the checksummed prefix of every segment in the window; cut at the first damage. */
function verifyWindow(st: LogState<never, never>, durable: DurableState, win: WindowState, synced: number): Omit<DurableRecovery, "ms"> {
  const segCap = st.segmentCapacity;
  const store = durable.store;
  let verifiedSegments = 0;
  for (let seq = win.oldest; seq <= win.head; seq++) {
    const phys = seq === win.head ? win.headPhys : st.physOf(seq);
    const count = st.countOf(phys);
    const covered = Math.min(coveredCount(store.header(phys)), count);
    if (covered === 0) continue;
    verifiedSegments++;
    const valid = verifiedCount(store.header(phys), store.bytes(phys), HEADER_BYTES, st.recordBytes, seq, count);
    if (valid < covered) {
      // Damage inside a checksummed prefix: keep what verifies and stop there.
      const dropped = nextSequenceOf(st, win) - (seq * segCap + valid);
      const chain = [];
      for (let s = win.oldest; s < seq; s++) {
        const p = st.physOf(s);
        chain.push({ seq: s, phys: p, valid: st.countOf(p), closed: st.countOf(p) < segCap });
      }
      chain.push({ seq, phys, valid, closed: false });
      install(st, durable, chain);
      return { mode: "rebuilt", nextSequence: seq * segCap + valid, droppedRecords: dropped, verifiedSegments };
    }
  }
  const next = nextSequenceOf(st, win);
  return { mode: next === synced ? "clean" : "crashed", nextSequence: next, droppedRecords: 0, verifiedSegments };
}

function nextSequenceOf(st: LogState<never, never>, win: WindowState): number {
  return win.head * st.segmentCapacity + st.countOf(win.headPhys);
}

interface Candidate {
  readonly seq: number;
  readonly phys: number;
  /** Records whose checksum verifies. */
  readonly valid: number;
  /** Closed early by the writer at exactly `valid` records (a gap follows): complete, like a full segment. */
  readonly closed: boolean;
}

/** Rebuilds the window from the segment files alone (see the file comment). */
function rebuild(st: LogState<never, never>, durable: DurableState, synced: number): Omit<DurableRecovery, "ms"> {
  const segCap = st.segmentCapacity;
  const store = durable.store;
  const bySeq = new Map<number, Candidate>();
  for (let phys = 0; phys < st.poolSegments; phys++) {
    const seq = store.seqOf(phys);
    if (!(Number.isSafeInteger(seq) && seq >= 0 && Number.isSafeInteger((seq + 1) * segCap))) continue;
    const valid = verifiedCount(store.header(phys), store.bytes(phys), HEADER_BYTES, st.recordBytes, seq, segCap);
    // The checksum is seeded with the sequence, so a verified record vouches for it; a file that
    // verifies none must at least agree with its own first-record sequence.
    if (valid === 0 && readPair(store.header(phys), SF.FIRST_HI) !== seq * segCap) continue;
    const other = bySeq.get(seq);
    // A takeover's copy and the head it replaced share a sequence: keep the longer verified prefix.
    if (other === undefined || valid > other.valid) bySeq.set(seq, { seq, phys, valid, closed: valid < segCap && store.closedAt(phys) === valid });
  }
  const verifiedSegments = bySeq.size;
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  // Runs: consecutive sequences, each run cut after its first incomplete segment (an
  // empty segment file at the end of a run is fine as the head).
  const runs: Candidate[][] = [];
  for (const seq of seqs) {
    const c = bySeq.get(seq)!;
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (last !== undefined && last.seq === seq - 1 && (last.valid === segCap || last.closed)) run!.push(c);
    else runs.push([c]);
  }
  // The run that holds the synced point, whatever was (partly) written after it: everything
  // synced verifies, but a file recycled or a head started after the sync may have reached
  // the disk while the segments between did not, so the highest sequence may be beyond a
  // gap (found by test/durable/power-loss.test.ts). Without one (nothing synced, or the synced
  // segments were evicted and overwritten), the run that ends highest.
  const endOf = (run: readonly Candidate[]) => run[run.length - 1]!.seq * segCap + run[run.length - 1]!.valid;
  let chain: Candidate[] = runs.find((run) => run[0]!.seq * segCap < synced && endOf(run) >= synced) ?? [];
  if (chain.length === 0) for (const run of runs) if (chain.length === 0 || endOf(run) > endOf(chain)) chain = run;
  let dropped = 0;
  const kept = new Set(chain.map((c) => c.phys));
  for (const c of bySeq.values()) {
    if (!kept.has(c.phys) && chain.length > 0 && c.seq > chain[chain.length - 1]!.seq) dropped += c.valid;
  }
  if (chain.length === 0) {
    const initial = Math.max(0, Math.floor(loadInitial(st) / segCap));
    chain = [{ seq: initial, phys: 0, valid: 0, closed: false }];
  }
  chain = chain.slice(Math.max(0, chain.length - 1 - st.retainedSegments));
  install(st, durable, chain);
  const head = chain[chain.length - 1]!;
  return { mode: "rebuilt", nextSequence: head.seq * segCap + head.valid, droppedRecords: dropped, verifiedSegments };
}

function loadInitial(st: LogState<never, never>): number {
  const v = st.ctl[H.INITIAL_SEQ_HI]! * 4294967296 + (st.ctl[H.INITIAL_SEQ_LO]! >>> 0);
  return Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/**
 * Writes `chain` (oldest first; the last is the head, its `valid` records
 * published; the others complete) as the window. Pool files outside the chain
 * that hold a sequence at or after the chain's start are discarded (renamed
 * free), so no stale file can be taken for a future segment of the same
 * sequence; older ones stay as evicted segments for the writer to reuse.
 */
function install(st: LogState<never, never>, durable: DurableState, chain: readonly Candidate[]): void {
  const ctl = st.ctl;
  const store = durable.store;
  const oldest = chain[0]!.seq;
  const inChain = new Set(chain.map((c) => c.phys));
  for (let phys = 0; phys < st.poolSegments; phys++) {
    const at = SEG_BASE + SEG_WORDS * phys;
    if (inChain.has(phys)) continue;
    const seq = store.seqOf(phys);
    if (Number.isSafeInteger(seq) && seq >= 0 && seq < oldest) {
      storePair(ctl, at + SEG.SEQ_HI, seq);
      ctl[at + SEG.COUNT] = st.segmentCapacity;
      ctl[at + SEG.GENERATION] = Math.max(1, ctl[at + SEG.GENERATION]!);
    } else {
      if (seq !== -1) store.discard(phys);
      storePair(ctl, at + SEG.SEQ_HI, 0);
      ctl[at + SEG.COUNT] = 0;
      ctl[at + SEG.GENERATION] = 0;
    }
  }
  for (const c of chain) {
    const at = SEG_BASE + SEG_WORDS * c.phys;
    if (store.seqOf(c.phys) !== c.seq) store.prepare(c.phys, c.seq); // the empty head of a log with no segment left
    // A damaged entry covering more than verified would stop the writer from ever checksumming this segment again.
    store.retable(c.phys, c.seq, c.valid);
    storePair(ctl, at + SEG.SEQ_HI, c.seq);
    // A closed segment keeps its mark (if it is the chain's last, the writer's adoption leaves it).
    ctl[at + SEG.COUNT] = c.closed ? c.valid | COUNT_CLOSED : c.valid;
    ctl[at + SEG.GENERATION] = Math.max(1, ctl[at + SEG.GENERATION]!);
    ctl[st.dirBase + (c.seq % st.dirSize)] = c.phys;
  }
  const head = chain[chain.length - 1]!;
  writeWindow(ctl, oldest, head.seq, head.phys);
}
