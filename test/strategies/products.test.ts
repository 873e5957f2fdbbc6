import { describe, expect, it } from 'vitest';
import { STRATEGIES, strategyByKind } from '../../src/strategies/index.js';

const productOf = (kind: string, config: Record<string, unknown>): string => {
  const definition = strategyByKind(kind);
  const parsed: unknown = definition.parseConfig(config);
  return definition.product?.(parsed) ?? 'undeclared';
};

describe('strategies declare the product their holding period needs', () => {
  it('every strategy declares one', () => {
    for (const definition of STRATEGIES) expect(definition.product, definition.kind).toBeTypeOf('function');
  });

  it('daily-bar strategies default to CNC (held overnight), intraday ones to MIS; an explicit product wins', () => {
    const two = { symbols: ['INFY', 'TCS'] };
    expect(productOf('ema-cross', { source: '1d' })).toBe('CNC');
    expect(productOf('ema-cross', {})).toBe('MIS'); // ticks
    expect(productOf('ema-cross', { source: '5m' })).toBe('MIS');
    expect(productOf('ema-cross', { source: '1d', product: 'MIS' })).toBe('MIS');
    expect(productOf('ema-cross', { source: '5m', product: 'CNC' })).toBe('CNC');
    expect(productOf('rsi-reversion', { interval: '1d' })).toBe('CNC');
    expect(productOf('rsi-reversion', {})).toBe('MIS');
    expect(productOf('breakout', { interval: '1d' })).toBe('CNC');
    expect(productOf('breakout', {})).toBe('MIS');
    expect(productOf('pairs', two)).toBe('MIS'); // a short leg: intraday only
    expect(productOf('pairs', { ...two, interval: '5m' })).toBe('MIS');
    expect(productOf('momentum-rotation', { symbols: ['INFY', 'TCS', 'SBIN'], topK: 1 })).toBe('CNC');
    expect(productOf('ensemble', two)).toBe('CNC');
    expect(productOf('opening-range', {})).toBe('MIS');
    expect(productOf('vwap-reversion', {})).toBe('MIS');
    expect(productOf('tutorial-sma', {})).toBe('MIS');
  });

  it('a short on daily bars needs MIS said explicitly (no overnight short in cash equity)', () => {
    expect(() => void strategyByKind('ema-cross').parseConfig({ source: '1d', allowShort: true })).toThrow(/allowShort: needs product MIS/);
    expect(productOf('ema-cross', { source: '1d', allowShort: true, product: 'MIS' })).toBe('MIS');
  });
});
