import { describe, expect, it } from 'vitest';
import type { Bar } from '../../src/model/index.js';
import { type Json } from '../../src/strategies/api.js';
import { hedgeAndZ, pairs, type PairsConfig } from '../../src/strategies/pairs/pairs.strategy.js';
import { fakeContext, netSubmitted, runBars } from '../support/strategy-kit.js';
import { barsFromCloses, deterministicBacktest, FIVE_MINUTE_DATA } from './helpers.js';

const config = (overrides: Record<string, unknown> = {}): PairsConfig =>
  pairs.parseConfig({ symbols: ['HDFCBANK', 'ICICIBANK'], lookback: 10, entryZ: 2, exitZ: 0.5, quantity: 10, interval: '5m', ...overrides });

/** Second leg wanders; the first is twice it with small noise, then a 3% dislocation that heals. */
function path(): { first: number[]; second: number[] } {
  const second = Array.from({ length: 30 }, (_, t) => Math.round(100_000 + 3_000 * Math.sin(t / 4) + 400 * t));
  const first = second.map((p, t) => Math.round(2 * p * (1 + 0.002 * Math.sin(t * 1.7)) * (t === 20 ? 1.03 : 1)));
  return { first, second };
}

/** Both legs' 5-minute bars, interleaved by time as the host delivers them. */
function interleaved(first: readonly number[], second: readonly number[]): Bar[] {
  const a = barsFromCloses('HDFCBANK', first, { interval: '5m' });
  const b = barsFromCloses('ICICIBANK', second, { interval: '5m' });
  return a.flatMap((bar, i) => [bar, b[i]!]);
}

