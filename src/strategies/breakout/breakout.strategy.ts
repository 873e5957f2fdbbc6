import { Type, type Static } from 'typebox';
import type { Bar, Product } from '../../model/index.js';
import { defineStrategy, fieldConfig, type ConfigField, type StrategyContext } from '../api.js';
import { barHooks } from '../shared/bar-hooks.js';
import { allowShortField, intervalField, periodField, productField, quantityField, symbolsField, withProduct, type BarSource } from '../shared/config.js';
import { mean, pushWindow, standardDeviation } from '../shared/indicators.js';
import { committedSide, moveTo } from '../shared/orders.js';
import { perSymbol, type PerSymbol } from '../shared/state.js';

/** Settings of the channel breakout. */
export interface BreakoutConfig {
  readonly symbols: readonly string[];
  /** Donchian: highest high / lowest low of the previous `period` bars. Bollinger: SMA ± k·σ of closes. */
  readonly channel: 'donchian' | 'bollinger';
  readonly period: number;
  /** Bollinger width in standard deviations (ignored by Donchian). */
  readonly deviations: number;
  /** Leave a long when the close falls back through the channel's middle, or through the opposite band. */
  readonly exitOn: 'middle' | 'opposite';
  readonly quantity: number;
  readonly product: Product;
  readonly allowShort: boolean;
  readonly interval: BarSource;
}

/**
 * The previous bars' highs, lows and closes (at most `period`). The side held is not kept here:
 * it is read from the host's fill-driven view (`committedSide`), so a refused intent is never
 * mistaken for a position (or for an exit).
 */
const SymbolState = Type.Object({ highs: Type.Array(Type.Number()), lows: Type.Array(Type.Number()), closes: Type.Array(Type.Number()) });
type SymbolState = Static<typeof SymbolState>;
export type BreakoutState = PerSymbol<typeof SymbolState>;

/** A channel: lower, middle and upper, in paise (floats: an indicator, not money). */
export interface Channel {
  readonly lower: number;
  readonly middle: number;
  readonly upper: number;
}

const FIELDS = [
  symbolsField(),
  { name: 'channel', type: 'enum', description: 'Donchian (highs/lows) or Bollinger (SMA ± k·σ)', default: 'donchian', options: ['donchian', 'bollinger'] },
  periodField('Channel', 20),
  { name: 'deviations', type: 'number', description: 'Bollinger width (standard deviations)', default: 2, min: 0.1, max: 10 },
  { name: 'exitOn', type: 'enum', description: 'Exit through the middle or the opposite band', default: 'middle', options: ['middle', 'opposite'] },
  quantityField(),
  productField(),
  allowShortField('Short a downside breakout (MIS only)'),
  intervalField('5m'),
] as const satisfies readonly ConfigField[];

/**
 * The channel a new close is judged against. Donchian uses the previous bars only (a close
 * can break it); Bollinger includes the new close, as the bands are usually drawn.
 */
export function channelFor(state: SymbolState, closePaise: number, config: BreakoutConfig): Channel | null {
  if (state.closes.length < config.period) return null;
  if (config.channel === 'donchian') {
    const upper = Math.max(...state.highs);
    const lower = Math.min(...state.lows);
    return { lower, middle: (upper + lower) / 2, upper };
  }
  const closes = [...state.closes.slice(1), closePaise];
  const middle = mean(closes);
  const width = config.deviations * standardDeviation(closes);
  return { lower: middle - width, middle, upper: middle + width };
}

function onClose(states: BreakoutState, bar: Bar, ctx: StrategyContext<BreakoutConfig>): void {
  const config = ctx.config;
  const state = (states[bar.symbol] ??= { highs: [], lows: [], closes: [] });
  const close = bar.closePaise;
  const channel = channelFor(state, close, config);
  pushWindow(state.highs, bar.highPaise, config.period);
  pushWindow(state.lows, bar.lowPaise, config.period);
  pushWindow(state.closes, close, config.period);
  if (channel === null) return;
  const longExit = config.exitOn === 'middle' ? channel.middle : channel.lower;
  const shortExit = config.exitOn === 'middle' ? channel.middle : channel.upper;
  const held = committedSide(ctx, bar.symbol);
  let side = held;
  if (side > 0 && close < longExit) side = 0;
  else if (side < 0 && close > shortExit) side = 0;
  if (side === 0 && close > channel.upper) side = 1;
  else if (side === 0 && config.allowShort && close < channel.lower) side = -1;
  if (side === held) return;
  const was = held;
  const what =
    side > 0
      ? 'broke above the upper band'
      : side < 0
        ? 'broke below the lower band'
        : `fell back through the ${config.exitOn === 'middle' ? 'middle' : 'opposite band'}`;
  const name = config.channel === 'donchian' ? `Donchian(${config.period})` : `Bollinger(${config.period}, ${config.deviations})`;
  moveTo(ctx, bar.symbol, side * config.quantity, {
    product: config.product,
    reason: `${name}: close ${what}${was !== 0 && side !== 0 ? ' (reversal)' : ''}`,
  });
}

/**
 * Channel breakout: go long when a close breaks above the channel (Donchian or Bollinger),
 * leave when it falls back through the middle (or the opposite band); short the mirror
 * image when allowed.
 */
export const breakout = defineStrategy<BreakoutConfig, BreakoutState>({
  kind: 'breakout',
  description: 'Donchian / Bollinger channel breakout',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (values) => withProduct(values, values.interval)),
  regimes: ['trending', 'high-volatility'],
  product: (config) => config.product,
  ...barHooks(perSymbol(SymbolState), () => ({}), onClose),
});
