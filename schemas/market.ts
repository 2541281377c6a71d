/**
 * Market-data records used by the demo and the benchmarks.
 */
import type { f64, u32, u8, u16, utf8, Fixed } from "atomic-log/schema";

/** A trade print. 32 bytes: the record every benchmark uses. */
export interface Trade {
  /** Exchange timestamp, milliseconds since the epoch. */
  ts: f64;
  /** Trade id, unique per venue. */
  id: u32;
  /** Price in quote currency. */
  price: f64;
  /** Quantity in lots. */
  qty: u32;
  /** 0 = buy, 1 = sell. */
  side: u8;
}

/** Which side of the book initiated a tick. */
export enum Side {
  Buy = 0,
  Sell = 1,
}

/** A market-data tick, as the demo's writer publishes it. */
export interface Tick {
  /** Exchange timestamp, milliseconds since the epoch. */
  ts: f64;
  /** Price in quote currency. */
  price: f64;
  /** Quantity in lots. */
  qty: u32;
  /** Index of the symbol in the demo's symbol table. */
  symbolId: u16;
  /** Aggressor side. */
  side: Side;
  /** Ticker, e.g. "BTC-USD". */
  symbol: utf8<12>;
  /** Best bid and ask sizes at the time of the tick, top three levels. */
  depth: Fixed<u32, 3>;
}

/** One price level of an order book. */
export interface BookLevel {
  /** Price in quote currency. */
  price: f64;
  /** Resting quantity in lots. */
  size: u32;
}

/** Top of book for one symbol: two nested {@link BookLevel} records. */
export interface Quote {
  /** Exchange timestamp, milliseconds since the epoch. */
  ts: f64;
  /** Index of the symbol in the demo's symbol table. */
  symbolId: u16;
  /** Best bid. */
  bid: BookLevel;
  /** Best ask. */
  ask: BookLevel;
}
