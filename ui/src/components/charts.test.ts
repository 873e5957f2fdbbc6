import { describe, expect, it } from 'vitest';
import { candleMarkers } from './charts.js';

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
