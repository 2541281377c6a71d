/**
 * How an interleaving scenario is written: a setup in the main thread that
 * creates the log, one function per party that runs in its own worker, and a
 * final check in the main thread after every complete execution.
 *
 * A scenario module's default export is a {@link Scenario}; the explorer
 * imports it in the main thread and every party worker imports it too (after
 * hooking `Atomics`), so party functions must only use what they are given.
 */

/** What a party function receives. */
export interface PartyContext {
  /** This party's index. */
  readonly party: number;
  /** What the scenario's setup returned as `shared` (structured-cloned). */
  readonly shared: unknown;
  /** `threadId` of every party's worker, by party index. */
  readonly threadIds: readonly number[];
  /** A scheduling point that tells the explorer this party is spinning (it prefers to run someone else). */
  pause(): void;
  /** Returns once party `party` has been killed or has finished (a recoverer waits for its dead thread). */
  awaitEnd(party: number): void;
}

/** One side of the protocol. */
export interface Party {
  readonly name: string;
  /** Runs the party; throw to report a violation. */
  run(ctx: PartyContext): unknown;
}

/** What `check` gets after an execution in which every party finished or was killed. */
export interface Outcome<S> {
  /** What setup returned (set up once; its shared memory is restored before every execution). */
  readonly setup: S;
  /** Which parties were killed. */
  readonly killed: readonly boolean[];
}

/** An interleaving scenario. */
export interface ScenarioSpec<S extends { shared: unknown; control: SharedArrayBuffer }> {
  readonly name: string;
  readonly parties: readonly Party[];
  /** Parties the explorer may kill at any step (at most one kill per execution). */
  readonly killable?: readonly number[];
  /**
   * The word (from the start of `control`) that the protocol loads as a spin-loop hint between
   * tries; loading it tells the explorer the party is spinning. Default: the log's `H.PAUSE`.
   */
  readonly pauseWord?: number;
  /**
   * Timed waits of this protocol are only a safety net: a wake-up must never depend on one. A
   * timed wait is then never timed out while nobody else can run; the execution ends as a
   * deadlock (a lost wake-up) instead. Timed waits still time out early, as alternatives.
   */
  readonly strictTimedWaits?: boolean;
  /** Preemption bound (default 2): schedules with more context switches away from a runnable party are not tried. */
  readonly preemptions?: number;
  /**
   * Runs once in the main thread. `control` is the log's control block (the
   * memory that is scheduled); every SharedArrayBuffer inside `shared` is
   * restored to its state right after setup before each execution.
   */
  setup(): S;
  /** Runs in the main thread after each execution that did not fail; throw to report a violation. */
  check?(outcome: Outcome<S>): void;
}

/** A scenario (the default export of a scenario module). */
export class Scenario<S extends { shared: unknown; control: SharedArrayBuffer } = { shared: unknown; control: SharedArrayBuffer }> {
  constructor(readonly spec: ScenarioSpec<S>) {}
  get parties(): readonly Party[] {
    return this.spec.parties;
  }
}

/** Declares a scenario. */
export function scenario<S extends { shared: unknown; control: SharedArrayBuffer }>(spec: ScenarioSpec<S>): Scenario<S> {
  return new Scenario(spec);
}

/** Throws with `message` unless `condition` holds: the assertion parties and checks use. */
export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`violation: ${message}`);
}
