/**
 * The packages as users get them: builds and `npm pack`s `atomic-log` and `atomic-log-codegen`,
 * checks what the tarballs contain, installs both into a scratch project in a temp dir, generates
 * its records with the installed generator on plain Node.js (no Bun on the PATH), type-checks it
 * with `tsc --strict --noUncheckedIndexedAccess` (declarations included), and runs it under
 * Node.js (compiled, `worker_threads`) and under Bun (the sources, through the `bun` condition).
 *
 * Installing needs the npm registry for ts-morph and @types/node (or npm's cache: installs use
 * --prefer-offline); if neither can serve them, the remaining steps print why they are skipped.
 * Needs `node` >= 20 and `npm` on the PATH, as CI has.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const FIXTURE = join(import.meta.dir, "fixtures/consumer");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const node = Bun.which("node");
const work = mkdtempSync(join(tmpdir(), "atomic-log-package-"));
const project = join(work, "consumer");

/**
 * The environment for every child: without npm's own variables (`npm test` sets npm_config_*,
 * e.g. a local prefix naming this repo, which would send the scratch install here), and with a
 * PATH holding only node's directory and the system's, so no Bun is found by accident.
 */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.toLowerCase().startsWith("npm_")) out[k] = v;
  out.PATH = [...new Set([dirname(node ?? "/usr/bin/node"), "/usr/bin", "/bin"])].join(":");
  return { ...out, ...extra };
}

