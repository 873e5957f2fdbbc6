import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixedFractionQuantity, fixedRiskQuantity, volatilityTargetQuantity, volatilityToBps } from '../../src/risk/sizing.js';

describe('position sizing', () => {
  it('fixed fraction: 10 % of ₹10 lakh at ₹1,499.90 is 66 shares, rounded down to the lot', () => {
    expect(fixedFractionQuantity({ equityPaise: 10_00_000_00, pricePaise: 149_990, fractionBps: 1_000 })).toBe(66);
    expect(fixedFractionQuantity({ equityPaise: 10_00_000_00, pricePaise: 149_990, fractionBps: 1_000, lotSize: 25 })).toBe(50);
    expect(fixedFractionQuantity({ equityPaise: 10_00_000_00, pricePaise: 149_990, fractionBps: 1_000, maxQuantity: 40 })).toBe(40);
    expect(fixedFractionQuantity({ equityPaise: -5, pricePaise: 100, fractionBps: 1_000 })).toBe(0);
  });

  it('fixed risk to a stop: 1 % of ₹10 lakh with a ₹20 stop is 500 shares, capped by what equity buys', () => {
    expect(fixedRiskQuantity({ equityPaise: 10_00_000_00, pricePaise: 1_000_00, stopPricePaise: 980_00, riskBps: 100 })).toBe(500);
    expect(fixedRiskQuantity({ equityPaise: 10_00_000_00, pricePaise: 1_000_00, stopPricePaise: 999_99, riskBps: 100 })).toBe(1_000);
    expect(fixedRiskQuantity({ equityPaise: 10_00_000_00, pricePaise: 1_000_00, stopPricePaise: 1_000_00, riskBps: 100 })).toBe(0);
  });

  it('volatility target: 15 % target on a 30 % stock puts half of equity to work, never above 1× by default', () => {
    expect(volatilityTargetQuantity({ equityPaise: 10_00_000_00, pricePaise: 1_000_00, targetVolatilityBps: 1_500, instrumentVolatilityBps: 3_000 })).toBe(500);
    expect(volatilityTargetQuantity({ equityPaise: 10_00_000_00, pricePaise: 1_000_00, targetVolatilityBps: 1_500, instrumentVolatilityBps: 500 })).toBe(1_000);
    expect(
      volatilityTargetQuantity({
        equityPaise: 10_00_000_00,
        pricePaise: 1_000_00,
        targetVolatilityBps: 1_500,
        instrumentVolatilityBps: 500,
        maxLeverageBps: 20_000,
      }),
    ).toBe(2_000);
    expect(volatilityToBps(0.2534)).toBe(2_534);
    expect(() => volatilityToBps(Number.NaN)).toThrow(RangeError);
  });

  it('property: sizes are whole lots, never above the budget, exact for huge equity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 100 }),
        (equity, price, bps, lot) => {
          const quantity = fixedFractionQuantity({ equityPaise: equity, pricePaise: price, fractionBps: bps, lotSize: lot });
          expect(Number.isSafeInteger(quantity) && quantity >= 0 && quantity % lot === 0).toBe(true);
          expect(BigInt(quantity) * BigInt(price) * 10_000n <= BigInt(equity) * BigInt(bps)).toBe(true);
          expect(BigInt(quantity + lot) * BigInt(price) * 10_000n > BigInt(equity) * BigInt(bps)).toBe(true);
        },
      ),
    );
  });
});
