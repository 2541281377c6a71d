/**
 * The scheduler's own shared memory: one Int32Array that the explorer (main
 * thread) and the party workers use to hand the single "turn" around.
 *
 * Exactly one party runs at a time. A party runs until its next access to the
 * log's control block, publishes that pending access, and then the party that
 * yields decides, with {@link decide}, who runs next: the schedule prefix the
 * explorer wants replayed, or past it the default (keep running the same
 * party). Every decision is recorded in the trace, so the explorer can find
 * the alternatives it has not tried yet.
 *
 * Only the real `Atomics` (captured before the hooks are installed) touch this
 * memory; the hooks themselves never schedule on it.
 */

/** Maximum parties in one scenario. */
export const MAX_PARTIES = 6;
/** Maximum scheduling steps in one execution; more is reported as a livelock. */
export const MAX_STEPS = 6000;

/** Global words. */
export const G = {
  STEP: 0,
  /** Execution status, see {@link Status}. */
  STATUS: 1,
  /** Set when the execution ends; parked parties throw instead of running. */
  ABORT: 2,
  PREFIX_LEN: 3,
  PARTIES: 4,
  /** Bit mask of parties the explorer may kill. */
  KILLABLE: 5,
  /** Party that ran last (-1 at the start). */
  PREV: 6,
  /** Set to 1 when the execution has ended (explorer waits on it). */
  ENDED: 7,
  /** Parties that reached their first scheduling point. */
  ARRIVED: 8,
  /** Execution number: the explorer bumps it to start the next execution. */
  GEN: 9,
  /** Parties whose script has settled (finished, failed or unwound) this execution. */
  SETTLED: 10,
  /** Bytes of the failure message in the message buffer. */
  MESSAGE_LENGTH: 11,
  /** Party that failed first. */
  FAILED_PARTY: 12,
  /** Runnable parties at the step where a replay diverged. */
  DIVERGED_MASK: 13,
  /** Each party's state (4 bits each) when the execution ended. */
  END_STATES: 14,
  /** Party + 1 that holds the turn (0 between turns), to catch two parties running at once. */
  RUNNER: 15,
  /** 1 if a timed wait may not time out while nobody else can run (ScenarioSpec.strictTimedWaits). */
  STRICT_TIMED: 16,
} as const;

/** Bytes for the first failure's message (a separate SharedArrayBuffer). */
export const MESSAGE_BYTES = 16384;

/** How an execution ended. */
export const Status = { RUNNING: 0, FINISHED: 1, FAILED: 2, DEADLOCK: 3, STEP_BOUND: 4, DIVERGED: 5 } as const;

/** Per-party words start here, PARTY_WORDS each. */
export const PARTY_BASE = 17;
export const PARTY_WORDS = 8;
/** Offsets inside a party's words. */
export const P = {
  STATE: 0,
  OP_KIND: 1,
  OP_INDEX: 2,
  /** Turn flag: 1 when the party may run. */
  GO: 3,
  /** Index a blocked party waits on. */
  WAIT_INDEX: 4,
  /** 1 when the party's wait ends by a notify, 2 by a timeout. */
  WAIT_RESULT: 5,
  /** Diagnostics: the last execution (generation) this party settled. */
  SETTLED_GEN: 6,
} as const;

/** Party states. */
export const State = {
  IDLE: 0,
  /** Waiting for the turn, with a pending operation. */
  AT_OP: 1,
  DONE: 2,
  /** In `Atomics.waitAsync` with no timeout: enabled only by a notify. */
  BLOCKED: 3,
  KILLED: 4,
  /** In `Atomics.waitAsync` with a timeout: enabled (choosing it times the wait out). */
  BLOCKED_TIMED: 5,
  RUNNING: 6,
} as const;

/** Operation kinds (for the trace and the conflict filter). */
export const Op = {
  START: 0,
  LOAD: 1,
  STORE: 2,
  RMW: 3,
  WAIT: 4,
  NOTIFY: 5,
  PAUSE: 6,
  RESUME: 7,
  /** Waiting until the party named by OP_INDEX is killed or done (a recoverer waits for its dead thread). */
  AWAIT_END: 8,
} as const;

