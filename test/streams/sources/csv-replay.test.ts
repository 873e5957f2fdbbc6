import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOnTick, nseEquity, priceBand, syntheticToken } from '../../../src/model/instrument.js';
import type { Bar, Tick } from '../../../src/model/market.js';
import { IST_OFFSET_MS, istDate, istDayStartMs, istMinuteOfDay, istTimeMs } from '../../../src/model/time.js';
import { aggregateBars } from '../../../src/streams/operators/aggregate-bars.js';
import { TickValidator, type TickRejection } from '../../../src/streams/operators/validate-ticks.js';
import {
  BarsFileError,
  parseBarsCsv,
  readBarsFile,
  readDataFolder,
  replayDataFromBars,
  replayTickBatches,
  replayTicks$,
  ticksFromBar,
  type DataFolder,
  type RejectedRow,
} from '../../../src/streams/sources/csv-replay.js';

/** The shared real data; never copied into the repository. */
const DATA = path.resolve(process.cwd(), '../shared/data');
const TEN = ['ADANIPORTS', 'AXISBANK', 'BHARTIARTL', 'HDFCBANK', 'ICICIBANK', 'INFY', 'ITC', 'RELIANCE', 'SBIN', 'TCS'];

function allTicks(data: DataFolder, batchSize: number): Tick[] {
  const out: Tick[] = [];
  for (const batch of replayTickBatches(data, batchSize)) out.push(...batch);
  return out;
}

