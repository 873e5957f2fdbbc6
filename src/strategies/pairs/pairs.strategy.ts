import { Type, type Static } from 'typebox';
import type { Bar, Product } from '../../model/index.js';
import { defineStrategy, fieldConfig, StrategyConfigError, type ConfigField, type StrategyContext } from '../api.js';
import { barHooks } from '../shared/bar-hooks.js';
import { intervalField, onlyProductField, quantityField, resolveProduct, symbolsField, type BarSource } from '../shared/config.js';
import { mean, pushWindow, standardDeviation } from '../shared/indicators.js';
import { committedQuantity, moveTo } from '../shared/orders.js';

/** Settings of the pairs trade. */
export interface PairsConfig {
  /** Exactly two symbols: [first, second]. The spread is ln(first) − β·ln(second). */
  readonly symbols: readonly string[];
  /** Bars in the rolling window for the hedge ratio and the z-score. */
  readonly lookback: number;
  readonly entryZ: number;
  readonly exitZ: number;
  /** Shares of the first leg; the second leg is sized β·quantity·P₁/P₂, rounded. */
  readonly quantity: number;
  readonly product: Product;
  readonly interval: BarSource;
}

/**
 * The rolling log prices, the bar being assembled, and the trade's targets. Whether a trade is
 * open is not kept here: it is read from the host's fill-driven view (`committedQuantity` of the
 * legs), so a refused leg is never mistaken for a position, and is sent again.
 */
export const PairsState = Type.Object({
  firstLogs: Type.Array(Type.Number()),
  secondLogs: Type.Array(Type.Number()),
  /** Closes (paise) of the bar time being assembled; a step runs when both legs are in. */
  pending: Type.Union([
    Type.Object({ startMs: Type.Number(), firstPaise: Type.Union([Type.Integer(), Type.Null()]), secondPaise: Type.Union([Type.Integer(), Type.Null()]) }),
    Type.Null(),
  ]),
  /** Leg targets (signed), fixed at entry; 0 and 0 once the exit is decided. Long the spread: first > 0, second < 0. */
  firstQuantity: Type.Integer(),
  secondQuantity: Type.Integer(),
  /** Last computed values, for logs and tests. */
  lastZ: Type.Union([Type.Number(), Type.Null()]),
  lastBeta: Type.Union([Type.Number(), Type.Null()]),
});
export type PairsState = Static<typeof PairsState>;

const FIELDS = [
  symbolsField('The two legs, e.g. ["HDFCBANK","ICICIBANK"]'),
  { name: 'lookback', type: 'integer', description: 'Rolling window for hedge ratio and z-score (bars)', default: 60, min: 10, max: 5_000 },
  { name: 'entryZ', type: 'number', description: 'Enter when |z| exceeds', default: 2, min: 0.1, max: 10 },
  { name: 'exitZ', type: 'number', description: 'Exit when |z| falls below', default: 0.5, min: 0, max: 10 },
  quantityField(),
  onlyProductField('MIS', 'MIS (a pair has a short leg: CNC cannot sell short, the broker refuses it)'),
  intervalField('15m'),
] as const satisfies readonly ConfigField[];

/** Ordinary least squares slope of y on x, and the z-score of the last residual. */
export function hedgeAndZ(ys: readonly number[], xs: readonly number[]): { beta: number; z: number } | null {
  const meanX = mean(xs);
  const meanY = mean(ys);
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < xs.length; i += 1) {
    covariance += (xs[i]! - meanX) * (ys[i]! - meanY);
    variance += (xs[i]! - meanX) ** 2;
  }
  if (variance <= 0) return null;
  const beta = covariance / variance;
  const spread = ys.map((y, i) => y - beta * xs[i]!);
  const deviation = standardDeviation(spread);
  if (!(deviation > 0)) return null;
  return { beta, z: (spread[spread.length - 1]! - mean(spread)) / deviation };
}

