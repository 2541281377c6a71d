/**
 * Schema source -> IR, with diagnostics.
 *
 * The parser reads syntax only (no type checker): a schema names its types
 * directly, so resolving identifiers through the file's own declarations and
 * imports is exact, an order of magnitude faster than building a program, and
 * independent of whatever `atomic-log/schema` resolves to in the user's
 * project. Every problem is collected (never thrown) so a run reports all of
 * them at once.
 *
 * ts-morph's parser recovers from syntax errors and still yields declarations
 * (an interface missing its `}` simply ends where the next `export` begins,
 * so the schema looked valid), so syntax errors are checked first, and while
 * any file has one nothing else is reported: later messages would describe
 * the parser's recovery, not the schema.
 */
import { Node, SyntaxKind, ts } from "ts-morph";
import type {
  EnumDeclaration,
  ImportDeclaration,
  InterfaceDeclaration,
  JSDocableNode,
  Project,
  SourceFile,
  TypeAliasDeclaration,
  TypeNode,
} from "ts-morph";
import { CodegenError, CodegenWarning } from "./diagnostic.ts";
import { SCALARS } from "./ir.ts";
import type {
  EnumDecl,
  EnumMember,
  FieldDecl,
  FieldType,
  IntScalar,
  NumericScalar,
  RecordDecl,
  Scalar,
  SchemaModule,
  SourcePos,
} from "./ir.ts";

/** One schema file to parse. */
export interface SchemaSource {
  /** File name relative to the schemas dir, posix separators. */
  readonly path: string;
  /** Path shown in diagnostics (the schemas dir as given, joined with `path`). */
  readonly file: string;
  /** Path shown in generated headers, e.g. `schemas/market.ts`. */
  readonly displayPath: string;
  /** Absolute path (for relative imports in generated code). */
  readonly absPath: string;
  /** Source text. */
  readonly text: string;
}

/** What {@link parseSchemas} found. */
export interface ParseResult {
  /** One module per source, in the order given. */
  readonly modules: SchemaModule[];
  readonly errors: CodegenError[];
  /** Exported declarations that were skipped (not records); empty when there are syntax errors. */
  readonly warnings: CodegenWarning[];
}

/** Field names the view base class uses; a field with one of these names would shadow it. */
const RESERVED_FIELDS = new Set(["byteOffset", "layout", "buffer", "wrap", "constructor"]);

/**
 * Top-level names every generated module may import from the runtime, plus
 * `records`. A record or enum with one of these names would shadow them.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "records", "RecordView", "Slab", "RecordCodec", "GeneratedCodec", "FieldInfo", "FieldKind", "ViewLayout",
  "readUtf8", "writeUtf8", "truncateUtf8", "utf8Length",
  "checkArray", "checkBigInt", "checkBool", "checkBytes", "checkFloat", "checkInt", "checkObject", "checkString",
  "FieldRangeError", "RecordFieldError",
]);

const SCALAR_SET: ReadonlySet<string> = new Set(SCALARS);
const BUILTINS: ReadonlySet<string> = new Set([...SCALARS, "utf8", "bytes", "Fixed"]);

/** What an identifier in a type position refers to. */
type Resolved =
  | { kind: "builtin"; name: string }
  | { kind: "interface"; file: FileCtx; decl: InterfaceDeclaration }
  | { kind: "enum"; file: FileCtx; decl: EnumDeclaration }
  | { kind: "alias"; file: FileCtx; decl: TypeAliasDeclaration }
  | { kind: "missing"; message: string };

/** Declarations and imports of one schema file, indexed by name. */
interface FileCtx {
  readonly source: SchemaSource;
  readonly sf: SourceFile;
  readonly interfaces: Map<string, InterfaceDeclaration[]>;
  readonly enums: Map<string, EnumDeclaration>;
  readonly aliases: Map<string, TypeAliasDeclaration>;
  /** Local name -> (module specifier, imported name). */
  readonly imports: Map<string, { decl: ImportDeclaration; name: string }>;
  /** Namespace import local name -> module specifier. */
  readonly namespaces: Map<string, string>;
}