describe('readDataFolder on nse-5min (three header lines, UTC, Close first)', () => {
  let data: DataFolder;
  beforeAll(async () => {
    data = await readDataFolder(path.join(DATA, 'nse-5min'));
  });

  it('reads 10 symbols, 22 sessions of 75 five-minute bars, with no rejections', () => {
    expect(data.rejected).toEqual([]);
    expect(data.interval).toBe('5m');
    expect(data.instruments.map((i) => i.symbol)).toEqual(TEN);
    data.instruments.forEach((instrument, index) => expect(instrument.token).toBe(syntheticToken(index)));
    for (const symbol of TEN) {
      const bars = data.bars.get(symbol)!;
      expect(bars).toHaveLength(22 * 75);
      const perDay = new Map<string, number>();
      for (const bar of bars) perDay.set(istDate(bar.startMs), (perDay.get(istDate(bar.startMs)) ?? 0) + 1);
      expect(perDay.size).toBe(22);
      expect([...perDay.values()].every((n) => n === 75)).toBe(true);
    }
  });

  it('converts UTC to IST (03:45 UTC is the 09:15 bar) and parses prices exactly onto the tick grid', () => {
    const first = data.bars.get('ADANIPORTS')![0]!;
    // 2026-05-20 03:45:00+00:00,1756.699951171875,1760.0,1746.0999755859375,1746.0999755859375,0
    expect(first).toEqual({
      type: 'bar',
      symbol: 'ADANIPORTS',
      interval: '5m',
      startMs: istTimeMs('2026-05-20', 9, 15),
      openPaise: 1746_10,
      highPaise: 1760_00,
      lowPaise: 1746_10,
      closePaise: 1756_70,
      volume: 0,
      tickCount: 0,
    });
    const adani = data.instruments[0]!;
    expect(adani.referencePricePaise).toBe(1746_10);
    expect(adani.tickSizePaise).toBe(10);
    for (const instrument of data.instruments) {
      for (const bar of data.bars.get(instrument.symbol)!) {
        for (const price of [bar.openPaise, bar.highPaise, bar.lowPaise, bar.closePaise]) expect(isOnTick(price, instrument.tickSizePaise)).toBe(true);
      }
    }
  });

  it('filters by symbols and time range', async () => {
    const from = istTimeMs('2026-05-21', 0, 0);
    const to = istTimeMs('2026-05-22', 0, 0);
    const some = await readDataFolder(path.join(DATA, 'nse-5min'), { symbols: ['TCS', 'INFY', 'NOPE'], from, to });
    expect(some.instruments.map((i) => i.symbol)).toEqual(['INFY', 'TCS']);
    expect(some.instruments.map((i) => i.token)).toEqual([syntheticToken(0), syntheticToken(1)]);
    expect(some.bars.get('TCS')).toHaveLength(75);
    expect(some.instruments[1]!.referencePricePaise).toBe(some.bars.get('TCS')![0]!.openPaise);
    expect(some.rejected).toEqual([{ file: path.join(DATA, 'nse-5min', 'NOPE.csv'), line: 0, reason: 'no such file' }]);
  });

  it('replays deterministically in time order, ties broken by symbol order, four ticks a bar', () => {
    const first = allTicks(data, 1000);
    const second = allTicks(data, 333); // batch size does not change the sequence
    expect(second).toEqual(first);
    expect(first).toHaveLength(10 * 1650 * 4);
    const order = new Map(data.instruments.map((i, index) => [i.symbol, index]));
    let unordered = 0;
    for (let i = 1; i < first.length; i += 1) {
      const a = first[i - 1]!;
      const b = first[i]!;
      if (b.exchangeTimeMs < a.exchangeTimeMs || (b.exchangeTimeMs === a.exchangeTimeMs && order.get(b.symbol)! <= order.get(a.symbol)!)) unordered += 1;
    }
    expect(unordered).toBe(0);
    expect(first.slice(0, 10).map((t) => t.symbol)).toEqual(TEN);
  });

  it('cuts batches of at most batchSize', () => {
    const sizes = [...replayTickBatches(data, 4096)].map((batch) => batch.length);
    expect(sizes.slice(0, -1).every((n) => n === 4096)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(66_000);
    expect(() => [...replayTickBatches(data, 0)]).toThrow(RangeError);
  });

  it('restarts cumulative volume each IST day and passes validation with no rejections', () => {
    const ticks = allTicks(data, 5000);
    const rejections: TickRejection[] = [];
    const validator = new TickValidator({ instruments: data.instruments, onRejected: (r) => rejections.push(r), monotonicNow: () => 0 });
    expect(validator.validate(ticks)).toHaveLength(ticks.length);
    expect(rejections).toEqual([]);
    const dailyVolume = new Map<string, number>();
    for (const bar of data.bars.get('INFY')!) {
      const day = istDate(bar.startMs);
      dailyVolume.set(day, (dailyVolume.get(day) ?? 0) + bar.volume);
    }
    const lastOfDay = new Map<string, number>();
    for (const t of ticks) if (t.symbol === 'INFY') lastOfDay.set(istDate(t.exchangeTimeMs), t.volume);
    expect(lastOfDay).toEqual(dailyVolume);
  });

  it('round-trips: aggregating the replayed ticks into 5m bars gives the bars back', async () => {
    const bars = await lastValueFrom(replayTicks$(data, { batchSize: 2048 }).pipe(aggregateBars('5m'), toArray()));
    const rebuilt = new Map<string, Bar[]>();
    for (const bar of bars.flat()) rebuilt.set(bar.symbol, [...(rebuilt.get(bar.symbol) ?? []), bar]);
    for (const symbol of TEN) {
      expect(rebuilt.get(symbol)).toEqual(data.bars.get(symbol)!.map((bar) => ({ ...bar, tickCount: 4 })));
    }
  });
});

describe('readDataFolder on nse-1min (spaces after commas, rows out of order)', () => {
  it('reads 375 one-minute bars per symbol, sorted, 09:15–15:29 IST', async () => {
    const data = await readDataFolder(path.join(DATA, 'nse-1min-2016-09-30'));
    expect(data.rejected).toEqual([]);
    expect(data.interval).toBe('1m');
    expect(data.instruments.map((i) => i.symbol)).toEqual(TEN);
    for (const symbol of TEN) {
      const bars = data.bars.get(symbol)!;
      expect(bars).toHaveLength(375);
      expect(bars[0]!.startMs).toBe(istTimeMs('2016-09-30', 9, 15));
      expect(bars[374]!.startMs).toBe(istTimeMs('2016-09-30', 15, 29));
      for (let i = 1; i < bars.length; i += 1) expect(bars[i]!.startMs - bars[i - 1]!.startMs).toBe(60_000);
    }
  });

  it('the source really has rows out of order, which are sorted', async () => {
    let outOfOrderFiles = 0;
    for (const symbol of TEN) {
      const text = await readFile(path.join(DATA, 'nse-1min-2016-09-30', `${symbol}.csv`), 'utf8');
      const times = text
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[0]!);
      if (times.some((time, i) => i > 0 && time < times[i - 1]!)) outOfOrderFiles += 1;
    }
    expect(outOfOrderFiles).toBeGreaterThan(0);
  });
});

