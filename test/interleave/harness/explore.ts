/**
 * The explorer: runs a scenario under every schedule of its parties'
 * shared-memory accesses, within a preemption bound, in the spirit of loom
 * and CHESS (stateless model checking).
 *
 * - Each execution replays a schedule prefix and then runs each party as far
 *   as it goes (the default choice keeps the running party running). The
 *   trace records, at every step, who could have run instead.
 * - Depth-first over those alternatives. A switch away from a party that
 *   could have gone on is a preemption; schedules with more than the bound
 *   are not tried (most concurrency bugs need one or two, CHESS found).
 * - Partial-order reduction: preempting a party just before an access that
 *   no other party conflicts with (same word, at least one write, learnt
 *   from the accesses seen in earlier executions) gives an equivalent
 *   execution, so it is skipped. The footprint is learnt first from a few
 *   warm-up schedules, and exploration repeats if it grew.
 * - A kill (for recovery protocols) is one more kind of choice: a killable
 *   party stops for good before an access, at most once per execution.
 *
 * A failure reports the scenario, the status and the schedule, which
 * `replay` runs again deterministically.
 */
import {
  EXEC_BASE,
  EXEC_COUNT,
  EXEC_WORDS,
  G,
  KILL,
  MAX_PARTIES,
  MESSAGE_BYTES,
  Op,
  PREFIX_BASE,
  Status,
  SYNC_WORDS,
  T,
  TRACE_BASE,
  TRACE_WORDS,
  decide,
  pw,
  P,
} from "./sync.ts";
import type { Scenario } from "./scenario.ts";
import { H } from "../../../src/shared/control.ts";

/** Result of exploring one scenario. */
export interface ExploreResult {
  readonly scenario: string;
  /** Complete executions run. */
  readonly executions: number;
  /** The longest execution, in scheduling steps. */
  readonly maxSteps: number;
  /** The first violation found, if any. */
  readonly failure?: Failure;
  readonly millis: number;
}

/** A violation and the schedule that reproduces it. */
export interface Failure {
  readonly status: "failed" | "deadlock" | "step-bound" | "diverged" | "check" | "hang";
  readonly message: string;
  readonly schedule: readonly number[];
  /** The schedule as party names ("writer x3, reader x2, ..."). */
  readonly readable: string;
}

/** Options for {@link explore}. */
export interface ExploreOptions {
  /** Override the scenario's preemption bound. */
  readonly preemptions?: number;
  /** Stop with an error after this many executions (a safety net; the default is generous). */
  readonly maxExecutions?: number;
  /** Per-execution time limit before it counts as a hang. */
  readonly executionTimeoutMs?: number;
  /** Run every execution twice and fail if the two differ (a check of the harness and the scenario). */
  readonly verifyDeterminism?: boolean;
}

interface StepInfo {
  choice: number;
  enabled: number;
  prev: number;
  prevKind: number;
  prevIndex: number;
  killable: number;
  /** Enabled parties whose next access is the spin-loop hint (paused in a spin loop). */
  spinning: number;
  /** Parties in a timed wait. */
  timed: number;
}

interface Footprint {
  reads: Set<number>;
  writes: Set<number>;
}

const STATUS_NAMES: Record<number, Failure["status"]> = {
  [Status.FAILED]: "failed",
  [Status.DEADLOCK]: "deadlock",
  [Status.STEP_BOUND]: "step-bound",
  [Status.DIVERGED]: "diverged",
};

/**
 * The party workers of one exploration, with the scenario's log. The log is
 * set up once; each execution restores its shared memory to the state right
 * after setup, so nothing needs posting between executions.
 */
class Crew {
  readonly workers: Worker[] = [];
  readonly sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
  readonly messages = new Uint8Array(new SharedArrayBuffer(MESSAGE_BYTES));
  private pristine: { buffer: SharedArrayBuffer; bytes: Uint8Array }[] = [];
  private constructor(readonly setup: { shared: unknown; control: SharedArrayBuffer }) {}

