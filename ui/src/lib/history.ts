/**
 * The desk's history: candles from `GET /api/v1/bars` joined with the live one-minute candles,
 * indicator overlays from a strategy's own settings, and the analytics of `GET /api/v1/analytics`.
 */
import { bucketStartMs } from '../../../src/model/bar-aggregate.js';
import type { Session } from './api.js';
import type { Candle } from './live-store.js';

export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

export interface StoredCandle {
  readonly startMs: number;
  readonly openPaise: number;
  readonly highPaise: number;
  readonly lowPaise: number;
  readonly closePaise: number;
  readonly volume: number;
  readonly tickCount: number;
}

export interface CandleMarker {
  readonly startMs: number;
  readonly side: 'BUY' | 'SELL';
  readonly quantity: number;
  readonly fills: number;
  readonly averagePricePaise: number;
}

export interface BarsResponse {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly candles: readonly StoredCandle[];
  readonly markers: readonly CandleMarker[];
  readonly storedThroughMs: number | null;
  readonly truncated: boolean;
}

export interface DepthResponse {
  readonly symbol: string;
  readonly atMs: number | null;
  readonly levels: number;
  readonly buy: readonly { readonly pricePaise: number; readonly quantity: number; readonly orders: number }[];
  readonly sell: readonly { readonly pricePaise: number; readonly quantity: number; readonly orders: number }[];
}

export interface Figures {
  readonly realisedPaise: number;
  readonly unrealisedPaise: number;
  readonly chargesPaise: number;
  readonly netPnlPaise: number;
  readonly turnoverPaise: number;
  readonly fills: number;
  readonly roundTrips: number;
  readonly wins: number;
  readonly winRate: number | null;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly maxDrawdownPaise: number;
  readonly grossExposurePaise: number;
  readonly netExposurePaise: number;
}

export interface PnlPeriod {
  readonly period: string;
  readonly netPnlPaise: number;
  readonly fills: number;
}

export interface AnalyticsResponse {
  readonly portfolioId: string;
  readonly atMs: number;
  readonly total: Figures;
  readonly byStrategy: Readonly<Record<string, Figures>>;
  readonly bySymbol: Readonly<Record<string, Figures>>;
  readonly calendar: { readonly daily: readonly PnlPeriod[]; readonly weekly: readonly PnlPeriod[]; readonly monthly: readonly PnlPeriod[] };
  readonly equity: readonly { readonly atMs: number; readonly equityPaise: number }[];
  readonly initialCashPaise: number;
}

export const loadBars = (session: Session, symbol: string, timeframe: Timeframe): Promise<BarsResponse> =>
  session.request<BarsResponse>('GET', `/api/v1/bars?symbol=${encodeURIComponent(symbol)}&timeframe=${timeframe}`);
export const loadDepth = (session: Session, symbol: string): Promise<DepthResponse> =>
  session.request<DepthResponse>('GET', `/api/v1/market/depth/${encodeURIComponent(symbol)}`);
export const loadAnalytics = (session: Session): Promise<AnalyticsResponse> => session.request<AnalyticsResponse>('GET', '/api/v1/analytics');

/**
 * The stored candles followed by the live one-minute candles folded into the timeframe: live
 * minutes the store already holds (before `storedThroughMs`) are skipped, later ones extend the
 * last stored candle of their bucket or open the next one (the store holds closed minutes only).
 */
export function joinCandles(stored: readonly StoredCandle[], storedThroughMs: number | null, live: readonly Candle[], timeframe: Timeframe): Candle[] {
  const out: Candle[] = stored.map((candle) => ({
    timeSec: candle.startMs / 1000,
    openPaise: candle.openPaise,
    highPaise: candle.highPaise,
    lowPaise: candle.lowPaise,
    closePaise: candle.closePaise,
    volume: candle.volume,
  }));
  for (const minute of live) {
    if (storedThroughMs !== null && minute.timeSec * 1000 < storedThroughMs) continue;
    const bucketSec = bucketStartMs(minute.timeSec * 1000, timeframe) / 1000;
    const last = out.at(-1);
    if (last && last.timeSec === bucketSec) {
      out[out.length - 1] = {
        ...last,
        highPaise: Math.max(last.highPaise, minute.highPaise),
        lowPaise: Math.min(last.lowPaise, minute.lowPaise),
        closePaise: minute.closePaise,
        volume: last.volume + minute.volume,
      };
    } else if (!last || bucketSec > last.timeSec) {
      out.push({ ...minute, timeSec: bucketSec });
    }
  }
  return out;
}

/** Exponential moving average of the closes (the same recurrence as ema-cross: seeded with the first close), in paise. */
export function emaSeries(candles: readonly Candle[], period: number): { timeSec: number; valuePaise: number }[] {
  const weight = 2 / (period + 1);
  let value: number | undefined;
  return candles
    .map((candle, index) => {
      value = value === undefined ? candle.closePaise : value + (candle.closePaise - value) * weight;
      return { timeSec: candle.timeSec, valuePaise: value, index };
    })
    .filter((point) => point.index + 1 >= period)
    .map(({ timeSec, valuePaise }) => ({ timeSec, valuePaise }));
}

/** An indicator line drawn over the candles. */
export interface Overlay {
  readonly label: string;
  readonly color: string;
  readonly points: readonly { readonly timeSec: number; readonly valuePaise: number }[];
}

const OVERLAY_COLOURS = ['#f0c040', '#c678dd', '#56b6c2', '#e06c75'];

/**
 * The strategies' own indicators for a symbol they trade: EMA(fast) and EMA(slow) of an
 * ema-cross, the SMA of the tutorial strategy. Computed on the candles shown, so on the
 * strategy's own interval they are the strategy's averages.
 */
export function strategyOverlays(
  strategies: readonly { readonly strategyId: string; readonly kind: string; readonly config: Readonly<Record<string, unknown>> }[],
  symbol: string,
  candles: readonly Candle[],
): Overlay[] {
  const overlays: Overlay[] = [];
  for (const strategy of strategies) {
    const symbols = strategy.config.symbols;
    if (Array.isArray(symbols) && symbols.length > 0 && !symbols.includes(symbol)) continue;
    if (strategy.kind === 'ema-cross') {
      for (const key of ['fastPeriod', 'slowPeriod']) {
        const period = strategy.config[key];
        if (typeof period !== 'number') continue;
        overlays.push({
          label: `EMA${period} · ${strategy.strategyId}`,
          color: OVERLAY_COLOURS[overlays.length % OVERLAY_COLOURS.length]!,
          points: emaSeries(candles, period),
        });
      }
    }
  }
  return overlays;
}

/** Equity points as a chart takes them: one per second (the last of that second), ascending. */
export function equityBySecond(points: readonly { readonly atMs: number; readonly equityPaise: number }[]): { timeSec: number; equityPaise: number }[] {
  const out: { timeSec: number; equityPaise: number }[] = [];
  for (const point of points) {
    const timeSec = Math.floor(point.atMs / 1000);
    const last = out.at(-1);
    if (last && last.timeSec >= timeSec) out[out.length - 1] = { timeSec: last.timeSec, equityPaise: point.equityPaise };
    else out.push({ timeSec, equityPaise: point.equityPaise });
  }
  return out;
}
