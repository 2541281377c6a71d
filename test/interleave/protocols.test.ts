/**
 * Every shared-memory protocol of the log, run under every interleaving of its
 * parties' accesses to the control block within a preemption bound (see
 * harness/explore.ts for the method, and each scenario file for the protocol
 * and the invariants it checks). Deterministic: a failure prints the schedule,
 * which `replay` runs again.
 *
 * Spinner-to-spinner hand-offs (while another party could run) and timing a wait out at once
 * cost a preemption each, so a schedule needing them needs a higher bound than its context
 * switches alone: the price of exploring spin loops and sliced waits finitely.
 *
 * Bounds are per scenario: 2 or 3 preemptions where two parties race, 1 (plus
 * any number of free switches where a party waits) where three do, and kills
 * at every step for the recovery protocols. Each finishes in seconds.
 */
import { describe, expect, test } from "bun:test";
import { explore, type ExploreResult } from "./harness/explore.ts";

const cases: [scenario: string, preemptions: number, what: string][] = [
  ["publication", 2, "publication and reading, the window flip, laps and lost"],
  ["sequences", 1, "two-word sequences across 2^32"],
  ["snapshot-stability", 2, "pin versus recycle, the pin flip, refresh"],
  ["wake-up", 3, "ready() wake requests against commit"],
  ["wake-up-roll", 2, "ready() wake requests across segment rolls"],
  ["budget-churn", 1, "pin release and budget"],
  ["claim-recovery", 2, "claim, release and recoverThread"],
  ["takeover", 2, "forceClaimWriter against a running writer"],
  ["killed-writer", 1, "a writer killed at any step, then recovered"],
  ["killed-snapshot", 1, "a snapshot reader killed mid-pin, then recovered"],
  ["killed-cursor", 0, "a gated cursor killed mid-pin, then recovered"],
  ["gating", 1, "gating against tryAppend"],
  ["latest", 2, "next sequence read across a recycle"],
  ["release-in-poll", 1, "a cursor released from its own handler"],
  ["takeover-dead-writer", 0, "forceClaimWriter after a writer died at any step"],
  ["takeover-dead-forcer", 0, "a force-claimer killed at any step of a takeover"],
  ["takeover-nonce", 2, "what a takeover records of the writer it fences, and its acknowledgement"],
  ["recovery-acknowledgement", 1, "recoverThread against a new takeover"],
  ["gap", 2, "skipTo: closed segments against a parked reader"],
  ["gap-jump", 2, "skipTo past the whole window against a parked reader"],
  ["process-reap", 2, "durable logs: reaping a dead process against a process retaking its entry"],
  ["remote-wake", 2, "durable logs: a reader parked in another process, woken through the control file's futex word"],
  ["syncer", 2, "durable logs: syncer requests and results behind sequence locks, across 2^32"],
];

function report(r: ExploreResult): string {
  return `${r.scenario}: ${r.executions} executions (up to ${r.maxSteps} steps) in ${(r.millis / 1000).toFixed(1)} s`;
}

describe("shared-memory protocols under every interleaving", () => {
  for (const [name, preemptions, what] of cases) {
    test(`${what} (${name}, preemption bound ${preemptions})`, async () => {
      const r = await explore(new URL(`./scenarios/${name}.ts`, import.meta.url).href, { preemptions });
      console.log(report(r));
      if (r.failure) {
        throw new Error(`${r.failure.status}: ${r.failure.message}\nschedule: ${r.failure.readable}\nreplay: ${JSON.stringify(r.failure.schedule)}`);
      }
      expect(r.executions).toBeGreaterThan(1);
    });
  }
});

describe("the explorer itself", () => {
  test("finds a lost update in a non-atomic increment, and replays it", async () => {
    const url = new URL("./scenarios/lost-update.ts", import.meta.url).href;
    const r = await explore(url, { preemptions: 1 });
    expect(r.failure?.status).toBe("check");
    expect(r.failure?.message).toContain("lost update");
    const { replay } = await import("./harness/explore.ts");
    const again = await replay(url, r.failure!.schedule);
    expect(again?.message).toContain("lost update");
  });

  test("finds a race between two parties while a third waits in timed slices, at bound 0", async () => {
    const r = await explore(new URL("./scenarios/explorer-timed-race.ts", import.meta.url).href, { preemptions: 0 });
    expect(r.failure?.status).toBe("check");
    expect(r.failure?.message).toContain("planted race");
  });

  test("times out a timed wait that spinning parties wait for, instead of reporting a livelock", async () => {
    const r = await explore(new URL("./scenarios/explorer-spinners-timed.ts", import.meta.url).href, { preemptions: 2 });
    expect(r.failure).toBeUndefined();
    expect(r.executions).toBeGreaterThan(1);
  });

  test("is deterministic: every execution, run twice, takes the same steps", async () => {
    const r = await explore(new URL("./scenarios/claim-recovery.ts", import.meta.url).href, { preemptions: 2, verifyDeterminism: true });
    expect(r.failure).toBeUndefined();
    expect(r.executions).toBeGreaterThan(100);
  });
});