describe('readDataFolder on nse-daily (Kite candles)', () => {
  it('reads 40 symbols of daily bars stamped at IST midnight, widening bands to contain the data', async () => {
    const data = await readDataFolder(path.join(DATA, 'nse-daily'));
    expect(data.rejected).toEqual([]);
    expect(data.interval).toBe('1d');
    expect(data.instruments).toHaveLength(40);
    expect(data.instruments.map((i) => i.symbol)).toEqual([...data.instruments.map((i) => i.symbol)].sort());
    const reliance = data.bars.get('RELIANCE')!;
    expect(reliance.length).toBeGreaterThan(1200);
    expect(reliance[0]).toMatchObject({
      startMs: Date.parse('2020-10-01T00:00:00+05:30'),
      openPaise: 1078_90,
      highPaise: 1078_90,
      lowPaise: 1055_20,
      closePaise: 1060_55,
      volume: 20_124_778,
    });
    // 2020 prices sit on the 5-paise grid of the time; today's table would say 10 and distort them.
    expect(data.instruments.find((i) => i.symbol === 'INFY')!.tickSizePaise).toBe(5);
    // RELIANCE has one print at ₹1,265.09 (2025-02-01), so only the paisa grid fits it.
    expect(data.instruments.find((i) => i.symbol === 'RELIANCE')!.tickSizePaise).toBe(1);
    for (const instrument of data.instruments) {
      const band = priceBand(instrument);
      for (const bar of data.bars.get(instrument.symbol)!) {
        expect(istDayStartMs(bar.startMs)).toBe(bar.startMs);
        expect(bar.lowPaise).toBeGreaterThanOrEqual(band.lowerPaise);
        expect(bar.highPaise).toBeLessThanOrEqual(band.upperPaise);
      }
    }
    // Daily ticks fall inside the session of their day.
    const firstTicks = replayTickBatches(data, 160).next().value!;
    for (const t of firstTicks) {
      const minute = istMinuteOfDay(t.exchangeTimeMs);
      expect(minute >= 9 * 60 + 15 && minute < 15 * 60 + 30).toBe(true);
    }
  });
});

describe('ticksFromBar', () => {
  const instrument = nseEquity('INFY', syntheticToken(0), 1500_00);
  const start = istTimeMs('2026-05-20', 9, 15);
  const bar = (open: number, high: number, low: number, close: number, volume = 10, interval: Bar['interval'] = '1m'): Bar => ({
    type: 'bar',
    symbol: 'INFY',
    interval,
    startMs: interval === '1d' ? start - (9 * 60 + 15) * 60_000 : start,
    openPaise: open,
    highPaise: high,
    lowPaise: low,
    closePaise: close,
    volume,
    tickCount: 0,
  });
  const prices = (b: Bar): number[] => ticksFromBar(b, instrument, 0).map((t) => t.ltpPaise);

  it('goes open, the nearer extreme, the other extreme, close', () => {
    expect(prices(bar(1500_00, 1501_00, 1490_00, 1495_00))).toEqual([1500_00, 1501_00, 1490_00, 1495_00]); // high nearer
    expect(prices(bar(1500_00, 1510_00, 1499_00, 1505_00))).toEqual([1500_00, 1499_00, 1510_00, 1505_00]); // low nearer
  });

  it('on a tie takes the extreme away from the close first', () => {
    expect(prices(bar(1500_00, 1505_00, 1495_00, 1502_00))).toEqual([1500_00, 1495_00, 1505_00, 1502_00]);
    expect(prices(bar(1500_00, 1505_00, 1495_00, 1498_00))).toEqual([1500_00, 1505_00, 1495_00, 1498_00]);
  });

  it('spreads volume (remainder first) on top of the starting cumulative volume and spreads time over the bar', () => {
    const ticks = ticksFromBar(bar(1500_00, 1501_00, 1490_00, 1495_00, 10), instrument, 1000);
    expect(ticks.map((t) => t.lastQuantity)).toEqual([3, 3, 2, 2]);
    expect(ticks.map((t) => t.volume)).toEqual([1003, 1006, 1008, 1010]);
    expect(ticks.map((t) => t.exchangeTimeMs - start)).toEqual([0, 19_999, 39_999, 59_999]);
    expect(ticks.every((t) => t.type === 'tick' && t.symbol === 'INFY' && t.token === instrument.token)).toBe(true);
  });

  it('keeps four ticks for a zero-volume bar and spans the 09:15–15:30 session for a daily bar', () => {
    const daily = ticksFromBar(bar(1500_00, 1501_00, 1490_00, 1495_00, 0, '1d'), instrument, 0);
    expect(daily.map((t) => t.lastQuantity)).toEqual([0, 0, 0, 0]);
    expect(daily[0]!.exchangeTimeMs).toBe(start);
    expect(daily[3]!.exchangeTimeMs).toBe(istTimeMs('2026-05-20', 15, 30) - 1);
  });
});

