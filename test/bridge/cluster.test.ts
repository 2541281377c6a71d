/**
 * The bridge through a real 3-node JetStream cluster, each server in its own
 * network namespace, the publisher and the replica in two more (separate
 * processes, as on separate hosts), a stream with num_replicas: 3, and a
 * server killed (SIGKILL) mid-stream: the stream's leader, then the server
 * holding the replica's consumer. Nothing may be lost or duplicated.
 *
 * Needs root, `ip` (iproute2) and nats-server: where a namespace cannot be
 * created (e.g. an unprivileged container) the suite is skipped with the
 * failing step printed, as the single-server suite is without nats-server.
 *
 * Timing figures (publish rate with R=3, failover stalls) are printed, never
 * asserted: the machine is shared.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { natsSkipReason } from "../support/nats-server.ts";
import { Network, netnsSkipReason, sweepStaleNetworks } from "../support/netns.ts";
import { NatsCluster } from "../support/nats-cluster.ts";
import type { PublisherConfig, ReplicaConfig } from "../support/cluster-child.ts";

const skipReason = natsSkipReason ?? netnsSkipReason();
if (skipReason !== null) console.warn(`\n*** 3-node JetStream cluster test SKIPPED: ${skipReason} ***\n`);

const CHILD = join(import.meta.dir, "../support/cluster-child.ts");

// Any line a child prints: `type` says which (see cluster-child.ts); the rest is read per type.
type Line = { type: string; t?: number; [key: string]: any };

/** A client process inside a namespace, speaking JSON lines (cluster-child.ts). */
class Child {
  readonly lines: Line[] = [];
  private stderr = "";
  private readonly proc: Subprocess<"pipe", "pipe", "pipe">;

  constructor(
    readonly name: string,
    argv: string[],
  ) {
    this.proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe", cwd: join(import.meta.dir, "../..") });
    const proc = this.proc;
    process.once("exit", () => proc.kill("SIGKILL"));
    void this.pump(this.proc.stdout, (line) => {
      try {
        this.lines.push(JSON.parse(line) as Line);
      } catch {
        this.stderr += `(stdout) ${line}\n`;
      }
    });
    void this.pump(this.proc.stderr, (line) => {
      this.stderr = (this.stderr + line + "\n").slice(-8000);
    });
  }

