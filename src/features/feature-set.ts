/**
 * A streaming feature set: 78 named features (indicators, candle patterns, session gaps, calendar) per symbol, updated one closed bar at a
 * time, for strategies, the regime detector and the ML service. Indicators come from
 * `trading-signals` where it has them; the rest are small rolling windows here.
 *
 * Conventions: prices are read in paise (ratios do not care about the unit); every
 * feature is a float or null (not warmed up yet, or undefined such as a zero range);
 * "dist_x" is close / x − 1; "_pct" values are fractions (0.01 = 1%), except the
 * classic oscillators (RSI, Stochastic, Williams %R, MFI, ADX/DI, CCI, ROC) which keep
 * their usual scales. Not money: nothing here is used to price an order.
 */
import { ADX, ATR, BollingerBands, CCI, EMA, MACD, MFI, OBV, ROC, RSI, SMA, StochasticOscillator, WilliamsR, WMA } from 'trading-signals';
import { DAY_MS, IST_OFFSET_MS, NSE_CLOSE_MINUTE, NSE_OPEN_MINUTE, istDate, istMinuteOfDay, type Bar } from '../model/index.js';

/** One symbol's features, fed bar by bar. */
export interface FeatureSet {
  /** Feeds the next closed bar (bars of one symbol, in time order). */
  update(bar: Bar): void;
  /** The current value of every feature, keyed by name; null before warm-up or when undefined. */
  values(): Record<string, number | null>;
  /** Every feature name, in a fixed order. */
  readonly names: readonly string[];
}

const RETURN_WINDOWS = [1, 3, 5, 10, 20, 60] as const;
const SMA_WINDOWS = [5, 10, 20, 50, 100] as const;
const EMA_WINDOWS = [5, 10, 20, 50] as const;
const WMA_WINDOWS = [10, 20] as const;
const RSI_WINDOWS = [7, 14, 21] as const;
const VOLATILITY_WINDOWS = [5, 10, 20, 60] as const;
const RANGE_WINDOWS = [20, 60] as const;
const HISTORY = 101;
/** Longest run of same-direction closes the streak feature counts. */
const STREAK_CAP = 10;

/**
 * Bump when a feature's definition changes without its name changing (names are hashed
 * anyway): models record the hash of this version, the names and the parameters below.
 */
export const FEATURE_SET_VERSION = 2;

/** Every window and threshold the feature set uses, for schema hashes (`src/ml/features.ts`). */
export const FEATURE_SET_PARAMETERS: Readonly<Record<string, string | number | boolean>> = {
  returns: RETURN_WINDOWS.join(','),
  sma: SMA_WINDOWS.join(','),
  ema: EMA_WINDOWS.join(','),
  wma: WMA_WINDOWS.join(','),
  rsi: RSI_WINDOWS.join(','),
  volatility: VOLATILITY_WINDOWS.join(','),
  ranges: RANGE_WINDOWS.join(','),
  history: HISTORY,
  macd: '12,26,9',
  bollinger: '20,2',
  atr: 14,
  adx: 14,
  stochastic: '14,3,3',
  cci: 20,
  roc: 12,
  williams: 14,
  mfi: 14,
  streakCap: STREAK_CAP,
  doji: 0.1,
  hammer: '2,0.25',
};

