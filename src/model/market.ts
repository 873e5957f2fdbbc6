import type { Paise } from './money.js';

/** One level of the order book. */
export interface DepthLevel {
  readonly pricePaise: Paise;
  readonly quantity: number;
  readonly orders: number;
}

/**
 * A trade print for one instrument, normalised from any source (Kite ticker, simulator,
 * replay). Prices in paise; `volume` is the exchange's cumulative volume for the day.
 */
export interface Tick {
  readonly type: 'tick';
  readonly symbol: string;
  readonly token: number;
  /** Last traded price. */
  readonly ltpPaise: Paise;
  /** Quantity of the last trade. */
  readonly lastQuantity: number;
  /** Cumulative traded volume for the session. */
  readonly volume: number;
  /** Best bid/ask when the source has them. */
  readonly bidPaise?: Paise;
  readonly askPaise?: Paise;
  readonly bidQuantity?: number;
  readonly askQuantity?: number;
  /** Five levels each side in full mode. */
  readonly depth?: { readonly buy: readonly DepthLevel[]; readonly sell: readonly DepthLevel[] };
  /** Exchange timestamp, epoch milliseconds. */
  readonly exchangeTimeMs: number;
  /**
   * Local monotonic receive time (performance.now() in ms, microsecond resolution), set by
   * the source that took the tick in; used to measure tick-to-order latency. Not persisted.
   */
  readonly receivedMonoMs?: number;
}

/** Bar intervals Troupe aggregates; the number is the length in seconds. */
export const BAR_INTERVALS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86_400 } as const;
export type BarInterval = keyof typeof BAR_INTERVALS;

/** An OHLCV bar. `startMs` is the bar's open time (epoch ms); a bar covers [start, start+len). */
export interface Bar {
  readonly type: 'bar';
  readonly symbol: string;
  readonly interval: BarInterval;
  readonly startMs: number;
  readonly openPaise: Paise;
  readonly highPaise: Paise;
  readonly lowPaise: Paise;
  readonly closePaise: Paise;
  /** Traded quantity inside the bar. */
  readonly volume: number;
  /** Number of ticks that built the bar (0 for bars read from a file). */
  readonly tickCount: number;
}

/** Market data as actors receive it: ticks and closed bars. */
export type MarketData = Tick | Bar;
