import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { signedQuantity, type Fill } from '../../src/model/fill.js';
import {
  applyFill,
  emptyPosition,
  marketValuePaise,
  markPosition,
  positionAveragePricePaise,
  unrealisedPaise,
  type Position,
} from '../../src/model/position.js';
import { fill } from './fixtures.js';

const fillArbitrary: fc.Arbitrary<Fill> = fc
  .record({
    side: fc.constantFrom('BUY' as const, 'SELL' as const),
    quantity: fc.integer({ min: 1, max: 5_000 }),
    pricePaise: fc.integer({ min: 1, max: 5_000_00 }),
    chargesPaise: fc.integer({ min: 0, max: 5_000 }),
  })
  .map((f) => fill(f));

const fillsArbitrary = fc.array(fillArbitrary, { maxLength: 40 });

const run = (fills: readonly Fill[], markPaise?: number): Position => {
  const position = fills.reduce(applyFill, emptyPosition('INFY', 'MIS'));
  return markPaise === undefined ? position : markPosition(position, markPaise);
};

/** −Σ signed quantity × price: the cash the fills moved before charges. */
const tradedCash = (fills: readonly Fill[]): number => fills.reduce((sum, f) => sum - signedQuantity(f) * f.pricePaise, 0);

describe('applyFill examples', () => {
  it('long: buy, add, partial sell realises against the average cost', () => {
    let p = run([fill({ quantity: 10, pricePaise: 100_00 }), fill({ quantity: 10, pricePaise: 110_00 })]);
    expect(p.netQuantity).toBe(20);
    expect(p.costPaise).toBe(2_100_00);
    expect(positionAveragePricePaise(p)).toBe(105_00);
    p = applyFill(p, fill({ side: 'SELL', quantity: 5, pricePaise: 120_00 }));
    expect(p.realisedPaise).toBe(5 * (120_00 - 105_00));
    expect(p.netQuantity).toBe(15);
    expect(markPosition(p, 100_00).lastPricePaise).toBe(100_00);
    expect(unrealisedPaise(markPosition(p, 100_00))).toBe(15 * 100_00 - p.costPaise);
  });

  it('short: sell then buy back lower makes money', () => {
    let p = run([fill({ side: 'SELL', quantity: 10, pricePaise: 200_00 })]);
    expect(p.netQuantity).toBe(-10);
    expect(p.costPaise).toBe(-2_000_00);
    expect(marketValuePaise(p)).toBe(-2_000_00);
    p = applyFill(p, fill({ side: 'BUY', quantity: 10, pricePaise: 190_00 }));
    expect(p.netQuantity).toBe(0);
    expect(p.costPaise).toBe(0);
    expect(p.realisedPaise).toBe(100_00);
  });

  it('flip through zero: long 10 → sell 15 → short 5 at the fill price', () => {
    const p = run([fill({ quantity: 10, pricePaise: 100_00 }), fill({ side: 'SELL', quantity: 15, pricePaise: 105_00 })]);
    expect(p.netQuantity).toBe(-5);
    expect(p.realisedPaise).toBe(10 * 5_00);
    expect(p.costPaise).toBe(-5 * 105_00);
    expect(positionAveragePricePaise(p)).toBe(105_00);
    expect(p.buyQuantity).toBe(10);
    expect(p.sellQuantity).toBe(15);
    expect(p.sellValuePaise).toBe(15 * 105_00);
  });

  it('keeps the rounding of a partial close from leaking: 3 @ 1, 3 @ 2 then sell 1', () => {
    const p = run([
      fill({ quantity: 1, pricePaise: 1 }),
      fill({ quantity: 1, pricePaise: 2 }),
      fill({ quantity: 1, pricePaise: 2 }),
      fill({ side: 'SELL', quantity: 1, pricePaise: 2 }),
    ]);
    // cost 5 over 3 shares; removing one third rounds 5/3 to 2.
    expect(p.costPaise).toBe(3);
    expect(p.realisedPaise).toBe(0);
    expect(p.realisedPaise - p.costPaise).toBe(-3);
  });
});

describe('applyFill properties', () => {
  it('net quantity is the sum of signed fills; buy/sell totals add up', () => {
    fc.assert(
      fc.property(fillsArbitrary, (fills) => {
        const p = run(fills);
        expect(p.netQuantity).toBe(fills.reduce((sum, f) => sum + signedQuantity(f), 0));
        expect(p.buyQuantity - p.sellQuantity).toBe(p.netQuantity);
        expect(p.sellValuePaise - p.buyValuePaise).toBe(tradedCash(fills));
        expect(p.chargesPaise).toBe(fills.reduce((sum, f) => sum + f.chargesPaise, 0));
      }),
    );
  });

  it('realised + unrealised = traded cash + market value, to the paisa, at any mark', () => {
    fc.assert(
      fc.property(fillsArbitrary, fc.integer({ min: 1, max: 5_000_00 }), (fills, mark) => {
        const p = run(fills, mark);
        expect(p.realisedPaise + unrealisedPaise(p)).toBe(tradedCash(fills) + marketValuePaise(p));
      }),
    );
  });

  it('total P&L is invariant under permutations of the fills at a fixed mark', () => {
    fc.assert(
      fc.property(
        fillsArbitrary.chain((fills) => fc.tuple(fc.constant(fills), fc.shuffledSubarray(fills, { minLength: fills.length, maxLength: fills.length }))),
        fc.integer({ min: 1, max: 5_000_00 }),
        ([fills, shuffled], mark) => {
          const a = run(fills, mark);
          const b = run(shuffled, mark);
          expect(b.netQuantity).toBe(a.netQuantity);
          expect(b.realisedPaise + unrealisedPaise(b)).toBe(a.realisedPaise + unrealisedPaise(a));
        },
      ),
    );
  });

  it('realised P&L alone depends on the order of the fills', () => {
    const fills = [fill({ quantity: 1, pricePaise: 100 }), fill({ side: 'SELL', quantity: 1, pricePaise: 150 }), fill({ quantity: 1, pricePaise: 120 })];
    const reordered = [fills[0]!, fills[2]!, fills[1]!];
    expect(run(fills, 130).realisedPaise).not.toBe(run(reordered, 130).realisedPaise);
    expect(run(fills, 130).realisedPaise + unrealisedPaise(run(fills, 130))).toBe(run(reordered, 130).realisedPaise + unrealisedPaise(run(reordered, 130)));
  });

  it('a flat position has zero cost and zero unrealised P&L', () => {
    fc.assert(
      fc.property(fillsArbitrary, fc.integer({ min: 1, max: 5_000_00 }), (fills, closePrice) => {
        let p = run(fills);
        if (p.netQuantity !== 0) {
          p = applyFill(p, fill({ side: p.netQuantity > 0 ? 'SELL' : 'BUY', quantity: Math.abs(p.netQuantity), pricePaise: closePrice }));
        }
        expect(p.netQuantity).toBe(0);
        expect(p.costPaise).toBe(0);
        expect(unrealisedPaise(p)).toBe(0);
      }),
    );
  });
});
