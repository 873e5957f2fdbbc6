import { Observable, asapScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

/** Options of {@link batchByTurn}. */
export interface BatchByTurnOptions {
  /** When a batch is cut. Default `asapScheduler`: after the current synchronous work. */
  readonly scheduler?: SchedulerLike;
  /** Emit early once this many items are buffered. Default unlimited. */
  readonly maxBatchSize?: number;
}

/**
 * Coalesces single items into arrays, one per turn: the first item of a turn schedules a
 * flush on the scheduler, and every item that arrives before it runs joins the batch.
 * Items keep their order; nothing is dropped. On completion the pending batch is emitted
 * at once; on error it is dropped; unsubscribing cancels the pending flush.
 */
export function batchByTurn<T>(options: BatchByTurnOptions = {}): OperatorFunction<T, T[]> {
  const scheduler = options.scheduler ?? asapScheduler;
  const maxBatchSize = options.maxBatchSize ?? Number.POSITIVE_INFINITY;
  if (!(maxBatchSize >= 1)) throw new RangeError(`maxBatchSize must be ≥ 1, got ${maxBatchSize}`);
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let flush: Subscription | undefined;
      const emit = (): void => {
        flush?.unsubscribe();
        flush = undefined;
        const out = batch;
        batch = [];
        if (out.length > 0) subscriber.next(out);
      };
      const subscription = source.subscribe({
        next: (item) => {
          batch.push(item);
          if (batch.length >= maxBatchSize) emit();
          else
            flush ??= scheduler.schedule(() => {
              flush = undefined;
              emit();
            });
        },
        error: (error: unknown) => {
          batch = [];
          subscriber.error(error);
        },
        complete: () => {
          emit();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        flush?.unsubscribe();
        batch = [];
      };
    });
}
