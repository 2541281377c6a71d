/**
 * A party of an interleaving test: a worker that runs one side of a protocol
 * (the real library code) one shared-memory access at a time.
 *
 * Before anything imports the library, this file replaces the global
 * `Atomics` with hooks. Every `Atomics` call on the log's control block
 * first waits for this party's turn (see sync.ts), so the explorer decides
 * the order of every pair of accesses. Accesses to other memory (record
 * bytes, the scheduler's own block) are not scheduling points: they run as
 * part of the step before them. `Atomics.waitAsync` and `Atomics.wait` park
 * the party until a hooked `Atomics.notify` on the same word wakes it, which
 * is how a lost wake-up shows up as a deadlock.
 *
 * Static imports are hoisted, so this file imports only sync.ts (which never
 * imports the library) and loads the scenario dynamically after hooking.
 */
export {};
declare const self: Worker;
const realAtomics = Atomics;
(globalThis as { __realAtomics?: typeof Atomics }).__realAtomics = realAtomics;

const sync_ = await import("./sync.ts");
const { G, P, State, Op, Status, EXEC_BASE, EXEC_WORDS, EXEC_COUNT, decide, failExecution, pw } = sync_;
type ScenarioModule = typeof import("./scenario.ts");

let sync: Int32Array = new Int32Array(0);
let me = -1;
let control: ArrayBufferLike | null = null;

/** Thrown inside a party when its execution has ended (killed, deadlocked or failed elsewhere). */
class ExecutionAborted extends Error {
  constructor() {
    super("execution aborted");
  }
}

function waitTurn(): void {
  const go = pw(me, P.GO);
  let spins = 0;
  while (realAtomics.load(sync, go) === 0) {
    if (++spins > 200) realAtomics.wait(sync, go, 0, 50);
  }
  realAtomics.store(sync, go, 0);
  if (realAtomics.load(sync, G.ABORT) !== 0) throw new ExecutionAborted();
  // The harness's own invariant: one party runs at a time.
  const runner = realAtomics.exchange(sync, G.RUNNER, me + 1);
  if (runner !== 0) throw new Error(`harness bug: party ${me} took the turn while party ${runner - 1} held it`);
}

function recordExecuted(kind: number, index: number): void {
  const n = realAtomics.load(sync, EXEC_COUNT);
  if (EXEC_BASE + (n + 1) * EXEC_WORDS > EXEC_COUNT) return;
  const at = EXEC_BASE + n * EXEC_WORDS;
  realAtomics.store(sync, at, me);
  realAtomics.store(sync, at + 1, kind);
  realAtomics.store(sync, at + 2, index);
  realAtomics.store(sync, EXEC_COUNT, n + 1);
}

/** Yields before an operation of `kind` on word `index`; returns when this party may perform it. */
function schedule(kind: number, index: number): void {
  if (realAtomics.load(sync, G.ABORT) !== 0) throw new ExecutionAborted();
  realAtomics.store(sync, pw(me, P.OP_KIND), kind);
  realAtomics.store(sync, pw(me, P.OP_INDEX), index);
  realAtomics.store(sync, pw(me, P.STATE), State.AT_OP);
  if (kind !== Op.START) realAtomics.store(sync, G.RUNNER, 0);
  if (kind === Op.START) {
    // Everyone arrives first; the explorer makes the first decision.
    realAtomics.add(sync, G.ARRIVED, 1);
    realAtomics.notify(sync, G.ARRIVED);
  } else decide(sync);
  waitTurn();
  realAtomics.store(sync, pw(me, P.STATE), State.RUNNING);
  recordExecuted(kind, index);
}

type Indexed = { buffer: ArrayBufferLike; byteOffset: number; BYTES_PER_ELEMENT: number };
/**
 * Word index (in 32-bit words from the start of the buffer) of element `i` of
 * `a`, or -1 if `a` is not over the control block. Counted from the buffer,
 * not the view: a scenario may schedule a buffer that holds several regions
 * (a durable log's control header and its control block, process-table.ts).
 */
