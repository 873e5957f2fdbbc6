import { Type, type Static } from 'typebox';
import { BAR_INTERVALS, classProbability, istMinuteOfDay, type Prediction, type Product } from '../../model/index.js';
import { defineStrategy, fieldConfig, plainJsonState, StrategyConfigError, type ConfigField, type Subscription } from '../api.js';
import { allowShortField, intervalField, productField, quantityField, resolveProduct, symbolsField, type BarSource } from '../shared/config.js';
import { committedQuantity } from '../shared/orders.js';
import { checkBeforeSquareOff, formatMinute, parseSessionTime } from '../shared/session.js';

/** Settings of `ml-signal`. */
export interface MlSignalConfig {
  readonly symbols: readonly string[];
  /** Shares to hold long (or short) while a signal is in force. */
  readonly quantity: number;
  /** P(up) (or P(down)) needed to enter. */
  readonly entryProbability: number;
  /** And P(up) − P(down) (or the reverse) at least this. */
  readonly minEdge: number;
  /** Bars a position is held after its last confirming prediction; 0: the model's label horizon. */
  readonly horizonBars: number;
  /** The model's bar interval (predictions of another interval are ignored and counted). */
  readonly interval: BarSource;
  /** MIS for an intraday model (flat by `exitTime`), CNC for a daily one (auto picks by interval). */
  readonly product: Product;
  /** Short on a confident "down" (MIS only). */
  readonly allowShort: boolean;
  /** Intraday: no entry whose horizon ends after this IST time, and flat from it on (before the 15:20 square-off). */
  readonly exitMinute: number;
}

/** Per symbol: bars left to hold, and the last prediction acted on. */
const SymbolState = Type.Object({
  barsLeft: Type.Integer(),
  lastBarStartMs: Type.Number(),
  /** P(up) − P(down) of the last prediction (for people reading the snapshot). */
  lastEdge: Type.Number(),
});
type SymbolState = Static<typeof SymbolState>;

/** Per-symbol state, plus predictions left out (another interval, or a bar already seen): counted, never silent. */
export const MlSignalState = Type.Object({ symbols: Type.Record(Type.String(), SymbolState), ignored: Type.Integer() });
export type MlSignalState = Static<typeof MlSignalState>;

const FIELDS = [
  symbolsField('Symbols to trade on the model’s predictions'),
  quantityField(10, 'Shares to hold while a signal is in force'),
  { name: 'entryProbability', type: 'number', description: 'P(up) (or P(down)) needed to enter', default: 0.5, min: 0, max: 1 },
  { name: 'minEdge', type: 'number', description: 'P(up) − P(down) (or the reverse) needed to enter', default: 0.2, min: 0, max: 1 },
  {
    name: 'horizonBars',
    type: 'integer',
    description: 'Bars to hold after the last confirming prediction (0: the model’s label horizon)',
    default: 0,
    min: 0,
    max: 10_000,
  },
  intervalField('5m'),
  productField(),
  allowShortField('Short on a confident “down” (MIS only)'),
  { name: 'exitTime', type: 'string', description: 'Intraday: flat from this IST time, and no entry whose horizon ends after it', default: '15:10' },
] as const satisfies readonly ConfigField[];

const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;

/**
 * Trades the live ML model's predictions: long while P(up) clears `entryProbability` and beats
 * P(down) by `minEdge` (short the other way, MIS only, when allowed), held for the model's label
 * horizon after the last confirming prediction, then flat. The product fits the horizon: MIS for
 * an intraday model (no entry whose horizon ends after `exitTime`, flat from then on: before the
 * broker's 15:20 square-off), CNC for a daily one (long only). Each order carries the prediction
 * (model version, bar, probabilities) as its explanation.
 */
