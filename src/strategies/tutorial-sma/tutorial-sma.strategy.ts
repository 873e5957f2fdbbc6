import { Type, type Static } from 'typebox';
import { defineStrategy, fieldConfig, plainJsonState, type ConfigField } from '../api.js';

/** Settings of the tutorial strategy (docs/strategies.md builds it step by step). */
export interface TutorialSmaConfig {
  readonly symbols: readonly string[];
  /** Length of the simple moving average, in bars. */
  readonly period: number;
  /** Shares to hold while the close is above the average. */
  readonly quantity: number;
}

/**
 * The last `period` closes of each symbol, in paise. Declared as a TypeBox schema (the type is
 * derived from it), so a snapshot is checked against it when it is read back.
 */
export const TutorialSmaState = Type.Record(Type.String(), Type.Array(Type.Integer()));
export type TutorialSmaState = Static<typeof TutorialSmaState>;

const FIELDS = [
  { name: 'symbols', type: 'symbols', description: 'Symbols to trade', default: [] },
  { name: 'period', type: 'integer', description: 'SMA length (bars)', default: 20, min: 2, max: 1_000 },
  { name: 'quantity', type: 'integer', description: 'Shares to hold when long', default: 10, min: 1, max: 100_000 },
] as const satisfies readonly ConfigField[];

/**
 * The tutorial's example: hold `quantity` shares while a 5-minute close is above its
 * simple moving average, and none while it is below. Intraday (MIS), market orders.
 */
export const tutorialSma = defineStrategy<TutorialSmaConfig, TutorialSmaState>({
  kind: 'tutorial-sma',
  description: 'Tutorial: long while the close is above its SMA',
  stateVersion: 1,
  ...fieldConfig(FIELDS),
  product: () => 'MIS',
  subscriptions(config) {
    return [{ kind: 'bars', symbols: config.symbols, interval: '5m' }];
  },
  init() {
    return {};
  },
  onBar(state, bar, ctx) {
    const { period, quantity } = ctx.config;
    const closes = (state[bar.symbol] ??= []);
    closes.push(bar.closePaise);
    if (closes.length > period) closes.shift();
    if (closes.length < period) return state; // still warming up

    const average = closes.reduce((sum, close) => sum + close, 0) / period;
    const target = bar.closePaise > average ? quantity : 0;
    // our view for the signal aggregator: a vote, not an order (step 5)
    const distance = Math.abs(bar.closePaise - average) / average;
    ctx.signal({ symbol: bar.symbol, direction: target > 0 ? 'long' : 'short', confidence: Math.min(1, distance * 100), reason: `close vs SMA${period}` });
    // what we hold plus what we already asked for: never send the same order twice
    const current = ctx.portfolio.netQuantity(bar.symbol) + ctx.portfolio.workingQuantity(bar.symbol);
    const delta = target - current;
    if (delta !== 0) {
      ctx.submit({
        symbol: bar.symbol,
        side: delta > 0 ? 'BUY' : 'SELL',
        quantity: Math.abs(delta),
        orderType: 'MARKET',
        product: 'MIS',
        reason: `close ${target > 0 ? 'above' : 'below'} SMA${period}`,
      });
    }
    return state;
  },
  ...plainJsonState(TutorialSmaState),
});
