/**
 * The publisher: tails a log with a cursor and publishes each available run
 * of records as one JetStream message.
 *
 * The protocol, and why it neither loses nor duplicates a record:
 *
 * - A stream carries one log. Every message expects the stream to end at the
 *   message before it (`Nats-Expected-Last-Sequence`); the bridge predicts
 *   those sequences (one per message, since only it publishes), so it can keep
 *   `maxInFlight` messages unacknowledged and still be fenced: a message that
 *   another publisher got in front of is refused by the server.
 * - Every message has the id `<fingerprint>:<first sequence>`. After a
 *   failure the bridge waits for everything in flight to settle and re-sends
 *   from the first unacknowledged message, with the same ids and the same
 *   expectations: a message that was stored after all is answered as a
 *   duplicate (JetStream checks ids before expectations), one that was not is
 *   stored now. A duplicate answer, or a refusal, is checked against the
 *   message actually stored at the expected place: ours (same first sequence
 *   and count) counts as acknowledged, anything else means another bridge
 *   published, and this one stops (`BridgeFencedError`).
 * - On start the bridge reads the stream's last message and resumes at the
 *   record after it, with its cumulative loss.
 *
 * The writer never waits for any of this: the cursor pins one segment, and a
 * writer that laps it makes the cursor skip ahead and count the loss, which
 * the next message's `Atomic-Log-Lost` header and `stats().lost` report.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type PubAck, type StreamConfig } from "@nats-io/jetstream";
import type { AtomicLog } from "../log/log.ts";
import type { Cursor, CursorStart } from "../log/cursor.ts";
import type { RecordView } from "../records/record-view.ts";
import { FingerprintMismatchError, InvalidOptionError } from "../errors.ts";
import { BridgeFencedError, BridgeStreamError } from "./errors.ts";
import { BridgeMessageHeaders, isHeaderValue, readMeta, widestHeaderBytes, type MessageHeaders } from "./headers.ts";
import { bridgeStream, link, storedAt, type ConnectOptions } from "./nats.ts";
import { intendedLimits, limitsOf, limitsWarning, resolveRetention, type Retention, type StreamLimits } from "./retention.ts";

/** Options of {@link publish}. */
export interface PublishOptions extends ConnectOptions {
  /** The JetStream stream. Created if missing (see `createStream`); its only subject must be `subject`. */
  stream: string;
  /** The subject the bridge publishes on. */
  subject: string;
  /**
   * Where to start when the stream holds nothing yet: `"oldest"` (default: the
   * whole retained window), `"latest"`, or a sequence. Ignored once the
   * stream has messages: the bridge then resumes after the last one.
   */
  from?: CursorStart;
  /** Most messages sent and not yet acknowledged. Default 32. */
  maxInFlight?: number;
  /**
   * Most records in one message. Default (and maximum) one segment, further
   * capped by the server's `max_payload`. A message holds what was available
   * when it was taken: single records at low rates, full runs under load.
   */
  maxRecordsPerMessage?: number;
  /** How long to wait for each acknowledgement before re-sending, in ms. Default 5000. */
  ackTimeoutMs?: number;
  /**
   * Create the stream if it is missing: `true` (default) with a 2-minute
   * duplicate window, file storage and the limits of `retention`, an object
   * of extra `StreamConfig` fields (they win over `retention`'s), or `false`
   * to require it.
   */
  createStream?: boolean | Partial<StreamConfig>;
  /**
   * The limits of a stream the bridge creates: `"window"` (default) mirrors
   * the log's retention (`max_msgs` and `max_bytes` keep at least the window
   * however the records were batched, `max_age` is a durable log's
   * `retentionMs`); `"none"` sets none (the server's defaults: unlimited);
   * `{ maxBytes, maxMsgs, maxAgeMs }` sets those (a missing one is unlimited).
   * An existing stream is never changed: if its limits differ,
   * `stats().limitsWarning` says how.
   */
  retention?: Retention;
  /**
   * Read through a gated cursor: the writer's `tryAppend`/`tryReserve` then
   * refuse rather than lap the bridge (plain `append` still laps it). Default false.
   */
  gated?: boolean;
  /** A name for the connection the bridge opens (with `servers`). */
  name?: string;
}

