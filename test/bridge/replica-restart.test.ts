/**
 * The replica's own restart of a silent consumer (src/bridge/replica.ts), the
 * side a single server can show: a replica that merely has nothing to read is
 * not silent (its server's heartbeats count), so it never restarts. That it
 * does restart when its consumer's server dies is in cluster.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AtomicLog } from "../../src/index.ts";
import { publish, replica } from "../../src/bridge/index.ts";
import { Trade } from "../support/trade.ts";
import { NatsServer, natsSkipReason } from "../support/nats-server.ts";

if (natsSkipReason !== null) console.warn(`\n*** ${natsSkipReason} ***\n`);

const geometry = { retainedCapacity: 1 << 12, segmentCapacity: 256 };
const record = (seq: number) => ({ ts: seq, id: seq, price: 1 + seq / 8, qty: seq % 1000, side: seq & 1 });

describe.skipIf(natsSkipReason !== null)("replica: restarts of a silent consumer (real nats-server)", () => {
  let server: NatsServer;

  beforeAll(async () => {
    server = await NatsServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  test("an idle replica is not silent: over 4.5 expiries of nothing to read it keeps its consumer, then reads on", async () => {
    const [writer, log] = AtomicLog.newClaimed(Trade, geometry);
    const bridge = await publish(log, { servers: server.url, stream: "IDLE", subject: "idle" });
    const rep = await replica(Trade, { servers: server.url, stream: "IDLE", open: geometry, expiresMs: 1000 });
    for (let seq = 0; seq < 10; seq++) writer.append(record(seq));
    expect(await rep.waitFor(10, 10_000)).toBe(true);
    // The watchdog restarts after three expiries (3 s) without a message or a heartbeat.
    await Bun.sleep(4500);
    expect(rep.stats().restarts).toBe(0);
    for (let seq = 10; seq < 20; seq++) writer.append(record(seq));
    expect(await rep.waitFor(20, 10_000)).toBe(true);
    expect(rep.stats()).toMatchObject({ records: 20, duplicates: 0, gaps: 0, restarts: 0, state: "running" });
    await bridge.stop();
    await rep.close();
    expect(rep.stats().state).toBe("stopped");
    writer.release();
  }, 20_000);
});
