/** killed-reader.ts with a gated cursor: open, read one record, release. */
import { attach, expectRecord } from "./common.ts";
import { killedReader } from "./killed-reader.ts";

export default killedReader("a gated cursor killed mid-pin, then recovered", ({ shared }) => {
  const cursor = attach(shared).cursor({ from: "oldest", gated: true });
  cursor.poll((view, seq) => expectRecord(view, seq, "cursor"), 1);
  cursor.release();
});
