import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { BAR_INTERVALS, type Bar, type BarInterval, type Tick } from '../../model/market.js';
import type { Paise } from '../../model/money.js';
import { IST_OFFSET_MS, MINUTE_MS, NSE_CLOSE_MINUTE, NSE_OPEN_MINUTE, istDayStartMs } from '../../model/time.js';

const HOUR_MS = 60 * MINUTE_MS;
/** 1h buckets start at 09:15 IST, 10:15, …, 15:15 (NSE convention; 15:15 holds the last 15 minutes). */
const HOUR_ANCHOR_MS = IST_OFFSET_MS - (NSE_OPEN_MINUTE % 60) * MINUTE_MS;

/**
 * Start of the bar bucket holding `timeMs`:
 * - `1m`, `5m`, `15m`: epoch-aligned, which is also aligned to IST (the +05:30 offset is a
 *   multiple of 15 minutes), so 09:15 starts a bucket;
 * - `1h`: IST hours offset by 15 minutes, so buckets start at 09:15, 10:15, …, 15:15;
 * - `1d`: IST midnight, as Kite's daily candles are stamped (`00:00:00+05:30`).
 */
export function barStartMs(interval: BarInterval, timeMs: number): number {
  switch (interval) {
    case '1d':
      return istDayStartMs(timeMs);
    case '1h':
      return Math.floor((timeMs + HOUR_ANCHOR_MS) / HOUR_MS) * HOUR_MS - HOUR_ANCHOR_MS;
    case '1m':
    case '5m':
    case '15m': {
      const lengthMs = BAR_INTERVALS[interval] * 1000;
      return Math.floor(timeMs / lengthMs) * lengthMs;
    }
  }
}

/**
 * When a bar is complete by the clock: its bucket's end, or the session close (15:30 IST)
 * when that comes first (the 1h bar from 15:15 and the daily bar close at 15:30).
 */
export function barCloseMs(interval: BarInterval, startMs: number): number {
  const endMs = interval === '1d' ? startMs + 86_400_000 : startMs + BAR_INTERVALS[interval] * 1000;
  const sessionCloseMs = istDayStartMs(startMs) + NSE_CLOSE_MINUTE * MINUTE_MS;
  return startMs < sessionCloseMs && sessionCloseMs < endMs ? sessionCloseMs : endMs;
}

/**
 * Intervals whose bar closes on a tick stamped at its final millisecond (close − 1 ms), without
 * waiting for a tick of the next bar: daily bars, whose final millisecond is the session's
 * last (15:29:59.999 IST). A replay stamps a bar's last tick there (`ticksFromBar`), so a
 * decision on day t's close is taken at day t's close and its order meets day t+1's opening
 * tick: the fill model "decision on bar t's close, fill at bar t+1's open" (README, Backtests).
 * Intraday bars still close on the next bar's first tick.
 */
export const CLOSE_ON_FINAL_MS: ReadonlySet<BarInterval> = new Set<BarInterval>(['1d']);

/** Options of {@link aggregateBars}. */
export interface AggregateBarsOptions {
  /**
   * Close bars by time too: once the market clock passes a bar's close by this much, the
   * bar is emitted even if its symbol is idle. The market clock is the latest exchange time
   * seen on any symbol, advanced by scheduler time while no ticks arrive. Default: off
   * (a bar closes only when its symbol trades in a later bucket, or the source completes).
   */
  readonly flushAfterMs?: number;
  /** Scheduler for the time-based flush. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

interface OpenBar {
  readonly symbol: string;
  /** Bucket start of the open bar, or NaN when none is open. */
  startMs: number;
  closeMs: number;
  open: Paise;
  high: Paise;
  low: Paise;
  close: Paise;
  volume: number;
  tickCount: number;
  /** Latest cumulative volume seen (−1: none yet). */
  baselineVolume: number;
  /** Ticks for buckets before this are late and ignored. */
  closedThroughMs: number;
}

/**
 * Aggregates tick batches into closed OHLCV bars of one interval (see {@link barStartMs}
 * for alignment). A symbol's bar closes when that symbol trades in a later bucket, on a tick
 * at its final millisecond for the intervals of {@link CLOSE_ON_FINAL_MS}, by time with `flushAfterMs`, and when the source completes (every open bar is emitted then).
 * Each input batch yields at most one emission: the bars it closed, in closing order.
 * Volume is the rise in cumulative volume; the first tick of a symbol, a tick whose
 * cumulative volume fell (a new session) or is 0 (the source has none) counts its
 * `lastQuantity` instead. A tick for a bucket already closed is ignored.
 */