  private async pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
  }

  /** The first line (from the start) matching `match`; throws with the child's output on error, exit or timeout. */
  async waitFor(what: string, match: (line: Line) => boolean, timeoutMs: number): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found !== undefined) return found;
      const error = this.lines.find((l) => l.type === "error");
      if (error !== undefined) throw new Error(`${this.name} failed while waiting for ${what}: ${error.message}\n${this.stderr}`);
      if (this.proc.exitCode !== null) throw new Error(`${this.name} exited (${this.proc.exitCode}) while waiting for ${what}:\n${this.stderr}`);
      if (Date.now() > deadline) {
        // The events (not the progress samples) say what the child went through.
        const events = this.lines.filter((l) => l.type !== "p").slice(-30);
        throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last line ${JSON.stringify(this.lines.at(-1))}; events:\n${events.map((e) => JSON.stringify(e)).join("\n")}\n${this.stderr}`);
      }
      await Bun.sleep(10);
    }
  }

  /** The last line of a type. */
  last(type: string): Line | undefined {
    return this.lines.findLast((l) => l.type === type);
  }

  send(command: string): void {
    this.proc.stdin.write(`${command}\n`);
    this.proc.stdin.flush();
  }

  async kill(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

/**
 * The longest time in [from, to] during which a counter did not move, from
 * its change events (`t`, `value`): the stall a failover caused, to the
 * resolution of the samples (10 ms).
 */
function longestStall(points: { t: number; value: number }[], from: number, to: number): { ms: number; start: number; end: number } {
  let best = { ms: 0, start: from, end: from };
  let prevT = from;
  let prevV = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    if (p.t < from || p.t > to || p.value <= prevV) {
      prevV = Math.max(prevV, p.value);
      continue;
    }
    if (p.t - prevT > best.ms) best = { ms: p.t - prevT, start: prevT, end: p.t };
    prevT = p.t;
    prevV = p.value;
  }
  if (to - prevT > best.ms) best = { ms: to - prevT, start: prevT, end: to };
  return best;
}

const round = (x: number) => Math.round(x);

describe.skipIf(skipReason !== null)("bridge through a 3-node JetStream cluster in network namespaces (real nats-servers)", () => {
  let net: Network | null = null;
  let cluster: NatsCluster | null = null;
  const children: Child[] = [];

  beforeAll(async () => {
    // Namespaces left by a run that was killed before its cleanup (names carry the creator's pid).
    const swept = sweepStaleNetworks();
    if (swept.length > 0) console.warn(`removed ${swept.length} namespaces left by dead runs: ${swept.join(", ")}`);
    net = Network.create(["n1", "n2", "n3", "pub", "rep"]);
    const t = performance.now();
    cluster = await NatsCluster.start(net, ["n1", "n2", "n3"]);
    console.log(`cluster ${cluster.name} (${net.subnet}): 3 servers ready with a meta leader in ${round(performance.now() - t)} ms`);
  });

  afterAll(async () => {
    // CLUSTER_DEBUG=1: what each child went through (every line but the progress samples), also on success.
    if (process.env.CLUSTER_DEBUG) {
      for (const c of children) console.log(`--- ${c.name} events ---\n${c.lines.filter((l) => l.type !== "p").map((l) => JSON.stringify(l)).join("\n")}`);
    }
    // Always, also after a failure: children, servers, namespaces (with their veths and bridge), temp dirs.
    await Promise.all(children.map((c) => c.kill()));
    await cluster?.stop();
    net?.destroy();
    if (net !== null) expect(net.isGone()).toBe(true);
  });

  /** Starts cluster-child.ts in `role` inside host `host`'s namespace. */
  function child(host: string, role: "publisher" | "replica", config: PublisherConfig | ReplicaConfig): Child {
    const c = new Child(role, net!.command(host, [process.execPath, CHILD, role, JSON.stringify(config)]));
    children.push(c);
    return c;
  }

  /**
   * One failover: a publisher and a replica in their namespaces on a new
   * stream with three replicas, a burst then a steady writer, a server killed
   * (SIGKILL) a second into the steady phase (`victim` picks it), a second
   * more of publishing once both sides are past the kill, then a drained stop
   * and the replica's check. Asserts what must hold whichever server died,
   * prints the figures, and returns what the caller asserts on.
   */
  async function failover(stream: string, victim: "stream leader" | "replica's consumer") {
    const started = children.length;
    try {
      return await failoverSteps(stream, victim);
    } finally {
      // This failover's children are done (they exit by themselves after reporting) or failed: a
      // failed one must not go on writing into the next test.
      await Promise.all(children.slice(started).map((c) => c.kill()));
    }
  }

  async function failoverSteps(stream: string, victim: "stream leader" | "replica's consumer") {
    const c = cluster!;
    // Big enough to hold every record (~400 k): a stall must never make the writer lap the bridge.
    const geometry = { retainedCapacity: 1 << 20, segmentCapacity: 1024 };
    const rate = 20_000;
    const nodes = Object.fromEntries(c.nodes.map((n) => [n.name, n.url]));

    const pub = child("pub", "publisher", { nodes, stream, subject: `${stream.toLowerCase()}.trades`, burst: 200_000, rate, ...geometry });
    const ready = await pub.waitFor("ready", (l) => l.type === "ready", 20_000);
    const leader = ready.leader as string;
    // The bridge is connected to the stream's leader (so killing it takes both from the bridge),
    // and the stream has a replica on every other node.
    expect(ready.server).toBe(leader);
    expect(ready.replicas.map((r: { name: string }) => r.name).sort()).toEqual(c.nodes.map((n) => n.name).filter((n) => n !== leader).sort());

    const rep = child("rep", "replica", { servers: c.urls(leader), stream, ...geometry });
    await rep.waitFor("ready", (l) => l.type === "ready", 20_000);
    const burst = await pub.waitFor("burst", (l) => l.type === "burst", 30_000);
    const steady = await pub.waitFor("steady", (l) => l.type === "steady", 5_000);

    // A second of steady publishing and replication, then the crash.
    await Bun.sleep(1000);
    let killed = leader;
    if (victim === "replica's consumer") {
      rep.send("where");
      const where = await rep.waitFor("where its consumer is", (l) => l.type === "where", 20_000);
      expect(where.consumers.length).toBe(1);
      killed = where.consumers[0].leader;
    }
    const atKill = pub.last("p")!;
    const killAt = Date.now();
    await c.node(killed).kill("SIGKILL");
    // When a survivor says it leads the stream now (its log, polled every 10 ms).
    let electedAt: number | null = null;
    const survivors = c.nodes.filter((n) => n.name !== killed);
    const elected = new RegExp(`new stream leader for '\\$G > ${stream}'`);
    const watchElection = (async () => {
      while (killed === leader && electedAt === null && Date.now() - killAt < 30_000) {
        if (survivors.some((n) => elected.test(n.log))) electedAt = Date.now();
        else await Bun.sleep(10);
      }
    })();

    // The publisher goes on: records written after the kill get acknowledged...
    const target = atKill.next + rate / 2;
    const pubBack = await pub.waitFor("acknowledgements after the kill", (l) => l.type === "p" && l.acked >= target, 30_000);
    // ...and reach the replica.
    const repBack = await rep.waitFor("replication after the kill", (l) => l.type === "p" && l.next >= target, 30_000);
    await watchElection;
    // A second more, then drain.
    await Bun.sleep(1000);
    const stopAt = Date.now();
    pub.send("stop");
    const done = await pub.waitFor("the drained stop", (l) => l.type === "done", 40_000);
    const N = done.N as number;
    rep.send(`check ${N}`);
    const checked = await rep.waitFor("the replica's check", (l) => l.type === "checked", 45_000);

    // The publisher: everything written acknowledged, nothing lost, stopped cleanly.
    expect(done.stats).toMatchObject({ state: "stopped", ackedSequence: N, records: N, lost: 0, inFlight: 0 });
    expect(N).toBeGreaterThan(target);
    // The replica: every record 0..N-1 once, in order, every field as written.
    expect(checked.reached).toBe(true);
    expect(checked.records).toEqual({ count: N, first: 0, last: N - 1, problems: [] });
    expect(checked.stats).toMatchObject({ nextSequence: N, records: N, duplicates: 0, gaps: 0, dropped: 0, sourceLost: 0, lastError: null });
    // The stream itself holds each record once: its messages are contiguous runs covering 0..N-1.
    expect(checked.stream).toMatchObject({ end: N, problems: [], messages: done.state.messages, lastSeq: done.state.last_seq });
    expect(done.state.messages).toBe(done.stats.messages);

    // Figures (informational, never asserted).
    const statuses = pub.lines.filter((l) => l.type === "status" && l.t! >= killAt);
    const disconnect = statuses.find((s) => s.kind === "disconnect");
    const reconnect = statuses.find((s) => s.kind === "reconnect");
    const stall = (who: Child, field: string) =>
      longestStall(
        who.lines.filter((l) => l.type === "p").map((l) => ({ t: l.t!, value: l[field] as number })),
        steady.t!,
        stopAt,
      );
    const pubStall = stall(pub, "acked");
    const repStall = stall(rep, "next");
    const after = (t: number) => `${t - killAt} ms`;
    console.log(
      [
        `${stream}: cluster failover figures (R=3, ${N} records of 32 bytes, segments of ${geometry.segmentCapacity}; shared machine, not asserted):`,
        `  publish rate, R=3, burst of ${burst.records}: ${round(burst.rate).toLocaleString("en")} rec/s (${round(burst.ms)} ms, ${burst.messages} messages)`,
        `  killed ${killed} (${killed === leader ? "the stream leader" : "not the stream leader"}, holding the replica's consumer: ${victim === "replica's consumer" ? "yes" : "unknown"}); ` +
          `stream leader after: ${done.leader}` + (electedAt !== null ? `, logged ${after(electedAt)} after the kill` : ""),
        disconnect !== undefined
          ? `  publisher: disconnected ${after(disconnect.t!)} after the kill, reconnected to ${reconnect?.now} ${reconnect === undefined ? "never" : `${reconnect.t! - disconnect.t!} ms later`}`
          : `  publisher: its connection was not to the killed server`,
        `  publisher: longest stall of acknowledgements ${pubStall.ms} ms (${after(pubStall.start)} to ${after(pubStall.end)} after the kill); ` +
          `writes at the kill acked ${after(pubBack.t!)} after it; errors ${done.stats.errors}, resends ${done.stats.resends}, duplicates ${done.stats.duplicates}`,
        `  replica (expiresMs 1000): longest stall ${repStall.ms} ms (${after(repStall.start)} to ${after(repStall.end)} after the kill); ` +
          `caught up past the kill ${after(repBack.t!)} after it; consumer recreated by the replica ${checked.stats.restarts} times`,
        `  drain at stop: ${done.drainMs} ms; stream: ${done.state.messages} messages; replicas after: ${JSON.stringify(done.replicas)}`,
      ].join("\n"),
    );
    return { leader, killed, done, checked, statuses };
  }

  test("SIGKILL of the stream leader mid-stream: the publisher fails over and goes on, the replica gets every record once", async () => {
    const { leader, done, statuses } = await failover("CLUSTER", "stream leader");
    // The crash was felt: the bridge's connection dropped and came back on a survivor...
    expect(statuses.some((s) => s.kind === "disconnect")).toBe(true);
    const reconnect = statuses.find((s) => s.kind === "reconnect");
    expect(reconnect).toBeDefined();
    expect(reconnect!.now).not.toBe(leader);
    // ...and another server leads the stream now.
    expect(done.leader).toBeDefined();
    expect(done.leader).not.toBe(leader);
  }, 60_000);

  test("SIGKILL of the server holding the replica's consumer: the replica recreates it and gets every record once", async () => {
    // The server killed above comes back with its store (and catches up on CLUSTER).
    for (const node of cluster!.nodes) await cluster!.restart(node.name);
    // An ephemeral consumer has one replica: nobody answers for it once its server is dead, and
    // the client's ordered consumer never recovers from that by itself (it asks forever), so the
    // replica has to notice the silence and make a new one.
    const { checked } = await failover("CLUSTER2", "replica's consumer");
    expect(checked.stats.restarts).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