describe('pairs strategy', () => {
  it('fits the hedge ratio by least squares and z-scores the last residual', () => {
    const fit = hedgeAndZ([1, 2, 3, 4], [1, 2, 3, 5])!;
    expect(fit.beta).toBeCloseTo(6.5 / 8.75, 12);
    const spread = [1, 2, 3, 4].map((y, i) => y - fit.beta * [1, 2, 3, 5][i]!);
    const mean = spread.reduce((s, v) => s + v, 0) / 4;
    const sd = Math.sqrt(spread.reduce((s, v) => s + (v - mean) ** 2, 0) / 4);
    expect(fit.z).toBeCloseTo((spread[3]! - mean) / sd, 12);
    expect(hedgeAndZ([2, 4, 6], [1, 2, 3])).toBeNull(); // a perfect fit has no spread to trade
    expect(hedgeAndZ([1, 2, 3], [5, 5, 5])).toBeNull();
  });

  it('applies defaults and rejects bad settings with the field named', () => {
    expect(pairs.parseConfig({ symbols: ['A', 'B'] })).toMatchObject({ lookback: 60, entryZ: 2, exitZ: 0.5, quantity: 10, product: 'MIS', interval: '15m' });
    expect(pairs.parseConfig({ symbols: ['A', 'B'], interval: '5m' })).toMatchObject({ product: 'MIS' });
    // a MIS leg opened on a daily close (15:30) would be past the 15:20 cut-off
    expect(() => config({ interval: '1d' })).toThrow(/interval: must be intraday/);
    expect(() => config({ symbols: ['HDFCBANK'] })).toThrow(/symbols: must name exactly two symbols/);
    expect(() => config({ symbols: ['INFY', 'INFY'] })).toThrow(/symbols: must name two different/);
    expect(() => config({ exitZ: 2 })).toThrow(/exitZ: must be smaller than entryZ/);
    expect(() => config({ lookback: 5 })).toThrow(/lookback: must be at least 10/);
    // a pair has a short leg: CNC cannot sell short (the broker refuses a CNC sell without holdings)
    expect(() => config({ product: 'CNC' })).toThrow(/product/);
  });

  it('shorts the spread on a rich z-score with both legs, and closes both when it heals', () => {
    const { first, second } = path();
    const kit = fakeContext(config());
    const bars = interleaved(first, second);
    let state = runBars(pairs, pairs.init(kit.ctx), bars.slice(0, 42), kit.ctx); // through t = 20
    expect(kit.recorded.submitted.map((r) => [r.symbol, r.side])).toEqual([
      ['HDFCBANK', 'SELL'],
      ['ICICIBANK', 'BUY'],
    ]);
    expect(kit.recorded.submitted[0]).toMatchObject({ quantity: 10, orderType: 'MARKET', product: 'MIS' });
    // second leg ≈ β · 10 · P₁/P₂ with β near 1 in logs and P₁/P₂ near 2
    expect(kit.recorded.submitted[1]!.quantity).toBeGreaterThan(10);
    expect(Number.isInteger(kit.recorded.submitted[1]!.quantity)).toBe(true);
    expect(state.lastZ!).toBeGreaterThan(2);
    kit.fillAll();
    state = runBars(pairs, state, bars.slice(42), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(4);
    expect(netSubmitted(kit.recorded, 'HDFCBANK')).toBe(0);
    expect(netSubmitted(kit.recorded, 'ICICIBANK')).toBe(0);
    expect(kit.recorded.submitted[2]!.reason).toMatch(/back inside ±0.5/);
  });

  it('goes long the spread on a cheap z-score and waits for both legs of a bar time', () => {
    const { first, second } = path();
    const cheap = first.map((p, t) => (t === 20 ? Math.round(p * 0.94) : p));
    const kit = fakeContext(config());
    const bars = interleaved(cheap, second);
    // a lone first-leg bar at a time the second leg never prints is ignored
    const lone = barsFromCloses('HDFCBANK', [1], { interval: '5m', date: '2020-01-01' });
    runBars(pairs, pairs.init(kit.ctx), [...lone, ...bars.slice(0, 42)], kit.ctx);
    expect(kit.recorded.submitted.map((r) => [r.symbol, r.side])).toEqual([
      ['HDFCBANK', 'BUY'],
      ['ICICIBANK', 'SELL'],
    ]);
  });

  it('believes the fills, not its intents: a refused leg is sent again while the trade is on, so the pair is not left unhedged', () => {
    const second = Array.from({ length: 30 }, (_, t) => Math.round(100_000 + 3_000 * Math.sin(t / 4) + 400 * t));
    // a dislocation that widens for two bars (z 2.8, then 1.8: between exitZ and entryZ)
    const first = second.map((p, t) => Math.round(2 * p * (1 + 0.002 * Math.sin(t * 1.7)) * (t === 20 ? 1.03 : t === 21 ? 1.08 : 1)));
    const kit = fakeContext(config());
    const bars = interleaved(first, second);
    let state = runBars(pairs, pairs.init(kit.ctx), bars.slice(0, 42), kit.ctx);
    expect(kit.recorded.submitted.map((r) => [r.symbol, r.side])).toEqual([
      ['HDFCBANK', 'SELL'],
      ['ICICIBANK', 'BUY'],
    ]);
    const hedge = kit.recorded.submitted[1]!.quantity;
    kit.fill('HDFCBANK');
    kit.refuse('ICICIBANK'); // one leg refused: short HDFCBANK alone
    state = runBars(pairs, state, bars.slice(42, 44), kit.ctx);
    expect(state.lastZ!).toBeGreaterThan(0.5);
    expect(kit.recorded.submitted.slice(2).map((r) => [r.symbol, r.side, r.quantity])).toEqual([['ICICIBANK', 'BUY', hedge]]);
    kit.fillAll();
    runBars(pairs, state, bars.slice(44), kit.ctx);
    // hedged, then closed together when the spread heals
    expect(kit.recorded.submitted.slice(3, 5).map((r) => [r.symbol, r.side, r.quantity])).toEqual([
      ['HDFCBANK', 'BUY', 10],
      ['ICICIBANK', 'SELL', hedge],
    ]);
    expect(kit.recorded.submitted[3]!.reason).toMatch(/back inside ±0.5/);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const { first, second } = path();
    const bars = interleaved(first, second);
    const a = fakeContext(config());
    const b = fakeContext(config());
    const stateA = runBars(pairs, pairs.init(a.ctx), bars.slice(0, 25), a.ctx); // mid-bar: one leg pending
    const stateB = runBars(pairs, pairs.init(b.ctx), bars.slice(0, 25), b.ctx);
    const restored = pairs.decodeState(JSON.parse(JSON.stringify(pairs.encodeState(stateB))) as Json, pairs.stateVersion);
    runBars(pairs, stateA, bars.slice(25), a.ctx);
    runBars(pairs, restored, bars.slice(25), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
    expect(a.recorded.submitted.length).toBe(4);
  });

  it('backtests deterministically on real 5-minute data (15-minute bars), legs opened and closed together', async () => {
    const symbols = ['HDFCBANK', 'ICICIBANK'];
    const result = await deterministicBacktest({ dataDir: FIVE_MINUTE_DATA, strategyKind: 'pairs', strategyConfig: { symbols }, symbols });
    expect(result.summary.fills).toBeGreaterThan(10);
    // every order time carries one order per leg
    const perTime = new Map<number, string[]>();
    for (const order of result.orders) perTime.set(order.createdAtMs, [...(perTime.get(order.createdAtMs) ?? []), order.symbol]);
    for (const legs of perTime.values()) expect(legs.sort()).toEqual(symbols);
  });
});
