/**
 * `--watch`: regenerate whenever a schema file in the schemas dir changes, appears or goes away.
 *
 * It watches the directory (not each file) with `node:fs` `watch`, because editors save by
 * writing a new file and renaming it over the old one, which a per-file watch loses, and
 * because added and removed schemas must trigger a run too. Events arrive in bursts (one save
 * is often a change, a rename and another change), so runs are debounced: one run starts
 * {@link WatchOptions.debounceMs} after the last event. A run that finds bad schemas prints
 * them as usual and the watcher keeps going; the next save runs again. SIGINT (Ctrl-C) and
 * SIGTERM stop it cleanly with exit code 0.
 */
import { existsSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";

/** Default quiet time after the last file event before a run starts. */
export const DEFAULT_DEBOUNCE_MS = 50;

/** Options of {@link watchSchemas}. */
export interface WatchOptions {
  /** The directory to watch (the schemas dir). */
  readonly dir: string;
  /** One generator run; returns its exit code (printed problems are its business; 2 = bad usage). */
  readonly run: () => number;
  /** Where the watcher's own messages go. */
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Quiet time before a run; {@link DEFAULT_DEBOUNCE_MS} by default. */
  readonly debounceMs?: number;
  /** Signals that stop the watcher; SIGINT and SIGTERM by default (tests pass none). */
  readonly signals?: readonly NodeJS.Signals[];
}

/** A running watcher. */
export interface Watcher {
  /** Stops watching; `done` then resolves with 0. Safe to call twice. */
  close(): void;
  /** Resolves with the exit code once the watcher stops (0 when closed or signalled, 2 on bad usage, 1 if watching failed). */
  readonly done: Promise<number>;
}

/** Whether a changed file name can affect the output: a schema (`*.ts`, not `.d.ts`), or unknown. */
function isSchemaEvent(filename: string | Buffer | null): boolean {
  // Some platforms report no file name; then anything may have changed.
  if (filename === null) return true;
  const name = filename.toString();
  return name.endsWith(".ts") && !name.endsWith(".d.ts");
}

/**
 * Runs the generator once, then again after every burst of schema changes in `dir`, until
 * closed or signalled. A first run that returns 2 (bad usage) stops it at once with 2. A later
 * run that fails or throws (say, the schemas dir was deleted) is printed and does not stop
 * the watcher; an error of the watch itself does (exit 1).
 */
export function watchSchemas(options: WatchOptions): Watcher {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const runSafely = (): number => {
    try {
      return options.run();
    } catch (error) {
      options.err(`atomic-log codegen: ${(error as Error).message}`);
      return 1;
    }
  };

  // The watch starts before the first run, so a save during that run still triggers another.
  let watcher: FSWatcher;
  try {
    watcher = watch(options.dir, { persistent: true }, (_event, filename) => {
      if (closed) return;
      // A watch on a deleted directory never fires again: say so and stop, rather than go quiet.
      if (!existsSync(options.dir)) {
        options.err(`atomic-log codegen: ${options.dir} is gone; stopped watching`);
        stop(1);
        return;
      }
      if (!isSchemaEvent(filename)) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        if (!closed) runSafely();
      }, debounceMs);
    });
  } catch (error) {
    options.err(`atomic-log codegen: cannot watch ${options.dir}: ${(error as Error).message}`);
    return { close() {}, done: Promise.resolve(2) };
  }

  const stop = (code: number): void => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
    for (const signal of signals) process.off(signal, onSignal);
    resolveDone(code);
  };
  function onSignal(): void {
    options.out("atomic-log codegen: stopped watching");
    stop(0);
  }
  // Bad usage (exit 2: --out naming the schemas dir, a hand-written file in the way) will not
  // fix itself on the next save, so it ends the watch; bad schemas (exit 1) are what watching is for.
  if (runSafely() === 2) {
    stop(2);
    return { close: () => stop(0), done };
  }
  watcher.on("error", (error) => {
    options.err(`atomic-log codegen: watching ${options.dir} failed: ${error.message}`);
    stop(1);
  });
  for (const signal of signals) process.on(signal, onSignal);
  options.out(`atomic-log codegen: watching ${options.dir} for changes (Ctrl-C to stop)`);
  return { close: () => stop(0), done };
}
