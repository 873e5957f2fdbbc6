// Strategies as signal sources for the aggregator, and the regime gate in the test kit.
import { describe, expect, it } from 'vitest';
import { emaCross } from '../../src/strategies/ema-cross/ema-cross.strategy.js';
import { rsiReversion } from '../../src/strategies/rsi-reversion/rsi-reversion.strategy.js';
import { ticksFromPrices } from '../support/builders.js';
import { fakeContext, runBars, runTicks } from '../support/strategy-kit.js';
import { barsFromCloses } from './helpers.js';

// rises (RSI 100), falls hard (RSI < 30), recovers
const RSI_PATH = [100_000, 101_000, 102_000, 103_000, 98_000, 93_000, 88_000, 92_000, 97_000, 102_000, 103_000];

describe('ema-cross as a signal source', () => {
  it('on bars, signals its side on every bar once warm, confidence growing with the gap between the averages', () => {
    const config = emaCross.parseConfig({ symbols: ['INFY'], fastPeriod: 2, slowPeriod: 4, quantity: 5, source: '5m' });
    const kit = fakeContext(config);
    runBars(emaCross, emaCross.init(kit.ctx), barsFromCloses('INFY', [100_000, 100_000, 100_000, 100_100, 101_000, 103_000, 99_000]), kit.ctx);
    const signals = kit.recorded.signals;
    expect(signals).toHaveLength(4); // bars 4…7: warm after slowPeriod samples
    expect(signals.map((s) => s.direction)).toEqual(['long', 'long', 'long', 'short']);
    expect(signals[0]!.confidence).toBeLessThan(signals[2]!.confidence); // the gap widens as the rise goes on
    for (const s of signals) {
      expect(s.confidence).toBeGreaterThan(0);
      expect(s.confidence).toBeLessThanOrEqual(1);
    }
    expect(signals[2]).toMatchObject({ symbol: 'INFY', confidence: 1 });
    expect(signals[2]!.reason).toMatch(/^EMA2 above EMA4 by \d+\.\d\d%$/);
  });

  it('on ticks, signals on a change of side and otherwise at most once a minute', () => {
    const config = emaCross.parseConfig({ symbols: ['INFY'], fastPeriod: 2, slowPeriod: 4, quantity: 5 });
    const kit = fakeContext(config);
    let state = emaCross.init(kit.ctx);
    const start = kit.ctx.nowMs();
    const prices = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007];
    for (const [index, tick] of ticksFromPrices('INFY', prices).entries()) {
      kit.setTime(start + index * 20_000); // 20 s apart
      state = runTicks(emaCross, state, [tick], kit.ctx);
    }
    // warm at the 4th tick (t = 60 s): signal; next at ≥ 120 s (7th tick)
    expect(kit.recorded.signals.map((s) => (s.atMs - start) / 1000)).toEqual([60, 120]);
  });
});

describe('rsi-reversion as a signal source', () => {
  it('signals long below the lower band, flat inside the bands, with confidence from the distance beyond the band', () => {
    const kit = fakeContext(rsiReversion.parseConfig({ symbols: ['INFY'], period: 3, quantity: 5 }));
    runBars(rsiReversion, rsiReversion.init(kit.ctx), barsFromCloses('INFY', RSI_PATH), kit.ctx);
    const directions = kit.recorded.signals.map((s) => s.direction);
    expect(directions[0]).toBe('short'); // RSI 100 after the rise
    expect(directions).toContain('long');
    expect(directions).toContain('flat');
    for (const s of kit.recorded.signals) {
      if (s.direction === 'flat') expect(s.confidence).toBe(0);
      else expect(s.confidence).toBeGreaterThanOrEqual(0.5);
      expect(s.reason).toMatch(/^RSI3 \d+\.\d/);
    }
    expect(kit.recorded.signals[0]!.confidence).toBe(1); // 100 is 30 points above 70
  });
});

describe('the test kit applies the regime gate like the host', () => {
  it('records refused entries and cut flips, lets exits through, reads regimes', () => {
    const config = rsiReversion.parseConfig({ symbols: ['INFY'], period: 3, quantity: 5 });
    const kit = fakeContext(config, { tradesIn: rsiReversion.regimes });
    kit.setRegime('MARKET', 'trending');
    expect(kit.ctx.regime()).toBe('trending');
    expect(kit.ctx.regime('INFY')).toBeUndefined();
    runBars(rsiReversion, rsiReversion.init(kit.ctx), barsFromCloses('INFY', RSI_PATH.slice(0, 7)), kit.ctx);
    // the oversold BUY is an entry in a trending market (INFY unclassified → the market's regime): refused,
    // and asked again on each bar while RSI stays below the band (the strategy holds nothing: its fills say so)
    expect(kit.recorded.submitted).toEqual([]);
    expect(kit.recorded.gated.length).toBeGreaterThan(1);
    for (const gated of kit.recorded.gated) expect(gated).toEqual(expect.objectContaining({ side: 'BUY', quantity: 5, allowed: 0, regime: 'trending' }));

    // the symbol's own regime wins over the market's
    const fresh = fakeContext(config, { tradesIn: rsiReversion.regimes });
    fresh.setRegime('MARKET', 'trending');
    fresh.setRegime('INFY', 'ranging');
    const state = runBars(rsiReversion, rsiReversion.init(fresh.ctx), barsFromCloses('INFY', RSI_PATH.slice(0, 7)), fresh.ctx);
    expect(fresh.recorded.submitted).toEqual([expect.objectContaining({ side: 'BUY', quantity: 5 })]);
    fresh.fillAll();
    fresh.setRegime('INFY', 'high-volatility');
    runBars(rsiReversion, state, barsFromCloses('INFY', RSI_PATH.slice(7), { start: '09:50' }), fresh.ctx);
    // the exit (RSI back above 50) goes through whatever the regime
    expect(fresh.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 5 });
    expect(fresh.recorded.gated).toEqual([]);
  });
});
