/**
 * The log across real Bun workers: attaching, the writer claim race, writer
 * and reader death, and snapshot stability while another worker writes.
 */
import { describe, expect, test } from "bun:test";
import { AtomicLog, FingerprintMismatchError, InvalidHandleError } from "../../src/index.ts";
import { Tick } from "../../src/generated/market.ts";
import { appendValues, ids, newLog, range } from "../support/log-helpers.ts";
import { Trade } from "../support/trade.ts";
import { startWorker } from "../support/workers.ts";
import { sleep } from "../support/runtime.ts";

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

describe("attaching", () => {
  test("a worker attaches zero-copy and sees the main thread's records, and vice versa", async () => {
    const [writer, log] = newLog(64, 8);
    appendValues(writer, 0, 10);
    const agent = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    await agent.next("attach");
    agent.worker.postMessage({ cmd: "snapshot" });
    expect((await agent.next<{ ids: number[] }>("snapshot")).ids).toEqual(range(0, 10));
    writer.release();
    agent.worker.postMessage({ cmd: "claim" });
    expect((await agent.next<{ won: boolean }>("claim")).won).toBe(true);
    agent.worker.postMessage({ cmd: "append", n: 5 });
    expect((await agent.next<{ next: number }>("append")).next).toBe(15);
    expect(ids(log.snapshot())).toEqual(range(0, 15));
    agent.worker.terminate();
  });

  test("a codec with another fingerprint is refused, naming both records", async () => {
    const [, log] = newLog(64, 8);
    expect(() => AtomicLog.attach(Tick as never, log.handle())).toThrow(FingerprintMismatchError);
    expect(() => AtomicLog.attach(Tick as never, log.handle())).toThrow(/Trade.*Tick/);
    const agent = startWorker("agent.ts", { cmd: "attach", codec: "Tick", handle: log.handle() });
    const reply = await agent.next<{ error: string; message: string }>("attach");
    expect(reply.error).toBe("FingerprintMismatchError");
    expect(reply.message).toContain(`Trade (fingerprint ${Trade.fingerprint})`);
    expect(reply.message).toContain(`Tick (fingerprint ${Tick.fingerprint})`);
    agent.worker.terminate();
  });

  test("something that is not a handle is a typed error", () => {
    expect(() => AtomicLog.attach(Trade, {} as never)).toThrow(InvalidHandleError);
    expect(() => AtomicLog.attach(Trade, { kind: "atomic-log", format: 99 } as never)).toThrow(/format/);
    const [, log] = newLog(4, 2);
    const handle = { ...log.handle(), control: new SharedArrayBuffer(256) };
    expect(() => AtomicLog.attach(Trade, handle)).toThrow(/control block/);
    const [, other] = newLog(8, 2);
    const mixed = { ...log.handle(), store: other.handle().store };
    expect(() => AtomicLog.attach(Trade, mixed)).toThrow(/different logs/);
  });
});

describe("writer claim across workers", () => {
  test("exactly one of 4 racing workers wins, 200 rounds", async () => {
    const racers = 4;
    const rounds = 200;
    const log = AtomicLog.create(Trade, { retainedCapacity: 1024, segmentCapacity: 64 });
    const sync = new SharedArrayBuffer(4 * (2 + racers * rounds));
    const words = new Int32Array(sync);
    const workers = Array.from({ length: racers }, (_, id) =>
      startWorker("claim-racer.ts", { handle: log.handle(), sync, racers, rounds, id }),
    );
    for (let r = 0; r < rounds; r++) {
      Atomics.store(words, 0, r + 1);
      Atomics.notify(words, 0);
      await until(() => Atomics.load(words, 1) === (r + 1) * racers && !log.isWriterClaimed(), `round ${r}`);
      let winners = 0;
      for (let id = 0; id < racers; id++) winners += words[2 + r * racers + id]!;
      expect(winners).toBe(1);
    }
    await Promise.all(workers.map((w) => w.next("done")));
    // Every round's winner appended exactly once, in round order.
    expect(ids(log.snapshot())).toEqual(range(0, rounds));
    for (const w of workers) w.worker.terminate();
  });

  test("the claim of a terminated writer worker is recovered through watch()", async () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 64, segmentCapacity: 8 });
    const agent = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    await agent.next("attach");
    log.watch(agent.worker);
    agent.worker.postMessage({ cmd: "claim" });
    expect((await agent.next<{ won: boolean }>("claim")).won).toBe(true);
    agent.worker.postMessage({ cmd: "append", n: 21 });
    await agent.next("append");
    expect(log.tryClaimWriter()).toBeNull();
    agent.worker.terminate();
    await agent.closed;
    await until(() => !log.isWriterClaimed(), "recovery after close");
    const writer = log.tryClaimWriter()!;
    expect(writer.nextSequence).toBe(21);
    appendValues(writer, 21, 30);
    expect(ids(log.snapshot())).toEqual(range(0, 30));
  });

  test("recoverThread frees a dead writer's claim; forceClaimWriter works when the owner is unknown", async () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 64, segmentCapacity: 8 });
    for (const how of ["recoverThread", "forceClaimWriter"] as const) {
      const agent = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
      const { threadId } = await agent.next<{ threadId: number }>("attach");
      agent.worker.postMessage({ cmd: "claim" });
      expect((await agent.next<{ won: boolean }>("claim")).won).toBe(true);
      agent.worker.postMessage({ cmd: "append", n: 3 });
      const { next } = await agent.next<{ next: number }>("append");
      agent.worker.terminate();
      await agent.closed;
      expect(log.isWriterClaimed()).toBe(true);
      let writer;
      if (how === "recoverThread") {
        expect(log.recoverThread(threadId).writerReleased).toBe(true);
        writer = log.tryClaimWriter()!;
      } else {
        writer = log.forceClaimWriter();
      }
      expect(writer.nextSequence).toBe(next);
      writer.release();
    }
    expect(ids(log.snapshot())).toEqual(range(0, 6));
  });
});

