/**
 * Durable logs need Bun (Bun.mmap, bun:ffi). Elsewhere they must fail at the
 * API, with the typed error the README names, before touching the disk: not
 * with a `ReferenceError: Bun is not defined` from deep inside the store.
 * Node.js only: the `.node-test.ts` name keeps `bun test` from collecting it
 * (scripts/node-tests.ts runs it in the Node phase of `npm test`); under Bun,
 * test/durable covers `AtomicLog.open` itself.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtomicLog, AtomicLogError } from "../../src/index.ts";
import { Trade } from "../support/trade.ts";

test("AtomicLog.open on Node.js throws AtomicLogError UNSUPPORTED_PLATFORM naming Bun and this Node.js, and creates nothing", () => {
  const parent = mkdtempSync(join(tmpdir(), "atomic-log-node-open-"));
  const dir = join(parent, "log");
  try {
    let error: unknown;
    try {
      AtomicLog.open(Trade, dir, { retainedCapacity: 1024, segmentCapacity: 64 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AtomicLogError);
    const typed = error as AtomicLogError;
    expect(typed.code).toBe("UNSUPPORTED_PLATFORM");
    expect(typed.name).toBe("AtomicLogError");
    expect(typed.message).toContain("durable logs need Bun (AtomicLog.open)");
    expect(typed.message).toContain(`Node.js ${process.versions.node}`);
    expect(existsSync(dir)).toBe(false);
    // The in-memory log is unaffected in the same process.
    const [writer, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 16, segmentCapacity: 4 });
    writer.append({ ts: 1, id: 2, price: 3, qty: 4, side: 0 });
    expect(log.snapshot().at(0).id).toBe(2);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test("attaching a durable log's handle on Node.js throws the same typed error", () => {
  // The shape of a durable log's handle (a file store); only Bun can make a real one.
  const [, log] = AtomicLog.newClaimed(Trade, { retainedCapacity: 16, segmentCapacity: 4 });
  const handle = { ...log.handle(), store: { kind: "file" }, durable: {} };
  expect(() => AtomicLog.attach(Trade, handle as never)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_PLATFORM" }));
  expect(() => AtomicLog.attach(Trade, handle as never)).toThrow("attaching a durable log's handle");
});
