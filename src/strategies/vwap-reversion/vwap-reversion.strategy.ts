import { Type } from 'typebox';
import type { Bar } from '../../model/index.js';
import { defineStrategy, fieldConfig, StrategyConfigError, type ConfigField, type StrategyContext } from '../api.js';
import { barHooks } from '../shared/bar-hooks.js';
import { allowShortField, intervalField, quantityField, symbolsField, type BarSource } from '../shared/config.js';
import { committedSide, moveTo } from '../shared/orders.js';
import { barEndMinute, checkSessionTimes, exitTimeField, flatFromExitTime, lastEntryTimeField, parseSessionTime, sessionState } from '../shared/session.js';
import { perSymbol, type PerSymbol } from '../shared/state.js';

/** Settings of the intraday VWAP reversion (always MIS). */
export interface VwapReversionConfig {
  readonly symbols: readonly string[];
  /** Enter when the close is this many basis points away from the session VWAP. */
  readonly entryBps: number;
  /** Exit when the close is back within this many basis points of VWAP (0 = when it touches). */
  readonly exitBps: number;
  /** Leave at a loss when the close runs this many basis points further from VWAP than the entry band (0 = no stop). */
  readonly stopBps: number;
  readonly quantity: number;
  readonly allowShort: boolean;
  /** No entries before this IST time (VWAP needs a few bars to mean something). */
  readonly firstEntryTime: string;
  /** No new entries after this IST time. */
  readonly lastEntryTime: string;
  /** Everything is closed on the first bar that closes at or after this IST time (before 15:20). */
  readonly exitTime: string;
  readonly interval: BarSource;
}

/**
 * The session's running VWAP sums. The side held is not kept here: it is read from the
 * host's fill-driven view (`committedSide`), so a refused exit is tried again.
 */
const SymbolState = Type.Object({
  /** IST date of the session the sums belong to. */
  date: Type.String(),
  /** Σ typical price × volume, in paise·shares (a float: an indicator). */
  priceVolume: Type.Number(),
  volume: Type.Number(),
});
export type VwapReversionState = PerSymbol<typeof SymbolState>;

const FIELDS = [
  symbolsField(),
  { name: 'entryBps', type: 'number', description: 'Enter this far from VWAP (basis points)', default: 60, min: 1, max: 5_000 },
  { name: 'exitBps', type: 'number', description: 'Exit when back within this of VWAP (basis points)', default: 0, min: 0, max: 5_000 },
  { name: 'stopBps', type: 'number', description: 'Stop out this far beyond the entry band (basis points, 0 = none)', default: 0, min: 0, max: 5_000 },
  quantityField(),
  allowShortField('Short when price is stretched above VWAP', true),
  { name: 'firstEntryTime', type: 'string', description: 'No entries before (IST, HH:MM)', default: '09:45' },
  lastEntryTimeField('14:30'),
  exitTimeField(),
  intervalField('5m'),
] as const satisfies readonly ConfigField[];

/** Session VWAP in paise, or null before any volume traded. */
export function sessionVwap(state: { priceVolume: number; volume: number }): number | null {
  return state.volume > 0 ? state.priceVolume / state.volume : null;
}

function onClose(states: VwapReversionState, bar: Bar, ctx: StrategyContext<VwapReversionConfig>): void {
  const config = ctx.config;
  // a new session: the sums restart
  const state = sessionState(states, bar, ctx, 'VWAP reversion', (date) => ({ date, priceVolume: 0, volume: 0 }));
  const typical = (bar.highPaise + bar.lowPaise + bar.closePaise) / 3;
  state.priceVolume += typical * bar.volume;
  state.volume += bar.volume;
  if (flatFromExitTime(ctx, bar, config.exitTime, 'VWAP reversion')) return;
  const nowMinute = barEndMinute(bar);
  const vwap = sessionVwap(state);
  if (vwap === null) return;
  const deviationBps = ((bar.closePaise - vwap) / vwap) * 10_000;
  const held = committedSide(ctx, bar.symbol);
  let side = held;
  let why = '';
  const stop = config.stopBps > 0 ? config.entryBps + config.stopBps : Infinity;
  if (side > 0 && (deviationBps >= -config.exitBps || deviationBps <= -stop)) {
    [side, why] = [0, deviationBps <= -stop ? 'stop: stretched further below VWAP' : 'back to VWAP'];
  } else if (side < 0 && (deviationBps <= config.exitBps || deviationBps >= stop)) {
    [side, why] = [0, deviationBps >= stop ? 'stop: stretched further above VWAP' : 'back to VWAP'];
  } else if (
    side === 0 &&
    nowMinute >= parseSessionTime('firstEntryTime', config.firstEntryTime) &&
    nowMinute <= parseSessionTime('lastEntryTime', config.lastEntryTime)
  ) {
    if (deviationBps <= -config.entryBps && deviationBps > -stop) [side, why] = [1, 'stretched below VWAP'];
    else if (config.allowShort && deviationBps >= config.entryBps && deviationBps < stop) [side, why] = [-1, 'stretched above VWAP'];
  }
  if (side === held) return;
  moveTo(ctx, bar.symbol, side * config.quantity, { product: 'MIS', reason: `VWAP reversion: ${why} (${deviationBps.toFixed(0)} bps)` });
}

/**
 * Intraday VWAP reversion (MIS): buy when the close is stretched `entryBps` below the
 * session VWAP, short when stretched above (if allowed), exit when price comes back to
 * VWAP; no entries outside [firstEntryTime, lastEntryTime]; flat from `exitTime`.
 */
export const vwapReversion = defineStrategy<VwapReversionConfig, VwapReversionState>({
  kind: 'vwap-reversion',
  description: 'Intraday VWAP reversion, MIS, flat before 15:20 IST',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (config) => {
    checkSessionTimes(config);
    if (config.exitBps >= config.entryBps) throw new StrategyConfigError('exitBps', 'must be smaller than entryBps');
    if (config.interval === '1d') throw new StrategyConfigError('interval', 'must be intraday (VWAP reversion is an intraday strategy)');
    return config;
  }),
  regimes: ['ranging'],
  product: () => 'MIS',
  ...barHooks(perSymbol(SymbolState), () => ({}), onClose),
});
