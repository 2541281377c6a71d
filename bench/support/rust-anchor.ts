/**
 * The Rust `atomic-log` crate (0.2.0) as a same-run anchor.
 *
 * The crate and a benchmark of the same 32-byte record live outside this
 * repository, in `../shared/anchors/rust-atomic-log/` (CI has `shared/` beside
 * the clone). Its `build.sh` builds the benchmark offline and prints the
 * binary's path. Nothing of it is copied or cached here: the build output goes
 * to `CARGO_TARGET_DIR`, a directory under the system temp dir (never inside
 * the repository or the read-only anchor directory).
 *
 * Every function returns either the figures of one run of the binary or the
 * reason the anchor is unavailable (no cargo, no script, a failed build, a
 * crash or a timeout), so benchmarks print "skipped: <reason>" and go on.
 *
 * Cases (the binary's own names; each prints `RESULT key=value ...` lines):
 * - `append N 1` / `append N 256`: one record at a time / `append_batch` of 256,
 *   into a log with retained 1<<20 and segments of 4096 (50M records in the
 *   anchor's README; the log's first 1M records land on fresh pages);
 * - `snapiter S chunks|iter`: for S seconds, a fresh snapshot of the full
 *   window (257 segments), every field of every record summed as f64;
 * - `refresh_cost`: idle `refresh()` (ns) and a fresh `snapshot()` of 257
 *   segments (µs);
 * - `readers R S chunks`: one writer thread and R threads that re-read whole
 *   snapshots for S seconds;
 * - `latency N refresh|fresh G`: append -> seen by a spinning reader thread
 *   (refreshing one snapshot, or taking fresh ones), rdtsc-timed, threads
 *   pinned. The anchor README's `latency N spin 0` names no mode the binary
 *   knows: its reader never acknowledges and the run hangs, so only
 *   `refresh` and `fresh` are offered here;
 * - `latency_raw N G`: the same ping-pong over a bare AtomicU64 (the floor).
 */
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

/** The repository root (bench/support/../..). */
const repoRoot = resolve(import.meta.dir, "../..");

/** Where the anchor lives: `RUST_ANCHOR_DIR`, else `<repo>/../shared/anchors/rust-atomic-log`. */
export const ANCHOR_DIR = resolve(process.env.RUST_ANCHOR_DIR ?? join(repoRoot, "../shared/anchors/rust-atomic-log"));

/**
 * Which build: "script" is build.sh's own (the anchor's Cargo.toml release
 * profile: opt-level 3, thin LTO, one codegen unit); "plain" is the same
 * crate built with cargo's default release profile (no LTO, 16 codegen units),
 * which measured faster for one-at-a-time appends (the anchor README: 170–179
 * against 129.5 M/s). Both are built by build.sh, "plain" with
 * CARGO_PROFILE_RELEASE_* overrides and its own target directory.
 */
export type AnchorBuild = "script" | "plain";

/** The anchor binary, or why there is none. */
export type Anchor = { ok: true; bin: string; build: string } | { ok: false; reason: string };

/** Figures of one run: every `key=value` of its `RESULT` line (first occurrence of a key wins). */
export type RustRun = { ok: true; values: Record<string, number | string>; line: string; output: string } | { ok: false; reason: string };

const anchors: Partial<Record<AnchorBuild, Anchor>> = {};

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
}

/** Target directory for cargo: `CARGO_TARGET_DIR` if it is outside the repository and the anchor, else the temp dir. */
function targetDir(build: AnchorBuild): string {
  const fallback = join(tmpdir(), build === "plain" ? "rust-atomic-log-target-plain" : "rust-atomic-log-target");
  if (build === "plain") return fallback;
  const wanted = process.env.CARGO_TARGET_DIR;
  if (wanted === undefined || wanted === "") return fallback;
  const abs = resolve(wanted);
  return inside(repoRoot, abs) || inside(ANCHOR_DIR, abs) ? fallback : abs;
}

