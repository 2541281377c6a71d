/**
 * The headers a bridge puts on each JetStream message, and their parsing.
 *
 * A message carries a run of whole records, in the log's own layout, as its
 * payload; everything a replica needs to place them is in the headers, so the
 * payload stays the exact bytes of the source segment (no framing to copy
 * around them).
 */
import { MsgHdrsImpl, type Match, type MsgHdrs } from "@nats-io/transport-node";

/** Header names, as they appear on the wire. */
export const BridgeHeaders = {
  /** The record's name, e.g. `Trade` (for error messages: the fingerprint is what is checked). */
  Record: "Atomic-Log-Record",
  /** The record layout's 16-hex-digit fingerprint. */
  Fingerprint: "Atomic-Log-Fingerprint",
  /** Sequence number of the payload's first record. */
  Sequence: "Atomic-Log-Sequence",
  /** Records in the payload. */
  Count: "Atomic-Log-Count",
  /** Records the source's bridge never published, cumulative over the stream: laps of its cursor and the log's gaps. */
  Lost: "Atomic-Log-Lost",
  /** The source log's segmentCapacity: a replica must have the same, because gaps end at segment boundaries. */
  SegmentCapacity: "Atomic-Log-Segment-Capacity",
  /** JetStream's deduplication id: `<fingerprint>:<first sequence>`. */
  MsgId: "Nats-Msg-Id",
  /** JetStream's fence: the stream sequence of the bridge's previous message. */
  ExpectedLastSequence: "Nats-Expected-Last-Sequence",
} as const;

/**
 * A bridge message's headers, encoded once, straight from their values, into
 * the bytes the client sends (a re-send sends the same bytes). The client's
 * `headers().set` canonicalises and searches every key on each call: eight of
 * them per message were about 15% of the bridge's CPU time, and even filling
 * its map directly cost 2 µs a message against 0.3 µs for one string.
 * Still a full `MsgHdrs`: reading it decodes the bytes with the client's own
 * decoder (once), and a `set`, `append` or `delete` (the client's own
 * `msgID`/`expect` options would call `set`) re-encodes from that.
 */
export class MessageHeaders implements MsgHdrs {
  #wire: Uint8Array | null;
  #decoded: MsgHdrsImpl | null = null;

  /**
   * @param values Header values by name: numbers, or strings that are header
   * values as they are (see {@link isHeaderValue}); or the encoded headers.
   */
  constructor(values: Record<string, string | number> | Uint8Array) {
    if (values instanceof Uint8Array) {
      this.#wire = values;
      return;
    }
    // What the client's MsgHdrsImpl.toString() writes: the status line, "key: value" lines, a blank line.
    let text = "NATS/1.0";
    let n = 0;
    for (const k in values) {
      text += `\r\n${k}: ${values[k]}`;
      n++;
    }
    this.#wire = encoder.encode(n === 0 ? "" : `${text}\r\n\r\n`);
  }

  /** The wire bytes, as the client's publish asks every header object for them. */
  encode(): Uint8Array {
    return (this.#wire ??= this.#headers().encode());
  }

  #headers(): MsgHdrsImpl {
    return (this.#decoded ??= MsgHdrsImpl.decode(this.#wire!));
  }

  get hasError(): boolean {
    return this.#headers().hasError;
  }
  get status(): string {
    return this.#headers().status;
  }
  get code(): number {
    return this.#headers().code;
  }
  get description(): string {
    return this.#headers().description;
  }
  get(k: string, match?: Match): string {
    return this.#headers().get(k, match as "exact");
  }
  last(k: string, match?: Match): string {
    return this.#headers().last(k, match as "exact");
  }
  has(k: string, match?: Match): boolean {
    return this.#headers().has(k, match);
  }
  keys(): string[] {
    return this.#headers().keys();
  }
  values(k: string, match?: Match): string[] {
    return this.#headers().values(k, match);
  }
  [Symbol.iterator](): IterableIterator<[string, string[]]> {
    return this.#headers()[Symbol.iterator]();
  }
  set(k: string, v: string, match?: Match): void {
    this.#headers().set(k, v, match);
    this.#wire = null;
  }
  append(k: string, v: string, match?: Match): void {
    this.#headers().append(k, v, match);
    this.#wire = null;
  }
  delete(k: string, match?: Match): void {
    this.#headers().delete(k, match);
    this.#wire = null;
  }
}

const encoder = new TextEncoder();

/** One bridge's message headers: what is the same on every message is written once. */
export class BridgeMessageHeaders {
  readonly #head: string;
  readonly #fingerprint: string;

  /** `record` and `fingerprint` must be header values as they are (see {@link isHeaderValue}). */
  constructor(record: string, fingerprint: string, segmentCapacity: number) {
    this.#fingerprint = fingerprint;
    this.#head =
      `NATS/1.0\r\n${BridgeHeaders.Record}: ${record}\r\n${BridgeHeaders.Fingerprint}: ${fingerprint}\r\n` +
      `${BridgeHeaders.SegmentCapacity}: ${segmentCapacity}\r\n`;
  }