/** A record name as declared, valid or not. */
interface DeclaredName {
  readonly name: string;
  readonly pos: SourcePos;
}

/** Context for the field being resolved, used to prefix messages. */
interface FieldCtx {
  readonly label: string;
  readonly file: FileCtx;
}

/**
 * Parses every schema in `sources` into IR. Files are added to `project`
 * (an in-memory ts-morph project) and removed again afterwards, so one
 * project can serve many runs.
 */
export function parseSchemas(project: Project, sources: readonly SchemaSource[]): ParseResult {
  const errors: CodegenError[] = [];
  const files = new Map<string, FileCtx>();
  const added: SourceFile[] = [];
  try {
    for (const source of sources) {
      const sf = project.createSourceFile(source.absPath, source.text, { overwrite: true });
      added.push(sf);
      files.set(source.path, indexFile(source, sf));
    }
    const syntax = syntaxErrors(project, [...files.values()]);
    if (syntax.length > 0) return { modules: [], errors: syntax, warnings: [] };
    const parser = new Parser(files, errors);
    const modules = sources.map((s) => parser.module(files.get(s.path)!));
    checkNames(modules, parser.declared, errors);
    for (const s of sources) parser.skippedExports(files.get(s.path)!);
    return { modules, errors, warnings: parser.warnings };
  } finally {
    for (const sf of added) project.removeSourceFile(sf);
  }
}

/**
 * TypeScript's syntax errors in `files`, as the compiler words them. These are
 * the parser's own diagnostics (the program's syntactic pass: no type
 * checking, no lib files), so they cost a few milliseconds.
 */
function syntaxErrors(project: Project, files: readonly FileCtx[]): CodegenError[] {
  const program = project.getProgram().compilerObject;
  const errors: CodegenError[] = [];
  for (const file of files) {
    for (const d of program.getSyntacticDiagnostics(file.sf.compilerNode)) {
      const { line, column } = file.sf.getLineAndColumnAtPos(d.start ?? 0);
      const text = ts.flattenDiagnosticMessageText(d.messageText, " ").replace(/\.$/, "");
      errors.push(new CodegenError({ file: file.source.file, line, col: column }, `syntax error: ${text} (TS${d.code})`));
    }
  }
  return errors;
}

function indexFile(source: SchemaSource, sf: SourceFile): FileCtx {
  const ctx: FileCtx = {
    source, sf,
    interfaces: new Map(), enums: new Map(), aliases: new Map(), imports: new Map(), namespaces: new Map(),
  };
  for (const d of sf.getInterfaces()) {
    const list = ctx.interfaces.get(d.getName()) ?? [];
    list.push(d);
    ctx.interfaces.set(d.getName(), list);
  }
  for (const d of sf.getEnums()) if (!ctx.enums.has(d.getName())) ctx.enums.set(d.getName(), d);
  for (const d of sf.getTypeAliases()) if (!ctx.aliases.has(d.getName())) ctx.aliases.set(d.getName(), d);
  for (const d of sf.getImportDeclarations()) {
    for (const n of d.getNamedImports()) ctx.imports.set(n.getAliasNode()?.getText() ?? n.getName(), { decl: d, name: n.getName() });
    const ns = d.getNamespaceImport();
    if (ns !== undefined) ctx.namespaces.set(ns.getText(), d.getModuleSpecifierValue());
  }
  return ctx;
}

/** Position of `node`'s first token, 1-based. */
function posOf(file: FileCtx, node: Node): SourcePos {
  const { line, column } = file.sf.getLineAndColumnAtPos(node.getStart());
  return { file: file.source.file, line, col: column };
}

/** Source text of a node on one line, for messages. */
function spell(node: Node): string {
  return node.getText().replace(/\s+/g, " ");
}

/** The JSDoc of a node as plain text (last comment wins, like TypeScript's own hover). */
function docOf(node: JSDocableNode): string | undefined {
  const docs = node.getJsDocs();
  const last = docs[docs.length - 1];
  if (last === undefined) return undefined;
  const text = last
    .getInnerText()
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
  return text === "" ? undefined : text;
}

