/**
 * IR + layout -> TypeScript source text for one schema module.
 *
 * Plain string building on purpose: the output is fully determined by the
 * IR (no formatter, no compiler state, no Map iteration over unsorted keys),
 * so reruns are byte-identical. Views use one accessor form everywhere,
 * `this._f64[(this.byteOffset >>> 3) + K]` with a constant K, which measured
 * at or above raw typed-array speed in Bun: one field load, a shift, an add.
 */
import { BIG_RANGE, INT_RANGE, SCALAR_SIZE, recordKey } from "./ir.ts";
import type { EnumDecl, FieldDecl, FieldType, IntScalar, LiteralsType, NumericScalar, Scalar, SchemaModule } from "./ir.ts";
import { renderHeader } from "./header.ts";
import { typeSpelling } from "./layout.ts";
import type { FieldLayout, RecordLayout } from "./layout.ts";

/** How a generated module refers to the code it imports. */
export interface EmitOptions {
  /** Module specifier of the runtime, e.g. `atomic-log/runtime`. */
  readonly runtime: string;
  /** The command that regenerates the module, for its header (see `regenerateCommand`). */
  readonly command: string;
  /** Specifier of the generated module of a schema file, from a sibling generated module. */
  generatedSpecifier(schemaPath: string): string;
}

/** Renders the generated module for `module`. All its records must have layouts. */
export function emitModule(
  module: SchemaModule,
  layouts: ReadonlyMap<string, RecordLayout>,
  options: EmitOptions,
): string {
  return new ModuleEmitter(module, layouts, options).render();
}

const SHIFT: Readonly<Record<number, number>> = { 1: 0, 2: 1, 4: 2, 8: 3 };

/** JS type of a scalar's value. */
function jsType(scalar: Scalar): string {
  return scalar === "bool" ? "boolean" : scalar === "u64" || scalar === "i64" ? "bigint" : "number";
}

/** Typed-array element type name (without `Array`) for `Fixed` getters. */
const ARRAY_CLASS: Readonly<Record<NumericScalar, string>> = {
  u8: "Uint8Array", i8: "Int8Array", u16: "Uint16Array", i16: "Int16Array", u32: "Uint32Array",
  i32: "Int32Array", f32: "Float32Array", f64: "Float64Array", u64: "BigUint64Array", i64: "BigInt64Array",
};

/** Index expression of the element of `scalar` at byte `offset` from `base`. */
function index(scalar: Scalar, offset: number, base = "this.byteOffset"): string {
  const size = SCALAR_SIZE[scalar];
  return size === 1 ? `${base} + ${offset}` : `(${base} >>> ${SHIFT[size]}) + ${offset / size}`;
}

/** Slab array holding `scalar` (bool is stored as a byte). */
function arrayOf(scalar: Scalar): string {
  return `this._${scalar === "bool" ? "u8" : scalar}`;
}

/** A JSDoc block; one line when it fits, `*\/` escaped so user text cannot end the comment. */
function doc(indent: string, text: string): string[] {
  const lines = text.replace(/\*\//g, "*\\/").split("\n");
  if (lines.length === 1 && indent.length + lines[0]!.length <= 110) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)), `${indent} */`];
}

/** Field kinds whose setters can throw (always before writing a byte): their views say so. */
const CHECKED_SETTER: ReadonlySet<FieldType["kind"]> = new Set(["utf8", "bytes", "array", "literals", "record"]);

/** A string literal of the generated code. */
const str = (s: string): string => JSON.stringify(s);

/**
 * For each integer type, an expression equal to `v` exactly when `v` is an
 * integer number in the type's range (after a `typeof v === "number"` guard):
 * the bit conversion maps NaN, ±Infinity, fractions and out-of-range values
 * to something else. -0 passes, as it did with `Number.isInteger`, and is stored as 0.
 */