/** Where the explorer writes the schedule prefix to replay. */
export const PREFIX_BASE = PARTY_BASE + PARTY_WORDS * MAX_PARTIES;
/** Trace: TRACE_WORDS per step, see {@link T}. */
export const TRACE_BASE = PREFIX_BASE + MAX_STEPS;
export const TRACE_WORDS = 8;
/** Offsets inside one trace entry. */
export const T = { CHOICE: 0, ENABLED: 1, PREV: 2, PREV_KIND: 3, PREV_INDEX: 4, KILLABLE: 5, SPINNING: 6, TIMED: 7 } as const;
/** Executed operations, in order: party, kind, index (for footprints). */
export const EXEC_BASE = TRACE_BASE + TRACE_WORDS * MAX_STEPS;
export const EXEC_WORDS = 3;
/** Words of the whole block. */
export const SYNC_WORDS = EXEC_BASE + EXEC_WORDS * MAX_STEPS + 4;
/** Count of executed operations. */
export const EXEC_COUNT = SYNC_WORDS - 1;

/**
 * Choices: `0 .. parties-1` runs that party; `KILL + p` kills party p (it
 * never runs again; a scenario's other parties then see it as dead).
 */
export const KILL = 100;

/** Real Atomics, captured before any hook is installed. */
export const RealAtomics: typeof Atomics = (globalThis as { __realAtomics?: typeof Atomics }).__realAtomics ?? Atomics;

/** Word of party `p`'s field `f`. */
export function pw(p: number, f: number): number {
  return PARTY_BASE + p * PARTY_WORDS + f;
}

function enabledMask(sync: Int32Array, parties: number): number {
  let mask = 0;
  for (let p = 0; p < parties; p++) {
    const s = RealAtomics.load(sync, pw(p, P.STATE));
    if (s === State.AT_OP && RealAtomics.load(sync, pw(p, P.OP_KIND)) === Op.AWAIT_END) {
      const t = RealAtomics.load(sync, pw(RealAtomics.load(sync, pw(p, P.OP_INDEX)), P.STATE));
      if (t === State.KILLED || t === State.DONE) mask |= 1 << p;
    } else if (s === State.AT_OP || s === State.BLOCKED_TIMED) mask |= 1 << p;
  }
  return mask;
}

function endExecution(sync: Int32Array, status: number): void {
  if (RealAtomics.compareExchange(sync, G.STATUS, Status.RUNNING, status) === Status.RUNNING) {
    // Kept for diagnostics: the parties' states when the execution ended.
    const parties = RealAtomics.load(sync, G.PARTIES);
    let states = 0;
    for (let p = 0; p < parties; p++) states |= (RealAtomics.load(sync, pw(p, P.STATE)) & 15) << (4 * p);
    RealAtomics.store(sync, G.END_STATES, states);
  }
  RealAtomics.store(sync, G.ABORT, 1);
  const parties = RealAtomics.load(sync, G.PARTIES);
  for (let p = 0; p < parties; p++) {
    RealAtomics.store(sync, pw(p, P.GO), 1);
    RealAtomics.notify(sync, pw(p, P.GO));
  }
  RealAtomics.store(sync, G.ENDED, 1);
  RealAtomics.notify(sync, G.ENDED);
}

/** Marks the execution failed and wakes everyone to unwind; returns whether this was the first failure. */
export function failExecution(sync: Int32Array, status: number): boolean {
  const first = RealAtomics.load(sync, G.STATUS) === Status.RUNNING;
  endExecution(sync, status);
  return first;
}

/**
 * Chooses who runs next and hands them the turn. Called by whoever just
 * yielded (a party at an operation, a party that finished or blocked) and by
 * the explorer to start an execution.
 */
