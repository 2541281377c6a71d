/**
 * The demo (`npm start`): one market-data writer worker and three reader
 * workers sharing one atomic-log, zero-copy, for a few seconds; then a table
 * of rates and the checks that prove the readers saw the writer's data.
 *
 *   npm start                      # codegen, then this demo (8 s)
 *   bun examples/demo.ts --seconds 20
 */
import { AtomicLog } from "../src/index.ts";
import { Tick } from "../src/generated/market.ts";
import { CONTROL, SYMBOLS, type ReaderReport } from "./market.ts";

const seconds = parseSeconds(process.argv.slice(2));
const tty = process.stdout.isTTY === true;

function parseSeconds(args: string[]): number {
  const at = args.indexOf("--seconds");
  const raw = at >= 0 ? args[at + 1] : (process.env.DEMO_SECONDS ?? "8");
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 600) {
    console.error(`--seconds must be a number from 0 to 600, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

console.log(`atomic-log demo — one writer, three readers, one shared log (Bun ${Bun.version})

  The feed worker publishes market ticks (${Tick.byteLength}-byte records: ts, price, qty, symbol, side, depth)
  into a log that keeps the latest 1,048,576 ticks in 4096-tick segments of SharedArrayBuffer.
  Three reader workers read the same memory, zero-copy, without registering with the writer:
    vwap        takes a snapshot every 100 ms and computes the VWAP per symbol over the whole window
    last-price  tails the log with a spinning cursor and keeps the last price per symbol
    tape        tails the log with a cursor that sleeps in await cursor.ready() until ticks arrive
  The writer never waits for readers; a reader that falls a whole window behind is lapped and told
  how many ticks it missed. Running for ${seconds} s...
`);

const log = AtomicLog.create(Tick, { retainedCapacity: 1 << 20, segmentCapacity: 4096 });
const control = new SharedArrayBuffer(4);
const stop = new Int32Array(control);
const handle = log.handle();

function start(file: string): Worker {
  const worker = new Worker(new URL(`./workers/${file}`, import.meta.url).href);
  log.watch(worker); // if a worker dies, its writer claim and pins are released
  worker.addEventListener("error", (e) => {
    console.error(`\n${file} failed: ${e.message}`);
    process.exitCode = 1;
  });
  worker.postMessage({ handle, control });
  return worker;
}

const latest = new Map<string, ReaderReport>();
const finals = new Map<string, ReaderReport>();
const readers = ["vwap.ts", "last-price.ts", "tape.ts"].map(start);
const readersDone = readers.map(
  (w) =>
    new Promise<void>((resolve) =>
      w.addEventListener("message", (e: MessageEvent<ReaderReport>) => {
        latest.set(e.data.role, e.data);
        if (e.data.type === "done") {
          finals.set(e.data.role, e.data);
          resolve();
        }
      }),
    ),
);
await Bun.sleep(100); // readers attach first, so the cursors start at the first tick
const feed = start("feed.ts");
const feedDone = new Promise<{ written: number; lastPrices: number[] }>((resolve) =>
  feed.addEventListener("message", (e: MessageEvent) => resolve(e.data)),
);

const began = performance.now();
let lastLine = 0;
while (performance.now() - began < seconds * 1000) {
  await Bun.sleep(250);
  const elapsed = (performance.now() - began) / 1000;
  const written = log.stats().nextSequence;
  const parts = [`${elapsed.toFixed(1).padStart(5)} s`, `written ${fmtCount(written)} (${(written / elapsed / 1e6).toFixed(1)} M/s)`];
  for (const role of ["vwap", "last-price", "tape"]) {
    const r = latest.get(role);
    if (r) parts.push(`${role}: ${r.detail}`);
  }
  const line = parts.join(" | ");
  if (tty) process.stdout.write(`\r${line.slice(0, (process.stdout.columns || 160) - 1).padEnd(lastLine)}`);
  else if (Math.floor(elapsed) !== Math.floor(elapsed - 0.25)) console.log(line);
  lastLine = Math.min(line.length, (process.stdout.columns || 160) - 1);
}
Atomics.store(stop, CONTROL.STOP, 1);
const feedResult = await withTimeout(feedDone, "the feed to stop");
await withTimeout(Promise.all(readersDone), "the readers to finish");
if (tty) process.stdout.write("\n");
const elapsed = (performance.now() - began) / 1000;
const allClosed = Promise.all([feed, ...readers].map((w) => new Promise((resolve) => w.addEventListener("close", resolve))));
for (const w of [feed, ...readers]) w.terminate();
await withTimeout(allClosed, "the workers to exit");

// Independent checks, from the main thread's own snapshot of the final window.
const snap = log.snapshot();
const truthVwap = (() => {
  const n = new Float64Array(SYMBOLS.length);
  const q = new Float64Array(SYMBOLS.length);
  for (const t of snap.toArray()) {
    n[t.symbolId] += t.price * t.qty;
    q[t.symbolId] += t.qty;
  }
  return Array.from(n, (x, s) => (q[s]! > 0 ? x / q[s]! : 0));
})();
snap.release();
const vwap = finals.get("vwap")!;
const last = finals.get("last-price")!;
const tape = finals.get("tape")!;
const vwapOk = vwap.perSymbol!.every((v, s) => Math.abs(v - truthVwap[s]!) <= 1e-9 * Math.max(1, Math.abs(truthVwap[s]!)));
const lastOk = last.perSymbol!.every((p, s) => p === feedResult.lastPrices[s]) && !last.detail.startsWith("BROKEN");
const stats = log.stats();
const budgetOk = stats.snapshotBudgetUsed === 0 && !stats.writerClaimed;

const rows: [string, string, string, string, string][] = [
  ["feed (writer)", fmtCount(feedResult.written), `${(feedResult.written / elapsed / 1e6).toFixed(1)} M/s`, "-", "wrote every tick"],
  ["vwap", fmtCount(vwap.records), `${(vwap.records / elapsed / 1e6).toFixed(1)} M/s`, "-", `${vwapOk ? "PASS" : "FAIL"} VWAP of 8 symbols = main thread's own (${vwap.detail})`],
  ["last-price", fmtCount(last.records), `${(last.records / elapsed / 1e6).toFixed(1)} M/s`, fmtCount(last.lost), `${lastOk ? "PASS" : "FAIL"} last price per symbol = writer's (${last.detail})`],
  ["tape", fmtCount(tape.records), `${(tape.records / elapsed / 1e6).toFixed(1)} M/s`, fmtCount(tape.lost), `${tape.records > 0 ? "PASS" : "FAIL"} ${tape.detail}`],
  ["log", fmtCount(stats.windowLength), "-", "-", `${budgetOk ? "PASS" : "FAIL"} all pins and the writer released; pool allocated once: ${stats.poolSegments} segments (${log.retainedSegments + 1} window + ${stats.snapshotBudget} snapshot budget, touched only when pinned, + 1 takeover spare)`],
];
const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length), ["worker", "records", "rate", "lapped", "check"][i]!.length));
const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log(`\n${fmt(["worker", "records", "rate", "lapped", "check"])}`);
for (const r of rows) console.log(fmt(r));
const ok = vwapOk && lastOk && budgetOk && tape.records > 0;
console.log(`\n${ok ? "All checks passed." : "SOME CHECKS FAILED."} "lapped" = ticks a cursor missed because it fell a whole window behind the writer (by design: readers never slow the writer).`);
console.log("Next: README.md for the API; `npm test` runs the suite; `bun run bench` measures it against raw typed arrays and postMessage.");
process.exit(ok && process.exitCode !== 1 ? 0 : 1);

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n.toLocaleString();
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
