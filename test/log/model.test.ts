/**
 * Model-based test: random sequences of append, appendBatch, the view form,
 * snapshot, refresh, release, writer release and claim, checked step by step
 * against a plain reference model of the window, the pin budget and every
 * held snapshot's contents.
 */
import { describe, expect, test } from "bun:test";
import { SnapshotBudgetError, WriterReleasedError } from "../../src/index.ts";
import { newLog, tradeFor, type TradeSnapshot, type TradeWriter } from "../support/log-helpers.ts";

/** mulberry32: a tiny seeded PRNG so failures replay from the seed. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

interface HeldSnapshot {
  snap: TradeSnapshot;
  start: number; // first sequence
  end: number; // one past the last
  segments: number;
}

function checkSnapshot(held: HeldSnapshot): void {
  const { snap, start, end } = held;
  expect(snap.length).toBe(end - start);
  expect(snap.startSequence).toBe(start);
  let seq = start;
  snap.forEach((view, s) => {
    expect(s).toBe(seq);
    expect(view.id).toBe(seq);
    expect(view.price).toBe(seq + 0.25);
    expect(view.qty).toBe((seq * 7) >>> 0);
    seq++;
  });
  expect(seq).toBe(end);
}

function runModel(seed: number, steps: number): void {
  const rnd = prng(seed);
  const S = [1, 2, 3, 4, 7, 8][rnd(6)]!;
  const retained = 1 + rnd(20);
  const R = Math.ceil(retained / S);
  const budget = rnd(2) === 0 ? R + 1 + rnd(3 * (R + 1)) : undefined;
  const [first, log] = newLog(retained, S, budget === undefined ? {} : { snapshotBudget: budget });
  const budgetSegments = log.stats().snapshotBudget;
  let writer: TradeWriter | null = first;
  let next = 0;
  const held: HeldSnapshot[] = [];

  const window = () => {
    const headSeg = next === 0 ? 0 : Math.floor((next - 1) / S);
    const oldestSeg = Math.max(0, headSeg - R);
    return { start: oldestSeg * S, end: next, segments: headSeg - oldestSeg + 1 };
  };
  const used = () => held.reduce((sum, h) => sum + h.segments, 0);

  for (let step = 0; step < steps; step++) {
    const op = rnd(11);
    if (writer === null && op <= 4) {
      expect(log.isWriterClaimed()).toBe(false);
      writer = log.tryClaimWriter();
      expect(writer).not.toBeNull();
      expect(writer!.nextSequence).toBe(next);
      continue;
    }
    switch (op) {
      case 0:
        writer!.append(tradeFor(next++));
        break;
      case 1: {
        const n = rnd(2 * S + 2);
        const batch = Array.from({ length: n }, (_, i) => tradeFor(next + i));
        expect(writer!.appendBatch(batch)).toBe(n);
        next += n;
        break;
      }
      case 2: {
        const n = 1 + rnd(S + 1);
        for (let i = 0; i < n; i++) {
          const v = writer!.reserve();
          const t = tradeFor(next++);
          v.ts = t.ts; v.id = t.id; v.price = t.price; v.qty = t.qty; v.side = t.side;
        }
        writer!.commit();
        break;
      }
      case 3:
      case 4: {
        const w = window();
        if (used() + w.segments > budgetSegments) {
          expect(() => log.snapshot()).toThrow(SnapshotBudgetError);
        } else {
          held.push({ snap: log.snapshot(), ...w });
        }
        break;
      }
      case 5:
      case 6: {
        if (held.length === 0) break;
        const h = held[rnd(held.length)]!;
        const w = window();
        const grow = Math.max(0, w.segments - h.segments);
        if (used() + grow > budgetSegments) {
          expect(() => h.snap.refresh()).toThrow(SnapshotBudgetError);
        } else {
          h.snap.refresh();
          Object.assign(h, w);
        }
        break;
      }
      case 7: {
        if (held.length === 0) break;
        const [h] = held.splice(rnd(held.length), 1);
        h!.snap.release();
        expect(() => h!.snap.length).toThrow();
        break;
      }
      case 8: {
        if (writer === null) break;
        writer.release();
        expect(() => writer!.append(tradeFor(0))).toThrow(WriterReleasedError);
        writer = null;
        break;
      }
      case 9:
        if (writer !== null) expect(log.tryClaimWriter()).toBeNull();
        break;
      default: {
        const w = window();
        if (used() + w.segments <= budgetSegments) {
          using fresh = log.snapshot();
          checkSnapshot({ snap: fresh, ...w });
        }
      }
    }
    for (const h of held) checkSnapshot(h);
    const stats = log.stats();
    expect(stats.nextSequence).toBe(next);
    expect(stats.oldestSequence).toBe(window().start);
    expect(stats.snapshotBudgetUsed).toBe(used());
  }
  for (const h of held) h.snap.release();
  expect(log.stats().snapshotBudgetUsed).toBe(0);
}

describe("model-based", () => {
  test("random operation sequences match the reference model (200 seeds)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      try {
        runModel(seed, 300);
      } catch (error) {
        throw new Error(`model mismatch at seed ${seed}: ${(error as Error).message}\n${(error as Error).stack}`);
      }
    }
  });
});