  static async start(scenario: Scenario, scenarioUrl: string): Promise<Crew> {
    const setup = scenario.spec.setup();
    const crew = new Crew(setup);
    // Every SharedArrayBuffer the parties can reach through `shared` is restored between executions.
    crew.pristine = sharedBuffers(setup.shared).map((buffer) => ({ buffer, bytes: new Uint8Array(buffer).slice() }));
    const url = new URL("./party.ts", import.meta.url).href;
    const n = scenario.spec.parties.length;
    for (let p = 0; p < n; p++) crew.workers.push(new Worker(url));
    await Promise.all(
      crew.workers.map(
        (worker, p) =>
          new Promise<void>((resolve, reject) => {
            worker.addEventListener("error", (e) => reject(new Error(`party worker ${p} failed: ${(e as ErrorEvent).message}`)));
            worker.addEventListener("message", (e: MessageEvent) => {
              if ((e.data as { type: string }).type === "ready") resolve();
            });
          }),
      ),
    );
    const threadIds = crew.workers.map((w) => (w as unknown as { threadId: number }).threadId);
    crew.workers.forEach((worker, p) =>
      worker.postMessage({
        type: "init",
        party: p,
        sync: crew.sync.buffer,
        messages: crew.messages.buffer,
        control: setup.control,
        pauseWord: scenario.spec.pauseWord ?? PAUSE_WORD,
        scenarioUrl,
        shared: setup.shared,
        threadIds,
      }),
    );
    return crew;
  }

  /** Puts the log back as setup left it. */
  restore(): void {
    for (const { buffer, bytes } of this.pristine) new Uint8Array(buffer).set(bytes);
  }

  stop(): void {
    Atomics.store(this.sync, G.GEN, -1);
    Atomics.notify(this.sync, G.GEN);
    for (const w of this.workers) w.terminate();
  }
}

/** The SharedArrayBuffers inside a structured-cloneable value. */
function sharedBuffers(value: unknown, out: SharedArrayBuffer[] = [], seen = new Set<unknown>()): SharedArrayBuffer[] {
  if (value === null || typeof value !== "object" || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof SharedArrayBuffer) out.push(value);
  else if (ArrayBuffer.isView(value)) sharedBuffers(value.buffer, out, seen);
  else for (const v of Object.values(value)) sharedBuffers(v, out, seen);
  return out;
}

interface ExecutionResult {
  status: number;
  steps: StepInfo[];
  failureMessage?: string;
  checkError?: string;
  hang?: boolean;
}

/** Blocks until `sync[word]` satisfies `done`, or the deadline passes; returns whether it did. */
function waitFor(sync: Int32Array, word: number, done: (v: number) => boolean, deadline: number): boolean {
  for (;;) {
    const v = Atomics.load(sync, word);
    if (done(v)) return true;
    if (performance.now() > deadline) return false;
    Atomics.wait(sync, word, v, 20);
  }
}

const decoder = new TextDecoder();