export function aggregateBars(interval: BarInterval, options: AggregateBarsOptions = {}): OperatorFunction<readonly Tick[], Bar[]> {
  const flushAfterMs = options.flushAfterMs;
  if (flushAfterMs !== undefined && !(flushAfterMs >= 0)) throw new RangeError(`flushAfterMs must be ≥ 0, got ${flushAfterMs}`);
  const scheduler = options.scheduler ?? asyncScheduler;
  const closeOnFinalMs = CLOSE_ON_FINAL_MS.has(interval);
  return (source) =>
    new Observable<Bar[]>((subscriber) => {
      const states = new Map<string, OpenBar>();
      let watermarkMs = Number.NEGATIVE_INFINITY;
      let watermarkAtMs = 0;
      let timer: Subscription | undefined;

      const emit = (bar: OpenBar, into: Bar[]): void => {
        into.push({
          type: 'bar',
          symbol: bar.symbol,
          interval,
          startMs: bar.startMs,
          openPaise: bar.open,
          highPaise: bar.high,
          lowPaise: bar.low,
          closePaise: bar.close,
          volume: bar.volume,
          tickCount: bar.tickCount,
        });
        bar.closedThroughMs = bar.closeMs;
        bar.startMs = Number.NaN;
      };

      const flushDue = (nowMs: number, into: Bar[]): void => {
        if (flushAfterMs === undefined) return;
        for (const bar of states.values()) {
          if (!Number.isNaN(bar.startMs) && bar.closeMs + flushAfterMs <= nowMs) emit(bar, into);
        }
      };

      const reschedule = (): void => {
        if (flushAfterMs === undefined) return;
        timer?.unsubscribe();
        timer = undefined;
        let earliest = Number.POSITIVE_INFINITY;
        for (const bar of states.values()) {
          if (!Number.isNaN(bar.startMs) && bar.closeMs < earliest) earliest = bar.closeMs;
        }
        if (earliest === Number.POSITIVE_INFINITY) return;
        const clockMs = watermarkMs + (scheduler.now() - watermarkAtMs);
        const delayMs = Math.max(0, earliest + flushAfterMs - clockMs);
        timer = scheduler.schedule(() => {
          timer = undefined;
          const closed: Bar[] = [];
          flushDue(watermarkMs + (scheduler.now() - watermarkAtMs), closed);
          if (closed.length > 0) subscriber.next(closed);
          if (!subscriber.closed) reschedule();
        }, delayMs);
      };

      const onBatch = (batch: readonly Tick[]): void => {
        const closed: Bar[] = [];
        let latestMs = watermarkMs;
        for (const tick of batch) {
          const timeMs = tick.exchangeTimeMs;
          if (timeMs > latestMs) latestMs = timeMs;
          let bar = states.get(tick.symbol);
          if (bar === undefined) {
            bar = {
              symbol: tick.symbol,
              startMs: Number.NaN,
              closeMs: 0,
              open: 0,
              high: 0,
              low: 0,
              close: 0,
              volume: 0,
              tickCount: 0,
              baselineVolume: -1,
              closedThroughMs: Number.NEGATIVE_INFINITY,
            };
            states.set(tick.symbol, bar);
          }
          const bucketMs = barStartMs(interval, timeMs);
          if (bucketMs < bar.closedThroughMs || bucketMs < bar.startMs) continue; // late
          if (bucketMs > bar.startMs) emit(bar, closed);
          const cumulative = tick.volume;
          const traded = cumulative > 0 && bar.baselineVolume >= 0 && cumulative >= bar.baselineVolume ? cumulative - bar.baselineVolume : tick.lastQuantity;
          if (cumulative > 0) bar.baselineVolume = cumulative;
          const price = tick.ltpPaise;
          if (Number.isNaN(bar.startMs)) {
            bar.startMs = bucketMs;
            bar.closeMs = barCloseMs(interval, bucketMs);
            bar.open = price;
            bar.high = price;
            bar.low = price;
            bar.volume = 0;
            bar.tickCount = 0;
          } else {
            if (price > bar.high) bar.high = price;
            if (price < bar.low) bar.low = price;
          }
          bar.close = price;
          bar.volume += traded;
          bar.tickCount += 1;
          if (closeOnFinalMs && timeMs >= bar.closeMs - 1) emit(bar, closed);
        }
        if (latestMs > watermarkMs) {
          watermarkMs = latestMs;
          watermarkAtMs = scheduler.now();
        }
        flushDue(watermarkMs, closed);
        if (closed.length > 0) subscriber.next(closed);
        if (!subscriber.closed) reschedule();
      };

      const subscription = source.subscribe({
        next: (batch) => {
          try {
            onBatch(batch);
          } catch (error: unknown) {
            subscriber.error(error);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          timer?.unsubscribe();
          const remaining: Bar[] = [];
          for (const bar of states.values()) if (!Number.isNaN(bar.startMs)) emit(bar, remaining);
          if (remaining.length > 0) subscriber.next(remaining);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
