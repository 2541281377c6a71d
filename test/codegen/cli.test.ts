/**
 * The command line: usage errors, help, --check, the `atomic-log codegen` bin,
 * and writing only what changed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, parseArgs } from "../../codegen/cli.ts";

const ROOT = join(import.meta.dir, "../..");
const tmp = mkdtempSync(join(tmpdir(), "atomic-log-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `main` in-process and captures what it prints. */
function run(argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const code = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    process.chdir(cwd);
  }
}

describe("usage", () => {
  test("bad usage exits 2 with the usage text", () => {
    for (const argv of [[], ["schemas"], ["--out", "x"], ["a", "b", "--out", "x"], ["schemas", "--out"], ["schemas", "--out", "x", "--bogus"]]) {
      const r = run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toContain("Usage: atomic-log codegen <schemas dir> --out <dir>");
    }
  });

  test("a missing schemas dir exits 2", () => {
    const r = run(["no-such-dir", "--out", join(tmp, "x")]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("schemas dir not found: no-such-dir");
  });

  test("--help exits 0; --out=dir and --runtime=spec forms parse", () => {
    expect(run(["--help"]).code).toBe(0);
    expect(parseArgs(["s", "--out=o", "--runtime=r"])).toEqual({ schemasDir: "s", outDir: "o", runtime: "r", check: false });
    expect(parseArgs(["s", "--out", "o"])).toEqual({ schemasDir: "s", outDir: "o", runtime: "atomic-log/runtime", check: false });
  });
});

describe("writing", () => {
  test("writes modules, then leaves unchanged files alone; --check reports stale output", () => {
    const out = join(tmp, "gen");
    const first = run(["schemas", "--out", out]);
    expect(first.code).toBe(0);
    const file = join(out, "market.ts");
    expect(readFileSync(file, "utf8")).toContain('from "atomic-log/runtime"');
    utimesSync(file, new Date(0), new Date(0));
    const second = run(["schemas", "--out", out]);
    expect(second.out).toContain("0 written, 1 unchanged");
    expect(statSync(file).mtimeMs).toBe(0);
    expect(run(["schemas", "--out", out, "--check"]).code).toBe(0);
    writeFileSync(file, "// stale\n");
    const check = run(["schemas", "--out", out, "--check"]);
    expect(check.code).toBe(1);
    expect(check.err).toContain(`stale: ${file}`);
    expect(readFileSync(file, "utf8")).toBe("// stale\n");
  });

  test("the bin runs `atomic-log codegen ...` and rejects unknown commands with exit 2", () => {
    const schemas = join(tmp, "user-schemas");
    cpSync(join(ROOT, "test/fixtures/schemas"), schemas, { recursive: true });
    const ok = Bun.spawnSync([process.execPath, join(ROOT, "codegen/bin.ts"), "codegen", schemas, "--out", join(tmp, "user-out")]);
    expect(ok.exitCode).toBe(0);
    expect(readFileSync(join(tmp, "user-out/all-types.ts"), "utf8")).toContain('import { Color, Delta } from "../user-schemas/all-types.ts";');
    const bad = Bun.spawnSync([process.execPath, join(ROOT, "codegen/bin.ts"), "generate"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("unknown command generate");
    expect(readFileSync(join(ROOT, "codegen/bin.ts"), "utf8").startsWith("#!/usr/bin/env bun\n")).toBe(true);
  }, 30_000);
});
