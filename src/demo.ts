/**
 * What `npm start` trades when nothing else is configured: one EMA crossover on closed 1-minute
 * bars of twenty symbols, intraday (MIS, squared off by 15:20 IST). Fed by bars, it decides at most
 * once a minute per symbol, so its orders stay far below the 10 orders/s limit it runs under
 * (fed by every tick it sent ~8 orders/s, paid more in charges than it made and tripped the kill
 * switch within minutes). Strategies made through the API are kept alongside it.
 */
import type { StrategySpec } from './runtime/runtime.js';

/** Symbols the demo strategy trades: the first twenty of the market. */
export const DEMO_SYMBOL_COUNT = 20;

/** The demo strategy for a market of these symbols. */
export function demoStrategies(symbols: readonly string[]): StrategySpec[] {
  return [
    {
      strategyId: 'ema-cross-1',
      kind: 'ema-cross',
      config: { symbols: symbols.slice(0, DEMO_SYMBOL_COUNT), source: '1m', fastPeriod: 3, slowPeriod: 8, quantity: 10, product: 'MIS' },
    },
  ];
}
