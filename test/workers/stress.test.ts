/**
 * Bounded stress: a writer worker and four reader workers (two on snapshots,
 * two on cursors) for a fixed time on a small, fast-recycling log. Every
 * record read is checked against a known function of its sequence; zero
 * violations, and every worker ends cleanly.
 */
import { expect, test } from "bun:test";
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../support/trade.ts";
import { startWorker } from "../support/workers.ts";

const DURATION_MS = Number(process.env.STRESS_MS ?? 3000);

test(`stress: 1 writer + 4 readers for ${DURATION_MS} ms, zero violations`, async () => {
  // Small segments so the writer rolls and recycles constantly under the readers.
  const log = AtomicLog.create(Trade, { retainedCapacity: 2048, segmentCapacity: 128, snapshotBudget: 17 * 12 });
  const control = new SharedArrayBuffer(8);
  const flags = new Int32Array(control);
  const handle = log.handle();
  const readers = (["snapshot", "snapshot", "cursor", "cursor"] as const).map((mode) => {
    const w = startWorker("stress-reader.ts", { handle, control, mode });
    log.watch(w.worker);
    return w;
  });
  await Bun.sleep(50); // let readers attach before the writer starts, so cursors begin at 0
  const writer = startWorker("stress-writer.ts", { handle, control });
  await Bun.sleep(DURATION_MS);
  Atomics.store(flags, 0, 1);
  const { appended } = await writer.next<{ appended: number }>("done", 30_000);
  const results = await Promise.all(readers.map((r) => r.next<Record<string, number | string>>("done", 30_000)));
  for (const w of [writer, ...readers]) w.worker.terminate();
  await Promise.all([writer, ...readers].map((w) => w.closed));

  expect(appended).toBeGreaterThan(100_000);
  for (const r of results) {
    expect(r.firstViolation).toBe("");
    expect(r.violations).toBe(0);
    expect(r.checked as number).toBeGreaterThan(1000);
  }
  expect(log.stats().snapshotBudgetUsed).toBe(0);
  expect(log.isWriterClaimed()).toBe(false);
  console.log(
    `stress: ${appended} appended; readers checked ${results.map((r) => r.checked).join(", ")} records; cursor laps lost ${results.map((r) => r.lost).join(", ")}`,
  );
});
