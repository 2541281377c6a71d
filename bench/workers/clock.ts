/**
 * Clocks that can be compared across workers.
 *
 * Each Bun worker has its own `performance.timeOrigin`, and
 * `timeOrigin + now()` (about 1.8e12 ms) is quantized to 2^-12 ms = 0.24 µs by
 * float64, too coarse for sub-µs latencies. So:
 * - throughput uses {@link sharedClock}: `now()` shifted by the difference of
 *   the two origins (error about ±0.25 µs, nothing against 10+ ms rounds);
 * - latency uses a Cristian-style offset measured between the two workers
 *   over shared memory ({@link syncLeader} / {@link syncFollower}): the offset
 *   of the fastest of many ping-pongs, accurate to the asymmetry of one
 *   Atomics store/load round trip (tens of ns).
 */

/**
 * A clock in ms on the main thread's timeline: `performance.now()` of this
 * worker shifted by the difference of the time origins.
 */
export function sharedClock(mainOrigin: number): () => number {
  const offset = performance.timeOrigin - mainOrigin;
  return () => performance.now() + offset;
}

/** Int32 word indices used by the clock sync in a latency control block. */
export const SYNC = { PING: 0, PONG: 1, DONE: 2 } as const;
/** Float64 indices used by the clock sync (bytes 64.. of the control block). */
export const SYNC_F = { T1: 8, T2: 9, THETA: 10 } as const;

/** Spins until `cond()` holds, or throws naming `what` after `deadline` (performance.now() ms). */
export function spinUntil(cond: () => boolean, deadline: number, what: string): void {
  for (let i = 0; !cond(); i++) {
    if ((i & 1023) === 0 && performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/**
 * Leader side (the writer): `pings` ping-pongs with the follower; publishes
 * theta = follower clock - leader clock, taken from the fastest round trip,
 * and returns it with that round trip (ms).
 */
export function syncLeader(i32: Int32Array, f64: Float64Array, pings: number, deadline: number): { theta: number; rtt: number } {
  let best = Infinity;
  let theta = 0;
  for (let k = 1; k <= pings; k++) {
    const t1 = performance.now();
    Atomics.store(i32, SYNC.PING, k);
    spinUntil(() => Atomics.load(i32, SYNC.PONG) === k, deadline, "clock sync pong");
    const t3 = performance.now();
    const t2 = f64[SYNC_F.T2]!;
    if (t3 - t1 < best) {
      best = t3 - t1;
      theta = t2 - (t1 + t3) / 2;
    }
  }
  f64[SYNC_F.THETA] = theta;
  Atomics.store(i32, SYNC.DONE, 1);
  return { theta, rtt: best };
}

/**
 * Follower side (the reader): answers `pings` pings with its clock, then
 * returns theta (subtract it from this worker's `performance.now()` to get the
 * leader's clock).
 */
export function syncFollower(i32: Int32Array, f64: Float64Array, pings: number, deadline: number): number {
  for (let k = 1; k <= pings; k++) {
    spinUntil(() => Atomics.load(i32, SYNC.PING) === k, deadline, "clock sync ping");
    f64[SYNC_F.T2] = performance.now();
    Atomics.store(i32, SYNC.PONG, k);
  }
  spinUntil(() => Atomics.load(i32, SYNC.DONE) === 1, deadline, "clock sync result");
  return f64[SYNC_F.THETA]!;
}

/** Resets the sync words so the next round can sync again. Call from the main thread between rounds. */
export function resetSync(i32: Int32Array): void {
  Atomics.store(i32, SYNC.PING, 0);
  Atomics.store(i32, SYNC.PONG, 0);
  Atomics.store(i32, SYNC.DONE, 0);
}