export const mlSignal = defineStrategy<MlSignalConfig, MlSignalState>({
  kind: 'ml-signal',
  description: 'Trades the live ML model’s direction predictions (thresholds, horizon, product by interval)',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (values) => {
    const interval = values.interval;
    const product = resolveProduct(values.product, interval);
    const exitMinute = parseSessionTime('exitTime', values.exitTime);
    if (product === 'MIS') checkBeforeSquareOff('exitTime', exitMinute);
    if (values.allowShort === true && product !== 'MIS')
      throw new StrategyConfigError('allowShort', 'short selling needs MIS (CNC cannot sell what is not held)');
    const symbols = values.symbols;
    if (symbols.length === 0) throw new StrategyConfigError('symbols', 'needs at least one symbol');
    return {
      symbols,
      quantity: values.quantity,
      entryProbability: values.entryProbability,
      minEdge: values.minEdge,
      horizonBars: values.horizonBars,
      interval,
      product,
      allowShort: values.allowShort,
      exitMinute,
    };
  }),
  product: (config) => config.product,
  subscriptions(config): Subscription[] {
    return [{ kind: 'predictions', symbols: config.symbols }];
  },
  init() {
    return { symbols: {}, ignored: 0 };
  },
  onPrediction(state, prediction: Prediction, ctx) {
    const config = ctx.config;
    const previous = state.symbols[prediction.symbol];
    if (prediction.interval !== config.interval || (previous !== undefined && prediction.barStartMs <= previous.lastBarStartMs)) {
      state.ignored += 1;
      return state;
    }
    const up = classProbability(prediction, 'up');
    const down = classProbability(prediction, 'down');
    const horizon = config.horizonBars > 0 ? config.horizonBars : prediction.horizonBars;
    const intervalMinutes = BAR_INTERVALS[prediction.interval] / 60;
    const intraday = config.product === 'MIS';
    // decisions are taken at the bar's close
    const closeMinute = istMinuteOfDay(prediction.barStartMs) + intervalMinutes;
    const entry: SymbolState = { barsLeft: Math.max(0, (previous?.barsLeft ?? 0) - 1), lastBarStartMs: prediction.barStartMs, lastEdge: up - down };
    state.symbols[prediction.symbol] = entry;
    const committed = committedQuantity(ctx, prediction.symbol);
    const side = Math.sign(committed);
    const saysUp = up >= config.entryProbability && up - down >= config.minEdge;
    const saysDown = down >= config.entryProbability && down - up >= config.minEdge;
    const want = saysUp ? 1 : saysDown && config.allowShort ? -1 : 0;
    // an entry must be able to run its horizon before the exit time
    const late = intraday && closeMinute + horizon * intervalMinutes > config.exitMinute;
    let target: number;
    let why: string;
    if (intraday && closeMinute >= config.exitMinute) {
      target = 0;
      why = `exit time ${formatMinute(config.exitMinute)} IST`;
    } else if (want !== 0 && (!late || side === want)) {
      target = want * config.quantity;
      entry.barsLeft = horizon;
      why = `P(${want > 0 ? 'up' : 'down'}) ${pct(want > 0 ? up : down)} vs P(${want > 0 ? 'down' : 'up'}) ${pct(want > 0 ? down : up)}, held ${horizon} bar(s)`;
    } else if (side !== 0 && ((side > 0 && saysDown) || (side < 0 && saysUp))) {
      target = 0;
      why = `the model turned: P(up) ${pct(up)}, P(down) ${pct(down)}`;
    } else if (side !== 0 && entry.barsLeft <= 0) {
      target = 0;
      why = `horizon of ${horizon} bar(s) over`;
    } else {
      return state;
    }
    if (target === committed) return state;
    const delta = target - committed;
    if (delta < 0 && config.product === 'CNC') {
      // a CNC sell only of what is held (a buy still working is not sold)
      const held = ctx.portfolio.netQuantity(prediction.symbol);
      if (held <= 0) return state;
      target = committed - Math.min(-delta, held);
    }
    if (target === committed) return state;
    const summary = `${prediction.modelVersion} on the ${prediction.interval} bar of ${new Date(prediction.barStartMs).toISOString()}: ${why}`;
    ctx.submit({
      symbol: prediction.symbol,
      side: target > committed ? 'BUY' : 'SELL',
      quantity: Math.abs(target - committed),
      orderType: 'MARKET',
      product: config.product,
      reason: `ml-signal: ${summary}`,
      explanation: {
        source: 'ml-signal',
        summary,
        decision: target > committed ? 'BUY' : 'SELL',
        score: up - down,
        confidence: Math.max(up, down),
        atMs: prediction.barStartMs,
      },
    });
    return state;
  },
  ...plainJsonState(MlSignalState),
});
