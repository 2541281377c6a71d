/**
 * The replica: consumes a bridge's stream into a local log that keeps the
 * source's sequence numbers, so readers on this host use it exactly like the
 * source (snapshots, cursors, workers, other processes for a durable one).
 *
 * Each message is applied whole or not at all: its headers are checked
 * (fingerprint, segment capacity, count against the payload's length) before
 * a byte is written, then its records go in with `writer.appendRaw`. A message
 * whose first sequence is past the replica's next one follows a gap in the
 * source (a lapped bridge, or the log's own `skipTo`): the replica leaves the
 * same gap with `writer.skipTo`. Such gaps end at segment boundaries, which is
 * why the replica's `segmentCapacity` must be the source's.
 *
 * The consumer is the client's ordered consumer, which recreates itself after
 * a restart or a missed heartbeat, but only once the server says it is gone.
 * In a cluster, the server holding it can die instead (an ephemeral consumer
 * has one replica): the others then never answer for it, and the client asks
 * forever (measured with nats-server 2.9.10 and @nats-io/jetstream 3.4: still
 * stalled after 30 s). So the replica also watches it, and recreates it
 * itself at the next stream sequence when it has been silent (no message, no
 * heartbeat) for three pull expiries.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { AtomicLog } from "../log/log.ts";
import type { Writer } from "../log/writer.ts";
import type { RecordCodec } from "../records/codec.ts";
import type { RecordView } from "../records/record-view.ts";
import type { DurableLogOptions } from "../store/durable-open.ts";
import { FingerprintMismatchError, InvalidOptionError, LogInUseError } from "../errors.ts";
import { BridgeStreamError, PayloadLengthError } from "./errors.ts";
import { readMessageMeta } from "./headers.ts";
import { link, streamSequenceFor, type ConnectOptions } from "./nats.ts";

/** Options of {@link replica}. Give `log`, or `dir`, or neither (a new log in memory). */
export interface ReplicaOptions<V extends RecordView, D> extends ConnectOptions {
  /** The bridge's stream. */
  stream: string;
  /**
   * The first sequence wanted. Default: the local log's next sequence (a
   * durable replica resumes where it stopped). Records below the local log's
   * next sequence are never applied again.
   */
  from?: number;
  /** A log in this process to write into (its writer claim must be free). Its segmentCapacity must be the source's. */
  log?: AtomicLog<V, D>;
  /** A directory for a durable replica, opened (or created) with `AtomicLog.open(codec, dir, open)`. */
  dir?: string;
  /** Options for `AtomicLog.open` when `dir` is given, or `AtomicLog.create` when neither `log` nor `dir` is: `retainedCapacity` and `segmentCapacity` (the source's) are required to create one. */
  open?: DurableLogOptions;
  /**
   * How long each pull request waits on the server, in ms (at least 1000).
   * Default 1000. After a server restart the consumer resumes about 1.5
   * expiries later (measured: 1000 → 1.6 s, 2000 → 3.1 s, 5000 → 7.6 s; the
   * client's default of 30 s stalled about 45 s). The price of a short one is
   * one pull request per expiry, and a heartbeat every half, while idle.
   */
  expiresMs?: number;
  /** Messages asked for per pull request. Default 64. */
  maxMessages?: number;
  /** A name for the connection the replica opens (with `servers`). */
  name?: string;
}

/** A replica's counters, for monitoring. */
export interface ReplicaStats {
  /** `"running"`, `"stopped"`, or `"failed"` (see `lastError` and `done`). */
  state: "running" | "stopped" | "failed";
  /** The local log's next sequence: every record below it is applied, or a gap. */
  nextSequence: number;
  /** The stream sequence of the last message applied (or skipped as already present). */
  streamSequence: number;
  /** Messages applied. */
  messages: number;
  /** Records appended. */
  records: number;
  /** Records skipped because the local log already had them (a resumed or restarted consumer). */
  duplicates: number;
  /** Sequences skipped with `skipTo`: gaps in the source, and the part of a segment before a start in its middle. */
  gaps: number;
  /** Records received but not applied because they came before a segment boundary the replica had to start at (a fresh replica whose first message starts mid-segment). */
  dropped: number;
  /** The source's cumulative loss, from the last message's `Atomic-Log-Lost` header. */
  sourceLost: number;
  /** Times the replica recreated its consumer after it went silent (its server died: see the module's comment). */
  restarts: number;
  /** The error that stopped the replica, or null. */
  lastError: string | null;
}

