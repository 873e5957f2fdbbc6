import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  aggregate,
  AggregatorBook,
  aggregationReason,
  aggregatorConfig,
  decide,
  DEFAULT_AGGREGATOR_CONFIG,
  emptyAggregatorState,
  recordSignal,
  toSignalAggregated,
  type AggregatorConfig,
  type Signal,
} from '../../src/signals/index.js';

const now = Date.parse('2026-05-20T05:00:00Z');
const signal = (strategyId: string, direction: Signal['direction'], confidence = 1, overrides: Partial<Signal> = {}): Signal => ({
  strategyId,
  symbol: 'INFY',
  direction,
  confidence,
  atMs: now - 1_000,
  ...overrides,
});
const config = (overrides: Partial<AggregatorConfig> = {}): AggregatorConfig => ({ ...DEFAULT_AGGREGATOR_CONFIG, ...overrides });

describe('signal aggregator', () => {
  it('a weighted vote with confidence, explained', () => {
    const result = aggregate(
      [signal('trend', 'long', 0.8, { reason: 'EMA 9 crossed above EMA 21' }), signal('rsi', 'short', 0.5), signal('breakout', 'long', 0.6)],
      now,
      config({ weights: { trend: 2 } }),
    );
    // (2·0.8 − 0.5 + 0.6) / 4 = 0.425
    expect(result.score).toBe(0.425);
    expect(result.decision).toBe('BUY');
    expect(result.confidence).toBe(0.425);
    expect(result.contributions.map((c) => [c.strategyId, c.weight, c.contribution])).toEqual([
      ['breakout', 1, 0.15],
      ['rsi', 1, -0.125],
      ['trend', 2, 0.4],
    ]);
    expect(result.summary).toBe(
      'BUY INFY: score 0.42 ≥ threshold 0.30; from breakout long 0.60×w1, rsi short 0.50×w1, trend long 0.80×w2 (EMA 9 crossed above EMA 21)',
    );
    expect(aggregationReason(result, 40)).toHaveLength(40);
    expect(toSignalAggregated(result)).toMatchObject({ type: 'SignalAggregated', symbol: 'INFY', decision: 'BUY' });
  });

  it('sells below −threshold, stays flat inside, flat signals dilute', () => {
    expect(aggregate([signal('a', 'short', 0.9)], now).decision).toBe('SELL');
    expect(aggregate([signal('a', 'long', 0.5), signal('b', 'flat', 1)], now)).toMatchObject({ decision: 'FLAT', score: 0.25, confidence: 0 });
  });

  it('ignores stale and zero-weight signals, and needs minSignals fresh ones', () => {
    const result = aggregate(
      [signal('a', 'long', 1, { atMs: now - 20 * 60_000 }), signal('b', 'long'), signal('c', 'short')],
      now,
      config({ weights: { c: 0 } }),
    );
    expect(result.decision).toBe('BUY');
    expect(result.ignored).toEqual([
      { strategyId: 'a', why: 'stale: 1200 s old' },
      { strategyId: 'c', why: 'weight 0' },
    ]);
    expect(aggregate([signal('b', 'long')], now, config({ minSignals: 2 }))).toMatchObject({ decision: 'FLAT' });
    expect(aggregate([], now)).toMatchObject({ decision: 'FLAT', score: 0 });
  });

  it.each([
    ['flat', 'BUY', 'FLAT'],
    ['keep', 'SELL', 'SELL'],
    ['strongest', 'FLAT', 'SELL'],
  ] as const)('tie rule %s', (tieRule, previous, expected) => {
    const signals = [signal('a', 'long', 0.5), signal('b', 'long', 0.5), signal('c', 'short', 1)];
    const result = aggregate(signals, now, config({ tieRule, threshold: 0 }), previous);
    expect(result.tie).toBe(true);
    expect(result.decision).toBe(expected);
  });

  it('keeps the latest signal per strategy and reports decision changes', () => {
    let state = recordSignal(emptyAggregatorState(), signal('a', 'long'));
    let step = decide(state, 'INFY', now);
    expect(step).toMatchObject({ changed: true, aggregation: { decision: 'BUY' } });
    state = step.state;
    step = decide(state, 'INFY', now + 1);
    expect(step.changed).toBe(false);
    state = recordSignal(step.state, signal('a', 'short'));
    step = decide(state, 'INFY', now + 2);
    expect(step).toMatchObject({ changed: true, aggregation: { decision: 'SELL' } });
    expect(Object.keys(step.state.signals.INFY ?? {})).toEqual(['a']);
  });

  it('property: order-independent, score in [−1, 1], decision consistent with the threshold', () => {
    const arb = fc.uniqueArray(
      fc.record({
        strategyId: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        direction: fc.constantFrom('long' as const, 'short' as const, 'flat' as const),
        confidence: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      { maxLength: 5, selector: (s) => s.strategyId },
    );
    fc.assert(
      fc.property(arb, fc.double({ min: 0.01, max: 1, noNaN: true }), (raw, threshold) => {
        const signals = raw.map((r) => signal(r.strategyId, r.direction, r.confidence));
        const cfg = config({ threshold, weights: { a: 3, b: 0.5 } });
        const result = aggregate(signals, now, cfg);
        expect(aggregate([...signals].reverse(), now, cfg)).toEqual(result);
        expect(Math.abs(result.score)).toBeLessThanOrEqual(1);
        if (result.decision === 'BUY') expect(result.score).toBeGreaterThanOrEqual(threshold);
        if (result.decision === 'SELL') expect(result.score).toBeLessThanOrEqual(-threshold);
      }),
    );
  });

  it("property: the book's unexplained vote decides exactly as the explained one, whatever the tie rule", () => {
    const arb = fc.uniqueArray(
      fc.record({
        strategyId: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        direction: fc.constantFrom('long' as const, 'short' as const, 'flat' as const),
        confidence: fc.constantFrom(0, 0.25, 0.5, 1),
        ageMs: fc.constantFrom(0, 60_000, 3_600_000),
      }),
      { maxLength: 5, selector: (s) => s.strategyId },
    );
    fc.assert(
      fc.property(
        arb,
        fc.constantFrom('flat' as const, 'keep' as const, 'strongest' as const),
        fc.constantFrom('FLAT' as const, 'BUY' as const, 'SELL' as const),
        (raw, tieRule, previous) => {
          const signals = raw.map((r) => ({ ...signal(r.strategyId, r.direction, r.confidence), atMs: now - r.ageMs }));
          const cfg = config({ tieRule, threshold: 0.2, weights: { a: 2, b: 0, c: 1 }, halfLifeMs: 600_000, maxAgeMs: 1_800_000 });
          const book = new AggregatorBook({ signals: {}, decisions: { INFY: previous } });
          for (const s of signals) book.record(s);
          const quiet = book.vote('INFY', now, cfg, false);
          expect(quiet.changed).toBe(quiet.aggregation !== undefined);
          expect(quiet.aggregation?.decision ?? previous).toBe(aggregate(signals, now, cfg, previous).decision);
        },
      ),
      { numRuns: 500, seed: 1203 },
    );
  });

  it('decays confidence with age (half-life) until the signal expires', () => {
    const cfg = config({ halfLifeMs: 10 * 60_000, maxAgeMs: 30 * 60_000, threshold: 0.3 });
    const fresh = aggregate([signal('a', 'long', 0.8, { atMs: now })], now, cfg);
    expect(fresh).toMatchObject({ decision: 'BUY', score: 0.8 });
    const tenMinutes = aggregate([signal('a', 'long', 0.8, { atMs: now - 10 * 60_000 })], now, cfg);
    expect(tenMinutes.contributions[0]!.confidence).toBe(0.4);
    expect(tenMinutes).toMatchObject({ decision: 'BUY', score: 0.4 });
    const twentyMinutes = aggregate([signal('a', 'long', 0.8, { atMs: now - 20 * 60_000 })], now, cfg);
    expect(twentyMinutes).toMatchObject({ decision: 'FLAT', score: 0.2 }); // decayed below the threshold
    const expired = aggregate([signal('a', 'long', 0.8, { atMs: now - 31 * 60_000 })], now, cfg);
    expect(expired).toMatchObject({ decision: 'FLAT', contributions: [] });
    expect(expired.ignored[0]!.why).toMatch(/^stale/);
    // a fresh opinion outweighs an older, stronger one of the other side
    const mixed = aggregate([signal('old', 'short', 1, { atMs: now - 20 * 60_000 }), signal('new', 'long', 0.6, { atMs: now })], now, cfg);
    expect(mixed.decision).toBe('FLAT'); // (0.6 − 0.25) / 2 = 0.175
    expect(mixed.score).toBe(0.175);
  });

  it('checks its configuration, naming the field', () => {
    expect(aggregatorConfig()).toEqual(DEFAULT_AGGREGATOR_CONFIG);
    expect(aggregatorConfig({ weights: { ema: 2 } }).weights).toEqual({ ema: 2 });
    expect(() => aggregatorConfig({ threshold: 1.5 })).toThrow(/threshold/);
    expect(() => aggregatorConfig({ weights: { ema: -1 } })).toThrow(/weights\.ema/);
    expect(() => aggregatorConfig({ halfLifeMs: -1 })).toThrow(/halfLifeMs/);
    expect(() => aggregatorConfig({ maxAgeMs: 0 })).toThrow(/maxAgeMs/);
  });
});
