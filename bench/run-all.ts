/**
 * `bun run bench`: runs every `bench/*.bench.ts` in its own process, one after
 * another (so benchmarks never compete for the CPU), and writes the whole run,
 * with its date and machine, to bench/results/latest.md (a quick run,
 * BENCH_QUICK=1, writes bench/results/latest.quick.md.tmp instead, which is
 * not committed). Exits non-zero if any benchmark crashed.
 *
 * The header says how noisy the machine was: the CPU time that other
 * processes used during the run (from /proc/stat, minus this run's own), and
 * the hypervisor's steal time.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { anchorDescription } from "./support/rust-anchor.ts";

const dir = import.meta.dir;
const quick = process.env.BENCH_QUICK === "1";
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .sort();
const scratch = mkdtempSync(join(tmpdir(), "atomic-log-bench-"));

/** Jiffies from the first line of /proc/stat: busy (not idle or iowait), steal, total; undefined off Linux. */
function cpuJiffies(): { busy: number; steal: number; total: number } | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    return { busy: total - idle - iowait - steal, steal, total };
  } catch {
    return undefined;
  }
}
function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) return line.split(":")[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}
function text(cmd: string[]): string {
  try {
    const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return p.exitCode === 0 ? p.stdout.toString().trim() : "";
  } catch {
    return "";
  }
}
const loadavg = () => {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
};

const started = new Date();
const load0 = loadavg();
const cpu0 = cpuJiffies();
const t0 = performance.now();
let ownCpuUs = 0;
let failed = 0;
const sections: string[] = [];
const timings: string[] = [];
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const md = join(scratch, `${file}.md`);
  const t = performance.now();
  const proc = Bun.spawnSync([process.execPath, join(dir, file)], { stdout: "inherit", stderr: "inherit", env: { ...process.env, BENCH_MARKDOWN: md } });
  const secs = (performance.now() - t) / 1000;
  // Microseconds, children included (the Rust runs are waited-for grandchildren; workers are threads).
  ownCpuUs += Number(proc.resourceUsage?.cpuTime.user ?? 0n) + Number(proc.resourceUsage?.cpuTime.system ?? 0n);
  timings.push(`${file} ${secs.toFixed(0)} s`);
  let body = "";
  try {
    body = readFileSync(md, "utf8");
  } catch {
    body = "(no tables written)";
  }
  if (proc.exitCode !== 0) {
    failed++;
    console.error(`${file} exited with ${proc.exitCode}`);
    body = `**exited with ${proc.exitCode ?? proc.signalCode}**\n\n${body}`;
  }
  sections.push(`## ${file}\n\n${body.trim()}\n`);
}
const wall = (performance.now() - t0) / 1000;
const cpu1 = cpuJiffies();
const load1 = loadavg();

const nproc = navigator.hardwareConcurrency;
let noise = "CPU accounting unavailable";
if (cpu0 && cpu1) {
  const hz = 100; // USER_HZ
  const capacity = cpu1.total - cpu0.total;
  const others = Math.max(0, cpu1.busy - cpu0.busy - (ownCpuUs / 1e6) * hz);
  const steal = cpu1.steal - cpu0.steal;
  noise = `other processes used ${((100 * others) / capacity).toFixed(1)}% of the machine's CPU time during the run (${(others / hz).toFixed(0)} CPU-s of ${(capacity / hz).toFixed(0)}); hypervisor steal ${((100 * steal) / capacity).toFixed(1)}%`;
}
const header = [
  `# Benchmark run (\`bun run bench\`${quick ? ", BENCH_QUICK=1" : ""})`,
  ``,
  `- date: ${started.toISOString()}`,
  `- machine: ${nproc} vCPUs (nproc), ${cpuModel()}; ${text(["uname", "-sr"]) || process.platform}`,
  `- Bun ${Bun.version}; Node.js ${text(["node", "--version"]).replace(/^v/, "") || "not found"} (the Node rows of workers.bench.ts)`,
  `- ${anchorDescription()}`,
  `- ${anchorDescription("plain")}`,
  `- git: ${text(["git", "-C", dir, "rev-parse", "--short", "HEAD"]) || "n/a"}${text(["git", "-C", dir, "status", "--porcelain", "--", "src", "bench"]) ? " (with uncommitted changes)" : ""}`,
  `- duration: ${wall.toFixed(0)} s (${timings.join(", ")})`,
  `- load average before / after: ${load0} / ${load1}`,
  `- noise: ${noise}`,
  ``,
  `Every ratio compares a case with a baseline measured in the same run, round by round; the tables give the median and the min–max over rounds. Absolute figures drift between runs on this machine class (up to 3x): compare ratios.`,
  ``,
].join("\n");

const out = join(dir, "results", quick ? "latest.quick.md.tmp" : "latest.md");
writeFileSync(out, `${header}\n${sections.join("\n")}`);
rmSync(scratch, { recursive: true, force: true });
console.log(`\nwrote ${out} (${wall.toFixed(0)} s; ${noise})`);
process.exit(failed === 0 ? 0 : 1);
