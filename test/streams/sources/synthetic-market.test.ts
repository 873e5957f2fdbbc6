import { asapScheduler, map, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { isOnTick, nseTickSizePaise, priceBand, syntheticToken } from '../../../src/model/instrument.js';
import type { Tick } from '../../../src/model/market.js';
import { IST_OFFSET_MS, MINUTE_MS, istDate, istMinuteOfDay, istTimeMs, isNseSessionOpen } from '../../../src/model/time.js';
import {
  SYNTHETIC_REGIMES,
  createSyntheticMarket,
  defaultSymbolNames,
  syntheticTicks$,
  type SyntheticRegime,
} from '../../../src/streams/sources/synthetic-market.js';
import { testScheduler } from '../fixtures.js';

const OPEN_MINUTE = 9 * 60 + 15;

describe('createSyntheticMarket', () => {
  it('is deterministic: the same options give the same first 10,000 ticks', () => {
    const a = createSyntheticMarket({ symbols: 20, seed: 7 });
    const b = createSyntheticMarket({ symbols: 20, seed: 7 });
    const fromA = [...a.nextBatch(4000), ...a.nextBatch(6000)];
    const fromB = b.nextBatch(10_000); // batching does not change the sequence
    expect(fromA).toHaveLength(10_000);
    expect(fromA).toEqual(fromB);
    expect(a.instruments).toEqual(b.instruments);
    expect(a.simulatedTimeMs).toBe(b.simulatedTimeMs);
  });

  it('differs with a different seed', () => {
    const a = createSyntheticMarket({ symbols: 20, seed: 7 }).nextBatch(1000);
    const b = createSyntheticMarket({ symbols: 20, seed: 8 }).nextBatch(1000);
    expect(a).not.toEqual(b);
  });

  it('names the first 50 symbols after real NSE stocks, then SYM051…, with deterministic tokens', () => {
    const names = defaultSymbolNames(52);
    expect(names.slice(0, 4)).toEqual(['RELIANCE', 'TCS', 'HDFCBANK', 'INFY']);
    expect(new Set(names.slice(0, 50)).size).toBe(50);
    expect(names.slice(50)).toEqual(['SYM051', 'SYM052']);
    const market = createSyntheticMarket({ symbols: 52, seed: 1 });
    expect(market.instruments.map((i) => i.symbol)).toEqual(names);
    market.instruments.forEach((instrument, index) => {
      expect(instrument.token).toBe(syntheticToken(index));
      expect(instrument.tickSizePaise).toBe(nseTickSizePaise(instrument.referencePricePaise));
    });
    // Every NSE tick-size tier is represented among the named stocks.
    expect(new Set(market.instruments.map((i) => i.tickSizePaise))).toEqual(new Set([1, 5, 10, 50, 100, 500]));
  });

  it('accepts explicit symbol names and rejects bad options', () => {
    const market = createSyntheticMarket({ symbols: ['TCS', 'NEWCO'], seed: 3 });
    expect(market.instruments.map((i) => i.symbol)).toEqual(['TCS', 'NEWCO']);
    expect(market.instruments[0]!.referencePricePaise).toBe(3100_00);
    expect(() => createSyntheticMarket({ symbols: [], seed: 1 })).toThrow(RangeError);
    expect(() => createSyntheticMarket({ symbols: ['A', 'A'], seed: 1 })).toThrow(RangeError);
    expect(() => createSyntheticMarket({ symbols: 1, seed: 1, startDate: '20-01-2026' })).toThrow(RangeError);
    expect(() => createSyntheticMarket({ symbols: 1, seed: 1, ticksPerSymbolPerSecond: 0 })).toThrow(RangeError);
  });

  describe('over several sessions', () => {
    // Five symbols at 2 prints/s each: 225,000 ticks a session; 700,000 ticks ≈ 3.1 sessions.
    const market = createSyntheticMarket({ symbols: 5, seed: 2024, startDate: '2026-01-08' }); // a Thursday
    const ticks = market.nextBatch(700_000);
    const bySymbol = new Map(market.instruments.map((i) => [i.symbol, i]));

    it('keeps every price on the tick grid and inside the band, with bid ≤ ltp ≤ ask', () => {
      let bad = 0;
      for (const t of ticks) {
        const instrument = bySymbol.get(t.symbol)!;
        const band = priceBand(instrument);
        const tickSize = instrument.tickSizePaise;
        const ok =
          Number.isSafeInteger(t.ltpPaise) &&
          isOnTick(t.ltpPaise, tickSize) &&
          isOnTick(t.bidPaise!, tickSize) &&
          isOnTick(t.askPaise!, tickSize) &&
          t.ltpPaise >= band.lowerPaise &&
          t.ltpPaise <= band.upperPaise &&
          t.bidPaise! >= band.lowerPaise &&
          t.askPaise! <= band.upperPaise &&
          t.bidPaise! <= t.ltpPaise &&
          t.ltpPaise <= t.askPaise! &&
          t.bidPaise! < t.askPaise! &&
          t.token === instrument.token &&
          Number.isSafeInteger(t.lastQuantity) &&
          t.lastQuantity >= 1 &&
          t.bidQuantity! >= 1 &&
          t.askQuantity! >= 1;
        if (!ok) bad += 1;
      }
      expect(bad).toBe(0);
    });

    it('stamps times only inside 09:15–15:30 IST on weekdays, never going backwards, jumping Friday → Monday', () => {
      let previous = Number.NEGATIVE_INFINITY;
      let outside = 0;
      let backwards = 0;
      const dates = new Set<string>();
      for (const t of ticks) {
        if (!isNseSessionOpen(t.exchangeTimeMs)) outside += 1;
        if (t.exchangeTimeMs < previous) backwards += 1;
        previous = t.exchangeTimeMs;
        dates.add(istDate(t.exchangeTimeMs));
      }
      expect(outside).toBe(0);
      expect(backwards).toBe(0);
      expect([...dates]).toEqual(['2026-01-08', '2026-01-09', '2026-01-12', '2026-01-13']);
      expect(istMinuteOfDay(ticks[0]!.exchangeTimeMs)).toBe(OPEN_MINUTE);
    });

    it('accumulates volume per symbol and session, restarting each session', () => {
      const last = new Map<string, { volume: number; date: string }>();
      let wrong = 0;
      for (const t of ticks) {
        const date = istDate(t.exchangeTimeMs);
        const previous = last.get(t.symbol);
        const expected = (previous && previous.date === date ? previous.volume : 0) + t.lastQuantity;
        if (t.volume !== expected) wrong += 1;
        last.set(t.symbol, { volume: t.volume, date });
      }
      expect(wrong).toBe(0);
    });

    it('trades more in the first and last 30 minutes than at mid-day (U-shaped profile)', () => {
      const firstDay = ticks.filter((t) => istDate(t.exchangeTimeMs) === '2026-01-08');
      const volumeBetween = (fromMinute: number, toMinute: number): number =>
        firstDay
          .filter((t) => {
            const m = istMinuteOfDay(t.exchangeTimeMs);
            return m >= fromMinute && m < toMinute;
          })
          .reduce((sum, t) => sum + t.lastQuantity, 0);
      const opening = volumeBetween(OPEN_MINUTE, OPEN_MINUTE + 30);
      const midday = volumeBetween(12 * 60, 12 * 60 + 30);
      const closing = volumeBetween(15 * 60, 15 * 60 + 30);
      expect(opening).toBeGreaterThan(2 * midday);
      expect(closing).toBeGreaterThan(1.5 * midday);
    });

    it('moves prices: every symbol has a range over the sessions', () => {
      for (const instrument of market.instruments) {
        let high = Number.NEGATIVE_INFINITY;
        let low = Number.POSITIVE_INFINITY;
        for (const t of ticks) {
          if (t.symbol !== instrument.symbol) continue;
          high = Math.max(high, t.ltpPaise);
          low = Math.min(low, t.ltpPaise);
        }
        expect(high - low).toBeGreaterThan(10 * instrument.tickSizePaise);
      }
    });
  });

  it('switches regimes through the Markov chain', () => {
    const market = createSyntheticMarket({ symbols: 3, seed: 11 });
    const seen = new Set<SyntheticRegime>();
    for (let i = 0; i < 200; i += 1) {
      market.nextBatch(2000);
      for (const instrument of market.instruments) seen.add(market.regimeOf(instrument.symbol));
    }
    expect([...seen].sort()).toEqual([...SYNTHETIC_REGIMES].sort());
    expect(() => market.regimeOf('NOPE')).toThrow(RangeError);
  });

  it('starts a weekend start date on the next Monday at 09:15 IST', () => {
    const market = createSyntheticMarket({ symbols: 2, seed: 5, startDate: '2026-01-10' }); // Saturday
    const [first] = market.nextBatch(1);
    expect(istDate(first!.exchangeTimeMs)).toBe('2026-01-12');
    expect(first!.exchangeTimeMs - istTimeMs('2026-01-12', 9, 15)).toBeLessThan(MINUTE_MS);
    expect((first!.exchangeTimeMs + IST_OFFSET_MS) % 1).toBe(0);
  });

  it('holds no session on NSE holidays: 2026-01-15 (Maharashtra civic polls) and 2026-01-26 (Republic Day) are skipped', () => {
    const market = createSyntheticMarket({ symbols: 2, seed: 3, startDate: '2026-01-14' });
    const session = 375 * MINUTE_MS;
    const dates = new Set<string>();
    for (const t of market.nextBatchUntil(10 * session, Number.MAX_SAFE_INTEGER)) dates.add(istDate(t.exchangeTimeMs));
    // weekdays from 14 Jan, less the two holidays, written out by hand
    expect([...dates]).toEqual([
      '2026-01-14',
      '2026-01-16',
      '2026-01-19',
      '2026-01-20',
      '2026-01-21',
      '2026-01-22',
      '2026-01-23',
      '2026-01-27',
      '2026-01-28',
      '2026-01-29',
    ]);
  });

  it('starts a holiday start date on the next trading day', () => {
    const market = createSyntheticMarket({ symbols: 2, seed: 5, startDate: '2026-01-26' }); // Republic Day, a Monday
    const [first] = market.nextBatch(1);
    expect(istDate(first!.exchangeTimeMs)).toBe('2026-01-27');
  });

  it('nextBatchUntil stops at a session time and tradingTimeMs skips closed hours', () => {
    const market = createSyntheticMarket({ symbols: 4, seed: 9, startDate: '2026-01-09' }); // Friday
    expect(market.tradingTimeMs).toBe(0);
    const session = 375 * MINUTE_MS;
    const firstSession = market.nextBatchUntil(session, Number.MAX_SAFE_INTEGER);
    expect(firstSession.every((t) => istDate(t.exchangeTimeMs) === '2026-01-09')).toBe(true);
    expect(market.tradingTimeMs).toBe(session);
    const next = market.nextBatch(1);
    expect(istDate(next[0]!.exchangeTimeMs)).toBe('2026-01-12');
    expect(market.nextBatchUntil(0, 10)).toEqual([]);
  });
});

describe('syntheticTicks$', () => {
  it('max mode: emits batches of batchSize in the market’s order, on the given scheduler', () => {
    const reference = createSyntheticMarket({ symbols: 3, seed: 4 });
    const expected = [reference.nextBatch(100), reference.nextBatch(100), reference.nextBatch(100)];
    testScheduler().run(({ expectObservable }) => {
      const ticks$ = syntheticTicks$(createSyntheticMarket({ symbols: 3, seed: 4 }), { mode: 'max', batchSize: 100, scheduler: asapScheduler });
      expectObservable(ticks$.pipe(take(3))).toBe('(abc|)', { a: expected[0], b: expected[1], c: expected[2] });
    });
  });

  it('max mode: yields to the event loop between batches and stops on unsubscribe', async () => {
    const market = createSyntheticMarket({ symbols: 3, seed: 4 });
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      const subscription = syntheticTicks$(market, { mode: 'max', batchSize: 10 }).subscribe((batch) => {
        events.push(`batch ${batch.length}`);
        if (events.length === 1) setImmediate(() => events.push('other work'));
        if (events.filter((e) => e.startsWith('batch')).length === 3) {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    const timeAfterStop = market.simulatedTimeMs;
    await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    // Work queued during the first batch runs before the second batch is produced.
    expect(events).toEqual(['batch 10', 'other work', 'batch 10', 'batch 10']);
    expect(market.simulatedTimeMs).toBe(timeAfterStop);
  });

  it('realtime mode: each period emits the ticks whose session time has come (speed 60 = a minute per second)', () => {
    const reference = createSyntheticMarket({ symbols: 3, seed: 4 });
    const minute1 = reference.nextBatchUntil(MINUTE_MS, 1_000_000);
    const minute2 = reference.nextBatchUntil(2 * MINUTE_MS, 1_000_000);
    testScheduler().run(({ expectObservable }) => {
      const ticks$ = syntheticTicks$(createSyntheticMarket({ symbols: 3, seed: 4 }), { mode: 'realtime', speed: 60, periodMs: 1000 });
      expectObservable(ticks$.pipe(take(2))).toBe('1000ms a 999ms (b|)', { a: minute1, b: minute2 });
    });
  });

  it('realtime mode: cuts long stretches into maxBatchSize batches', () => {
    testScheduler().run(({ expectObservable }) => {
      const ticks$ = syntheticTicks$(createSyntheticMarket({ symbols: 3, seed: 4 }), { mode: 'realtime', speed: 600, periodMs: 100, maxBatchSize: 50 });
      expectObservable(
        ticks$.pipe(
          map((batch: readonly Tick[]) => batch.length),
          take(3),
        ),
      ).toBe('100ms (abc|)', { a: 50, b: 50, c: 50 });
    });
  });
});