const INT_IDENTITY: Readonly<Record<IntScalar, (v: string) => string>> = {
  u8: (v) => `(${v} & 0xff)`,
  i8: (v) => `((${v} << 24) >> 24)`,
  u16: (v) => `(${v} & 0xffff)`,
  i16: (v) => `((${v} << 16) >> 16)`,
  u32: (v) => `(${v} >>> 0)`,
  i32: (v) => `(${v} | 0)`,
};

class ModuleEmitter {
  /** Runtime names used, value imports and type-only imports. */
  private readonly runtimeValues = new Set<string>();
  private readonly runtimeTypes = new Set<string>();
  /** Foreign records: generated-module path -> record names. */
  private readonly foreignRecords = new Map<string, Set<string>>();
  /** Foreign enums: schema path -> enum names. */
  private readonly foreignEnums = new Map<string, Set<string>>();
  /** Module-private helper declarations (literal tables, enum member sets), in first-use order. */
  private readonly helpers: string[] = [];
  private readonly helperNames = new Set<string>();

  constructor(
    private readonly module: SchemaModule,
    private readonly layouts: ReadonlyMap<string, RecordLayout>,
    private readonly options: EmitOptions,
  ) {}

  render(): string {
    const bodies: string[] = [];
    for (const record of this.module.records) bodies.push(this.record(this.layoutOf(record.module, record.name)));
    const out: string[] = [
      ...renderHeader(this.module.displayPath, this.options.command),
      ...this.imports(),
    ];
    if (this.module.enums.length > 0) out.push("", ...this.enumDeclarations());
    if (this.helpers.length > 0) out.push("", ...this.helpers);
    for (const body of bodies) out.push("", body);
    const names = this.module.records.map((r) => r.name);
    out.push("", "/** Every record codec of this module, in declaration order (handy for tooling). */");
    out.push(`export const records = [${names.join(", ")}] as const;`, "");
    return out.join("\n");
  }

  private layoutOf(module: string, name: string): RecordLayout {
    const layout = this.layouts.get(recordKey(module, name));
    if (layout === undefined) throw new Error(`internal: no layout for ${module}#${name}`);
    return layout;
  }

  private rt(name: string): string {
    this.runtimeValues.add(name);
    return name;
  }

  private imports(): string[] {
    const lines: string[] = [];
    const values = [...this.runtimeValues].sort();
    const types = [...this.runtimeTypes].filter((t) => !this.runtimeValues.has(t)).sort();
    const specs = [...values, ...types.map((t) => `type ${t}`)];
    if (specs.length > 0) lines.push(`import { ${specs.join(", ")} } from ${str(this.options.runtime)};`);
    // Foreign records and enums both come from the sibling generated module of their schema
    // (which declares its enums itself), never from the schema: see enumDeclarations().
    const paths = [...new Set([...this.foreignRecords.keys(), ...this.foreignEnums.keys()])].sort();
    for (const path of paths) {
      const records = [...(this.foreignRecords.get(path) ?? [])].sort().flatMap((n) => [n, `${n}View`, `type ${n}Data`]);
      const enums = [...(this.foreignEnums.get(path) ?? [])].sort();
      lines.push(`import { ${[...records, ...enums].join(", ")} } from ${str(this.options.generatedSpecifier(path))};`);
    }
    return lines;
  }

  /**
   * The schema's enums, declared again in the generated module: same names, members, values
   * and docs. Importing them from the schema file instead made the schemas dir a runtime
   * dependency of the output and put a file outside the output's `rootDir` into the program
   * (tsc: "file is not under rootDir"). A copy keeps both kinds of user code compiling:
   * TypeScript relates two (non-const) enums of the same name when every member of the source
   * exists in the target with the same value, so `Side.Buy` from `schemas/market.ts` is
   * accepted where the generated `Side` is expected, and the other way round; at run time
   * both are the same numbers. Values are always written out, so the copy cannot drift from
   * the schema's implicit numbering.
   */
  private enumDeclarations(): string[] {
    const out = [
      "// The schema's enums, declared here so this module needs nothing from the schemas dir at run time.",
      "// Same names, members and values as the schema's: TypeScript accepts either enum's values for the other.",
    ];
    for (const e of this.module.enums) {
      if (out.length > 2) out.push("");
      if (e.doc !== undefined) out.push(...doc("", e.doc));
      out.push(`export enum ${e.name} {`);
      for (const m of e.members) {
        if (m.doc !== undefined) out.push(...doc("  ", m.doc));
        out.push(`  ${m.name} = ${m.value},`);
      }
      out.push("}");
    }
    return out;
  }