/** Parser state shared by all files of one run. */
class Parser {
  /** Exported interface declarations per module, in order, for name checks. */
  readonly declared = new Map<string, DeclaredName[]>();
  /** Skipped exported declarations, filled by {@link skippedExports}. */
  readonly warnings: CodegenWarning[] = [];
  private readonly enumCache = new Map<EnumDeclaration, EnumDecl | null>();
  /** Type aliases some record field resolved through: these are not skipped. */
  private readonly usedAliases = new Set<TypeAliasDeclaration>();

  constructor(
    private readonly files: ReadonlyMap<string, FileCtx>,
    private readonly errors: CodegenError[],
  ) {}

  private error(pos: SourcePos, message: string): void {
    this.errors.push(new CodegenError(pos, message));
  }

  /** Records and exported enums of one file, in declaration order. */
  module(file: FileCtx): SchemaModule {
    const records: RecordDecl[] = [];
    const seen = new Set<string>();
    const declared: DeclaredName[] = [];
    for (const decl of file.sf.getInterfaces()) {
      if (!decl.isExported()) continue;
      const name = decl.getName();
      // Every declaration counts for name checks, valid or not, merged or not.
      declared.push({ name, pos: posOf(file, decl.getNameNode()) });
      if (seen.has(name)) continue; // declaration merging: reported as a duplicate by checkNames
      seen.add(name);
      const record = this.record(file, decl);
      if (record !== undefined) records.push(record);
    }
    this.declared.set(file.source.path, declared);
    const enums: EnumDecl[] = [];
    for (const decl of file.sf.getEnums()) {
      if (!decl.isExported()) continue;
      const e = this.enumDecl(file, decl);
      if (e !== undefined) enums.push(e);
    }
    return {
      path: file.source.path,
      displayPath: file.source.displayPath,
      absPath: file.source.absPath,
      records,
      enums,
    };
  }

  /**
   * Warns about exported declarations of `file` that generate nothing, so a
   * user who wrote `export type Trade = {...}` or `export class Trade` learns
   * why no `Trade` appeared. Exported interfaces are records and exported enums
   * are declared again by the generated module, so neither is reported; non-exported declarations are
   * private helpers by intent (an unexported interface used as a field is
   * already an error), so they are not reported either. Run after every module
   * is parsed: an alias counts as used if a field in any file resolved it.
   */
  skippedExports(file: FileCtx): void {
    const recordsOnly = "only exported interfaces become records (enums and type aliases serve as field types)";
    const warn = (node: Node, what: string, why: string = recordsOnly): void => {
      this.warnings.push(new CodegenWarning(posOf(file, node), `skipped ${what}: ${why}`));
    };
    for (const statement of file.sf.getStatements()) {
      if (Node.isInterfaceDeclaration(statement) || Node.isEnumDeclaration(statement)) continue;
      if (Node.isTypeAliasDeclaration(statement)) {
        if (!statement.isExported() || this.usedAliases.has(statement)) continue;
        const hint = Node.isTypeLiteral(statement.getTypeNode()) ? ` (write "export interface ${statement.getName()} { ... }" for a record)` : "";
        warn(statement.getNameNode(), `exported type alias "${statement.getName()}"`, `only exported interfaces become records${hint}, and no record field uses this alias`);
      } else if (Node.isClassDeclaration(statement) || Node.isFunctionDeclaration(statement)) {
        if (!statement.isExported()) continue;
        const kind = Node.isClassDeclaration(statement) ? "class" : "function";
        const name = statement.getName();
        warn(statement.getNameNode() ?? statement, name === undefined ? `default-exported ${kind}` : `exported ${kind} "${name}"`);
      } else if (Node.isVariableStatement(statement)) {
        if (!statement.isExported()) continue;
        for (const d of statement.getDeclarations()) warn(d.getNameNode(), `exported ${statement.getDeclarationKind()} "${spell(d.getNameNode())}"`);
      } else if (Node.isModuleDeclaration(statement)) {
        if (!statement.isExported()) continue;
        const names = statement.getNameNodes();
        warn(Array.isArray(names) ? names[0]! : names, `exported namespace "${statement.getName()}"`);
      } else if (Node.isExportDeclaration(statement)) {
        // `export { A }` names local declarations, each judged above; only re-exports are skipped.
        const spec = statement.getModuleSpecifierValue();
        if (spec !== undefined) warn(statement, `re-export from "${spec}"`, "a generated module holds only its own schema file's records");
      } else if (Node.isExportAssignment(statement)) {
        // `export default Name` exports a declaration judged above; any other value is skipped.
        if (!Node.isIdentifier(statement.getExpression())) warn(statement, statement.isExportEquals() ? '"export =" value' : "default-exported value");
      }
    }
  }

