import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, Metrics } from '../../src/observability/metrics.js';

/** The exposition lines of one metric (its samples, without HELP and TYPE). */
const samples = async (registry: Registry, name: string): Promise<string[]> =>
  (await registry.getSingleMetricAsString(name)).split('\n').filter((line) => !line.startsWith('#'));

describe('HotCounter', () => {
  it('exposes what a prom-client counter given the same increments exposes', async () => {
    const hot = new Registry();
    const reference = new Registry();
    const status = new HotCounter([hot], 'orders_total', 'Orders by status', 'status');
    const plain = new HotCounter([hot], 'fills_total', 'Fills');
    const statusReference = new Counter({ name: 'orders_total', help: 'Orders by status', labelNames: ['status'], registers: [reference] });
    const plainReference = new Counter({ name: 'fills_total', help: 'Fills', registers: [reference] });
    const increments: readonly [string, number | undefined][] = [
      ['OPEN', undefined],
      ['COMPLETE', 3],
      ['OPEN', 2],
      ['CANCELLED', 1],
      ['COMPLETE', undefined],
    ];
    for (const [value, by] of increments) {
      status.inc({ status: value }, by);
      statusReference.inc({ status: value }, by);
      plain.inc(by);
      plainReference.inc(by);
    }
    expect(await hot.getSingleMetricAsString('orders_total')).toBe(await reference.getSingleMetricAsString('orders_total'));
    expect(await hot.getSingleMetricAsString('fills_total')).toBe(await reference.getSingleMetricAsString('fills_total'));
    // and the figures themselves, added up by hand
    expect(await samples(hot, 'orders_total')).toEqual([
      'orders_total{status="OPEN"} 3',
      'orders_total{status="COMPLETE"} 4',
      'orders_total{status="CANCELLED"} 1',
    ]);
    expect(await samples(hot, 'fills_total')).toEqual(['fills_total 8']);
  });

  it('shows an unlabelled counter as 0 and a labelled one as no series before the first increment, as prom-client does', async () => {
    const registry = new Registry();
    new HotCounter([registry], 'a_total', 'A');
    new HotCounter([registry], 'b_total', 'B', 'side');
    expect(await samples(registry, 'a_total')).toEqual(['a_total 0']);
    expect(await samples(registry, 'b_total')).toEqual([]);
  });

  it('keeps counting across scrapes (a scrape does not reset the totals)', async () => {
    const registry = new Registry();
    const counter = new HotCounter([registry], 'c_total', 'C', 'side');
    counter.inc({ side: 'BUY' }, 5);
    expect(await samples(registry, 'c_total')).toEqual(['c_total{side="BUY"} 5']);
    counter.inc({ side: 'BUY' }, 2);
    counter.inc({ side: 'SELL' });
    expect(await samples(registry, 'c_total')).toEqual(['c_total{side="BUY"} 7', 'c_total{side="SELL"} 1']);
  });

  it("the runtime's order and fill counters are hot counters on the metrics registry", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.orders.inc({ status: 'REJECTED' });
    metrics.fills.inc(2);
    const text = await metrics.text();
    expect(text).toContain('troupe_orders_total{status="REJECTED"} 1');
    expect(text).toMatch(/^troupe_fills_total 2$/m);
  });
});
