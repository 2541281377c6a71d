/**
 * A benchmark child process driven round by round over stdin/stdout, so a
 * case that needs its own process (its own JIT profiles) can still be
 * interleaved, round by round, with the parent's cases and the Rust anchor.
 * While one process measures, the others wait on a pipe and use no CPU.
 *
 * Protocol: the parent writes one line per request; the child answers each
 * with one JSON line on stdout (and writes nothing else there).
 */

/** Parent side: one child process and its stdout, split into lines. */
export class RoundChild {
  private readonly proc: Bun.Subprocess<"pipe", "pipe", "inherit">;
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  private readonly decoder = new TextDecoder();
  private buffered = "";

  constructor(
    readonly name: string,
    argv: string[],
  ) {
    this.proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit", env: process.env });
    this.reader = this.proc.stdout.getReader();
  }

  /** The next line the child prints; throws if it exits first or takes longer than `timeoutMs`. */
  async line(timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const nl = this.buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`child ${this.name}: no answer within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`child ${this.name}: no answer within ${timeoutMs} ms`)), left);
      });
      try {
        const { value, done } = await Promise.race([this.reader.read(), timeout]);
        if (done) throw new Error(`child ${this.name} exited (code ${await this.proc.exited})`);
        this.buffered += this.decoder.decode(value, { stream: true });
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Sends `request` and parses the child's JSON answer. */
  async ask<T>(request: string, timeoutMs = 120_000): Promise<T> {
    this.proc.stdin.write(`${request}\n`);
    this.proc.stdin.flush();
    return JSON.parse(await this.line(timeoutMs)) as T;
  }

  /** Asks the child to exit and waits for it (kills it if it does not exit within 10 s). */
  async close(): Promise<void> {
    try {
      this.proc.stdin.write("exit\n");
      this.proc.stdin.end();
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.proc.kill(), 10_000);
    await this.proc.exited;
    clearTimeout(timer);
  }
}

/**
 * Child side: answers each stdin line with `JSON.stringify(await handle(line))`
 * on stdout, until "exit" or the end of stdin.
 */
export async function serveRounds(handle: (request: string) => unknown): Promise<void> {
  console.log(JSON.stringify({ ready: true }));
  for await (const raw of console) {
    const request = raw.trim();
    if (request === "") continue;
    if (request === "exit") break;
    console.log(JSON.stringify(await handle(request)));
  }
}
