/**
 * Main-thread side of the benchmark protocol: starts the workers of one
 * phase, waits for their replies with timeouts, and terminates them all
 * however the phase ends. A worker error, an unexpected exit or a missing
 * reply fails the phase with a message naming the worker.
 *
 * Under Bun the workers are web `Worker`s running the TypeScript files; under
 * Node.js (bench/workers/node-main.ts, bundled by bench/support/node-workers.ts)
 * they are `node:worker_threads` workers running the bundled `.js` beside this
 * module's bundle.
 */
import { Worker as NodeWorker } from "node:worker_threads";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** What the crew uses of a worker, on either runtime. */
interface BenchWorker {
  postMessage(message: unknown, transfer: Transfer): void;
  terminate(): unknown;
}

/** What `postMessage` accepts as its transfer list. */
type Transfer = (ArrayBuffer | MessagePort)[];

/** One started worker and the replies it has sent that nobody has taken yet. */
export class Member {
  readonly worker: BenchWorker;
  private readonly inbox: any[] = [];
  private readonly waiters = new Set<() => void>();
  private failure: Error | null = null;

  constructor(
    readonly name: string,
    file: string,
  ) {
    const receive = (data: any) => {
      if (data?.type === "error") this.fail(new Error(`worker ${name} failed: ${data.message}`));
      else this.inbox.push(data);
      this.wakeAll();
    };
    if (isBun) {
      const worker = new Worker(new URL(file, import.meta.url).href);
      worker.onmessage = (e: MessageEvent) => receive(e.data);
      worker.onerror = (e: ErrorEvent) => this.fail(new Error(`worker ${name} threw: ${e.message}`));
      worker.addEventListener("close", () => this.fail(new Error(`worker ${name} exited`)));
      this.worker = worker as unknown as BenchWorker;
    } else {
      const worker = new NodeWorker(new URL(file.replace(/\.ts$/, ".js"), import.meta.url));
      worker.on("message", receive);
      worker.on("error", (e: Error) => this.fail(new Error(`worker ${name} threw: ${e.message}`)));
      worker.on("exit", () => this.fail(new Error(`worker ${name} exited`)));
      this.worker = worker as unknown as BenchWorker;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const w of this.waiters) w();
  }

  /** Posts `msg` (with `transfer`) to the worker. */
  send(msg: object, transfer: Transfer = []): void {
    this.worker.postMessage(msg, transfer);
  }

  /** The next reply of `type`; rejects on a worker failure or after `timeoutMs`. */
  async next(type: string, timeoutMs: number): Promise<any> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m?.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.failure) throw this.failure;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`worker ${this.name}: no "${type}" reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Sends `msg` and waits for its `<type>:done` reply. */
  async call<M extends { type: string }>(msg: M, timeoutMs: number, transfer: Transfer = []): Promise<any> {
    this.send(msg, transfer);
    return this.next(`${msg.type}:done`, timeoutMs);
  }
}

/** The workers of one phase. */
export class Crew {
  private readonly members: Member[] = [];

  constructor(readonly phase: string) {}

  /** Starts `file` (relative to bench/workers/) as a worker called `name`. */
  start(name: string, file: string): Member {
    const m = new Member(`${this.phase}/${name}`, file);
    this.members.push(m);
    return m;
  }

  /** Terminates every worker of the phase. Safe to call more than once. */
  terminate(): void {
    for (const m of this.members) m.worker.terminate();
    this.members.length = 0;
  }
}

/**
 * Runs `body` with a fresh crew and always terminates its workers, also when
 * `body` throws or exceeds `budgetMs` (then the phase fails with a timeout).
 */
export async function withCrew<T>(phase: string, budgetMs: number, body: (crew: Crew) => Promise<T>): Promise<T> {
  const crew = new Crew(phase);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`phase ${phase} exceeded its ${budgetMs} ms budget`)), budgetMs);
  });
  try {
    return await Promise.race([body(crew), overrun]);
  } finally {
    clearTimeout(timer);
    crew.terminate();
  }
}
