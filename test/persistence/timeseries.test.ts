import { beforeAll, describe, expect, it } from 'vitest';
import type { Bar, Tick } from '../../src/model/market.js';
import type { Database } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { readBars, rollUpHourBars, upsertBars } from '../../src/persistence/timeseries/bars.js';
import { ensurePartition, listPartitions, parsePartitionName, partitionFor } from '../../src/persistence/timeseries/partitions.js';
import { enforceRetention } from '../../src/persistence/timeseries/retention.js';
import { detectTimescale } from '../../src/persistence/timeseries/timescale.js';
import { TickIngestor } from '../../src/persistence/timeseries/tick-ingestor.js';
import { DATABASE_KINDS, suiteDatabase } from '../support/databases.js';

const DAY_MS = 86_400_000;
const SESSION_OPEN_MS = Date.UTC(2024, 0, 2, 3, 45); // 09:15 IST
const SYMBOLS = ['INFY', 'TCS', 'RELIANCE', 'HDFCBANK', 'SBIN'];

/** Deterministic ticks spread over `days` trading days. */
function ticks(count: number, days: number): Tick[] {
  return Array.from({ length: count }, (_, index) => {
    const day = index % days;
    const base = 100_000 + (index % 997);
    const tick: Tick = {
      type: 'tick',
      symbol: SYMBOLS[index % SYMBOLS.length]!,
      token: 1000 + (index % SYMBOLS.length),
      ltpPaise: base,
      lastQuantity: 1 + (index % 50),
      volume: index,
      exchangeTimeMs: SESSION_OPEN_MS + day * DAY_MS + Math.floor(index / days) * 7,
      ...(index % 3 === 0 ? {} : { bidPaise: base - 5, askPaise: base + 5, bidQuantity: 10, askQuantity: 20 }),
    };
    return tick;
  });
}

