/** killed-reader.ts with a snapshot reader: take, refresh, read, release. */
import { attach, expectRecord } from "./common.ts";
import { killedReader } from "./killed-reader.ts";

export default killedReader("a snapshot reader killed mid-pin, then recovered", ({ shared }) => {
  const snap = attach(shared).snapshot();
  snap.refresh();
  snap.forEach((view, seq) => expectRecord(view, seq, "snapshot"));
  snap.release();
});
