/**
 * Layout rules and the fingerprint, on schemas parsed from strings (no disk).
 */
import { describe, expect, test } from "bun:test";
import { Project } from "ts-morph";
import { computeLayouts, fnv1a64 } from "../../codegen/layout.ts";
import type { RecordLayout } from "../../codegen/layout.ts";
import { parseSchemas } from "../../codegen/parse.ts";

const project = new Project({ useInMemoryFileSystem: true });
const HEADER = 'import type { bool, bytes, f32, f64, Fixed, i8, i64, u16, u32, u64, u8, utf8 } from "atomic-log/schema";\n';

/** Parses and lays out in-memory schema files; fails the test on any diagnostic. */
function layouts(files: Record<string, string>): Map<string, RecordLayout> {
  const sources = Object.entries(files).map(([path, text]) => ({
    path, file: `mem/${path}`, displayPath: `mem/${path}`, absPath: `/mem/${path}`, text: HEADER + text,
  }));
  const parsed = parseSchemas(project, sources);
  const laid = computeLayouts(parsed.modules);
  expect([...parsed.errors, ...laid.errors].map((e) => e.message)).toEqual([]);
  const byName = new Map<string, RecordLayout>();
  for (const l of laid.layouts.values()) byName.set(l.record.name, l);
  return byName;
}

const one = (text: string, name = "R"): RecordLayout => layouts({ "a.ts": text }).get(name)!;
const offsets = (l: RecordLayout): number[] => l.fields.map((f) => f.offset);

describe("layout", () => {
  test("natural alignment with padding, declaration order kept, size rounded up", () => {
    const l = one("export interface R { a: u8; b: f64; c: u16; d: u8; e: u32 }");
    expect(offsets(l)).toEqual([0, 8, 16, 18, 20]);
    expect([l.byteLength, l.alignment]).toEqual([24, 8]);
  });

  test("a record of bytes only has alignment 1 and no padding", () => {
    const l = one("export interface R { a: u8; b: bool; c: i8 }");
    expect([l.byteLength, l.alignment]).toEqual([3, 1]);
  });

  test("utf8 and bytes: prefix by capacity, aligned to the prefix", () => {
    const l = one("export interface R { a: u8; s: utf8<255>; t: utf8<256>; u: bytes<65535>; v: bytes<65536> }");
    expect(l.fields.map((f) => [f.offset, f.size, f.alignment])).toEqual([
      [0, 1, 1], [1, 256, 1], [258, 258, 2], [516, 65537, 2], [66056, 65540, 4],
    ]);
  });

  test("Fixed arrays align to their element; nested records to their own alignment", () => {
    const files = {
      "a.ts": "export interface Inner { x: u8; y: u64 }\nexport interface R { a: u8; f: Fixed<f32, 3>; i: Inner; z: u8 }",
    };
    const l = layouts(files).get("R")!;
    expect(l.fields.map((f) => [f.offset, f.size])).toEqual([[0, 1], [4, 12], [16, 16], [32, 1]]);
    expect([l.byteLength, l.alignment]).toEqual([40, 8]);
  });

  test("enums are stored in the smallest type that fits; literal unions by count", () => {
    const l = one(
      "export enum Small { A, B = 255 }\nexport enum Neg { A = -129, B = 1 }\nexport enum Wide { A = 70000 }\n" +
        'export interface R { s: Small; n: Neg; w: Wide; lit: "a" | "b" }',
    );
    expect(l.fields.map((f) => f.size)).toEqual([1, 2, 4, 1]);
  });

  test("aliases, namespace imports and cross-file records resolve", () => {
    const files = {
      "a.ts": 'import type * as S from "atomic-log/schema";\nimport type { B as Other } from "./b.ts";\ntype Px = S.f64;\nexport interface R { p: Px; o: Other }',
      "b.ts": "export interface B { q: u16 }",
    };
    const l = layouts(files).get("R")!;
    expect(l.fields.map((f) => f.size)).toEqual([8, 2]);
  });
});

describe("fingerprint", () => {
  const base = "export interface R { a: u32; b: f64; s: utf8<8> }";
  const fp = (text: string): string => one(text).fingerprint;

  test("is 16 hex digits and stable for the same schema", () => {
    expect(fp(base)).toMatch(/^[0-9a-f]{16}$/);
    expect(fp(base)).toBe(fp(base));
    // Formatting and comments do not change the layout, so they do not change the fingerprint.
    expect(fp("export interface R {\n  /** doc */ a: u32;\n  b: f64;\n  s: utf8<8>;\n}")).toBe(fp(base));
  });

  test("changes whenever the layout or meaning changes", () => {
    const variants = [
      "export interface R { a: i32; b: f64; s: utf8<8> }", // type
      "export interface R { b: f64; a: u32; s: utf8<8> }", // order
      "export interface R { x: u32; b: f64; s: utf8<8> }", // name
      "export interface R { a: u32; b: f64; s: utf8<9> }", // capacity
      "export interface R { a: u32; b: f64; s: bytes<8> }", // kind
      "export interface R { a: u32; b: f64; s: utf8<8>; t: u8 }", // extra field
    ];
    const all = new Set([fp(base), ...variants.map(fp)]);
    expect(all.size).toBe(variants.length + 1);
    expect(one(base.replace("interface R", "interface Q"), "Q").fingerprint).not.toBe(fp(base));
  });

  test("changes when a nested record or an enum changes", () => {
    const parent = (inner: string): string =>
      layouts({ "a.ts": `export interface I { ${inner} }\nexport interface R { i: I }` }).get("R")!.fingerprint;
    expect(parent("x: u8")).not.toBe(parent("x: i8"));
    const withEnum = (members: string): string => fp(`export enum E { ${members} }\nexport interface R { e: E }`);
    expect(withEnum("A, B")).not.toBe(withEnum("A, B, C"));
    expect(withEnum("A, B")).not.toBe(withEnum("A = 1, B = 2"));
  });

  test("FNV-1a 64 known vectors", () => {
    expect(fnv1a64("")).toBe("cbf29ce484222325");
    expect(fnv1a64("a")).toBe("af63dc4c8601ec8c");
    expect(fnv1a64("foobar")).toBe("85944171f73967e8");
  });
});
