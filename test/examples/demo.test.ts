/** The main job (`npm start`'s demo) runs across real workers and every one of its checks passes. */
import { expect, test } from "bun:test";

test("the demo runs for 2 s and all its checks pass", () => {
  const demo = Bun.spawnSync([process.execPath, "examples/demo.ts", "--seconds", "2"], {
    cwd: `${import.meta.dir}/../..`,
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 40_000,
  });
  const out = demo.stdout.toString();
  expect(demo.stderr.toString()).toBe("");
  expect(out).toContain("All checks passed.");
  expect(out).not.toContain("FAIL");
  expect(demo.exitCode).toBe(0);
}, 60_000);

test("the demo rejects a bad --seconds with a clear message", () => {
  const demo = Bun.spawnSync([process.execPath, "examples/demo.ts", "--seconds", "soon"], { cwd: `${import.meta.dir}/../..` });
  expect(demo.exitCode).toBe(2);
  expect(demo.stderr.toString()).toContain('--seconds must be a number from 0 to 600, got "soon"');
});
