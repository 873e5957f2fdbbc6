/**
 * Coarser bars from finer ones, as the desk's charts ask for them (`GET /api/v1/bars`). Buckets
 * follow the NSE session as Kite's candles do: 5 m and 15 m on the clock (09:15 IST is a quarter
 * hour), 1 h from 09:15 IST (09:15, 10:15 … 15:15), 1 d per IST calendar day. Open of the first
 * bar, close of the last, extremes of high and low, summed volume and tick count. Pure.
 */
import { BAR_INTERVALS, type Bar, type BarInterval } from './market.js';
import { IST_OFFSET_MS } from './time.js';

/** Where a bucket of `interval` starts, for a bar starting at `startMs`. */
export function bucketStartMs(startMs: number, interval: BarInterval): number {
  const sizeMs = BAR_INTERVALS[interval] * 1000;
  // buckets aligned to 09:15 IST: 03:45 UTC, i.e. an offset of 45 min from the UTC hour (0 for 1 m, 5 m, 15 m)
  const offsetMs = interval === '1d' ? -IST_OFFSET_MS : interval === '1h' ? 45 * 60_000 : 0;
  return Math.floor((startMs - offsetMs) / sizeMs) * sizeMs + offsetMs;
}

/**
 * Folds bars (one symbol, oldest first, each finer than `interval`) into bars of `interval`.
 * Throws on bars of several symbols or out of order: the caller reads one symbol's series.
 */
export function aggregateBars(bars: readonly Bar[], interval: BarInterval): Bar[] {
  const out: Bar[] = [];
  let current: Bar | undefined;
  let previousStartMs = -Infinity;
  for (const bar of bars) {
    if (bar.startMs <= previousStartMs) throw new RangeError(`bars out of order at ${bar.startMs}`);
    if (BAR_INTERVALS[bar.interval] > BAR_INTERVALS[interval]) throw new RangeError(`a ${bar.interval} bar cannot make ${interval} bars`);
    previousStartMs = bar.startMs;
    const startMs = bucketStartMs(bar.startMs, interval);
    if (current !== undefined && current.symbol !== bar.symbol) throw new RangeError(`bars of ${current.symbol} and ${bar.symbol} mixed`);
    if (current === undefined || current.startMs !== startMs) {
      if (current) out.push(current);
      current = { ...bar, interval, startMs };
      continue;
    }
    current = {
      ...current,
      highPaise: Math.max(current.highPaise, bar.highPaise),
      lowPaise: Math.min(current.lowPaise, bar.lowPaise),
      closePaise: bar.closePaise,
      volume: current.volume + bar.volume,
      tickCount: current.tickCount + bar.tickCount,
    };
  }
  if (current) out.push(current);
  return out;
}
