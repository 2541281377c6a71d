/** The demo's market: symbols, a deterministic random walk, and the message shapes workers exchange. */

/** Tickers the feed publishes; index = `symbolId`. */
export const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "ADA-USD", "DOGE-USD", "AVAX-USD", "DOT-USD"] as const;

/** Starting prices, per symbol. */
export const START_PRICES = [64000, 3400, 150, 0.6, 0.45, 0.15, 35, 7];

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Words of the shared control block the demo's main thread and workers use. */
export const CONTROL = { STOP: 0 } as const;

/** What every reader posts as progress and at the end. */
export interface ReaderReport {
  type: "progress" | "done";
  role: string;
  records: number;
  lost: number;
  detail: string;
  /** Per-symbol results the main thread checks (meaning depends on the role). */
  perSymbol?: number[];
}
