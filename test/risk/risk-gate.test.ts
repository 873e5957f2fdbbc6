import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RiskGate, type RiskLimits } from '../../src/risk/risk-gate.js';
import { intent } from '../support/builders.js';

const limits: RiskLimits = {
  maxOrderValuePaise: 1_000_000_00,
  maxOrderQuantity: 1_000,
  maxPositionQuantity: 1_500,
  maxOrdersPerSecond: 5,
  maxOrdersPerSecondPerStrategy: 3,
};
const t0 = Date.parse('2026-05-20T04:00:00Z');

describe('RiskGate', () => {
  it('approves an order inside every limit and reserves it as working', () => {
    const gate = new RiskGate(limits);
    expect(gate.evaluate(intent({ quantity: 100 }), 150_000, t0)).toBeUndefined();
    expect(gate.exposure('p1', 'INFY')).toEqual({ net: 0, working: 100 });
  });

  it.each([
    ['invalid-quantity', intent({ quantity: 0 }), 150_000],
    ['invalid-quantity', intent({ quantity: 1.5 }), 150_000],
    ['no-price', intent(), undefined],
    ['max-order-quantity', intent({ quantity: 1_001 }), 100],
    ['max-order-value', intent({ quantity: 1_000 }), 1_000_001],
  ] as const)('refuses with %s', (code, request, price) => {
    const gate = new RiskGate(limits);
    expect(gate.evaluate(request, price, t0)?.code).toBe(code);
    expect(gate.exposure('p1', 'INFY')).toEqual({ net: 0, working: 0 });
  });

  it('counts working orders against the position limit, and lets a reducing order through', () => {
    const gate = new RiskGate({ ...limits, maxOrdersPerSecond: 100, maxOrdersPerSecondPerStrategy: 100 });
    expect(gate.evaluate(intent({ quantity: 1_000 }), 100, t0)).toBeUndefined();
    expect(gate.evaluate(intent({ quantity: 600 }), 100, t0)?.code).toBe('max-position');
    gate.onFill('p1', 'INFY', 1_000);
    expect(gate.exposure('p1', 'INFY')).toEqual({ net: 1_000, working: 0 });
    expect(gate.evaluate(intent({ side: 'SELL', quantity: 1_000 }), 100, t0)).toBeUndefined();
    gate.onOrderClosed('p1', 'INFY', -1_000);
    expect(gate.exposure('p1', 'INFY')).toEqual({ net: 1_000, working: 0 });
  });

  it('limits orders per rolling second, per strategy and overall', () => {
    const gate = new RiskGate({ ...limits, maxPositionQuantity: 1_000_000 });
    for (let i = 0; i < 3; i += 1) expect(gate.evaluate(intent({ quantity: 1 }), 100, t0 + i)).toBeUndefined();
    expect(gate.evaluate(intent({ quantity: 1 }), 100, t0 + 10)?.code).toBe('max-orders-per-second-strategy');
    expect(gate.evaluate(intent({ quantity: 1, strategyId: 's2' }), 100, t0 + 10)).toBeUndefined();
    expect(gate.evaluate(intent({ quantity: 1, strategyId: 's2' }), 100, t0 + 11)).toBeUndefined();
    expect(gate.evaluate(intent({ quantity: 1, strategyId: 's3' }), 100, t0 + 12)?.code).toBe('max-orders-per-second');
    // a second later the window has moved on
    expect(gate.evaluate(intent({ quantity: 1 }), 100, t0 + 1_001)).toBeUndefined();
  });

  it('property: no sequence of intents and fills gets an order approved that breaks a limit', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('intent' as const), side: fc.constantFrom('BUY' as const, 'SELL' as const), quantity: fc.integer({ min: -5, max: 1_200 }), price: fc.integer({ min: 1, max: 2_000_000 }), dtMs: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ kind: fc.constant('fill-all' as const) }),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        const gate = new RiskGate(limits);
        let now = t0;
        const approvedTimes: number[] = [];
        for (const a of actions) {
          if (a.kind === 'fill-all') {
            const exposure = gate.exposure('p1', 'INFY');
            gate.onFill('p1', 'INFY', exposure.working);
            continue;
          }
          now += a.dtMs;
          const before = { ...gate.exposure('p1', 'INFY') };
          const rejection = gate.evaluate(intent({ side: a.side, quantity: a.quantity }), a.price, now);
          if (rejection) continue;
          approvedTimes.push(now);
          expect(a.quantity).toBeGreaterThan(0);
          expect(a.quantity).toBeLessThanOrEqual(limits.maxOrderQuantity);
          expect(a.quantity * a.price).toBeLessThanOrEqual(limits.maxOrderValuePaise);
          const after = gate.exposure('p1', 'INFY');
          const worst = Math.abs(after.net + after.working);
          expect(worst <= limits.maxPositionQuantity || worst < Math.abs(before.net + before.working)).toBe(true);
          expect(approvedTimes.filter((t) => now - t < 1000).length).toBeLessThanOrEqual(limits.maxOrdersPerSecondPerStrategy);
        }
      }),
      { numRuns: 300 },
    );
  });
});
