import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Fill } from '../../src/model/fill.js';
import { applyFillToPortfolio, markPortfolio, newPortfolio, positionKey, summarisePortfolio, type PortfolioState } from '../../src/model/portfolio.js';
import { fill } from './fixtures.js';

const SYMBOLS = ['INFY', 'TCS', 'SBIN'] as const;
const INITIAL = 10_00_000_00; // ₹10 lakh

const fillArbitrary: fc.Arbitrary<Fill> = fc
  .record({
    symbol: fc.constantFrom(...SYMBOLS),
    product: fc.constantFrom('MIS' as const, 'CNC' as const),
    side: fc.constantFrom('BUY' as const, 'SELL' as const),
    quantity: fc.integer({ min: 1, max: 2_000 }),
    pricePaise: fc.integer({ min: 1, max: 5_000_00 }),
    chargesPaise: fc.integer({ min: 0, max: 10_000 }),
  })
  .map((f) => fill(f));

const marksArbitrary = fc.tuple(fc.integer({ min: 1, max: 5_000_00 }), fc.integer({ min: 1, max: 5_000_00 }), fc.integer({ min: 1, max: 5_000_00 }));

function run(fills: readonly Fill[], marks: readonly number[]): PortfolioState {
  let state = fills.reduce(applyFillToPortfolio, newPortfolio('pf-1', INITIAL));
  SYMBOLS.forEach((symbol, i) => {
    state = markPortfolio(state, symbol, marks[i]!);
  });
  return state;
}

describe('portfolio', () => {
  it('moves cash by the exact traded value and the charges', () => {
    let state = newPortfolio('pf-1', INITIAL);
    state = applyFillToPortfolio(state, fill({ quantity: 10, pricePaise: 1_500_05, chargesPaise: 123 }));
    expect(state.cashPaise).toBe(INITIAL - 15_000_50 - 123);
    state = applyFillToPortfolio(state, fill({ side: 'SELL', quantity: 4, pricePaise: 1_510_00, chargesPaise: 77 }));
    expect(state.cashPaise).toBe(INITIAL - 15_000_50 - 123 + 6_040_00 - 77);
    expect(state.fillCount).toBe(2);
    expect(state.positions[positionKey('INFY', 'MIS')]?.netQuantity).toBe(6);
  });

  it('keeps products apart', () => {
    let state = newPortfolio('pf-1', INITIAL);
    state = applyFillToPortfolio(state, fill({ product: 'MIS' }));
    state = applyFillToPortfolio(state, fill({ product: 'CNC', side: 'SELL' }));
    expect(Object.keys(state.positions).sort()).toEqual(['INFY:CNC', 'INFY:MIS']);
  });

  it('markPortfolio returns the same object when nothing changes', () => {
    const state = applyFillToPortfolio(newPortfolio('pf-1', INITIAL), fill({ pricePaise: 100_00 }));
    expect(markPortfolio(state, 'INFY', 100_00)).toBe(state);
    expect(markPortfolio(state, 'TCS', 5)).toBe(state);
    expect(markPortfolio(state, 'INFY', 101_00)).not.toBe(state);
  });

  it('cash + market value = equity, and realised + unrealised − charges = equity − initial cash, to the paisa', () => {
    fc.assert(
      fc.property(fc.array(fillArbitrary, { maxLength: 60 }), marksArbitrary, (fills, marks) => {
        const summary = summarisePortfolio(run(fills, marks));
        expect(summary.cashPaise + summary.marketValuePaise).toBe(summary.equityPaise);
        expect(summary.realisedPaise + summary.unrealisedPaise - summary.chargesPaise).toBe(summary.equityPaise - INITIAL);
        expect(summary.netPnlPaise).toBe(summary.equityPaise - INITIAL);
        expect(summary.chargesPaise).toBe(fills.reduce((sum, f) => sum + f.chargesPaise, 0));
        expect(summary.grossExposurePaise).toBeGreaterThanOrEqual(Math.abs(summary.netExposurePaise));
      }),
    );
  });

  it('equity and total P&L are invariant under permutations of the fills at fixed marks', () => {
    fc.assert(
      fc.property(
        fc
          .array(fillArbitrary, { maxLength: 40 })
          .chain((fills) => fc.tuple(fc.constant(fills), fc.shuffledSubarray(fills, { minLength: fills.length, maxLength: fills.length }))),
        marksArbitrary,
        ([fills, shuffled], marks) => {
          const a = summarisePortfolio(run(fills, marks));
          const b = summarisePortfolio(run(shuffled, marks));
          expect(b.equityPaise).toBe(a.equityPaise);
          expect(b.realisedPaise + b.unrealisedPaise).toBe(a.realisedPaise + a.unrealisedPaise);
          expect(b.marketValuePaise).toBe(a.marketValuePaise);
        },
      ),
    );
  });
});