/**
 * Starts replicating the stream `options.stream` into a local log: the given
 * `log`, a durable log in `dir`, or a new log in memory. Resolves once the
 * consumer is running; `replica.log` is readable at once.
 *
 * @throws {LogInUseError} if the log's writer is claimed elsewhere.
 * @throws {InvalidOptionError} for a bad option (named in `.option`).
 * @throws {BridgeStreamError} if the stream holds messages that are not a bridge's.
 */
export async function replica<V extends RecordView, D>(codec: RecordCodec<V, D>, options: ReplicaOptions<V, D>): Promise<Replica<V, D>> {
  const stream = options.stream;
  if (typeof stream !== "string" || stream.length === 0) throw new InvalidOptionError("stream", stream, "a non-empty string");
  const expiresMs = options.expiresMs ?? 1000;
  if (!Number.isSafeInteger(expiresMs) || expiresMs < 1000) throw new InvalidOptionError("expiresMs", expiresMs, "an integer >= 1000 (the server's minimum)");
  const maxMessages = options.maxMessages ?? 64;
  if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) throw new InvalidOptionError("maxMessages", maxMessages, "an integer >= 1");
  if (options.log !== undefined && options.dir !== undefined) throw new InvalidOptionError("dir", options.dir, "log or dir, not both");
  if (options.from !== undefined && (!Number.isSafeInteger(options.from) || options.from < 0)) {
    throw new InvalidOptionError("from", options.from, "a non-negative integer sequence");
  }
  let ownsLog = false;
  let log: AtomicLog<V, D>;
  if (options.log !== undefined) {
    log = options.log;
  } else if (options.dir !== undefined) {
    log = AtomicLog.open(codec, options.dir, options.open ?? {});
    ownsLog = true;
  } else {
    const o = options.open ?? {};
    if (o.retainedCapacity === undefined || o.segmentCapacity === undefined) {
      throw new InvalidOptionError("open", o, "retainedCapacity and segmentCapacity (the source's) for a new log in memory");
    }
    log = AtomicLog.create(codec, { retainedCapacity: o.retainedCapacity, segmentCapacity: o.segmentCapacity, snapshotBudget: o.snapshotBudget, maxSnapshots: o.maxSnapshots, initialSequence: o.initialSequence });
  }
  const writer = log.tryClaimWriter();
  if (writer === null) {
    if (ownsLog) log.close();
    throw new LogInUseError("replicate into", "its writer is claimed elsewhere; a replica is the log's only writer");
  }
  let nc: NatsConnection | null = null;
  let owned = false;
  try {
    ({ nc, owned } = await link(options, options.name ?? `atomic-log replica ${stream}`));
    const from = Math.max(options.from ?? 0, writer.nextSequence);
    const jsm = await jetstreamManager(nc);
    const start = await streamSequenceFor(jsm, stream, from);
    const js = jetstream(nc);
    // A restart's requests time out sooner: right after a failover, one sent before the stream
    // has a leader again is never answered, and each would wait out the client's default 5 s.
    const jsRestart = jetstream(nc, { timeout: 2000 });
    const open = (at: number, restart: boolean) => consumeFrom(restart ? jsRestart : js, stream, at, maxMessages, expiresMs);
    const messages = await open(start, false);
    return new Replica(log, writer, { nc, owned, ownsLog, messages, from, start, expiresMs, open });
  } catch (error) {
    writer.release();
    if (ownsLog) log.close();
    if (owned) await nc?.close();
    throw error;
  }
}

/**
 * An ordered consumer of `stream` from stream sequence `start`: ephemeral, flow-controlled pulls,
 * and recreated by the client at the next stream sequence after a restart or a missed heartbeat,
 * so nothing is skipped or repeated.
 */
async function consumeFrom(js: JetStreamClient, stream: string, start: number, maxMessages: number, expiresMs: number): Promise<ConsumerMessages> {
  const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start });
  return consumer.consume({ max_messages: maxMessages, expires: expiresMs });
}

/** The state {@link replica} hands to a {@link Replica}. */
interface ReplicaInit {
  nc: NatsConnection;
  owned: boolean;
  ownsLog: boolean;
  messages: ConsumerMessages;
  from: number;
  /** The stream sequence `messages` starts at. */
  start: number;
  expiresMs: number;
  /** Opens a consumer at a stream sequence (for a restart: see {@link Replica.restart}). */
  open: (start: number, restart: boolean) => Promise<ConsumerMessages>;
}

/** Notifications of a consumer that come from its server: it is alive. */
const ALIVE = new Set(["heartbeat", "discard", "debug", "ordered_consumer_recreated"]);