/** A finite number, or null. */
function finite(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

function ratio(numerator: number | null, denominator: number | null): number | null {
  if (numerator === null || denominator === null || denominator === 0) return null;
  return finite(numerator / denominator);
}

function distance(close: number, level: number | null): number | null {
  const r = ratio(close, level);
  return r === null ? null : r - 1;
}

function tail(values: readonly number[], count: number): number[] | null {
  return values.length >= count ? values.slice(values.length - count) : null;
}

function meanOf(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Sample standard deviation (n − 1), as volatility is usually quoted. */
function sampleDeviation(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const average = meanOf(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1));
}

/** The indicators, rolling windows and session of one symbol, as the bars so far left them. */
interface FeatureState {
  readonly sma: SMA[];
  readonly ema: EMA[];
  readonly wma: WMA[];
  readonly rsi: RSI[];
  readonly ema12: EMA;
  readonly ema26: EMA;
  readonly macd: MACD;
  readonly bollinger: BollingerBands;
  readonly atr: ATR;
  readonly adx: ADX;
  readonly stochastic: StochasticOscillator;
  readonly cci: CCI;
  readonly roc: ROC;
  readonly obv: OBV;
  readonly williams: WilliamsR;
  readonly mfi: MFI;
  readonly closes: number[];
  readonly highs: number[];
  readonly lows: number[];
  readonly volumes: number[];
  readonly logReturns: number[];
  readonly parkinson: number[];
  readonly obvHistory: number[];
  readonly priceVolume: number[];
  last: Bar | null;
  previousClose: number | null;
  session: {
    date: string;
    priceVolume: number;
    volume: number;
    openPaise: number;
    high: number;
    low: number;
    previousClose: number | null;
    gapFilled: boolean;
  };
  streak: number;
}

type Features = Record<string, number | null>;

/** Creates an empty feature set for one symbol. */
export function createFeatureSet(): FeatureSet {
  const state = emptyState();
  const names = Object.keys(compute(emptyState(), emptyBar()));
  let current: Features = Object.fromEntries(names.map((name) => [name, null]));
  return {
    names,
    update: (bar) => {
      advance(state, bar);
      current = compute(state, bar);
      state.previousClose = bar.closePaise;
      state.last = bar;
    },
    values: () => (state.last === null ? Object.fromEntries(names.map((name) => [name, null])) : { ...current }),
  };
}

function emptyState(): FeatureState {
  return {
    sma: SMA_WINDOWS.map((n) => new SMA(n)),
    ema: EMA_WINDOWS.map((n) => new EMA(n)),
    wma: WMA_WINDOWS.map((n) => new WMA(n)),
    rsi: RSI_WINDOWS.map((n) => new RSI(n)),
    ema12: new EMA(12),
    ema26: new EMA(26),
    macd: new MACD(new EMA(12), new EMA(26), new EMA(9)),
    bollinger: new BollingerBands(20, 2),
    atr: new ATR(14),
    adx: new ADX(14),
    stochastic: new StochasticOscillator({ kPeriod: 14, kSlowingPeriod: 3, dPeriod: 3 }),
    cci: new CCI(20),
    roc: new ROC(12),
    obv: new OBV(2),
    williams: new WilliamsR(14),
    mfi: new MFI(14),
    closes: [],
    highs: [],
    lows: [],
    volumes: [],
    logReturns: [],
    parkinson: [],
    obvHistory: [],
    priceVolume: [],
    last: null,
    previousClose: null,
    session: { date: '', priceVolume: 0, volume: 0, openPaise: 0, high: 0, low: 0, previousClose: null, gapFilled: false },
    streak: 0,
  };
}

/** Feeds a bar to the windows, the session, the streak and every indicator (`previousClose` and `last` are still the bar before). */
function advance(state: FeatureState, bar: Bar): void {
  const close = bar.closePaise;
  const { previousClose } = state;
  const candle = { open: bar.openPaise, high: bar.highPaise, low: bar.lowPaise, close, volume: bar.volume };
  if (previousClose !== null) state.logReturns.push(Math.log(close / previousClose));
  if (state.logReturns.length > HISTORY) state.logReturns.shift();
  for (const [list, value] of [
    [state.closes, close],
    [state.highs, bar.highPaise],
    [state.lows, bar.lowPaise],
    [state.volumes, bar.volume],
    [state.priceVolume, ((bar.highPaise + bar.lowPaise + close) / 3) * bar.volume],
    [state.parkinson, bar.highPaise > 0 && bar.lowPaise > 0 ? Math.log(bar.highPaise / bar.lowPaise) ** 2 : 0],
  ] as const) {
    list.push(value);
    if (list.length > HISTORY) list.shift();
  }
  const date = istDate(bar.startMs);
  if (state.session.date !== date) {
    state.session = { date, priceVolume: 0, volume: 0, openPaise: bar.openPaise, high: bar.highPaise, low: bar.lowPaise, previousClose, gapFilled: false };
  }
  const session = state.session;
  session.high = Math.max(session.high, bar.highPaise);
  session.low = Math.min(session.low, bar.lowPaise);
  if (session.previousClose !== null && session.low <= session.previousClose && session.high >= session.previousClose) session.gapFilled = true;
  if (previousClose !== null) {
    const direction = Math.sign(close - previousClose);
    const streak = state.streak;
    state.streak = direction === 0 ? 0 : Math.sign(streak) === direction ? Math.max(-STREAK_CAP, Math.min(STREAK_CAP, streak + direction)) : direction;
  }
  session.priceVolume += ((bar.highPaise + bar.lowPaise + close) / 3) * bar.volume;
  session.volume += bar.volume;
  for (const indicator of [...state.sma, ...state.ema, ...state.wma, ...state.rsi, state.ema12, state.ema26, state.roc]) indicator.add(close);
  state.macd.add(close);
  state.bollinger.add(close);
  for (const indicator of [state.atr, state.adx, state.cci, state.williams]) indicator.add(candle);
  state.stochastic.add(candle);
  state.mfi.add(candle);
  state.obv.add(candle);
  const obvValue = finite(state.obv.getResult());
  if (obvValue !== null) {
    state.obvHistory.push(obvValue);
    if (state.obvHistory.length > HISTORY) state.obvHistory.shift();
  }
}

/** Every feature after `bar`, in the fixed order of {@link FeatureSet.names}. */
function compute(state: FeatureState, bar: Bar): Features {
  const out: Features = {};
  trendFeatures(state, bar, out);
  oscillatorFeatures(state, bar, out);
  volumeFeatures(state, bar, out);
  candleFeatures(state, bar, out);
  sessionFeatures(state, bar, out);
  return out;
}

/** Returns over several windows and the distance from moving averages. */
function trendFeatures(state: FeatureState, bar: Bar, out: Features): void {
  const close = bar.closePaise;
  const { sma, ema, wma } = state;
  for (const n of RETURN_WINDOWS) {
    const window = tail(state.closes, n + 1);
    out[`ret_${n}`] = window ? distance(close, window[0]!) : null;
  }
  out.log_ret_1 = state.logReturns.length > 0 ? state.logReturns[state.logReturns.length - 1]! : null;
  SMA_WINDOWS.forEach((n, i) => (out[`dist_sma_${n}`] = distance(close, finite(sma[i]!.getResult()))));
  EMA_WINDOWS.forEach((n, i) => (out[`dist_ema_${n}`] = ema[i]!.isStable ? distance(close, finite(ema[i]!.getResult())) : null));
  WMA_WINDOWS.forEach((n, i) => (out[`dist_wma_${n}`] = distance(close, finite(wma[i]!.getResult()))));
  const sma5 = finite(sma[0]!.getResult());
  const sma20 = finite(sma[2]!.getResult());
  out.sma_5_20_ratio = sma5 !== null && sma20 !== null ? ratio(sma5, sma20)! - 1 : null;
  out.ema_12_26_ratio = state.ema26.isStable ? ratio(finite(state.ema12.getResult()), finite(state.ema26.getResult()))! - 1 : null;
}

/** RSI, MACD, Bollinger, ATR and true range, ADX/DI, Stochastic, CCI, ROC, Williams %R, MFI. */
function oscillatorFeatures(state: FeatureState, bar: Bar, out: Features): void {
  const close = bar.closePaise;
  const { adx, previousClose } = state;
  RSI_WINDOWS.forEach((n, i) => (out[`rsi_${n}`] = finite(state.rsi[i]!.getResult())));
  const macdValue = state.macd.getResult();
  out.macd_line = macdValue ? ratio(macdValue.macd, close) : null;
  out.macd_signal = macdValue ? ratio(macdValue.signal, close) : null;
  out.macd_hist = macdValue ? ratio(macdValue.histogram, close) : null;
  const bands = state.bollinger.getResult();
  out.bb_pct_b_20 = bands ? ratio(close - bands.lower, bands.upper - bands.lower) : null;
  out.bb_width_20 = bands ? ratio(bands.upper - bands.lower, bands.middle) : null;
  out.atr_14_pct = ratio(finite(state.atr.getResult()), close);
  const trueRange = previousClose === null ? bar.highPaise - bar.lowPaise : Math.max(bar.highPaise, previousClose) - Math.min(bar.lowPaise, previousClose);
  out.true_range_pct = ratio(trueRange, close);
  out.adx_14 = finite(adx.getResult());
  out.plus_di_14 = adx.isStable ? finite(adx.pdi ?? null) : null;
  out.minus_di_14 = adx.isStable ? finite(adx.mdi ?? null) : null;
  const stoch = state.stochastic.getResult();
  out.stoch_k = stoch ? finite(stoch.stochK) : null;
  out.stoch_d = stoch ? finite(stoch.stochD) : null;
  out.cci_20 = finite(state.cci.getResult());
  out.roc_12 = finite(state.roc.getResult());
  out.williams_r_14 = finite(state.williams.getResult());
  out.mfi_14 = finite(state.mfi.getResult());
}

/** OBV, VWAPs, volatility (close-to-close and Parkinson) and volume. */
function volumeFeatures(state: FeatureState, bar: Bar, out: Features): void {
  const close = bar.closePaise;
  const { volumes, session } = state;
  out.obv = finite(state.obv.getResult());
  const obvWindow = tail(state.obvHistory, 11);
  const volume10 = tail(volumes, 10);
  out.obv_slope_10 =
    obvWindow && volume10
      ? ratio(
          obvWindow[10]! - obvWindow[0]!,
          volume10.reduce((s, v) => s + v, 0),
        )
      : null;
  out.dist_vwap_session = distance(close, ratio(session.priceVolume, session.volume));
  const pv20 = tail(state.priceVolume, 20);
  const v20 = tail(volumes, 20);
  out.dist_vwap_20 =
    pv20 && v20
      ? distance(
          close,
          ratio(
            pv20.reduce((s, v) => s + v, 0),
            v20.reduce((s, v) => s + v, 0),
          ),
        )
      : null;
  for (const n of VOLATILITY_WINDOWS) {
    const window = tail(state.logReturns, n);
    out[`vol_${n}`] = window ? sampleDeviation(window) : null;
  }
  const park = tail(state.parkinson, 20);
  out.parkinson_vol_20 = park ? Math.sqrt(meanOf(park) / (4 * Math.log(2))) : null;
  const volumeWindow = tail(volumes, 20);
  const volumeDeviation = volumeWindow ? sampleDeviation(volumeWindow) : null;
  out.volume_z_20 = volumeWindow && volumeDeviation ? (bar.volume - meanOf(volumeWindow)) / volumeDeviation : null;
  const volume5 = tail(volumes, 5);
  out.volume_ratio_5_20 = volume5 && volumeWindow ? ratio(meanOf(volume5), meanOf(volumeWindow)) : null;
  out.log_volume = Math.log1p(bar.volume);
}

/** The bar's range and position in recent ranges, gap, body and wicks, candle patterns and the close streak. */
function candleFeatures(state: FeatureState, bar: Bar, out: Features): void {
  const close = bar.closePaise;
  out.range_pct = ratio(bar.highPaise - bar.lowPaise, close);
  out.close_position = ratio(close - bar.lowPaise, bar.highPaise - bar.lowPaise);
  for (const n of RANGE_WINDOWS) {
    const h = tail(state.highs, n);
    const l = tail(state.lows, n);
    out[`dist_high_${n}`] = h ? distance(close, Math.max(...h)) : null;
    out[`dist_low_${n}`] = l ? distance(close, Math.min(...l)) : null;
    out[`range_position_${n}`] = h && l ? ratio(close - Math.min(...l), Math.max(...h) - Math.min(...l)) : null;
  }
  out.gap_pct = distance(bar.openPaise, state.previousClose);
  out.body_pct = distance(close, bar.openPaise);
  out.upper_wick_pct = ratio(bar.highPaise - Math.max(bar.openPaise, close), close);
  out.lower_wick_pct = ratio(Math.min(bar.openPaise, close) - bar.lowPaise, close);
  // candle patterns: 1 present, 0 absent; null on a bar without range (or without a previous bar)
  const range = bar.highPaise - bar.lowPaise;
  const body = close - bar.openPaise;
  const upperWick = bar.highPaise - Math.max(bar.openPaise, close);
  const lowerWick = Math.min(bar.openPaise, close) - bar.lowPaise;
  out.doji = range > 0 ? flag(Math.abs(body) <= 0.1 * range) : null;
  out.hammer = range > 0 ? flag(lowerWick >= 2 * Math.abs(body) && upperWick <= 0.25 * range) : null;
  out.shooting_star = range > 0 ? flag(upperWick >= 2 * Math.abs(body) && lowerWick <= 0.25 * range) : null;
  const prev = state.last;
  const prevBody = prev === null ? 0 : prev.closePaise - prev.openPaise;
  out.bullish_engulfing = prev ? flag(prevBody < 0 && body > 0 && bar.openPaise <= prev.closePaise && close >= prev.openPaise) : null;
  out.bearish_engulfing = prev ? flag(prevBody > 0 && body < 0 && bar.openPaise >= prev.closePaise && close <= prev.openPaise) : null;
  out.inside_bar = prev ? flag(bar.highPaise <= prev.highPaise && bar.lowPaise >= prev.lowPaise) : null;
  out.outside_bar = prev ? flag(bar.highPaise > prev.highPaise && bar.lowPaise < prev.lowPaise) : null;
  out.close_streak = state.previousClose === null ? null : state.streak;
}

/** The session (IST day) and the calendar. */
function sessionFeatures(state: FeatureState, bar: Bar, out: Features): void {
  const close = bar.closePaise;
  const { session } = state;
  // gap from the previous session's last close, whether it filled, distance from the open
  out.session_gap_pct = distance(session.openPaise, session.previousClose);
  out.session_gap_filled = session.previousClose === null ? null : flag(session.gapFilled);
  out.dist_session_open = distance(close, session.openPaise);
  out.dist_session_high = distance(close, session.high);
  out.dist_session_low = distance(close, session.low);
  // calendar: minutes since the open as a fraction of the session (0 for daily bars), IST weekday
  const minute = istMinuteOfDay(bar.startMs);
  out.session_time = bar.interval === '1d' ? 0 : (minute - NSE_OPEN_MINUTE) / (NSE_CLOSE_MINUTE - NSE_OPEN_MINUTE);
  out.day_of_week = (Math.floor((bar.startMs + IST_OFFSET_MS) / DAY_MS) + 4) % 7;
}

/** 1 for a pattern present, 0 absent. */
function flag(condition: boolean): number {
  return condition ? 1 : 0;
}

function emptyBar(): Bar {
  return { type: 'bar', symbol: '', interval: '1d', startMs: 0, openPaise: 1, highPaise: 1, lowPaise: 1, closePaise: 1, volume: 0, tickCount: 0 };
}
