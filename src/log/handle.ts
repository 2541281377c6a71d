/**
 * Log handles: the structured-cloneable description of a log that is posted
 * to a worker, and the checks that turn one back into a log there.
 */
import type { RecordCodec } from "../records/codec.ts";
import { FORMAT, H, MAGIC, controlGeometry } from "../shared/control.ts";
import { FingerprintMismatchError, InvalidHandleError, describeValue } from "../errors.ts";
import { LogState, fingerprintWords } from "./log-state.ts";
import type { RecordView } from "../records/record-view.ts";
import { attachStore, type StoreHandle } from "../store/segment-store.ts";
import { type DurableHandle, attachDurable, durableHandle } from "../store/durable-open.ts";
import { requireDurableSupport } from "./platform.ts";

/**
 * Everything a worker needs to open the same log, zero-copy: shared buffers
 * and the record's identity. Post it with `worker.postMessage(log.handle())`.
 */
export interface LogHandle {
  /** Always `"atomic-log"`. */
  readonly kind: "atomic-log";
  /** Shared-layout version. */
  readonly format: number;
  /** The control block (null for a durable log: each worker maps its control file). */
  readonly control: SharedArrayBuffer | null;
  /** The segment store. */
  readonly store: StoreHandle;
  /** The record the log was created with. */
  readonly record: { readonly name: string; readonly fingerprint: string; readonly byteLength: number };
  /** For a durable log: its directory and the process's wake-up bell. */
  readonly durable?: DurableHandle;
}

/** Builds the handle of a log's state. */
export function makeHandle<V extends RecordView, D>(state: LogState<V, D>): LogHandle {
  return {
    kind: "atomic-log",
    format: FORMAT,
    control: state.durable === null ? (state.ctl.buffer as SharedArrayBuffer) : null,
    store: state.store.share(),
    record: { name: state.codec.name, fingerprint: state.codec.fingerprint, byteLength: state.codec.byteLength },
    ...(state.durable === null ? {} : { durable: durableHandle(state) }),
  };
}

/**
 * Opens the log described by `handle` with `codec`.
 * @throws {InvalidHandleError} if `handle` is not a log handle of this format.
 * @throws {FingerprintMismatchError} if `codec` is not the record the log holds.
 */
export function attachState<V extends RecordView, D>(codec: RecordCodec<V, D>, handle: unknown): LogState<V, D> {
  const h = handle as Partial<LogHandle> | null;
  if (h === null || typeof h !== "object" || h.kind !== "atomic-log") {
    throw new InvalidHandleError("expected the object returned by log.handle()");
  }
  if (h.format !== FORMAT) throw new InvalidHandleError(`format ${String(h.format)} is not supported (expected ${FORMAT})`);
  if (h.durable !== undefined && h.store?.kind === "file") {
    requireDurableSupport("attaching a durable log's handle");
    return attachDurable(codec, h.durable);
  }
  if (!(h.control instanceof SharedArrayBuffer) || h.store?.kind !== "memory" || !(h.store.data instanceof SharedArrayBuffer)) {
    throw new InvalidHandleError("its buffers are missing or not SharedArrayBuffers");
  }
  // A length that is not whole words would make `new Int32Array` throw a plain RangeError.
  if (h.control.byteLength % 4 !== 0 || h.control.byteLength < 4 * 32) {
    throw new InvalidHandleError(`its control block has ${h.control.byteLength} bytes, not an atomic-log control block`);
  }
  const ctl = new Int32Array(h.control);
  if (ctl[H.MAGIC] !== MAGIC) throw new InvalidHandleError("its control block is not an atomic-log control block");
  const [hi, lo] = fingerprintWords(codec.fingerprint);
  if (ctl[H.FINGERPRINT_HI] !== hi || ctl[H.FINGERPRINT_LO] !== lo || ctl[H.RECORD_BYTES] !== codec.byteLength) {
    throw new FingerprintMismatchError(
      { name: h.record?.name ?? "?", fingerprint: h.record?.fingerprint ?? "?" },
      { name: codec.name, fingerprint: codec.fingerprint },
    );
  }
  const words = controlGeometry(ctl[H.POOL_SEGMENTS]!, ctl[H.DIR_SIZE]!, ctl[H.PIN_SLOTS]!).words;
  if (ctl.length !== words) throw new InvalidHandleError(`its control block has ${ctl.length} words, its header describes ${words}`);
  const segmentBytes = ctl[H.SEGMENT_CAPACITY]! * ctl[H.RECORD_BYTES]!;
  const expectedBytes = ctl[H.POOL_SEGMENTS]! * segmentBytes;
  if (h.store.data.byteLength !== expectedBytes) {
    throw new InvalidHandleError(
      `its data buffer has ${h.store.data.byteLength} bytes but the control block describes ${expectedBytes} (buffers from different logs?)`,
    );
  }
  if (h.store.segmentBytes !== segmentBytes) {
    throw new InvalidHandleError(
      `its store says segments of ${describeValue(h.store.segmentBytes)} bytes but the control block describes ${segmentBytes}`,
    );
  }
  return new LogState(codec, ctl, attachStore(h.store));
}
