/**
 * The cluster demo (`npm run demo:cluster`): a log carried from one process to
 * another through a real NATS JetStream server, as it would go from host A to
 * host B. It starts `nats-server -js` on a free port with a temporary store,
 * a writer process (a log, a writer, and the bridge publishing it) and a
 * replica process (a replica of the stream, and a reader tailing it that
 * checks every field of every tick), prints live progress, then stops the
 * writer, lets everything drain, and checks: every record written was
 * published, replicated and read back equal, contiguous, nothing lost.
 *
 *   npm run demo:cluster                     # 5 s at 500,000 ticks/s
 *   bun examples/cluster.ts --seconds 20 --rate 1000000   # or DEMO_SECONDS, DEMO_RATE
 *
 * Exit codes: 0 all checks passed; 1 a check failed (or a process did);
 * 2 a bad --seconds or --rate; 3 nats-server is not installed (NATS_SERVER=<path>
 * names the binary, otherwise it is looked for on the PATH, then in
 * /usr/sbin and /usr/local/sbin, where Debian's package puts it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Tick } from "../src/generated/market.ts";
import { GEOMETRY, type Report } from "./cluster/ticks.ts";

/** Exit code when nats-server cannot be found. */
const NO_SERVER = 3;

const seconds = parseNumber(process.argv.slice(2), "--seconds", process.env.DEMO_SECONDS ?? "5", 600);
const rate = parseNumber(process.argv.slice(2), "--rate", process.env.DEMO_RATE ?? "500000", 1e9);
const binary = findNatsServer();
if (binary === null) {
  console.error(`nats-server was not found${process.env.NATS_SERVER ? ` at NATS_SERVER=${process.env.NATS_SERVER}` : " on the PATH (nor in /usr/sbin, /usr/local/sbin)"}.
The cluster demo runs a real NATS JetStream server. Install it:
  Debian/Ubuntu:  sudo apt-get install nats-server
  elsewhere:      https://docs.nats.io/running-a-nats-service/introduction/installation
or point NATS_SERVER at the binary.`);
  process.exit(NO_SERVER);
}

console.log(`atomic-log cluster demo — one log, two processes, through NATS JetStream (Bun ${Bun.version})

  writer process:  ${rate.toLocaleString()} ticks/s into a log of ${Tick.byteLength}-byte ticks (${GEOMETRY.retainedCapacity.toLocaleString()} retained, segments of ${GEOMETRY.segmentCapacity}),
                   a writer, and publish(log): each available run of ticks is one JetStream message
  nats-server:     ${binary} -js, a temporary file store, a free port
  replica process: replica(Tick): the stream into a local log with the same sequence numbers,
                   and a reader tailing that log, checking every field of every tick
  Running for ${seconds} s...
`);