function runExecution(
  scenario: Scenario,
  crew: Crew,
  prefix: readonly number[],
  footprints: Footprint[],
  timeoutMs: number,
): ExecutionResult {
  const spec = scenario.spec;
  const n = spec.parties.length;
  const sync = crew.sync;
  crew.restore();
  const generation = Atomics.load(sync, G.GEN);
  // Everything but GEN: parties wait on it, and a moment's 0 there once started stray executions.
  sync.fill(0, 0, G.GEN);
  sync.fill(0, G.GEN + 1);
  sync[G.PARTIES] = n;
  let killable = 0;
  for (const k of spec.killable ?? []) killable |= 1 << k;
  sync[G.KILLABLE] = killable;
  sync[G.STRICT_TIMED] = spec.strictTimedWaits === true ? 1 : 0;
  sync[G.PREV] = -1;
  for (let i = 0; i < prefix.length; i++) sync[PREFIX_BASE + i] = prefix[i]!;
  sync[G.PREFIX_LEN] = prefix.length;
  Atomics.store(sync, G.GEN, generation + 1);
  Atomics.notify(sync, G.GEN);
  const deadline = performance.now() + timeoutMs;
  if (!waitFor(sync, G.ARRIVED, (v) => v >= n, deadline)) {
    throw new Error(`${spec.name}: parties did not start (${partyStates(crew)}; arrived ${sync[G.ARRIVED]})`);
  }
  decide(sync);
  let hang = false;
  if (!waitFor(sync, G.ENDED, (v) => v !== 0, deadline)) {
    hang = true;
    Atomics.store(sync, G.STATUS, Status.FAILED);
    Atomics.store(sync, G.ABORT, 1);
    for (let p = 0; p < n; p++) {
      Atomics.store(sync, pw(p, P.GO), 1);
      Atomics.notify(sync, pw(p, P.GO));
    }
  }
  if (!waitFor(sync, G.SETTLED, (v) => v >= n, deadline + timeoutMs)) {
    throw new Error(`${spec.name}: a party never finished unwinding (an await that the scheduler does not control?)`);
  }

  const stepCount = Atomics.load(sync, G.STEP);
  const steps: StepInfo[] = [];
  for (let s = 0; s < stepCount; s++) {
    const at = TRACE_BASE + s * TRACE_WORDS;
    steps.push({
      choice: sync[at + T.CHOICE]!,
      enabled: sync[at + T.ENABLED]!,
      prev: sync[at + T.PREV]!,
      prevKind: sync[at + T.PREV_KIND]!,
      prevIndex: sync[at + T.PREV_INDEX]!,
      killable: sync[at + T.KILLABLE]!,
      spinning: sync[at + T.SPINNING]!,
      timed: sync[at + T.TIMED]!,
    });
  }
  const executed = Atomics.load(sync, EXEC_COUNT);
  for (let i = 0; i < executed; i++) {
    const at = EXEC_BASE + i * EXEC_WORDS;
    const party = sync[at]!;
    const kind = sync[at + 1]!;
    const index = sync[at + 2]!;
    if (index < 0 || kind === Op.AWAIT_END) continue;
    const fp = footprints[party]!;
    if (kind === Op.LOAD || kind === Op.WAIT) fp.reads.add(index);
    else if (kind !== Op.PAUSE) fp.writes.add(index);
  }
  const status = hang ? Status.FAILED : Atomics.load(sync, G.STATUS);
  const result: ExecutionResult = { status, steps, hang };
  if (status === Status.FAILED) {
    const length = Atomics.load(sync, G.MESSAGE_LENGTH);
    result.failureMessage = hang
      ? "execution did not end (a party awaits something the scheduler does not control)"
      : `${spec.parties[Atomics.load(sync, G.FAILED_PARTY)]!.name}: ${decoder.decode(crew.messages.slice(0, length))}`;
  } else if (status === Status.FINISHED && spec.check) {
    const killed = Array.from({ length: n }, () => false);
    for (const s of steps) if (s.choice >= KILL) killed[s.choice - KILL] = true;
    try {
      spec.check({ setup: crew.setup, killed } as never);
    } catch (error) {
      result.checkError = error instanceof Error ? error.message : String(error);
    }
  }
  return result;
}

/** The word the library loads as a spin-loop hint (`pause()` in src/shared/control.ts). */
const PAUSE_WORD = H.PAUSE;

/** Whether choosing `p` at step `st` times out the wait that `p` (the party that ran last) just entered while another party could run (spinning or not). */
function timesOutEarly(st: StepInfo, p: number): boolean {
  return p === st.prev && st.prevKind === Op.RESUME && (st.enabled & ~st.timed & ~(1 << p)) !== 0;
}

/**
 * Whether choosing `p` at step `st`, after prev paused in a spin loop, hands the turn to another
 * spinner while a party that is not spinning could run (a party in a timed wait counts: timing it
 * out is what the default does then). Free, two parties spinning on a lock that
 * a third holds would hand the turn to each other for ever; as a preemption it is still explored.
 */
function spinsAgain(st: StepInfo, p: number): boolean {
  return st.prevKind === Op.PAUSE && p !== st.prev && (st.spinning & (1 << p)) !== 0 && (st.enabled & ~st.spinning & ~(1 << st.prev)) !== 0;
}

/** Whether `party`'s pending access (kind, index) conflicts with anything party `other` does. */
function conflicts(footprints: Footprint[], other: number, kind: number, index: number): boolean {
  if (kind === Op.AWAIT_END || kind === Op.RESUME) return false;
  if (index < 0) return true;
  const write = kind !== Op.LOAD && kind !== Op.WAIT && kind !== Op.PAUSE;
  const fp = footprints[other]!;
  return fp.writes.has(index) || (write && fp.reads.has(index));
}

function describe(scenario: Scenario, schedule: readonly number[]): string {
  const names = scenario.spec.parties.map((p) => p.name);
  const out: string[] = [];
  let last = "";
  let run = 0;
  for (const c of schedule) {
    const name = c >= KILL ? `KILL ${names[c - KILL]}` : names[c]!;
    if (name === last) run++;
    else {
      if (last !== "") out.push(run > 1 ? `${last} x${run}` : last);
      last = name;
      run = 1;
    }
  }
  if (last !== "") out.push(run > 1 ? `${last} x${run}` : last);
  return out.join(", ");
}