  /** Type of a field in the Data interface. */
  private dataType(type: FieldType): string {
    switch (type.kind) {
      case "scalar": return jsType(type.scalar);
      case "utf8": return "string";
      case "bytes": return "Uint8Array";
      case "array": return `${jsType(type.element)}[]`;
      case "enum": return this.enumRef(type.decl);
      case "literals": return type.values.map(str).join(" | ");
      case "record": return `${this.recordRef(type.module, type.name)}Data`;
    }
  }

  /** Notes that a record is used and returns its base name (imports foreign ones). */
  private recordRef(module: string, name: string): string {
    if (module !== this.module.path) {
      const set = this.foreignRecords.get(module) ?? new Set<string>();
      set.add(name);
      this.foreignRecords.set(module, set);
    }
    return name;
  }

  private enumRef(decl: EnumDecl): string {
    if (decl.module !== this.module.path) {
      const set = this.foreignEnums.get(decl.module) ?? new Set<string>();
      set.add(decl.name);
      this.foreignEnums.set(decl.module, set);
    }
    return decl.name;
  }

  private helper(name: string, lines: string[]): string {
    if (!this.helperNames.has(name)) {
      this.helperNames.add(name);
      this.helpers.push(...lines);
    }
    return name;
  }

  /** The const table of a string-literal union field, and its literal -> index map. */
  private literalTables(record: string, field: string, type: LiteralsType): { values: string; index: string } {
    const values = `${record}$${field}`;
    const index = `${values}$index`;
    this.helper(values, [
      `/** Literals of ${record}.${field} in declaration order; the field stores the index. */`,
      `const ${values} = [${type.values.map(str).join(", ")}] as const;`,
      `const ${index}: ReadonlyMap<string, number> = new Map(${values}.map((v, i) => [v, i]));`,
    ]);
    return { values, index };
  }

  /** Whether an enum's values are exactly min..max (a range check is a membership check). */
  private static contiguous(decl: EnumDecl): boolean {
    const values = [...new Set(decl.members.map((m) => m.value))].sort((a, b) => a - b);
    return values[values.length - 1]! - values[0]! === values.length - 1;
  }

  private enumMembers(decl: EnumDecl): string {
    const name = `${decl.name}$members`;
    const values = [...new Set(decl.members.map((m) => m.value))].sort((a, b) => a - b);
    return this.helper(name, [
      `/** Values of enum ${decl.name}, for write() membership checks. */`,
      `const ${name}: ReadonlySet<number> = new Set([${values.join(", ")}]);`,
    ]);
  }

  private record(layout: RecordLayout): string {
    const out: string[] = [];
    out.push(...this.dataInterface(layout), "");
    out.push(...this.viewClass(layout), "");
    out.push(...this.codec(layout));
    return out.join("\n");
  }

