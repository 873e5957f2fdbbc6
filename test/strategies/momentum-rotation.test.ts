import { describe, expect, it } from 'vitest';
import type { Bar } from '../../src/model/index.js';
import { type Json } from '../../src/strategies/api.js';
import { momentumOf, momentumRotation, type MomentumRotationConfig } from '../../src/strategies/momentum-rotation/momentum-rotation.strategy.js';
import { floorDiv } from '../../src/strategies/shared/orders.js';
import { fakeContext, runBars } from '../support/strategy-kit.js';
import { barsFromCloses, DAILY_DATA, deterministicBacktest } from './helpers.js';

const UNIVERSE = ['AAA', 'BBB', 'CCC', 'DDD'];
const config = (overrides: Record<string, unknown> = {}): MomentumRotationConfig =>
  momentumRotation.parseConfig({ symbols: UNIVERSE, lookback: 2, topK: 2, capitalRupees: 10_000, ...overrides });

/** Daily closes per symbol (paise), delivered symbol by symbol for each day. */
const CLOSES: Record<string, number[]> = {
  AAA: [10_000, 10_500, 11_000, 11_100, 11_200],
  BBB: [20_000, 22_000, 24_000, 24_500, 26_000],
  CCC: [30_000, 29_000, 28_000, 40_000, 41_000],
  DDD: [5_000, 5_000, 5_000, 5_000, 5_000],
};

function days(from: number, to: number, closes: Record<string, number[]> = CLOSES): Bar[] {
  const perSymbol = UNIVERSE.map((symbol) => barsFromCloses(symbol, closes[symbol]!, { interval: '1d' }));
  const out: Bar[] = [];
  for (let day = from; day < to; day += 1) for (const bars of perSymbol) out.push(bars[day]!);
  return out;
}

