/**
 * Real crashes: a child process appends to a durable log through every write
 * path (append, appendBatch, reserve + commit, reserveMany, sync, release and
 * re-claim) across many segment rolls, and is SIGKILLed at a random moment.
 * The log is then reopened, by this process or by the next child, and must
 * hold every record the child had committed (same boot: the page cache
 * survives a killed process), each one equal to `tradeFor(sequence)`, as one
 * contiguous run that the next writer continues. The same directory is used
 * for every kill, so each open also recovers what earlier recoveries left.
 *
 * Reproduce a failure with CRASH_SEED=<seed printed in the failure>.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { between, checkWindow, prng, removeRoot, tmpfsRoot, tradeFor, type TradeLog } from "./fixtures/durable-helpers.ts";

const KILLS = 56;
const RETAINED = 512;
const SEGMENT = 64;
const FIXTURE = join(import.meta.dir, "fixtures", "crash-writer.ts");

const root = tmpfsRoot("atomic-log-crash-");
afterAll(() => removeRoot(root));

/** What a killed child said before it died. */
interface ChildReport {
  recovery: { mode: string; next: number; dropped: number; synced: number } | null;
  verified: [number, number] | null;
  failure: string | null;
  appendingFrom: number | null;
  committed: number;
  synced: number;
  stderr: string;
}

/** Starts the child, kills it `killAfterMs` after it says it is appending, and returns what it printed. */
async function runAndKill(dir: string, seed: number, verify: boolean, killAfterMs: number): Promise<ChildReport> {
  const proc = Bun.spawn([process.execPath, FIXTURE, dir, String(seed), verify ? "verify" : "append"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const report: ChildReport = { recovery: null, verified: null, failure: null, appendingFrom: null, committed: -1, synced: -1, stderr: "" };
  let signalAppending: () => void = () => {};
  const appending = new Promise<void>((resolve) => (signalAppending = resolve));
  const onLine = (line: string) => {
    const [tag, ...rest] = line.split(" ");
    if (tag === "C") report.committed = Math.max(report.committed, Number(rest[0]));
    else if (tag === "S") report.synced = Math.max(report.synced, Number(rest[0]));
    else if (tag === "R") report.recovery = { mode: rest[0]!, next: Number(rest[1]), dropped: Number(rest[2]), synced: Number(rest[3]) };
    else if (tag === "V") report.verified = [Number(rest[0]), Number(rest[1])];
    else if (tag === "X") report.failure = rest.join(" ");
    else if (tag === "A") {
      report.appendingFrom = Number(rest[0]);
      signalAppending();
    }
  };
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
    // A line cut by the kill is incomplete: ignore it.
  })();
  const exitedEarly = proc.exited.then(() => "exited" as const);
  const started = await Promise.race([appending.then(() => "appending" as const), exitedEarly, Bun.sleep(15_000).then(() => "timeout" as const)]);
  if (started === "appending") {
    if (killAfterMs > 0) await Bun.sleep(killAfterMs);
    proc.kill("SIGKILL");
  } else if (started === "timeout") {
    proc.kill("SIGKILL");
  }
  const code = await proc.exited;
  await reading;
  report.stderr = await new Response(proc.stderr).text();
  if (started !== "appending") {
    throw new Error(`the child ${started} before appending (exit ${code}, failure ${report.failure}): ${report.stderr}`);
  }
  if (proc.signalCode !== "SIGKILL") throw new Error(`the child ended with ${code}/${proc.signalCode}, not by the kill: ${report.failure ?? report.stderr}`);
  return report;
}