/** A running replica (see {@link replica}). Read `log` like any local log; do not write to it. */
export class Replica<V extends RecordView, D> implements AsyncDisposable {
  /** The local log the replica writes: read it with snapshots, cursors, handles to workers. */
  readonly log: AtomicLog<V, D>;
  /** Settles when the replica stops: resolves after {@link close}, rejects with the error that stopped it (e.g. {@link FingerprintMismatchError}, {@link PayloadLengthError}). */
  readonly done: Promise<void>;
  private readonly writer: Writer<V, D>;
  private readonly init: ReplicaInit;
  private readonly codec: RecordCodec<V, D>;
  private readonly recBytes: number;
  private readonly segCap: number;
  /** The first sequence wanted (`from`): records below it are never applied. */
  private readonly floor: number;
  private streamSeq = 0;
  private messages = 0;
  private records = 0;
  private duplicates = 0;
  private gaps = 0;
  private dropped = 0;
  private sourceLost = 0;
  private restarts = 0;
  private lastError: string | null = null;
  private state: ReplicaStats["state"] = "running";
  private closing = false;
  /** The consumer being read. */
  private consumer: ConsumerMessages;
  /** The stream sequence after the last message received: where a recreated consumer starts. */
  private nextStreamSeq: number;
  /** When the consumer last showed it was alive (a message, or a notification from its server). */
  private lastAlive = Date.now();
  /** A new consumer being opened in place of a silent one (see {@link restart}), or null. */
  private replacing: Promise<ConsumerMessages | null> | null = null;
  private readonly watchdog: ReturnType<typeof setInterval>;
  private readonly waiters = new Set<{ sequence: number; resolve: (ok: boolean) => void }>();

  /** @internal Use {@link replica}. */
  constructor(log: AtomicLog<V, D>, writer: Writer<V, D>, init: ReplicaInit) {
    this.log = log;
    this.writer = writer;
    this.init = init;
    this.codec = log.codec;
    this.recBytes = log.codec.byteLength;
    this.segCap = log.segmentCapacity;
    this.floor = init.from;
    this.consumer = init.messages;
    this.nextStreamSeq = init.start;
    this.watch(init.messages);
    // Three expiries of silence: the server sends a heartbeat every half expiry while a pull
    // waits, so that is six missed, where the client gives up on a pull after two.
    const silentMs = 3 * init.expiresMs;
    this.watchdog = setInterval(() => {
      if (this.replacing === null && !this.closing && Date.now() - this.lastAlive > silentMs) this.replacing = this.restart();
    }, init.expiresMs);
    // The consumer keeps the process alive while the replica runs; the watchdog alone should not.
    (this.watchdog as { unref?: () => void }).unref?.();
    this.done = this.run();
    this.done.catch(() => {});
  }

  /** A snapshot of the replica's counters. */
  stats(): ReplicaStats {
    return {
      state: this.state,
      nextSequence: this.writer.isReleased ? this.log.stats().nextSequence : this.writer.nextSequence,
      streamSequence: this.streamSeq,
      messages: this.messages,
      records: this.records,
      duplicates: this.duplicates,
      gaps: this.gaps,
      dropped: this.dropped,
      sourceLost: this.sourceLost,
      restarts: this.restarts,
      lastError: this.lastError,
    };
  }

