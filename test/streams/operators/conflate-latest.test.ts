import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { conflateLatest, createConflationStats } from '../../../src/streams/operators/conflate-latest.js';
import { testScheduler } from '../fixtures.js';

interface Quote {
  readonly symbol: string;
  readonly price: number;
}
const q = (symbol: string, price: number): Quote => ({ symbol, price });
const bySymbol = (quote: Quote): string => quote.symbol;

describe('conflateLatest', () => {
  it('empty: completes without emitting', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly Quote[]>('|').pipe(conflateLatest(bySymbol))).toBe('|');
    });
  });

  it('single: one item goes through on the next flush', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly Quote[]>('a-', { a: [q('A', 1)] }).pipe(conflateLatest(bySymbol))).toBe('x-', { x: [q('A', 1)] });
    });
  });

  it('many: keeps only the latest per key between flushes, in first-arrival order, and counts the rest', () => {
    const stats = createConflationStats();
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Quote[]>('(ab)-c', {
        a: [q('A', 1), q('B', 1), q('A', 2)],
        b: [q('C', 1), q('B', 2)],
        c: [q('A', 3)],
      });
      expectObservable(source.pipe(conflateLatest(bySymbol, { stats }))).toBe('x----y', {
        x: [q('A', 2), q('B', 2), q('C', 1)],
        y: [q('A', 3)],
      });
    });
    expect(stats).toEqual({ received: 6, conflated: 2, emitted: 4 });
  });

  it('maxPerFlush: the rest waits for the following flush', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Quote[]>('a', { a: [q('A', 1), q('B', 1), q('C', 1)] });
      expectObservable(source.pipe(conflateLatest(bySymbol, { maxPerFlush: 2 }))).toBe('(xy)', { x: [q('A', 1), q('B', 1)], y: [q('C', 1)] });
    });
  });

  it('flushes on a slower scheduler: the consumer sees one batch per flush period', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // A busy consumer modelled as a 3 ms delayed flush.
      const delayed = testSchedulerDelay(3);
      const source = cold<readonly Quote[]>('ab-c----d', { a: [q('A', 1)], b: [q('A', 2)], c: [q('A', 3)], d: [q('B', 1)] });
      expectObservable(source.pipe(conflateLatest(bySymbol, { scheduler: delayed }))).toBe('---x-------y', { x: [q('A', 3)], y: [q('B', 1)] });
    });
  });

  it('completion emits the buffer at once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly Quote[]>('(a|)', { a: [q('A', 1), q('A', 2)] }).pipe(conflateLatest(bySymbol))).toBe('(x|)', { x: [q('A', 2)] });
    });
  });

  it('error: drops the buffer and errors', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly Quote[]>('a-(b#)', { a: [q('A', 1)], b: [q('B', 1)] }).pipe(conflateLatest(bySymbol))).toBe('x-#', { x: [q('A', 1)] });
    });
  });

  it('never-ending and early unsubscribe: cancels the pending flush', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<readonly Quote[]>('-a-b-', { a: [q('A', 1)], b: [q('A', 2)] });
      expectObservable(source.pipe(conflateLatest(bySymbol)), '^--!').toBe('-x-', { x: [q('A', 1)] });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('keyOf throws: the stream errors', () => {
    const boom = new Error('kaboom');
    testScheduler().run(({ cold, expectObservable }) => {
      const keyOf = (quote: Quote): string => {
        if (quote.price < 0) throw boom;
        return quote.symbol;
      };
      expectObservable(cold<readonly Quote[]>('a-b', { a: [q('A', 1)], b: [q('A', -1)] }).pipe(conflateLatest(keyOf))).toBe('x-#', { x: [q('A', 1)] }, boom);
    });
  });
});

/** asyncScheduler (virtual inside run()) with a fixed delay for every scheduled action. */
function testSchedulerDelay(delayMs: number): SchedulerLike {
  return {
    now: () => asyncScheduler.now(),
    schedule: ((work: () => void) => asyncScheduler.schedule(work, delayMs)) as SchedulerLike['schedule'],
  };
}
