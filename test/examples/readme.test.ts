/**
 * The README's Quickstart runs verbatim under Bun, and its Node.js example under Node.js: the
 * code blocks are cut out of README.md (the schema, the program, and each worker snippet's two
 * files), generated with the repository's generator, and run as a user would, importing
 * `atomic-log` by name (a package resolves its own name from inside its directory: under Bun the
 * sources, under Node.js the compiled dist/). A README edit that breaks either fails here.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ensureDist } from "../../scripts/node-bundle.ts";

const ROOT = join(import.meta.dir, "../..");
// Inside the repository, so that `import "atomic-log"` resolves to it (self-reference); ignored by git.
const scratch = mkdtempSync(join(import.meta.dir, ".scratch-readme-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The ```ts blocks of the README section headed `heading`, in order. */
function codeBlocks(heading: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "${heading}"`);
  const level = heading.slice(0, heading.indexOf(" ") + 1);
  const end = readme.indexOf(`\n${level}`, start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Splits a block that holds several files, each starting at a `// <name>` line. */
function files(block: string, names: string[]): string[] {
  const at = names.map((n) => {
    const i = block.indexOf(`// ${n}\n`);
    if (i < 0) throw new Error(`the README block has no "// ${n}" line:\n${block}`);
    return i;
  });
  return at.map((i, k) => block.slice(i, at[k + 1]));
}

/**
 * Runs a program that never ends by itself (its worker tails for ever, as the README's do) until
 * its stdout holds `lines` lines or `deadlineMs` passes, then stops it. A deadline, not a fixed
 * run time: a loaded machine starts it slower, and a fast one need not wait.
 */
async function runUntil(cmd: string[], cwd: string, env: Record<string, string | undefined>, lines: number, deadlineMs = 20_000) {
  const child = Bun.spawn(cmd, { cwd, env, stdout: "pipe", stderr: "pipe" });
  const decoder = new TextDecoder();
  let out = "";
  const deadline = setTimeout(() => child.kill(), deadlineMs);
  for await (const chunk of child.stdout) {
    out += decoder.decode(chunk, { stream: true });
    if (out.split("\n").filter((l) => l !== "").length >= lines) break;
  }
  // Give a failure (a worker that cannot start, say) a moment to reach stderr before stopping it.
  await Bun.sleep(1000);
  child.kill();
  clearTimeout(deadline);
  await child.exited;
  return { out, err: await new Response(child.stderr).text(), exitedByItself: child.signalCode === null };
}

test("the Quickstart's blocks run verbatim: generate, write, read, and a worker that tails", async () => {
  const [schema, program, workerBlock] = codeBlocks("## Quickstart");
  expect(schema).toContain("// schemas/market.ts");
  const [main, reader] = files(workerBlock!, ["main", "reader.ts"]);
  mkdirSync(join(scratch, "schemas"));
  mkdirSync(join(scratch, "src"));
  writeFileSync(join(scratch, "schemas/market.ts"), schema!);
  // The program's second part (sharing with a worker) continues the first: one main module.
  writeFileSync(join(scratch, "src/main.ts"), `${program}\n${main}`);
  writeFileSync(join(scratch, "src/reader.ts"), reader!);

  const gen = Bun.spawnSync([process.execPath, join(ROOT, "codegen/cli.ts"), "schemas", "--out", "src/generated"], { cwd: scratch });
  expect(gen.stderr.toString()).toBe("");
  expect(gen.exitCode).toBe(0);

  const run = await runUntil([process.execPath, "src/main.ts"], scratch, { ...process.env, NO_COLOR: "1" }, 2);
  expect(run.err).toBe("");
  // The chunk loop prints each record's sequence and price.
  expect(run.out.split("\n").filter((l) => l !== "")).toEqual(["0 101.5", "1 101.6"]);
  // Still running (its worker tails), not ended by an error.
  expect(run.exitedByItself).toBe(false);
}, 40_000);

test("the Node.js section's example compiles with tsc and runs under node with a worker_threads reader", async () => {
  const node = Bun.which("node");
  if (node === null) throw new Error("node is not on the PATH (CI has Node.js >= 20)");
  const [block] = codeBlocks("### Node.js");
  const [main, reader] = files(block!, ["main.ts", "reader.ts"]);
  const [schema] = codeBlocks("## Quickstart");
  const project = join(scratch, "node");
  mkdirSync(join(project, "schemas"), { recursive: true });
  mkdirSync(join(project, "src"));
  writeFileSync(join(project, "schemas/market.ts"), schema!);
  writeFileSync(join(project, "src/main.ts"), main!);
  writeFileSync(join(project, "src/reader.ts"), reader!);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { module: "nodenext", target: "es2022", strict: true, noUncheckedIndexedAccess: true, rootDir: "src", outDir: "out", types: ["node"] },
      include: ["src"],
    }),
  );
  const gen = Bun.spawnSync([process.execPath, join(ROOT, "codegen/cli.ts"), "schemas", "--out", "src/generated"], { cwd: project });
  expect(gen.stderr.toString()).toBe("");
  ensureDist("readme"); // the package's "import" condition: what Node.js loads
  const tsc = Bun.spawnSync([node, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."], { cwd: project });
  expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
  const run = await runUntil([node, "out/main.js"], project, { ...process.env, PATH: dirname(node) }, 1);
  expect(run.err).toBe("");
  // The reader worker prints the record the main thread appended, then parks in ready() for ever.
  expect(run.out.trim().split("\n")).toEqual(["0 101.5"]);
  expect(run.exitedByItself).toBe(false);
}, 60_000);
