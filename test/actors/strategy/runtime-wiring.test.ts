// The runtime's wiring of the regime detector and the aggregator around the strategy hosts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Bar, DomainEvent } from '../../../src/model/index.js';
import { ManualClock } from '../../../src/runtime/clock.js';
import { Runtime } from '../../../src/runtime/runtime.js';
import { createRandom } from '../../../src/streams/random.js';
import { instrument } from '../../support/builders.js';

const t0 = Date.parse('2026-05-20T03:45:00Z');

/** A steady 5-minute uptrend with a little noise: the detector calls it trending once warm. */
function trendBars(symbol: string, count: number): Bar[] {
  const random = createRandom(3);
  let close = 150_000;
  return Array.from({ length: count }, (_, i) => {
    const open = close;
    close = Math.round(close * (1 + 0.002 + 0.001 * random.normal()));
    return {
      type: 'bar',
      symbol,
      interval: '5m',
      startMs: t0 + i * 300_000,
      openPaise: open,
      highPaise: Math.max(open, close) + 20,
      lowPaise: Math.min(open, close) - 20,
      closePaise: close,
      volume: 100,
      tickCount: 0,
    };
  });
}

describe('runtime wiring of regimes and signals', () => {
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.stop();
  });

  it('feeds closed bars to the regime detector, relays RegimeChanged to every strategy, and briefs a strategy added later', async () => {
    const clock = new ManualClock(t0);
    runtime = new Runtime({
      instruments: [instrument('INFY', 150_000)],
      strategies: [{ strategyId: 'rsi', kind: 'rsi-reversion', config: { symbols: ['INFY'] } }],
      portfolio: { portfolioId: 'p', initialCashPaise: 1_00_00_000_00 },
      clock,
    });
    const events: DomainEvent[] = [];
    runtime.bus.onAny((e) => events.push(e));
    runtime.start();
    for (const bar of trendBars('INFY', 120)) {
      clock.advanceTo(bar.startMs + 300_000);
      runtime.offerBars([bar]);
      await runtime.whenIdle();
    }
    expect(events.filter((e) => e.type === 'RegimeChanged').map((e) => (e.type === 'RegimeChanged' ? [e.symbol, e.to] : []))).toEqual([
      ['INFY', 'trending'],
      ['MARKET', 'trending'],
    ]);
    const status = await runtime.strategyStatus('rsi');
    expect(status.regimes).toEqual({ INFY: 'trending', MARKET: 'trending' });
    expect(status.tradesIn).toEqual(['ranging']);
    expect(status.stats.signals).toBeGreaterThan(90); // one per bar once RSI is warm
    // its signals reached the aggregator, which published its decision
    expect(events.some((e) => e.type === 'SignalAggregated' && e.symbol === 'INFY')).toBe(true);

    runtime.addStrategy({ strategyId: 'late', kind: 'breakout', config: { symbols: ['INFY'] } });
    await runtime.whenIdle();
    expect((await runtime.strategyStatus('late')).regimes).toEqual({ INFY: 'trending', MARKET: 'trending' });
  });
});
