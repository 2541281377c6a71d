/**
 * A real 3-node (or n-node) NATS JetStream cluster for tests: one nats-server
 * (the Debian package's binary) per host of a {@link Network}, each in its own
 * network namespace on that host's address, with the standard client (4222)
 * and route (6222) ports, a config file of its own (server_name, cluster
 * name/listen/routes, jetstream store_dir) and a store in a temporary
 * directory. Never a mock: failover is the servers' (Raft elections of the
 * meta and stream leaders), so only real servers can test what the bridge
 * does through it.
 */
import type { Subprocess } from "bun";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Network } from "./netns.ts";
import { natsServerBinary } from "./nats-server.ts";

/** The client port every node listens on (each on its own address, so all the same). */
export const CLIENT_PORT = 4222;
/** The cluster (route) port. */
export const ROUTE_PORT = 6222;

/** What followers and the new leader log once a JetStream meta leader is elected (nats-server 2.9). */
const META_LEADER = /Self is new JetStream cluster metadata leader|JetStream cluster new metadata leader: /;

/** One server of a {@link NatsCluster}. */
export class ClusterNode {
  /** The server_name, also the host's name in the network (`n1`...). */
  readonly name: string;
  /** `nats://<address>:4222`. */
  readonly url: string;
  readonly configFile: string;
  readonly storeDir: string;
  /** The server's output (stderr), the last 64 KiB or so: for failure messages and the waits below. */
  log = "";
  private proc: Subprocess<"ignore", "ignore", "pipe"> | null = null;
  private readonly argv: string[];

  /** @internal Use {@link NatsCluster.start}. */
  constructor(name: string, url: string, configFile: string, storeDir: string, argv: string[]) {
    this.name = name;
    this.url = url;
    this.configFile = configFile;
    this.storeDir = storeDir;
    this.argv = argv;
  }

