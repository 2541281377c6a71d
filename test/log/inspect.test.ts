/**
 * Records and logs are easy to look at: `console.log` shows fields and
 * positions rather than typed arrays, and `JSON.stringify` works on every
 * view, 64-bit fields included (as decimal strings).
 */
import { expect, test } from "bun:test";
import { inspect } from "node:util";
import { AtomicLog } from "../../src/index.ts";
import { Trade } from "../../src/generated/market.ts";
import { Scalars } from "../golden/fixtures/all-types.ts";

test("console.log / util.inspect of a view, a log, a snapshot, a cursor and a writer is short and shows what matters", () => {
  const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 16, segmentCapacity: 4 });
  writer.append({ ts: 1.5, id: 2, price: 3.25, qty: 4, side: 1 });
  const snap = log.snapshot();
  const cursor = log.cursor({ from: 0 });
  const shown = [snap.at(0), log, snap, cursor, writer].map((x) => inspect(x));
  expect(shown[0]).toContain("Trade");
  expect(shown[0]).toContain("price: 3.25");
  expect(shown[1]).toContain("AtomicLog<Trade>");
  expect(shown[1]).toContain("nextSequence: 1");
  expect(shown[2]).toContain("length: 1");
  expect(shown[3]).toContain("lost: 0");
  expect(shown[4]).toContain("nextSequence: 1");
  for (const s of shown) expect(s.length).toBeLessThan(400); // was 37 KB of typed arrays for a view
  snap.release();
  expect(inspect(snap)).toContain("released: true");
  cursor.release();
});

test("JSON.stringify of a view: the codec's plain object, with u64/i64 fields as decimal strings", () => {
  const view = Scalars.view(new ArrayBuffer(Scalars.byteLength));
  view.a_u64 = 2n ** 64n - 1n;
  view.a_i64 = -(2n ** 63n);
  view.a_u32 = 7;
  const parsed = JSON.parse(JSON.stringify(view)) as Record<string, unknown>;
  expect(parsed.a_u64).toBe("18446744073709551615");
  expect(parsed.a_i64).toBe("-9223372036854775808");
  expect(parsed.a_u32).toBe(7);
  expect(Object.keys(parsed).sort()).toEqual(Scalars.fields.map((f) => f.name).sort());
});
