import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Bar, BarInterval, Tick } from '../../src/model/market.js';
import { istTimeMs } from '../../src/model/time.js';
import { createTickValidationStats, type TickRejection } from '../../src/streams/operators/validate-ticks.js';
import { marketDataPipeline, type MarketDataPipelineOptions } from '../../src/streams/pipeline.js';
import { createSyntheticMarket } from '../../src/streams/sources/synthetic-market.js';
import { INSTRUMENTS, testScheduler, tick } from './fixtures.js';

const OPEN = istTimeMs('2026-05-20', 9, 15);
const MINUTE = 60_000;

function harness(overrides: Partial<MarketDataPipelineOptions> = {}, barIntervals: readonly BarInterval[] = ['1m']) {
  const source = new Subject<readonly unknown[]>();
  const events: string[] = [];
  const rejections: TickRejection[] = [];
  const bars: Bar[] = [];
  const subscription = marketDataPipeline({
    source$: source,
    instruments: INSTRUMENTS,
    onRejected: (r) => {
      rejections.push(r);
      events.push(`rejected ${r.reason}`);
    },
    onTicks: (symbol, ticks) => events.push(`ticks ${symbol} ${ticks.length}`),
    onBars: (closed) => {
      bars.push(...closed);
      events.push(`bars ${closed.map((b) => `${b.symbol}/${b.interval}`).join(',')}`);
    },
    barIntervals,
    onComplete: () => events.push('complete'),
    ...overrides,
  });
  return { source, events, rejections, bars, subscription };
}

describe('marketDataPipeline', () => {
  it('validates, routes per symbol, then delivers the bars each batch closed; completion closes the rest', () => {
    const { source, events, bars, subscription } = harness({}, ['1m', '5m']);
    source.next([
      tick({ exchangeTimeMs: OPEN, volume: 10, lastQuantity: 10 }),
      null,
      tick({ symbol: 'TCS', ltpPaise: 3000_00, exchangeTimeMs: OPEN + 1 }),
      tick({ exchangeTimeMs: OPEN + 2, volume: 12 }),
    ]);
    source.next([tick({ exchangeTimeMs: OPEN + MINUTE, volume: 15 })]);
    source.complete();
    expect(events).toEqual([
      'rejected not-an-object',
      'ticks INFY 2',
      'ticks TCS 1',
      'ticks INFY 1',
      'bars INFY/1m',
      'bars INFY/1m,TCS/1m', // completion: 1m flushes first (subscription order), then 5m
      'bars INFY/5m,TCS/5m',
      'complete',
    ]);
    expect(bars[0]).toMatchObject({ symbol: 'INFY', interval: '1m', startMs: OPEN, volume: 12, tickCount: 2 });
    expect(bars.find((b) => b.symbol === 'INFY' && b.interval === '5m')).toMatchObject({ volume: 15, tickCount: 3 });
    expect(subscription.closed).toBe(true);
  });

  it('validates each batch once whatever the number of consumers, and fills shared stats', () => {
    const stats = createTickValidationStats();
    const { source, rejections } = harness({ stats }, ['1m', '5m', '15m']);
    source.next([tick(), 'junk']);
    expect(rejections).toHaveLength(1);
    expect(stats).toMatchObject({ accepted: 1, rejected: 1 });
  });

  it('works without bars', () => {
    const { source, events } = harness({ onBars: undefined as never }, []);
    source.next([tick()]);
    source.complete();
    expect(events).toEqual(['ticks INFY 1', 'complete']);
  });

  it('a throwing callback stops the pipeline and reaches onError', () => {
    const errors: unknown[] = [];
    const boom = new Error('kaboom');
    const { source, subscription } = harness({
      onTicks: () => {
        throw boom;
      },
      onError: (error) => errors.push(error),
    });
    source.next([tick()]);
    expect(errors).toEqual([boom]);
    expect(subscription.closed).toBe(true);
    expect(source.observed).toBe(false);
  });

  it('unsubscribing stops delivery and releases the source', () => {
    const { source, events, subscription } = harness();
    source.next([tick()]);
    subscription.unsubscribe();
    source.next([tick({ exchangeTimeMs: 1 })]);
    expect(events).toEqual(['ticks INFY 1']);
    expect(source.observed).toBe(false);
  });

  it('closes idle bars by time with flushAfterMs on the given scheduler', () => {
    const scheduler = testScheduler();
    const bars: Bar[] = [];
    scheduler.run(({ cold, flush }) => {
      marketDataPipeline({
        source$: cold<readonly unknown[]>('a', { a: [tick({ exchangeTimeMs: OPEN })] }),
        instruments: INSTRUMENTS,
        onRejected: () => undefined,
        onTicks: () => undefined,
        onBars: (closed) => bars.push(...closed),
        barIntervals: ['1m'],
        flushAfterMs: 500,
        scheduler,
      });
      scheduler.schedule(() => expect(bars).toEqual([]), MINUTE + 499);
      scheduler.schedule(() => expect(bars).toHaveLength(1), MINUTE + 501); // after the flush due at +500
      flush();
    });
    expect(bars).toHaveLength(1);
  });

  it('carries a synthetic market end to end without rejections', () => {
    const market = createSyntheticMarket({ symbols: 10, seed: 1 });
    const source = new Subject<readonly Tick[]>();
    let ticks = 0;
    let rejected = 0;
    const bars: Bar[] = [];
    marketDataPipeline({
      source$: source,
      instruments: market.instruments,
      onRejected: () => (rejected += 1),
      onTicks: (_symbol, batch) => (ticks += batch.length),
      onBars: (closed) => bars.push(...closed),
      barIntervals: ['1m'],
    });
    for (let i = 0; i < 20; i += 1) source.next(market.nextBatch(5000));
    expect(rejected).toBe(0);
    expect(ticks).toBe(100_000);
    expect(bars.length).toBeGreaterThan(0);
  });
});
