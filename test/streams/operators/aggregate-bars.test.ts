import { describe, expect, it } from 'vitest';
import type { Bar, BarInterval, Tick } from '../../../src/model/market.js';
import { istTimeMs } from '../../../src/model/time.js';
import { aggregateBars, barCloseMs, barStartMs } from '../../../src/streams/operators/aggregate-bars.js';
import { testScheduler, tick } from '../fixtures.js';

const OPEN = istTimeMs('2026-05-20', 9, 15);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

function bar(symbol: string, interval: BarInterval, startMs: number, ohlc: readonly [number, number, number, number], volume: number, tickCount: number): Bar {
  const [openPaise, highPaise, lowPaise, closePaise] = ohlc;
  return { type: 'bar', symbol, interval, startMs, openPaise, highPaise, lowPaise, closePaise, volume, tickCount };
}

describe('barStartMs and barCloseMs', () => {
  it('aligns minute buckets to the epoch, which is also IST-aligned: 09:15 starts a bucket', () => {
    for (const interval of ['1m', '5m', '15m'] as const) {
      expect(barStartMs(interval, OPEN)).toBe(OPEN);
      expect(barStartMs(interval, OPEN - 1)).toBeLessThan(OPEN);
    }
    expect(barStartMs('5m', istTimeMs('2026-05-20', 9, 19, 59))).toBe(OPEN);
    expect(barStartMs('15m', istTimeMs('2026-05-20', 9, 44, 59))).toBe(istTimeMs('2026-05-20', 9, 30));
  });

  it('starts 1h bars at 09:15, 10:15, …, 15:15 IST and closes the last at 15:30', () => {
    expect(barStartMs('1h', istTimeMs('2026-05-20', 9, 15))).toBe(istTimeMs('2026-05-20', 9, 15));
    expect(barStartMs('1h', istTimeMs('2026-05-20', 10, 14, 59))).toBe(istTimeMs('2026-05-20', 9, 15));
    expect(barStartMs('1h', istTimeMs('2026-05-20', 10, 15))).toBe(istTimeMs('2026-05-20', 10, 15));
    expect(barStartMs('1h', istTimeMs('2026-05-20', 15, 29))).toBe(istTimeMs('2026-05-20', 15, 15));
    expect(barCloseMs('1h', istTimeMs('2026-05-20', 14, 15))).toBe(istTimeMs('2026-05-20', 15, 15));
    expect(barCloseMs('1h', istTimeMs('2026-05-20', 15, 15))).toBe(istTimeMs('2026-05-20', 15, 30));
  });

  it('stamps 1d bars at IST midnight, like Kite daily candles, and closes them at 15:30', () => {
    const midnight = Date.parse('2026-05-20T00:00:00+05:30');
    expect(barStartMs('1d', istTimeMs('2026-05-20', 9, 15))).toBe(midnight);
    expect(barStartMs('1d', istTimeMs('2026-05-20', 23, 59))).toBe(midnight);
    expect(barCloseMs('1d', midnight)).toBe(istTimeMs('2026-05-20', 15, 30));
  });
});

