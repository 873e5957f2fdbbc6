import { describe, expect, it } from 'vitest';
import { emaSeries, equityBySecond, joinCandles, strategyOverlays } from './history.js';
import { freshness, QUIET_AFTER_MS, UNRESPONSIVE_AFTER_MS, type ConnectionState } from './live-store.js';

const OPEN = Date.UTC(2026, 4, 18, 3, 45) / 1000; // 09:15 IST, seconds
const minute = (index: number, close: number) => ({
  timeSec: OPEN + index * 60,
  openPaise: close,
  highPaise: close + 5,
  lowPaise: close - 5,
  closePaise: close,
  volume: 10,
});

describe('joinCandles', () => {
  it('skips live minutes the store holds and folds later ones into the timeframe', () => {
    const stored = [{ startMs: OPEN * 1000, openPaise: 100, highPaise: 120, lowPaise: 90, closePaise: 110, volume: 50, tickCount: 5 }];
    // the store holds 09:15–09:16 (storedThroughMs = 09:17); live minutes 09:16, 09:17, 09:20
    const joined = joinCandles(stored, (OPEN + 120) * 1000, [minute(1, 111), minute(2, 130), minute(5, 90)], '5m');
    expect(joined).toEqual([
      { timeSec: OPEN, openPaise: 100, highPaise: 135, lowPaise: 90, closePaise: 130, volume: 60 },
      { timeSec: OPEN + 300, openPaise: 90, highPaise: 95, lowPaise: 85, closePaise: 90, volume: 10 },
    ]);
  });
});

describe('emaSeries', () => {
  it('seeds with the first close and starts once the period is full', () => {
    const points = emaSeries([minute(0, 100), minute(1, 200), minute(2, 300)], 3);
    // 100 → 150 → 225 with weight 2/(3+1)
    expect(points).toEqual([{ timeSec: OPEN + 120, valuePaise: 225 }]);
  });
});

describe('strategyOverlays', () => {
  it("draws an ema-cross strategy's two averages on the symbols it trades only", () => {
    const strategies = [{ strategyId: 'ema-1', kind: 'ema-cross', config: { symbols: ['INFY'], fastPeriod: 2, slowPeriod: 3 } }];
    expect(strategyOverlays(strategies, 'INFY', [minute(0, 1), minute(1, 2), minute(2, 3)]).map((overlay) => overlay.label)).toEqual([
      'EMA2 · ema-1',
      'EMA3 · ema-1',
    ]);
    expect(strategyOverlays(strategies, 'TCS', [minute(0, 1)])).toEqual([]);
  });
});

describe('equityBySecond', () => {
  it('keeps the last point of each second, ascending', () => {
    expect(
      equityBySecond([
        { atMs: 1_000, equityPaise: 1 },
        { atMs: 1_500, equityPaise: 2 },
        { atMs: 2_000, equityPaise: 3 },
      ]),
    ).toEqual([
      { timeSec: 1, equityPaise: 2 },
      { timeSec: 2, equityPaise: 3 },
    ]);
  });
});

describe('freshness', () => {
  const live: ConnectionState = { status: 'live', sinceMs: 0, reconnects: 0, lastEventAtMs: 1_000, lastHeartbeatAtMs: 1_000, lastSeq: 1 };
  it('is live while events come and heartbeats are answered', () => {
    expect(freshness(live, 2_000).state).toBe('live');
  });
  it('is quiet when the stream is open and answers but no event came', () => {
    expect(freshness({ ...live, lastHeartbeatAtMs: 1_000 + QUIET_AFTER_MS }, 1_001 + QUIET_AFTER_MS).state).toBe('quiet');
  });
  it('is unresponsive when heartbeats go unanswered, whatever the socket says', () => {
    expect(freshness(live, 1_001 + UNRESPONSIVE_AFTER_MS).state).toBe('unresponsive');
  });
  it('is the socket state when it is not open', () => {
    expect(freshness({ ...live, status: 'reconnecting' }, 2_000).state).toBe('reconnecting');
  });
});
