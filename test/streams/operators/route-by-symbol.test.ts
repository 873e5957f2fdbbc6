import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../src/model/market.js';
import { routeBySymbol, SymbolGrouper } from '../../../src/streams/operators/route-by-symbol.js';
import { testScheduler, tick } from '../fixtures.js';

const a1 = tick({ symbol: 'INFY', exchangeTimeMs: 1 });
const b1 = tick({ symbol: 'TCS', exchangeTimeMs: 2 });
const a2 = tick({ symbol: 'INFY', exchangeTimeMs: 3 });
const c1 = tick({ symbol: 'ITC', exchangeTimeMs: 4 });

describe('SymbolGrouper', () => {
  it('makes one group per symbol in order of first appearance, keeping tick order', () => {
    expect(new SymbolGrouper<Tick>().group([a1, b1, a2, c1])).toEqual([
      { symbol: 'INFY', items: [a1, a2] },
      { symbol: 'TCS', items: [b1] },
      { symbol: 'ITC', items: [c1] },
    ]);
  });
});

describe('routeBySymbol', () => {
  it('empty: completes without emitting; empty batches emit nothing', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly Tick[]>('|').pipe(routeBySymbol())).toBe('|');
      expectObservable(cold<readonly Tick[]>('a|', { a: [] }).pipe(routeBySymbol())).toBe('-|');
    });
  });

  it('single and many: one emission of groups per input batch', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a-b|', { a: [a1], b: [b1, a2, c1, a1] });
      expectObservable(source.pipe(routeBySymbol())).toBe('a-b|', {
        a: [{ symbol: 'INFY', items: [a1] }],
        b: [
          { symbol: 'TCS', items: [b1] },
          { symbol: 'INFY', items: [a2, a1] },
          { symbol: 'ITC', items: [c1] },
        ],
      });
    });
  });

  it('error: passes the error through', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly Tick[]>('a#', { a: [a1] }).pipe(routeBySymbol())).toBe('a#', { a: [{ symbol: 'INFY', items: [a1] }] });
    });
  });

  it('never-ending and early unsubscribe', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<readonly Tick[]>('-a-a-a-', { a: [a1] });
      expectObservable(source.pipe(routeBySymbol()), '^--!').toBe('-a-', { a: [{ symbol: 'INFY', items: [a1] }] });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
