/**
 * wake-up.ts with two-record segments: the records the parked reader waits
 * for arrive in the next segment, so the roll's wake (W1/W2 in src/shared/wake.ts)
 * is what must wake it.
 */
import { wakeUp } from "./wake-up.ts";

export default wakeUp("ready() against commit across segment rolls", 2, 4);
