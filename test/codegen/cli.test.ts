/**
 * The command line: usage errors, help, --check, the `atomic-log codegen` bin,
 * writing only what changed, and refusing output that would overwrite schema
 * sources or other hand-written files.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
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
    // Only --watch returns a promise; these tests run it in a child process (watch.test.ts).
    if (typeof code !== "number") throw new Error("main() started watching in-process");
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
      expect(r.err).toContain("Usage: atomic-log-codegen <schemas dir> --out <dir>");
    }
  });

  test("a missing schemas dir exits 2", () => {
    const r = run(["no-such-dir", "--out", join(tmp, "x")]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("schemas dir not found: no-such-dir");
  });

  test("--help exits 0; --out=dir and --runtime=spec forms parse", () => {
    expect(run(["--help"]).code).toBe(0);
    const defaults = { check: false, clean: false, watch: false };
    expect(parseArgs(["s", "--out=o", "--runtime=r"])).toEqual({ schemasDir: "s", outDir: "o", runtime: "r", ...defaults });
    expect(parseArgs(["s", "--out", "o"])).toEqual({ schemasDir: "s", outDir: "o", runtime: "atomic-log/runtime", ...defaults });
    expect(parseArgs(["s", "--out", "o", "--clean", "--watch"])).toEqual({ schemasDir: "s", outDir: "o", runtime: "atomic-log/runtime", ...defaults, clean: true, watch: true });
  });

  test("--watch or --clean with --check is bad usage (exit 2), and nothing runs", () => {
    for (const [flag, message] of [
      ["--watch", "--watch and --check cannot be combined"],
      ["--clean", "--clean and --check cannot be combined"],
    ] as const) {
      const r = run(["schemas", "--out", join(tmp, "never"), "--check", flag]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`atomic-log codegen: ${message}`);
      expect(r.err).toContain("Usage: atomic-log-codegen <schemas dir> --out <dir>");
      expect(r.out).toBe("");
    }
    expect(existsSync(join(tmp, "never"))).toBe(false);
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
    const generated = readFileSync(join(tmp, "user-out/all-types.ts"), "utf8");
    expect(generated).toContain("export enum Color {");
    expect(generated).not.toMatch(/from "[^"]*user-schemas/); // the output imports nothing from the schemas dir
    const bad = Bun.spawnSync([process.execPath, join(ROOT, "codegen/bin.ts"), "generate"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("unknown command generate");
    // node, not bun: the published bins must run on a machine with only Node.js.
    expect(readFileSync(join(ROOT, "codegen/bin.ts"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(readFileSync(join(ROOT, "codegen/codegen-bin.ts"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  }, 30_000);
});

describe("output that would overwrite sources", () => {
  /** A private copy of schemas/: a regression must never overwrite the repo's own schemas. */
  function copySchemas(name: string): { dir: string; text: string } {
    const dir = join(tmp, name);
    cpSync(join(ROOT, "schemas"), dir, { recursive: true });
    return { dir, text: readFileSync(join(dir, "market.ts"), "utf8") };
  }

  /** Asserts the schemas dir still holds exactly its one untouched schema (no temp files either). */
  function expectUntouched(dir: string, text: string): void {
    expect(readdirSync(dir)).toEqual(["market.ts"]);
    expect(readFileSync(join(dir, "market.ts"), "utf8")).toBe(text);
  }

  test("--out naming the schemas dir (any spelling) exits 2, names the directory and writes nothing", () => {
    const { dir, text } = copySchemas("same-dir");
    for (const out of [dir, `${dir}/`, join(dir, "..", "same-dir"), `${dir}/.`]) {
      for (const extra of [[], ["--check"]]) {
        const r = run([dir, "--out", out, ...extra]);
        expect(r.code).toBe(2);
        expect(r.err).toContain(`atomic-log codegen: --out ${out} is the schemas dir ${dir}; generated modules would overwrite the schema sources`);
        expect(r.out).toBe("");
        expectUntouched(dir, text);
      }
    }
  });

  test("a relative --out that resolves to the schemas dir exits 2 (through the bin)", () => {
    const { dir, text } = copySchemas("relative");
    const proc = Bun.spawnSync([process.execPath, join(ROOT, "codegen/bin.ts"), "codegen", "relative", "--out", "./relative/../relative"], { cwd: tmp });
    expect(proc.exitCode).toBe(2);
    expect(proc.stderr.toString()).toContain("--out ./relative/../relative is the schemas dir relative;");
    expect(proc.stdout.toString()).toBe("");
    expectUntouched(dir, text);
  }, 30_000);

  test("an --out that is a symlink to the schemas dir exits 2", () => {
    const { dir, text } = copySchemas("linked");
    const link = join(tmp, "linked-out");
    symlinkSync(dir, link);
    const r = run([dir, "--out", link]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--out ${link} is the schemas dir ${dir}`);
    expectUntouched(dir, text);
  });

  test("an output file that is (a link to) a schema source exits 2 naming both files", () => {
    const { dir, text } = copySchemas("file-link");
    const out = join(tmp, "file-link-out");
    mkdirSync(out);
    symlinkSync(join(dir, "market.ts"), join(out, "market.ts"));
    const r = run([dir, "--out", out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`output file ${join(out, "market.ts")} resolves to the schema source ${join(dir, "market.ts")}`);
    expectUntouched(dir, text);
  });

  test("an existing output file without the @generated header is not overwritten (exit 2); a generated one is", () => {
    const out = join(tmp, "hand-written");
    mkdirSync(out);
    const file = join(out, "market.ts");
    const handWritten = "// my own module that happens to share a schema's name\nexport const x = 1;\n";
    writeFileSync(file, handWritten);
    const r = run(["schemas", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`refusing to overwrite ${file}: it has no "// @generated by atomic-log-codegen" header`);
    expect(r.out).toBe("");
    expect(readFileSync(file, "utf8")).toBe(handWritten);
    expect(readdirSync(out)).toEqual(["market.ts"]);
    // --check writes nothing, so it just reports the file as stale.
    expect(run(["schemas", "--out", out, "--check"]).code).toBe(1);
    // A stale generated file is regenerated as usual.
    writeFileSync(file, "// @generated by atomic-log codegen from schemas/market.ts. Do not edit.\n// stale\n");
    const ok = run(["schemas", "--out", out]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("1 written, 0 unchanged");
    expect(readFileSync(file, "utf8")).toContain("export class TradeView");
  });
});

describe("orphans: output whose schema file is gone", () => {
  /** A schemas dir with two schemas, generated into an output dir that also holds a hand-written file. */
  function setUp(name: string): { schemas: string; out: string; handWritten: string; text: string } {
    const schemas = join(tmp, name, "schemas");
    const out = join(tmp, name, "gen");
    mkdirSync(schemas, { recursive: true });
    cpSync(join(ROOT, "schemas/market.ts"), join(schemas, "market.ts"));
    writeFileSync(join(schemas, "extra.ts"), 'import type { u32 } from "atomic-log/schema";\nexport interface Extra {\n  n: u32;\n}\n');
    expect(run([schemas, "--out", out]).code).toBe(0);
    const handWritten = join(out, "helpers.ts");
    const text = "// my helpers, not generated\nexport const one = 1;\n";
    writeFileSync(handWritten, text);
    return { schemas, out, handWritten, text };
  }

  test("--check reports an orphan (exit 1); a plain run warns and keeps it; --clean removes only it", () => {
    const { schemas, out, handWritten, text } = setUp("orphans");
    expect(run([schemas, "--out", out, "--check"]).code).toBe(0);
    rmSync(join(schemas, "extra.ts"));

    const check = run([schemas, "--out", out, "--check"]);
    expect(check.code).toBe(1);
    expect(check.err).toContain(`orphan: ${join(out, "extra.ts")} (generated from schemas/extra.ts, which is gone)`);
    expect(check.err).toContain("1 are orphaned; run codegen with --clean");
    expect(check.err).not.toContain("helpers.ts");

    const plain = run([schemas, "--out", out]);
    expect(plain.code).toBe(0);
    expect(plain.err).toContain(`warning: ${join(out, "extra.ts")} was generated from schemas/extra.ts, which is gone; --clean removes it`);
    expect(readdirSync(out).sort()).toEqual(["extra.ts", "helpers.ts", "market.ts"]);

    const clean = run([schemas, "--out", out, "--clean"]);
    expect(clean.code).toBe(0);
    expect(clean.out).toContain(`removed ${join(out, "extra.ts")}`);
    expect(clean.out).toContain("0 written, 1 unchanged, 1 removed");
    // The hand-written file is never an orphan, whatever its name.
    expect(readdirSync(out).sort()).toEqual(["helpers.ts", "market.ts"]);
    expect(readFileSync(handWritten, "utf8")).toBe(text);
    expect(run([schemas, "--out", out, "--check"]).code).toBe(0);
  });

  test("bad schemas: --clean deletes nothing", () => {
    const { schemas, out } = setUp("orphans-bad");
    rmSync(join(schemas, "extra.ts"));
    writeFileSync(join(schemas, "market.ts"), "export interface Broken { x: string }\n");
    const r = run([schemas, "--out", out, "--clean"]);
    expect(r.code).toBe(1);
    expect(readdirSync(out).sort()).toEqual(["extra.ts", "helpers.ts", "market.ts"]);
  });

  test("output of another schemas dir (another name) in the same output dir is not an orphan", () => {
    const { schemas, out } = setUp("orphans-shared-out");
    const other = join(tmp, "orphans-shared-out", "more-schemas");
    mkdirSync(other);
    writeFileSync(join(other, "more.ts"), 'import type { u8 } from "atomic-log/schema";\nexport interface More {\n  b: u8;\n}\n');
    expect(run([other, "--out", out]).code).toBe(0);
    const r = run([schemas, "--out", out, "--check"]);
    expect(r.code).toBe(0);
    expect(run([schemas, "--out", out, "--clean"]).code).toBe(0);
    expect(existsSync(join(out, "more.ts"))).toBe(true);
  });

  test("output of another schemas dir with the same folder name is not an orphan either", () => {
    const base = join(tmp, "orphans-same-name");
    const a = join(base, "a", "schemas");
    const b = join(base, "b", "schemas");
    const out = join(base, "gen");
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    writeFileSync(join(a, "one.ts"), 'import type { u8 } from "atomic-log/schema";\nexport interface One {\n  a: u8;\n}\n');
    writeFileSync(join(b, "two.ts"), 'import type { u8 } from "atomic-log/schema";\nexport interface Two {\n  b: u8;\n}\n');
    expect(run([a, "--out", out]).code).toBe(0);
    expect(run([b, "--out", out]).code).toBe(0);
    expect(run([a, "--out", out, "--check"]).code).toBe(0);
    expect(run([a, "--out", out, "--clean"]).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["one.ts", "two.ts"]);
    // Its own orphans are still found: b's schema removed, b's run cleans two.ts.
    rmSync(join(b, "two.ts"));
    expect(run([b, "--out", out, "--clean"]).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["one.ts"]);
  });

  test("an output file with the header only further down is not generated output", () => {
    const { schemas, out } = setUp("orphans-header-later");
    const file = join(out, "notes.ts");
    const text = "// notes\n// @generated by atomic-log-codegen 0.1.0 from schemas/notes.ts. Do not edit.\n";
    writeFileSync(file, text);
    expect(run([schemas, "--out", out, "--clean"]).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(text);
  });
});
