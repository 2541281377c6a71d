/**
 * Bad schemas: each fixture under test/fixtures/bad/<case>/ is run through the
 * real CLI. It must exit 1, print exactly the expected `file:line:col: message`
 * lines (every problem, sorted by file then position), and leave a
 * pre-existing output file untouched with no other files written.
 *
 * Schemas that only warn (test/fixtures/warn/<case>/) must exit 0, print the
 * expected `file:line:col: warning: message` lines and still write output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodegenError, CodegenWarning } from "../../codegen/diagnostic.ts";
import { generate } from "../../codegen/generate.ts";

const ROOT = join(import.meta.dir, "../..");
const BAD = "test/fixtures/bad";
const WARN = "test/fixtures/warn";

/** Expected stderr lines per case, without the trailing summary line. */
const EXPECTED: Record<string, string[]> = {
  "unknown-type": [
    'bad.ts:6:10: Trade.venue: unknown field type "Venue"',
    'bad.ts:7:10: Trade.price: unknown field type "number"; use an explicit numeric type such as f64, i32 or u32',
  ],
  "optional-field": [
    "bad.ts:5:3: Trade.ts: optional fields are not supported; every field is always stored",
    "bad.ts:7:3: Trade.note: optional fields are not supported; every field is always stored",
  ],
  "index-signature": [
    "bad.ts:6:3: Tags: index signatures are not supported; declare each field with a fixed type",
    "bad.ts:10:3: More: index signatures are not supported; declare each field with a fixed type",
  ],
  "union-non-literal": [
    'bad.ts:5:8: Order.qty: a union field must be a union of string literals (e.g. "buy" | "sell"), got u8 | u16',
    'bad.ts:6:9: Order.kind: a union field must be a union of string literals (e.g. "buy" | "sell"), got "limit" | 1',
  ],
  "self-contains": ['bad.ts:6:9: Node.next: record "Node" contains itself (Node.next -> Node)'],
  cycle: ['b.ts:6:6: B.a: record "A" contains itself (A.b -> B.a -> A)'],
  "zero-length": [
    "bad.ts:5:14: Sizes.name: utf8<N> needs an integer literal N >= 1, got 0",
    "bad.ts:6:15: Sizes.label: utf8<N> needs an integer literal N >= 1, got number",
    "bad.ts:7:15: Sizes.data: bytes<N> needs an integer literal N >= 1, got 0",
    "bad.ts:8:20: Sizes.none: Fixed<T, N> needs an integer literal N >= 1, got 0",
    "bad.ts:9:16: Sizes.flags: Fixed<T, N> needs a numeric element type (u8 i8 u16 i16 u32 i32 u64 i64 f32 f64), got bool",
    "bad.ts:10:14: Sizes.half: utf8<N> needs an integer literal N >= 1, got 1.5",
  ],
  "unsized-array": [
    "bad.ts:5:11: Series.values: arrays need a fixed length and element type; use Fixed<T, N> (e.g. Fixed<f64, 4>) instead of number[]",
    "bad.ts:6:11: Series.prices: arrays need a fixed length and element type; use Fixed<T, N> (e.g. Fixed<f64, 4>) instead of f64[]",
  ],
  "duplicate-record": [
    `b.ts:4:18: duplicate record name "Trade" (first declared at ${BAD}/duplicate-record/a.ts:4:18)`,
    `b.ts:12:18: duplicate record name "Quote" (first declared at ${BAD}/duplicate-record/b.ts:8:18)`,
  ],
  "empty-record": [
    "bad.ts:4:18: Empty: a record needs at least one field",
    "bad.ts:6:18: AlsoEmpty: a record needs at least one field",
  ],
  "not-exported": [
    'bad.ts:14:8: Quote.bid: interface "Level" is not exported; export it to use it as a nested record',
    'bad.ts:15:9: Quote.side: enum "Side" is not exported; export it (the generated module exports an enum of the same name and members)',
  ],
  "name-collision": [
    'bad.ts:8:18: generated name "TradeView" of record "TradeView" collides with record "Trade" (its view class)',
    'bad.ts:12:18: generated name "TradeData" of record "TradeData" collides with record "Trade" (its data type)',
    'bad.ts:16:18: generated name "Slab" of record "Slab" is reserved for the runtime or generated helpers; rename it',
  ],
  method: [
    "bad.ts:6:3: Trade.total: methods are not allowed in a record; records hold data only",
    "bad.ts:7:3: Trade: methods are not allowed in a record; records hold data only",
  ],
  "enum-values": [
    "bad.ts:6:3: enum Mixed: member B must have an integer value; got 1.5",
    "bad.ts:7:3: enum Mixed: member C must have an integer value; string values are not supported (use a union of string literals)",
    "bad.ts:11:3: enum Named: member X must have an integer value; string values are not supported (use a union of string literals)",
  ],
  many: [
    'a.ts:6:8: Alpha.bad: unknown field type "string"; use utf8<N> with a byte capacity N',
    "a.ts:7:3: Alpha.opt: optional fields are not supported; every field is always stored",
    "a.ts:10:18: Empty: a record needs at least one field",
    "b.ts:5:8: Beta.arr: arrays need a fixed length and element type; use Fixed<T, N> (e.g. Fixed<f64, 4>) instead of u32[]",
    "b.ts:6:14: Beta.text: utf8<N> needs an integer literal N >= 1, got 0",
    "b.ts:7:3: Beta.m: methods are not allowed in a record; records hold data only",
    `b.ts:10:18: duplicate record name "Alpha" (first declared at ${BAD}/many/a.ts:4:18)`,
  ],
  // Only the syntax errors: c.ts's unknown type is not reported while any file has one.
  syntax: [
    "a.ts:9:1: syntax error: Property or signature expected (TS1131)",
    "b.ts:6:13: syntax error: Type expected (TS1110)",
  ],
  "field-grammar": [
    "bad.ts:7:12: Point.y: an interface member cannot have an initializer (= 3); a record declares types, not values",
    'bad.ts:8:3: Point.z: the "public" modifier cannot appear on an interface member; only "readonly" can',
    'bad.ts:9:3: Point.w: the "static" modifier cannot appear on an interface member; only "readonly" can',
  ],
  // Warnings are printed among the errors, by position, and counted apart.
  "skipped-export-and-error": [
    'bad.ts:6:10: Trade.price: unknown field type "number"; use an explicit numeric type such as f64, i32 or u32',
    'bad.ts:9:14: warning: skipped exported const "VERSION": only exported interfaces become records (enums and type aliases serve as field types)',
  ],
};

