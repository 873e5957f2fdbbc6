import { describe, expect, it } from 'vitest';
import { type Json } from '../../src/strategies/api.js';
import { vwapReversion, type VwapReversionConfig } from '../../src/strategies/vwap-reversion/vwap-reversion.strategy.js';
import { fakeContext, netSubmitted, runBars } from '../support/strategy-kit.js';
import { barsFromCloses, deterministicBacktest, expectFlatEachDay, FIVE_MINUTE_DATA } from './helpers.js';

const config = (overrides: Record<string, unknown> = {}): VwapReversionConfig => vwapReversion.parseConfig({ symbols: ['INFY'], quantity: 4, ...overrides });

const flat = (n: number): number[] => Array.from({ length: n }, () => 100_000);

describe('vwap-reversion strategy', () => {
  it('applies defaults and rejects bad settings with the field named', () => {
    expect(vwapReversion.parseConfig({ symbols: ['INFY'] })).toMatchObject({
      entryBps: 60,
      exitBps: 0,
      stopBps: 0,
      quantity: 10,
      allowShort: true,
      firstEntryTime: '09:45',
      lastEntryTime: '14:30',
      exitTime: '15:15',
      interval: '5m',
    });
    expect(() => config({ exitTime: '15:25' })).toThrow(/exitTime: must be before 15:20/);
    expect(() => config({ exitTime: '3pm' })).toThrow(/exitTime: must be an IST time/);
    expect(() => config({ lastEntryTime: '08:00' })).toThrow(/lastEntryTime: must be a time inside the session/);
    expect(() => config({ lastEntryTime: '15:16' })).toThrow(/lastEntryTime: must be before exitTime/);
    expect(() => config({ firstEntryTime: '14:45' })).toThrow(/firstEntryTime/);
    expect(() => config({ exitBps: 80 })).toThrow(/exitBps: must be smaller than entryBps/);
    expect(() => config({ interval: '1d' })).toThrow(/interval: must be intraday/);
  });

  it('buys when stretched below VWAP and exits when price is back at VWAP', () => {
    const kit = fakeContext(config());
    // 09:15..09:40 flat at ₹1000, 09:45 bar closes 1% lower (closes at 09:50, inside the entry window)
    const bars = barsFromCloses('INFY', [...flat(6), 99_000, 99_200, 100_100]);
    const state = runBars(vwapReversion, vwapReversion.init(kit.ctx), bars.slice(0, 7), kit.ctx);
    expect(kit.recorded.submitted).toEqual([expect.objectContaining({ side: 'BUY', quantity: 4, orderType: 'MARKET', product: 'MIS' })]);
    expect(kit.recorded.submitted[0]!.reason).toMatch(/stretched below VWAP \(-\d+ bps\)/);
    kit.fillAll();
    runBars(vwapReversion, state, bars.slice(7), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL']);
    expect(kit.recorded.submitted[1]!.reason).toMatch(/back to VWAP/);
  });

  it('takes no entry before firstEntryTime or after lastEntryTime', () => {
    const early = fakeContext(config());
    runBars(vwapReversion, vwapReversion.init(early.ctx), barsFromCloses('INFY', [...flat(2), 98_000]), early.ctx); // 09:25 bar closes 09:30
    expect(early.recorded.submitted).toEqual([]);
    const late = fakeContext(config());
    runBars(vwapReversion, vwapReversion.init(late.ctx), barsFromCloses('INFY', [...flat(6), 98_000], { start: '14:00' }), late.ctx); // 14:30 bar closes 14:35
    expect(late.recorded.submitted).toEqual([]);
  });

  it('shorts above VWAP and is flat from exitTime, before 15:20', () => {
    const kit = fakeContext(config());
    // from 14:00: flat, then 14:25 bar jumps 1% (closes 14:30: last entry), then stays up until the close
    const bars = barsFromCloses(
      'INFY',
      [...flat(5), 101_000, 101_000, 101_500, 101_200, 101_300, 101_600, 101_400, 101_500, 101_600, 101_800, 101_700, 101_900, 101_800],
      { start: '14:00' },
    );
    runBars(vwapReversion, vwapReversion.init(kit.ctx), bars, kit.ctx);
    expect(kit.recorded.submitted.map((r) => [r.side, r.quantity])).toEqual([
      ['SELL', 4],
      ['BUY', 4],
    ]);
    expect(kit.recorded.submitted[1]!.reason).toMatch(/flat by 15:15 IST/);
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(0);
  });

  it('closes a position left over from an earlier session on the first bar of the next', () => {
    const kit = fakeContext(config());
    let state = runBars(vwapReversion, vwapReversion.init(kit.ctx), barsFromCloses('INFY', [...flat(6), 99_000]), kit.ctx);
    kit.fillAll();
    state = runBars(vwapReversion, state, barsFromCloses('INFY', [99_000], { date: '2026-05-21' }), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL']);
    expect(state.INFY).toMatchObject({ date: '2026-05-21' });
    kit.fillAll();
    expect(kit.ctx.portfolio.netQuantity('INFY')).toBe(0);
  });

  it('believes the fills, not its own intents: a refused exit is sent again on the next bar', () => {
    const kit = fakeContext(config());
    const bars = barsFromCloses(
      'INFY',
      [...flat(5), 101_000, 101_000, 101_500, 101_200, 101_300, 101_600, 101_400, 101_500, 101_600, 101_800, 101_700, 101_900, 101_800],
      { start: '14:00' },
    );
    let state = runBars(vwapReversion, vwapReversion.init(kit.ctx), bars.slice(0, 6), kit.ctx);
    kit.fillAll(); // short 4
    state = runBars(vwapReversion, state, bars.slice(6, 15), kit.ctx); // the 15:10 bar closes at 15:15: the exit
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['SELL', 'BUY']);
    kit.refuseAll(); // risk refused the exit: the short is still there
    state = runBars(vwapReversion, state, bars.slice(15, 16), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['SELL', 'BUY', 'BUY']);
    expect(kit.recorded.submitted[2]!.reason).toMatch(/flat by 15:15 IST/);
    kit.fillAll();
    runBars(vwapReversion, state, bars.slice(16), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(3); // flat: nothing more
    expect(kit.ctx.portfolio.netQuantity('INFY')).toBe(0);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const bars = barsFromCloses('INFY', [...flat(6), 99_000, 99_500, 100_100, 101_000, 100_500, 99_800]);
    const a = fakeContext(config());
    const b = fakeContext(config());
    const stateA = runBars(vwapReversion, vwapReversion.init(a.ctx), bars.slice(0, 4), a.ctx);
    const stateB = runBars(vwapReversion, vwapReversion.init(b.ctx), bars.slice(0, 4), b.ctx);
    const restored = vwapReversion.decodeState(JSON.parse(JSON.stringify(vwapReversion.encodeState(stateB))) as Json, vwapReversion.stateVersion);
    runBars(vwapReversion, stateA, bars.slice(4), a.ctx);
    runBars(vwapReversion, restored, bars.slice(4), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
    expect(a.recorded.submitted.length).toBeGreaterThan(1);
  });

  it('backtests deterministically on real 5-minute data and is flat at the end of every day', async () => {
    const result = await deterministicBacktest({
      dataDir: FIVE_MINUTE_DATA,
      strategyKind: 'vwap-reversion',
      strategyConfig: { symbols: ['INFY', 'RELIANCE', 'SBIN'], entryBps: 40 },
      symbols: ['INFY', 'RELIANCE', 'SBIN'],
    });
    expect(result.summary.fills).toBeGreaterThan(10);
    expectFlatEachDay(result);
  });
});
