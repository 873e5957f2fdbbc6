import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  assertPaise,
  divRound,
  formatInr,
  mul,
  mulDivRound,
  MoneyOverflowError,
  paiseToRupeeString,
  parseRupees,
  rupeesToPaise,
} from '../../src/model/money.js';

/** Reference: round half away from zero with BigInt. */
function referenceDivRound(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  let quotient = n / d;
  if ((n % d) * 2n >= d) quotient += 1n;
  return negative ? -quotient : quotient;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const safe = fc.maxSafeInteger();
const nonZero = fc.maxSafeInteger().filter((d) => d !== 0);
const smallNonZero = fc.integer({ min: -1000, max: 1000 }).filter((d) => d !== 0);

describe('divRound', () => {
  it('equals the BigInt reference for all safe integers', () => {
    fc.assert(
      fc.property(safe, fc.oneof(nonZero, smallNonZero), (n, d) => {
        expect(BigInt(divRound(n, d))).toBe(referenceDivRound(BigInt(n), BigInt(d)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is exact next to 2^53', () => {
    const top = Number.MAX_SAFE_INTEGER;
    for (const n of [top, top - 1, top - 2, -top, 2 ** 52 + 1, 2 ** 52 - 1]) {
      for (const d of [1, 2, 3, 7, 10, 100, 99_999, 2 ** 26 + 1, top]) {
        expect(BigInt(divRound(n, d))).toBe(referenceDivRound(BigInt(n), BigInt(d)));
      }
    }
  });

  it('rounds halves away from zero', () => {
    expect(divRound(5, 2)).toBe(3);
    expect(divRound(-5, 2)).toBe(-3);
    expect(divRound(5, -2)).toBe(-3);
    expect(divRound(7, 4)).toBe(2);
    expect(divRound(1, 3)).toBe(0);
  });

  it('never returns negative zero', () => {
    expect(Object.is(divRound(-1, 3), 0)).toBe(true);
    expect(Object.is(divRound(0, -5), 0)).toBe(true);
  });

  it('rejects non-integers and zero', () => {
    expect(() => divRound(1.5, 2)).toThrow(TypeError);
    expect(() => divRound(1, 0)).toThrow(RangeError);
  });
});

describe('mulDivRound', () => {
  it('equals the BigInt reference, including products beyond 2^53', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: -(2 ** 30), max: 2 ** 30 }),
        fc.oneof(nonZero, smallNonZero),
        (v, num, d) => {
          const expected = referenceDivRound(BigInt(v) * BigInt(num), BigInt(d));
          if (expected > MAX || expected < -MAX) {
            expect(() => mulDivRound(v, num, d)).toThrow(MoneyOverflowError);
          } else {
            expect(BigInt(mulDivRound(v, num, d))).toBe(expected);
          }
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('handles the rates the cost model uses', () => {
    expect(mulDivRound(10_000_000, 297, 10_000_000)).toBe(297);
    expect(mulDivRound(2_307, 18, 100)).toBe(415); // 415.26
    expect(mulDivRound(4_614, 18, 100)).toBe(831); // 830.52
  });

  it('rejects non-integers and zero denominators', () => {
    expect(() => mulDivRound(0.5, 4, 1)).toThrow(TypeError);
    expect(() => mulDivRound(2 ** 40, 2 ** 20, 0)).toThrow(RangeError);
  });
});

describe('mul and assertPaise', () => {
  it('multiplies exactly or throws', () => {
    expect(mul(2 ** 26, 2 ** 26)).toBe(2 ** 52);
    expect(() => mul(2 ** 27, 2 ** 27)).toThrow(MoneyOverflowError);
  });
  it('asserts integers', () => {
    expect(assertPaise(5)).toBe(5);
    expect(() => assertPaise(0.1)).toThrow(TypeError);
    expect(() => assertPaise(Number.NaN)).toThrow(TypeError);
  });
});

describe('parseRupees', () => {
  it.each([
    ['1319.90', 131_990],
    ['1319.9000244140625', 131_990],
    ['42', 4_200],
    ['0.005', 1],
    ['-0.005', -1],
    ['0.0049', 0],
    ['0.015', 2],
    ['-0.015', -2],
    ['1.', 100],
    ['+3.5', 350],
    ['  7.25  ', 725],
    ['1e3', 100_000],
    ['1.5E2', 15_000],
    ['2.5e-1', 25],
    ['5e-3', 1],
    ['4.9e-3', 0],
    ['5e-4', 0],
    ['1e+2', 10_000],
    ['0.1', 10],
    ['00012.30', 1_230],
  ])('parses %s as %d paise', (text, paise) => {
    expect(parseRupees(text)).toBe(paise);
  });

  it('returns positive zero for negative zero amounts', () => {
    expect(Object.is(parseRupees('-0'), 0)).toBe(true);
    expect(Object.is(parseRupees('-0.001'), 0)).toBe(true);
  });

  it.each(['', 'abc', '1,000', '.5', '1.2.3', 'NaN', '1e', '₹5'])('rejects %j', (text) => {
    expect(() => parseRupees(text)).toThrow(SyntaxError);
  });

  it('throws beyond the exact range', () => {
    expect(() => parseRupees('1e20')).toThrow(MoneyOverflowError);
  });

  it('round-trips every paise amount through its rupee string', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), (paise) => {
        expect(parseRupees(paiseToRupeeString(paise))).toBe(paise);
      }),
    );
  });

  it('reads floats through their shortest representation', () => {
    expect(rupeesToPaise(1319.9000244140625)).toBe(131_990);
    expect(rupeesToPaise(0.1 + 0.2)).toBe(30);
    expect(rupeesToPaise(1e-7)).toBe(0);
    expect(() => rupeesToPaise(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('paiseToRupeeString and formatInr', () => {
  it('prints two decimals', () => {
    expect(paiseToRupeeString(131_990)).toBe('1319.90');
    expect(paiseToRupeeString(5)).toBe('0.05');
    expect(paiseToRupeeString(-5)).toBe('-0.05');
    expect(paiseToRupeeString(0)).toBe('0.00');
  });

  it('is exact next to 2^53', () => {
    expect(paiseToRupeeString(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
    expect(paiseToRupeeString(-Number.MAX_SAFE_INTEGER)).toBe('-90071992547409.91');
  });

  it.each([
    [0, '₹0.00'],
    [99, '₹0.99'],
    [100_000, '₹1,000.00'],
    [12_345_678, '₹1,23,456.78'],
    [10_000_000, '₹1,00,000.00'],
    [123_456_789_012, '₹1,23,45,67,890.12'],
    [-12_345_678, '-₹1,23,456.78'],
    [8_245, '₹82.45'],
  ])('formats %d as %s', (paise, text) => {
    expect(formatInr(paise)).toBe(text);
  });

  it('agrees with Intl en-IN grouping', () => {
    const intl = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: true });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (paise) => {
        const rupeesText = paiseToRupeeString(paise);
        // Intl takes a decimal string exactly (no float rounding) in Node 20.
        expect(formatInr(paise)).toBe(`₹${intl.format(rupeesText as `${number}`)}`);
      }),
    );
  });
});
