import { describe, expect, it } from 'vitest';
import { emptyDay, foldTicks } from '../../../src/actors/symbol/symbol.actor.js';
import { tick } from '../../support/builders.js';

describe("a symbol's day", () => {
  // prices from a fixed sequence, not the code under test: the oracle is a plain max/min over them
  const prices = Array.from({ length: 200 }, (_, i) => 100_000 + ((i * 7919) % 1013) - 500);
  const ticks = prices.map((ltpPaise, i) => tick({ symbol: 'TCS', ltpPaise, volume: 1_000 + i, exchangeTimeMs: 1_000 * i }));

  it('folds open, high, low, count, last price, volume and time, the same in one batch or several', () => {
    const whole = emptyDay('TCS');
    expect(foldTicks(whole, ticks)).toBe(ticks[199]);
    const split = emptyDay('TCS');
    const cuts = [0, 1, 57, 140, 200];
    for (let i = 0; i + 1 < cuts.length; i += 1) foldTicks(split, ticks.slice(cuts[i], cuts[i + 1]));
    const expected = {
      symbol: 'TCS',
      openPaise: prices[0],
      highPaise: Math.max(...prices),
      lowPaise: Math.min(...prices),
      lastPricePaise: prices[199],
      volume: 1_199,
      ticks: 200,
      lastExchangeTimeMs: 199_000,
      barsClosed: 0,
    };
    expect(whole).toEqual(expected);
    expect(split).toEqual(expected);
  });

  it('leaves the day as it was for an empty batch', () => {
    const day = emptyDay('TCS');
    expect(foldTicks(day, [])).toBeUndefined();
    expect(day).toEqual(emptyDay('TCS'));
  });
});