/** A bridge's counters, for monitoring. */
export interface BridgeStats {
  /** `"running"`, `"stopping"` (draining), `"stopped"`, or `"failed"` (see `lastError` and `done`). */
  state: "running" | "stopping" | "stopped" | "failed";
  /** The next log sequence the bridge will read. */
  nextSequence: number;
  /** Every record below this sequence is stored in the stream (or was lost before the bridge read it). */
  ackedSequence: number;
  /** The stream sequence of the last acknowledged message (0 if none). */
  streamSequence: number;
  /** Messages acknowledged by this bridge. */
  messages: number;
  /** Records in them. */
  records: number;
  /** Payload bytes in them. */
  bytes: number;
  /** Records never published, cumulative over the stream (laps and the log's gaps), as the last message read says. */
  lost: number;
  /** Messages sent and not yet acknowledged. */
  inFlight: number;
  /** Messages sent again after a failure. */
  resends: number;
  /** Re-sent messages the server had stored already (answered as duplicates, checked to be this bridge's). */
  duplicates: number;
  /** Failures (timeouts, disconnections, server errors) that led to re-sends. */
  errors: number;
  /** The last failure's message, or null. */
  lastError: string | null;
  /** The stream's limits when the bridge started (`max_age` in ns; -1 and 0: unlimited). */
  streamLimits: StreamLimits;
  /** How the stream's limits differ from what `retention` (and `createStream`) ask for, or null; the bridge never changes them. */
  limitsWarning: string | null;
}

/** Options of {@link Bridge.stop}. */
export interface StopOptions {
  /** Publish what the log holds at the call and wait for its acknowledgements first. Default true. */
  drain?: boolean;
  /** Give up draining after this many ms (what is left is re-read from the log by the next bridge). Default 10000. */
  timeoutMs?: number;
}

/** One message: sent, or waiting to be sent again. */
interface Pending {
  first: number;
  count: number;
  payload: Uint8Array;
  /** Everything the message carries besides its payload, the id and the expectation included: a re-send sends the same bytes. */
  headers: MessageHeaders;
  /** The stream sequence this message expects to be the last one; it is stored at expect + 1. */
  expect: number;
  promise: Promise<void>;
  /** Sends of this message so far; only the latest send's answer counts. */
  attempt: number;
  settled: boolean;
  ack: PubAck | null;
  error: unknown;
}

/** NATS's JetStream error code for a refused `Nats-Expected-Last-Sequence`. */
const WRONG_LAST_SEQUENCE = 10071;
/** JetStream's error code for a message larger than the stream's `max_msg_size`: re-sending cannot help. */
const MESSAGE_TOO_LARGE = 10054;
/** Payloads from this size on are written one per client flush (see the loop in `run`): half the client's 32 KiB flush threshold. */
const YIELD_BYTES = 16 * 1024;

/**
 * Starts bridging `log` to the JetStream stream `options.stream`: resumes
 * after the stream's last message (or at `options.from` if it has none), then
 * publishes every run of records the log makes available, until
 * {@link Bridge.stop}. Resolves once the bridge is running.
 *
 * @throws {FingerprintMismatchError} if the stream's last message was written by a log of another record layout.
 * @throws {BridgeStreamError} if the stream has other subjects, holds messages that are not a bridge's, or is ahead of the log.
 * @throws {InvalidOptionError} for a bad option (named in `.option`).
 */