  /** Whether the server process is running (not killed, not exited). */
  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts the process inside its namespace and keeps reading its output. */
  launch(): void {
    const proc = Bun.spawn(this.argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    this.proc = proc;
    this.log = "";
    // A test that dies must not leave a server behind (the network's destroy() kills what is left too).
    process.once("exit", () => proc.kill("SIGKILL"));
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    // Read for the process's lifetime, so a chatty server never blocks on a full pipe.
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.log += decoder.decode(value);
        if (this.log.length > 1 << 16) this.log = this.log.slice(-(1 << 15));
      }
    })();
  }

  /** Resolves once the log matches `pattern`; throws with the log if the process exits or `timeoutMs` passes. */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.log)) {
      if (!this.running) throw new Error(`nats-server ${this.name} exited (${this.proc?.exitCode ?? this.proc?.signalCode}):\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`nats-server ${this.name}: no ${pattern} within ${timeoutMs} ms:\n${this.log}`);
      await Bun.sleep(20);
    }
  }

  /** Sends `signal` (SIGKILL by default: a crash, no goodbye to the cluster) and waits for the process to end. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    this.proc = null;
    proc.kill(signal);
    await proc.exited;
  }
}

/**
 * A JetStream cluster, one server per host of a network. Start with
 * {@link NatsCluster.start}; always {@link NatsCluster.stop}.
 */
export class NatsCluster {
  /** The cluster's name (the network's prefix: unique per run). */
  readonly name: string;
  readonly nodes: ClusterNode[];
  /** The temporary directory holding every node's config and store. */
  readonly dir: string;

  private constructor(name: string, nodes: ClusterNode[], dir: string) {
    this.name = name;
    this.nodes = nodes;
    this.dir = dir;
  }

  /**
   * Writes a config per node, starts every server in its host's namespace
   * (`ip netns exec`), and resolves once each has logged that it is ready and
   * a JetStream meta leader is elected (see {@link waitForMetaLeader}), so
   * streams can be created. Stops what it started if that fails.
   */
  static async start(net: Network, hostNames: string[], timeoutMs = 20_000): Promise<NatsCluster> {
    if (natsServerBinary === null) throw new Error("nats-server is not installed (Debian: apt-get install -y nats-server)");
    const dir = mkdtempSync(join(tmpdir(), "atomic-log-nats-cluster-"));
    const hosts = hostNames.map((name) => net.host(name));
    const nodes = hosts.map((host) => {
      const storeDir = join(dir, host.name, "jetstream");
      mkdirSync(storeDir, { recursive: true });
      const configFile = join(dir, host.name, "nats.conf");
      const routes = hosts.filter((h) => h !== host).map((h) => `"nats://${h.address}:${ROUTE_PORT}"`);
      // JSON strings are valid NATS config strings (same quoting), so paths with odd characters are safe.
      writeFileSync(
        configFile,
        [
          `server_name: ${JSON.stringify(host.name)}`,
          `listen: "${host.address}:${CLIENT_PORT}"`,
          `jetstream {`,
          `  store_dir: ${JSON.stringify(storeDir)}`,
          `}`,
          `cluster {`,
          `  name: ${JSON.stringify(net.prefix)}`,
          `  listen: "${host.address}:${ROUTE_PORT}"`,
          `  routes: [${routes.join(", ")}]`,
          `}`,
          ``,
        ].join("\n"),
      );
      const argv = net.command(host.name, [natsServerBinary!, "-c", configFile]);
      return new ClusterNode(host.name, `nats://${host.address}:${CLIENT_PORT}`, configFile, storeDir, argv);
    });
    const cluster = new NatsCluster(net.prefix, nodes, dir);
    try {
      for (const node of nodes) node.launch();
      for (const node of nodes) await node.waitForLog(/Server is ready/, timeoutMs);
      await cluster.waitForMetaLeader(timeoutMs);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /**
   * Resolves once a meta leader is elected (a node logs that it leads), and
   * every running node has logged it or 5 s more have passed: a node that
   * joined after the election has once been seen not to log it (once in
   * about 50 starts), and the streams' own checks (every replica current) are what
   * tests rely on anyway.
   */
  async waitForMetaLeader(timeoutMs = 20_000): Promise<void> {
    const running = this.nodes.filter((n) => n.running);
    const deadline = Date.now() + timeoutMs;
    while (!running.some((n) => META_LEADER.test(n.log))) {
      if (Date.now() > deadline) throw new Error(`no JetStream meta leader within ${timeoutMs} ms:\n${this.logs()}`);
      await Bun.sleep(20);
    }
    const all = Date.now() + 5000;
    while (Date.now() < all && !running.every((n) => META_LEADER.test(n.log))) await Bun.sleep(20);
  }

  /** The node called `name`. */
  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no node ${JSON.stringify(name)} in cluster ${this.name}`);
    return node;
  }

  /**
   * Starts a killed node again with its store (it rejoins the cluster and
   * catches up on its streams' replicas), and resolves once it is ready and
   * knows the meta leader.
   */
  async restart(name: string, timeoutMs = 20_000): Promise<void> {
    const node = this.node(name);
    if (node.running) return;
    node.launch();
    await node.waitForLog(/Server is ready/, timeoutMs);
    // Its own log (the others' may have rolled past their line), with the same tolerance as
    // waitForMetaLeader for a node that never says: only its death is an error here.
    await node.waitForLog(META_LEADER, 5000).catch((error: unknown) => {
      if (!node.running) throw error;
    });
  }

  /** Every node's client URL, `first`'s first (a client with `noRandomize` then connects to it). */
  urls(first?: string): string[] {
    const nodes = first === undefined ? this.nodes : [this.node(first), ...this.nodes.filter((n) => n.name !== first)];
    return nodes.map((n) => n.url);
  }

  /** Every node's recent output, for a failure message. */
  logs(): string {
    return this.nodes.map((n) => `--- ${n.name} ---\n${n.log.slice(-4000)}`).join("\n");
  }

  /** Kills every server (SIGKILL: the stores are thrown away anyway) and removes the directory. Idempotent. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill("SIGKILL")));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
