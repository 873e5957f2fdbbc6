import { Type } from 'typebox';
import type { Product } from '../../model/index.js';
import { defineStrategy, fieldConfig, StrategyConfigError, type ConfigField, type StrategyContext } from '../api.js';
import { barHooks } from '../shared/bar-hooks.js';
import { allowShortField, intervalField, periodField, productField, quantityField, symbolsField, withProduct, type BarSource } from '../shared/config.js';
import { rsiInit, rsiUpdate, RsiState } from '../shared/indicators.js';
import { committedSide, moveTo } from '../shared/orders.js';
import { perSymbol, type PerSymbol } from '../shared/state.js';

/** Settings of the RSI mean reversion. */
export interface RsiReversionConfig {
  readonly symbols: readonly string[];
  readonly period: number;
  /** Buy when RSI closes below this. */
  readonly lowerBand: number;
  /** Short (when allowed) when RSI closes above this. */
  readonly upperBand: number;
  /** A long exits when RSI rises to this; a short exits when RSI falls to 100 − this. */
  readonly exitLevel: number;
  readonly quantity: number;
  readonly product: Product;
  readonly allowShort: boolean;
  readonly interval: BarSource;
}

/**
 * Per-symbol RSI. The side held is not kept here: it is read from the host's fill-driven view
 * (`committedSide`), so a refused intent is never mistaken for a position (or for an exit).
 */
const SymbolState = Type.Object({ rsi: RsiState });
export type RsiReversionState = PerSymbol<typeof SymbolState>;

const FIELDS = [
  symbolsField(),
  periodField('RSI', 14),
  { name: 'lowerBand', type: 'number', description: 'Buy when RSI closes below', default: 30, min: 1, max: 99 },
  { name: 'upperBand', type: 'number', description: 'Short (if allowed) when RSI closes above', default: 70, min: 1, max: 99 },
  { name: 'exitLevel', type: 'number', description: 'Exit a long when RSI reaches this (a short at 100 − this)', default: 50, min: 1, max: 99 },
  quantityField(),
  productField(),
  allowShortField('Short above the upper band (MIS only)'),
  intervalField('5m'),
] as const satisfies readonly ConfigField[];

/**
 * The view for the signal aggregator on every closed bar: long when RSI is below the lower
 * band, short above the upper band (whatever `allowShort`: the vote decides), else flat;
 * confidence 0.5 at the band, rising to 1 ten RSI points beyond it.
 */
function signal(symbol: string, rsi: number, ctx: StrategyContext<RsiReversionConfig>): void {
  const { lowerBand, upperBand, period } = ctx.config;
  const beyond = rsi < lowerBand ? lowerBand - rsi : rsi > upperBand ? rsi - upperBand : 0;
  const direction = rsi < lowerBand ? 'long' : rsi > upperBand ? 'short' : 'flat';
  ctx.signal({
    symbol,
    direction,
    confidence: direction === 'flat' ? 0 : Math.min(1, 0.5 + beyond / 20),
    reason: `RSI${period} ${rsi.toFixed(1)}${direction === 'long' ? ` < ${lowerBand}` : direction === 'short' ? ` > ${upperBand}` : ' inside the bands'}`,
  });
}

function onClose(states: RsiReversionState, symbol: string, closePaise: number, ctx: StrategyContext<RsiReversionConfig>): void {
  const config = ctx.config;
  const state = (states[symbol] ??= { rsi: rsiInit() });
  const rsi = rsiUpdate(state.rsi, closePaise, config.period);
  if (rsi === null) return;
  signal(symbol, rsi, ctx);
  const held = committedSide(ctx, symbol);
  let side = held;
  let why = '';
  if (side > 0 && rsi >= config.exitLevel) [side, why] = [0, `RSI ${rsi.toFixed(1)} back above ${config.exitLevel}`];
  else if (side < 0 && rsi <= 100 - config.exitLevel) [side, why] = [0, `RSI ${rsi.toFixed(1)} back below ${100 - config.exitLevel}`];
  else if (side === 0 && rsi < config.lowerBand) [side, why] = [1, `RSI ${rsi.toFixed(1)} below ${config.lowerBand}`];
  else if (side === 0 && config.allowShort && rsi > config.upperBand) [side, why] = [-1, `RSI ${rsi.toFixed(1)} above ${config.upperBand}`];
  if (side === held) return;
  moveTo(ctx, symbol, side * config.quantity, { product: config.product, reason: `RSI${config.period} reversion: ${why}` });
}

/**
 * Mean reversion on Wilder's RSI: buy when RSI closes below the lower band, sell back to
 * flat when it recovers to the exit level; optionally the mirror image short (MIS).
 */
export const rsiReversion = defineStrategy<RsiReversionConfig, RsiReversionState>({
  kind: 'rsi-reversion',
  description: 'RSI mean reversion: buy oversold, exit when RSI recovers',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (values) => {
    if (values.lowerBand >= values.upperBand) throw new StrategyConfigError('lowerBand', 'must be below upperBand');
    if (values.exitLevel <= values.lowerBand || values.exitLevel > values.upperBand) {
      throw new StrategyConfigError('exitLevel', 'must be above lowerBand and at most upperBand');
    }
    const config = withProduct(values, values.interval);
    if (config.allowShort && (100 - config.exitLevel >= config.upperBand || 100 - config.exitLevel < config.lowerBand)) {
      throw new StrategyConfigError('exitLevel', 'with allowShort, 100 − exitLevel must lie between lowerBand and upperBand');
    }
    return config;
  }),
  regimes: ['ranging'],
  product: (config) => config.product,
  ...barHooks(
    perSymbol(SymbolState),
    () => ({}),
    (state, bar, ctx) => onClose(state, bar.symbol, bar.closePaise, ctx),
  ),
});