  private record(file: FileCtx, decl: InterfaceDeclaration): RecordDecl | undefined {
    const name = decl.getName();
    const pos = posOf(file, decl.getNameNode());
    let ok = true;
    if (decl.getTypeParameters().length > 0) {
      this.error(pos, `${name}: generic interfaces cannot be records; declare concrete field types`);
      ok = false;
    }
    const heritage = decl.getExtends()[0];
    if (heritage !== undefined) {
      this.error(posOf(file, heritage), `${name}: "extends" is not supported in records; list every field`);
      ok = false;
    }
    const fields: FieldDecl[] = [];
    const names = new Set<string>();
    for (const member of decl.getMembers()) {
      if (Node.isPropertySignature(member)) {
        const field = this.field(file, name, member);
        if (field === undefined) { ok = false; continue; }
        if (names.has(field.name)) {
          this.error(field.pos, `${name}.${field.name}: duplicate field name`);
          ok = false;
          continue;
        }
        names.add(field.name);
        fields.push(field);
      } else if (Node.isIndexSignatureDeclaration(member)) {
        this.error(posOf(file, member), `${name}: index signatures are not supported; declare each field with a fixed type`);
        ok = false;
      } else if (Node.isMethodSignature(member) || Node.isCallSignatureDeclaration(member) || Node.isConstructSignatureDeclaration(member)) {
        const label = Node.isMethodSignature(member) ? `${name}.${member.getName()}` : name;
        this.error(posOf(file, member), `${label}: methods are not allowed in a record; records hold data only`);
        ok = false;
      } else {
        this.error(posOf(file, member), `${name}: unsupported member "${spell(member)}"; records hold plain fields only`);
        ok = false;
      }
    }
    if (decl.getMembers().length === 0) {
      this.error(pos, `${name}: a record needs at least one field`);
      ok = false;
    }
    if (!ok) return undefined;
    return { name, module: file.source.path, doc: docOf(decl), fields, pos };
  }

  private field(file: FileCtx, record: string, member: import("ts-morph").PropertySignature): FieldDecl | undefined {
    const nameNode = member.getNameNode();
    const pos = posOf(file, nameNode);
    if (!Node.isIdentifier(nameNode)) {
      this.error(pos, `${record}: field name ${spell(nameNode)} must be a plain identifier`);
      return undefined;
    }
    const name = nameNode.getText();
    const label = `${record}.${name}`;
    let ok = true;
    if (RESERVED_FIELDS.has(name) || name.startsWith("_")) {
      this.error(pos, `${label}: the field name "${name}" is reserved by the view class (no "_" prefix, byteOffset, layout, buffer, wrap)`);
      ok = false;
    }
    if (member.hasQuestionToken()) {
      this.error(pos, `${label}: optional fields are not supported; every field is always stored`);
      ok = false;
    }
    // TypeScript parses these and rejects them only in the checker (TS1070,
    // TS1246), which the generator does not run; left unchecked they were
    // silently ignored and a schema tsc refuses generated a module.
    for (const modifier of member.getModifiers()) {
      if (modifier.getKind() === SyntaxKind.ReadonlyKeyword) continue;
      this.error(posOf(file, modifier), `${label}: the "${modifier.getText()}" modifier cannot appear on an interface member; only "readonly" can`);
      ok = false;
    }
    const initializer = member.getInitializer();
    if (initializer !== undefined) {
      this.error(posOf(file, initializer), `${label}: an interface member cannot have an initializer (= ${spell(initializer)}); a record declares types, not values`);
      ok = false;
    }
    const typeNode = member.getTypeNode();
    if (typeNode === undefined) {
      this.error(pos, `${label}: a field needs a type`);
      return undefined;
    }
    const type = this.type({ label, file }, typeNode, new Set());
    if (type === undefined || !ok) return undefined;
    return { name, doc: docOf(member), type, pos, typePos: posOf(file, typeNode) };
  }

