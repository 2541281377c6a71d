/**
 * The generator's intermediate representation (IR).
 *
 * `parse.ts` turns schema source into these plain objects; `layout.ts` adds
 * offsets; `emit.ts` renders them. Keeping the IR free of ts-morph nodes means
 * layout and emit are pure functions that are easy to test and cannot depend
 * on parse order or on the compiler's internal state (determinism).
 */

/** A source position, 1-based, as printed in `file:line:col` diagnostics. */
export interface SourcePos {
  /** Path of the schema file as the user named it (schemas dir joined with the file name). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
}

/** Integer storage types of at most 32 bits (read as `number`). */
export type IntScalar = "u8" | "i8" | "u16" | "i16" | "u32" | "i32";
/** 64-bit integer storage types (read as `bigint`). */
export type BigScalar = "u64" | "i64";
/** Float storage types. */
export type FloatScalar = "f32" | "f64";
/** Every numeric scalar: the element types allowed in `Fixed<T, N>`. */
export type NumericScalar = IntScalar | BigScalar | FloatScalar;
/** Every scalar the schema language has. */
export type Scalar = NumericScalar | "bool";

/** A plain scalar field: `u8`..`f64`, `bool`. */
export interface ScalarType {
  readonly kind: "scalar";
  readonly scalar: Scalar;
}

/** `utf8<N>` or `bytes<N>`: a length prefix followed by `capacity` bytes. */
export interface VarBytesType {
  readonly kind: "utf8" | "bytes";
  /** N: the most bytes the field can hold. */
  readonly capacity: number;
  /** Type of the length prefix: u8 if N <= 255, u16 if N <= 65535, else u32. */
  readonly prefix: "u8" | "u16" | "u32";
}

/** `Fixed<T, N>`: exactly `length` elements of a numeric scalar, inline. */
export interface ArrayType {
  readonly kind: "array";
  readonly element: NumericScalar;
  readonly length: number;
}

/** One member of a TS enum, with its integer value. */
export interface EnumMember {
  /** The member's name as written (a quoted name keeps its quotes). */
  readonly name: string;
  readonly value: number;
  /** JSDoc text (without the comment markers), or undefined. */
  readonly doc: string | undefined;
}

/** A TS `enum` declared (and exported) in a schema file. */
export interface EnumDecl {
  readonly name: string;
  /** JSDoc text (without the comment markers), or undefined; copied onto the generated enum. */
  readonly doc: string | undefined;
  /** Schema file (relative to the schemas dir, posix) that declares it. */
  readonly module: string;
  readonly members: readonly EnumMember[];
  /** Smallest integer type that holds min..max of the member values. */
  readonly storage: IntScalar;
  readonly pos: SourcePos;
}

/** A field whose type is a TS enum; stored as the enum's integer value. */
export interface EnumType {
  readonly kind: "enum";
  readonly decl: EnumDecl;
}

/** A union of string literals; stored as the index of the literal in declaration order. */
export interface LiteralsType {
  readonly kind: "literals";
  readonly values: readonly string[];
  /** Smallest unsigned type that holds `values.length - 1`. */
  readonly storage: "u8" | "u16" | "u32";
}

/** A field whose type is another record interface, inlined at its alignment. */
export interface RecordRefType {
  readonly kind: "record";
  /** Name of the referenced record. */
  readonly name: string;
  /** Schema file (relative to the schemas dir, posix) that declares it. */
  readonly module: string;
}

/** Every field type the schema language can express. */
export type FieldType = ScalarType | VarBytesType | ArrayType | EnumType | LiteralsType | RecordRefType;

/** A field of a record, in declaration order. */
export interface FieldDecl {
  readonly name: string;
  /** JSDoc text (without the comment markers), or undefined. */
  readonly doc: string | undefined;
  readonly type: FieldType;
  /** Position of the field's name. */
  readonly pos: SourcePos;
  /** Position of the field's type node (where type errors point). */
  readonly typePos: SourcePos;
}

/** A record: an exported interface of a schema file. */
export interface RecordDecl {
  readonly name: string;
  /** Schema file (relative to the schemas dir, posix) that declares it. */
  readonly module: string;
  readonly doc: string | undefined;
  readonly fields: readonly FieldDecl[];
  /** Position of the interface's name. */
  readonly pos: SourcePos;
}

/** Everything parsed from one schema file. */
export interface SchemaModule {
  /** File name relative to the schemas dir, posix separators, e.g. `market.ts`. */
  readonly path: string;
  /** The path to show users, e.g. `schemas/market.ts` (schemas dir name + path). */
  readonly displayPath: string;
  /** Absolute path of the schema file (used only to compute relative imports). */
  readonly absPath: string;
  /** Records in declaration order. */
  readonly records: readonly RecordDecl[];
  /** Exported TS enums in declaration order (the generated module declares and exports each). */
  readonly enums: readonly EnumDecl[];
}

/** Byte size of each scalar. */
export const SCALAR_SIZE: Readonly<Record<Scalar, number>> = {
  u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8,
};

/** Every scalar name the schema language defines, in a stable order. */
export const SCALARS: readonly Scalar[] = ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "bool"];

/** Inclusive value ranges of the integer types of at most 32 bits. */
export const INT_RANGE: Readonly<Record<IntScalar, readonly [number, number]>> = {
  u8: [0, 0xff], i8: [-0x80, 0x7f], u16: [0, 0xffff], i16: [-0x8000, 0x7fff], u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff],
};

/** Inclusive value ranges of the 64-bit integer types. */
export const BIG_RANGE: Readonly<Record<BigScalar, readonly [bigint, bigint]>> = {
  u64: [0n, 0xffffffffffffffffn], i64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

/** Key that identifies a record across modules: `module#name`. */
export function recordKey(module: string, name: string): string {
  return `${module}#${name}`;
}
