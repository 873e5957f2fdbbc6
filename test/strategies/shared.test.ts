import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { istTimeMs, isOnTick, nseTickSizePaise } from '../../src/model/index.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { floorDiv, marketableLimitPaise, moveTo } from '../../src/strategies/shared/orders.js';
import { barEndMinute, parseSessionTime } from '../../src/strategies/shared/session.js';
import { bar } from '../support/builders.js';
import { fakeContext, netSubmitted } from '../support/strategy-kit.js';

describe('strategy helpers', () => {
  it('moveTo nets against position and working orders and never double-sends', () => {
    const kit = fakeContext({});
    expect(moveTo(kit.ctx, 'INFY', 10, { product: 'MIS', reason: 'r' })).toBe(10);
    expect(moveTo(kit.ctx, 'INFY', 10, { product: 'MIS', reason: 'r' })).toBe(0);
    kit.fillAll();
    expect(moveTo(kit.ctx, 'INFY', -5, { product: 'MIS', reason: 'r' })).toBe(-15);
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(-5);
    expect(() => moveTo(kit.ctx, 'INFY', 1.5, { product: 'MIS', reason: 'r' })).toThrow(/whole number/);
  });

  it('marketable limit prices sit on the NSE tick grid, through the reference', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 5_00_000_00 }), fc.integer({ min: 1, max: 500 }), (reference, bps) => {
        const buy = marketableLimitPaise(reference, 'BUY', bps);
        const sell = marketableLimitPaise(reference, 'SELL', bps);
        expect(Number.isSafeInteger(buy) && Number.isSafeInteger(sell)).toBe(true);
        expect(isOnTick(buy, nseTickSizePaise(buy))).toBe(true);
        expect(isOnTick(sell, nseTickSizePaise(sell))).toBe(true);
        expect(buy).toBeGreaterThanOrEqual(reference);
        expect(sell).toBeLessThanOrEqual(reference);
      }),
    );
    expect(marketableLimitPaise(1_319_90, 'BUY', 10)).toBe(1_321_30); // ₹1319.90 + 0.1% = 1321.22 → up to the 10-paise grid
  });

  it('floorDiv is exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 1_000_000_000 }), (n, d) => {
        const q = floorDiv(n, d);
        expect(q * d <= n && (q + 1) * d > n).toBe(true);
      }),
    );
  });

  it('reads session times and bar close times in IST', () => {
    expect(parseSessionTime('exitTime', '15:15')).toBe(915);
    expect(() => parseSessionTime('exitTime', '25:00')).toThrow(/exitTime/);
    expect(() => parseSessionTime('exitTime', '09:75')).toThrow(/exitTime/);
    expect(barEndMinute(bar({ interval: '5m', startMs: istTimeMs('2026-05-20', 15, 10) }))).toBe(915);
  });

  it('every registered strategy has a unique kind, config fields with defaults that parse, and JSON-safe init state', () => {
    expect(new Set(STRATEGIES.map((s) => s.kind)).size).toBe(STRATEGIES.length);
    const symbolsFor: Record<string, string[]> = { pairs: ['INFY', 'TCS'], 'momentum-rotation': ['INFY', 'TCS', 'SBIN', 'ITC'] };
    for (const definition of STRATEGIES) {
      for (const field of definition.configFields) expect(field.description.length).toBeGreaterThan(0);
      const config: unknown = definition.parseConfig({ symbols: symbolsFor[definition.kind] ?? ['INFY'] });
      const kit = fakeContext(config);
      const state: unknown = definition.init(kit.ctx);
      expect(JSON.parse(JSON.stringify(definition.encodeState(state)))).toEqual(definition.encodeState(state));
    }
  });
});
