import { Type, type Static } from 'typebox';
import type { Bar } from '../../model/index.js';
import { defineStrategy, fieldConfig, StrategyConfigError, type ConfigField, type StrategyContext } from '../api.js';
import { barHooks } from '../shared/bar-hooks.js';
import { intervalField, symbolsField, type BarSource } from '../shared/config.js';
import { pushWindow } from '../shared/indicators.js';
import { committedQuantity, floorDiv, moveTo } from '../shared/orders.js';

/** Settings of the momentum rotation (CNC, long only). */
export interface MomentumRotationConfig {
  /** The universe to rank. */
  readonly symbols: readonly string[];
  /** Momentum is the return over this many bars (days on daily bars). */
  readonly lookback: number;
  /** Hold the best `topK` symbols. */
  readonly topK: number;
  /** Capital to spread over the holdings, in whole rupees; each holding gets ⌊capital / topK⌋. */
  readonly capitalRupees: number;
  /** Rebalance every this many bars (1 = daily on daily bars). */
  readonly rebalanceEvery: number;
  /** A kept holding is resized only when it is more than this % away from its target quantity. */
  readonly driftTolerancePercent: number;
  /** Only hold symbols whose momentum is positive. */
  readonly requirePositive: boolean;
  readonly interval: BarSource;
}

/** Closes per symbol (the last lookback+1) and the bar time being assembled. Prices in paise. */
export const MomentumRotationState = Type.Object({
  closes: Type.Record(Type.String(), Type.Array(Type.Integer())),
  /** Bar time being assembled and the symbols already in for it. */
  pending: Type.Union([Type.Object({ startMs: Type.Number(), symbols: Type.Array(Type.String()) }), Type.Null()]),
  /** Completed bar times, to count towards `rebalanceEvery`. */
  steps: Type.Integer(),
  /** Symbols chosen at the last rebalance, best first. */
  holdings: Type.Array(Type.String()),
});
export type MomentumRotationState = Static<typeof MomentumRotationState>;

const FIELDS = [
  symbolsField('The universe to rank (two or more symbols)'),
  { name: 'lookback', type: 'integer', description: 'Momentum window: return over this many bars', default: 20, min: 1, max: 1_000 },
  { name: 'topK', type: 'integer', description: 'How many of the best symbols to hold', default: 3, min: 1, max: 100 },
  { name: 'capitalRupees', type: 'integer', description: 'Capital spread equally over the holdings (₹)', default: 1_000_000, min: 1_000, max: 10_000_000_000 },
  { name: 'rebalanceEvery', type: 'integer', description: 'Rebalance every N bars (1 = daily on daily bars)', default: 1, min: 1, max: 250 },
  { name: 'driftTolerancePercent', type: 'number', description: 'Resize a kept holding only beyond this drift (%)', default: 10, min: 0, max: 100 },
  { name: 'requirePositive', type: 'boolean', description: 'Hold only symbols with a positive return', default: false },
  intervalField('1d'),
] as const satisfies readonly ConfigField[];

/** A symbol's return over the window, or null before the window is full. */
export function momentumOf(closes: readonly number[] | undefined, lookback: number): number | null {
  if (closes === undefined || closes.length < lookback + 1) return null;
  const first = closes[closes.length - 1 - lookback]!;
  return closes[closes.length - 1]! / first - 1;
}