describe("snapshots across workers", () => {
  test("a snapshot held in one worker stays stable while a writer in another recycles its segments", async () => {
    const log = AtomicLog.create(Trade, { retainedCapacity: 16, segmentCapacity: 4 });
    const writerAgent = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    const reader = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    await Promise.all([writerAgent.next("attach"), reader.next("attach")]);
    writerAgent.worker.postMessage({ cmd: "claim" });
    await writerAgent.next("claim");
    writerAgent.worker.postMessage({ cmd: "append", n: 20 });
    await writerAgent.next("append");
    reader.worker.postMessage({ cmd: "snapshot" });
    expect((await reader.next<{ ids: number[] }>("snapshot")).ids).toEqual(range(0, 20));
    writerAgent.worker.postMessage({ cmd: "append", n: 500 }); // many times the pool
    await writerAgent.next("append");
    reader.worker.postMessage({ cmd: "check" });
    expect(await reader.next("check")).toMatchObject({ stable: true, count: 1 });
    expect(log.stats().snapshotBudgetUsed).toBe(5);
    reader.worker.postMessage({ cmd: "release-snapshots" });
    await reader.next("release-snapshots");
    expect(log.stats().snapshotBudgetUsed).toBe(0);
    writerAgent.worker.terminate();
    reader.worker.terminate();
  });

  test("snapshots dropped in a worker are released by its garbage collector", async () => {
    const [writer, log] = newLog(16, 4);
    appendValues(writer, 0, 20);
    const reader = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    await reader.next("attach");
    for (let i = 0; i < 3; i++) {
      reader.worker.postMessage({ cmd: "snapshot" });
      await reader.next("snapshot");
    }
    expect(log.stats().snapshotBudgetUsed).toBe(15);
    for (let i = 0; i < 50 && log.stats().snapshotBudgetUsed > 0; i++) {
      reader.worker.postMessage({ cmd: "drop-snapshots" });
      await reader.next("drop-snapshots");
      await sleep(10);
    }
    expect(log.stats().snapshotBudgetUsed).toBe(0);
    reader.worker.terminate();
  });

  test("a reader terminated while holding snapshots neither stops the writer nor strands memory", async () => {
    const [writer, log] = newLog(16, 4, { snapshotBudget: 15 });
    appendValues(writer, 0, 20);
    const reader = startWorker("agent.ts", { cmd: "attach", handle: log.handle() });
    await reader.next("attach");
    log.watch(reader.worker);
    for (let i = 0; i < 3; i++) {
      reader.worker.postMessage({ cmd: "snapshot" });
      await reader.next("snapshot");
    }
    expect(() => log.snapshot()).toThrow(); // the dead-to-be reader holds the whole budget
    reader.worker.terminate();
    appendValues(writer, 20, 2000); // the writer never waits, even before recovery
    await reader.closed;
    await until(() => log.stats().snapshotBudgetUsed === 0, "budget returned after the reader died");
    expect(ids(log.snapshot())).toEqual(range(1980, 2000));
    expect(log.poolSegments).toBe(5 + 15 + 1); // window + budget + takeover spare
  });
});
