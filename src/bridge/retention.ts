/**
 * The log's retention mapped onto the stream's limits.
 *
 * A log keeps a rolling window: `retainedSegments` full segments behind the
 * head plus the head, i.e. at most W = (retainedSegments + 1) × segmentCapacity
 * records, and (durable logs) drops segments older than `retentionMs`. The
 * stream should keep at least what the log keeps, so that a replica that
 * falls behind by less than the window, or starts from scratch, finds every
 * record the source still has; and no more than that times a bounded factor,
 * so that it does not grow until the disk is full (the server's default).
 *
 * The bridge batches by itself: a message holds whatever run was available,
 * from one record at low rates to a whole segment under load. So the only
 * bound on the window's messages is one per record, and both limits are the
 * worst case: `max_msgs` = W, `max_bytes` = W × (record + the most one
 * message's headers and storage can add). Anything smaller would drop records
 * the log still holds whenever messages are small. The price is that under
 * load (full runs) the stream keeps more than the window, about
 * W × (1 + overhead / record) records; `retention: { maxBytes }` bounds it
 * tighter for whoever knows their messages are full runs.
 */
import type { StreamConfig } from "@nats-io/jetstream";
import type { AtomicLog } from "../log/log.ts";
import type { RecordView } from "../records/record-view.ts";
import { InvalidOptionError } from "../errors.ts";
import { BridgeMessageHeaders, widestHeaderBytes } from "./headers.ts";

/**
 * How the bridge sets a stream's limits: `"window"` (mirror the log's
 * retention), `"none"` (set none: the server's defaults, unlimited), or
 * explicit limits (a missing one is unlimited).
 */
export type Retention = "window" | "none" | ExplicitRetention;

/** Explicit stream limits for {@link Retention}. */
export interface ExplicitRetention {
  /** The stream's `max_bytes`: stored bytes, headers and storage overhead included. */
  maxBytes?: number;
  /** The stream's `max_msgs`. */
  maxMsgs?: number;
  /** The stream's `max_age`, in milliseconds (JetStream's field is in nanoseconds). */
  maxAgeMs?: number;
}

/**
 * A stream's limits in JetStream's own fields and units, ready to spread into
 * a `StreamConfig`: `max_msgs` and `max_bytes` (-1: unlimited) and `max_age`
 * in nanoseconds (0: unlimited).
 */
export interface StreamLimits {
  /** Most messages the stream keeps (-1: unlimited). */
  max_msgs: number;
  /** Most bytes the stream keeps, as the server counts them: payload, headers, subject and framing (-1: unlimited). */
  max_bytes: number;
  /** Most age of a message, in nanoseconds from when it was stored (0: unlimited). */
  max_age: number;
}

/** No limits: the server's defaults. */
export const UNLIMITED: StreamLimits = Object.freeze({ max_msgs: -1, max_bytes: -1, max_age: 0 });

/** The limit fields a `createStream` object may set, and which then win over `retention`. */
const LIMIT_FIELDS = ["max_msgs", "max_bytes", "max_age"] as const;

/** Room for headers a later version adds, so the bound stays a bound across a rolling upgrade of bridges. */
const HEADER_SLACK = 64;

/**
 * The most bytes one bridge message adds to a stream beside its payload: the
 * file store's per-message framing (34 bytes: length, sequence, timestamp,
 * subject length, header length, hash; the memory store uses less), the
 * subject, and the headers with every number at its widest (16 digits). A
 * test measures the server's own accounting against it.
 */
export function messageOverheadBound(recordName: string, fingerprint: string, segmentCapacity: number, subject: string): number {
  // The headers as the bridge encodes them: sized from the encoder itself, never a copied list.
  const headerBytes = widestHeaderBytes(new BridgeMessageHeaders(recordName, fingerprint, segmentCapacity), segmentCapacity);
  return 34 + utf8(subject) + headerBytes + HEADER_SLACK;
}

/**
 * The stream limits that mirror `log`'s retention (see the module's comment
 * for why they are the worst case): `max_msgs` = the most records the window
 * holds, `max_bytes` = that many single-record messages, and `max_age` = the
 * durable log's `retentionMs`, plus its `segmentDurationMs` if segments are time-aligned
 * (unlimited for a log in memory, or with none).
 * Use it to create or update a stream yourself (`createStream: false`).
 */
export function windowLimits<V extends RecordView, D>(log: AtomicLog<V, D>, subject: string): StreamLimits {
  const records = (log.retainedSegments + 1) * log.segmentCapacity;
  const perMessage = log.codec.byteLength + messageOverheadBound(log.codec.name, log.codec.fingerprint, log.segmentCapacity, subject);
  // The log's retention by age is stored in its control file, shared by every process that opens it.
  const retentionMs = log.retentionMs;
  // The log drops a segment `retentionMs` after its last record, the stream a message that long
  // after it was stored: with time-aligned segments a segment's first record is at most one
  // segment duration older than its last, so that much more keeps the stream at least the log.
  const ageMs = retentionMs > 0 ? retentionMs + log.segmentDurationMs : 0;
  return {
    max_msgs: records,
    max_bytes: records * perMessage,
    max_age: ageMs > 0 ? Math.ceil(ageMs * 1e6) : 0,
  };
}