/**
 * Explores `scenario` (the default export of the module at `scenarioUrl`)
 * and returns the first violation found, or none.
 */
export async function explore(scenarioUrl: string, options: ExploreOptions = {}): Promise<ExploreResult> {
  const started = performance.now();
  const scenario = ((await import(scenarioUrl)) as { default: Scenario }).default;
  const spec = scenario.spec;
  const n = spec.parties.length;
  if (n > MAX_PARTIES) throw new Error(`${spec.name}: at most ${MAX_PARTIES} parties`);
  const bound = options.preemptions ?? spec.preemptions ?? 2;
  const maxExecutions = options.maxExecutions ?? 200_000;
  const timeoutMs = options.executionTimeoutMs ?? 10_000;
  const crew = await Crew.start(scenario, scenarioUrl);
  const footprints: Footprint[] = Array.from({ length: n }, () => ({ reads: new Set(), writes: new Set() }));
  let executions = 0;
  let maxSteps = 0;
  try {
    const fail = (r: ExecutionResult, schedule: number[]): Failure | undefined => {
      if (r.status === Status.FINISHED && r.checkError === undefined) return undefined;
      const status = r.hang ? "hang" : r.status === Status.FINISHED ? "check" : STATUS_NAMES[r.status] ?? "failed";
      const message =
        r.checkError ??
        r.failureMessage ??
        (r.status === Status.DEADLOCK
          ? "every party that has not finished is parked: a lost wake-up"
          : r.status === Status.STEP_BOUND
            ? "more than the step bound: a livelock, or a spin loop without a pause"
            : "a replayed schedule chose a party that was not runnable: the scenario is not deterministic");
      return { status, message, schedule, readable: describe(scenario, schedule) };
    };
    const run = async (prefix: number[]) => {
      executions++;
      const r = runExecution(scenario, crew, prefix, footprints, timeoutMs);
      if (options.verifyDeterminism) {
        const schedule = r.steps.map((s) => s.choice);
        const again = runExecution(scenario, crew, schedule, footprints, timeoutMs);
        const same = again.status === r.status && again.steps.map((s) => s.choice).join() === schedule.join();
        if (!same) {
          const message = `the same schedule ran differently: ${describe(scenario, again.steps.map((s) => s.choice))}`;
          return { ...r, status: Status.DIVERGED, failureMessage: message };
        }
      }
      maxSteps = Math.max(maxSteps, r.steps.length);
      return r;
    };

    // Warm-up: learn the footprints from each party-first order, running each party to completion.
    for (let first = 0; first < n; first++) {
      const r = await run([first]);
      const f = fail(r, r.steps.map((s) => s.choice));
      if (f) return { scenario: spec.name, executions, maxSteps, failure: f, millis: performance.now() - started };
    }

    for (let pass = 0; pass < 3; pass++) {
      const before = footprints.map((f) => f.reads.size + f.writes.size).join(",");
      // Depth-first search over schedules. Each stack frame is a step with choices still to try.
      interface Frame {
        step: number;
        alternatives: number[];
        /** The choices up to and including this step's current one. */
        prefix: number[];
      }
      const stack: Frame[] = [];
      const expand = (r: ExecutionResult, from: number) => {
        let preemptions = 0;
        let kills = 0;
        const choices = r.steps.map((s) => s.choice);
        for (let s = 0; s < r.steps.length; s++) {
          const st = r.steps[s]!;
          if (s >= from) {
            const alternatives: number[] = [];
            const prevRunnable = st.prev >= 0 && (st.enabled & (1 << st.prev)) !== 0 && st.prevKind !== Op.RESUME;
            for (let p = 0; p < n; p++) {
              if (p === st.choice || (st.enabled & (1 << p)) === 0) continue;
              // A party paused in a spin loop is not run again while another can make progress.
              if (p === st.prev && st.prevKind === Op.PAUSE) continue;
              // Timing out the wait prev just entered, while another party could run, is a preemption too:
              // free, it would let a party that waits in slices loop for ever (syncer.ts requestAndWait).
              if (timesOutEarly(st, p)) {
                if (preemptions + 1 > bound) continue;
                alternatives.push(p);
                continue;
              }
              if (spinsAgain(st, p)) {
                if (preemptions + 1 > bound) continue;
                alternatives.push(p);
                continue;
              }
              const preempts = prevRunnable && p !== st.prev && st.prevKind !== Op.PAUSE;
              // Running p before prev's pending access matters only if the two can conflict.
              if (preempts && (preemptions + 1 > bound || !conflicts(footprints, p, st.prevKind, st.prevIndex))) continue;
              alternatives.push(p);
            }
            if (kills === 0) {
              for (let p = 0; p < n; p++) {
                if ((st.killable & (1 << p)) === 0 || st.choice === KILL + p) continue;
                // Killing a party before an access nobody else sees is the same as killing it after.
                if (p === st.prev && prevRunnable && !footprints.some((_, q) => q !== p && conflicts(footprints, q, st.prevKind, st.prevIndex))) continue;
                alternatives.push(KILL + p);
              }
            }
            if (alternatives.length > 0) {
              stack.push({ step: s, alternatives, prefix: choices.slice(0, s) });
            }
          }
          // Account for the choice actually taken at this step.
          const prevRunnable = st.prev >= 0 && (st.enabled & (1 << st.prev)) !== 0 && st.prevKind !== Op.RESUME;
          if (st.choice >= KILL) kills++;
          else if (prevRunnable && st.choice !== st.prev && st.prevKind !== Op.PAUSE) preemptions++;
          else if (timesOutEarly(st, st.choice) || spinsAgain(st, st.choice)) preemptions++;
        }
      };
      const first = await run([]);
      let f = fail(first, first.steps.map((s) => s.choice));
      if (f) return { scenario: spec.name, executions, maxSteps, failure: f, millis: performance.now() - started };
      expand(first, 0);
      while (stack.length > 0) {
        const frame = stack[stack.length - 1]!;
        const choice = frame.alternatives.pop()!;
        if (frame.alternatives.length === 0) stack.pop();
        const prefix = [...frame.prefix, choice];
        if (executions >= maxExecutions) {
          throw new Error(`${spec.name}: more than ${maxExecutions} executions; lower the bounds or shrink the scenario`);
        }
        const r = await run(prefix);
        f = fail(r, r.steps.map((s) => s.choice));
        if (f) return { scenario: spec.name, executions, maxSteps, failure: f, millis: performance.now() - started };
        // expand() recounts preemptions and kills from the start of the trace.
        expand(r, frame.step + 1);
      }
      const after = footprints.map((f) => f.reads.size + f.writes.size).join(",");
      if (after === before) break;
    }
    return { scenario: spec.name, executions, maxSteps, millis: performance.now() - started };
  } finally {
    crew.stop();
  }
}

