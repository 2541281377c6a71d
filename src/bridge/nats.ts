/**
 * Connections and stream look-ups shared by the bridge's publisher and replica.
 */
import { connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import type { JetStreamManager, StoredMsg, StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { InvalidOptionError } from "../errors.ts";
import { BridgeStreamError } from "./errors.ts";
import { BridgeHeaders, readMeta, type MessageMeta } from "./headers.ts";
import type { StreamLimits } from "./retention.ts";

/** Where to reach NATS: servers to connect to (the bridge then owns and closes the connection), or a connection of yours (left open). */
export interface ConnectOptions {
  /** Server URLs, e.g. `"127.0.0.1:4222"` or `["nats://a:4222", "nats://b:4222"]`. */
  servers?: string | string[];
  /** A connection you opened; the bridge never closes it. */
  connection?: NatsConnection;
  /** Extra client options when `servers` is given (the defaults reconnect forever, every 250 ms). */
  connectOptions?: Omit<NodeConnectionOptions, "servers">;
}

/** A connection and whether we opened it (and so must close it). */
export interface Link {
  nc: NatsConnection;
  owned: boolean;
}

/** Opens or adopts the connection named by the options. */
export async function link(options: ConnectOptions, name: string): Promise<Link> {
  if (options.connection !== undefined) {
    if (options.servers !== undefined) throw new InvalidOptionError("servers", options.servers, "servers or connection, not both");
    return { nc: options.connection, owned: false };
  }
  const servers = options.servers;
  if (typeof servers !== "string" && !(Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === "string"))) {
    throw new InvalidOptionError("servers", servers, "a server URL or a non-empty array of them (or pass connection)");
  }
  // A bridge outlives server restarts and failovers: never give up reconnecting (the client's
  // default is 10 attempts 2 s apart, after which a restarted server would never be seen again),
  // and retry quickly, since every second spent disconnected is a second of lag.
  const nc = await connect({
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    ...options.connectOptions,
    servers,
  });
  return { nc, owned: true };
}

/**
 * The stream's info, creating it if asked, with `limits` (from the bridge's
 * `retention`; fields of a `create` object win). An existing stream is never
 * changed. A bridge's stream must carry only its subject: the fence is the
 * stream-wide `Nats-Expected-Last-Sequence` (it lets a bridge keep many
 * messages in flight, each expecting the one before it), which any other
 * subject's traffic would break.
 */
export async function bridgeStream(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  create: boolean | Partial<StreamConfig>,
  limits: StreamLimits | null = null,
): Promise<StreamInfo> {
  let info: StreamInfo | null = null;
  try {
    info = await jsm.streams.info(stream);
  } catch (error) {
    if ((error as { code?: number }).code !== 10059 || create === false) throw error;
  }
  if (info === null) {
    const extra = typeof create === "object" ? create : {};
    const maxAge = extra.max_age ?? limits?.max_age ?? 0;
    // Duplicate window: 2 min, the server's default, made explicit because re-sends rely on it;
    // the server refuses one longer than max_age, so a shorter max_age shortens it (re-sends
    // come within seconds of a failure, and past the window they are checked byte for byte).
    const duplicateWindow = maxAge > 0 ? Math.min(120e9, maxAge) : 120e9;
    info = await jsm.streams.add({ duplicate_window: duplicateWindow, ...limits, ...extra, name: stream, subjects: [subject] });
  }
  const subjects = info.config.subjects ?? [];
  if (subjects.length !== 1 || subjects[0] !== subject) {
    throw new BridgeStreamError(stream, `its subjects are ${JSON.stringify(subjects)}; a bridge needs a stream whose only subject is ${JSON.stringify(subject)}`);
  }
  return info;
}

/** The stored message at a stream sequence, or null if there is none (deleted, expired, or past the end). */
export async function storedAt(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | null> {
  return jsm.streams.getMessage(stream, { seq });
}

/**
 * The stream sequence where a consumer starts to see log sequence `target`:
 * the first message that ends after it (it holds `target`, or comes after a
 * gap over it), or past the end if none does yet. A binary search over the
 * bridge's headers (stream sequences and log sequences rise together), so a
 * few round trips whatever the stream's length.
 */
export async function streamSequenceFor(jsm: JetStreamManager, stream: string, target: number): Promise<number> {
  const state = (await jsm.streams.info(stream)).state;
  if (state.messages === 0) return state.last_seq + 1;
  // The answer is in [lo, hi]; hi = last + 1 means "after everything stored".
  let lo = state.first_seq;
  let hi = state.last_seq + 1;
  // The usual cases in one look-up each: a new replica (target before everything stored)...
  const head = await metaFrom(jsm, stream, lo, state.last_seq);
  if (head === null || head.meta.first + head.meta.count > target) return lo;
  // ...and one that caught up (target after everything stored).
  const tail = await metaFrom(jsm, stream, state.last_seq, state.last_seq);
  if (tail !== null && tail.meta.first + tail.meta.count <= target) return hi;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const found = await metaFrom(jsm, stream, mid, hi - 1);
    // Nothing stored in [mid, found.seq): starting a consumer at mid is starting it at found.seq.
    if (found === null || found.meta.first + found.meta.count > target) hi = mid;
    else lo = found.seq + 1;
  }
  return lo;
}

/** The first stored message at or after `seq` (up to `last`), with its headers read. */
async function metaFrom(jsm: JetStreamManager, stream: string, seq: number, last: number): Promise<{ seq: number; meta: MessageMeta } | null> {
  // Sequences inside a bridge's stream are only ever missing at the front (limits, age),
  // so this scan is one look-up in practice; it exists for a message deleted by hand.
  for (let s = seq; s <= last; s++) {
    const m = await storedAt(jsm, stream, s);
    if (m === null) continue;
    const meta = readMeta(m.header);
    if (!Number.isSafeInteger(meta.first) || !Number.isSafeInteger(meta.count)) {
      throw new BridgeStreamError(stream, `message ${s} is not a bridge message (no ${BridgeHeaders.Sequence} or ${BridgeHeaders.Count} header)`);
    }
    return { seq: s, meta };
  }
  return null;
}