  /** The offset table every generated record carries in its JSDoc, padding made visible. */
  private offsetTable(layout: RecordLayout): string[] {
    const rows: [string, string, string, string][] = [["offset", "size", "field", "type"]];
    let end = 0;
    const pad = (at: number, size: number): void => {
      rows.push([String(at), String(size), "(padding)", ""]);
    };
    for (const f of layout.fields) {
      if (f.offset > end) pad(end, f.offset - end);
      rows.push([String(f.offset), String(f.size), f.field.name, typeSpelling(f.field.type).replace(/\|/g, "\\|")]);
      end = f.offset + f.size;
    }
    if (layout.byteLength > end) pad(end, layout.byteLength - end);
    const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: readonly string[]): string =>
      `| ${r[0]!.padStart(widths[0]!)} | ${r[1]!.padStart(widths[1]!)} | ${r[2]!.padEnd(widths[2]!)} | ${r[3]!.padEnd(widths[3]!)} |`;
    const sep = `|${"-".repeat(widths[0]! + 1)}:|${"-".repeat(widths[1]! + 1)}:|${"-".repeat(widths[2]! + 2)}|${"-".repeat(widths[3]! + 2)}|`;
    return [line(rows[0]!), sep, ...rows.slice(1).map(line)];
  }

  private dataInterface(layout: RecordLayout): string[] {
    const { record } = layout;
    const text = [
      ...(record.doc !== undefined ? [record.doc, ""] : []),
      `Plain-object form of ${record.name}, as \`${record.name}.write\` takes it and \`${record.name}.read\` returns it.`,
      "",
      ...this.offsetTable(layout),
      "",
      `byteLength ${layout.byteLength}, alignment ${layout.alignment}, fingerprint ${layout.fingerprint}.`,
    ].join("\n");
    const out = [...doc("", text), `export interface ${record.name}Data {`];
    for (const f of layout.fields) {
      if (f.field.doc !== undefined) out.push(...doc("  ", f.field.doc));
      out.push(`  ${f.field.name}: ${this.dataType(f.field.type)};`);
    }
    out.push("}");
    return out;
  }

  private viewClass(layout: RecordLayout): string[] {
    const { record } = layout;
    const name = record.name;
    this.rt("RecordView");
    this.runtimeTypes.add("RecordCodec");
    const out = [
      ...doc(
        "",
        `Flyweight view of one ${name} slot (${layout.byteLength} bytes); see {@link ${name}Data} for the layout.\n` +
          "Move it with `wrap()` (checked) or by assigning `byteOffset` (unchecked, no allocation).\n" +
          `Setters skip type and range checks (only capacities are checked); use \`${name}.write\` for checked writes.` +
          (layout.fields.some((f) => CHECKED_SETTER.has(f.field.type.kind))
            ? "\nA setter that throws FieldRangeError (a value too long, an array of the wrong length, an unknown literal) has written nothing."
            : ""),
      ),
      `export class ${name}View extends RecordView {`,
    ];
    const children = layout.fields.filter((f) => f.field.type.kind === "record");
    for (const f of children) {
      const t = f.field.type as Extract<FieldType, { kind: "record" }>;
      out.push(`  /** Cached child view of ${f.field.name}, repositioned on each access. */`);
      out.push(`  #${f.field.name}: ${this.recordRef(t.module, t.name)}View | undefined;`);
    }
    out.push(`  /** The layout of ${name}. */`);
    out.push(`  get layout(): RecordCodec<${name}View, ${name}Data> { return ${name}; }`);
    for (const f of layout.fields) out.push(...this.accessors(name, f));
    out.push("}");
    return out;
  }

  /** Doc comment of an accessor: the field's own doc plus where it lives. */
  private accessorDoc(f: FieldLayout): string[] {
    const where = `${typeSpelling(f.field.type)} at offset ${f.offset}, ${f.size} byte${f.size === 1 ? "" : "s"}`;
    const text = f.field.doc === undefined ? `${where}.` : f.field.doc.includes("\n") ? `${f.field.doc}\n\n(${where})` : `${f.field.doc} (${where})`;
    return doc("  ", text);
  }

  private accessors(record: string, f: FieldLayout): string[] {
    const { name, type } = f.field;
    const off = f.offset;
    const out = this.accessorDoc(f);
    const one = (get: string, set: string): void => {
      out.push(`  get ${name}(): ${get}`, `  set ${name}(${set}`);
    };
    switch (type.kind) {
      case "scalar": {
        const el = `${arrayOf(type.scalar)}[${index(type.scalar, off)}]`;
        const t = jsType(type.scalar);
        if (type.scalar === "bool") one(`${t} { return ${el} !== 0; }`, `value: ${t}) { ${el} = value ? 1 : 0; }`);
        else one(`${t} { return ${el}!; }`, `value: ${t}) { ${el} = value; }`);
        break;
      }
      case "enum": {
        const e = this.enumRef(type.decl);
        const el = `${arrayOf(type.decl.storage)}[${index(type.decl.storage, off)}]`;
        one(`${e} { return ${el}! as ${e}; }`, `value: ${e}) { ${el} = value; }`);
        break;
      }
      case "literals": {
        const { values, index: map } = this.literalTables(record, name, type);
        const el = `${arrayOf(type.storage)}[${index(type.storage, off)}]`;
        const union = type.values.map(str).join(" | ");
        this.rt("FieldRangeError");
        out.push(
          `  get ${name}(): ${union} { return ${values}[${el}!]!; }`,
          `  set ${name}(value: ${union}) {`,
          `    const index = ${map}.get(value);`,
          `    if (index === undefined) throw new FieldRangeError(${str(record)}, ${str(name)}, JSON.stringify(value) + ${str(` is not one of ${union}`)});`,
          `    ${el} = index;`,
          "  }",
        );
        break;
      }
      case "utf8":
      case "bytes": {
        const p = SCALAR_SIZE[type.prefix];
        const len = p === 1 ? "this._u8[at]" : `this._${type.prefix}[at >>> ${SHIFT[p]}]`;
        const cap = type.capacity;
        if (type.kind === "utf8") {
          this.rt("readUtf8");
          this.rt("writeUtf8");
          out.push(
            `  get ${name}(): string {`,
            `    const at = this.byteOffset + ${off};`,
            `    return readUtf8(this._u8, at + ${p}, ${len}!);`,
            "  }",
            `  set ${name}(value: string) {`,
            `    const at = this.byteOffset + ${off};`,
            `    ${len} = writeUtf8(this._u8, at + ${p}, ${cap}, value, ${str(record)}, ${str(name)});`,
            "  }",
          );
        } else {
          this.rt("FieldRangeError");
          out.push(
            `  get ${name}(): Uint8Array {`,
            `    const at = this.byteOffset + ${off};`,
            `    return this._u8.subarray(at + ${p}, at + ${p} + ${len}!);`,
            "  }",
            `  set ${name}(value: Uint8Array) {`,
            `    if (value.byteLength > ${cap}) {`,
            `      throw new FieldRangeError(${str(record)}, ${str(name)}, \`\${value.byteLength} bytes exceed the field's ${cap} bytes\`);`,
            "    }",
            `    const at = this.byteOffset + ${off};`,
            `    this._u8.set(value, at + ${p});`,
            `    ${len} = value.byteLength;`,
            "  }",
          );
        }
        break;
      }
      case "array": {
        const size = SCALAR_SIZE[type.element];
        const start = index(type.element, off);
        const end = size === 1 ? `this.byteOffset + ${off + type.length}` : `(this.byteOffset >>> ${SHIFT[size]}) + ${off / size + type.length}`;
        this.rt("FieldRangeError");
        out.push(
          `  get ${name}(): ${ARRAY_CLASS[type.element]} { return this._${type.element}.subarray(${start}, ${end}); }`,
          `  set ${name}(value: ArrayLike<${jsType(type.element)}>) {`,
          `    if (value.length !== ${type.length}) {`,
          `      throw new FieldRangeError(${str(record)}, ${str(name)}, \`array length \${value.length}, expected exactly ${type.length}\`);`,
          "    }",
          `    this._${type.element}.set(value, ${start});`,
          "  }",
        );
        break;
      }
      case "record": {
        const child = this.recordRef(type.module, type.name);
        out.push(
          `  get ${name}(): ${child}View {`,
          `    const view = (this.#${name} ??= new ${child}View());`,
          `    return view._wrapSlab(this._slab, this.byteOffset + ${off});`,
          "  }",
          `  set ${name}(value: ${child}Data) { ${child}.write(this.${name}, value); }`,
        );
        break;
      }
    }
    return out;
  }

  private codec(layout: RecordLayout): string[] {
    const { record } = layout;
    this.runtimeTypes.add("GeneratedCodec");
    const n = record.name;
    const out = [
      ...doc("", `Codec for ${n}: layout, views, and checked conversion to and from {@link ${n}Data}.`),
      `export const ${n} = {`,
      `  name: ${str(n)},`,
      `  byteLength: ${layout.byteLength},`,
      `  alignment: ${layout.alignment},`,
      `  fingerprint: ${str(layout.fingerprint)},`,
      "  fields: [",
    ];
    for (const f of layout.fields) {
      out.push(
        `    { name: ${str(f.field.name)}, kind: ${str(fieldKind(f.field.type))}, type: ${str(typeSpelling(f.field.type))}, ` +
          `offset: ${f.offset}, size: ${f.size}, alignment: ${f.alignment} },`,
      );
    }
    out.push(
      "  ],",
      `  /** A new view; wrapped (checked) over \`buffer\` at \`byteOffset\` when a buffer is given. */`,
      `  view(buffer?: ArrayBufferLike, byteOffset = 0): ${n}View {`,
      `    const view = new ${n}View();`,
      "    return buffer === undefined ? view : view.wrap(buffer, byteOffset);",
      "  },",
      "  /** Copies the record under `view` into a new plain object (bytes and arrays are copied too). */",
      `  read(view: ${n}View): ${n}Data {`,
      "    return {",
      ...layout.fields.map((f) => `      ${f.field.name}: ${this.readExpr(f.field)},`),
      "    };",
      "  },",
      "  /**",
      "   * Writes `data` into the slot under `view`. Every field is checked before any byte is",
      "   * written, so a bad record throws and leaves the slot unchanged.",
      "   */",
      `  write(view: ${n}View, data: ${n}Data): void {`,
      `    ${n}.assign(view, ${n}.check(data));`,
      "  },",
      "  /**",
      "   * Checks that `data` is a valid record without writing it and returns it typed.",
      "   * `record` and `path` name the outermost record and the field path in errors (for nesting).",
      "   */",
      `  check(data: unknown, record: string = ${str(n)}, path: string = ""): ${n}Data {`,
      "    if (data === null || typeof data !== \"object\") {",
      `      throw new ${this.rt("RecordFieldError")}(record, path === "" ? "(record)" : path.slice(0, -1), ${str(`an object (${n}Data)`)}, data);`,
      "    }",
      `    const d = data as ${n}Data;`,
      ...layout.fields.flatMap((f) => this.checkLines(n, f.field)),
      "    return d;",
      "  },",
      "  /** Stores an already checked `data` through the view's setters (no type or range checks). */",
      `  assign(view: ${n}View, data: ${n}Data): void {`,
      ...layout.fields.map((f) =>
        f.field.type.kind === "record"
          ? `    ${f.field.type.name}.assign(view.${f.field.name}, data.${f.field.name});`
          : `    view.${f.field.name} = data.${f.field.name};`,
      ),
      "  },",
      `} as const satisfies GeneratedCodec<${n}View, ${n}Data>;`,
    );
    return out;
  }

  private readExpr(field: FieldDecl): string {
    const v = `view.${field.name}`;
    switch (field.type.kind) {
      case "bytes": return `${v}.slice()`;
      case "array": return `Array.from(${v})`;
      case "record": return `${field.type.name}.read(${v})`;
      default: return v;
    }
  }

  /** Statements of `check()` for one field; `d` is the object, `record`/`path` name it. */
  private checkLines(record: string, field: FieldDecl): string[] {
    const name = field.name;
    // Checks get (path, name) and join them only when they throw; throw sites join eagerly.
    const at = `path, ${str(name)}`;
    const joined = `path + ${str(name)}`;
    const v = `d.${name}`;
    const t = field.type;
    const intCheck = (scalar: IntScalar, value: string, label: string): string => {
      const [min, max] = INT_RANGE[scalar];
      return `${this.rt("checkInt")}(record, ${at}, ${value}, ${min}, ${max}, ${str(label)})`;
    };
    // The success path is an inline predicate; the runtime helper is called only to
    // throw the precise error. Calling helpers for every field pushed the checked
    // append path past the JIT's inlining depth and made it 7x slower.
    const scalarCheck = (scalar: Scalar, value: string): string => {
      if (scalar === "bool") return `if (typeof ${value} !== "boolean") ${this.rt("checkBool")}(record, ${at}, ${value})`;
      if (scalar === "f32" || scalar === "f64") return `if (typeof ${value} !== "number") ${this.rt("checkFloat")}(record, ${at}, ${value})`;
      if (scalar === "u64" || scalar === "i64") {
        const [min, max] = BIG_RANGE[scalar];
        return `if (!(typeof ${value} === "bigint" && ${value} >= ${min}n && ${value} <= ${max}n)) ${this.rt("checkBigInt")}(record, ${at}, ${value}, ${min}n, ${max}n, ${str(scalar)})`;
      }
      // One integer identity per type tests "integer in range" (NaN, fractions and
      // out-of-range values change under the conversion); cheaper than isInteger + bounds.
      return `if (!(typeof ${value} === "number" && ${INT_IDENTITY[scalar](value)} === ${value})) ${intCheck(scalar, value, scalar)}`;
    };
    switch (t.kind) {
      case "scalar":
        return [`    ${scalarCheck(t.scalar, v)};`];
      case "enum": {
        const e = this.enumRef(t.decl);
        const [min, max] = [Math.min(...t.decl.members.map((m) => m.value)), Math.max(...t.decl.members.map((m) => m.value))];
        const check = `${this.rt("checkInt")}(record, ${at}, ${v}, ${min}, ${max}, ${str(e)})`;
        if (ModuleEmitter.contiguous(t.decl)) return [`    ${check};`];
        const set = this.enumMembers(t.decl);
        return [
          `    if (!${set}.has(${check})) {`,
          `      throw new ${this.rt("FieldRangeError")}(record, ${joined}, \`\${${v}} is not a member of enum ${e}\`);`,
          "    }",
        ];
      }
      case "literals": {
        const { index } = this.literalTables(record, name, t);
        return [
          `    if (!${index}.has(${this.rt("checkString")}(record, ${at}, ${v}))) {`,
          `      throw new ${this.rt("FieldRangeError")}(record, ${joined}, JSON.stringify(${v}) + ${str(` is not one of ${t.values.map(str).join(" | ")}`)});`,
          "    }",
        ];
      }
      case "utf8": {
        // A UTF-16 unit takes at most 3 UTF-8 bytes, so short strings skip the byte count.
        const fast = Math.floor(t.capacity / 3);
        this.rt("utf8Length");
        return [
          "    {",
          `      const s = ${this.rt("checkString")}(record, ${at}, ${v});`,
          `      if (s.length > ${fast} && utf8Length(s) > ${t.capacity}) {`,
          `        throw new ${this.rt("FieldRangeError")}(record, ${joined}, \`UTF-8 length \${utf8Length(s)} exceeds the field's ${t.capacity} bytes\`);`,
          "      }",
          "    }",
        ];
      }
      case "bytes":
        return [`    ${this.rt("checkBytes")}(record, ${at}, ${v}, ${t.capacity});`];
      case "array":
        return [
          "    {",
          `      const a = ${this.rt("checkArray")}(record, ${at}, ${v}, ${t.length});`,
          `      for (let i = 0; i < ${t.length}; i++) {`,
          "        const x = a[i];",
          `        ${scalarCheck(t.element, "x")};`,
          "      }",
          "    }",
        ];
      case "record":
        // A top-level nested field passes a constant path: no string is built on the success path.
        return [`    ${this.recordRef(t.module, t.name)}.check(${v}, record, path === "" ? ${str(`${name}.`)} : path + ${str(`${name}.`)});`];
    }
  }
}

/** The `FieldInfo.kind` of a field type. */
function fieldKind(type: FieldType): string {
  switch (type.kind) {
    case "scalar": return type.scalar;
    case "literals": return "enum";
    default: return type.kind;
  }
}