  /** Resolves a field's type node to an IR type, reporting problems at the node. */
  private type(ctx: FieldCtx, node: TypeNode, aliases: Set<TypeAliasDeclaration>): FieldType | undefined {
    const { file, label } = ctx;
    const pos = posOf(file, node);
    if (Node.isParenthesizedTypeNode(node)) return this.type(ctx, node.getTypeNode(), aliases);
    if (Node.isUnionTypeNode(node)) return this.literals(ctx, node.getTypeNodes(), node);
    if (Node.isLiteralTypeNode(node)) return this.literals(ctx, [node], node);
    if (Node.isArrayTypeNode(node) || Node.isTupleTypeNode(node)) {
      this.error(pos, `${label}: arrays need a fixed length and element type; use Fixed<T, N> (e.g. Fixed<f64, 4>) instead of ${spell(node)}`);
      return undefined;
    }
    if (Node.isTypeReference(node)) {
      const typeName = node.getTypeName();
      const resolved = this.resolveName(file, typeName);
      const args = node.getTypeArguments();
      switch (resolved.kind) {
        case "missing":
          this.error(pos, `${label}: ${resolved.message}`);
          return undefined;
        case "builtin":
          return this.builtin(ctx, resolved.name, args, node);
        case "interface":
          if (!resolved.decl.isExported()) {
            this.error(pos, `${label}: interface "${resolved.decl.getName()}" is not exported; export it to use it as a nested record`);
            return undefined;
          }
          if (args.length > 0) {
            this.error(pos, `${label}: record "${resolved.decl.getName()}" takes no type arguments`);
            return undefined;
          }
          return { kind: "record", name: resolved.decl.getName(), module: resolved.file.source.path };
        case "enum": {
          if (!resolved.decl.isExported()) {
            this.error(pos, `${label}: enum "${resolved.decl.getName()}" is not exported; export it (the generated module exports an enum of the same name and members)`);
            return undefined;
          }
          const decl = this.enumDecl(resolved.file, resolved.decl);
          return decl === undefined ? undefined : { kind: "enum", decl };
        }
        case "alias": {
          const alias = resolved.decl;
          if (aliases.has(alias) || alias.getTypeParameters().length > 0 || args.length > 0) {
            this.error(pos, `${label}: type alias "${alias.getName()}" is recursive or generic; field types must be concrete`);
            return undefined;
          }
          const target = alias.getTypeNode();
          if (target === undefined) return undefined;
          this.usedAliases.add(alias);
          aliases.add(alias);
          const type = this.type({ label, file: resolved.file }, target, aliases);
          aliases.delete(alias);
          return type;
        }
      }
    }
    const keyword: Partial<Record<SyntaxKind, string>> = {
      [SyntaxKind.NumberKeyword]: "use an explicit numeric type such as f64, i32 or u32",
      [SyntaxKind.StringKeyword]: "use utf8<N> with a byte capacity N",
      [SyntaxKind.BooleanKeyword]: "use bool",
      [SyntaxKind.BigIntKeyword]: "use u64 or i64",
    };
    const hint = keyword[node.getKind()];
    if (hint !== undefined) {
      this.error(pos, `${label}: unknown field type "${spell(node)}"; ${hint}`);
    } else if (Node.isTypeLiteral(node)) {
      this.error(pos, `${label}: inline object types are not supported; declare an exported interface and use it as a nested record`);
    } else {
      this.error(pos, `${label}: unknown field type "${spell(node)}"`);
    }
    return undefined;
  }