describe('malformed files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'troupe-csv-'));
    await writeFile(
      path.join(dir, 'BAD.csv'),
      [
        'timestamp,open,high,low,close,volume,oi',
        '2026-05-20 09:15:00+05:30,100.00,101.00,99.00,100.50,1000,0', // 2 ok
        '2026-05-20 09:16:00+05:30,100.00,99.00,98.00,100.50,1000,0', // 3 high below close
        '2026-05-20 09:17:00+05:30,100.00,101.00,100.20,100.50,1000,0', // 4 low above open
        '2026-05-20 09:18:00+05:30,abc,101.00,99.00,100.50,1000,0', // 5 not a number
        '2026-05-20 09:19:00+05:30,100.00,101.00,99.00,100.50,-5,0', // 6 negative volume
        'yesterday,100.00,101.00,99.00,100.50,1000,0', // 7 bad time
        '2026-05-20 09:20:00+05:30,100.00,101.00', // 8 too few columns
        '', // 9 blank: ignored
        '2026-05-20 09:15:00+05:30,100.00,101.00,99.00,100.50,1000,0', // 10 duplicate of line 2
        '2026-05-20 09:21:00+05:30,0,101.00,0,100.50,10,0', // 11 non-positive price
        '2026-05-20 09:22:00+05:30,100.004,101.006,99.00,100.50,12.0,0', // 12 ok, rounded
        '',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'ODD.csv'), 'when,what\n1,2\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports each bad row with file, line and reason, and keeps the good rows', async () => {
    const rejected: RejectedRow[] = [];
    const file = path.join(dir, 'BAD.csv');
    const bars = await readBarsFile(file, 'BAD', { onRejected: (r) => rejected.push(r), interval: '1m' });
    expect(bars.map((b) => b.startMs)).toEqual([istTimeMs('2026-05-20', 9, 15), istTimeMs('2026-05-20', 9, 22)]);
    expect(bars[1]).toMatchObject({ openPaise: 100_00, highPaise: 101_01, volume: 12 });
    expect(rejected.map((r) => [r.line, r.reason.split(' ')[0]])).toEqual([
      [3, 'high'],
      [4, 'low'],
      [5, 'open'],
      [6, 'volume'],
      [7, 'timestamp'],
      [8, 'expected'],
      [10, 'duplicate'],
      [11, 'prices'],
    ]);
    expect(rejected.every((r) => r.file === file)).toBe(true);
    expect(rejected[6]!.reason).toBe('duplicate timestamp (same as line 2)');
  });

  it('readDataFolder reports an unknown layout at line 0 and carries on', async () => {
    const data = await readDataFolder(dir);
    expect(data.instruments.map((i) => i.symbol)).toEqual(['BAD']);
    expect(data.rejected.filter((r) => r.file.endsWith('BAD.csv'))).toHaveLength(8);
    expect(data.rejected.find((r) => r.file.endsWith('ODD.csv'))).toMatchObject({ line: 0 });
  });

  it('rejects a row with fewer or more cells than the header (a 6-cell row under 7 columns would read oi as volume)', () => {
    const text = [
      'timestamp,open,high,low,close,volume,oi',
      '2026-05-20 09:15:00+05:30,100.00,101.00,99.00,100.50,1000,0',
      '2026-05-20 09:16:00+05:30,100.00,101.00,99.00,100.50,0', // 3: the volume cell is missing, the 0 is oi
      '2026-05-20 09:17:00+05:30,100.00,101.00,99.00,100.50,1000,0,5', // 4: one cell too many
    ].join('\n');
    const parsed = parseBarsCsv(text, 'x.csv', 'X');
    expect(parsed.bars.map((b) => b.volume)).toEqual([1000]);
    expect(parsed.rejected).toEqual([
      { file: 'x.csv', line: 3, reason: 'expected 7 cells as in the header, got 6' },
      { file: 'x.csv', line: 4, reason: 'expected 7 cells as in the header, got 8' },
    ]);
    expect(parsed.rows).toBe(3);
  });

  it('readDataFolder names a header-only file and an unreadable folder', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'troupe-csv-empty-'));
    try {
      await writeFile(path.join(empty, 'INFY.csv'), 'timestamp,open,high,low,close,volume,oi\n');
      const data = await readDataFolder(empty);
      expect(data.instruments).toEqual([]);
      expect(data.rejected).toEqual([{ file: path.join(empty, 'INFY.csv'), line: 0, reason: 'no data rows (the file has a header only)' }]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    await expect(readDataFolder(path.join(empty, 'gone'))).rejects.toThrow(/cannot read the data folder .*gone: no such folder/);
  });

  it('readBarsFile rejects the promise for an unknown layout', async () => {
    await expect(readBarsFile(path.join(dir, 'ODD.csv'), 'ODD')).rejects.toBeInstanceOf(BarsFileError);
  });

  it('rounds to a given instrument’s tick and infers the interval from the layout and spacing', () => {
    const instrument = nseEquity('X', syntheticToken(0), 300_00); // tick 5 paise
    const parsed = parseBarsCsv(
      'Date, Open, High, Low, Close, Volume\n2016-09-30 09:16:00, 300.03, 300.12, 299.99, 300.02, 7\n2016-09-30 09:15:00, 300, 300, 300, 300, 1\n',
      'x.csv',
      'X',
      { instrument },
    );
    expect(parsed.layout).toBe('date-ohlcv');
    expect(parsed.interval).toBe('1m');
    expect(parsed.tickSizePaise).toBe(5);
    expect(parsed.bars.map((b) => [b.startMs, b.openPaise, b.highPaise, b.lowPaise, b.closePaise])).toEqual([
      [istTimeMs('2016-09-30', 9, 15), 300_00, 300_00, 300_00, 300_00],
      [istTimeMs('2016-09-30', 9, 16), 300_05, 300_10, 300_00, 300_00],
    ]);
    expect(parsed.bars[0]!.startMs % 60_000).toBe(0);
    expect(IST_OFFSET_MS).toBe(19_800_000);
  });
});

