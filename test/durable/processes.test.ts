/**
 * Readers in other processes: real child processes open the durable log
 * read-only while this process writes. They replay, then tail live; their
 * pins are honoured by the writer, and released when they die.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtomicLog, LogInUseError } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { tradeFor } from "../support/log-helpers.ts";

const root = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "atomic-log-proc-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = join(import.meta.dir, "fixtures/reader-process.ts");

function spawnReader(dir: string, ...args: string[]) {
  return Bun.spawn([process.execPath, fixture, dir, ...args], { stdout: "pipe", stderr: "inherit" });
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return out.trim();
}

test("two reader processes replay and tail a live durable log: every record checked, nothing lost while they keep up", async () => {
  const dir = join(root, "tail");
  const log = AtomicLog.open(Trade, dir, { retainedCapacity: 1 << 14, segmentCapacity: 256 });
  const writer = log.tryClaimWriter()!;
  for (let s = 0; s < 1000; s++) writer.append(tradeFor(s)); // replayed by the readers
  const N = 20_000;
  const readers = [spawnReader(dir, "tail", String(N)), spawnReader(dir, "tail", String(N))];
  await Bun.sleep(300); // let them open and park
  for (let s = 1000; s < N; ) {
    const burst = Math.min(500, N - s);
    for (let i = 0; i < burst; i++, s++) writer.append(tradeFor(s));
    await Bun.sleep(1); // bursts, so readers park and are woken (by polling: they are in other processes)
  }
  for (const r of readers) {
    const report = JSON.parse(await firstLine(r.stdout)) as { received: number; lost: number; bad: number; last: number; first: number };
    expect(report).toMatchObject({ bad: 0, lost: 0, last: N - 1, first: 0 });
    expect(report.received).toBe(N);
    expect(await r.exited).toBe(0);
  }
  writer.release();
  log.close();
});

test("a reader process SIGKILLed while holding a snapshot: its pins are reaped and the budget comes back", async () => {
  const dir = join(root, "reap");
  const log = AtomicLog.open(Trade, dir, { retainedCapacity: 64, segmentCapacity: 16 });
  const writer = log.tryClaimWriter()!;
  for (let s = 0; s < 100; s++) writer.append(tradeFor(s));
  const child = spawnReader(dir, "hold");
  expect(await firstLine(child.stdout)).toBe("holding 68"); // 32..99: the head and 4 full segments
  expect(log.stats()).toMatchObject({ pins: 1, snapshotBudgetUsed: 5 });
  expect(log.reapDeadProcesses()).toMatchObject({ processes: 0, pins: 0 }); // alive: kept
  // The writer keeps appending; the pinned segments are not recycled under the reader.
  for (let s = 100; s < 300; s++) writer.append(tradeFor(s));
  child.kill("SIGKILL");
  await child.exited;
  expect(log.reapDeadProcesses()).toMatchObject({ processes: 1, pins: 1, writerReleased: false });
  expect(log.stats()).toMatchObject({ pins: 0, snapshotBudgetUsed: 0 });
  writer.release();
  log.close();
});

test("read-only opens: no writer, no creation; a writer that reopens keeps a live reader's pins", async () => {
  const dir = join(root, "ro");
  expect(() => AtomicLog.open(Trade, dir, { readOnly: true })).toThrow(/no durable log here/);
  const log = AtomicLog.open(Trade, dir, { retainedCapacity: 64, segmentCapacity: 16, snapshotBudget: 10 });
  const writer = log.tryClaimWriter()!;
  for (let s = 0; s < 50; s++) writer.append(tradeFor(s));
  writer.release();
  log.close();
  const child = spawnReader(dir, "hold");
  expect(await firstLine(child.stdout)).toBe("holding 50");
  const reopened = AtomicLog.open(Trade, dir);
  expect(reopened.stats()).toMatchObject({ pins: 1 }); // the live reader's snapshot survives the writer's recovery
  const ro = AtomicLog.open(Trade, dir, { readOnly: true }); // read-only alongside the writer, same process
  expect(() => ro.tryClaimWriter()).toThrow(LogInUseError);
  const snap = ro.snapshot();
  expect(snap.length).toBe(50);
  expect(() => ro.close()).toThrow(LogInUseError); // its snapshot is still open
  snap.release();
  ro.close();
  child.kill("SIGKILL");
  await child.exited;
  expect(reopened.reapDeadProcesses().pins).toBe(1);
  reopened.close();
});

test("a reader parked in another process is woken by its Unix-socket doorbell", async () => {
  const dir = join(root, "doorbell");
  const log = AtomicLog.open(Trade, dir, { retainedCapacity: 64, segmentCapacity: 16 });
  const writer = log.tryClaimWriter()!;
  const child = spawnReader(dir, "wake", "5");
  const lines = child.stdout.getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    while (!buffered.includes("\n")) buffered += new TextDecoder().decode((await lines.read()).value);
    const at = buffered.indexOf("\n");
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return line;
  };
  for (let k = 0; k < 5; k++) {
    expect(await nextLine()).toBe(`parked ${k} true`);
    await Bun.sleep(15); // let it mark the head and park
    writer.append(tradeFor(k));
    const [word, index, woke, id, rings] = (await nextLine()).split(" ");
    expect([word, index, woke, id]).toEqual(["woke", String(k), "true", String(k)]);
    expect(Number(rings)).toBeGreaterThanOrEqual(k + 1); // the doorbell rang for each: not only the 50 ms re-check
  }
  expect(await child.exited).toBe(0);
  writer.release();
  log.close();
});
