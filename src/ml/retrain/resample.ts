/**
 * Bars of a coarser interval from 1-minute bars, bucketed as the live aggregator buckets ticks
 * (`barStartMs`): open of the first, highest high, lowest low, close of the last, summed
 * volume and tick count. The retraining reads `bars_1m` from the time-series store and
 * builds the model's interval with this.
 */
import type { Bar, BarInterval } from '../../model/market.js';
import { barStartMs } from '../../streams/operators/aggregate-bars.js';

/** The stored 1-minute bars of a symbol from `fromMs` to `toMs` (the app reads `bars_1m` with `readBars` of `src/persistence/timeseries/bars.ts`). */
export type MinuteBarReader = (symbol: string, fromMs: number, toMs: number) => Promise<Bar[]>;

/** `bars` (one symbol, 1-minute, in time order) as bars of `interval`. */
export function resampleBars(bars: readonly Bar[], interval: BarInterval): Bar[] {
  if (interval === '1m') return [...bars];
  const out: Bar[] = [];
  let current: { -readonly [K in keyof Bar]: Bar[K] } | undefined;
  let lastStartMs = -Infinity;
  for (const bar of bars) {
    if (bar.interval !== '1m') throw new RangeError(`resampleBars takes 1-minute bars, got a ${bar.interval} bar of ${bar.symbol}`);
    if (!(bar.startMs > lastStartMs)) throw new RangeError(`${bar.symbol}: 1-minute bars out of order at ${new Date(bar.startMs).toISOString()}`);
    lastStartMs = bar.startMs;
    const startMs = barStartMs(interval, bar.startMs);
    if (current !== undefined && current.startMs === startMs) {
      current.highPaise = Math.max(current.highPaise, bar.highPaise);
      current.lowPaise = Math.min(current.lowPaise, bar.lowPaise);
      current.closePaise = bar.closePaise;
      current.volume += bar.volume;
      current.tickCount += bar.tickCount;
      continue;
    }
    if (current !== undefined) out.push(current);
    current = { ...bar, interval, startMs };
  }
  if (current !== undefined) out.push(current);
  return out;
}