describe('replayTickBatches merge', () => {
  /** Each symbol replayed alone, then all of them stably sorted by (time, instrument order): what the merge must give. */
  function oracle(data: DataFolder): Tick[] {
    const runs = data.instruments.map((instrument, order) => ({
      order,
      ticks: allTicks({ ...data, instruments: [instrument], bars: new Map([[instrument.symbol, data.bars.get(instrument.symbol)!]]) }, 64),
    }));
    return runs
      .flatMap(({ order, ticks }) => ticks.map((tick) => ({ order, tick })))
      .sort((a, b) => a.tick.exchangeTimeMs - b.tick.exchangeTimeMs || a.order - b.order)
      .map(({ tick }) => tick);
  }

  it('gives the time order with ties by instrument order on symbols that trade at different times (gaps, late starts, early ends)', () => {
    const slotMs = 5 * 60_000;
    const dayOne = istTimeMs('2026-05-20', 9, 15);
    const dayTwo = istTimeMs('2026-05-21', 9, 15);
    const slots = [...Array.from({ length: 12 }, (_, i) => dayOne + i * slotMs), ...Array.from({ length: 12 }, (_, i) => dayTwo + i * slotMs)];
    const symbolBars = fc.subarray(slots, { minLength: 1 }).map((starts) => starts.map((startMs, i) => ({ startMs, volume: 100 + i })));
    fc.assert(
      fc.property(fc.array(symbolBars, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 40 }), (perSymbol, batchSize) => {
        const series = new Map<string, Bar[]>(
          perSymbol.map((list, s) => [
            `SYM${s}`,
            list.map(
              ({ startMs, volume }) =>
                ({
                  type: 'bar',
                  symbol: `SYM${s}`,
                  interval: '5m',
                  startMs,
                  openPaise: 10_000,
                  highPaise: 10_100 + s * 5,
                  lowPaise: 9_900,
                  closePaise: 10_050,
                  volume,
                  tickCount: 0,
                }) satisfies Bar,
            ),
          ]),
        );
        const data = replayDataFromBars(series, '5m');
        expect(allTicks(data, batchSize)).toEqual(oracle(data));
      }),
      { numRuns: 200, seed: 20261203 },
    );
  });
});
