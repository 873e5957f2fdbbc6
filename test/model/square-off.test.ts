import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSquareOffTime, isPastMisCutoff, parseSquareOffTime, squareOffInstantMs, squareOffSlices } from '../../src/model/square-off.js';

/** IST wall time to epoch ms, written here from the offset (UTC+05:30), not with the model's helpers. */
const ist = (date: string, hh: number, mm: number, ss = 0, ms = 0): number =>
  Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)), hh, mm, ss, ms) - 330 * 60_000;

/** The expected order list of a square-off, built independently: full orders of the largest lot multiple ≤ 30,000, the rest last. */
function expectedSlices(quantity: number, lot = 1): number[] {
  const largest = Math.floor(30_000 / lot) * lot;
  const out: number[] = [];
  const full = Math.floor((quantity - 1) / largest);
  for (let i = 0; i < full; i += 1) out.push(largest);
  out.push(quantity - full * largest);
  return out;
}

describe('MIS cut-off', () => {
  it('is 15:20 IST by default: 15:19:59.999 is before it, 15:20:00 and the rest of the day after it, the next morning before it', () => {
    expect(isPastMisCutoff(ist('2026-05-20', 15, 19, 59, 999))).toBe(false);
    expect(isPastMisCutoff(ist('2026-05-20', 15, 20))).toBe(true);
    expect(isPastMisCutoff(ist('2026-05-20', 15, 29, 59))).toBe(true);
    expect(isPastMisCutoff(ist('2026-05-20', 23, 59, 59))).toBe(true);
    expect(isPastMisCutoff(ist('2026-05-21', 9, 15))).toBe(false);
    expect(squareOffInstantMs(ist('2026-05-20', 10, 3))).toBe(ist('2026-05-20', 15, 20));
  });

  it('is configurable as "HH:MM" IST', () => {
    expect(parseSquareOffTime('15:20')).toBe(920);
    expect(parseSquareOffTime('9:05')).toBe(545);
    expect(formatSquareOffTime(920)).toBe('15:20');
    expect(isPastMisCutoff(ist('2026-05-20', 15, 0), parseSquareOffTime('15:00'))).toBe(true);
    expect(isPastMisCutoff(ist('2026-05-20', 14, 59), parseSquareOffTime('15:00'))).toBe(false);
    for (const bad of ['15', '25:00', '15:60', '3pm', '']) expect(() => parseSquareOffTime(bad)).toThrow(/15:20/);
  });
});

describe('square-off orders of at most 30,000 units', () => {
  it('slices a position into full orders and the rest', () => {
    expect(squareOffSlices(1)).toEqual([1]);
    expect(squareOffSlices(30_000)).toEqual([30_000]);
    expect(squareOffSlices(30_001)).toEqual([30_000, 1]);
    expect(squareOffSlices(75_001)).toEqual([30_000, 30_000, 15_001]);
    expect(squareOffSlices(60_000)).toEqual([30_000, 30_000]);
    // a lot of 7: the largest order is 29,995 units
    expect(squareOffSlices(70, 7)).toEqual([70]);
    expect(squareOffSlices(29_995 + 14, 7)).toEqual([29_995, 14]);
    expect(() => squareOffSlices(0)).toThrow(RangeError);
  });

  it('matches an independent slicing for any quantity and lot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 10_000 }), (lot, lots) => {
        const quantity = lot * lots;
        const slices = squareOffSlices(quantity, lot);
        expect(slices).toEqual(expectedSlices(quantity, lot));
        expect(slices.every((slice) => slice <= 30_000 && slice % lot === 0 && slice > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