const RECORDS_ONLY = "only exported interfaces become records (enums and type aliases serve as field types)";

/** Expected stderr lines of the warning-only cases; they exit 0 and write every module. */
const WARNED: Record<string, string[]> = {
  "skipped-exports": [
    'a.ts:24:13: warning: skipped exported type alias "Quote": only exported interfaces become records (write "export interface Quote { ... }" for a record), and no record field uses this alias',
    'a.ts:26:13: warning: skipped exported type alias "Flag": only exported interfaces become records, and no record field uses this alias',
    `a.ts:28:14: warning: skipped exported class "Book": ${RECORDS_ONLY}`,
    `a.ts:32:17: warning: skipped exported function "spread": ${RECORDS_ONLY}`,
    `a.ts:36:14: warning: skipped exported const "LOT": ${RECORDS_ONLY}`,
    `a.ts:37:3: warning: skipped exported const "TICK": ${RECORDS_ONLY}`,
    // Exported under another name by `export type { Local as PublicLocal }`.
    'a.ts:43:6: warning: skipped exported type alias "Local": only exported interfaces become records, and no record field uses this alias',
    'b.ts:4:1: warning: skipped re-export from "./a.ts": a generated module holds only its own schema file\'s records',
    `b.ts:10:1: warning: skipped default-exported value: ${RECORDS_ONLY}`,
  ],
};

const SENTINEL = "// a pre-existing generated file that a failed run must not touch\n";

interface Outcome {
  exitCode: number;
  stderr: string;
  stdout: string;
  outDir: string;
}

const outcomes = new Map<string, Outcome>();
let tmp = "";

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "atomic-log-bad-"));
  // One process per fixture, all at once: each pays ts-morph's start-up, so overlap them.
  await Promise.all(
    Object.keys(EXPECTED).map(async (name) => {
      const outDir = join(tmp, name);
      mkdirSync(outDir);
      for (const f of readdirSync(join(ROOT, BAD, name))) writeFileSync(join(outDir, f), SENTINEL);
      const proc = Bun.spawn([process.execPath, "codegen/cli.ts", `${BAD}/${name}`, "--out", outDir], {
        cwd: ROOT,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      outcomes.set(name, { exitCode, stdout, stderr, outDir });
    }),
  );
  await Promise.all(
    Object.keys(WARNED).map(async (name) => {
      const outDir = join(tmp, "warn", name);
      const proc = Bun.spawn([process.execPath, "codegen/cli.ts", `${WARN}/${name}`, "--out", outDir], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      outcomes.set(`warn/${name}`, { exitCode, stdout, stderr, outDir });
    }),
  );
}, 60_000);

function inRoot<T>(fn: () => T): T {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    return fn();
  } finally {
    process.chdir(cwd);
  }
}

afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

describe("bad schemas through the CLI", () => {
  test("every case directory has expectations", () => {
    expect(readdirSync(join(ROOT, BAD)).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, lines] of Object.entries(EXPECTED)) {
    test(`${name}: exit 1, every problem printed as file:line:col, output untouched`, () => {
      const outcome = outcomes.get(name)!;
      const expected = lines.map((l) => `${BAD}/${name}/${l}`);
      const warnings = lines.filter((l) => l.includes(": warning: ")).length;
      const counts = `${lines.length - warnings} error(s)${warnings > 0 ? `, ${warnings} warning(s)` : ""}`;
      expect(outcome.stderr).toBe(`${[...expected, `atomic-log codegen: ${counts}; nothing was written`].join("\n")}\n`);
      expect(outcome.exitCode).toBe(1);
      expect(outcome.stdout).toBe("");
      const schemaFiles = readdirSync(join(ROOT, BAD, name)).sort();
      expect(readdirSync(outcome.outDir).sort()).toEqual(schemaFiles);
      for (const f of schemaFiles) expect(readFileSync(join(outcome.outDir, f), "utf8")).toBe(SENTINEL);
    });
  }
});

describe("skipped exports warn through the CLI", () => {
  test("every warning case directory has expectations", () => {
    expect(readdirSync(join(ROOT, WARN)).sort()).toEqual(Object.keys(WARNED).sort());
  });

  for (const [name, lines] of Object.entries(WARNED)) {
    test(`${name}: exit 0, every skipped export printed as file:line:col: warning, modules still written`, () => {
      const outcome = outcomes.get(`warn/${name}`)!;
      expect(outcome.stderr).toBe(`${lines.map((l) => `${WARN}/${name}/${l}`).join("\n")}\n`);
      expect(outcome.exitCode).toBe(0);
      const schemaFiles = readdirSync(join(ROOT, WARN, name)).sort();
      expect(outcome.stdout).toContain(`${schemaFiles.length} written, 0 unchanged`);
      expect(readdirSync(outcome.outDir).sort()).toEqual(schemaFiles);
    });
  }

  test("skipped-exports: records and enums are generated, skipped declarations are not", () => {
    const a = readFileSync(join(outcomes.get("warn/skipped-exports")!.outDir, "a.ts"), "utf8");
    expect(a).toContain("export class TradeView extends RecordView");
    expect(a).toContain("export enum Side {");
    expect(a).toContain("export const records = [Trade] as const;");
    for (const skipped of ["Quote", "Book", "spread", "LOT", "Internal"]) expect(a).not.toContain(skipped);
    const b = readFileSync(join(outcomes.get("warn/skipped-exports")!.outDir, "b.ts"), "utf8");
    expect(b).toContain("export const records = [Flags] as const;");
  });

  test("generate() returns typed CodegenWarnings beside the files", () => {
    const result = inRoot(() => generate({ schemasDir: `${WARN}/skipped-exports`, outDir: join(tmp, "unused") }));
    expect(result.diagnostics).toEqual([]);
    expect(result.files.length).toBe(2);
    expect(result.warnings.length).toBe(WARNED["skipped-exports"]!.length);
    const first = result.warnings[0]!;
    expect(first).toBeInstanceOf(CodegenWarning);
    expect([first.file, first.line, first.col]).toEqual([`${WARN}/skipped-exports/a.ts`, 24, 13]);
  });
});

describe("diagnostics API", () => {
  test("generate() returns typed CodegenErrors with file, line, col and no files", () => {
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      const result = generate({ schemasDir: `${BAD}/many`, outDir: join(tmp, "unused") });
      expect(result.files).toEqual([]);
      expect(result.diagnostics.length).toBe(EXPECTED.many!.length);
      const first = result.diagnostics[0]!;
      expect(first).toBeInstanceOf(CodegenError);
      expect([first.file, first.line, first.col]).toEqual([`${BAD}/many/a.ts`, 6, 8]);
      expect(first.detail).toBe('Alpha.bad: unknown field type "string"; use utf8<N> with a byte capacity N');
    } finally {
      process.chdir(cwd);
    }
  });
});