export async function publish<V extends RecordView, D>(log: AtomicLog<V, D>, options: PublishOptions): Promise<Bridge<V, D>> {
  const stream = checkName("stream", options.stream);
  const subject = checkName("subject", options.subject);
  const maxInFlight = checkCount("maxInFlight", options.maxInFlight ?? 32);
  const ackTimeoutMs = checkCount("ackTimeoutMs", options.ackTimeoutMs ?? 5000);
  const rec = log.codec.byteLength;
  const S = log.segmentCapacity;
  let maxRecords = checkCount("maxRecordsPerMessage", options.maxRecordsPerMessage ?? S);
  // Headers are built without the client's checks (see MessageHeaders): check their fixed values once.
  if (!isHeaderValue(log.codec.name) || !isHeaderValue(log.codec.fingerprint)) {
    throw new InvalidOptionError("codec", log.codec.name, "a record whose name and fingerprint can be header values (no CR/LF, no surrounding blanks)");
  }
  const create = options.createStream ?? true;
  // A full stream that refuses new messages would have the bridge re-send the same message for
  // ever; a rolling log needs a stream that drops its oldest ones.
  if (typeof create === "object" && create.discard === "new") {
    throw new InvalidOptionError("createStream.discard", create.discard, '"old" (a bridge appends for ever: a stream that refuses new messages when full would stall it)');
  }
  const intended = intendedLimits(resolveRetention(log, subject, options.retention), create);
  const { nc, owned } = await link(options, options.name ?? `atomic-log bridge ${stream}`);
  try {
    // The largest headers a message carries (every number at its widest), measured: a guessed
    // allowance let a long record name push full messages past the limits, refused for ever.
    const headers = new BridgeMessageHeaders(log.codec.name, log.codec.fingerprint, S);
    const headerBytes = widestHeaderBytes(headers, S);
    const maxPayload = nc.info?.max_payload ?? 1 << 20;
    const fit = Math.floor((maxPayload - headerBytes) / rec);
    if (fit < 1) throw new InvalidOptionError("codec", log.codec.name, `a record that fits the server's max_payload (${maxPayload} bytes) with the bridge's ${headerBytes} bytes of headers`);
    maxRecords = Math.min(maxRecords, S, fit);
    const jsm = await jetstreamManager(nc);
    const info = await bridgeStream(jsm, stream, subject, create, intended);
    const limited = (info.config.max_msgs ?? -1) > 0 || (info.config.max_bytes ?? -1) > 0 || (info.config.max_age ?? 0) > 0 || (info.config.max_msgs_per_subject ?? -1) > 0;
    if (info.config.discard === "new" && limited) {
      throw new BridgeStreamError(stream, 'it has limits with discard "new": once full it would refuse every message and stall the bridge; use discard "old"');
    }
    // The stream's own size limit counts headers and payload alike.
    const maxMsgSize = info.config.max_msg_size ?? -1;
    if (maxMsgSize > 0) {
      const fitStream = Math.floor((maxMsgSize - headerBytes) / rec);
      if (fitStream < 1) throw new BridgeStreamError(stream, `its max_msg_size (${maxMsgSize} bytes) cannot hold one record with the bridge's ${headerBytes} bytes of headers`);
      maxRecords = Math.min(maxRecords, fitStream);
    }
    const streamLimits = limitsOf(info.config);
    const limits = { streamLimits, limitsWarning: limitsWarning(stream, streamLimits, intended) };
    const last = info.state.last_seq;
    let lostBase = 0;
    let from: CursorStart = options.from ?? "oldest";
    if (info.state.messages > 0) {
      const m = await storedAt(jsm, stream, last);
      const meta = readMeta(m?.header);
      if (m === null || !Number.isSafeInteger(meta.first) || !Number.isSafeInteger(meta.count)) {
        throw new BridgeStreamError(stream, `its last message (${last}) is not a bridge message`);
      }
      if (meta.fingerprint !== log.codec.fingerprint) {
        throw new FingerprintMismatchError(
          { name: log.codec.name, fingerprint: log.codec.fingerprint },
          { name: meta.record || "(unnamed)", fingerprint: meta.fingerprint || "(none)" },
        );
      }
      if (meta.segmentCapacity !== S) {
        throw new BridgeStreamError(stream, `it was written from a log with segmentCapacity ${meta.segmentCapacity}, this log has ${S}`);
      }
      from = meta.first + meta.count;
      lostBase = Number.isSafeInteger(meta.lost) ? meta.lost : 0;
      const next = log.stats().nextSequence;
      if (from > next) {
        throw new BridgeStreamError(
          stream,
          `it holds records up to sequence ${from - 1} but the log's next sequence is ${next} (a recreated log, or records lost in a crash after ` +
            `they were published); continue the log past them first, e.g. writer.skipTo(${Math.ceil(from / S) * S})`,
        );
      }
    }
    const cursor = log.cursor({ from, gated: options.gated ?? false });
    return new Bridge(log, { nc, owned, js: jetstream(nc), jsm, stream, subject, cursor, last, lostBase, maxInFlight, maxRecords, ackTimeoutMs, limits, headers });
  } catch (error) {
    if (owned) await nc.close();
    throw error;
  }
}

