/**
 * Regime detection from closed bars: trending, ranging or high-volatility, per symbol,
 * with hysteresis so the answer does not flap. Pure and streaming; the state is plain
 * JSON (snapshots) and the same bars always give the same answers.
 *
 * The rule, evaluated on every bar once warm (see {@link DEFAULT_REGIME_CONFIG}):
 *  - volatility = standard deviation of the last `volatilityWindow` log returns;
 *    its percentile within the last `volatilityHistory` values, and its ratio to their mean.
 *  - high-volatility: enter when percentile ≥ 0.90 and ratio ≥ 1.5; stay while ratio ≥ 1.2.
 *  - otherwise trending: enter when ADX(14) ≥ 25 and Kaufman's efficiency ratio over 20 bars
 *    ≥ 0.35; stay while ADX ≥ 20 and efficiency ≥ 0.20.
 *  - otherwise ranging.
 * Two thresholds per edge (enter / stay) are the first hysteresis; the second is that a
 * new regime must be the candidate on `confirmBars` consecutive bars before it is adopted.
 * Both the percentile and the ratio are needed for high-volatility: a percentile alone is
 * above 0.9 one bar in ten on any stationary series, a ratio alone fires on quiet histories.
 */
import type { Bar, Regime } from '../model/index.js';

/** Thresholds and windows of the detector. */
export interface RegimeConfig {
  readonly adxPeriod: number;
  readonly efficiencyPeriod: number;
  readonly volatilityWindow: number;
  /** Past volatility values kept for the percentile and the ratio. */
  readonly volatilityHistory: number;
  /** The detector answers only when this many volatility values are in the history. */
  readonly minVolatilityHistory: number;
  readonly trendEnterAdx: number;
  readonly trendStayAdx: number;
  readonly trendEnterEfficiency: number;
  readonly trendStayEfficiency: number;
  readonly highVolatilityEnterPercentile: number;
  readonly highVolatilityEnterRatio: number;
  readonly highVolatilityStayRatio: number;
  /** Consecutive bars a new candidate must hold before the regime changes. */
  readonly confirmBars: number;
}

/** Defaults, tuned on 5-minute NSE bars (`../shared/data/nse-5min`). */
export const DEFAULT_REGIME_CONFIG: RegimeConfig = {
  adxPeriod: 14,
  efficiencyPeriod: 20,
  volatilityWindow: 20,
  volatilityHistory: 150,
  minVolatilityHistory: 40,
  trendEnterAdx: 25,
  trendStayAdx: 20,
  trendEnterEfficiency: 0.35,
  trendStayEfficiency: 0.2,
  highVolatilityEnterPercentile: 0.9,
  highVolatilityEnterRatio: 1.5,
  highVolatilityStayRatio: 1.2,
  confirmBars: 3,
};

/** The numbers behind a classification. */
export interface RegimeEvidence {
  readonly adx: number;
  readonly efficiencyRatio: number;
  /** Per-bar standard deviation of log returns. */
  readonly volatility: number;
  readonly volatilityPercentile: number;
  readonly volatilityRatio: number;
}

/** The detector's state for one symbol: JSON, so it snapshots as is. */
export interface RegimeState {
  readonly bars: number;
  readonly regime: Regime | null;
  readonly pending: Regime | null;
  readonly pendingBars: number;
  readonly previousHigh: number | null;
  readonly previousLow: number | null;
  readonly previousClose: number | null;
  /** Wilder-smoothed true range, +DM, −DM (sums during the first period). */
  readonly trueRange: number;
  readonly plusMove: number;
  readonly minusMove: number;
  readonly movesSeen: number;
  readonly dxSum: number;
  readonly dxSeen: number;
  readonly adx: number | null;
  readonly closes: readonly number[];
  readonly logReturns: readonly number[];
  readonly volatilities: readonly number[];
}

/** What one bar did. `change` is set when the confirmed regime changed (also the first time). */
export interface RegimeStep {
  readonly state: RegimeState;
  readonly evidence: RegimeEvidence | null;
  /** The regime the thresholds point to on this bar, before confirmation. */
  readonly candidate: Regime | null;
  readonly change: { readonly from: Regime | null; readonly to: Regime } | null;
}

/** The state before any bar. */
export function initialRegimeState(): RegimeState {
  return {
    bars: 0,
    regime: null,
    pending: null,
    pendingBars: 0,
    previousHigh: null,
    previousLow: null,
    previousClose: null,
    trueRange: 0,
    plusMove: 0,
    minusMove: 0,
    movesSeen: 0,
    dxSum: 0,
    dxSeen: 0,
    adx: null,
    closes: [],
    logReturns: [],
    volatilities: [],
  };
}

const pushBounded = (values: readonly number[], value: number, bound: number): number[] => {
  const next = values.length >= bound ? values.slice(values.length - bound + 1) : values.slice();
  next.push(value);
  return next;
};