  /** A union of string literals (a single literal is a one-member union). */
  private literals(ctx: FieldCtx, members: readonly TypeNode[], whole: TypeNode): FieldType | undefined {
    const values: string[] = [];
    for (const m of members) {
      const inner = Node.isParenthesizedTypeNode(m) ? m.getTypeNode() : m;
      const literal = Node.isLiteralTypeNode(inner) ? inner.getLiteral() : undefined;
      if (literal === undefined || !Node.isStringLiteral(literal)) {
        this.error(
          posOf(ctx.file, whole),
          `${ctx.label}: a union field must be a union of string literals (e.g. "buy" | "sell"), got ${spell(whole)}`,
        );
        return undefined;
      }
      const value = literal.getLiteralValue();
      if (values.includes(value)) {
        this.error(posOf(ctx.file, m), `${ctx.label}: duplicate literal ${JSON.stringify(value)} in union`);
        return undefined;
      }
      values.push(value);
    }
    const storage = values.length <= 0x100 ? "u8" : values.length <= 0x10000 ? "u16" : "u32";
    return { kind: "literals", values, storage };
  }

  /** A schema-language type: scalar, utf8<N>, bytes<N> or Fixed<T, N>. */
  private builtin(ctx: FieldCtx, name: string, args: readonly TypeNode[], node: TypeNode): FieldType | undefined {
    const pos = posOf(ctx.file, node);
    const { label } = ctx;
    if (SCALAR_SET.has(name)) {
      if (args.length > 0) {
        this.error(pos, `${label}: ${name} takes no type arguments`);
        return undefined;
      }
      return { kind: "scalar", scalar: name as Scalar };
    }
    if (name === "utf8" || name === "bytes") {
      if (args.length !== 1) {
        this.error(pos, `${label}: ${name} takes one type argument, the capacity in bytes: ${name}<N>`);
        return undefined;
      }
      const capacity = this.length(ctx, args[0]!, `${name}<N>`);
      if (capacity === undefined) return undefined;
      const prefix = capacity <= 0xff ? "u8" : capacity <= 0xffff ? "u16" : "u32";
      return { kind: name, capacity, prefix };
    }
    // Fixed<T, N>
    if (args.length !== 2) {
      this.error(pos, `${label}: Fixed takes two type arguments, the element type and the length: Fixed<f64, 4>`);
      return undefined;
    }
    const elementNode = args[0]!;
    const element = this.type(ctx, elementNode, new Set());
    const length = this.length(ctx, args[1]!, "Fixed<T, N>");
    if (element === undefined) return undefined;
    if (element.kind !== "scalar" || element.scalar === "bool") {
      this.error(
        posOf(ctx.file, elementNode),
        `${label}: Fixed<T, N> needs a numeric element type (u8 i8 u16 i16 u32 i32 u64 i64 f32 f64), got ${spell(elementNode)}`,
      );
      return undefined;
    }
    if (length === undefined) return undefined;
    return { kind: "array", element: element.scalar as NumericScalar, length };
  }

  /** The N of utf8<N>, bytes<N> or Fixed<T, N>: an integer literal in [1, 2^32 - 1]. */
  private length(ctx: FieldCtx, node: TypeNode, form: string): number | undefined {
    const literal = Node.isLiteralTypeNode(node) ? node.getLiteral() : undefined;
    const value = literal !== undefined && Node.isNumericLiteral(literal) ? literal.getLiteralValue() : undefined;
    if (value === undefined || !Number.isInteger(value) || value < 1 || value > 0xffffffff) {
      this.error(posOf(ctx.file, node), `${ctx.label}: ${form} needs an integer literal N >= 1, got ${spell(node)}`);
      return undefined;
    }
    return value;
  }