  /**
   * Resolves true once the local log's next sequence reaches `sequence`
   * (everything before it applied, or a gap), or false after `timeoutMs` or
   * when the replica stops first.
   */
  waitFor(sequence: number, timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.stats().nextSequence >= sequence) return Promise.resolve(true);
    if (this.state !== "running") return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        sequence,
        resolve: (ok: boolean) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(ok);
        },
      };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => waiter.resolve(false), timeoutMs) : undefined;
      this.waiters.add(waiter);
    });
  }

  /**
   * Stops consuming, gives the log's writer claim back, closes the durable
   * log it opened and the connection it opened. The local log keeps
   * everything applied (a durable replica resumes from it next time). Release
   * your snapshots and cursors of a log the replica opened first: closing it
   * otherwise fails, and `done` rejects with that `LogInUseError`. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      await this.consumer.close().catch(() => {});
    }
    await this.done.catch(() => {});
  }

  /** Same as `close()`: enables `await using r = await replica(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Notes every sign of life of a consumer's server (its own notifications end when it is closed). */
  private watch(messages: ConsumerMessages): void {
    void (async () => {
      for await (const n of messages.status()) if (ALIVE.has(n.type)) this.lastAlive = Date.now();
    })().catch(() => {});
  }

  /**
   * Replaces a silent consumer: closes it (first, so it cannot deliver what the new one will),
   * then opens one at the next stream sequence, asking again until it works or the replica
   * closes: right after a failover there may be no leader to create it yet, and until the
   * servers notice that a SIGKILLed server is gone they place about one new consumer in three
   * on it, a request that is never answered (measured with nats-server 2.9.10, 10 s after).
   */
  private async restart(): Promise<ConsumerMessages | null> {
    await this.consumer.close().catch(() => {});
    for (let attempt = 0; !this.closing && !this.init.nc.isClosed(); attempt++) {
      try {
        const messages = await this.init.open(this.nextStreamSeq, true);
        if (!this.closing) return messages;
        await messages.close().catch(() => {});
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
    return null;
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        for await (const m of this.consumer) {
          if (this.closing) break;
          this.lastAlive = Date.now();
          this.apply(m);
          const next = this.writer.nextSequence;
          for (const w of this.waiters) if (next >= w.sequence) w.resolve(true);
        }
        // The consumer ended: closed by close(), by restart() (go on with its replacement), or by itself.
        if (this.closing) {
          // A replacement that was being opened is not wanted any more (it must not pull on a
          // connection that is not ours to close).
          void this.replacing?.then((n) => n?.close()).catch(() => {});
          break;
        }
        if (this.replacing === null) break;
        const next = await this.replacing;
        if (next === null) break;
        if (this.closing) {
          await next.close().catch(() => {});
          break;
        }
        this.consumer = next;
        this.watch(next);
        this.lastAlive = Date.now();
        this.replacing = null;
        this.restarts++;
      }
      this.state = "stopped";
    } catch (error) {
      this.state = "failed";
      this.lastError = String((error as Error)?.message ?? error);
      await this.consumer.close().catch(() => {});
      throw error;
    } finally {
      clearInterval(this.watchdog);
      for (const w of this.waiters) w.resolve(this.writer.nextSequence >= w.sequence);
      this.writer.release();
      if (this.init.ownsLog) this.log.close();
      if (this.init.owned) await this.init.nc.close().catch(() => {});
    }
  }

  /**
   * Applies one message, whole or not at all: every check comes before the
   * first write.
   * @throws {FingerprintMismatchError} if the message's records are another layout.
   * @throws {PayloadLengthError} if the payload is not `count` whole records.
   * @throws {InvalidOptionError} if the source's segmentCapacity is not the log's.
   * @throws {BridgeStreamError} if the message is not a bridge message.
   */
  private apply(m: JsMsg): void {
    const meta = readMessageMeta(m);
    const codec = this.codec;
    if (meta.fingerprint !== codec.fingerprint) {
      throw new FingerprintMismatchError(
        { name: codec.name, fingerprint: codec.fingerprint },
        { name: meta.record || "(unnamed)", fingerprint: meta.fingerprint || "(none)" },
      );
    }
    const bytes = m.data;
    if (!(meta.count >= 1)) {
      throw new PayloadLengthError(m.seq, bytes.byteLength, Number.NaN, `its count header is missing or not a positive integer`);
    }
    const expected = meta.count * this.recBytes;
    if (bytes.byteLength !== expected) {
      throw new PayloadLengthError(m.seq, bytes.byteLength, expected, `payload of ${bytes.byteLength} bytes, expected ${meta.count} × ${this.recBytes} = ${expected}`);
    }
    if (meta.segmentCapacity !== this.segCap) {
      throw new InvalidOptionError("segmentCapacity", this.segCap, `the source's segmentCapacity (${meta.segmentCapacity}): gaps end at the source's segment boundaries`);
    }
    if (!Number.isSafeInteger(meta.first)) throw new BridgeStreamError(m.info.stream, `message ${m.seq} has no Atomic-Log-Sequence header`);
    this.streamSeq = m.seq;
    this.nextStreamSeq = m.seq + 1;
    if (Number.isSafeInteger(meta.lost)) this.sourceLost = meta.lost;
    const F = meta.first;
    const end = F + meta.count;
    const next = this.writer.nextSequence;
    let lo = Math.max(F, next, this.floor);
    this.duplicates += Math.max(0, Math.min(next, end) - F);
    if (lo >= end) return;
    if (lo > next) {
      // A gap: in the source (it ends at a segment boundary there, so here too), or before
      // `from`. A log can only continue at a boundary, so a start in the middle of a segment
      // drops the records before the next boundary.
      if (lo % this.segCap !== 0) {
        const boundary = Math.ceil(lo / this.segCap) * this.segCap;
        this.dropped += Math.min(boundary, end) - lo;
        if (boundary >= end) return;
        lo = boundary;
      }
      this.gaps += lo - next;
      this.writer.skipTo(lo);
    }
    this.writer.appendRaw(lo === F ? bytes : bytes.subarray((lo - F) * this.recBytes), codec.fingerprint);
    this.messages++;
    this.records += end - lo;
  }
}