  /** The headers of the message of `count` records from `first`, expecting the stream to end at `expect`. */
  message(first: number, count: number, lost: number, expect: number): MessageHeaders {
    return new MessageHeaders(
      encoder.encode(
        `${this.#head}${BridgeHeaders.Sequence}: ${first}\r\n${BridgeHeaders.Count}: ${count}\r\n${BridgeHeaders.Lost}: ${lost}\r\n` +
          `${BridgeHeaders.MsgId}: ${messageId(this.#fingerprint, first)}\r\n${BridgeHeaders.ExpectedLastSequence}: ${expect}\r\n\r\n`,
      ),
    );
  }
}

/**
 * The bytes of a bridge message's headers with every number at its widest (a safe integer's
 * 16 digits): what sizes messages against `max_payload` and `max_msg_size`, and stream limits.
 */
export function widestHeaderBytes(template: BridgeMessageHeaders, segmentCapacity: number): number {
  const widest = Number.MAX_SAFE_INTEGER;
  return template.message(widest, segmentCapacity, widest, widest).encode().byteLength;
}

/** Whether `value` can be a header value as it is (no CR or LF, no surrounding blanks: what the client's `set` would refuse or trim). */
export function isHeaderValue(value: string): boolean {
  return !/[\r\n]/.test(value) && value.trim() === value;
}

/** What a bridge message's headers say, with NaN for a number that is missing or not a non-negative integer. */
export interface MessageMeta {
  /** {@link BridgeHeaders.Record}, or "" if missing. */
  record: string;
  /** {@link BridgeHeaders.Fingerprint}, or "" if missing. */
  fingerprint: string;
  /** {@link BridgeHeaders.Sequence}. */
  first: number;
  /** {@link BridgeHeaders.Count}. */
  count: number;
  /** {@link BridgeHeaders.Lost}. */
  lost: number;
  /** {@link BridgeHeaders.SegmentCapacity}. */
  segmentCapacity: number;
}

/** The message id of the run starting at `first`: the same run always gets the same id, so a re-send is deduplicated. */
export function messageId(fingerprint: string, first: number): string {
  return `${fingerprint}:${first}`;
}

/** Reads a bridge message's headers; never throws (callers decide which absence is which error). */
export function readMeta(h: MsgHdrs | undefined): MessageMeta {
  return {
    record: h?.get(BridgeHeaders.Record) ?? "",
    fingerprint: h?.get(BridgeHeaders.Fingerprint) ?? "",
    first: count(h?.get(BridgeHeaders.Sequence)),
    count: count(h?.get(BridgeHeaders.Count)),
    lost: count(h?.get(BridgeHeaders.Lost)),
    segmentCapacity: count(h?.get(BridgeHeaders.SegmentCapacity)),
  };
}

/**
 * Reads a received message's bridge headers straight from its header bytes.
 * The client's own `msg.headers` decodes every header through `append()`,
 * which canonicalises and searches every key: that was the replica's largest
 * cost after copying the records (about 18% of its CPU time). Same result as
 * `readMeta(msg.headers)` (a key is matched exactly, its first value counts,
 * values are trimmed), which it falls back to if the client does not keep the
 * bytes where this version does.
 */
export function readMessageMeta(m: { headers?: MsgHdrs }): MessageMeta {
  const raw = rawHeaderBytes(m);
  return raw === undefined ? readMeta(m.headers) : raw === null ? readMeta(undefined) : parseMeta(raw);
}

/**
 * A received message's encoded headers (`NATS/1.0\r\n...`), null if it has
 * none, or undefined if the client's message is not laid out as in
 * `@nats-io/nats-core` 3.x (a JetStream message's `msg`, holding `_rdata`,
 * the headers and payload, and `_msg.hdr`, the headers' length or -1).
 */
export function rawHeaderBytes(m: object): Uint8Array | null | undefined {
  const msg = (m as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const data = msg?._rdata;
  const hdr = msg?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof hdr !== "number" || hdr > data.byteLength) return undefined;
  return hdr < 0 ? null : data.subarray(0, hdr);
}

const decoder = new TextDecoder();
/** `\r\n<name>:` for each bridge header: where its line starts in encoded headers. */
const lineStart = Object.fromEntries(Object.entries(BridgeHeaders).map(([k, v]) => [k, `\r\n${v}:`])) as Record<keyof typeof BridgeHeaders, string>;

/** {@link readMeta} of encoded headers, as the client's decoder would read them (its first line is the status line). */
export function parseMeta(raw: Uint8Array): MessageMeta {
  const text = decoder.decode(raw);
  return {
    record: headerValue(text, lineStart.Record) ?? "",
    fingerprint: headerValue(text, lineStart.Fingerprint) ?? "",
    first: count(headerValue(text, lineStart.Sequence)),
    count: count(headerValue(text, lineStart.Count)),
    lost: count(headerValue(text, lineStart.Lost)),
    segmentCapacity: count(headerValue(text, lineStart.SegmentCapacity)),
  };
}

/**
 * The first value of a header in encoded headers, trimmed, or undefined;
 * `needle` is `\r\n<key>:` (see {@link lineStart}).
 * A line is `key:value` with the key up to the line's first colon, so the
 * first line that starts with `key:` is the key's first value (names hold no
 * colon, values no line break; the status line never follows a line break).
 */
function headerValue(text: string, needle: string): string | undefined {
  const at = text.indexOf(needle);
  if (at < 0) return undefined;
  const from = at + needle.length;
  const end = text.indexOf("\r\n", from);
  return (end < 0 ? text.slice(from) : text.slice(from, end)).trim();
}

/** A header value as a safe non-negative integer, or NaN ("", "1.5", "-1", "1e3" and overflow are all NaN). */
function count(value: string | undefined): number {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return Number.NaN;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}
