/** The tests use the repo's generated Trade codec (schemas/market.ts). */
export { Trade, TradeView, type TradeData } from "../../src/generated/market.ts";
