/** The whole project (runtime, generator, tests, benches, examples) type-checks under strict tsc. */
import { expect, test } from "bun:test";

test("tsc --noEmit -p . reports no errors", () => {
  const tsc = Bun.spawnSync(["node", "node_modules/.bin/tsc", "--noEmit", "-p", "."], { cwd: `${import.meta.dir}/..` });
  const output = tsc.stdout.toString() + tsc.stderr.toString();
  expect(output).toBe("");
  expect(tsc.exitCode).toBe(0);
}, 60_000);
