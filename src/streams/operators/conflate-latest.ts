import { Observable, asapScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

/** Counters of a {@link conflateLatest} operator; pass one in to read them from outside. */
export interface ConflationStats {
  /** Items received. */
  received: number;
  /** Items replaced by a later item with the same key before they were emitted. */
  conflated: number;
  /** Items emitted. */
  emitted: number;
}

/** Zeroed {@link ConflationStats}. */
export function createConflationStats(): ConflationStats {
  return { received: 0, conflated: 0, emitted: 0 };
}

/** Options of {@link conflateLatest}. */
export interface ConflateLatestOptions {
  /** Largest emitted batch; the rest waits for the next flush. Default unlimited. */
  readonly maxPerFlush?: number;
  /** When flushes run. Default `asapScheduler`: once per turn, after the current synchronous work. */
  readonly scheduler?: SchedulerLike;
  /** Counters to update. */
  readonly stats?: ConflationStats;
}

/**
 * Latest-wins conflation for slow consumers. Incoming batches are buffered per key; an item
 * replaces a buffered item with the same key (it keeps the older item's place in the order)
 * and is counted as conflated. A flush is scheduled on `scheduler` when the buffer becomes
 * non-empty and emits the buffer as one batch (at most `maxPerFlush`, scheduling another
 * flush for the rest). On completion the buffer is emitted at once; on error it is dropped.
 * A throwing `keyOf` errors the stream.
 */
export function conflateLatest<T, K>(keyOf: (item: T) => K, options: ConflateLatestOptions = {}): OperatorFunction<readonly T[], T[]> {
  const maxPerFlush = options.maxPerFlush ?? Number.POSITIVE_INFINITY;
  if (!(maxPerFlush >= 1)) throw new RangeError(`maxPerFlush must be ≥ 1, got ${maxPerFlush}`);
  const scheduler = options.scheduler ?? asapScheduler;
  return (source) =>
    new Observable<T[]>((subscriber) => {
      const stats = options.stats ?? createConflationStats();
      let buffer = new Map<K, T>();
      let flush: Subscription | undefined;

      const take = (limit: number): T[] => {
        const out: T[] = [];
        if (buffer.size <= limit) {
          for (const item of buffer.values()) out.push(item);
          buffer = new Map();
        } else {
          for (const [key, item] of buffer) {
            if (out.length >= limit) break;
            out.push(item);
            buffer.delete(key);
          }
        }
        stats.emitted += out.length;
        return out;
      };

      const scheduleFlush = (): void => {
        if (flush !== undefined || buffer.size === 0) return;
        flush = scheduler.schedule(() => {
          flush = undefined;
          const out = take(maxPerFlush);
          if (out.length > 0) subscriber.next(out);
          if (!subscriber.closed) scheduleFlush();
        });
      };

      const subscription = source.subscribe({
        next: (batch) => {
          try {
            for (const item of batch) {
              const key = keyOf(item);
              stats.received += 1;
              if (buffer.has(key)) stats.conflated += 1;
              buffer.set(key, item);
            }
          } catch (error: unknown) {
            subscriber.error(error);
            return;
          }
          scheduleFlush();
        },
        error: (error: unknown) => {
          buffer.clear();
          subscriber.error(error);
        },
        complete: () => {
          flush?.unsubscribe();
          flush = undefined;
          while (buffer.size > 0 && !subscriber.closed) subscriber.next(take(maxPerFlush));
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        flush?.unsubscribe();
        buffer.clear();
      };
    });
}
