/**
 * `bun:test` for Node.js: what the in-memory tests use of it, over `node:test`
 * (the runner, its isolation and its reports) and Jest's standalone `expect`
 * package (the same matcher API as Bun's `expect`, which Bun modelled on it).
 * scripts/node-tests.ts bundles each test file with `bun:test` resolved here.
 * Anything a test uses that is missing here fails the bundle or the test
 * loudly; nothing is silently skipped.
 */
import * as node from "node:test";
import { expect as jestExpect } from "expect";

/**
 * Jest's `expect(actual)` builds every matcher three times over (plain, `.not`, `.resolves`/
 * `.rejects`) on each call: about 40 µs, which made test/log/model.test.ts (12.5 million calls)
 * take 9 minutes on Node against 4 s under Bun. So `expect(actual)` here is a small object that
 * calls Jest's only when a matcher runs, and answers two matchers itself when their verdict is
 * certain: `toBe` and `toEqual` of values that are `Object.is`-identical pass in Jest too. Every
 * other case, every failure (so every message) and every modifier is Jest's.
 */
class Expectation {
  constructor(readonly actual: unknown) {}
  get not() {
    return jestExpect(this.actual).not;
  }
  get resolves() {
    return jestExpect(this.actual).resolves;
  }
  get rejects() {
    return jestExpect(this.actual).rejects;
  }
  toBe(expected: unknown): void {
    if (!Object.is(this.actual, expected)) jestExpect(this.actual).toBe(expected);
  }
  toEqual(expected: unknown): void {
    if (!Object.is(this.actual, expected)) jestExpect(this.actual).toEqual(expected);
  }
}
const matchers = jestExpect(undefined) as unknown as Record<string, unknown>;
for (const name of Object.keys(matchers)) {
  if (typeof matchers[name] !== "function" || name in Expectation.prototype) continue;
  Object.defineProperty(Expectation.prototype, name, {
    value(this: Expectation, ...args: unknown[]) {
      return (jestExpect(this.actual) as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
    },
  });
}

/** Jest's `expect`, with its asymmetric matchers (`expect.objectContaining`, ...), as `bun:test` exports it. */
export const expect = Object.assign((actual: unknown) => new Expectation(actual) as unknown as ReturnType<typeof jestExpect>, jestExpect);

/** bunfig.toml's `[test] timeout`: the same per-test ceiling as under `bun test`. */
const DEFAULT_TIMEOUT_MS = 60_000;

type Body = () => unknown;
type Timeout = number | { timeout?: number } | undefined;

function timeoutOf(option: Timeout): number {
  if (typeof option === "number") return option;
  return option?.timeout ?? DEFAULT_TIMEOUT_MS;
}

/** A `bun:test` test: `(name, fn, timeoutMs | { timeout })`. */
interface TestFn {
  (name: string, fn: Body, timeout?: Timeout): void;
  skip(name: string, fn: Body, timeout?: Timeout): void;
  todo(name: string, fn?: Body, timeout?: Timeout): void;
  only(name: string, fn: Body, timeout?: Timeout): void;
  /** Runs the test only if `condition` holds (else reports it skipped). */
  if(condition: boolean): (name: string, fn: Body, timeout?: Timeout) => void;
  /** Skips the test if `condition` holds. */
  skipIf(condition: boolean): (name: string, fn: Body, timeout?: Timeout) => void;
}

function define(options: node.TestOptions, name: string, fn: Body | undefined, timeout: Timeout): void {
  // A zero-argument wrapper: node:test reads a body with a second parameter as callback-style.
  void node.test(name, { ...options, timeout: timeoutOf(timeout) }, fn === undefined ? undefined : async () => void (await fn()));
}

/** Declares a test (`bun:test`'s `test`). */
export const test: TestFn = Object.assign((name: string, fn: Body, timeout?: Timeout) => define({}, name, fn, timeout), {
  skip: (name: string, fn: Body, timeout?: Timeout) => define({ skip: true }, name, fn, timeout),
  todo: (name: string, fn?: Body, timeout?: Timeout) => define({ todo: true }, name, fn, timeout),
  only: (name: string, fn: Body, timeout?: Timeout) => define({ only: true }, name, fn, timeout),
  if: (condition: boolean) => (name: string, fn: Body, timeout?: Timeout) => define({ skip: !condition }, name, fn, timeout),
  skipIf: (condition: boolean) => (name: string, fn: Body, timeout?: Timeout) => define({ skip: condition }, name, fn, timeout),
});

/** `bun:test`'s `it`: the same as {@link test}. */
export const it: TestFn = test;

/** Groups tests (`bun:test`'s `describe`); the body runs synchronously, as under Bun. */
export function describe(name: string, fn: () => void): void {
  void node.describe(name, () => {
    fn();
  });
}

/** Runs `fn` before each test of the enclosing `describe` (or file). */
export function beforeEach(fn: Body): void {
  node.beforeEach(() => fn());
}

/** Runs `fn` after each test of the enclosing `describe` (or file). */
export function afterEach(fn: Body): void {
  node.afterEach(() => fn());
}

/** Runs `fn` once before the tests of the enclosing `describe` (or file). */
export function beforeAll(fn: Body): void {
  node.before(() => fn());
}

/** Runs `fn` once after the tests of the enclosing `describe` (or file). */
export function afterAll(fn: Body): void {
  node.after(() => fn());
}
