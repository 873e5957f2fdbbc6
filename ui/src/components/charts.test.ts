import { describe, expect, it } from 'vitest';
import { addToCandles } from '../lib/live-store.js';
import { candleChange, candleMarkers } from './charts.js';

const IST = 19_800;
const candle = (timeSec: number) => ({ timeSec, openPaise: 100, highPaise: 110, lowPaise: 90, closePaise: 105, volume: 5 });

describe('candleMarkers', () => {
  it('marks signals as dots and fills as arrows on their minute candle (IST axis), skipping minutes without a candle', () => {
    const candles = [candle(600), candle(660)];
    const markers = candleMarkers(
      candles,
      [{ atMs: 665_000, side: 'SELL', quantity: 7, pricePaise: 104 }],
      [
        { atMs: 601_000, side: 'BUY', quantity: 10, strategyId: 'ema-cross-1' },
        { atMs: 999_000, side: 'BUY', quantity: 10, strategyId: 'ema-cross-1' },
      ],
    );
    expect(markers.map((marker) => [marker.time, marker.shape, marker.position, marker.text ?? ''])).toEqual([
      [600 + IST, 'circle', 'belowBar', ''],
      [660 + IST, 'arrowDown', 'aboveBar', 'S 7'],
    ]);
  });
});

describe('candleChange', () => {
  const minute = 60_000;
  const start = addToCandles(addToCandles([], 0, 100, 10, undefined), minute, 101, 20, 10);

  it('sends only the tail when a quote moves the last candle or opens the next minute', () => {
    const moved = addToCandles(start, minute + 5_000, 103, 25, 20);
    expect(candleChange(start, moved)).toEqual({ kind: 'tail', from: 1 });
    const opened = addToCandles(moved, 2 * minute, 99, 30, 25);
    expect(candleChange(moved, opened)).toEqual({ kind: 'tail', from: 1 });
    // the last candle took a quote and the next minute opened in the same frame
    expect(candleChange(start, opened)).toEqual({ kind: 'tail', from: 1 });
    expect(candleChange(opened, opened)).toEqual({ kind: 'none' });
  });

  it('resets the chart for another symbol, a dropped oldest minute or a jump of several minutes', () => {
    const other = addToCandles(addToCandles([], 0, 100, 10, undefined), minute, 101, 20, 10);
    expect(candleChange(start, other)).toEqual({ kind: 'reset' });
    expect(candleChange(start, start.slice(1))).toEqual({ kind: 'reset' });
    const jumped = addToCandles(addToCandles(start, 2 * minute, 1, 1, 1), 3 * minute, 1, 1, 1);
    expect(candleChange(start, jumped)).toEqual({ kind: 'reset' });
    expect(candleChange([], start)).toEqual({ kind: 'reset' });
  });
});