describe('aggregateBars', () => {
  const t = (symbol: string, offsetMs: number, ltpPaise: number, volume: number, lastQuantity = 1): Tick =>
    tick({ symbol, exchangeTimeMs: OPEN + offsetMs, ltpPaise, volume, lastQuantity });

  it('empty: completes without emitting', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly Tick[]>('|').pipe(aggregateBars('1m'))).toBe('|');
    });
  });

  it('single: the open bar is emitted when the source completes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a-|', { a: [t('INFY', 0, 1500_00, 100, 7)] });
      expectObservable(source.pipe(aggregateBars('1m'))).toBe('--(x|)', { x: [bar('INFY', '1m', OPEN, [1500_00, 1500_00, 1500_00, 1500_00], 7, 1)] });
    });
  });

  it('many: a symbol’s bar closes when it trades in a later bucket; volume is the rise in cumulative volume', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a-b-c-|', {
        a: [t('INFY', 0, 1500_00, 100, 5), t('TCS', 1, 3000_00, 50, 50), t('INFY', 10 * SECOND, 1502_00, 110)],
        b: [t('INFY', 59 * SECOND, 1499_00, 130), t('INFY', MINUTE, 1501_00, 131)], // INFY's 09:15 bar closes
        c: [t('TCS', 3 * MINUTE, 3001_00, 60)], // TCS's 09:15 bar closes, INFY's 09:16 stays open
      });
      expectObservable(source.pipe(aggregateBars('1m'))).toBe('--x-y-(z|)', {
        x: [bar('INFY', '1m', OPEN, [1500_00, 1502_00, 1499_00, 1499_00], 5 + 10 + 20, 3)],
        y: [bar('TCS', '1m', OPEN, [3000_00, 3000_00, 3000_00, 3000_00], 50, 1)],
        z: [
          bar('INFY', '1m', OPEN + MINUTE, [1501_00, 1501_00, 1501_00, 1501_00], 1, 1),
          bar('TCS', '1m', OPEN + 3 * MINUTE, [3001_00, 3001_00, 3001_00, 3001_00], 10, 1),
        ],
      });
    });
  });

  it('counts lastQuantity when cumulative volume is missing (0) or restarts with a new session', () => {
    const nextDay = istTimeMs('2026-05-21', 9, 15) - OPEN;
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a|', {
        a: [
          t('ITC', 0, 200_00, 0, 3),
          t('ITC', 1, 200_00, 0, 4),
          t('INFY', 0, 1500_00, 1000, 9),
          t('INFY', nextDay, 1500_00, 20, 20),
          t('INFY', nextDay + 1, 1500_00, 25, 5),
        ],
      });
      expectObservable(source.pipe(aggregateBars('1d'))).toBe('x(y|)', {
        x: [bar('INFY', '1d', Date.parse('2026-05-20T00:00:00+05:30'), [1500_00, 1500_00, 1500_00, 1500_00], 9, 1)],
        y: [
          bar('ITC', '1d', Date.parse('2026-05-20T00:00:00+05:30'), [200_00, 200_00, 200_00, 200_00], 7, 2),
          bar('INFY', '1d', Date.parse('2026-05-21T00:00:00+05:30'), [1500_00, 1500_00, 1500_00, 1500_00], 25, 2),
        ],
      });
    });
  });

  it('closes a daily bar on a tick at the last millisecond of the session (15:29:59.999), in that batch, not on the first tick of the next day', () => {
    const lastMs = istTimeMs('2026-05-20', 15, 30) - 1 - OPEN;
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a-b-c|', {
        a: [t('INFY', 0, 1500_00, 10, 10)],
        b: [t('INFY', lastMs, 1510_00, 30, 20), t('INFY', lastMs, 1520_00, 40, 10)], // a second tick in the same millisecond comes late: ignored
        c: [t('INFY', istTimeMs('2026-05-21', 9, 15) - OPEN, 1490_00, 5, 5)],
      });
      expectObservable(source.pipe(aggregateBars('1d'))).toBe('--b--(c|)', {
        b: [bar('INFY', '1d', Date.parse('2026-05-20T00:00:00+05:30'), [1500_00, 1510_00, 1500_00, 1510_00], 30, 2)],
        c: [bar('INFY', '1d', Date.parse('2026-05-21T00:00:00+05:30'), [1490_00, 1490_00, 1490_00, 1490_00], 5, 1)],
      });
    });
  });

  it('builds 1h bars on the NSE 09:15 grid', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a|', {
        a: [t('INFY', 0, 1500_00, 1), t('INFY', 59 * MINUTE + 59 * SECOND, 1510_00, 2), t('INFY', 60 * MINUTE, 1490_00, 3)],
      });
      expectObservable(source.pipe(aggregateBars('1h'))).toBe('x(y|)', {
        x: [bar('INFY', '1h', OPEN, [1500_00, 1510_00, 1500_00, 1510_00], 2, 2)],
        y: [bar('INFY', '1h', OPEN + 60 * MINUTE, [1490_00, 1490_00, 1490_00, 1490_00], 1, 1)],
      });
    });
  });

  it('ignores a tick for a bucket that already closed', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a|', { a: [t('INFY', 0, 1500_00, 1), t('INFY', MINUTE, 1501_00, 2), t('INFY', MINUTE - 1, 1400_00, 2)] });
      expectObservable(source.pipe(aggregateBars('1m'))).toBe('x(y|)', {
        x: [bar('INFY', '1m', OPEN, [1500_00, 1500_00, 1500_00, 1500_00], 1, 1)],
        y: [bar('INFY', '1m', OPEN + MINUTE, [1501_00, 1501_00, 1501_00, 1501_00], 1, 1)],
      });
    });
  });

  it('flushAfterMs: an idle symbol’s bar closes by the scheduler clock', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a', { a: [t('INFY', 0, 1500_00, 1)] });
      // Watermark 09:15:00 at frame 0; the bar closes at 09:16:00 + 1 s of grace = frame 61000.
      expectObservable(source.pipe(aggregateBars('1m', { flushAfterMs: SECOND }))).toBe('61000ms x', {
        x: [bar('INFY', '1m', OPEN, [1500_00, 1500_00, 1500_00, 1500_00], 1, 1)],
      });
    });
  });

  it('flushAfterMs: other symbols moving the market clock close an idle symbol’s bar', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a-b', { a: [t('INFY', 0, 1500_00, 1)], b: [t('TCS', MINUTE + SECOND, 3000_00, 1)] });
      // TCS at 09:16:01 (frame 2) closes INFY's idle 09:15 bar at once; TCS's own bar closes
      // by the clock at 09:17:01, i.e. 60 s of scheduler time later (frame 60002).
      expectObservable(source.pipe(aggregateBars('1m', { flushAfterMs: SECOND }))).toBe('--x 59999ms y', {
        x: [bar('INFY', '1m', OPEN, [1500_00, 1500_00, 1500_00, 1500_00], 1, 1)],
        y: [bar('TCS', '1m', OPEN + MINUTE, [3000_00, 3000_00, 3000_00, 3000_00], 1, 1)],
      });
    });
  });

  it('error: passes the error through without flushing open bars', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly Tick[]>('a-#', { a: [t('INFY', 0, 1500_00, 1)] });
      expectObservable(source.pipe(aggregateBars('1m'))).toBe('--#');
    });
  });

  it('never-ending and early unsubscribe: no flush after unsubscribing', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<readonly Tick[]>('-a-', { a: [t('INFY', 0, 1500_00, 1)] });
      expectObservable(source.pipe(aggregateBars('1m', { flushAfterMs: 0 })), '^--!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
