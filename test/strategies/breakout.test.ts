import { describe, expect, it } from 'vitest';
import { type Json } from '../../src/strategies/api.js';
import { breakout, channelFor, type BreakoutConfig } from '../../src/strategies/breakout/breakout.strategy.js';
import { fakeContext, netSubmitted, runBars } from '../support/strategy-kit.js';
import { barsFromCloses, deterministicBacktest, FIVE_MINUTE_DATA } from './helpers.js';

const config = (overrides: Record<string, unknown> = {}): BreakoutConfig => breakout.parseConfig({ symbols: ['INFY'], period: 4, quantity: 3, ...overrides });

// a quiet range around ₹1000, a breakout up, a fall back through the middle, a breakdown
const PATH = [100_000, 100_200, 99_800, 100_100, 99_900, 100_000, 103_000, 104_000, 101_000, 100_000, 96_000, 95_000];

describe('breakout strategy', () => {
  it('applies defaults and rejects bad settings with the field named', () => {
    expect(breakout.parseConfig({ symbols: ['INFY'] })).toMatchObject({
      channel: 'donchian',
      period: 20,
      deviations: 2,
      exitOn: 'middle',
      quantity: 10,
      product: 'MIS',
      allowShort: false,
      interval: '5m',
    });
    expect(() => config({ channel: 'keltner' })).toThrow(/channel: must be one of donchian, bollinger/);
    expect(() => config({ allowShort: true, product: 'CNC' })).toThrow(/allowShort/);
    expect(() => config({ period: 1 })).toThrow(/period: must be at least 2/);
    expect(() => config({ deviations: 0 })).toThrow(/deviations/);
  });

  it('computes the Donchian channel from the previous bars and Bollinger from the closes', () => {
    const state = { highs: [10, 12, 11], lows: [8, 9, 7], closes: [9, 11, 10] };
    expect(channelFor(state, 13, config({ period: 3 }))).toEqual({ lower: 7, middle: 9.5, upper: 12 });
    const bollinger = channelFor(state, 13, config({ period: 3, channel: 'bollinger', deviations: 1 }))!;
    // closes 11, 10, 13: mean 11.333, population σ = sqrt(((−1/3)² + (−4/3)² + (5/3)²) / 3)
    const sigma = Math.sqrt((1 / 9 + 16 / 9 + 25 / 9) / 3);
    expect(bollinger.middle).toBeCloseTo(34 / 3, 10);
    expect(bollinger.upper).toBeCloseTo(34 / 3 + sigma, 10);
    expect(channelFor({ highs: [1], lows: [1], closes: [1] }, 2, config({ period: 3 }))).toBeNull();
  });

  it('Donchian: buys the break above the channel and exits through the middle', () => {
    const kit = fakeContext(config());
    const state = runBars(breakout, breakout.init(kit.ctx), barsFromCloses('INFY', PATH.slice(0, 7)), kit.ctx);
    expect(kit.recorded.submitted).toEqual([expect.objectContaining({ side: 'BUY', quantity: 3, orderType: 'MARKET', product: 'MIS' })]);
    expect(kit.recorded.submitted[0]!.reason).toMatch(/Donchian\(4\): close broke above/);
    kit.fillAll();
    runBars(breakout, state, barsFromCloses('INFY', PATH, { start: '10:15' }).slice(7), kit.ctx);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 3 });
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(0);
  });

  it('shorts the breakdown when allowed, and reverses straight through with exitOn opposite', () => {
    const kit = fakeContext(config({ allowShort: true }));
    runBars(breakout, breakout.init(kit.ctx), barsFromCloses('INFY', PATH), kit.ctx);
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(-3);
    const reverse = fakeContext(config({ allowShort: true, exitOn: 'opposite', channel: 'bollinger', deviations: 1 }));
    runBars(breakout, breakout.init(reverse.ctx), barsFromCloses('INFY', [...PATH.slice(0, 8), 90_000]), reverse.ctx);
    expect(reverse.recorded.submitted.map((r) => [r.side, r.quantity])).toEqual([
      ['BUY', 3],
      ['SELL', 6],
    ]);
    expect(reverse.recorded.submitted[1]!.reason).toMatch(/reversal/);
  });

  it('believes the fills, not its intents: a refused entry is sent again while the break holds, a refused exit while the close is below the middle', () => {
    const kit = fakeContext(config());
    const bars = barsFromCloses('INFY', [...PATH.slice(0, 7), 105_000, 106_000, 101_000, 100_000, 99_000]);
    let state = runBars(breakout, breakout.init(kit.ctx), bars.slice(0, 7), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY']);
    kit.refuseAll(); // refused: nothing held
    state = runBars(breakout, state, bars.slice(7, 8), kit.ctx); // still above the channel
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY']);
    kit.fillAll();
    state = runBars(breakout, state, bars.slice(8, 11), kit.ctx); // back through the middle: the exit
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY', 'SELL']);
    kit.refuseAll(); // refused: still long
    runBars(breakout, state, bars.slice(11), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY', 'SELL', 'SELL']);
    kit.fillAll();
    expect(kit.ctx.portfolio.netQuantity('INFY')).toBe(0);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const bars = barsFromCloses('INFY', PATH);
    const a = fakeContext(config({ allowShort: true }));
    const b = fakeContext(config({ allowShort: true }));
    const stateA = runBars(breakout, breakout.init(a.ctx), bars.slice(0, 6), a.ctx);
    const stateB = runBars(breakout, breakout.init(b.ctx), bars.slice(0, 6), b.ctx);
    const restored = breakout.decodeState(JSON.parse(JSON.stringify(breakout.encodeState(stateB))) as Json, breakout.stateVersion);
    runBars(breakout, stateA, bars.slice(6), a.ctx);
    runBars(breakout, restored, bars.slice(6), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
    expect(a.recorded.submitted.length).toBeGreaterThan(1);
  });

  it('backtests deterministically on real 5-minute data (Donchian and Bollinger)', async () => {
    const donchian = await deterministicBacktest({
      dataDir: FIVE_MINUTE_DATA,
      strategyKind: 'breakout',
      strategyConfig: { symbols: ['TCS', 'ITC'] },
      symbols: ['TCS', 'ITC'],
    });
    expect(donchian.summary.fills).toBeGreaterThan(4);
    const bollinger = await deterministicBacktest({
      dataDir: FIVE_MINUTE_DATA,
      strategyKind: 'breakout',
      strategyConfig: { symbols: ['TCS', 'ITC'], channel: 'bollinger', allowShort: true },
      symbols: ['TCS', 'ITC'],
    });
    expect(bollinger.summary.fills).toBeGreaterThan(4);
  });
});