const storeDir = mkdtempSync(join(tmpdir(), "atomic-log-cluster-"));
const children: Subprocess[] = [];
// Ctrl-C must not leave a nats-server (or a child) running, nor its store behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill("SIGKILL");
    rmSync(storeDir, { recursive: true, force: true });
    process.exit(130);
  });
}
let ok = false;
try {
  const port = freePort();
  const server = Bun.spawn([binary, "-js", "-sd", storeDir, "-a", "127.0.0.1", "-p", String(port)], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  children.push(server);
  await waitForReady(server);
  const url = `nats://127.0.0.1:${port}`;

  const latest: { writer?: Report & { role: "writer" }; replica?: Report & { role: "replica" } } = {};
  // The writer's progress over time, to tell when it had written what the replica has now.
  const history: { at: number; written: number }[] = [];
  const spawnChild = (file: string, ...args: string[]) => {
    const proc = Bun.spawn([process.execPath, new URL(`./cluster/${file}`, import.meta.url).pathname, url, ...args], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    children.push(proc);
    const done = readLines(proc.stdout, (line) => {
      const r = JSON.parse(line) as Report;
      if (r.role === "writer") {
        latest.writer = r;
        if (r.type === "progress") history.push({ at: r.at, written: r.written });
        if (history.length > 1000) history.splice(0, 500);
      }
      else latest.replica = r;
    });
    return { proc, done };
  };

  // The writer first: its bridge creates the stream the replica consumes.
  const writer = spawnChild("writer.ts", String(rate));
  await until(() => latest.writer !== undefined || writer.proc.exitCode !== null, 15_000, "the writer to start");
  const replica = spawnChild("replica.ts");
  await until(() => latest.replica !== undefined || replica.proc.exitCode !== null, 15_000, "the replica to start");

  writer.proc.stdin.write("start\n");
  writer.proc.stdin.flush();
  const began = performance.now();
  let prev = { t: began, published: 0, replicated: 0 };
  console.log("   time    written   published (rate)      replicated (rate)     lag (records, time)     checked");
  while (performance.now() - began < seconds * 1000 && writer.proc.exitCode === null && replica.proc.exitCode === null) {
    await Bun.sleep(500);
    const now = performance.now();
    const w = latest.writer!;
    const r = latest.replica!;
    if (w.type !== "progress" || r.type !== "progress") break;
    const dt = (now - prev.t) / 1000;
    const line = [
      `${((now - began) / 1000).toFixed(1).padStart(5)} s`,
      fmtCount(w.written).padStart(8),
      `${fmtCount(w.published).padStart(8)} (${fmtRate((w.published - prev.published) / dt)})`,
      `${fmtCount(r.replicated).padStart(8)} (${fmtRate((r.replicated - prev.replicated) / dt)})`,
      fmtLag(lagAt(history, r.at, r.replicated)),
      fmtCount(r.checked).padStart(8),
    ].join("   ");
    console.log(line);
    prev = { t: now, published: w.published, replicated: r.replicated };
  }

  const wrote = (performance.now() - began) / 1000;
  // Stop the writer; its bridge drains (publishes everything written, waits for acknowledgements).
  writer.proc.stdin.write("stop\n");
  writer.proc.stdin.end();
  await until(() => latest.writer?.type === "done" || writer.proc.exitCode !== null, 40_000, "the writer's bridge to drain");
  await writer.done;
  const w = latest.writer;
  if (w?.type !== "done") throw new Error(`the writer process failed (exit code ${await writer.proc.exited})`);
  // Tell the replica how far to go; it waits for that, reads to there, and reports.
  replica.proc.stdin.write(`${w.written}\n`);
  replica.proc.stdin.end();
  await until(() => latest.replica?.type === "done" || replica.proc.exitCode !== null, 40_000, "the replica to finish");
  await replica.done;
  const r = latest.replica;
  if (r?.type !== "done") throw new Error(`the replica process failed (exit code ${await replica.proc.exited})`);
  const exits = [await writer.proc.exited, await replica.proc.exited];

  const N = w.written;
  const checks: [boolean, string][] = [
    [N > 0, `the writer wrote ${N.toLocaleString()} ticks (${fmtRate(N / wrote)} over ${wrote.toFixed(1)} s, asked for ${fmtRate(rate)})`],
    [w.published === N && w.lost === 0, `the bridge published and had acknowledged all of them: ${w.published.toLocaleString()}, lost ${w.lost} (failures re-sent: ${w.errors})`],
    [r.reached && r.replicated === N, `the replica reached sequence ${r.replicated.toLocaleString()}: gaps ${r.gaps}, dropped ${r.dropped}, duplicates ${r.duplicates}`],
    [r.gaps === 0 && r.dropped === 0 && r.duplicates === 0, "the replica applied every message once, with no gap"],
    [r.checked === N && r.first === 0 && r.last === N - 1 && r.lost === 0, `its reader read ${r.checked.toLocaleString()} ticks, sequences ${r.first}..${r.last}, contiguous, lost ${r.lost}`],
    [r.bad === 0, `every field of every tick equal to what the writer wrote: ${r.bad === 0 ? "yes" : `${r.bad} differ, first ${r.firstBad}`}`],
    [exits.every((c) => c === 0), `both processes exited cleanly (${exits.join(", ")})`],
  ];
  console.log("");
  for (const [pass, text] of checks) console.log(`  ${pass ? "PASS" : "FAIL"}  ${text}`);
  console.log(
    `\n  The stream (limits from the log's window, retention "window"): ${w.stream.messages.toLocaleString()} messages, ` +
      `${(w.stream.bytes / 2 ** 20).toFixed(1)} MiB, stream sequences ${w.stream.firstSeq}..${w.stream.lastSeq}` +
      (w.stream.firstSeq > 1 ? " (older messages discarded by the limits)" : "") +
      (w.limitsWarning !== null ? `\n  limits warning: ${w.limitsWarning}` : ""),
  );
  ok = checks.every(([pass]) => pass);
  console.log(`\n${ok ? "All checks passed." : "SOME CHECKS FAILED."}`);
} catch (error) {
  console.error(`\ncluster demo failed: ${(error as Error)?.message ?? error}`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  rmSync(storeDir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

function parseNumber(args: string[], flag: string, fallback: string, max: number): number {
  const at = args.indexOf(flag);
  const raw = at >= 0 ? args[at + 1] : fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    console.error(`${flag} must be a number from 0 to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

/** NATS_SERVER if set (and there), else the PATH, else where Debian puts it (/usr/sbin is not on every user's PATH). */
function findNatsServer(): string | null {
  const named = process.env.NATS_SERVER;
  if (named !== undefined && named !== "") return Bun.which(named);
  return Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/local/sbin" });
}

/** A free TCP port on 127.0.0.1 (bound, read, and released). */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Resolves when nats-server logs that it is ready; keeps draining its stderr afterwards, so it never blocks on a full pipe. */
async function waitForReady(server: Subprocess<"ignore", "ignore", "pipe">): Promise<void> {
  let log = "";
  void readLines(server.stderr, (line) => {
    if (log.length < 1 << 16) log += `${line}\n`;
  });
  await until(() => log.includes("Server is ready") || server.exitCode !== null, 10_000, "nats-server to start");
  if (!log.includes("Server is ready")) throw new Error(`nats-server exited (${server.exitCode}):\n${log}`);
}

/** Calls `onLine` for each line of a child's output; resolves at its end. */
async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, at);
      rest = rest.slice(at + 1);
      if (line.length > 0) onLine(line);
    }
  }
  if (rest.length > 0) onLine(rest);
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/**
 * How far the replica was behind the writer when it reported (at `at`, holding everything below
 * `replicated`): in records, what the writer had written by then beyond it; in time, how long
 * before `at` the writer had written it. Both interpolated in the writer's reports (every 50 ms;
 * the two processes share this host's clock). Null before the writer has two reports.
 */
function lagAt(history: { at: number; written: number }[], at: number, replicated: number): { records: number; ms: number } | null {
  if (history.length < 2) return null;
  const interpolate = (a: { at: number; written: number }, b: { at: number; written: number }, key: "at" | "written", value: number, out: "at" | "written") =>
    b[key] === a[key] ? b[out] : a[out] + ((b[out] - a[out]) * (value - a[key])) / (b[key] - a[key]);
  // Records written by `at` (extrapolated past the last report at the last rate).
  let i = history.findIndex((s) => s.at >= at);
  if (i < 1) i = i === 0 ? 1 : history.length - 1;
  const writtenThen = interpolate(history[i - 1]!, history[i]!, "at", at, "written");
  // When the writer got past `replicated`: never later than `at`.
  let j = history.findIndex((s) => s.written >= replicated);
  if (j < 1) j = j === 0 ? 1 : history.length - 1;
  const writtenAt = Math.min(at, interpolate(history[j - 1]!, history[j]!, "written", replicated, "at"));
  return { records: Math.max(0, Math.round(writtenThen - replicated)), ms: Math.max(0, at - writtenAt) };
}

function fmtLag(lag: { records: number; ms: number } | null): string {
  return lag === null ? "-".padStart(20) : `${fmtCount(lag.records).padStart(7)} rec ${lag.ms.toFixed(1).padStart(6)} ms`;
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

function fmtRate(perSecond: number): string {
  return `${(perSecond / 1e6).toFixed(2)} M/s`;
}
