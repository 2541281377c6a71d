/**
 * Private networks of Linux network namespaces for tests, built with `ip`
 * (iproute2): a hub namespace holding a bridge device, and one namespace per
 * host, each joined to the bridge by a veth pair and given one address in a
 * /24 of 10.0.0.0/8. Everything (namespaces, the bridge, both ends of every
 * veth, the addresses) is created *inside* the namespaces, never in the
 * namespace the tests run in, so nothing here can collide with the machine's
 * own interfaces or routes, and deleting the namespaces removes it all.
 *
 * Why namespaces: a cluster test has to kill one server of three and see
 * clients fail over to the others, each over its own network stack, with the
 * ports every real deployment uses (4222, 6222) on every host.
 *
 * Names are `al-<pid>-<random>-<host>`: unique per run, so a namespace leaked
 * by a run that was killed never breaks the next one; {@link sweepStaleNetworks}
 * removes those whose creating process is gone.
 */
import { randomBytes } from "node:crypto";

/** The `ip` binary, or null where iproute2 is not installed. */
// PATH first; then where Debian puts it (/usr/sbin is not on every PATH).
export const ipBinary: string | null = Bun.which("ip") ?? Bun.which("ip", { PATH: "/usr/sbin:/sbin:/usr/bin:/bin" });

/** Our namespaces' names: `al-<pid>-<6 hex>-<host>`. */
const NAME = /^al-(\d+)-([0-9a-f]{6})-([a-z0-9]+)$/;

