/**
 * Two-word sequences: the tailing scenario of publication.ts on a log whose
 * sequences cross 2^32 (segment sequences and record sequences are stored as
 * hi/lo word pairs behind version flips). Invariant: every sequence a reader
 * computes is exact.
 */
import { tailing } from "./publication.ts";

export default tailing("publication across sequence 2^32", 2 ** 32 - 4);
