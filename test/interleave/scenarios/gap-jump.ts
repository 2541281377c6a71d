/**
 * gap.ts with a jump: the target is more than a window ahead, so the whole
 * window leaves in one roll and the reader is lapped across the gap.
 */
import { gap } from "./gap.ts";

export default gap("a jump past the whole window against a parked reader", 12);