/** `pushBounded` on an array the caller owns: the same values in the same order, without a copy. */
const pushBoundedOwned = (values: readonly number[], value: number, bound: number): number[] => {
  const array = values as number[];
  while (array.length >= bound) array.shift(); // V8 trims the front in place
  array.push(value);
  return array;
};

function deviation(values: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < values.length; i += 1) total += values[i]!;
  const mean = total / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i += 1) squares += (values[i]! - mean) ** 2;
  return Math.sqrt(squares / Math.max(1, values.length - 1));
}

/** A state its owner updates in place. */
type OwnedRegimeState = { -readonly [K in keyof RegimeState]: RegimeState[K] };

/** Wilder's running sum: a plain sum over the first `period` values, then `sum - sum / period + value`. */
const wilder = (sum: number, value: number, seen: number, period: number): number => (seen < period ? sum + value : sum - sum / period + value);

/** Moves the ADX (Wilder) fields of `state` on by one bar, in place; before the first bar there is nothing to compare with. */
function advanceAdx(state: OwnedRegimeState, high: number, low: number, period: number): void {
  const { previousHigh, previousLow, previousClose } = state;
  if (previousClose === null || previousHigh === null || previousLow === null) return;
  const tr = Math.max(high - low, Math.abs(high - previousClose), Math.abs(low - previousClose));
  const up = high - previousHigh;
  const down = previousLow - low;
  const plus = up > down && up > 0 ? up : 0;
  const minus = down > up && down > 0 ? down : 0;
  state.trueRange = wilder(state.trueRange, tr, state.movesSeen, period);
  state.plusMove = wilder(state.plusMove, plus, state.movesSeen, period);
  state.minusMove = wilder(state.minusMove, minus, state.movesSeen, period);
  state.movesSeen += 1;
  if (state.movesSeen >= period && state.trueRange > 0) {
    const plusDi = (100 * state.plusMove) / state.trueRange;
    const minusDi = (100 * state.minusMove) / state.trueRange;
    const dx = plusDi + minusDi === 0 ? 0 : (100 * Math.abs(plusDi - minusDi)) / (plusDi + minusDi);
    if (state.adx === null) {
      state.dxSum += dx;
      state.dxSeen += 1;
      if (state.dxSeen >= period) state.adx = state.dxSum / state.dxSeen;
    } else {
      state.adx = (state.adx * (period - 1) + dx) / period;
    }
  }
}

/** Feeds one closed bar (bars of one symbol, in time order). Pure: returns the next state. */
export function updateRegime(state: RegimeState, bar: Bar, config: RegimeConfig = DEFAULT_REGIME_CONFIG, owned = false): RegimeStep {
  // owned: the caller owns `state` and its arrays (an actor's working state): they are updated in place
  const push = owned ? pushBoundedOwned : pushBounded;
  const close = bar.closePaise;

  // the next state: the caller's own object when owned (updated in place), else a shallow copy
  // (whose arrays `pushBounded` replaces with new ones); the regime fields change last, in `withRegime`
  const next: OwnedRegimeState = owned ? state : { ...state };
  advanceAdx(next, bar.highPaise, bar.lowPaise, config.adxPeriod);
  const previousClose = next.previousClose;
  next.bars += 1;
  next.previousHigh = bar.highPaise;
  next.previousLow = bar.lowPaise;
  next.previousClose = close;

  next.closes = push(next.closes, close, config.efficiencyPeriod + 1);
  const newReturn = previousClose !== null && previousClose > 0 && close > 0;
  if (newReturn) next.logReturns = push(next.logReturns, Math.log(close / previousClose), config.volatilityWindow);
  let volatility: number | null = null;
  if (next.logReturns.length >= config.volatilityWindow && newReturn) {
    volatility = deviation(next.logReturns);
    next.volatilities = push(next.volatilities, volatility, config.volatilityHistory);
  }
  const { adx, closes, volatilities } = next;
  if (adx === null || volatility === null || closes.length <= config.efficiencyPeriod || volatilities.length < config.minVolatilityHistory) {
    return { state: next, evidence: null, candidate: null, change: null };
  }

  let path = 0;
  for (let i = 1; i < closes.length; i += 1) path += Math.abs(closes[i]! - closes[i - 1]!);
  const efficiencyRatio = path === 0 ? 0 : Math.abs(closes[closes.length - 1]! - closes[0]!) / path;
  let atOrBelow = 0;
  let sum = 0;
  for (let i = 0; i < volatilities.length; i += 1) {
    const v = volatilities[i]!;
    if (v <= volatility) atOrBelow += 1;
    sum += v;
  }
  const evidence: RegimeEvidence = {
    adx,
    efficiencyRatio,
    volatility,
    volatilityPercentile: atOrBelow / volatilities.length,
    volatilityRatio: sum === 0 ? 1 : volatility / (sum / volatilities.length),
  };
  const regime = state.regime; // read before `withRegime` (an owned state is `next` itself)
  const candidate = classify(regime, evidence, config);

  if (regime === null) {
    return { state: withRegime(next, candidate, null, 0), evidence, candidate, change: { from: null, to: candidate } };
  }
  if (candidate === regime) return { state: withRegime(next, regime, null, 0), evidence, candidate, change: null };
  const pendingBars = candidate === state.pending ? state.pendingBars + 1 : 1;
  if (pendingBars >= config.confirmBars) {
    return { state: withRegime(next, candidate, null, 0), evidence, candidate, change: { from: regime, to: candidate } };
  }
  return { state: withRegime(next, regime, candidate, pendingBars), evidence, candidate, change: null };
}

