import { Type, type Static } from 'typebox';
import { isPastMisCutoff, type Product } from '../../model/index.js';
import { allowShortField, productField, quantityField, symbolsField, withProduct } from '../shared/config.js';
import { defineStrategy, fieldConfig, type ConfigField, StrategyConfigError, type StrategyContext, type Subscription, plainJsonState } from '../api.js';
import { committedQuantity, moveTo } from '../shared/orders.js';
import { perSymbol, type PerSymbol } from '../shared/state.js';

/** Settings of the EMA crossover. */
export interface EmaCrossConfig {
  readonly symbols: readonly string[];
  readonly fastPeriod: number;
  readonly slowPeriod: number;
  /** Shares to hold when the fast average is above the slow one. */
  readonly quantity: number;
  readonly product: Product;
  /** Go short on a downward cross (MIS only); otherwise go flat. */
  readonly allowShort: boolean;
  /** Feed the averages with every tick or with closed bars of an interval. */
  readonly source: 'ticks' | '1m' | '5m' | '15m' | '1h' | '1d';
}

/**
 * Per-symbol averages. The averages are indicator values (floats are fine there); no money.
 * The position is not kept here: it is read from the host's fill-driven view, so a refused
 * intent is sent again instead of being taken for a position.
 */
const SymbolState = Type.Object({
  fast: Type.Number(),
  slow: Type.Number(),
  samples: Type.Integer(),
  /** The averages' side: +1 when fast > slow at the last sample, −1 below, 0 before warm-up. Not the position. */
  side: Type.Number(),
  /** A cross has been seen since warm-up: from then on the position follows the averages' side. Absent in older snapshots. */
  following: Type.Optional(Type.Boolean()),
  /** When the last signal went to the aggregator (strategy clock, ms); absent before the first. */
  signalledAtMs: Type.Optional(Type.Number()),
});
type SymbolState = Static<typeof SymbolState>;

/** The gap between the averages (relative to the slow one) that gives full confidence: 0.5 %. */
const FULL_CONFIDENCE_GAP = 0.005;
/** Fed by ticks, the view is sent on a change of side and at most once a minute otherwise. */
const TICK_SIGNAL_EVERY_MS = 60_000;

export type EmaCrossState = PerSymbol<typeof SymbolState>;

const FIELDS = [
  symbolsField(),
  { name: 'fastPeriod', type: 'integer', description: 'Fast EMA length (samples)', default: 12, min: 1, max: 10_000 },
  { name: 'slowPeriod', type: 'integer', description: 'Slow EMA length (samples)', default: 26, min: 2, max: 10_000 },
  quantityField(10, 'Shares to hold when long'),
  productField(),
  allowShortField('Go short on a downward cross (MIS only)'),
  { name: 'source', type: 'enum', description: 'Feed: every tick, or closed bars', default: 'ticks', options: ['ticks', '1m', '5m', '15m', '1h', '1d'] },
] as const satisfies readonly ConfigField[];

function sample(state: SymbolState | undefined, price: number, config: EmaCrossConfig): SymbolState {
  if (state === undefined) return { fast: price, slow: price, samples: 1, side: 0 };
  const fastWeight = 2 / (config.fastPeriod + 1);
  const slowWeight = 2 / (config.slowPeriod + 1);
  state.fast += (price - state.fast) * fastWeight;
  state.slow += (price - state.slow) * slowWeight;
  state.samples += 1;
  return state;
}

/**
 * The view for the signal aggregator: long while fast > slow, short below, with confidence
 * growing with the gap between the averages (full at 0.5 % of the slow one).
 */
function signal(state: SymbolState, symbol: string, side: number, everySample: boolean, ctx: StrategyContext<EmaCrossConfig>): boolean {
  const now = ctx.nowMs();
  if (!everySample && side === state.side && state.signalledAtMs !== undefined && now - state.signalledAtMs < TICK_SIGNAL_EVERY_MS) return false;
  state.signalledAtMs = now;
  const gap = state.slow === 0 ? 0 : Math.abs(state.fast - state.slow) / state.slow;
  const { fastPeriod, slowPeriod } = ctx.config;
  ctx.signal({
    symbol,
    direction: side > 0 ? 'long' : side < 0 ? 'short' : 'flat',
    confidence: Math.min(1, gap / FULL_CONFIDENCE_GAP),
    reason: `EMA${fastPeriod} ${side > 0 ? 'above' : 'below'} EMA${slowPeriod} by ${(gap * 100).toFixed(2)}%`,
  });
  return true;
}

function act(states: EmaCrossState, symbol: string, price: number, ctx: StrategyContext<EmaCrossConfig>, everySample: boolean): EmaCrossState {
  const config = ctx.config;
  const state = sample(states[symbol], price, config);
  states[symbol] = state;
  if (state.samples < config.slowPeriod) return states;
  const side = state.fast > state.slow ? 1 : state.fast < state.slow ? -1 : state.side;
  // on bars every sample, on ticks a change of side or once a minute: also when a refused intent is sent again
  const signalled = signal(state, symbol, side, everySample, ctx);
  const crossed = side !== state.side && state.side !== 0; // the first reading after warm-up is no cross
  state.side = side;
  if (crossed) state.following = true;
  if (!state.following || !(crossed || signalled)) return states;
  const target = side > 0 ? config.quantity : config.allowShort ? -config.quantity : 0;
  if (committedQuantity(ctx, symbol) === target) return states;
  // not at the target without a cross: an intent was refused (or the broker squared the position off); not past the MIS cut-off
  if (!crossed && config.product === 'MIS' && isPastMisCutoff(ctx.nowMs())) return states;
  const why = crossed ? 'crossed' : 'still';
  moveTo(ctx, symbol, target, { product: config.product, reason: `EMA${config.fastPeriod} ${why} ${side > 0 ? 'above' : 'below'} EMA${config.slowPeriod}` });
  return states;
}

/**
 * Trend following: hold `quantity` shares while the fast EMA is above the slow EMA, and go
 * flat (or short, when allowed) when it crosses below. Market orders, one symbol at a time.
 */
export const emaCross = defineStrategy<EmaCrossConfig, EmaCrossState>({
  kind: 'ema-cross',
  description: 'Moving-average crossover: long while EMA(fast) > EMA(slow)',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (values) => {
    if (values.fastPeriod >= values.slowPeriod) throw new StrategyConfigError('fastPeriod', 'must be shorter than slowPeriod');
    return withProduct(values, values.source);
  }),
  product: (config) => config.product,
  subscriptions(config): Subscription[] {
    return config.source === 'ticks' ? [{ kind: 'ticks', symbols: config.symbols }] : [{ kind: 'bars', symbols: config.symbols, interval: config.source }];
  },
  init() {
    return {};
  },
  onTick(state, tick, ctx) {
    return act(state, tick.symbol, tick.ltpPaise, ctx, false);
  },
  onBar(state, bar, ctx) {
    return act(state, bar.symbol, bar.closePaise, ctx, true);
  },
  ...plainJsonState(perSymbol(SymbolState)),
});