/** The state {@link publish} hands to a {@link Bridge}. */
interface BridgeInit<V extends RecordView, D> {
  nc: NatsConnection;
  owned: boolean;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  subject: string;
  cursor: Cursor<V, D>;
  last: number;
  lostBase: number;
  maxInFlight: number;
  maxRecords: number;
  ackTimeoutMs: number;
  limits: Pick<BridgeStats, "streamLimits" | "limitsWarning">;
  /** The message header template (its widest message sized `maxRecords`). */
  headers: BridgeMessageHeaders;
}

/**
 * A running bridge from a log to a JetStream stream (see {@link publish}).
 * Runs on the event loop of the thread that started it; the log's writer may
 * be anywhere (another worker, another process for a durable log).
 */
export class Bridge<V extends RecordView, D> implements AsyncDisposable {
  /** Settles when the bridge stops: resolves after {@link stop}, rejects with the error that stopped it (e.g. {@link BridgeFencedError}). */
  readonly done: Promise<void>;
  private readonly log: AtomicLog<V, D>;
  private readonly init: BridgeInit<V, D>;
  private readonly cursor: Cursor<V, D>;
  private readonly fingerprint: string;
  private readonly headers: BridgeMessageHeaders;
  private readonly recBytes: number;
  /** Sent and not yet acknowledged, oldest first. */
  private readonly queue: Pending[] = [];
  /** Payload buffers of acknowledged messages, for reuse (see {@link payload}). */
  private readonly pool: Uint8Array[] = [];
  /** The stream sequence the next new message expects to be the last one. */
  private expectNext: number;
  private acked: number;
  private ackedStreamSeq: number;
  private messages = 0;
  private records = 0;
  private bytes = 0;
  private resends = 0;
  private duplicates = 0;
  private errors = 0;
  private lastError: string | null = null;
  private state: BridgeStats["state"] = "running";
  private stopAt = Number.POSITIVE_INFINITY;
  private abort = false;
  private wake: (() => void) | null = null;
  private kicked = false;
  private readyPending = false;
  private backoffMs = 0;
  /** Set by the connection watcher: the connection came back, and unanswered messages are to be re-sent. */
  private reconnected = false;
  private stopWatching: () => void = () => {};

  /** @internal Use {@link publish}. */
  constructor(log: AtomicLog<V, D>, init: BridgeInit<V, D>) {
    this.log = log;
    this.init = init;
    this.cursor = init.cursor;
    this.fingerprint = log.codec.fingerprint;
    this.headers = init.headers;
    this.recBytes = log.codec.byteLength;
    this.expectNext = init.last;
    this.ackedStreamSeq = init.last;
    this.acked = init.cursor.sequence;
    void this.watchReconnects();
    this.done = this.run();
    // `done` is for whoever wants it; a failure is also in stats(), so never an unhandled rejection.
    this.done.catch(() => {});
  }

