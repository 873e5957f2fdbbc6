import { Subject, Subscription, connectable, type Observable, type SchedulerLike } from 'rxjs';
import type { Instrument } from '../model/instrument.js';
import type { Bar, BarInterval, Tick } from '../model/market.js';
import { aggregateBars } from './operators/aggregate-bars.js';
import { routeBySymbol } from './operators/route-by-symbol.js';
import { validateTicks, type TickRejection, type TickValidationStats } from './operators/validate-ticks.js';

/** Options of {@link marketDataPipeline}. */
export interface MarketDataPipelineOptions {
  /** Raw candidate tick batches from any source (synthetic, replay, Kite after `normaliseKiteTick`). */
  readonly source$: Observable<readonly unknown[]>;
  readonly instruments: readonly Instrument[];
  /** Every dropped candidate, with the reason. */
  readonly onRejected: (rejection: TickRejection) => void;
  /** Valid ticks of one symbol from one batch, in order (offer them to the symbol's actor). */
  readonly onTicks: (symbol: string, ticks: readonly Tick[]) => void;
  /** Closed bars of every interval in `barIntervals`. */
  readonly onBars?: (bars: readonly Bar[]) => void;
  /** Intervals to aggregate; default none. */
  readonly barIntervals?: readonly BarInterval[];
  /** Time-based bar closing for live feeds (see `aggregateBars`); leave off for replays. */
  readonly flushAfterMs?: number;
  /** Scheduler of the time-based bar flush. */
  readonly scheduler?: SchedulerLike;
  /** Validation counters to update. */
  readonly stats?: TickValidationStats;
  /** Timestamp tolerance of validation (default 1,000 ms). */
  readonly timestampToleranceMs?: number;
  /** A callback threw or the source failed; the pipeline has stopped. Default: rethrown asynchronously by RxJS. */
  readonly onError?: (error: unknown) => void;
  /** The source completed and the last bars were delivered; the subscription is closed. */
  readonly onComplete?: () => void;
}

/**
 * Wires market data: source → validate → per symbol → `onTicks`, and the validated ticks →
 * bars per interval → `onBars`. Validation runs once per batch, whatever the number of
 * consumers. For each batch, ticks are delivered before the bars it closed. On completion
 * of the source, the open bars are delivered. Unsubscribe the result to stop.
 */
export function marketDataPipeline(options: MarketDataPipelineOptions): Subscription {
  const validated$ = connectable(
    options.source$.pipe(
      validateTicks({
        instruments: options.instruments,
        onRejected: options.onRejected,
        ...(options.stats ? { stats: options.stats } : {}),
        ...(options.timestampToleranceMs === undefined ? {} : { timestampToleranceMs: options.timestampToleranceMs }),
      }),
    ),
    { connector: () => new Subject<Tick[]>(), resetOnDisconnect: false },
  );
  const subscription = new Subscription();
  let pending = 1 + (options.onBars ? (options.barIntervals?.length ?? 0) : 0);
  const fail = (error: unknown): void => {
    if (subscription.closed) return;
    subscription.unsubscribe();
    if (options.onError) options.onError(error);
    else throw error;
  };
  // Callbacks run inside try/catch: RxJS does not route an error thrown by a `next` handler
  // to the same subscriber's `error`, it would only report it as unhandled.
  const observer = <T>(onValue: (value: T) => void) => ({
    next: (value: T) => {
      try {
        onValue(value);
      } catch (error: unknown) {
        fail(error);
      }
    },
    error: fail,
    complete: () => {
      pending -= 1;
      if (pending > 0) return;
      subscription.unsubscribe();
      options.onComplete?.();
    },
  });

  subscription.add(
    validated$.pipe(routeBySymbol()).subscribe(
      observer((groups) => {
        for (const group of groups) options.onTicks(group.symbol, group.items);
      }),
    ),
  );
  const onBars = options.onBars;
  if (onBars) {
    for (const interval of options.barIntervals ?? []) {
      const barOptions = {
        ...(options.flushAfterMs === undefined ? {} : { flushAfterMs: options.flushAfterMs }),
        ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      };
      subscription.add(validated$.pipe(aggregateBars(interval, barOptions)).subscribe(observer((bars: Bar[]) => onBars(bars))));
    }
  }
  subscription.add(validated$.connect());
  return subscription;
}
