import { Type, type Static } from 'typebox';
import { BAR_INTERVALS, istMinuteOfDay, NSE_OPEN_MINUTE, type Bar } from '../../model/index.js';
import { defineStrategy, fieldConfig, StrategyConfigError, type ConfigField, type StrategyContext } from '../api.js';
import { barHooks } from '../shared/bar-hooks.js';
import { allowShortField, intervalField, quantityField, symbolsField, type BarSource } from '../shared/config.js';
import { committedSide, moveTo } from '../shared/orders.js';
import { barEndMinute, checkSessionTimes, exitTimeField, flatFromExitTime, lastEntryTimeField, parseSessionTime, sessionState } from '../shared/session.js';
import { perSymbol, type PerSymbol } from '../shared/state.js';

/** Settings of the opening range breakout (always MIS). */
export interface OpeningRangeConfig {
  readonly symbols: readonly string[];
  /** The range is the high and low of the first `rangeMinutes` from 09:15 IST. */
  readonly rangeMinutes: number;
  /** Take profit at entry ± this multiple of the range's height (0 = hold until exitTime or the stop). */
  readonly targetMultiple: number;
  readonly quantity: number;
  readonly allowShort: boolean;
  /** No entries after this IST time. */
  readonly lastEntryTime: string;
  /** Flat on the first bar that closes at or after this IST time (before 15:20). */
  readonly exitTime: string;
  readonly interval: BarSource;
}

/**
 * Today's range and trade for one symbol. Prices in integer paise. The side held is not kept
 * here: it is read from the host's fill-driven view (`committedSide`), so a refused exit is
 * tried again.
 */
const SymbolState = Type.Object({
  date: Type.String(),
  highPaise: Type.Union([Type.Integer(), Type.Null()]),
  lowPaise: Type.Union([Type.Integer(), Type.Null()]),
  /** The range window has closed. */
  rangeComplete: Type.Boolean(),
  /** Today's one trade has been taken. */
  traded: Type.Boolean(),
});
type SymbolState = Static<typeof SymbolState>;
export type OpeningRangeState = PerSymbol<typeof SymbolState>;

const FIELDS = [
  symbolsField(),
  { name: 'rangeMinutes', type: 'integer', description: 'Opening range length from 09:15 IST (minutes)', default: 15, min: 1, max: 180 },
  { name: 'targetMultiple', type: 'number', description: 'Take profit at this multiple of the range height (0 = none)', default: 2, min: 0, max: 20 },
  quantityField(),
  allowShortField('Short a break below the range', true),
  lastEntryTimeField('13:00'),
  exitTimeField(),
  intervalField('5m'),
] as const satisfies readonly ConfigField[];

function freshDay(date: string): SymbolState {
  return { date, highPaise: null, lowPaise: null, rangeComplete: false, traded: false };
}

function onClose(states: OpeningRangeState, bar: Bar, ctx: StrategyContext<OpeningRangeConfig>): void {
  const config = ctx.config;
  const symbol = bar.symbol;
  const state = sessionState(states, bar, ctx, 'Opening range', freshDay);
  const startMinute = istMinuteOfDay(bar.startMs);
  const endMinute = barEndMinute(bar);
  const rangeEnd = NSE_OPEN_MINUTE + config.rangeMinutes;
  if (!state.rangeComplete) {
    if (startMinute >= NSE_OPEN_MINUTE && endMinute <= rangeEnd) {
      state.highPaise = Math.max(state.highPaise ?? bar.highPaise, bar.highPaise);
      state.lowPaise = Math.min(state.lowPaise ?? bar.lowPaise, bar.lowPaise);
    }
    if (endMinute >= rangeEnd) state.rangeComplete = true;
    // the bar that completes the range only builds it; breakouts are judged from the next one
    if (endMinute <= rangeEnd) return;
    if (state.highPaise === null) state.traded = true; // joined after the range: sit today out
  }
  if (flatFromExitTime(ctx, bar, config.exitTime, 'Opening range')) return;
  const high = state.highPaise;
  const low = state.lowPaise;
  if (high === null || low === null) return;
  const close = bar.closePaise;
  const height = high - low;
  const held = committedSide(ctx, symbol);
  if (held > 0) {
    const stop = close < low;
    const target = config.targetMultiple > 0 && close >= high + config.targetMultiple * height;
    if (stop || target)
      moveTo(ctx, symbol, 0, { product: 'MIS', reason: `Opening range: ${stop ? 'stop, close back below the range low' : 'profit target reached'}` });
    return;
  }
  if (held < 0) {
    const stop = close > high;
    const target = config.targetMultiple > 0 && close <= low - config.targetMultiple * height;
    if (stop || target)
      moveTo(ctx, symbol, 0, { product: 'MIS', reason: `Opening range: ${stop ? 'stop, close back above the range high' : 'profit target reached'}` });
    return;
  }
  if (state.traded || endMinute > parseSessionTime('lastEntryTime', config.lastEntryTime)) return;
  const side = close > high ? 1 : config.allowShort && close < low ? -1 : 0;
  if (side === 0) return;
  state.traded = true;
  moveTo(ctx, symbol, side * config.quantity, {
    product: 'MIS',
    reason: `Opening range (${config.rangeMinutes} min): close ${side > 0 ? 'above the high' : 'below the low'} ${side > 0 ? high : low} paise`,
  });
}

/**
 * Opening range breakout (MIS): the high and low of the first `rangeMinutes` after 09:15
 * IST define the range; the first close outside it (before `lastEntryTime`) opens the
 * day's one trade in that direction; it ends at the opposite side of the range, the
 * profit target, or `exitTime`, whichever comes first.
 */
export const openingRange = defineStrategy<OpeningRangeConfig, OpeningRangeState>({
  kind: 'opening-range',
  description: 'Opening range breakout, one trade a day per symbol, flat before 15:20 IST',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (config) => {
    const { lastEntry } = checkSessionTimes(config);
    if (config.interval === '1d') throw new StrategyConfigError('interval', 'must be intraday');
    const intervalMinutes = BAR_INTERVALS[config.interval] / 60;
    if (config.rangeMinutes % intervalMinutes !== 0) {
      throw new StrategyConfigError('rangeMinutes', `must be a multiple of the ${config.interval} bar length`);
    }
    if (NSE_OPEN_MINUTE + config.rangeMinutes >= lastEntry) throw new StrategyConfigError('rangeMinutes', 'must end before lastEntryTime');
    return config;
  }),
  regimes: ['trending', 'high-volatility'],
  product: () => 'MIS',
  ...barHooks(perSymbol(SymbolState), () => ({}), onClose),
});