describe('momentum-rotation strategy', () => {
  it('applies defaults and rejects bad settings with the field named', () => {
    expect(momentumRotation.parseConfig({ symbols: UNIVERSE })).toMatchObject({
      lookback: 20,
      topK: 3,
      capitalRupees: 1_000_000,
      rebalanceEvery: 1,
      driftTolerancePercent: 10,
      requirePositive: false,
      interval: '1d',
    });
    expect(() => config({ symbols: ['AAA'] })).toThrow(/symbols: must name at least two symbols/);
    expect(() => config({ topK: 4 })).toThrow(/topK: must be smaller than the number of symbols/);
    expect(() => config({ symbols: ['AAA', 'AAA', 'BBB'] })).toThrow(/symbols: must not repeat/);
    expect(() => config({ capitalRupees: 10.5 })).toThrow(/capitalRupees: must be a whole number/);
  });

  it('measures momentum over the window and divides money exactly', () => {
    expect(momentumOf([100, 110, 121], 2)).toBeCloseTo(0.21, 12);
    expect(momentumOf([100, 110], 2)).toBeNull();
    expect(floorDiv(500_000, 11_000)).toBe(45);
    expect(floorDiv(9_007_199_254_740_991, 3)).toBe(3_002_399_751_580_330);
    expect(() => floorDiv(1, 0)).toThrow(RangeError);
  });

  it('buys the top K in equal rupee amounts, in whole shares, once every symbol has reported', () => {
    const kit = fakeContext(config());
    const bars = days(0, 3);
    const state = runBars(momentumRotation, momentumRotation.init(kit.ctx), bars.slice(0, -1), kit.ctx);
    expect(kit.recorded.submitted).toEqual([]); // DDD's third bar is not in yet
    runBars(momentumRotation, state, bars.slice(-1), kit.ctx);
    // ₹10,000 / 2 = 5,00,000 paise each: BBB (+20%) ⌊500000/24000⌋ = 20, AAA (+10%) ⌊500000/11000⌋ = 45
    expect(kit.recorded.submitted.map((r) => [r.symbol, r.side, r.quantity, r.product, r.orderType])).toEqual([
      ['AAA', 'BUY', 45, 'CNC', 'MARKET'],
      ['BBB', 'BUY', 20, 'CNC', 'MARKET'],
    ]);
    for (const r of kit.recorded.submitted) expect(r.quantity * (r.symbol === 'AAA' ? 11_000 : 24_000)).toBeLessThanOrEqual(500_000);
  });

  it('rotates: sells what left the top K before buying what entered, and leaves small drift alone', () => {
    const kit = fakeContext(config());
    let state = runBars(momentumRotation, momentumRotation.init(kit.ctx), days(0, 3), kit.ctx);
    kit.fillAll();
    state = runBars(momentumRotation, state, days(3, 4), kit.ctx);
    // CCC surges (+37.9%) and pushes AAA out; BBB's target stays 20
    expect(kit.recorded.submitted.slice(2).map((r) => [r.symbol, r.side, r.quantity])).toEqual([
      ['AAA', 'SELL', 45],
      ['CCC', 'BUY', 12],
    ]);
    expect(state.holdings).toEqual(['CCC', 'BBB']);
    kit.fillAll();
    runBars(momentumRotation, state, days(4, 5), kit.ctx);
    // BBB's target drifts to ⌊500000/26000⌋ = 19 (5%, inside the 10% tolerance): no order
    expect(kit.recorded.submitted).toHaveLength(4);
    const strict = fakeContext(config({ driftTolerancePercent: 0 }));
    runBars(momentumRotation, momentumRotation.init(strict.ctx), days(0, 5), strict.ctx);
    expect(strict.recorded.submitted.some((r) => r.symbol === 'BBB' && r.side === 'SELL')).toBe(true);
  });

  it('closes a step when a later bar arrives although a symbol had no bar', () => {
    const kit = fakeContext(config());
    const bars = days(0, 4).filter((bar, index) => !(bar.symbol === 'DDD' && index >= 8)); // DDD stops after day 2
    runBars(momentumRotation, momentumRotation.init(kit.ctx), bars, kit.ctx);
    expect(kit.recorded.submitted.slice(0, 2).map((r) => r.symbol)).toEqual(['AAA', 'BBB']);
  });

  it('holds only positive momentum when asked', () => {
    const falling: Record<string, number[]> = { AAA: [100, 90, 80], BBB: [100, 95, 90], CCC: [100, 99, 98], DDD: [100, 50, 40] };
    const kit = fakeContext(config({ requirePositive: true }));
    runBars(momentumRotation, momentumRotation.init(kit.ctx), days(0, 3, falling), kit.ctx);
    expect(kit.recorded.submitted).toEqual([]);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const bars = days(0, 5);
    const a = fakeContext(config({ driftTolerancePercent: 0 }));
    const b = fakeContext(config({ driftTolerancePercent: 0 }));
    const stateA = runBars(momentumRotation, momentumRotation.init(a.ctx), bars.slice(0, 10), a.ctx);
    const stateB = runBars(momentumRotation, momentumRotation.init(b.ctx), bars.slice(0, 10), b.ctx);
    const restored = momentumRotation.decodeState(JSON.parse(JSON.stringify(momentumRotation.encodeState(stateB))) as Json, momentumRotation.stateVersion);
    runBars(momentumRotation, stateA, bars.slice(10), a.ctx);
    runBars(momentumRotation, restored, bars.slice(10), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
    expect(a.recorded.submitted.length).toBeGreaterThan(3);
  });

  it('backtests deterministically on real daily data; holdings never exceed top K or the capital', async () => {
    const symbols = ['INFY', 'TCS', 'HCLTECH', 'SBIN', 'ITC'];
    const result = await deterministicBacktest({
      dataDir: DAILY_DATA,
      strategyKind: 'momentum-rotation',
      strategyConfig: { symbols, topK: 2, lookback: 60, capitalRupees: 5_00_000 },
      symbols,
      // the daily data are not adjusted for bonuses and splits: such a day looks like a loss beyond the default kill switch
      riskLimits: { maxDailyLossPaise: 5_00_000_00 },
    });
    expect(result.summary.fills).toBeGreaterThan(10);
    for (const fill of result.fills) expect(fill.product).toBe('CNC');
    const held = result.positions.filter((p) => p.netQuantity !== 0);
    expect(held.length).toBeLessThanOrEqual(2);
    for (const position of held) expect(position.netQuantity).toBeGreaterThan(0);
  });
});
