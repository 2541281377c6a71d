/**
 * Replays one schedule of an interleaving scenario, as printed by a failing
 * test in protocols.test.ts:
 *
 *   bun test/interleave/replay.ts takeover '[0,0,1,1,...]'
 *
 * Prints how the execution ended (exit 1 if it failed). Deterministic: the
 * same schedule always takes the same steps, so add logging to the library
 * and replay until the cause is clear.
 */
import { replay } from "./harness/explore.ts";

const [name, schedule] = process.argv.slice(2);
if (name === undefined || schedule === undefined) {
  console.error("usage: bun test/interleave/replay.ts <scenario> '<schedule as a JSON array>'");
  process.exit(2);
}
const failure = await replay(new URL(`./scenarios/${name}.ts`, import.meta.url).href, JSON.parse(schedule) as number[]);
if (failure === undefined) {
  console.log(`${name}: the schedule ran to completion with every invariant holding`);
} else {
  console.log(`${name}: ${failure.status}: ${failure.message}\nschedule: ${failure.readable}`);
  process.exit(1);
}