  /** A snapshot of the bridge's counters. */
  stats(): BridgeStats {
    return {
      state: this.state,
      nextSequence: this.cursor.isReleased ? this.acked : this.cursor.sequence,
      ackedSequence: this.acked,
      streamSequence: this.ackedStreamSeq,
      messages: this.messages,
      records: this.records,
      bytes: this.bytes,
      lost: this.init.lostBase + this.cursor.lost,
      inFlight: this.queue.length,
      resends: this.resends,
      duplicates: this.duplicates,
      errors: this.errors,
      lastError: this.lastError,
      ...this.init.limits,
    };
  }

  /**
   * Stops the bridge. By default it first drains: publishes every record the
   * log holds at the call and waits for their acknowledgements (up to
   * `timeoutMs`). Then it releases its cursor and closes the connection it
   * opened. Resolves with the final counters, also after a failure (see
   * `done`). Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<BridgeStats> {
    if (this.state === "running") {
      this.state = "stopping";
      if (options.drain ?? true) {
        this.stopAt = this.log.stats().nextSequence;
        const timer = setTimeout(() => {
          this.abort = true;
          this.kick();
        }, options.timeoutMs ?? 10_000);
        this.done.finally(() => clearTimeout(timer)).catch(() => {});
      } else {
        this.abort = true;
      }
      this.kick();
    }
    await this.done.catch(() => {});
    return this.stats();
  }

  /** Same as `stop()`: enables `await using bridge = await publish(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Wakes the loop; remembered if it is not waiting, so a wake between its checks and its wait is never lost. */
  private kick(): void {
    this.kicked = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.abort) break;
        if (this.reconnected) this.resendUnanswered();
        // settle() only when the oldest message has its answer: an async call per turn of the
        // loop was a promise and a microtask per message for nothing.
        if (this.queue.length > 0 && this.queue[0]!.settled && (await this.settle())) continue;
        if (this.state === "stopping" && this.queue.length === 0 && this.cursor.sequence >= this.stopAt) break;
        if (this.queue.length < this.init.maxInFlight) {
          const span = this.cursor.take(this.init.maxRecords);
          if (span.length > 0) {
            // Copied now: a publish reads its payload later than the call (measured), and the
            // cursor's span is only stable until its next call; a re-send needs the bytes too.
            const bytes = this.payload(span.length * this.recBytes);
            bytes.set(new Uint8Array(span.view.buffer, span.base, bytes.byteLength));
            this.send(span.startSequence, span.length, bytes);
            // Let the client write a large message before the next one: it flushes in a microtask
            // queued by the publish, or inline once 32 KiB are pending, packing every pending
            // message into one new buffer first. Back-to-back full runs made it pack two 32 KiB
            // messages at a time: 12% more CPU per message and 10% less throughput (measured in
            // one process against the same loop without this line, 12 and 16 interleaved rounds),
            // where raw publishing writes one per flush. Small messages still go out together.
            if (bytes.byteLength >= YIELD_BYTES) await null;
            continue;
          }
        }
        await this.idle();
      }
      this.state = "stopped";
    } catch (error) {
      this.state = "failed";
      this.lastError = String((error as Error)?.message ?? error);
      throw error;
    } finally {
      this.stopWatching();
      this.cursor.release();
      if (this.init.owned) await this.init.nc.close().catch(() => {});
    }
  }

  /** Waits until an acknowledgement settles, records arrive, or a stop is asked for. */
  private idle(): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wake = () => {
        this.kicked = false;
        resolve();
      };
      // One ready() at a time: a settled acknowledgement can wake us first, and another
      // ready() per wait would leave parked waiters behind.
      if (!this.readyPending && this.queue.length < this.init.maxInFlight) {
        this.readyPending = true;
        const woke = () => {
          this.readyPending = false;
          this.kick();
        };
        this.cursor.ready(250).then(woke, woke);
      }
    });
  }

  /**
   * A payload buffer of `bytes` bytes, from the pool of acknowledged ones. A fresh 32 KiB
   * buffer per message cost page faults and garbage: copying into it (slice()) was 17% of
   * the bridge's CPU time; reused buffers stay warm. A buffer is reused only once its
   * message is acknowledged: the client writes a connection's messages in order, so by then
   * every send of it (first and re-sends) has left the client's outbound buffer.
   */
  private payload(bytes: number): Uint8Array {
    const buffer = this.pool.pop() ?? new Uint8Array(this.init.maxRecords * this.recBytes);
    return buffer.subarray(0, bytes);
  }

  private send(first: number, count: number, payload: Uint8Array): void {
    const expect = this.expectNext++;
    // The id and the expectation are headers like ours (the client's msgID/expect options would
    // set them on the headers at every send, through its slow set()).
    const headers = this.headers.message(first, count, this.init.lostBase + this.cursor.lost, expect);
    const entry: Pending = {
      first,
      count,
      payload,
      headers,
      expect,
      promise: Promise.resolve(),
      attempt: 0,
      settled: false,
      ack: null,
      error: null,
    };
    this.queue.push(entry);
    this.dispatch(entry);
  }

  private dispatch(entry: Pending): void {
    entry.settled = false;
    entry.ack = null;
    entry.error = null;
    // A message re-sent after a reconnect may also get the earlier send's answer (or its
    // time-out) later: only the latest send settles the entry, which may be reused by then.
    const attempt = ++entry.attempt;
    entry.promise = this.init.js
      .publish(this.init.subject, entry.payload, {
        headers: entry.headers,
        timeout: this.init.ackTimeoutMs,
      })
      .then(
        (ack) => {
          if (entry.attempt !== attempt) return;
          entry.ack = ack;
          entry.settled = true;
          this.kick();
        },
        (error: unknown) => {
          if (entry.attempt !== attempt) return;
          entry.error = error;
          entry.settled = true;
          this.kick();
        },
      );
  }

  /**
   * Watches the connection: after a reconnect, the messages still waiting for an answer are
   * sent again at once. The client does not fail a request whose connection dropped, so the
   * bridge otherwise waited out `ackTimeoutMs` (5 s) for answers that could never come: the
   * 3-node failover test measured publishing stalled 5.1-10.2 s with a new stream leader elected
   * after 4.0 s. A re-send the server already stored is answered as a duplicate (same id) and
   * checked to be ours, as after any failure.
   */
  private async watchReconnects(): Promise<void> {
    const status = this.init.nc.status();
    this.stopWatching = () => (status as { stop?: () => void }).stop?.();
    try {
      for await (const event of status) {
        if (this.abort || this.state === "stopped" || this.state === "failed") break;
        if (event.type === "reconnect") {
          this.reconnected = true;
          this.kick();
        }
      }
    } catch {
      // The connection closed: the send loop sees it too.
    }
  }

  /** After a reconnect: sends again every message that has no answer yet, oldest first, with the same ids and expectations. */
  private resendUnanswered(): void {
    this.reconnected = false;
    let again = 0;
    for (const entry of this.queue) {
      if (entry.settled) continue;
      this.dispatch(entry);
      again++;
    }
    this.resends += again;
  }

  /**
   * Takes acknowledged messages off the front of the queue, in order.
   * Returns true if it did anything (the caller loops again).
   * @throws {BridgeFencedError} if the front message was refused because another bridge published.
   */
  private async settle(): Promise<boolean> {
    let progressed = false;
    while (this.queue.length > 0 && this.queue[0]!.settled) {
      const entry = this.queue[0]!;
      if (entry.error !== null) {
        const code = (entry.error as { code?: number }).code; // JetStreamApiError: the API's err_code
        if (code === MESSAGE_TOO_LARGE) throw new BridgeStreamError(this.init.stream, `it refuses message ${entry.first} as too large (${(entry.error as Error).message})`);
        if (code !== WRONG_LAST_SEQUENCE) {
          await this.resendAll(entry.error);
          return true;
        }
        // A refused expectation at the front (everything before it acknowledged) means another
        // publisher got in, unless ours was stored after all and its id had left the duplicate window.
        // Nothing stored where ours belongs means nobody got in: the refusal came from an order
        // that no longer holds (after a reconnect the client flushes what it buffered offline, so
        // a later message can reach the server before an earlier lost one is re-sent), and we
        // send again. Only someone else's message there fences us (found by review).
        const ours = await this.storedIsOurs(entry);
        if (ours === false) throw new BridgeFencedError(this.init.stream, entry.expect, `its message for sequence ${entry.first} was refused`);
        if (ours === null || ours === "absent") {
          await this.resendAll(entry.error);
          return true;
        }
      } else if (entry.ack!.duplicate || entry.ack!.seq !== entry.expect + 1) {
        // A duplicate answer says a message with this id is stored: check that it is this one.
        const ours = await this.storedIsOurs(entry);
        if (ours === false) throw new BridgeFencedError(this.init.stream, entry.expect, `the message stored at ${entry.expect + 1} is another bridge's`);
        if (ours === "absent") {
          // Stored (its id is known) but not where it belongs, or gone since: re-sending would be
          // answered the same way for ever.
          throw new BridgeStreamError(this.init.stream, `message ${entry.first} is answered as stored, but stream sequence ${entry.expect + 1} holds nothing (removed by the stream's limits or by hand?)`);
        }
        if (ours === null) {
          await this.resendAll(new Error("could not read back a duplicate's stored message"));
          return true;
        }
        this.duplicates++;
      }
      this.queue.shift();
      this.pool.push(new Uint8Array(entry.payload.buffer, entry.payload.byteOffset, this.init.maxRecords * this.recBytes));
      this.acked = entry.first + entry.count;
      this.ackedStreamSeq = entry.expect + 1;
      this.messages++;
      this.records += entry.count;
      this.bytes += entry.payload.byteLength;
      this.backoffMs = 0;
      progressed = true;
    }
    return progressed;
  }

  /** Whether the message stored where `entry` belongs is `entry` (true/false), `"absent"` if nothing is stored there, or null if the stream could not be asked. */
  private async storedIsOurs(entry: Pending): Promise<boolean | "absent" | null> {
    let stored;
    try {
      stored = await storedAt(this.init.jsm, this.init.stream, entry.expect + 1);
    } catch {
      return null;
    }
    if (stored === null) return "absent";
    const meta = readMeta(stored.header);
    // The bytes too: another log of the same layout (a second host misconfigured onto this
    // subject) gives the same id and count to different records.
    return (
      meta.fingerprint === this.fingerprint &&
      meta.first === entry.first &&
      meta.count === entry.count &&
      Buffer.from(stored.data.buffer, stored.data.byteOffset, stored.data.byteLength).equals(entry.payload)
    );
  }

  /** After a failure: lets everything in flight settle, backs off, and sends it all again with the same ids and expectations. */
  private async resendAll(cause: unknown): Promise<void> {
    this.errors++;
    this.lastError = String((cause as Error)?.message ?? cause);
    if (this.init.nc.isClosed()) throw cause;
    await Promise.all(this.queue.map((e) => e.promise));
    this.backoffMs = Math.min(2000, Math.max(50, this.backoffMs * 2));
    await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
    if (this.abort) return;
    this.reconnected = false; // everything is sent again here
    for (const entry of this.queue) {
      this.resends++;
      this.dispatch(entry);
    }
  }
}

function checkName(option: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw new InvalidOptionError(option, value, "a non-empty string");
  return value;
}

function checkCount(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw new InvalidOptionError(option, value, "an integer >= 1");
  return value;
}
