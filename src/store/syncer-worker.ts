/**
 * The syncer worker (see syncer.ts): maps the log's control file and pool
 * files itself, then, for each request "durable below S", flushes the files of
 * the segments from the last synced one up to S's, then the control file, and
 * only then stores S as the synced sequence.
 */
import { join } from "node:path";
import { H, controlGeometry } from "../shared/control.ts";
import { CF, CONTROL_FILE, HEADER_BYTES, writePair } from "./file-format.ts";
import { FileSegmentStore, flushPath } from "./file-store.ts";
import { serveRequests } from "./syncer.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ dir: string; buffer: SharedArrayBuffer }>) => {
  const { dir, buffer } = event.data;
  const words = new Int32Array(buffer);
  const control = Bun.mmap(join(dir, CONTROL_FILE), { shared: true });
  const header = new Int32Array(control.buffer, 0, HEADER_BYTES / 4);
  const ctl = new Int32Array(control.buffer, HEADER_BYTES, header[CF.CONTROL_WORDS]!);
  const segCap = ctl[H.SEGMENT_CAPACITY]!;
  const pool = ctl[H.POOL_SEGMENTS]!;
  const dirSize = ctl[H.DIR_SIZE]!;
  const dirBase = controlGeometry(pool, dirSize, ctl[H.PIN_SLOTS]!).dirBase;
  const store = FileSegmentStore.open(
    { dir, poolSegments: pool, segmentCapacity: segCap, recordBytes: ctl[H.RECORD_BYTES]!, fingerprint: [header[CF.FINGERPRINT_HI]!, header[CF.FINGERPRINT_LO]!] },
    false,
  );
  serveRequests(
    words,
    (synced, target) => {
      const names = store.syncNames();
      // The segments holding records in [synced, target): each one's directory entry names its file.
      const last = Math.ceil(target / segCap) - 1;
      for (let seq = Math.floor(synced / segCap); seq <= last; seq++) {
        const phys = Atomics.load(ctl, dirBase + (seq % dirSize));
        if (phys >= 0 && phys < pool) store.flushFile(phys, names);
      }
      flushPath(join(dir, CONTROL_FILE));
      writePair(header, CF.SYNCED_HI, target);
      flushPath(join(dir, CONTROL_FILE));
    },
  );
};
