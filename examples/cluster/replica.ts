/**
 * The cluster demo's replica process (host B): a replica of the stream in a
 * log in memory, and a reader that tails that log with a cursor and checks
 * every field of every tick against its sequence. When a line with the
 * writer's final count arrives on stdin, it waits for the replica to reach
 * it, finishes reading, and reports.
 *
 *   bun examples/cluster/replica.ts nats://127.0.0.1:4222
 */
import { replica } from "../../src/bridge/index.ts";
import { Tick, type TickView } from "../../src/generated/market.ts";
import { GEOMETRY, STREAM, now, report, tickMismatch } from "./ticks.ts";

const url = process.argv[2]!;
const rep = await replica(Tick, { servers: url, stream: STREAM, open: GEOMETRY, name: "cluster demo replica" });
const cursor = rep.log.cursor({ from: 0 });

let checked = 0;
let first = -1;
let last = -1;
let bad = 0;
let firstBad: string | null = null;
let expected = 0;
const check = (v: TickView, seq: number) => {
  if (first < 0) first = seq;
  // Contiguous: each sequence is the one after the last (a cursor's own skips are also in `lost`).
  const field = seq !== expected ? "sequence" : tickMismatch(v, seq);
  if (field !== null) {
    bad++;
    firstBad ??= `record ${seq}: ${field} differs (expected sequence ${expected})`;
  }
  expected = seq + 1;
  last = seq;
  checked++;
};

let target = Number.POSITIVE_INFINITY;
let deadline = Number.POSITIVE_INFINITY;
void (async () => {
  for await (const line of console) {
    target = Number(line);
    // Given the target, the replica has 20 s to reach it; the report then says how far it got.
    deadline = Date.now() + 20_000;
    break;
  }
})();

const progress = setInterval(() => report({ role: "replica", type: "progress", at: now(), replicated: rep.stats().nextSequence, checked }), 50);

// The reader shares this thread with the replica: it reads whatever is there, then parks in
// ready() until more arrives (or 100 ms pass, to see the target).
while (expected < target && Date.now() < deadline) {
  if (cursor.poll(check) === 0) await cursor.ready(100);
}
clearInterval(progress);
const reached = rep.stats().nextSequence >= target;
const stats = rep.stats();
report({
  role: "replica",
  type: "done",
  replicated: stats.nextSequence,
  checked,
  first,
  last,
  bad,
  firstBad,
  lost: cursor.lost,
  gaps: stats.gaps,
  dropped: stats.dropped,
  duplicates: stats.duplicates,
  reached,
});
cursor.release();
await rep.close();
