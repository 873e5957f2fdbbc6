import fc from 'fast-check';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { istTimeMs, isOnTick, nseTickSizePaise } from '../../src/model/index.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { floorDiv, marketableLimitPaise, moveTo } from '../../src/strategies/shared/orders.js';
import { barEndMinute, checkSessionTimes, flatFromExitTime, parseSessionTime, sessionState } from '../../src/strategies/shared/session.js';
import { perSymbol } from '../../src/strategies/shared/state.js';
import { plainJsonState } from '../../src/strategies/api.js';
import { bar } from '../support/builders.js';
import { fakeContext, netSubmitted } from '../support/strategy-kit.js';

describe('strategy helpers', () => {
  it('moveTo nets against position and working orders and never double-sends', () => {
    const kit = fakeContext({});
    expect(moveTo(kit.ctx, 'INFY', 10, { product: 'MIS', reason: 'r' })).toBe(10);
    expect(moveTo(kit.ctx, 'INFY', 10, { product: 'MIS', reason: 'r' })).toBe(0);
    kit.fillAll();
    expect(moveTo(kit.ctx, 'INFY', -5, { product: 'MIS', reason: 'r' })).toBe(-15);
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(-5);
    expect(() => moveTo(kit.ctx, 'INFY', 1.5, { product: 'MIS', reason: 'r' })).toThrow(/whole number/);
  });

  it('marketable limit prices sit on the NSE tick grid, through the reference', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 5_00_000_00 }), fc.integer({ min: 1, max: 500 }), (reference, bps) => {
        const buy = marketableLimitPaise(reference, 'BUY', bps);
        const sell = marketableLimitPaise(reference, 'SELL', bps);
        expect(Number.isSafeInteger(buy) && Number.isSafeInteger(sell)).toBe(true);
        expect(isOnTick(buy, nseTickSizePaise(buy))).toBe(true);
        expect(isOnTick(sell, nseTickSizePaise(sell))).toBe(true);
        expect(buy).toBeGreaterThanOrEqual(reference);
        expect(sell).toBeLessThanOrEqual(reference);
      }),
    );
    expect(marketableLimitPaise(1_319_90, 'BUY', 10)).toBe(1_321_30); // ₹1319.90 + 0.1% = 1321.22 → up to the 10-paise grid
  });

  it('floorDiv is exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 1_000_000_000 }), (n, d) => {
        const q = floorDiv(n, d);
        expect(q * d <= n && (q + 1) * d > n).toBe(true);
      }),
    );
  });

  it('reads session times and bar close times in IST', () => {
    expect(parseSessionTime('exitTime', '15:15')).toBe(915);
    expect(() => parseSessionTime('exitTime', '25:00')).toThrow(/exitTime/);
    expect(() => parseSessionTime('exitTime', '09:75')).toThrow(/exitTime/);
    expect(barEndMinute(bar({ interval: '5m', startMs: istTimeMs('2026-05-20', 15, 10) }))).toBe(915);
  });

  it('checkSessionTimes reads the entry window and exit, naming the first field that does not fit', () => {
    expect(checkSessionTimes({ lastEntryTime: '13:00', exitTime: '15:15' })).toEqual({ firstEntry: 555, lastEntry: 780, exit: 915 });
    expect(checkSessionTimes({ firstEntryTime: '09:45', lastEntryTime: '14:30', exitTime: '15:15' })).toEqual({ firstEntry: 585, lastEntry: 870, exit: 915 });
    expect(() => checkSessionTimes({ firstEntryTime: '9:45', lastEntryTime: '14:30', exitTime: '15:15' })).toThrow(/^firstEntryTime: must be an IST time/);
    expect(() => checkSessionTimes({ lastEntryTime: '13:00', exitTime: '15:25' })).toThrow(/^exitTime: must be before 15:20 IST/);
    // both wrong: the first entry after the last one is named first
    expect(() => checkSessionTimes({ firstEntryTime: '15:00', lastEntryTime: '14:50', exitTime: '14:40' })).toThrow(
      /^firstEntryTime: must not be after lastEntryTime/,
    );
    expect(() => checkSessionTimes({ lastEntryTime: '15:15', exitTime: '15:15' })).toThrow(/^lastEntryTime: must be before exitTime/);
  });

  it('perSymbol declares a state of one schema per symbol, checked when it is read back', () => {
    const codec = plainJsonState(perSymbol(Type.Object({ closes: Type.Array(Type.Integer()) })));
    expect(codec.decodeState({ INFY: { closes: [1, 2] } }, 1)).toEqual({ INFY: { closes: [1, 2] } });
    expect(() => codec.decodeState({ INFY: { closes: [1.5] } }, 1)).toThrow(/\/INFY\/closes\/0/);
  });

  it('sessionState keeps a state through its IST date, then starts afresh and flattens what the earlier session left', () => {
    const kit = fakeContext({});
    const states: Record<string, { date: string; bars: number }> = {};
    const on = (date: string, hour: number) => bar({ interval: '5m', startMs: istTimeMs(date, hour, 0) });
    const fresh = (date: string) => ({ date, bars: 0 });
    sessionState(states, on('2026-05-20', 10), kit.ctx, 'Test', fresh).bars += 1;
    sessionState(states, on('2026-05-20', 11), kit.ctx, 'Test', fresh).bars += 1;
    expect(states).toEqual({ INFY: { date: '2026-05-20', bars: 2 } });
    expect(kit.recorded.submitted).toEqual([]); // nothing was held
    moveTo(kit.ctx, 'INFY', 5, { product: 'MIS', reason: 'entry' });
    kit.fillAll();
    expect(sessionState(states, on('2026-05-21', 10), kit.ctx, 'Test', fresh)).toEqual({ date: '2026-05-21', bars: 0 });
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 5, product: 'MIS', reason: 'Test: position left from an earlier session' });
  });

  it('flatFromExitTime flattens from the bar that closes at the exit time on, and only then', () => {
    const kit = fakeContext({});
    moveTo(kit.ctx, 'INFY', -3, { product: 'MIS', reason: 'entry' });
    kit.fillAll();
    const closingAt = (hour: number, minute: number) => bar({ interval: '5m', startMs: istTimeMs('2026-05-20', hour, minute - 5) });
    expect(flatFromExitTime(kit.ctx, closingAt(15, 10), '15:15', 'Test')).toBe(false);
    expect(kit.recorded.submitted).toHaveLength(1);
    expect(flatFromExitTime(kit.ctx, closingAt(15, 15), '15:15', 'Test')).toBe(true);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'BUY', quantity: 3, product: 'MIS', reason: 'Test: flat by 15:15 IST' });
    expect(flatFromExitTime(kit.ctx, closingAt(15, 20), '15:15', 'Test')).toBe(true); // the exit is working: not sent twice
    expect(kit.recorded.submitted).toHaveLength(2);
  });

  it('every registered strategy has a unique kind, config fields with defaults that parse, and JSON-safe init state', () => {
    expect(new Set(STRATEGIES.map((s) => s.kind)).size).toBe(STRATEGIES.length);
    const symbolsFor: Record<string, string[]> = { pairs: ['INFY', 'TCS'], 'momentum-rotation': ['INFY', 'TCS', 'SBIN', 'ITC'] };
    for (const definition of STRATEGIES) {
      for (const field of definition.configFields) expect(field.description.length).toBeGreaterThan(0);
      const config: unknown = definition.parseConfig({ symbols: symbolsFor[definition.kind] ?? ['INFY'] });
      const kit = fakeContext(config);
      const state: unknown = definition.init(kit.ctx);
      expect(JSON.parse(JSON.stringify(definition.encodeState(state)))).toEqual(definition.encodeState(state));
    }
  });
});