/** "opt-level = 3, codegen-units = 1, lto = thin": the release profile the anchor is built with. */
function describeProfile(): string {
  try {
    const toml = readFileSync(join(ANCHOR_DIR, "bench/Cargo.toml"), "utf8");
    const section = toml.split(/^\[profile\.release\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
    const settings = section
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    return settings.length > 0 ? `release profile: ${settings.join(", ")}` : "release profile: cargo defaults";
  } catch {
    return "release profile: unknown";
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

/**
 * Builds the anchor once per process (build.sh; a warm build takes well under
 * a second) and returns the binary's path, or why it is unavailable.
 */
export function rustAnchor(build: AnchorBuild = "script"): Anchor {
  return (anchors[build] ??= buildAnchor(build));
}

function buildAnchor(build: AnchorBuild): Anchor {
  if (process.env.BENCH_NO_RUST === "1") return { ok: false, reason: "BENCH_NO_RUST=1" };
  const script = join(ANCHOR_DIR, "build.sh");
  if (!existsSync(script)) return { ok: false, reason: `no anchor build script at ${script}` };
  if (Bun.which("cargo") === null) return { ok: false, reason: "cargo is not installed" };
  const plain = build === "plain" ? { CARGO_PROFILE_RELEASE_LTO: "false", CARGO_PROFILE_RELEASE_CODEGEN_UNITS: "16", CARGO_PROFILE_RELEASE_OPT_LEVEL: "3" } : {};
  const proc = Bun.spawnSync(["bash", script], {
    env: { ...process.env, ...plain, CARGO_TARGET_DIR: targetDir(build) },
    stdout: "pipe",
    stderr: "pipe",
    timeout: 15 * 60_000,
  });
  if (proc.exitCode !== 0) {
    const why = lastLine(proc.stderr.toString()) || `exit code ${proc.exitCode ?? proc.signalCode}`;
    return { ok: false, reason: `build.sh failed: ${why}` };
  }
  const bin = lastLine(proc.stdout.toString());
  if (bin === "" || !existsSync(bin)) return { ok: false, reason: `build.sh printed no binary (${JSON.stringify(bin)})` };
  if (inside(repoRoot, bin)) return { ok: false, reason: `build.sh put the binary inside the repository (${bin})` };
  return { ok: true, bin, build: build === "plain" ? "cargo's default release profile: opt-level 3, no LTO, 16 codegen units" : describeProfile() };
}

/** Parses the `key=value` pairs of a `RESULT` line; numbers become numbers. */
export function parseResult(line: string): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const m of line.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=([^\s|()]+)/g)) {
    const key = m[1]!;
    if (key in out) continue;
    const n = Number(m[2]);
    out[key] = Number.isFinite(n) ? n : m[2]!;
  }
  return out;
}

/**
 * Runs the anchor binary with `args` and returns its first `RESULT` line's
 * figures, or why there are none. Kills the run after `timeoutMs`.
 */
export function runRust(args: (string | number)[], timeoutMs = 60_000, build: AnchorBuild = "script"): RustRun {
  const a = rustAnchor(build);
  if (!a.ok) return a;
  const argv = args.map(String);
  const proc = Bun.spawnSync([a.bin, ...argv], { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  const output = proc.stdout.toString();
  const line = output.split("\n").find((l) => l.startsWith("RESULT "));
  if (proc.exitCode !== 0 || line === undefined) {
    const why = proc.signalCode ? `killed by ${proc.signalCode} (timeout ${timeoutMs} ms?)` : `exit code ${proc.exitCode}`;
    const err = lastLine(proc.stderr.toString());
    return { ok: false, reason: `al-bench ${argv.join(" ")}: ${why}${err ? `: ${err}` : ""}` };
  }
  return { ok: true, values: parseResult(line.slice("RESULT ".length)), line, output };
}

/** A number from a run, or NaN (for a skipped run or a missing key). */
export function num(run: RustRun, key: string): number {
  if (!run.ok) return NaN;
  const v = run.values[key];
  return typeof v === "number" ? v : NaN;
}

/** `append n batch`: M records/s (rate_Mps). */
export function rustAppend(n: number, batch: 1 | 256, build: AnchorBuild = "script"): RustRun {
  return runRust(["append", n, batch], 120_000, build);
}

/** `snapiter secs mode`: M records/s over fresh snapshots of the full window (rate_Mps). */
export function rustSnapIter(secs: number, mode: "chunks" | "iter"): RustRun {
  return runRust(["snapiter", secs, mode], 60_000 + secs * 2000);
}

/** `refresh_cost`: idle_refresh_ns and fresh_snapshot_us (257 segments). */
export function rustRefreshCost(): RustRun {
  return runRust(["refresh_cost"], 120_000);
}

/** `readers r secs chunks`: writer_Mps, reader_recs_Mps_total (re-reads of whole snapshots), snaps_per_s_total. */
export function rustReaders(readers: number, secs: number, mode: "chunks" | "iter" = "chunks"): RustRun {
  return runRust(["readers", readers, secs, mode], 60_000 + secs * 4000);
}

/** `latency n mode gap`: p50, p90, p99, p999 in ns (one-way append -> seen, spinning reader). */
export function rustLatency(n: number, mode: "refresh" | "fresh", gapNs = 0): RustRun {
  return runRust(["latency", n, mode, gapNs], 120_000);
}

/** `latency_raw n gap`: p50, p99 in ns of a bare AtomicU64 ping-pong (the platform floor). */
export function rustLatencyRaw(n: number, gapNs = 0): RustRun {
  return runRust(["latency_raw", n, gapNs], 60_000);
}

/** One line describing the anchor (the build.sh build, or `build`) for result headers. */
export function anchorDescription(build: AnchorBuild = "script"): string {
  const a = rustAnchor(build);
  if (!a.ok) return `Rust anchor${build === "plain" ? " (plain build)" : ""} skipped: ${a.reason}`;
  let rustc = "";
  const v = Bun.spawnSync(["rustc", "--version"], { stdout: "pipe", stderr: "pipe" });
  if (v.exitCode === 0) rustc = `, ${v.stdout.toString().trim()}`;
  return `Rust anchor${build === "plain" ? " (plain build)" : ""}: atomic-log 0.2.0 benchmark (${ANCHOR_DIR}), built by build.sh (${a.build}${rustc}) at ${a.bin}`;
}
