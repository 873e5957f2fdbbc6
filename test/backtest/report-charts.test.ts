import { describe, expect, it } from 'vitest';
import { niceTicks, priceChart } from '../../src/backtest/report.js';
import type { Bar } from '../../src/model/market.js';

describe('report charts', () => {
  it('puts axis ticks on round values inside the range', () => {
    // a span of 4,465 in about 4 steps: steps of 2,000 (1,000 would give 5, 500 nine)
    expect(niceTicks(9_996_534.53, 10_001_000, 4)).toEqual([9_998_000, 10_000_000]);
    expect(niceTicks(9_996_534.53, 10_001_000, 8)).toEqual([9_997_000, 9_998_000, 9_999_000, 10_000_000, 10_001_000]);
    const small = niceTicks(-0.37, 0, 4);
    expect(small).toHaveLength(4);
    small.forEach((tick, index) => expect(tick).toBeCloseTo([-0.3, -0.2, -0.1, 0][index]!, 12));
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it('draws one marker per point and side, whatever the number of fills there', () => {
    const start = Date.UTC(2026, 4, 18, 3, 45);
    const bars: Bar[] = Array.from({ length: 10 }, (_, index) => ({
      type: 'bar',
      symbol: 'INFY',
      interval: '5m',
      startMs: start + index * 300_000,
      openPaise: 100_000,
      highPaise: 100_500,
      lowPaise: 99_500,
      closePaise: 100_000 + index * 100,
      volume: 1,
      tickCount: 1,
    }));
    const fills = [
      { atMs: start + 10_000, side: 'BUY', quantity: 5 },
      { atMs: start + 20_000, side: 'BUY', quantity: 7 },
      { atMs: start + 30_000, side: 'SELL', quantity: 12 },
      { atMs: start + 2 * 300_000, side: 'SELL', quantity: 1 },
    ];
    const svg = priceChart('INFY', bars, fills);
    expect(svg.match(/<path /g)).toHaveLength(3);
    expect(svg).toContain('Bought 12 in 2 fills');
    expect(svg).toContain('Sold 12 in 1 fill<');
  });
});