  /** Validates a TS enum and picks its storage type; memoized so each problem is reported once. */
  enumDecl(file: FileCtx, decl: EnumDeclaration): EnumDecl | undefined {
    const cached = this.enumCache.get(decl);
    if (cached !== undefined) return cached ?? undefined;
    const name = decl.getName();
    let ok = true;
    if (decl.isConstEnum()) {
      this.error(posOf(file, decl.getNameNode()), `enum ${name}: const enums are not supported (their values are not assignable to the enum the generated module declares); drop "const"`);
      ok = false;
    }
    const members: EnumMember[] = [];
    let next = 0;
    for (const m of decl.getMembers()) {
      const init = m.getInitializer();
      let value: number | undefined = next;
      if (init !== undefined) {
        value = integerValue(init);
        if (value === undefined) {
          const what = Node.isStringLiteral(init) || Node.isNoSubstitutionTemplateLiteral(init) ? "string values are not supported (use a union of string literals)" : `got ${spell(init)}`;
          this.error(posOf(file, m), `enum ${name}: member ${m.getName()} must have an integer value; ${what}`);
          ok = false;
          continue;
        }
      }
      members.push({ name: m.getName(), value, doc: docOf(m) });
      next = value + 1;
    }
    if (ok && members.length === 0) {
      this.error(posOf(file, decl.getNameNode()), `enum ${name}: an enum needs at least one member`);
      ok = false;
    }
    let storage: IntScalar | undefined;
    if (ok) {
      const values = members.map((m) => m.value);
      storage = intStorage(Math.min(...values), Math.max(...values));
      if (storage === undefined) {
        this.error(posOf(file, decl.getNameNode()), `enum ${name}: values must fit in 32 bits (i32 or u32)`);
        ok = false;
      }
    }
    const result = ok ? { name, module: file.source.path, doc: docOf(decl), members, storage: storage!, pos: posOf(file, decl.getNameNode()) } : undefined;
    this.enumCache.set(decl, result ?? null);
    return result;
  }

  /** Follows an identifier (or `ns.name`) through local declarations and imports. */
  private resolveName(file: FileCtx, entity: Node): Resolved {
    if (Node.isQualifiedName(entity)) {
      const left = entity.getLeft().getText();
      const right = entity.getRight().getText();
      const spec = file.namespaces.get(left);
      if (spec === undefined) return { kind: "missing", message: `unknown field type "${spell(entity)}"` };
      return this.resolveImport(file, spec, right, spell(entity));
    }
    const name = entity.getText();
    const local = this.resolveLocal(file, name);
    if (local !== undefined) return local;
    const imported = file.imports.get(name);
    if (imported !== undefined) return this.resolveImport(file, imported.decl.getModuleSpecifierValue(), imported.name, name);
    // Not declared or imported: accept the schema language's own names, so a
    // schema that forgot its import still means what it says.
    if (BUILTINS.has(name)) return { kind: "builtin", name };
    return { kind: "missing", message: `unknown field type "${name}"` };
  }

  private resolveLocal(file: FileCtx, name: string): Resolved | undefined {
    const iface = file.interfaces.get(name)?.[0];
    if (iface !== undefined) return { kind: "interface", file, decl: iface };
    const e = file.enums.get(name);
    if (e !== undefined) return { kind: "enum", file, decl: e };
    const alias = file.aliases.get(name);
    if (alias !== undefined) return { kind: "alias", file, decl: alias };
    return undefined;
  }

  /** Resolves `name` exported by module `spec` as imported from `file`. */
  private resolveImport(file: FileCtx, spec: string, name: string, shown: string): Resolved {
    if (!spec.startsWith(".")) {
      // A package import: only the schema language's names mean anything.
      if (BUILTINS.has(name)) return { kind: "builtin", name };
      return { kind: "missing", message: `unknown field type "${shown}" (imported from "${spec}")` };
    }
    const target = this.files.get(schemaPathOf(file.source.path, spec) ?? "");
    if (target === undefined) {
      return { kind: "missing", message: `unknown field type "${shown}": "${spec}" is not a schema file in the schemas dir` };
    }
    const found = this.resolveLocal(target, name);
    const exported =
      found === undefined || found.kind === "builtin" || found.kind === "missing" ? false : found.decl.isExported();
    if (found === undefined || !exported) {
      return { kind: "missing", message: `unknown field type "${shown}": "${spec}" does not export "${name}"` };
    }
    return found;
  }
}

