import { describe, expect, it } from 'vitest';
import { StrategyConfigError, type Json } from '../../src/strategies/api.js';
import { rsiReversion, type RsiReversionConfig } from '../../src/strategies/rsi-reversion/rsi-reversion.strategy.js';
import { rsiInit, rsiUpdate } from '../../src/strategies/shared/indicators.js';
import { fakeContext, netSubmitted, runBars } from '../support/strategy-kit.js';
import { barsFromCloses, deterministicBacktest, FIVE_MINUTE_DATA } from './helpers.js';

const config = (overrides: Record<string, unknown> = {}): RsiReversionConfig =>
  rsiReversion.parseConfig({ symbols: ['INFY'], period: 3, quantity: 5, ...overrides });

// rises (RSI 100), falls hard (RSI < 30: buy), recovers (RSI ≥ 50: sell)
const PATH = [100_000, 101_000, 102_000, 103_000, 98_000, 93_000, 88_000, 92_000, 97_000, 102_000, 103_000];

describe('rsi-reversion strategy', () => {
  it('computes Wilder RSI as by hand', () => {
    const state = rsiInit();
    expect([10, 11, 12].map((p) => rsiUpdate(state, p, 3))).toEqual([null, null, null]);
    expect(rsiUpdate(state, 11, 3)).toBeCloseTo(100 - 100 / (1 + 2 / 3 / (1 / 3)), 10); // 66.67
    expect(rsiUpdate(state, 10, 3)).toBeCloseTo(100 - 100 / (1 + 4 / 9 / (5 / 9)), 10); // 44.44
  });

  it('applies defaults and rejects bad settings with the field named', () => {
    expect(rsiReversion.parseConfig({ symbols: ['INFY'] })).toMatchObject({
      period: 14,
      lowerBand: 30,
      upperBand: 70,
      exitLevel: 50,
      quantity: 10,
      product: 'MIS',
      allowShort: false,
      interval: '5m',
    });
    expect(() => config({ lowerBand: 80 })).toThrow(/lowerBand: must be below upperBand/);
    expect(() => config({ exitLevel: 20 })).toThrow(/exitLevel/);
    expect(() => config({ allowShort: true, product: 'CNC' })).toThrow(/allowShort: needs product MIS/);
    expect(() => config({ period: 1 })).toThrow(StrategyConfigError);
    expect(() => config({ colour: 'red' })).toThrow(/colour: is not a setting/);
    expect(rsiReversion.configFields.map((f) => f.name)).toContain('lowerBand');
  });

  it('buys below the lower band and sells back to flat at the exit level', () => {
    const kit = fakeContext(config());
    let state = rsiReversion.init(kit.ctx);
    state = runBars(rsiReversion, state, barsFromCloses('INFY', PATH.slice(0, 7)), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(1);
    expect(kit.recorded.submitted[0]).toMatchObject({ symbol: 'INFY', side: 'BUY', quantity: 5, orderType: 'MARKET', product: 'MIS' });
    expect(kit.recorded.submitted[0]!.reason).toMatch(/RSI3 reversion: RSI \d+\.\d below 30/);
    kit.fillAll();
    runBars(rsiReversion, state, barsFromCloses('INFY', PATH, { start: '10:15' }).slice(7), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(2);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 5 });
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(0);
  });

  it('shorts above the upper band when allowed and covers at 100 − exitLevel', () => {
    const kit = fakeContext(config({ allowShort: true }));
    const mirrored = PATH.map((p) => 200_000 - p);
    runBars(rsiReversion, rsiReversion.init(kit.ctx), barsFromCloses('INFY', mirrored), kit.ctx);
    // the mirrored path starts by falling (a long round trip), then rallies hard (short), then eases back
    const short = kit.recorded.submitted.findIndex((r) => /above 70/.test(r.reason ?? ''));
    expect(short).toBeGreaterThan(-1);
    expect(kit.recorded.submitted[short]).toMatchObject({ side: 'SELL', quantity: 5 });
    expect(kit.recorded.submitted[short + 1]).toMatchObject({ side: 'BUY', quantity: 5 });
    expect(kit.recorded.submitted[short + 1]!.reason).toMatch(/back below 50/);
  });

  it('believes the fills, not its intents: a refused entry is sent again while RSI stays below the band', () => {
    const kit = fakeContext(config());
    let state = runBars(rsiReversion, rsiReversion.init(kit.ctx), barsFromCloses('INFY', PATH.slice(0, 7)), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY']);
    kit.refuseAll(); // refused: nothing held
    state = runBars(rsiReversion, state, barsFromCloses('INFY', [...PATH.slice(0, 7), 84_000]).slice(7), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY']);
    kit.fillAll();
    // the recovery: the exit, refused, then sent again on the next bar while RSI stays above the exit level
    state = runBars(rsiReversion, state, barsFromCloses('INFY', [84_000, 95_000], { start: '10:15' }).slice(1), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY', 'SELL']);
    kit.refuseAll();
    runBars(rsiReversion, state, barsFromCloses('INFY', [95_000, 99_000], { start: '10:20' }).slice(1), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'BUY', 'SELL', 'SELL']);
  });

  it('does not double-send while an order is still working', () => {
    const kit = fakeContext(config());
    runBars(rsiReversion, rsiReversion.init(kit.ctx), barsFromCloses('INFY', [...PATH.slice(0, 7), 80_000, 75_000]), kit.ctx);
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(5);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const bars = barsFromCloses('INFY', PATH);
    const a = fakeContext(config());
    const b = fakeContext(config());
    const stateA = runBars(rsiReversion, rsiReversion.init(a.ctx), bars.slice(0, 5), a.ctx);
    const stateB = runBars(rsiReversion, rsiReversion.init(b.ctx), bars.slice(0, 5), b.ctx);
    const restored = rsiReversion.decodeState(JSON.parse(JSON.stringify(rsiReversion.encodeState(stateB))) as Json, rsiReversion.stateVersion);
    runBars(rsiReversion, stateA, bars.slice(5), a.ctx);
    runBars(rsiReversion, restored, bars.slice(5), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
    expect(a.recorded.submitted.length).toBeGreaterThan(0);
  });

  it('subscribes to bars of the configured interval', () => {
    expect(rsiReversion.subscriptions(config({ interval: '15m' }))).toEqual([{ kind: 'bars', symbols: ['INFY'], interval: '15m' }]);
  });

  it('backtests deterministically on real 5-minute data', async () => {
    const result = await deterministicBacktest({
      dataDir: FIVE_MINUTE_DATA,
      strategyKind: 'rsi-reversion',
      strategyConfig: { symbols: ['INFY', 'SBIN'], quantity: 10 },
      symbols: ['INFY', 'SBIN'],
    });
    expect(result.summary.fills).toBeGreaterThan(4);
  });
});
