import { describe, expect, it } from 'vitest';
import { istDate, signedQuantity } from '../../src/model/index.js';
import { type Json } from '../../src/strategies/api.js';
import { openingRange, type OpeningRangeConfig } from '../../src/strategies/opening-range/opening-range.strategy.js';
import { fakeContext, netSubmitted, runBars } from '../support/strategy-kit.js';
import { barsFromCloses, deterministicBacktest, expectFlatEachDay, FIVE_MINUTE_DATA } from './helpers.js';

const config = (overrides: Record<string, unknown> = {}): OpeningRangeConfig => openingRange.parseConfig({ symbols: ['INFY'], quantity: 7, ...overrides });

// the builder puts high/low ₹1 around each bar: the 09:15–09:30 range is 99_700..100_400 paise
const RANGE = [100_000, 100_300, 99_800];

describe('opening-range strategy', () => {
  it('applies defaults and rejects bad settings with the field named', () => {
    expect(openingRange.parseConfig({ symbols: ['INFY'] })).toMatchObject({
      rangeMinutes: 15,
      targetMultiple: 2,
      quantity: 10,
      allowShort: true,
      lastEntryTime: '13:00',
      exitTime: '15:15',
      interval: '5m',
    });
    expect(() => config({ rangeMinutes: 7 })).toThrow(/rangeMinutes: must be a multiple of the 5m bar length/);
    expect(() => config({ rangeMinutes: 180, lastEntryTime: '11:00' })).toThrow(/rangeMinutes: must end before lastEntryTime/);
    expect(() => config({ exitTime: '15:20' })).toThrow(/exitTime: must be before 15:20/);
    expect(() => config({ interval: '1d' })).toThrow(/interval: must be intraday/);
  });

  it('buys the first close above the range, stops out below it, and trades once a day', () => {
    const kit = fakeContext(config());
    const bars = barsFromCloses('INFY', [...RANGE, 100_300, 100_600, 100_500, 99_500, 100_800, 99_000]);
    let state = runBars(openingRange, openingRange.init(kit.ctx), bars.slice(0, 4), kit.ctx);
    expect(kit.recorded.submitted).toEqual([]); // inside the range
    state = runBars(openingRange, state, bars.slice(4, 5), kit.ctx);
    expect(kit.recorded.submitted).toEqual([expect.objectContaining({ side: 'BUY', quantity: 7, orderType: 'MARKET', product: 'MIS' })]);
    expect(kit.recorded.submitted[0]!.reason).toMatch(/close above the high 100400 paise/);
    kit.fillAll();
    runBars(openingRange, state, bars.slice(5), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL']); // no second trade on the later breaks
    expect(kit.recorded.submitted[1]!.reason).toMatch(/stop/);
  });

  it('takes profit at the target multiple of the range height and shorts a break below', () => {
    const up = fakeContext(config({ targetMultiple: 1 }));
    runBars(openingRange, openingRange.init(up.ctx), barsFromCloses('INFY', [...RANGE, 100_500, 101_200]), up.ctx);
    expect(up.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL']);
    expect(up.recorded.submitted[1]!.reason).toMatch(/profit target/);
    const down = fakeContext(config());
    runBars(openingRange, openingRange.init(down.ctx), barsFromCloses('INFY', [...RANGE, 99_500]), down.ctx);
    expect(down.recorded.submitted).toEqual([expect.objectContaining({ side: 'SELL', quantity: 7 })]);
    const longOnly = fakeContext(config({ allowShort: false }));
    runBars(openingRange, openingRange.init(longOnly.ctx), barsFromCloses('INFY', [...RANGE, 99_500]), longOnly.ctx);
    expect(longOnly.recorded.submitted).toEqual([]);
  });

  it('is flat from exitTime and takes no entry after lastEntryTime', () => {
    const kit = fakeContext(config({ targetMultiple: 0 }));
    // the breakout at 09:30 is held all day; the 15:10 bar closes at 15:15 and flattens
    const day = [...RANGE, 100_600, ...Array.from({ length: 71 }, () => 100_700)];
    runBars(openingRange, openingRange.init(kit.ctx), barsFromCloses('INFY', day), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL']);
    expect(kit.recorded.submitted[1]!.reason).toMatch(/flat by 15:15 IST/);
    const late = fakeContext(config());
    const quietThenBreak = [...RANGE, ...Array.from({ length: 45 }, () => 100_000), 101_000]; // the break closes at 13:30
    runBars(openingRange, openingRange.init(late.ctx), barsFromCloses('INFY', quietThenBreak), late.ctx);
    expect(late.recorded.submitted).toEqual([]);
  });

  it('believes the fills, not its own intents: a refused exit is sent again on the next bar', () => {
    const kit = fakeContext(config({ targetMultiple: 0 }));
    const day = barsFromCloses('INFY', [...RANGE, 100_600, ...Array.from({ length: 71 }, () => 100_700)]);
    let state = runBars(openingRange, openingRange.init(kit.ctx), day.slice(0, 4), kit.ctx);
    kit.fillAll(); // long 7
    state = runBars(openingRange, state, day.slice(4, 72), kit.ctx); // the 15:10 bar closes at 15:15: the exit
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL']);
    kit.refuseAll(); // risk refused the exit: the long is still there
    state = runBars(openingRange, state, day.slice(72, 73), kit.ctx);
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL', 'SELL']);
    kit.fillAll();
    runBars(openingRange, state, day.slice(73), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(3);
    expect(kit.ctx.portfolio.netQuantity('INFY')).toBe(0);
  });

  it('builds a new range the next day', () => {
    const kit = fakeContext(config());
    let state = runBars(openingRange, openingRange.init(kit.ctx), barsFromCloses('INFY', [...RANGE, 100_600]), kit.ctx);
    kit.fillAll();
    state = runBars(openingRange, state, barsFromCloses('INFY', [90_000, 90_100, 90_000, 90_500], { date: '2026-05-21' }), kit.ctx);
    // leftover closed on the first bar; the new range (89_900..90_200) breaks at 90_500
    expect(kit.recorded.submitted.map((r) => r.side)).toEqual(['BUY', 'SELL', 'BUY']);
    expect(state.INFY).toMatchObject({ date: '2026-05-21', highPaise: 90_200, traded: true });
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(7);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const bars = barsFromCloses('INFY', [...RANGE, 100_300, 100_600, 100_500, 99_500]);
    const a = fakeContext(config());
    const b = fakeContext(config());
    const stateA = runBars(openingRange, openingRange.init(a.ctx), bars.slice(0, 2), a.ctx);
    const stateB = runBars(openingRange, openingRange.init(b.ctx), bars.slice(0, 2), b.ctx);
    const restored = openingRange.decodeState(JSON.parse(JSON.stringify(openingRange.encodeState(stateB))) as Json, openingRange.stateVersion);
    runBars(openingRange, stateA, bars.slice(2), a.ctx);
    runBars(openingRange, restored, bars.slice(2), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
    expect(a.recorded.submitted.length).toBe(2);
  });

  it('backtests deterministically on real 5-minute data: at most one trade a day per symbol, flat every evening', async () => {
    const symbols = ['HDFCBANK', 'ICICIBANK', 'AXISBANK'];
    const result = await deterministicBacktest({ dataDir: FIVE_MINUTE_DATA, strategyKind: 'opening-range', strategyConfig: { symbols }, symbols });
    expect(result.summary.fills).toBeGreaterThan(10);
    expectFlatEachDay(result);
    // an entry is a fill that takes the symbol's position away from flat
    const entries = new Map<string, number>();
    const running = new Map<string, number>();
    for (const fill of result.fills) {
      const before = running.get(fill.symbol) ?? 0;
      running.set(fill.symbol, before + signedQuantity(fill));
      if (before !== 0) continue;
      const key = `${fill.symbol} ${istDate(fill.atMs)}`;
      entries.set(key, (entries.get(key) ?? 0) + 1);
    }
    expect(entries.size).toBeGreaterThan(5);
    for (const count of entries.values()) expect(count).toBe(1);
  });
});