/** Maps a relative import in schema `from` to another schema's path, if it stays in the dir. */
function schemaPathOf(from: string, spec: string): string | undefined {
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(seg);
  }
  const joined = parts.join("/");
  return joined.replace(/\.(js|mjs|mts|ts)$/, "") + ".ts";
}

/** The value of an integer enum initializer (`3`, `-2`, `0x10`), or undefined. */
function integerValue(node: Node): number | undefined {
  if (Node.isNumericLiteral(node)) {
    const v = node.getLiteralValue();
    return Number.isInteger(v) ? v : undefined;
  }
  if (Node.isPrefixUnaryExpression(node) && node.getOperatorToken() === SyntaxKind.MinusToken) {
    const v = integerValue(node.getOperand());
    return v === undefined ? undefined : -v;
  }
  if (Node.isParenthesizedExpression(node)) return integerValue(node.getExpression());
  return undefined;
}

/** Smallest integer type holding [min, max]; undefined beyond 32 bits. */
function intStorage(min: number, max: number): IntScalar | undefined {
  if (min >= 0) return max <= 0xff ? "u8" : max <= 0xffff ? "u16" : max <= 0xffffffff ? "u32" : undefined;
  if (min >= -0x80 && max <= 0x7f) return "i8";
  if (min >= -0x8000 && max <= 0x7fff) return "i16";
  if (min >= -0x80000000 && max <= 0x7fffffff) return "i32";
  return undefined;
}

function fmt(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/**
 * Checks names across modules: record names are unique everywhere (a log
 * identifies records by name), and the names a generated module declares or
 * imports (`X`, `XView`, `XData`, enums, runtime imports) never clash.
 */
function checkNames(
  modules: readonly SchemaModule[],
  declared: ReadonlyMap<string, readonly DeclaredName[]>,
  errors: CodegenError[],
): void {
  const first = new Map<string, DeclaredName>();
  for (const m of modules) {
    for (const r of declared.get(m.path) ?? []) {
      const prev = first.get(r.name);
      if (prev !== undefined) errors.push(new CodegenError(r.pos, `duplicate record name "${r.name}" (first declared at ${fmt(prev.pos)})`));
      else first.set(r.name, r);
    }
  }
  for (const m of modules) {
    // name -> what declared it, in the order a reader meets them.
    const taken = new Map<string, string>();
    const claim = (name: string, what: string, pos: SourcePos): void => {
      const prev = taken.get(name);
      if (prev !== undefined) {
        errors.push(new CodegenError(pos, `generated name "${name}" of ${what} collides with ${prev}`));
      } else if (RESERVED_NAMES.has(name) || name.includes("$")) {
        errors.push(new CodegenError(pos, `generated name "${name}" of ${what} is reserved for the runtime or generated helpers; rename it`));
      } else taken.set(name, what);
    };
    for (const e of m.enums) claim(e.name, `enum "${e.name}"`, e.pos);
    const own = new Set<string>();
    for (const r of declared.get(m.path) ?? []) {
      if (own.has(r.name)) continue; // a duplicate, reported above
      own.add(r.name);
      claim(r.name, `record "${r.name}"`, r.pos);
      claim(`${r.name}View`, `record "${r.name}" (its view class)`, r.pos);
      claim(`${r.name}Data`, `record "${r.name}" (its data type)`, r.pos);
    }
    // Names imported from other modules for nested records and foreign enums.
    for (const r of m.records) {
      for (const f of r.fields) {
        const t = f.type;
        if (t.kind === "record" && t.module !== m.path && !taken.has(`${t.name}View`)) {
          claim(t.name, `record "${t.name}" imported from ${t.module}`, f.typePos);
          claim(`${t.name}View`, `record "${t.name}" imported from ${t.module}`, f.typePos);
          claim(`${t.name}Data`, `record "${t.name}" imported from ${t.module}`, f.typePos);
        } else if (t.kind === "enum" && t.decl.module !== m.path && taken.get(t.decl.name) !== `enum "${t.decl.name}" imported from ${t.decl.module}`) {
          claim(t.decl.name, `enum "${t.decl.name}" imported from ${t.decl.module}`, f.typePos);
        }
      }
    }
  }
}
