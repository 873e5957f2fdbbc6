import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram, Metrics } from '../../src/observability/metrics.js';

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

describe('HotHistogram', () => {
  const buckets = [0.1, 0.5, 1, 2, 5];

  it('exposes what a prom-client histogram given the same observations exposes (values on a bound, above every bound, zero)', async () => {
    const hot = new Registry();
    const reference = new Registry();
    const histogram = new HotHistogram([hot], 'fill_seconds', 'Time to fill', buckets);
    const prom = new Histogram({ name: 'fill_seconds', help: 'Time to fill', buckets, registers: [reference] });
    expect(await hot.getSingleMetricAsString('fill_seconds')).toBe(await reference.getSingleMetricAsString('fill_seconds'));
    for (const value of [0, 0.05, 0.1, 0.1000001, 0.3, 0.5, 0.75, 1, 1.5, 2, 4.99, 5, 5.01, 30, 900, 0.2]) {
      histogram.observe(value);
      prom.observe(value);
    }
    expect(await hot.getSingleMetricAsString('fill_seconds')).toBe(await reference.getSingleMetricAsString('fill_seconds'));
    // and as JSON (prom-client's own adds an empty exemplar to each sample)
    const samples = async (registry: Registry) =>
      (await registry.getMetricsAsJSON()).map(({ name, help, type, aggregator, values }) => ({
        name,
        help,
        type,
        aggregator,
        values: values.map(({ labels, value, ...rest }) => ({ labels, value, metricName: 'metricName' in rest ? rest.metricName : undefined })),
      }));
    expect(await samples(hot)).toEqual(await samples(reference));
  });

  it('counts each value in the first bucket whose bound is at least the value, cumulatively (by hand)', async () => {
    const registry = new Registry();
    const histogram = new HotHistogram([registry], 'h_seconds', 'H', buckets);
    for (const value of [0.1, 0.2, 0.5, 3, 7]) histogram.observe(value);
    const lines = (await registry.getSingleMetricAsString('h_seconds')).split('\n').filter((line) => !line.startsWith('#'));
    expect(lines).toEqual([
      'h_seconds_bucket{le="0.1"} 1',
      'h_seconds_bucket{le="0.5"} 3',
      'h_seconds_bucket{le="1"} 3',
      'h_seconds_bucket{le="2"} 3',
      'h_seconds_bucket{le="5"} 4',
      'h_seconds_bucket{le="+Inf"} 5',
      'h_seconds_sum 10.8',
      'h_seconds_count 5',
    ]);
    histogram.reset();
    expect(await registry.getSingleMetricAsString('h_seconds')).toContain('h_seconds_count 0');
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const histogram = new HotHistogram([new Registry()], 'x_seconds', 'X', buckets);
    expect(() => histogram.observe(Number.NaN)).toThrow(TypeError);
    expect(() => new Histogram({ name: 'x_seconds', help: 'X', buckets, registers: [] }).observe(Number.NaN)).toThrow(TypeError);
  });

  it("the runtime's tick-to-order and time-to-fill histograms are hot histograms on the metrics registry", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.orderTimeToFillSeconds.observe(1.5);
    metrics.tickToOrderSeconds.observe(0.0002);
    const text = await metrics.text();
    expect(text).toContain('# TYPE troupe_order_time_to_fill_seconds histogram');
    expect(text).toContain('troupe_order_time_to_fill_seconds_bucket{le="2"} 1');
    expect(text).toContain('troupe_tick_to_order_seconds_bucket{le="0.00025"} 1');
    expect(text).toMatch(/^troupe_tick_to_order_seconds_count 1$/m);
  });
});