/** Runs `ip <args>`; throws with the command and its stderr if it fails. */
function ip(...args: string[]): string {
  const run = Bun.spawnSync([ipBinary!, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) {
    throw new Error(`\`ip ${args.join(" ")}\` failed (exit ${run.exitCode}): ${run.stderr.toString().trim() || "(no message)"}`);
  }
  return run.stdout.toString();
}

/** Runs `ip <args>`, ignoring any failure (for cleanup, where the thing may be gone already). */
function ipQuiet(...args: string[]): void {
  if (ipBinary !== null) Bun.spawnSync([ipBinary, ...args], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
}

/** Names of all network namespaces (`ip netns list` prints `name (id: N)`). */
function listNamespaces(): string[] {
  return ip("netns", "list")
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name.length > 0);
}

/** Kills every process inside a namespace (SIGKILL), then deletes it: its veths and bridge go with it. */
function deleteNamespace(ns: string): void {
  if (ipBinary === null) return;
  const pids = Bun.spawnSync([ipBinary, "netns", "pids", ns], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  for (const pid of pids.stdout.toString().split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  ipQuiet("netns", "del", ns);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the namespaces (and the processes still in them, e.g. nats-servers)
 * left by runs whose process is gone: a test killed before its cleanup ran.
 * Only names of our pattern whose creator's pid is dead are touched, so
 * concurrent runs are left alone. Returns the names removed.
 */
export function sweepStaleNetworks(): string[] {
  if (ipBinary === null) return [];
  let names: string[];
  try {
    names = listNamespaces();
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (m === null || alive(Number(m[1]))) continue;
    deleteNamespace(name);
    removed.push(name);
  }
  return removed;
}

let probed: string | null | undefined;

/**
 * Why network-namespace tests cannot run here, or null if they can. Tries,
 * once per process, exactly what {@link Network.create} does (as root, with
 * `ip`): add two namespaces, a bridge, a veth pair, an address, and deletes
 * them. The reason names the step that failed and its error, e.g. `ip netns
 * add` refused in an unprivileged container.
 */
export function netnsSkipReason(): string | null {
  if (probed !== undefined) return probed;
  probed = probe();
  return probed;
}

function probe(): string | null {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  if (ipBinary === null) return "`ip` (iproute2) is not installed (Debian: apt-get install -y iproute2)";
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return `creating network namespaces needs root (uid is ${uid})`;
  try {
    const net = Network.create(["a"]);
    net.destroy();
    return null;
  } catch (error) {
    return `could not build a test network: ${(error as Error).message}`;
  }
}

/** One host of a {@link Network}: its namespace and its address. */
export interface Host {
  /** The name given to {@link Network.create}. */
  name: string;
  /** The network namespace's name (`ip netns exec <ns> ...`). */
  ns: string;
  /** Its IPv4 address on the network. */
  address: string;
}

/**
 * A private network: a hub namespace with a bridge, and one namespace per
 * host joined to it, all under one unique prefix. Create with
 * {@link Network.create}; always {@link Network.destroy} (it is also done at
 * process exit, and by {@link sweepStaleNetworks} after a killed run).
 */
export class Network {
  /** `al-<pid>-<random>`: every namespace of this network starts with it. */
  readonly prefix: string;
  /** The /24 the hosts' addresses are in, e.g. `10.83.17.0/24`. */
  readonly subnet: string;
  private readonly hostsByName = new Map<string, Host>();
  private readonly namespaces: string[] = [];
  private destroyed = false;
  private readonly onExit = () => this.destroy();

  private constructor(prefix: string, subnet: string) {
    this.prefix = prefix;
    this.subnet = subnet;
  }

  /**
   * Builds a network with one namespace per host name (lower-case letters and
   * digits), addresses .1, .2, ... in a random 10.x.y.0/24, `lo` up in each.
   * On any failure, removes whatever it had built and throws the failing
   * `ip` command with its error.
   */
  static create(hostNames: string[]): Network {
    if (ipBinary === null) throw new Error("`ip` (iproute2) is not installed");
    const rand = randomBytes(4);
    const prefix = `al-${process.pid}-${rand.toString("hex").slice(0, 6)}`;
    // A random /24: addresses live only inside the namespaces, so the choice cannot clash with
    // the machine's; random only so two networks never look alike in a debugging session.
    const base = `10.${rand[2]! % 250 + 1}.${rand[3]!}`;
    const net = new Network(prefix, `${base}.0/24`);
    process.once("exit", net.onExit);
    try {
      const hub = net.addNamespace("hub");
      ip("-n", hub, "link", "add", "br0", "type", "bridge");
      ip("-n", hub, "link", "set", "br0", "up");
      hostNames.forEach((name, i) => {
        if (!/^[a-z0-9]{1,8}$/.test(name) || name === "hub" || net.hostsByName.has(name)) throw new Error(`bad or repeated host name ${JSON.stringify(name)}`);
        const ns = net.addNamespace(name);
        const address = `${base}.${i + 1}`;
        // Both ends are created inside namespaces (the hub end named after the host, the host
        // end eth0), so no interface name ever appears in the namespace the tests run in.
        ip("-n", hub, "link", "add", `v-${name}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
        ip("-n", hub, "link", "set", `v-${name}`, "master", "br0", "up");
        ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
        ip("-n", ns, "link", "set", "eth0", "up");
        // Servers and clients inside also talk to themselves over loopback.
        ip("-n", ns, "link", "set", "lo", "up");
        net.hostsByName.set(name, { name, ns, address });
      });
      return net;
    } catch (error) {
      net.destroy();
      throw error;
    }
  }

  private addNamespace(name: string): string {
    const ns = `${this.prefix}-${name}`;
    ip("netns", "add", ns);
    this.namespaces.push(ns);
    return ns;
  }

  /** The host called `name`. */
  host(name: string): Host {
    const host = this.hostsByName.get(name);
    if (host === undefined) throw new Error(`no host ${JSON.stringify(name)} in network ${this.prefix}`);
    return host;
  }

  /** The hosts, in the order given to {@link Network.create}. */
  get hosts(): Host[] {
    return [...this.hostsByName.values()];
  }

  /**
   * The command line that runs `argv` inside host `name`'s namespace. `ip
   * netns exec` execs the program in place, so the spawned process's pid is
   * the program's own, and signals sent to it (SIGKILL) reach the program.
   */
  command(name: string, argv: string[]): string[] {
    return [ipBinary!, "netns", "exec", this.host(name).ns, ...argv];
  }

  /**
   * Kills every process left in the network's namespaces and deletes them
   * (veths and the bridge go with them). Synchronous, so it also runs at
   * process exit; idempotent.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener("exit", this.onExit);
    // Hosts first, hub last: deleting a host's namespace removes its veth pair from the hub.
    for (const ns of [...this.namespaces].reverse()) deleteNamespace(ns);
  }

  /** Whether every namespace of this network is gone (for tests of the cleanup). */
  isGone(): boolean {
    const names = new Set(listNamespaces());
    return this.namespaces.every((ns) => !names.has(ns));
  }
}
