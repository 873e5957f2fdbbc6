import { describe, expect, it } from 'vitest';
import { emaCross, type EmaCrossConfig } from '../../src/strategies/ema-cross/ema-cross.strategy.js';
import { StrategyConfigError, type Json } from '../../src/strategies/api.js';
import { ticksFromPrices } from '../support/builders.js';
import { fakeContext, runBars, runTicks } from '../support/strategy-kit.js';
import { istTimeMs } from '../../src/model/index.js';
import { barsFromCloses } from './helpers.js';

const config = (overrides: Record<string, unknown> = {}): EmaCrossConfig =>
  emaCross.parseConfig({ symbols: ['INFY'], fastPeriod: 2, slowPeriod: 4, quantity: 5, ...overrides });

describe('ema-cross strategy', () => {
  it('applies defaults and rejects bad settings with the field named', () => {
    const parsed = emaCross.parseConfig({ symbols: ['INFY'] });
    expect(parsed).toMatchObject({ fastPeriod: 12, slowPeriod: 26, quantity: 10, product: 'MIS', allowShort: false, source: 'ticks' });
    expect(() => emaCross.parseConfig({ symbols: ['INFY'], fastPeriod: 30, slowPeriod: 10 })).toThrow(/fastPeriod: must be shorter/);
    expect(() => emaCross.parseConfig({ symbols: ['INFY'], quantity: 0 })).toThrow(StrategyConfigError);
    expect(() => emaCross.parseConfig({ symbols: ['INFY'], fastPeriod: 2.5 })).toThrow(/whole number/);
    expect(() => emaCross.parseConfig({ symbols: ['INFY'], colour: 'red' })).toThrow(/colour: is not a setting/);
    expect(() => emaCross.parseConfig({ symbols: ['INFY'], allowShort: true, product: 'CNC' })).toThrow(/allowShort/);
  });

  it('buys on an upward cross and sells back to flat on a downward cross', () => {
    const kit = fakeContext(config());
    let state = emaCross.init(kit.ctx);
    // falling, then rising (cross up), then falling (cross down)
    const prices = [1000, 990, 980, 970, 960, 950, 1000, 1060, 1120, 1180, 1100, 1000, 900, 800];
    state = runTicks(emaCross, state, ticksFromPrices('INFY', prices.slice(0, 10)), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(1);
    expect(kit.recorded.submitted[0]).toMatchObject({ symbol: 'INFY', side: 'BUY', quantity: 5, orderType: 'MARKET', product: 'MIS' });
    kit.fillAll();
    runTicks(emaCross, state, ticksFromPrices('INFY', prices.slice(10)), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(2);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 5 });
  });

  it('counts working orders, so what it sends nets to the target even before fills', () => {
    const kit = fakeContext(config());
    let state = emaCross.init(kit.ctx);
    state = runTicks(emaCross, state, ticksFromPrices('INFY', [1000, 990, 980, 970, 960, 1100, 1200]), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(1);
    // a down cross and an up cross again while the buy is still working: back to target, net 0 delta
    runTicks(emaCross, state, ticksFromPrices('INFY', [900, 800, 700, 1500, 1600]), kit.ctx);
    const net = kit.recorded.submitted.reduce((sum, r) => sum + (r.side === 'BUY' ? r.quantity : -r.quantity), 0);
    expect(net).toBe(5);
  });

  it('goes short when allowed', () => {
    const kit = fakeContext(config({ allowShort: true }));
    const state = emaCross.init(kit.ctx);
    runTicks(emaCross, state, ticksFromPrices('INFY', [1000, 1010, 1020, 1030, 1040, 900, 800]), kit.ctx);
    expect(kit.recorded.submitted[0]).toMatchObject({ side: 'SELL', quantity: 5 });
  });

  it('believes the fills, not its intents: a refused entry is sent again on the next bar, a refused exit too, never past the MIS cut-off', () => {
    const kit = fakeContext(config({ source: '5m' }));
    const closes = [100_000, 99_000, 98_000, 97_000, 96_000, 100_000, 106_000, 112_000, 118_000, 110_000, 100_000, 90_000, 80_000];
    const bars = barsFromCloses('INFY', closes);
    let state = runBars(emaCross, emaCross.init(kit.ctx), bars.slice(0, 6), kit.ctx); // the cross up
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY']);
    kit.refuseAll(); // risk said no: nothing is held
    state = runBars(emaCross, state, bars.slice(6, 7), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY']);
    expect(kit.recorded.submitted[1]!.reason).toMatch(/EMA2 still above EMA4/);
    kit.fillAll();
    state = runBars(emaCross, state, bars.slice(7, 9), kit.ctx); // long, as wanted: nothing
    expect(kit.recorded.submitted).toHaveLength(2);
    state = runBars(emaCross, state, bars.slice(9, 11), kit.ctx); // the cross down: the exit
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY', 'SELL']);
    kit.refuseAll(); // the exit refused: still long
    state = runBars(emaCross, state, bars.slice(11, 12), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY', 'SELL', 'SELL']);
    kit.refuseAll();
    kit.setTime(istTimeMs('2026-05-20', 15, 21)); // past the cut-off the broker squares MIS off: no more retries
    runBars(emaCross, state, bars.slice(12), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(4);
  });

  it('on ticks, sends a refused intent again at most once a minute', () => {
    const kit = fakeContext(config());
    const start = kit.ctx.nowMs();
    let state = runTicks(emaCross, emaCross.init(kit.ctx), ticksFromPrices('INFY', [1000, 990, 980, 970, 960, 1100]), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(1);
    kit.refuseAll();
    state = runTicks(emaCross, state, ticksFromPrices('INFY', [1110, 1120]), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(1); // within the minute
    kit.setTime(start + 60_000);
    runTicks(emaCross, state, ticksFromPrices('INFY', [1130, 1140]), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY']);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const prices = [1000, 990, 980, 970, 960, 950, 1000, 1060, 1120, 1180, 1100, 1000, 900, 800];
    const a = fakeContext(config());
    const b = fakeContext(config());
    let stateA = emaCross.init(a.ctx);
    let stateB = emaCross.init(b.ctx);
    stateA = runTicks(emaCross, stateA, ticksFromPrices('INFY', prices.slice(0, 7)), a.ctx);
    stateB = runTicks(emaCross, stateB, ticksFromPrices('INFY', prices.slice(0, 7)), b.ctx);
    const restored = emaCross.decodeState(JSON.parse(JSON.stringify(emaCross.encodeState(stateB))) as Json, emaCross.stateVersion);
    runTicks(emaCross, stateA, ticksFromPrices('INFY', prices.slice(7)), a.ctx);
    runTicks(emaCross, restored, ticksFromPrices('INFY', prices.slice(7)), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
  });

  it('subscribes to ticks or bars as configured', () => {
    expect(emaCross.subscriptions(config())).toEqual([{ kind: 'ticks', symbols: ['INFY'] }]);
    expect(emaCross.subscriptions(config({ source: '5m' }))).toEqual([{ kind: 'bars', symbols: ['INFY'], interval: '5m' }]);
  });
});
