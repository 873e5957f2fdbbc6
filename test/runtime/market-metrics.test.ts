import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';

/** `troupe_market_open` and `troupe_symbol_last_tick_timestamp_seconds`, the series the feed alerts stand on. */
const sample = async (metrics: Metrics, name: string): Promise<Record<string, number>> => {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  return Object.fromEntries((metric?.values ?? []).map((value) => [JSON.stringify(value.labels), value.value]));
};

describe('market metrics', () => {
  // instants written out in IST (+05:30), checked against the NSE calendar by hand
  const cases: readonly [string, string, number][] = [
    ['a Monday 10:00 IST', '2026-01-05T10:00:00+05:30', 1],
    ['a Monday 09:14 IST (before the open)', '2026-01-05T09:14:59+05:30', 0],
    ['a Monday 09:15 IST (the open)', '2026-01-05T09:15:00+05:30', 1],
    ['a Monday 15:29 IST', '2026-01-05T15:29:59+05:30', 1],
    ['a Monday 15:30 IST (the close)', '2026-01-05T15:30:00+05:30', 0],
    ['a Saturday 11:00 IST', '2026-01-10T11:00:00+05:30', 0],
    ['Republic Day 2026 (a Monday holiday)', '2026-01-26T11:00:00+05:30', 0],
    ['Budget day 2026 (a Sunday session)', '2026-02-01T11:00:00+05:30', 1],
  ];
  it.each(cases)('troupe_market_open on %s is %i', async (_what, at, open) => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.bindMarketClock(() => Date.parse(at));
    expect(await sample(metrics, 'troupe_market_open')).toEqual({ '{}': open });
  });

  it('troupe_market_open is 0 until a market clock is bound', async () => {
    expect(await sample(new Metrics({ defaultMetrics: false }), 'troupe_market_open')).toEqual({ '{}': 0 });
  });

  it('each symbol ages from the feed start until its first tick, then from its last', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.watchSymbols(['INFY', 'TCS'], 1_000_000);
    metrics.noteTicks('INFY', 1_004_500);
    metrics.watchSymbols(['INFY', 'SBIN'], 1_009_000); // a later watch does not move INFY back
    expect(await sample(metrics, 'troupe_symbol_last_tick_timestamp_seconds')).toEqual({
      '{"symbol":"INFY"}': 1004.5,
      '{"symbol":"TCS"}': 1000,
      '{"symbol":"SBIN"}': 1009,
    });
  });
});
