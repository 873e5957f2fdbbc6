/**
 * The ML actor's warm-up from the time-series store: the last closed bars of the model's
 * interval per symbol, built from the stored 1-minute bars (`bars_1m`) the way the retraining
 * builds them (`resampleBars`), so that at start (or after a model of other features is loaded)
 * a symbol predicts on its first live bar instead of after {@link WARMUP_BARS} live bars.
 *
 * Only buckets that have ended by `nowMs` are used (the bar in progress closes live). A
 * 1-minute bar not yet written by the time-series writer when this runs is missing from its
 * bucket: the features of that one bar are computed without it.
 */
import { BAR_INTERVALS, DAY_MS, type Bar, type BarInterval } from '../model/index.js';
import { WARMUP_BARS } from './features.js';
import { resampleBars, type MinuteBarReader } from './retrain/resample.js';

/** An NSE cash session, 09:15–15:30 IST. */
const SESSION_MS = 375 * 60_000;

export interface WarmupRequest {
  readonly minuteBars: MinuteBarReader;
  readonly symbols: readonly string[];
  readonly interval: BarInterval;
  /** Closed bars wanted per symbol (at most this many, the latest). */
  readonly bars: number;
  /** Now on the market's clock. */
  readonly nowMs: number;
}

/** Bars a model of `lookback` rows needs to predict on the next bar: the warm-up and a full window. */
export const warmupBarsFor = (lookback: number): number => WARMUP_BARS + lookback - 1;

/**
 * Calendar days that hold `bars` bars of `interval` with room for weekends and holidays
 * (5 sessions a week, a week's margin).
 */
export function warmupDays(interval: BarInterval, bars: number): number {
  const intervalMs = BAR_INTERVALS[interval] * 1000;
  const sessions = interval === '1d' ? bars : Math.ceil((bars * intervalMs) / SESSION_MS);
  return Math.min(3650, Math.ceil((sessions * 7) / 5) + 7);
}

/** The latest closed bars of `interval` per symbol from the stored 1-minute bars (symbols without any are left out). */
export async function storedWarmupBars(request: WarmupRequest): Promise<Map<string, Bar[]>> {
  const intervalMs = BAR_INTERVALS[request.interval] * 1000;
  const fromMs = request.nowMs - warmupDays(request.interval, request.bars) * DAY_MS;
  const out = new Map<string, Bar[]>();
  for (const symbol of request.symbols) {
    const minutes = await request.minuteBars(symbol, fromMs, request.nowMs);
    const closed = resampleBars(minutes, request.interval).filter((bar) => bar.startMs + intervalMs <= request.nowMs);
    if (closed.length > 0) out.set(symbol, closed.slice(-request.bars));
  }
  return out;
}
