import { describe, expect, it } from 'vitest';
import { changeBasisPoints, parseRupeesToPaise, percentFromBasisPoints, quantity, rupees, signedRupees, tone } from './format.js';

describe('formatting', () => {
  it('formats paise as en-IN rupees with lakh/crore grouping', () => {
    expect(rupees(0)).toBe('₹0.00');
    expect(rupees(5)).toBe('₹0.05');
    expect(rupees(12_345_678)).toBe('₹1,23,456.78');
    expect(rupees(1_000_000_000)).toBe('₹1,00,00,000.00');
    expect(rupees(-150)).toBe('-₹1.50');
    expect(rupees(null)).toBe('—');
  });

  it('signs P&L and gives its tone', () => {
    expect(signedRupees(12_000)).toBe('+₹120.00');
    expect(signedRupees(-1)).toBe('-₹0.01');
    expect(signedRupees(0)).toBe('₹0.00');
    expect([tone(5), tone(-5), tone(0)]).toEqual(['up', 'down', 'flat']);
  });

  it('groups quantities en-IN', () => {
    expect(quantity(1_234_567)).toBe('12,34,567');
  });

  it('computes change in exact basis points and prints it as a percentage', () => {
    expect(changeBasisPoints(101_23, 100_00)).toBe(123);
    expect(changeBasisPoints(99_00, 100_00)).toBe(-100);
    expect(changeBasisPoints(100_00, 0)).toBe(0);
    expect(percentFromBasisPoints(123)).toBe('+1.23%');
    expect(percentFromBasisPoints(-5)).toBe('-0.05%');
    expect(percentFromBasisPoints(0)).toBe('0.00%');
  });

  it('parses typed rupees into paise without floating point', () => {
    expect(parseRupeesToPaise('1520.5')).toBe(152_050);
    expect(parseRupeesToPaise('₹ 1,234.05')).toBe(123_405);
    expect(parseRupeesToPaise('0.1')).toBe(10);
    // 0.1 + 0.2 style float errors cannot happen: digits are read as integers
    expect(parseRupeesToPaise('4.35')).toBe(435);
    expect(parseRupeesToPaise('1.234')).toBeUndefined();
    expect(parseRupeesToPaise('-5')).toBeUndefined();
    expect(parseRupeesToPaise('abc')).toBeUndefined();
  });
});
