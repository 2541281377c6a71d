/**
 * Typed errors of the NATS JetStream bridge (`atomic-log/bridge`).
 *
 * They extend the runtime's {@link AtomicLogError}, so one `instanceof` and a
 * stable `.code` cover the log and its bridge alike.
 */
import { AtomicLogError } from "../errors.ts";

/**
 * Another bridge published to the stream: this one's next message expected
 * the stream to end at its last acknowledged message, and the server refused
 * it (`Nats-Expected-Last-Sequence`). The fenced bridge has stopped; whatever
 * it had not had acknowledged is left to the bridge that won, which resumes
 * after the last stored message.
 */
export class BridgeFencedError extends AtomicLogError {
  /** The stream. */
  readonly stream: string;
  /** The stream sequence this bridge expected to be the last one. */
  readonly expectedLastSequence: number;
  constructor(stream: string, expectedLastSequence: number, detail: string) {
    super(
      "BRIDGE_FENCED",
      `stream ${stream}: another bridge published after stream sequence ${expectedLastSequence}; this bridge stopped (${detail})`,
    );
    this.stream = stream;
    this.expectedLastSequence = expectedLastSequence;
  }
}

/**
 * The stream cannot carry this log: it has other subjects than the bridge's
 * (the fence counts the whole stream's sequence), it holds messages that are
 * not a bridge's, or its last message is ahead of the log (the log was
 * recreated, or lost records in a crash, after they were published).
 */
export class BridgeStreamError extends AtomicLogError {
  /** The stream. */
  readonly stream: string;
  constructor(stream: string, detail: string) {
    super("BRIDGE_STREAM", `stream ${stream}: ${detail}`);
    this.stream = stream;
  }
}

/**
 * A bridge message's payload is not `count` whole records: it is truncated,
 * padded, or its count header is missing or malformed. The replica applied
 * nothing of it, and stopped.
 */
export class PayloadLengthError extends AtomicLogError {
  /** The message's stream sequence. */
  readonly streamSequence: number;
  /** Bytes in the payload. */
  readonly bytes: number;
  /** Bytes expected: count × record size (NaN if the count header is unusable). */
  readonly expected: number;
  constructor(streamSequence: number, bytes: number, expected: number, detail: string) {
    super("PAYLOAD_LENGTH", `stream message ${streamSequence}: ${detail}`);
    this.streamSequence = streamSequence;
    this.bytes = bytes;
    this.expected = expected;
  }
}