export function decide(sync: Int32Array): void {
  const parties = RealAtomics.load(sync, G.PARTIES);
  for (;;) {
    if (RealAtomics.load(sync, G.ABORT) !== 0) return;
    const step = RealAtomics.load(sync, G.STEP);
    const enabled = enabledMask(sync, parties);
    if (enabled === 0) {
      let blocked = false;
      for (let p = 0; p < parties; p++) {
        const st = RealAtomics.load(sync, pw(p, P.STATE));
        if (st === State.BLOCKED || st === State.AT_OP) blocked = true;
      }
      endExecution(sync, blocked ? Status.DEADLOCK : Status.FINISHED);
      return;
    }
    const timed = timedMask(sync, parties);
    if (RealAtomics.load(sync, G.STRICT_TIMED) !== 0 && (enabled & ~timed) === 0) {
      // Only timed waits could go on: in production they would, after their time-out. A scenario
      // that says its wake-ups are never lost reports this as the lost wake-up it is.
      endExecution(sync, Status.DEADLOCK);
      return;
    }
    if (step >= MAX_STEPS) {
      endExecution(sync, Status.STEP_BOUND);
      return;
    }
    const prev = RealAtomics.load(sync, G.PREV);
    const killable = RealAtomics.load(sync, G.KILLABLE) & enabled;
    let choice: number;
    if (step < RealAtomics.load(sync, G.PREFIX_LEN)) {
      choice = RealAtomics.load(sync, PREFIX_BASE + step);
      const ok = choice >= KILL ? (killable & (1 << (choice - KILL))) !== 0 : (enabled & (1 << choice)) !== 0;
      if (!ok) {
        RealAtomics.store(sync, G.DIVERGED_MASK, enabled);
        endExecution(sync, Status.DIVERGED);
        return;
      }
    } else {
      choice = defaultChoice(sync, enabled, timed, prev, parties);
    }
    const at = TRACE_BASE + step * TRACE_WORDS;
    RealAtomics.store(sync, at + T.CHOICE, choice);
    RealAtomics.store(sync, at + T.ENABLED, enabled);
    RealAtomics.store(sync, at + T.PREV, prev);
    RealAtomics.store(sync, at + T.PREV_KIND, prev >= 0 ? RealAtomics.load(sync, pw(prev, P.OP_KIND)) : -1);
    RealAtomics.store(sync, at + T.PREV_INDEX, prev >= 0 ? RealAtomics.load(sync, pw(prev, P.OP_INDEX)) : -1);
    RealAtomics.store(sync, at + T.KILLABLE, killable);
    let spinning = 0;
    for (let p = 0; p < parties; p++) if ((enabled & (1 << p)) !== 0 && RealAtomics.load(sync, pw(p, P.OP_KIND)) === Op.PAUSE) spinning |= 1 << p;
    RealAtomics.store(sync, at + T.SPINNING, spinning);
    RealAtomics.store(sync, at + T.TIMED, timed);
    RealAtomics.store(sync, G.STEP, step + 1);
    if (choice >= KILL) {
      RealAtomics.store(sync, pw(choice - KILL, P.STATE), State.KILLED);
      continue;
    }
    RealAtomics.store(sync, G.PREV, choice);
    RealAtomics.store(sync, pw(choice, P.GO), 1);
    RealAtomics.notify(sync, pw(choice, P.GO));
    return;
  }
}

/** Parties in a timed wait (enabled: choosing one times its wait out). */
function timedMask(sync: Int32Array, parties: number): number {
  let mask = 0;
  for (let p = 0; p < parties; p++) if (RealAtomics.load(sync, pw(p, P.STATE)) === State.BLOCKED_TIMED) mask |= 1 << p;
  return mask;
}

/**
 * Keep running the previous party unless it finished, blocked or paused in a spin loop; else the
 * lowest other party that can run and is not spinning; else another spinner, or time out a timed
 * wait (after a spinner paused, time first: every party that can run spins, waiting for time to
 * pass). Timing a wait out while a party could run, as the default, would have a party that
 * waits in slices loop without ever letting the others run.
 */
function defaultChoice(sync: Int32Array, enabled: number, timed: number, prev: number, parties: number): number {
  const runnable = (p: number) => (enabled & (1 << p)) !== 0 && (timed & (1 << p)) === 0;
  const spinning = (p: number) => RealAtomics.load(sync, pw(p, P.OP_KIND)) === Op.PAUSE;
  if (prev >= 0 && runnable(prev) && !spinning(prev)) return prev;
  for (let p = 0; p < parties; p++) if (p !== prev && runnable(p) && !spinning(p)) return p;
  const timeOut = () => {
    for (let p = 0; p < parties; p++) if ((timed & (1 << p)) !== 0 && (enabled & (1 << p)) !== 0) return p;
    return -1;
  };
  const otherSpinner = () => {
    for (let p = 0; p < parties; p++) if (p !== prev && runnable(p)) return p;
    return -1;
  };
  // A spinner that just paused hands over to time passing before another spinner (they could
  // hand the turn to each other for ever); otherwise a spinner goes first, since the condition
  // it spins on may hold by now.
  const first = prev >= 0 && spinning(prev) ? [timeOut(), otherSpinner()] : [otherSpinner(), timeOut()];
  for (const p of first) if (p >= 0) return p;
  return prev;
}
