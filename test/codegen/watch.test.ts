/**
 * `--watch` in a real child process (the bin, as a user runs it): it regenerates when a
 * schema is edited, added or removed, prints a bad schema's errors and keeps running, and a
 * SIGTERM ends it with exit code 0. Every wait is bounded.
 */
import { afterAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const tmp = mkdtempSync(join(tmpdir(), "atomic-log-watch-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Collects a child's output as it arrives, so a test can wait for a line. */
class Output {
  text = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.text += decoder.decode(chunk, { stream: true });
    })();
  }
}

/** Polls `condition` every 20 ms; fails naming `what` after `ms`. */
async function until(what: string, condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const read = (path: string): string => (existsSync(path) ? readFileSync(path, "utf8") : "");

test("--watch regenerates on edit, add and remove, survives a bad schema, and stops on SIGTERM", async () => {
  const schemas = join(tmp, "schemas");
  const out = join(tmp, "gen");
  mkdirSync(schemas);
  cpSync(join(ROOT, "schemas/market.ts"), join(schemas, "market.ts"));
  const child = Bun.spawn([process.execPath, join(ROOT, "codegen/bin.ts"), "codegen", "schemas", "--out", "gen", "--watch", "--clean"], {
    cwd: tmp,
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = new Output(child.stdout);
  const stderr = new Output(child.stderr);
  try {
    const market = join(out, "market.ts");
    // Startup loads ts-morph: allow for a loaded machine; later runs reuse the loaded generator.
    await until("the first run", () => stdout.text.includes("watching schemas for changes"), 15_000);
    expect(read(market)).toContain("export class TradeView");

    // Edit: a new field appears in the output.
    const schema = readFileSync(join(schemas, "market.ts"), "utf8");
    writeFileSync(join(schemas, "market.ts"), schema.replace("  /** 0 = buy, 1 = sell. */\n  side: u8;", "  /** 0 = buy, 1 = sell. */\n  side: u8;\n  venueId: u16;"));
    await until("the edited field in the output", () => read(market).includes("venueId"));

    // Add: a new schema file is generated.
    writeFileSync(join(schemas, "extra.ts"), 'import type { u32 } from "atomic-log/schema";\nexport interface Extra {\n  n: u32;\n}\n');
    await until("the added schema's module", () => read(join(out, "extra.ts")).includes("export class ExtraView"));

    // A bad schema: errors printed, nothing written, the process keeps running.
    const before = read(market);
    writeFileSync(join(schemas, "bad.ts"), "export interface Bad {\n  x: string;\n}\n");
    // The error and the summary can arrive in separate chunks: wait for the summary.
    await until("the bad schema's error", () => stderr.text.includes("nothing was written"));
    expect(stderr.text).toContain("schemas/bad.ts:2:6: Bad.x: unknown field type");
    await Bun.sleep(100);
    expect(child.exitCode).toBeNull();
    expect(existsSync(join(out, "bad.ts"))).toBe(false);
    expect(read(market)).toBe(before);

    // Remove: with the bad schema gone and extra.ts deleted, --clean removes its output.
    rmSync(join(schemas, "bad.ts"));
    rmSync(join(schemas, "extra.ts"));
    // The file goes before the line is printed: wait for the line.
    await until("the removed schema's module to go", () => stdout.text.includes("removed gen/extra.ts"));
    expect(existsSync(join(out, "extra.ts"))).toBe(false);
    expect(read(market)).toContain("venueId");

    child.kill("SIGTERM");
    const code = await Promise.race([child.exited, Bun.sleep(3_000).then(() => "still running")]);
    expect(code).toBe(0);
    await until("the goodbye line (output may still be in the pipe)", () => stdout.text.includes("stopped watching"), 2_000);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}, 30_000);

test("--watch on a missing schemas dir, or with --out naming it, exits 2 at once", async () => {
  for (const args of [["no-such-dir", "--out", "gen"], ["same", "--out", "same"]]) {
    mkdirSync(join(tmp, "same"), { recursive: true });
    writeFileSync(join(tmp, "same", "a.ts"), 'import type { u8 } from "atomic-log/schema";\nexport interface A {\n  b: u8;\n}\n');
    const child = Bun.spawn([process.execPath, join(ROOT, "codegen/codegen-bin.ts"), ...args, "--watch"], { cwd: tmp, stdout: "pipe", stderr: "pipe" });
    try {
      const code = await Promise.race([child.exited, Bun.sleep(5_000).then(() => "still running")]);
      expect(code).toBe(2);
      expect(await new Response(child.stdout).text()).not.toContain("watching");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }
}, 30_000);

test("--watch stops with exit 1, saying why, when the schemas dir itself is deleted", async () => {
  const schemas = join(tmp, "doomed");
  mkdirSync(schemas);
  cpSync(join(ROOT, "schemas/market.ts"), join(schemas, "market.ts"));
  const child = Bun.spawn([process.execPath, join(ROOT, "codegen/codegen-bin.ts"), "doomed", "--out", "doomed-gen", "--watch"], { cwd: tmp, stdout: "pipe", stderr: "pipe" });
  const stdout = new Output(child.stdout);
  const stderr = new Output(child.stderr);
  try {
    await until("the first run", () => stdout.text.includes("watching doomed for changes"), 15_000);
    rmSync(schemas, { recursive: true });
    const code = await Promise.race([child.exited, Bun.sleep(5_000).then(() => "still running")]);
    expect(code).toBe(1);
    await until("the reason", () => stderr.text.includes("doomed is gone; stopped watching"), 2_000);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}, 30_000);