describe("durable log: real SIGKILLs of a writing process", () => {
  test(`${KILLS} kills in one directory: every committed record recovered, checked, and continued`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const rand = prng(seed);
    const dir = join(root, "log");
    let iteration = -1;
    const context = () => `CRASH_SEED=${seed}, kill ${iteration}`;
    // What the next open must find: every record below `mustHave` (committed by someone),
    // and nothing beyond `mayHave` (reserved by someone, perhaps never committed).
    let mustHave = 0;
    let synced = 0;
    let cleanlyClosedAt = -1; // the parent closed the log cleanly at this sequence; -1 if the last one was killed
    let kills = 0;
    let parentChecks = 0;
    let childChecks = 0;
    const modes: Record<string, number> = {};
    try {
      for (iteration = 0; iteration < KILLS; iteration++) {
        const childVerifies = iteration > 0 && cleanlyClosedAt < 0; // the last child was killed and nobody reopened since
        const killAfter = rand() < 0.15 ? 0 : between(rand, 1, 25);
        const report = await runAndKill(dir, between(rand, 1, 2 ** 31 - 1), childVerifies, killAfter);
        kills++;
        if (report.failure !== null) throw new Error(`the child found: ${report.failure}`);

        // What the child found at its open.
        const r = report.recovery!;
        modes[`child:${r.mode}`] = (modes[`child:${r.mode}`] ?? 0) + 1;
        if (iteration === 0) expect(r).toMatchObject({ mode: "created", next: 0 });
        else if (cleanlyClosedAt >= 0) expect(r).toMatchObject({ mode: "clean", next: cleanlyClosedAt, dropped: 0, synced: cleanlyClosedAt });
        else {
          // Same boot, the last writer killed: everything it committed is kept, nothing is dropped.
          expect(["crashed", "clean"]).toContain(r.mode);
          expect(r.dropped).toBe(0);
          expect(r.next).toBeGreaterThanOrEqual(mustHave);
          expect(r.synced).toBeGreaterThanOrEqual(synced);
          expect(r.synced).toBeLessThanOrEqual(r.next);
          expect(report.verified).not.toBeNull();
          const [start, end] = report.verified!;
          expect(end).toBe(r.next);
          expect(start).toBeLessThanOrEqual(Math.max(0, end - RETAINED));
          childChecks++;
        }
        expect(report.appendingFrom).toBe(r.next);
        mustHave = Math.max(r.next, report.committed);
        synced = Math.max(r.synced, report.synced);

        // Half the time the parent reopens and checks; otherwise the next child recovers this crash.
        if (rand() < 0.5 || iteration === KILLS - 1) {
          const log = AtomicLog.open(Trade, dir, {}) as TradeLog;
          const rec = log.recovery!;
          modes[`parent:${rec.mode}`] = (modes[`parent:${rec.mode}`] ?? 0) + 1;
          expect(["crashed", "clean"]).toContain(rec.mode);
          expect(rec.droppedRecords).toBe(0);
          expect(rec.nextSequence).toBeGreaterThanOrEqual(mustHave);
          expect(log.syncedSequence!).toBeGreaterThanOrEqual(synced);
          expect(log.syncedSequence!).toBeLessThanOrEqual(rec.nextSequence);
          const [start, end] = checkWindow(log);
          expect(end).toBe(rec.nextSequence);
          expect(start).toBeLessThanOrEqual(Math.max(0, end - RETAINED));
          // Continue after the last record.
          const writer = log.tryClaimWriter()!;
          expect(writer.nextSequence).toBe(end);
          const more = between(rand, 1, 3 * SEGMENT);
          for (let s = end; s < end + more; s++) {
            if (s % 3 === 0) writer.appendBatch([tradeFor(s)]);
            else writer.append(tradeFor(s));
          }
          expect(checkWindow(log)[1]).toBe(end + more);
          writer.release();
          log.close();
          expect(log.syncedSequence).toBe(end + more);
          cleanlyClosedAt = end + more;
          mustHave = synced = end + more;
          parentChecks++;
        } else {
          cleanlyClosedAt = -1;
        }
      }
    } catch (error) {
      const e = error as Error;
      e.message = `${context()}: ${e.message}`;
      throw e;
    }
    expect(kills).toBe(KILLS);
    expect(parentChecks + childChecks).toBeGreaterThanOrEqual(KILLS - 1);
    // Many rolls happened: the log went far beyond one window.
    expect(mustHave).toBeGreaterThan(10 * RETAINED);
    console.log(`crash test: seed ${seed}, ${kills} kills, ${parentChecks} parent checks, ${childChecks} child checks, ${mustHave} records, modes ${JSON.stringify(modes)}`);
  }, 60_000);
});