function wordOf(a: Indexed, i: number): number {
  if (control === null || a.buffer !== control) return -1;
  return (a.byteOffset + i * a.BYTES_PER_ELEMENT) / 4;
}

// Word the library loads as a spin-loop hint (see src/shared/control.ts `pause`).
let pauseWord = -2;

const hooked: Record<string, unknown> = Object.create(null);
for (const key of Object.getOwnPropertyNames(realAtomics)) hooked[key] = (realAtomics as unknown as Record<string, unknown>)[key];
const simple = (name: "store" | "add" | "sub" | "and" | "or" | "xor" | "exchange", kind: number) => {
  const real = (realAtomics as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
  hooked[name] = (a: Indexed, i: number, v: unknown) => {
    const w = wordOf(a, i);
    if (w >= 0) schedule(kind, w);
    return real.call(realAtomics, a, i, v);
  };
};
simple("store", Op.STORE);
for (const name of ["add", "sub", "and", "or", "xor", "exchange"] as const) simple(name, Op.RMW);
hooked.load = (a: Indexed, i: number) => {
  const w = wordOf(a, i);
  if (w >= 0) {
    schedule(w === pauseWord ? Op.PAUSE : Op.LOAD, w);
  }
  return realAtomics.load(a as unknown as Int32Array, i);
};
hooked.compareExchange = (a: Indexed, i: number, e: unknown, r: unknown) => {
  const w = wordOf(a, i);
  if (w >= 0) schedule(Op.RMW, w);
  return (realAtomics.compareExchange as (...x: unknown[]) => unknown)(a, i, e, r);
};
hooked.notify = (a: Indexed, i: number, count?: number) => {
  const w = wordOf(a, i);
  if (w < 0) return realAtomics.notify(a as unknown as Int32Array, i, count);
  schedule(Op.NOTIFY, w);
  const parties = realAtomics.load(sync, G.PARTIES);
  let woken = 0;
  for (let p = 0; p < parties && woken < (count ?? Infinity); p++) {
    const s = realAtomics.load(sync, pw(p, P.STATE));
    if ((s === State.BLOCKED || s === State.BLOCKED_TIMED) && realAtomics.load(sync, pw(p, P.WAIT_INDEX)) === w) {
      realAtomics.store(sync, pw(p, P.WAIT_RESULT), 1);
      realAtomics.store(sync, pw(p, P.STATE), State.AT_OP);
      woken++;
    }
  }
  return woken;
};
/**
 * A modelled wait on word `w` of the control block: parks this party until a hooked notify on
 * the word (or, with a timeout, until the explorer chooses to time it out), and returns the
 * outcome, synchronously.
 */
function modelledWait(a: Indexed, i: number, w: number, expected: number, timeout: number | undefined): "ok" | "not-equal" | "timed-out" {
  schedule(Op.WAIT, w);
  if (realAtomics.load(a as unknown as Int32Array, i) !== expected) return "not-equal";
  const timed = timeout !== undefined && timeout !== Number.POSITIVE_INFINITY;
  realAtomics.store(sync, pw(me, P.WAIT_INDEX), w);
  realAtomics.store(sync, pw(me, P.WAIT_RESULT), 0);
  realAtomics.store(sync, pw(me, P.OP_KIND), Op.RESUME);
  realAtomics.store(sync, pw(me, P.OP_INDEX), -1);
  realAtomics.store(sync, pw(me, P.STATE), timed ? State.BLOCKED_TIMED : State.BLOCKED);
  realAtomics.store(sync, G.RUNNER, 0);
  decide(sync);
  waitTurn();
  realAtomics.store(sync, pw(me, P.STATE), State.RUNNING);
  return realAtomics.load(sync, pw(me, P.WAIT_RESULT)) === 1 ? "ok" : "timed-out";
}
// A blocking wait: the library blocks threads only in its helper threads (the durable log's
// waker, on a futex that scenarios model as this word's wait).
hooked.wait = (a: Indexed, i: number, expected: number, timeout?: number) => {
  const w = wordOf(a, i);
  if (w < 0) return (realAtomics.wait as (...x: unknown[]) => unknown)(a, i, expected, timeout);
  return modelledWait(a, i, w, expected, timeout);
};
hooked.waitAsync = (a: Indexed, i: number, expected: number, timeout?: number) => {
  const w = wordOf(a, i);
  if (w < 0) return (realAtomics.waitAsync as (...x: unknown[]) => unknown)(a, i, expected, timeout);
  // Returned synchronously: the library handles `{ async: false }` without awaiting.
  return { async: false, value: modelledWait(a, i, w, expected, timeout) };
};
(globalThis as { Atomics: unknown }).Atomics = hooked;

// Executions reuse the log's memory (restored between them), so an object dropped in
// one execution must not be released by its finalizer in a later one, at a step no
// schedule controls. Releasing through GC is only `release()` at a random time, and
// the scenarios call release() explicitly.
(globalThis as { FinalizationRegistry: unknown }).FinalizationRegistry = class {
  register(): void {}
  unregister(): boolean {
    return false;
  }
};

/** What the explorer posts once, before the first execution. */
interface InitMessage {
  type: "init";
  party: number;
  sync: SharedArrayBuffer;
  messages: SharedArrayBuffer;
  control: SharedArrayBuffer;
  pauseWord: number;
  scenarioUrl: string;
  shared: unknown;
  threadIds: number[];
}

const encoder = new TextEncoder();

/**
 * Runs executions until told to stop. Between executions the party blocks in
 * `Atomics.wait` on the generation word: starting an execution costs a few
 * microseconds, not a message round trip.
 */
async function serve(init: InitMessage): Promise<void> {
  sync = new Int32Array(init.sync);
  me = init.party;
  pauseWord = init.pauseWord;
  const messages = new Uint8Array(init.messages);
  const scenario = ((await import(init.scenarioUrl)) as { default: ScenarioModule["Scenario"]["prototype"] }).default;
  let generation = 0;
  for (;;) {
    while (realAtomics.load(sync, G.GEN) === generation) realAtomics.wait(sync, G.GEN, generation, 1000);
    const was = generation;
    generation = realAtomics.load(sync, G.GEN);
    if (generation < 0) return;
    if (generation !== was + 1) throw new Error(`harness bug: party ${me} went from execution ${was} to ${generation}`);
    control = init.control;
    try {
      // The first scheduling point: nobody starts before the explorer picks them.
      schedule(Op.START, -1);
      await scenario.parties[me]!.run({
        party: me,
        shared: init.shared,
        threadIds: init.threadIds,
        pause: () => schedule(Op.PAUSE, -1),
        awaitEnd: (party: number) => schedule(Op.AWAIT_END, party),
      });
      realAtomics.store(sync, pw(me, P.STATE), State.DONE);
      realAtomics.store(sync, G.RUNNER, 0);
      decide(sync);
    } catch (error) {
      if (!(error instanceof ExecutionAborted)) {
        const message = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error);
        if (failExecution(sync, Status.FAILED)) {
          const { written } = encoder.encodeInto(message, messages);
          realAtomics.store(sync, G.FAILED_PARTY, me);
          realAtomics.store(sync, G.MESSAGE_LENGTH, written);
        }
      }
      realAtomics.store(sync, pw(me, P.STATE), State.DONE);
    }
    control = null;
    realAtomics.store(sync, pw(me, P.SETTLED_GEN), generation);
    realAtomics.add(sync, G.SETTLED, 1);
    realAtomics.notify(sync, G.SETTLED);
  }
}

self.onmessage = (event: MessageEvent<InitMessage>) => {
  if (event.data.type === "init") void serve(event.data);
};
self.postMessage({ type: "ready" });
