import { Observable, type SchedulerLike } from 'rxjs';

/**
 * Turns a pull-based batch producer into an Observable that emits one batch per turn of
 * the event loop: each batch is produced, emitted, and the next is scheduled with
 * `setImmediate` (or on `scheduler` when one is given, e.g. a TestScheduler), so consumers
 * and timers run between batches. `produce` returns `undefined` when the source is done.
 * Unsubscribing cancels the next turn; nothing more is produced.
 */
export function pumpBatches<T>(produce: () => T | undefined, scheduler?: SchedulerLike): Observable<T> {
  return new Observable<T>((subscriber) => {
    let cancel: (() => void) | undefined;
    const step = (): void => {
      cancel = undefined;
      let batch: T | undefined;
      try {
        batch = produce();
      } catch (error: unknown) {
        subscriber.error(error);
        return;
      }
      if (batch === undefined) {
        subscriber.complete();
        return;
      }
      subscriber.next(batch);
      if (!subscriber.closed) cancel = schedule(step);
    };
    const schedule = (work: () => void): (() => void) => {
      if (scheduler) {
        const subscription = scheduler.schedule(work);
        return () => subscription.unsubscribe();
      }
      const handle = setImmediate(work);
      return () => clearImmediate(handle);
    };
    cancel = schedule(step);
    return () => cancel?.();
  });
}
