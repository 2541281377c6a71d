/**
 * Record layout: field offsets, padding, alignment, size and fingerprint.
 *
 * Rules (the on-buffer format, so they only change with a format version):
 * - little-endian (the runtime refuses big-endian platforms);
 * - fields in declaration order, never reordered, so the layout is what the
 *   schema author reads;
 * - each field at the next multiple of its natural alignment; the record's
 *   alignment is its largest field alignment and its size is rounded up to it,
 *   so records can sit back to back in a buffer and every typed-array index
 *   a view computes (`byteOffset >>> shift`) is exact.
 */
import { CodegenError } from "./diagnostic.ts";
import { SCALAR_SIZE, recordKey } from "./ir.ts";
import type { FieldDecl, FieldType, RecordDecl, SchemaModule } from "./ir.ts";

/** Where one field sits in its record. */
export interface FieldLayout {
  readonly field: FieldDecl;
  /** Byte offset from the start of the record. */
  readonly offset: number;
  /** Bytes the field occupies, including a length prefix. */
  readonly size: number;
  /** Alignment of the field in bytes. */
  readonly alignment: number;
}

/** The computed layout of one record. */
export interface RecordLayout {
  readonly record: RecordDecl;
  readonly fields: readonly FieldLayout[];
  /** Padded size in bytes, a multiple of `alignment`. */
  readonly byteLength: number;
  /** Largest field alignment (at least 1). */
  readonly alignment: number;
  /** The canonical description hashed into the fingerprint. */
  readonly canonical: string;
  /** FNV-1a 64 of `canonical`, 16 lowercase hex digits. */
  readonly fingerprint: string;
}

/** Layouts of every record, keyed by {@link recordKey}, plus any problems found. */
export interface LayoutResult {
  readonly layouts: ReadonlyMap<string, RecordLayout>;
  readonly errors: CodegenError[];
}

/** Version tag of the layout rules; part of every fingerprint. */
const FORMAT = "atomic-log/1";

/** Canonical spelling of a field type, also shown to users as `FieldInfo.type`. */
export function typeSpelling(type: FieldType): string {
  switch (type.kind) {
    case "scalar": return type.scalar;
    case "utf8": return `utf8<${type.capacity}>`;
    case "bytes": return `bytes<${type.capacity}>`;
    case "array": return `Fixed<${type.element}, ${type.length}>`;
    case "enum": return type.decl.name;
    case "literals": return type.values.map((v) => JSON.stringify(v)).join(" | ");
    case "record": return type.name;
  }
}

/** Rounds `n` up to a multiple of `align` (a power of two). */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/**
 * Computes the layout of every record in `modules`. A record that contains
 * itself, directly or through other records, has no finite layout: each such
 * cycle is reported once, at the field that closes it.
 */
export function computeLayouts(modules: readonly SchemaModule[]): LayoutResult {
  const records = new Map<string, RecordDecl>();
  for (const m of modules) for (const r of m.records) records.set(recordKey(m.path, r.name), r);

  const layouts = new Map<string, RecordLayout>();
  const errors: CodegenError[] = [];
  const failed = new Set<string>();
  // Path of records being laid out, for cycle detection and the error message.
  const stack: { key: string; field: string }[] = [];

  const visit = (key: string): RecordLayout | undefined => {
    const done = layouts.get(key);
    if (done !== undefined) return done;
    if (failed.has(key)) return undefined;
    const record = records.get(key);
    if (record === undefined) return undefined; // unknown refs are reported by the parser
    stack.push({ key, field: "" });
    let ok = true;
    const children = new Map<string, RecordLayout>();
    for (const field of record.fields) {
      if (field.type.kind !== "record") continue;
      const childKey = recordKey(field.type.module, field.type.name);
      stack[stack.length - 1]!.field = field.name;
      const at = stack.findIndex((s) => s.key === childKey);
      if (at >= 0) {
        const path = stack.slice(at).map((s) => `${records.get(s.key)!.name}.${s.field}`);
        errors.push(
          new CodegenError(
            field.typePos,
            `${record.name}.${field.name}: record "${field.type.name}" contains itself (${path.join(" -> ")} -> ${field.type.name})`,
          ),
        );
        ok = false;
        continue;
      }
      const child = visit(childKey);
      if (child === undefined) ok = false;
      else children.set(childKey, child);
    }
    stack.pop();
    if (!ok) {
      failed.add(key);
      return undefined;
    }
    const layout = layoutRecord(record, (module, name) => children.get(recordKey(module, name))!);
    layouts.set(key, layout);
    return layout;
  };

  // Visit in module order, then declaration order, so cycle reports are deterministic.
  for (const m of modules) for (const r of m.records) visit(recordKey(m.path, r.name));
  return { layouts, errors };
}

/** Lays out one record whose nested records are already laid out. */
function layoutRecord(record: RecordDecl, child: (module: string, name: string) => RecordLayout): RecordLayout {
  const fields: FieldLayout[] = [];
  const parts: string[] = [];
  let end = 0;
  let alignment = 1;
  for (const field of record.fields) {
    const { size, align, canonical } = measure(field.type, child);
    const offset = alignUp(end, align);
    fields.push({ field, offset, size, alignment: align });
    parts.push(`${field.name}:${canonical}@${offset}+${size}`);
    end = offset + size;
    alignment = Math.max(alignment, align);
  }
  const byteLength = alignUp(end, alignment);
  const canonical = `${FORMAT};${record.name}{${parts.join(";")}}=${byteLength}/${alignment}`;
  return { record, fields, byteLength, alignment, canonical, fingerprint: fnv1a64(canonical) };
}

/** Size, alignment and canonical description of a field type. */
function measure(
  type: FieldType,
  child: (module: string, name: string) => RecordLayout,
): { size: number; align: number; canonical: string } {
  switch (type.kind) {
    case "scalar": {
      const size = SCALAR_SIZE[type.scalar];
      return { size, align: size, canonical: type.scalar };
    }
    case "utf8":
    case "bytes": {
      const prefix = SCALAR_SIZE[type.prefix];
      return { size: prefix + type.capacity, align: prefix, canonical: `${type.kind}<${type.capacity}>/${type.prefix}` };
    }
    case "array": {
      const size = SCALAR_SIZE[type.element];
      return { size: size * type.length, align: size, canonical: `${type.element}[${type.length}]` };
    }
    case "enum": {
      const size = SCALAR_SIZE[type.decl.storage];
      const members = type.decl.members.map((m) => `${m.name}=${m.value}`).join(",");
      return { size, align: size, canonical: `enum ${type.decl.name}:${type.decl.storage}(${members})` };
    }
    case "literals": {
      const size = SCALAR_SIZE[type.storage];
      return { size, align: size, canonical: `literals:${type.storage}(${type.values.map((v) => JSON.stringify(v)).join(",")})` };
    }
    case "record": {
      const layout = child(type.module, type.name);
      return { size: layout.byteLength, align: layout.alignment, canonical: `record ${layout.canonical}` };
    }
  }
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a 64 over the UTF-8 bytes of `text`, as 16 lowercase hex digits. */
export function fnv1a64(text: string): string {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK64;
  }
  return hash.toString(16).padStart(16, "0");
}
