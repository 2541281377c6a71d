/**
 * `npm run demo:cluster` runs end to end against a real nats-server (two
 * processes, every check passing), and tells how to install the server when
 * there is none.
 */
import { expect, test } from "bun:test";
import { natsSkipReason } from "../support/nats-server.ts";

const root = `${import.meta.dir}/../..`;

test.skipIf(natsSkipReason !== null)("the cluster demo runs for 2 s through a real nats-server and all its checks pass", () => {
  const began = performance.now();
  const demo = Bun.spawnSync([process.execPath, "examples/cluster.ts"], {
    cwd: root,
    env: { ...process.env, DEMO_SECONDS: "2", NO_COLOR: "1" },
    timeout: 90_000,
  });
  const out = demo.stdout.toString();
  expect(demo.stderr.toString()).toBe("");
  // Live progress: a line per half second, with rates and the lag in records and in time.
  expect(out).toMatch(/\n +\d+\.\d s +[\d.]+[kM]? +[\d.]+[kM]? \(\d\.\d\d M\/s\) +[\d.]+[kM]? \(\d\.\d\d M\/s\) +[\d.]+[kM]? rec +\d+\.\d ms /);
  expect(out.match(/^ {2}PASS /gm)?.length).toBe(7);
  expect(out).toContain("every field of every tick equal to what the writer wrote: yes");
  expect(out).not.toContain("FAIL");
  expect(out).toContain("All checks passed.");
  expect(demo.exitCode).toBe(0);
  console.log(`cluster demo, DEMO_SECONDS=2: ${((performance.now() - began) / 1000).toFixed(1)} s in all`);
}, 100_000);

test("without nats-server the cluster demo says how to install it, and exits with code 3", () => {
  const demo = Bun.spawnSync([process.execPath, "examples/cluster.ts"], {
    cwd: root,
    env: { ...process.env, NATS_SERVER: "/nonexistent/nats-server" },
  });
  expect(demo.exitCode).toBe(3);
  expect(demo.stderr.toString()).toContain("nats-server was not found at NATS_SERVER=/nonexistent/nats-server");
  expect(demo.stderr.toString()).toContain("apt-get install nats-server");
  expect(demo.stdout.toString()).toBe("");
});

test("the cluster demo rejects a bad --seconds or --rate with exit code 2", () => {
  for (const [flag, value] of [["--seconds", "soon"], ["--rate", "-1"]]) {
    const demo = Bun.spawnSync([process.execPath, "examples/cluster.ts", flag!, value!], { cwd: root });
    expect(demo.exitCode).toBe(2);
    expect(demo.stderr.toString()).toContain(`${flag} must be a number`);
  }
});