function expectedPerPartition(list: readonly Tick[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const tick of list) {
    const name = partitionFor('ticks', tick.exchangeTimeMs).name;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

async function countsPerPartition(db: Database): Promise<Record<string, number>> {
  const rows = await db.query<{ partition: string; n: number }>('SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM ticks GROUP BY 1');
  return Object.fromEntries(rows.map((row) => [row.partition, row.n]));
}

describe('partition names', () => {
  it('map instants to day, month and year partitions and back', () => {
    const atMs = Date.UTC(2024, 1, 29, 23, 59, 59, 999);
    expect(partitionFor('ticks', atMs)).toEqual({ table: 'ticks', name: 'ticks_p20240229', fromMs: Date.UTC(2024, 1, 29), toMs: Date.UTC(2024, 2, 1) });
    expect(partitionFor('bars_1m', atMs)).toEqual({ table: 'bars_1m', name: 'bars_1m_p202402', fromMs: Date.UTC(2024, 1, 1), toMs: Date.UTC(2024, 2, 1) });
    expect(partitionFor('bars_1h', atMs)).toEqual({ table: 'bars_1h', name: 'bars_1h_p2024', fromMs: Date.UTC(2024, 0, 1), toMs: Date.UTC(2025, 0, 1) });
    expect(parsePartitionName('ticks', 'ticks_p20240229')).toEqual(partitionFor('ticks', atMs));
    expect(parsePartitionName('ticks', 'ticks_p202402')).toBeUndefined();
    expect(parsePartitionName('bars_1m', 'bars_1m_p202413')).toBeUndefined();
  });
});

describe.each(DATABASE_KINDS)('time series on %s', (kind) => {
  const database = suiteDatabase(kind);
  let db: Database;
  beforeAll(async () => {
    db = database();
    await migrate(db);
  });

  it(`ingests ${kind === 'postgres' ? '100 000' : '20 000'} ticks exactly, partition by partition`, async () => {
    const list = ticks(kind === 'postgres' ? 100_000 : 20_000, 3);
    const errors: unknown[] = [];
    const ingestor = new TickIngestor(db, {
      capacity: 1_000_000,
      batchSize: 10_000,
      flushIntervalMs: 0,
      concurrency: 2,
      onError: (error) => errors.push(error),
    });
    for (const tick of list) expect(ingestor.offer(tick)).toBe(true);
    await ingestor.stop();
    expect(errors).toEqual([]);
    expect(ingestor.stats()).toMatchObject({ offered: list.length, written: list.length, shed: 0, failed: 0, pending: 0 });
    expect(await countsPerPartition(db)).toEqual(expectedPerPartition(list));
    const [sums] = await db.query<{ ltp: number; bids: number; nulls: number }>(
      'SELECT sum(ltp_paise)::bigint AS ltp, count(bid_paise)::int AS bids, count(*) FILTER (WHERE ask_quantity IS NULL)::int AS nulls FROM ticks',
    );
    expect(sums).toEqual({
      ltp: list.reduce((sum, tick) => sum + tick.ltpPaise, 0),
      bids: list.filter((tick) => tick.bidPaise !== undefined).length,
      nulls: list.filter((tick) => tick.askQuantity === undefined).length,
    });
    const [first] = await db.query<{ ms: number; symbol: string }>(
      "SELECT (extract(epoch FROM exchange_time) * 1000)::bigint AS ms, symbol FROM ticks WHERE symbol = 'INFY' ORDER BY exchange_time LIMIT 1",
    );
    expect(first).toEqual({ ms: SESSION_OPEN_MS, symbol: 'INFY' });
    await db.exec('TRUNCATE ticks');
  });

  it('sheds ticks beyond the buffer capacity, counts them, and writes the rest', async () => {
    const list = ticks(1500, 1);
    const ingestor = new TickIngestor(db, { capacity: 1000, batchSize: 400, flushIntervalMs: 0 });
    const accepted = list.map((tick) => ingestor.offer(tick));
    expect(accepted.filter(Boolean)).toHaveLength(1000);
    expect(accepted.slice(1000).some(Boolean)).toBe(false);
    expect(ingestor.stats()).toMatchObject({ offered: 1500, shed: 500, pending: 1000 });
    await ingestor.stop();
    expect(ingestor.stats()).toMatchObject({ offered: 1500, shed: 500, written: 1000, pending: 0, failed: 0 });
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ticks'))[0]?.n).toBe(1000);
    // Once drained, the buffer accepts again.
    expect(ingestor.offer(list[0]!)).toBe(true);
    await ingestor.flush();
    expect(ingestor.stats().written).toBe(1001);
    await db.exec('TRUNCATE ticks');
  });

  it('upserts 1m bars and rolls them up into 1h bars', async () => {
    const minute = (symbol: string, startMs: number, open: number, close: number, volume: number): Bar => ({
      type: 'bar',
      symbol,
      interval: '1m',
      startMs,
      openPaise: open,
      highPaise: Math.max(open, close) + 10,
      lowPaise: Math.min(open, close) - 10,
      closePaise: close,
      volume,
      tickCount: 3,
    });
    const hourStart = Date.UTC(2024, 0, 2, 4);
    const bars = Array.from({ length: 60 }, (_, index) => minute('INFY', hourStart + index * 60_000, 150_000 + index, 150_001 + index, 100));
    await upsertBars(db, [...bars, minute('INFY', hourStart + 3_600_000, 1, 2, 5)]);
    await upsertBars(db, [minute('INFY', hourStart, 150_000, 150_500, 100)]); // a corrected bar replaces the stored one
    const stored = await readBars(db, '1m', 'INFY', hourStart, hourStart + 3_600_000);
    expect(stored).toHaveLength(60);
    expect(stored[0]).toEqual(minute('INFY', hourStart, 150_000, 150_500, 100));
    await rollUpHourBars(db, hourStart, hourStart + 2 * 3_600_000);
    expect(await readBars(db, '1h', 'INFY', hourStart, hourStart + 2 * 3_600_000)).toEqual([
      {
        type: 'bar',
        symbol: 'INFY',
        interval: '1h',
        startMs: hourStart,
        openPaise: 150_000,
        highPaise: 150_500 + 10,
        lowPaise: 150_000 - 10,
        closePaise: 150_060,
        volume: 6000,
        tickCount: 180,
      },
      {
        type: 'bar',
        symbol: 'INFY',
        interval: '1h',
        startMs: hourStart + 3_600_000,
        openPaise: 1,
        highPaise: 12,
        lowPaise: -9,
        closePaise: 2,
        volume: 5,
        tickCount: 3,
      },
    ]);
    await expect(upsertBars(db, [{ ...minute('INFY', hourStart, 1, 1, 1), interval: '5m' }])).rejects.toThrow(/only 1m and 1h/);
  });

  it('retention drops only whole partitions older than the policy (ticks 7 d, 1m bars 1 y, 1h bars 5 y)', async () => {
    const nowMs = Date.UTC(2031, 5, 15, 12);
    const day = (offset: number): number => Date.UTC(2031, 5, 15 + offset, 6);
    for (const offset of [-10, -8, -7, -6, 0]) await ensurePartition(db, partitionFor('ticks', day(offset)));
    for (const atMs of [Date.UTC(2030, 4, 10), Date.UTC(2030, 5, 10), Date.UTC(2030, 6, 10), Date.UTC(2031, 5, 1)])
      await ensurePartition(db, partitionFor('bars_1m', atMs));
    for (const year of [2025, 2026, 2031]) await ensurePartition(db, partitionFor('bars_1h', Date.UTC(year, 3, 1)));
    const cutoffMs = { ticks: nowMs - 7 * DAY_MS, bars_1m: nowMs - 365 * DAY_MS, bars_1h: nowMs - (5 * 365 + 1) * DAY_MS };
    const before = [...(await listPartitions(db, 'ticks')), ...(await listPartitions(db, 'bars_1m')), ...(await listPartitions(db, 'bars_1h'))];

    const dropped = await enforceRetention(db, nowMs);
    // Earlier tests left 2024 partitions: they are old too. Exactly those ending by the cutoff go.
    expect(dropped.sort()).toEqual(
      before
        .filter((partition) => partition.toMs <= cutoffMs[partition.table])
        .map((partition) => partition.name)
        .sort(),
    );
    // ticks: cutoff 2031-06-08 12:00 → 06-05 and 06-07 go; 06-08 ends after the cutoff and stays.
    // bars_1m: cutoff 2030-06-15 12:00 → May 2030 goes, June 2030 stays. bars_1h: cutoff 2026-06-14 12:00 → 2025 goes.
    expect(dropped).toEqual(expect.arrayContaining(['bars_1h_p2025', 'bars_1m_p203005', 'ticks_p20310605', 'ticks_p20310607']));
    expect((await listPartitions(db, 'ticks')).map((partition) => partition.name)).toEqual(['ticks_p20310608', 'ticks_p20310609', 'ticks_p20310615']);
    expect((await listPartitions(db, 'bars_1m')).map((partition) => partition.name)).toEqual(['bars_1m_p203006', 'bars_1m_p203007', 'bars_1m_p203106']);
    expect((await listPartitions(db, 'bars_1h')).map((partition) => partition.name)).toEqual(['bars_1h_p2026', 'bars_1h_p2031']);
    expect(await enforceRetention(db, nowMs)).toEqual([]);
  });

  it('detects whether TimescaleDB is available', async () => {
    const status = await detectTimescale(db);
    expect(typeof status.available).toBe('boolean');
    if (!status.available) expect(status.installedVersion).toBeUndefined();
  });
});