/** The universe ranked best first (ties broken by symbol, so the order is deterministic). */
export function rank(state: MomentumRotationState, config: MomentumRotationConfig): { symbol: string; momentum: number }[] {
  const scored: { symbol: string; momentum: number }[] = [];
  for (const symbol of config.symbols) {
    const momentum = momentumOf(state.closes[symbol], config.lookback);
    if (momentum !== null) scored.push({ symbol, momentum });
  }
  return scored.sort((a, b) => b.momentum - a.momentum || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

function rebalance(state: MomentumRotationState, ctx: StrategyContext<MomentumRotationConfig>): void {
  const config = ctx.config;
  const ranked = rank(state, config);
  if (ranked.length < config.topK) return; // not warmed up
  const chosen = ranked.filter((entry) => !config.requirePositive || entry.momentum > 0).slice(0, config.topK);
  const perHoldingPaise = floorDiv(config.capitalRupees * 100, config.topK);
  const targets = new Map<string, number>();
  for (const symbol of config.symbols) targets.set(symbol, 0);
  for (const { symbol } of chosen) {
    const closes = state.closes[symbol]!;
    targets.set(symbol, floorDiv(perHoldingPaise, closes[closes.length - 1]!));
  }
  const rankOf = new Map(ranked.map((entry, index) => [entry.symbol, index + 1]));
  const orders: { symbol: string; target: number; delta: number; reason: string }[] = [];
  for (const [symbol, target] of targets) {
    const current = committedQuantity(ctx, symbol);
    const delta = target - current;
    if (delta === 0) continue;
    const kept = target > 0 && current > 0;
    if (kept && Math.abs(delta) * 100 <= target * config.driftTolerancePercent) continue;
    const why = target === 0 ? `left the top ${config.topK}` : kept ? 'resized to equal weight' : `entered the top ${config.topK}`;
    orders.push({ symbol, target, delta, reason: `Momentum rotation: ${symbol} ${why} (rank ${rankOf.get(symbol) ?? '-'}, ${config.lookback}-bar return)` });
  }
  // sells first, so the cash they free is there for the buys
  orders.sort((a, b) => Math.sign(a.delta) - Math.sign(b.delta));
  for (const order of orders) moveTo(ctx, order.symbol, order.target, { product: 'CNC', reason: order.reason });
  state.holdings = chosen.map((entry) => entry.symbol);
}

function finishStep(state: MomentumRotationState, ctx: StrategyContext<MomentumRotationConfig>): void {
  state.pending = null;
  state.steps += 1;
  if ((state.steps - 1) % ctx.config.rebalanceEvery === 0) rebalance(state, ctx);
}

function onClose(state: MomentumRotationState, bar: Bar, ctx: StrategyContext<MomentumRotationConfig>): void {
  const config = ctx.config;
  if (!config.symbols.includes(bar.symbol)) return;
  // a bar of a later time while an earlier one is incomplete (a symbol had no bar): close the earlier one
  if (state.pending !== null && bar.startMs > state.pending.startMs) finishStep(state, ctx);
  state.pending ??= { startMs: bar.startMs, symbols: [] };
  pushWindow((state.closes[bar.symbol] ??= []), bar.closePaise, config.lookback + 1);
  if (!state.pending.symbols.includes(bar.symbol)) state.pending.symbols.push(bar.symbol);
  if (state.pending.symbols.length === config.symbols.length) finishStep(state, ctx);
}

/**
 * Cross-sectional momentum rotation (CNC, long only): once every symbol's bar is in,
 * rank the universe by its `lookback`-bar return and hold the best `topK` in equal
 * rupee amounts (⌊capital / topK⌋ each, quantities rounded down to whole shares);
 * symbols that drop out are sold.
 */
export const momentumRotation = defineStrategy<MomentumRotationConfig, MomentumRotationState>({
  kind: 'momentum-rotation',
  description: 'Cross-sectional momentum: hold the top K of a universe, equal weight, CNC',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (config) => {
    if (config.symbols.length < 2) throw new StrategyConfigError('symbols', 'must name at least two symbols to rank');
    if (new Set(config.symbols).size !== config.symbols.length) throw new StrategyConfigError('symbols', 'must not repeat a symbol');
    if (config.topK >= config.symbols.length) throw new StrategyConfigError('topK', 'must be smaller than the number of symbols');
    return config;
  }),
  regimes: ['trending'],
  // a rotation across a universe follows the market's regime, not each stock's
  regimeScope: 'market',
  product: () => 'CNC',
  ...barHooks(MomentumRotationState, () => ({ closes: {}, pending: null, steps: 0, holdings: [] }), onClose),
});