/** Each party's state and pending operation, for diagnostics. */
function partyStates(crew: Crew): string {
  const n = Atomics.load(crew.sync, G.PARTIES);
  const out: string[] = [];
  for (let p = 0; p < n; p++) out.push(`${p}:state ${crew.sync[pw(p, P.STATE)]} op ${crew.sync[pw(p, P.OP_KIND)]}@${crew.sync[pw(p, P.OP_INDEX)]}`);
  return out.join(", ");
}

/** Runs one schedule (from a {@link Failure}) again and returns how it ended. */
export async function replay(scenarioUrl: string, schedule: readonly number[]): Promise<Failure | undefined> {
  const scenario = ((await import(scenarioUrl)) as { default: Scenario }).default;
  const n = scenario.spec.parties.length;
  const crew = await Crew.start(scenario, scenarioUrl);
  const footprints: Footprint[] = Array.from({ length: n }, () => ({ reads: new Set(), writes: new Set() }));
  try {
    const r = runExecution(scenario, crew, [...schedule], footprints, 10_000);
    if (r.status === Status.DIVERGED) {
      const at = r.steps.length;
      r.failureMessage = `diverged at step ${at}: wanted ${schedule[at]}, runnable mask ${crew.sync[G.DIVERGED_MASK]} (${partyStates(crew)}); so far ${describe(scenario, r.steps.map((s) => s.choice))}`;
    }
    if (r.status === Status.FINISHED && r.checkError === undefined) return undefined;
    return {
      status: r.hang ? "hang" : r.status === Status.FINISHED ? "check" : STATUS_NAMES[r.status] ?? "failed",
      message: r.checkError ?? r.failureMessage ?? "",
      schedule,
      readable: describe(scenario, schedule),
    };
  } finally {
    crew.stop();
  }
}