/** Runs a command to completion (bounded), returning its exit code and output. */
function run(cmd: string[], cwd: string, timeoutMs = 60_000): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(cmd, { cwd, env: env(), stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** Fails with the command's output, so a broken step says what broke. */
function check(r: { code: number; out: string; err: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n${r.out}\n${r.err}`);
  return r.out;
}

/** Why the steps after install cannot run (printed, not failed), or null. */
let skipped: string | null = null;
const nodeMajor = node === null ? 0 : Number(check(run([node, "-p", "process.versions.node.split('.')[0]"], ROOT), "node -v").trim());
if (node === null || nodeMajor < 20) skipped = `needs node >= 20 on the PATH (found ${node ?? "none"}, major ${nodeMajor})`;

function skip(step: string): boolean {
  if (skipped === null) return false;
  console.log(`package test: skipped "${step}": ${skipped}`);
  return true;
}

interface PackEntry {
  filename: string;
  files: { path: string }[];
}

/** `npm pack --json` in the repo (with `-w` for the generator): the tarball's name and file list. */
function pack(args: string[]): PackEntry {
  const out = check(run(["npm", "pack", "--json", "--pack-destination", work, ...args], ROOT, 90_000), `npm pack ${args.join(" ")}`);
  const entries = JSON.parse(out.slice(out.indexOf("["))) as PackEntry[];
  return entries[0]!;
}

const packed: { runtime?: PackEntry; codegen?: PackEntry } = {};

// PACKAGE_TEST_KEEP=1 keeps the tarballs and the scratch project to look at.
afterAll(() => {
  if (process.env.PACKAGE_TEST_KEEP) console.log(`package test: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

describe("the npm packages", () => {
  test("npm pack builds both packages and ships only what users need", () => {
    if (skip("pack")) return;
    // npm pack runs each package's prepack, which builds it (scripts/build.ts).
    packed.runtime = pack([]);
    packed.codegen = pack(["-w", "atomic-log-codegen"]);
    const runtimeFiles = packed.runtime.files.map((f) => f.path).sort();
    const codegenFiles = packed.codegen.files.map((f) => f.path).sort();

    // Runtime: compiled output, the sources Bun loads, and the package's documents. No tests,
    // benches, fixtures, examples, schemas, generator or this repo's generated views.
    const allowed = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/(?!generated\/).+\.ts)$/;
    expect(runtimeFiles.filter((f) => !allowed.test(f))).toEqual([]);
    for (const f of ["LICENSE", "CHANGELOG.md", "README.md", "dist/index.js", "dist/index.d.ts", "src/index.ts"]) expect(runtimeFiles).toContain(f);
    // Every target of the export map is in the tarball.
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      exports: Record<string, string | Record<string, string>>;
      dependencies?: object;
    };
    for (const target of Object.values(manifest.exports).flatMap((t) => (typeof t === "string" ? [t] : Object.values(t)))) {
      expect(runtimeFiles).toContain(target.replace(/^\.\//, ""));
    }
    expect(manifest.dependencies).toBeUndefined();

    // Generator: its compiled JavaScript and documents only.
    expect(codegenFiles.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/[a-z-]+\.js)$/.test(f))).toEqual([]);
    for (const f of ["LICENSE", "dist/bin.js", "dist/codegen-bin.js", "dist/cli.js"]) expect(codegenFiles).toContain(f);

    // `npm pack --dry-run` (without rebuilding) lists exactly what the real packs put in the tarballs.
    for (const [args, files] of [
      [[], runtimeFiles],
      [["-w", "atomic-log-codegen"], codegenFiles],
    ] as const) {
      const dry = check(run(["npm", "pack", "--dry-run", "--json", "--ignore-scripts", ...args], ROOT), "npm pack --dry-run");
      const listed = (JSON.parse(dry.slice(dry.indexOf("["))) as PackEntry[])[0]!.files.map((f) => f.path).sort();
      expect(listed).toEqual([...files]);
    }
  }, 120_000);

  test("both tarballs install into a scratch project, and the generator runs on plain Node.js", () => {
    if (skip("install")) return;
    cpSync(FIXTURE, project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
    // The @types/node this repo was tested with: npm's cache has it whenever the repo was installed.
    const typesNode = (JSON.parse(readFileSync(join(ROOT, "node_modules/@types/node/package.json"), "utf8")) as { version: string }).version;
    const install = run(
      ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", join(work, packed.runtime!.filename), join(work, packed.codegen!.filename), `@types/node@${typesNode}`],
      project,
      120_000,
    );
    if (install.code !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|network/i.test(install.err)) {
      skipped = `npm could not reach the registry: ${install.err.split("\n").find((l) => /ENOTFOUND|EAI_AGAIN|ECONN|ETIMEDOUT|ENETUNREACH|network/i.test(l))}`;
      skip("install");
      return;
    }
    check(install, "npm install <tarballs>");

    // The runtime package arrives with no dependencies of its own.
    const installed = JSON.parse(readFileSync(join(project, "node_modules/atomic-log/package.json"), "utf8")) as { dependencies?: object };
    expect(installed.dependencies).toBeUndefined();

    // No Bun on this PATH: the generator's bin (shebang node) must not need it.
    expect(run(["sh", "-c", "command -v bun || echo none"], project).out.trim()).toBe("none");
    const gen = check(run(["npx", "--no", "atomic-log-codegen", "schemas", "--out", "src/generated"], project), "atomic-log-codegen");
    expect(gen).toContain("wrote src/generated/tick.ts");
    expect(readFileSync(join(project, "src/generated/tick.ts"), "utf8")).toContain('from "atomic-log/runtime"');
    const checked = check(run(["npx", "--no", "atomic-log", "codegen", "schemas", "--out", "src/generated", "--check"], project), "atomic-log codegen --check");
    expect(checked).toContain("1 module(s) up to date");
  }, 120_000);

  test("the scratch project type-checks with tsc --strict --noUncheckedIndexedAccess", () => {
    if (skip("tsc")) return;
    // Node-style settings (NodeNext), emitting the JavaScript the Node run uses; then `bun init`'s.
    check(run([node!, TSC, "-p", "tsconfig.json"], project), "tsc -p tsconfig.json (NodeNext)");
    check(run([node!, TSC, "-p", "tsconfig.bun.json"], project), "tsc -p tsconfig.bun.json (bundler)");
    expect(existsSync(join(project, "out/src/main.js"))).toBe(true);
  }, 60_000);

  /** Checks what main.ts printed under one runtime. */
  function expectRun(out: string, runtime: "node" | "bun"): void {
    const r = JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(r.runtime).toBe(runtime);
    // Node loads the compiled dist/, Bun the sources through the "bun" export condition.
    expect(String(r.resolved)).toEndWith(runtime === "node" ? "/node_modules/atomic-log/dist/index.js" : "/node_modules/atomic-log/src/index.ts");
    expect(r.rows).toBe(100);
    expect(r.first).toEqual({ id: 0, volume: "0", venue: "v0" });
    expect(r.last).toEqual({ id: 99, volume: "297" });
    expect(r.releasedName).toBe("SnapshotReleasedError");
    expect(r.durable).toBe(runtime === "node" ? "UNSUPPORTED_PLATFORM" : "not tried");
    expect(r.messages).toEqual([
      { type: "caught-up", read: 100, sum: String(3 * ((99 * 100) / 2)) },
      { type: "woken", ready: true, late: [{ seq: 100, id: 1000, volume: String(2n ** 60n) }] },
    ]);
    expect(r.mainWoken).toBe(true);
    expect(r.late).toEqual({ id: 1000, volume: String(2n ** 60n), venue: "late" });
    expect(r.workerExit).toBe(0);
    // The main thread's cursor, plus the holder's until log.watch() recovers it on "exit".
    expect(r.pinsWhileHeld).toBe(2);
    expect(r.pinsAfterTerminate).toBe(1);
    expect(r.aloneWoken).toBe(true);
    expect(r.alone).toBe(1001);
    // The worker released its cursor, the main thread its cursor and writer.
    expect(r.pins).toBe(0);
    expect(r.nextSequence).toBe(102);
  }

  test("it runs under Node.js with worker_threads (no Bun on the PATH)", () => {
    if (skip("node run")) return;
    const r = run([node!, "out/src/main.js"], project, 30_000);
    expectRun(check(r, "node out/src/main.js"), "node");
  }, 60_000);

  test("it runs under Bun", () => {
    if (skip("bun run")) return;
    const r = run([process.execPath, "src/main.ts"], project, 30_000);
    expectRun(check(r, "bun src/main.ts"), "bun");
  }, 60_000);
});
