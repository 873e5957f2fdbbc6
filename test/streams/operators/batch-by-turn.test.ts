import { asapScheduler, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchByTurn } from '../../../src/streams/operators/batch-by-turn.js';
import { testScheduler } from '../fixtures.js';

describe('batchByTurn', () => {
  it('empty: completes without emitting', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('|').pipe(batchByTurn())).toBe('|');
    });
  });

  it('single and many: items of the same frame make one batch, in order', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-(bcd)-e', { a: 1, b: 2, c: 3, d: 4, e: 5 });
      expectObservable(source.pipe(batchByTurn())).toBe('x-y-----z', { x: [1], y: [2, 3, 4], z: [5] });
    });
  });

  it('emits the pending batch on completion', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('(ab|)').pipe(batchByTurn())).toBe('(x|)', { x: ['a', 'b'] });
    });
  });

  it('cuts a batch early at maxBatchSize', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('(abc)').pipe(batchByTurn({ maxBatchSize: 2 }))).toBe('(xy)', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('error: drops the pending batch and errors', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-(b#)').pipe(batchByTurn())).toBe('x-#', { x: ['a'] });
    });
  });

  it('never-ending and early unsubscribe: a pending flush is cancelled', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-');
      expectObservable(source.pipe(batchByTurn()), '^--!').toBe('-x-', { x: ['a'] });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('batches per event-loop turn with the real asapScheduler', async () => {
    const source = new Subject<number>();
    const batches: number[][] = [];
    const subscription = source.pipe(batchByTurn({ scheduler: asapScheduler })).subscribe((batch) => batches.push(batch));
    source.next(1);
    source.next(2);
    expect(batches).toEqual([]);
    await Promise.resolve();
    await new Promise<void>((resolve) => setImmediate(resolve));
    source.next(3);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2], [3]]);
    subscription.unsubscribe();
  });
});