/** Sets the regime fields of the next state (`updateRegime`'s own object). */
function withRegime(next: OwnedRegimeState, regime: Regime | null, pending: Regime | null, pendingBars: number): RegimeState {
  next.regime = regime;
  next.pending = pending;
  next.pendingBars = pendingBars;
  return next;
}

/** The thresholds, with the stay thresholds for the regime in force. */
export function classify(current: Regime | null, evidence: RegimeEvidence, config: RegimeConfig = DEFAULT_REGIME_CONFIG): Regime {
  const highVolatility =
    current === 'high-volatility'
      ? evidence.volatilityRatio >= config.highVolatilityStayRatio
      : evidence.volatilityPercentile >= config.highVolatilityEnterPercentile && evidence.volatilityRatio >= config.highVolatilityEnterRatio;
  if (highVolatility) return 'high-volatility';
  const trending =
    current === 'trending'
      ? evidence.adx >= config.trendStayAdx && evidence.efficiencyRatio >= config.trendStayEfficiency
      : evidence.adx >= config.trendEnterAdx && evidence.efficiencyRatio >= config.trendEnterEfficiency;
  return trending ? 'trending' : 'ranging';
}

/** Classifies a whole series (tests, backtests, research). */
export function detectRegimes(
  bars: readonly Bar[],
  config: RegimeConfig = DEFAULT_REGIME_CONFIG,
): { readonly regimes: (Regime | null)[]; readonly changes: { readonly index: number; readonly from: Regime | null; readonly to: Regime }[] } {
  let state = initialRegimeState();
  const regimes: (Regime | null)[] = [];
  const changes: { index: number; from: Regime | null; to: Regime }[] = [];
  bars.forEach((bar, index) => {
    const step = updateRegime(state, bar, config);
    state = step.state;
    regimes.push(state.regime);
    if (step.change) changes.push({ index, ...step.change });
  });
  return { regimes, changes };
}

/** Options of the market-wide rule. */
export interface MarketRegimeConfig {
  /** Share of classified symbols in high-volatility that makes the market high-volatility. */
  readonly highVolatilityShare: number;
  /** Classified symbols needed before the market has a regime. */
  readonly minSymbols: number;
}

/** Defaults: 40 % of symbols in high-volatility, at least one symbol classified. */
export const DEFAULT_MARKET_REGIME_CONFIG: MarketRegimeConfig = { highVolatilityShare: 0.4, minSymbols: 1 };

/** The market's state: each symbol's confirmed regime and the market's own. */
export interface MarketRegimeState {
  readonly symbols: Readonly<Record<string, Regime>>;
  readonly regime: Regime | null;
}

/**
 * The market's regime from its symbols' (already hysteresis-filtered) regimes: high-volatility
 * when at least `highVolatilityShare` of them are; else the more common of trending and ranging;
 * a tie keeps the market's current regime (ranging when it has none).
 */
export function updateMarketRegime(
  state: MarketRegimeState,
  symbol: string,
  regime: Regime,
  config: MarketRegimeConfig = DEFAULT_MARKET_REGIME_CONFIG,
): {
  readonly state: MarketRegimeState;
  readonly change: { readonly from: Regime | null; readonly to: Regime } | null;
  readonly evidence: Readonly<Record<string, number>>;
} {
  const symbols = { ...state.symbols, [symbol]: regime };
  const counts = { trending: 0, ranging: 0, 'high-volatility': 0 };
  for (const r of Object.values(symbols)) counts[r] += 1;
  const total = counts.trending + counts.ranging + counts['high-volatility'];
  const evidence = { symbols: total, trending: counts.trending, ranging: counts.ranging, highVolatility: counts['high-volatility'] };
  if (total < config.minSymbols) return { state: { ...state, symbols }, change: null, evidence };
  let next: Regime;
  if (counts['high-volatility'] >= config.highVolatilityShare * total) next = 'high-volatility';
  else if (counts.trending > counts.ranging) next = 'trending';
  else if (counts.ranging > counts.trending) next = 'ranging';
  else next = state.regime === 'trending' ? 'trending' : 'ranging';
  const change = next === state.regime ? null : { from: state.regime, to: next };
  return { state: { symbols, regime: next }, change, evidence };
}