function step(state: PairsState, firstPaise: number, secondPaise: number, ctx: StrategyContext<PairsConfig>): void {
  const config = ctx.config;
  const [first, second] = config.symbols as [string, string];
  pushWindow(state.firstLogs, Math.log(firstPaise), config.lookback);
  pushWindow(state.secondLogs, Math.log(secondPaise), config.lookback);
  if (state.firstLogs.length < config.lookback) return;
  const fit = hedgeAndZ(state.firstLogs, state.secondLogs);
  if (fit === null) return;
  state.lastBeta = fit.beta;
  state.lastZ = fit.z;
  const { z, beta } = fit;
  // in a trade when either leg holds (or has asked for) something, by the fills and working orders
  if (committedQuantity(ctx, first) !== 0 || committedQuantity(ctx, second) !== 0) {
    let reason = `Pairs ${first}/${second}: a leg refused earlier, sent again`;
    if (Math.abs(z) < config.exitZ) {
      state.firstQuantity = 0;
      state.secondQuantity = 0;
      reason = `Pairs ${first}/${second}: z ${z.toFixed(2)} back inside ±${config.exitZ}`;
    } else if (state.firstQuantity === 0 && state.secondQuantity === 0) {
      reason = `Pairs ${first}/${second}: the exit refused earlier, sent again`;
    }
    // each leg to its target: nothing when it is there or working, again when it was refused
    moveTo(ctx, first, state.firstQuantity, { product: config.product, reason });
    moveTo(ctx, second, state.secondQuantity, { product: config.product, reason });
    return;
  }
  state.firstQuantity = 0;
  state.secondQuantity = 0;
  if (Math.abs(z) <= config.entryZ || beta <= 0) return;
  const side = z > 0 ? -1 : 1; // spread rich: sell first, buy second
  const secondSize = Math.max(1, Math.round((beta * config.quantity * firstPaise) / secondPaise));
  state.firstQuantity = side * config.quantity;
  state.secondQuantity = -side * secondSize;
  const reason = `Pairs ${first}/${second}: z ${z.toFixed(2)} beyond ±${config.entryZ}, β ${beta.toFixed(3)}: ${side > 0 ? 'long' : 'short'} the spread`;
  moveTo(ctx, first, state.firstQuantity, { product: config.product, reason });
  moveTo(ctx, second, state.secondQuantity, { product: config.product, reason });
}

function emptyState(): PairsState {
  return { firstLogs: [], secondLogs: [], pending: null, firstQuantity: 0, secondQuantity: 0, lastZ: null, lastBeta: null };
}

function onClose(state: PairsState, bar: Bar, ctx: StrategyContext<PairsConfig>): void {
  const [first, second] = ctx.config.symbols as [string, string];
  if (bar.symbol !== first && bar.symbol !== second) return;
  if (state.pending === null || state.pending.startMs !== bar.startMs) {
    // a new bar time; a half-assembled older one (one leg missing that bar) is dropped
    state.pending = { startMs: bar.startMs, firstPaise: null, secondPaise: null };
  }
  if (bar.symbol === first) state.pending.firstPaise = bar.closePaise;
  else state.pending.secondPaise = bar.closePaise;
  const { firstPaise, secondPaise } = state.pending;
  if (firstPaise === null || secondPaise === null) return;
  state.pending = null;
  step(state, firstPaise, secondPaise, ctx);
}

/**
 * Statistical arbitrage on two symbols: over a rolling window, regress ln(first) on
 * ln(second) for the hedge ratio β, take the z-score of the spread ln(first) − β·ln(second),
 * go long the spread when z < −entryZ and short it when z > entryZ (both legs, second leg
 * sized by β and the price ratio), and close both legs when |z| < exitZ.
 */
export const pairs = defineStrategy<PairsConfig, PairsState>({
  kind: 'pairs',
  description: 'Pairs trading on the z-score of a log-price spread with a rolling hedge ratio',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (values) => {
    const config = { ...values, product: resolveProduct(values.product, values.interval) };
    if (config.symbols.length !== 2) throw new StrategyConfigError('symbols', 'must name exactly two symbols');
    if (config.symbols[0] === config.symbols[1]) throw new StrategyConfigError('symbols', 'must name two different symbols');
    if (config.exitZ >= config.entryZ) throw new StrategyConfigError('exitZ', 'must be smaller than entryZ');
    // the short leg is MIS, squared off at 15:20 IST and refused after it: a daily bar (closed at 15:30) could never trade
    if (config.interval === '1d')
      throw new StrategyConfigError(
        'interval',
        'must be intraday: the short leg is MIS, which the broker squares off at 15:20 IST (a daily pair needs futures or SLB)',
      );
    return config;
  }),
  regimes: ['ranging'],
  // both legs by the same (market) regime: a gate on one leg only would leave the pair unhedged
  regimeScope: 'market',
  product: (config) => config.product,
  ...barHooks(PairsState, emptyState, onClose),
});