/**
 * The limits `retention` asks for, or null for `"none"` (set nothing, check nothing).
 * @throws {InvalidOptionError} naming `retention` (or `retention.<field>`) for a bad value.
 */
export function resolveRetention<V extends RecordView, D>(log: AtomicLog<V, D>, subject: string, retention: unknown): StreamLimits | null {
  if (retention === undefined || retention === "window") return windowLimits(log, subject);
  if (retention === "none") return null;
  if (typeof retention !== "object" || retention === null || Array.isArray(retention)) {
    throw new InvalidOptionError("retention", retention, `"window", "none", or { maxBytes?, maxMsgs?, maxAgeMs? }`);
  }
  for (const key of Object.keys(retention)) {
    if (key !== "maxBytes" && key !== "maxMsgs" && key !== "maxAgeMs") {
      throw new InvalidOptionError(`retention.${key}`, (retention as Record<string, unknown>)[key], "no such field: maxBytes, maxMsgs or maxAgeMs");
    }
  }
  const { maxBytes, maxMsgs, maxAgeMs } = retention as ExplicitRetention;
  const count = (field: string, value: unknown): number => {
    if (value === undefined) return -1;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      throw new InvalidOptionError(`retention.${field}`, value, "an integer >= 1 (leave it out for no limit)");
    }
    return value;
  };
  const limits = { max_bytes: count("maxBytes", maxBytes), max_msgs: count("maxMsgs", maxMsgs), max_age: 0 };
  if (maxAgeMs !== undefined) {
    // JetStream keeps max_age in nanoseconds; below a millisecond it is not a retention anyone means.
    if (typeof maxAgeMs !== "number" || !Number.isFinite(maxAgeMs) || maxAgeMs < 1 || !Number.isSafeInteger(Math.ceil(maxAgeMs * 1e6))) {
      throw new InvalidOptionError("retention.maxAgeMs", maxAgeMs, "a number of milliseconds >= 1 (leave it out for no limit)");
    }
    limits.max_age = Math.ceil(maxAgeMs * 1e6);
  }
  return limits;
}

/**
 * The limits a stream is meant to have: `retention`'s, with the limit fields
 * of a `createStream` object winning (they are the user's word for this stream).
 */
export function intendedLimits(limits: StreamLimits | null, create: boolean | Partial<StreamConfig>): StreamLimits | null {
  if (typeof create !== "object") return limits;
  let intended = limits;
  for (const field of LIMIT_FIELDS) {
    const value = create[field];
    if (value !== undefined) intended = { ...(intended ?? UNLIMITED), [field]: value };
  }
  return intended;
}

/** A stream config's limits, normalized (any non-positive value is "unlimited"). */
export function limitsOf(config: Partial<StreamConfig>): StreamLimits {
  const positive = (v: number | undefined, none: number) => (v !== undefined && v > 0 ? v : none);
  return { max_msgs: positive(config.max_msgs, -1), max_bytes: positive(config.max_bytes, -1), max_age: positive(config.max_age, 0) };
}

/**
 * What differs between a stream's limits and the intended ones, as one
 * sentence for `stats().limitsWarning`, or null if nothing does. A limit
 * below the intended one can drop records the log still holds; one above it
 * only keeps more.
 */
export function limitsWarning(stream: string, actual: StreamLimits, intended: StreamLimits | null): string | null {
  if (intended === null) return null;
  const want = limitsOf(intended);
  const show = (field: (typeof LIMIT_FIELDS)[number], v: number) =>
    v === (field === "max_age" ? 0 : -1) ? "unlimited" : field === "max_age" ? `${v / 1e6} ms` : String(v);
  const diffs: string[] = [];
  for (const field of LIMIT_FIELDS) {
    const a = actual[field];
    const w = want[field];
    if (a === w) continue;
    const unlimited = (v: number) => v === (field === "max_age" ? 0 : -1);
    const keepsLess = !unlimited(a) && (unlimited(w) || a < w);
    diffs.push(`${field} is ${show(field, a)}, retention asks for ${show(field, w)}${keepsLess ? " (it can drop records the log still holds)" : ""}`);
  }
  if (diffs.length === 0) return null;
  return `stream ${stream} exists with other limits than the bridge's retention: ${diffs.join("; ")}. The bridge does not change an existing stream: update it (jsm.streams.update) or set retention to match`;
}

function utf8(s: string): number {
  return new TextEncoder().encode(s).byteLength;
}
