import { describe, expect, it } from 'vitest';
import { promqlMetricNames } from '../support/promql-metric-names.js';

describe('promqlMetricNames', () => {
  it('reads bare names and names with matchers, not label names or values', () => {
    expect(promqlMetricNames('troupe_fills_total')).toEqual(['troupe_fills_total']);
    expect(promqlMetricNames('troupe_orders_total{status="COMPLETE", instance=~"a|b"}')).toEqual(['troupe_orders_total']);
    expect(promqlMetricNames('up{job="troupe",le!~"x"} == 0')).toEqual(['up']);
  });

  it('skips functions, aggregations, windows, subqueries and offsets', () => {
    expect(promqlMetricNames('sum(rate(troupe_ticks_total{source="synthetic"}[1m])) * 60')).toEqual(['troupe_ticks_total']);
    expect(promqlMetricNames('histogram_quantile(0.99, sum by (le, route) (rate(troupe_http_request_duration_seconds_bucket[5m])))')).toEqual(['troupe_http_request_duration_seconds_bucket']);
    expect(promqlMetricNames('max_over_time(deriv(troupe_portfolio_equity_rupees[5m])[1h:1m]) offset 5m')).toEqual(['troupe_portfolio_equity_rupees']);
    expect(promqlMetricNames('topk(5, count_values("v", troupe_actor_up))')).toEqual(['troupe_actor_up']);
    expect(promqlMetricNames('quantile without (instance) (0.5, troupe_actor_mailbox_depth) @ end()')).toEqual(['troupe_actor_mailbox_depth']);
  });

  it('skips binary-operator keywords and their label lists', () => {
    expect(promqlMetricNames('a / on (instance) group_left (version) b')).toEqual(['a', 'b']);
    expect(promqlMetricNames('x > bool 0 and ignoring(kind) y or vector(0) unless z')).toEqual(['x', 'y', 'z']);
    expect(promqlMetricNames('sum(x) by (portfolio) / sum(y) without (le)')).toEqual(['x', 'y']);
    expect(promqlMetricNames('x{a="by (not) sum("} offset -1h30m')).toEqual(['x']);
  });

  it('reads __name__ equality matchers and skips numbers, Inf and NaN', () => {
    expect(promqlMetricNames('{__name__="troupe_dead_letters"} + {__name__=~"troupe_.*"}')).toEqual(['troupe_dead_letters']);
    expect(promqlMetricNames('clamp_min(x, -Inf) + 1e+3 - 0x1F * .5 + NaN')).toEqual(['x']);
    expect(promqlMetricNames('ALERTS_FOR_STATE # a comment naming not_a_metric')).toEqual(['ALERTS_FOR_STATE']);
  });

  it('refuses a template variable left in and unbalanced input', () => {
    expect(() => promqlMetricNames('rate(x[$__rate_interval])')).toThrow(/unsubstituted/);
    expect(() => promqlMetricNames('x / $scale')).toThrow(/unsubstituted/);
    expect(promqlMetricNames('label_replace(x, "symbol", "$1", "actor", "/market/(.+)")')).toEqual(['x']);
    expect(() => promqlMetricNames('x{a="b"')).toThrow(/unbalanced/);
    expect(() => promqlMetricNames('sum by (a x')).toThrow(/unbalanced/);
  });
});
