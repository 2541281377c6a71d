/**
 * Generated modules stand alone: they compile under a tsconfig whose `rootDir` is the output's
 * `src/` (nothing outside it is pulled into the program, so the schemas dir is not a runtime
 * dependency), and the enums they declare accept the schema's enum values, as TypeScript
 * relates two enums of the same name and members. Both are checked with the real tsc on a
 * scratch project in a temp dir.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const work = mkdtempSync(join(tmpdir(), "atomic-log-standalone-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Shared compiler options of the scratch project's tsconfigs. */
const compilerOptions = {
  target: "ESNext",
  module: "Preserve",
  moduleResolution: "bundler",
  // node_modules/atomic-log is a link to this repo; keeping the link's path makes its sources
  // an external library (not subject to rootDir), as an installed package would be.
  preserveSymlinks: true,
  customConditions: ["bun"],
  lib: ["ESNext", "DOM"], // the runtime uses TextEncoder; no @types in the scratch project
  types: [],
  strict: true,
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
};

function tsc(config: string): { code: number; output: string } {
  const p = Bun.spawnSync([process.execPath, TSC, "-p", config], { cwd: work, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, output: p.stdout.toString() + p.stderr.toString() };
}

beforeAll(() => {
  cpSync(join(ROOT, "test/fixtures/schemas"), join(work, "schemas"), { recursive: true });
  mkdirSync(join(work, "node_modules"));
  symlinkSync(ROOT, join(work, "node_modules/atomic-log"));
  const gen = Bun.spawnSync([process.execPath, join(ROOT, "codegen/cli.ts"), "schemas", "--out", "src/generated"], { cwd: work });
  expect(gen.stderr.toString()).toBe("");
  expect(gen.exitCode).toBe(0);
});

describe("a generated module", () => {
  test("type-checks and emits under rootDir: src (it imports nothing from the schemas dir)", () => {
    writeFileSync(
      join(work, "src/main.ts"),
      [
        'import { Color, Enums, type EnumsData } from "./generated/all-types.ts";',
        'import { Venue } from "./generated/shared.ts";',
        'const data: EnumsData = { color: Color.Blue, delta: 0, venue: Venue.Arca, side: "buy", grade: "low" };',
        "Enums.write(Enums.view(new ArrayBuffer(Enums.byteLength)), data);",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(work, "tsconfig.rootdir.json"),
      JSON.stringify({ compilerOptions: { ...compilerOptions, rootDir: "src", outDir: "out", noEmit: false, declaration: true, rewriteRelativeImportExtensions: true }, include: ["src"] }),
    );
    const r = tsc("tsconfig.rootdir.json");
    expect(r.output).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);

  test("takes the schema's enum values where TypeScript allows, and rejects other enums", () => {
    writeFileSync(
      join(work, "use-schema-enums.ts"),
      [
        'import { Color as SchemaColor, Delta as SchemaDelta } from "./schemas/all-types.ts";',
        'import { Venue as SchemaVenue } from "./schemas/shared.ts";',
        'import { Color, Enums, type EnumsData } from "./src/generated/all-types.ts";',
        "const view = Enums.view(new ArrayBuffer(Enums.byteLength));",
        "// The schema's values where the generated enums are expected...",
        'const data: EnumsData = { color: SchemaColor.Green, delta: SchemaDelta.Up, venue: SchemaVenue.Nyse, side: "sell", grade: "mid" };',
        "Enums.write(view, data);",
        "view.color = SchemaColor.Red;",
        "// ...and the generated values where the schema's are expected.",
        "const back: SchemaColor = Enums.read(view).color;",
        "const venue: SchemaVenue = view.venue;",
        "const generated: SchemaColor = Color.Blue;",
        "/** Same name, a member the generated Color lacks: not assignable. */",
        "enum LocalColor { Red, Green, Blue }",
        "declare namespace other { enum Color { Red, Green, Blue, Purple } }",
        "// @ts-expect-error a different enum (another name) is not the generated Color",
        "view.color = LocalColor.Red;",
        "// @ts-expect-error an enum of the same name with an extra member is not the generated Color",
        "view.color = other.Color.Purple;",
        "export { back, venue, generated };",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(work, "tsconfig.enums.json"),
      JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true }, files: ["use-schema-enums.ts"] }),
    );
    const r = tsc("tsconfig.enums.json");
    expect(r.output).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);
});
