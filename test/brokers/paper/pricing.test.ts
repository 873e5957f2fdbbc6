import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  limitTradedThrough,
  marketFillPricePaise,
  mulDivDirected,
  participationCap,
  stopTriggered,
  takerLimitPricePaise,
} from '../../../src/brokers/paper/pricing.js';
import { MoneyOverflowError } from '../../../src/model/money.js';

const band = { lowerPaise: 800_00, upperPaise: 1_200_00 };

describe('mulDivDirected', () => {
  it('floors and ceils exactly (BigInt reference)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 2 ** 24 }),
        fc.oneof(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 100 })),
        (v, n, d) => {
          const product = BigInt(v) * BigInt(n);
          const floor = product / BigInt(d);
          const ceil = product % BigInt(d) === 0n ? floor : floor + 1n;
          if (ceil > BigInt(Number.MAX_SAFE_INTEGER)) {
            expect(() => mulDivDirected(v, n, d, 'ceil')).toThrow(MoneyOverflowError);
            return;
          }
          expect(BigInt(mulDivDirected(v, n, d, 'floor'))).toBe(floor);
          expect(BigInt(mulDivDirected(v, n, d, 'ceil'))).toBe(ceil);
        },
      ),
    );
  });
});

describe('marketFillPricePaise', () => {
  it('without slippage fills at the touch', () => {
    expect(marketFillPricePaise('BUY', 1_000_05, 0, 5, band)).toBe(1_000_05);
    expect(marketFillPricePaise('SELL', 999_95, 0, 5, band)).toBe(999_95);
  });

  it('moves the price against the trader and rounds onto the grid against the trader', () => {
    // 0.3 bp of ₹1,000 = 3 paise: buy 1000.03 → 1000.05, sell 999.97 → 999.95.
    expect(marketFillPricePaise('BUY', 1_000_00, 0.3, 5, band)).toBe(1_000_05);
    expect(marketFillPricePaise('SELL', 1_000_00, 0.3, 5, band)).toBe(999_95);
    // 10 bp of ₹1,000 = ₹1 exactly.
    expect(marketFillPricePaise('BUY', 1_000_00, 10, 5, band)).toBe(1_001_00);
    expect(marketFillPricePaise('SELL', 1_000_00, 10, 5, band)).toBe(999_00);
    // Sub-paisa slippage still costs a paisa: 0.01 bp of ₹1 = 0.0001 paise.
    expect(marketFillPricePaise('BUY', 100, 0.01, 1, { lowerPaise: 1, upperPaise: 1_000 })).toBe(101);
    expect(marketFillPricePaise('SELL', 100, 0.01, 1, { lowerPaise: 1, upperPaise: 1_000 })).toBe(99);
  });

  it('never crosses the circuit limits', () => {
    expect(marketFillPricePaise('BUY', 1_199_95, 50, 5, band)).toBe(1_200_00);
    expect(marketFillPricePaise('SELL', 800_05, 50, 5, band)).toBe(800_00);
  });

  it('is always on the grid and never better than the touch (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 800_00, max: 1_200_00 }).map((p) => p - (p % 5)),
        fc.integer({ min: 0, max: 500 }),
        fc.constantFrom('BUY' as const, 'SELL' as const),
        (touch, bps, side) => {
          const price = marketFillPricePaise(side, touch, bps / 10, 5, band);
          expect(price % 5).toBe(0);
          if (side === 'BUY') expect(price).toBeGreaterThanOrEqual(touch);
          else expect(price).toBeLessThanOrEqual(touch);
        },
      ),
    );
  });
});

describe('participationCap', () => {
  it('takes the share of the traded quantity, in whole lots, at most the remainder', () => {
    expect(participationCap(300, 10, 1, 100)).toBe(30);
    expect(participationCap(300, 100, 1, 100)).toBe(100);
    expect(participationCap(9, 10, 1, 100)).toBe(0);
    expect(participationCap(1_000, 10, 25, 1_000)).toBe(100);
    expect(participationCap(1_000, 12, 25, 1_000)).toBe(100);
    expect(participationCap(0, 100, 1, 100)).toBe(0);
    expect(participationCap(-5, 100, 1, 100)).toBe(0);
  });
});

describe('trigger and limit rules', () => {
  it('stops trigger when the LTP reaches the trigger', () => {
    expect(stopTriggered('BUY', 1_010_00, 1_009_95)).toBe(false);
    expect(stopTriggered('BUY', 1_010_00, 1_010_00)).toBe(true);
    expect(stopTriggered('SELL', 990_00, 990_05)).toBe(false);
    expect(stopTriggered('SELL', 990_00, 990_00)).toBe(true);
  });

  it('resting limits need a trade through, or a touch with fillAtTouch', () => {
    expect(limitTradedThrough('BUY', 1_000_00, 1_000_00, false)).toBe(false);
    expect(limitTradedThrough('BUY', 1_000_00, 1_000_00, true)).toBe(true);
    expect(limitTradedThrough('BUY', 1_000_00, 999_95, false)).toBe(true);
    expect(limitTradedThrough('SELL', 1_000_00, 1_000_00, false)).toBe(false);
    expect(limitTradedThrough('SELL', 1_000_00, 1_000_05, false)).toBe(true);
    expect(limitTradedThrough('SELL', 1_000_00, 999_95, true)).toBe(false);
  });

  it('a marketable limit takes the touch', () => {
    expect(takerLimitPricePaise('BUY', 1_000_00, { ltpPaise: 990_00, askPaise: 995_00 }, false)).toBe(995_00);
    expect(takerLimitPricePaise('BUY', 1_000_00, { ltpPaise: 990_00, askPaise: 1_000_00 }, false)).toBe(1_000_00);
    expect(takerLimitPricePaise('BUY', 1_000_00, { ltpPaise: 990_00, askPaise: 1_000_05 }, false)).toBeUndefined();
    expect(takerLimitPricePaise('SELL', 1_000_00, { ltpPaise: 1_010_00, bidPaise: 1_005_00 }, false)).toBe(1_005_00);
    expect(takerLimitPricePaise('BUY', 1_000_00, { ltpPaise: 990_00 }, false)).toBe(990_00);
    expect(takerLimitPricePaise('BUY', 1_000_00, { ltpPaise: 1_000_00 }, false)).toBeUndefined();
    expect(takerLimitPricePaise('BUY', 1_000_00, { ltpPaise: 1_000_00 }, true)).toBe(1_000_00);
  });
});
