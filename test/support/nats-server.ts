/**
 * A real nats-server for tests: the Debian package's binary (`apt-get install
 * nats-server`), started with JetStream on a free loopback port and a store in
 * a temporary directory. Never a mock: the bridge's guarantees are the
 * server's (deduplication, expectations, file store), so only the server can
 * test them.
 */
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The nats-server binary, or null where it is not installed. */
// PATH first; then where Debian puts it (/usr/sbin is not on every PATH).
export const natsServerBinary: string | null = Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/local/sbin" });

/** Why NATS tests are skipped here, or null if they can run. */
export const natsSkipReason: string | null =
  natsServerBinary === null ? "nats-server is not installed (Debian: apt-get install -y nats-server); the NATS bridge tests are SKIPPED" : null;

/** A free TCP port on 127.0.0.1 (bound, read, and released: a tiny race, acceptable in tests). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** A nats-server process with JetStream; restartable on the same port and store. */
export class NatsServer {
  readonly port: number;
  readonly storeDir: string;
  private proc: Subprocess<"ignore", "ignore", "pipe"> | null = null;
  private log = "";

  private constructor(port: number, storeDir: string) {
    this.port = port;
    this.storeDir = storeDir;
  }

  /** Starts a server on a free port with a fresh store directory. */
  static async start(): Promise<NatsServer> {
    if (natsServerBinary === null) throw new Error(natsSkipReason!);
    const server = new NatsServer(freePort(), mkdtempSync(join(tmpdir(), "atomic-log-nats-")));
    await server.launch();
    return server;
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The running process's id, or null (for reading its CPU time from /proc in benchmarks). */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Starts the process and resolves when it logs that it is ready. */
  async launch(): Promise<void> {
    const proc = Bun.spawn([natsServerBinary!, "-js", "-sd", this.storeDir, "-a", "127.0.0.1", "-p", String(this.port)], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    this.proc = proc;
    this.log = "";
    // A test or bench that dies must not leave a server behind.
    process.once("exit", () => proc.kill("SIGKILL"));
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    const deadline = Date.now() + 10_000;
    let ready = false;
    // Keep reading stderr for the process's lifetime, so a chatty server never blocks on a full pipe.
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.log += decoder.decode(value);
        if (this.log.length > 1 << 16) this.log = this.log.slice(-(1 << 15));
      }
    })();
    void pump;
    while (!ready) {
      if (this.log.includes("Server is ready")) ready = true;
      else if (proc.exitCode !== null) throw new Error(`nats-server exited (${proc.exitCode}):\n${this.log}`);
      else if (Date.now() > deadline) throw new Error(`nats-server did not start within 10 s:\n${this.log}`);
      else await Bun.sleep(20);
    }
  }

  /** Kills the process (SIGKILL by default) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    this.proc = null;
    proc.kill(signal);
    await proc.exited;
  }

  /** Kills the server and removes its store. */
  async stop(): Promise<void> {
    await this.kill("SIGTERM");
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
