import { beforeAll, describe, expect, it } from 'vitest';
import type { Tick } from '../../src/model/market.js';
import type { Database } from '../../src/persistence/database.js';
import { loadMigrations, migrate } from '../../src/persistence/migrate.js';
import { ensurePartition, indexClosedTickPartitions, partitionFor } from '../../src/persistence/timeseries/partitions.js';
import { scheduleRetention } from '../../src/persistence/timeseries/retention.js';
import { encodeTicksBinary, TickIngestor } from '../../src/persistence/timeseries/tick-ingestor.js';
import { DATABASE_KINDS, suiteDatabase } from '../support/databases.js';

const DAY_MS = 86_400_000;
const LIVE_DAY_MS = Date.UTC(2024, 0, 3, 4); // the "now" of these tests: 2024-01-03 09:45 IST

function tick(overrides: Partial<Tick>): Tick {
  return { type: 'tick', symbol: 'INFY', token: 408_065, ltpPaise: 150_000, lastQuantity: 1, volume: 1, exchangeTimeMs: LIVE_DAY_MS, ...overrides };
}

interface TickRow {
  symbol: string;
  token: number;
  ms: number;
  ltp_paise: number;
  last_quantity: number;
  volume: number;
  bid_paise: number | null;
  ask_paise: number | null;
  bid_quantity: number | null;
  ask_quantity: number | null;
}

async function storedTicks(db: Database): Promise<TickRow[]> {
  return db.query<TickRow>(
    `SELECT symbol, token, (extract(epoch FROM exchange_time) * 1000)::bigint AS ms, ltp_paise, last_quantity, volume, bid_paise, ask_paise, bid_quantity, ask_quantity
       FROM ticks ORDER BY exchange_time, symbol, volume`,
  );
}

function asRow(value: Tick): TickRow {
  return {
    symbol: value.symbol,
    token: value.token,
    ms: value.exchangeTimeMs,
    ltp_paise: value.ltpPaise,
    last_quantity: value.lastQuantity,
    volume: value.volume,
    bid_paise: value.bidPaise ?? null,
    ask_paise: value.askPaise ?? null,
    bid_quantity: value.bidQuantity ?? null,
    ask_quantity: value.askQuantity ?? null,
  };
}

async function tickIndexes(db: Database): Promise<Array<{ table: string; index: string }>> {
  return db.query<{ table: string; index: string }>(
    "SELECT tablename AS table, indexname AS index FROM pg_indexes WHERE schemaname = current_schema() AND tablename LIKE 'ticks%' ORDER BY 1, 2",
  );
}

describe('COPY binary encoding', () => {
  it('writes the header, one 10-field tuple per tick with NULLs for missing quotes, and the trailer', () => {
    const bytes = encodeTicksBinary([tick({ symbol: 'TCS' }), tick({ bidPaise: 1, askPaise: 2, bidQuantity: 3, askQuantity: 4 })]);
    expect(bytes.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    expect(bytes.readInt16BE(19)).toBe(10);
    expect(bytes.readInt32BE(21)).toBe(3);
    expect(bytes.subarray(25, 28).toString()).toBe('TCS');
    expect(bytes.readInt16BE(bytes.length - 2)).toBe(-1);
    // field count + symbol + token, time, ltp, last quantity, volume + 4 quote fields (a NULL is its length word, -1, alone)
    const first = 2 + (4 + 3) + 8 + 12 + 12 + 8 + 12 + 4 * 4;
    const second = 2 + (4 + 4) + 8 + 12 + 12 + 8 + 12 + (12 + 12 + 8 + 8);
    expect(bytes.length).toBe(19 + first + second + 2);
    expect(bytes.readInt32BE(19 + first - 4)).toBe(-1);
  });
});

describe.each(DATABASE_KINDS)('tick ingest on %s', (kind) => {
  const database = suiteDatabase(kind);
  let db: Database;
  beforeAll(() => {
    db = database();
  });

  it('migration 006 moves the (symbol, exchange_time) index from the parent to each existing partition', async () => {
    await migrate(
      db,
      loadMigrations().filter((migration) => migration.version <= 5),
    );
    await ensurePartition(db, partitionFor('ticks', Date.UTC(2024, 0, 1, 5)));
    expect(await tickIndexes(db)).toEqual([
      { table: 'ticks', index: 'ticks_symbol_time' },
      { table: 'ticks_p20240101', index: 'ticks_p20240101_symbol_exchange_time_idx' },
    ]);
    await migrate(db);
    expect(await tickIndexes(db)).toEqual([{ table: 'ticks_p20240101', index: 'ticks_p20240101_symbol_time' }]);
  });

  it('writes the live day unindexed; the retention run indexes the days that are over, once', async () => {
    const ingestor = new TickIngestor(db, { capacity: 1000, batchSize: 100, flushIntervalMs: 0 });
    for (let index = 0; index < 300; index += 1) ingestor.offer(tick({ exchangeTimeMs: LIVE_DAY_MS - (index % 3) * DAY_MS + index, volume: index }));
    await ingestor.stop();
    expect(ingestor.stats()).toMatchObject({ written: 300, failed: 0 });
    // 2024-01-01 (indexed by the migration), 01-02 (over), 01-03 (live)
    expect((await tickIndexes(db)).map((row) => row.table)).toEqual(['ticks_p20240101']);

    const indexed: string[][] = [];
    const job = scheduleRetention(db, {
      nowMs: () => LIVE_DAY_MS,
      policy: { ticks: 30 * DAY_MS, bars_1m: 400 * DAY_MS, bars_1h: 2000 * DAY_MS },
      onIndexed: (names) => indexed.push(names),
    });
    await job.stop();
    expect(indexed).toEqual([['ticks_p20240102']]);
    expect(await tickIndexes(db)).toEqual([
      { table: 'ticks_p20240101', index: 'ticks_p20240101_symbol_time' },
      { table: 'ticks_p20240102', index: 'ticks_p20240102_symbol_time' },
    ]);
    expect(await indexClosedTickPartitions(db, LIVE_DAY_MS)).toEqual([]);
    expect(await indexClosedTickPartitions(db, LIVE_DAY_MS + DAY_MS)).toEqual(['ticks_p20240103']);
    await db.exec('TRUNCATE ticks');
  });

  it('stores every value exactly: int8 extremes, negative values, instants before 2000, NULL quotes', async () => {
    const values = [
      tick({
        ltpPaise: Number.MAX_SAFE_INTEGER,
        volume: Number.MAX_SAFE_INTEGER,
        bidPaise: -Number.MAX_SAFE_INTEGER,
        askPaise: 2 ** 32,
        bidQuantity: 2 ** 31 - 1,
        askQuantity: -(2 ** 31),
      }),
      tick({ symbol: 'M&M', exchangeTimeMs: Date.UTC(1999, 11, 31, 23, 59, 59, 999), ltpPaise: 2 ** 32 - 1, volume: 0, bidPaise: -1, askPaise: 2 ** 32 + 1 }),
      tick({ symbol: 'NIFTY 50', exchangeTimeMs: LIVE_DAY_MS + 1, ltpPaise: 1, volume: 2 ** 40 + 7, askPaise: 5, askQuantity: 0 }),
    ];
    const ingestor = new TickIngestor(db, { capacity: 10, batchSize: 10, flushIntervalMs: 0 });
    for (const value of values) expect(ingestor.offer(value)).toBe(true);
    await ingestor.stop();
    expect(ingestor.stats()).toMatchObject({ written: 3, failed: 0 });
    expect(await storedTicks(db)).toEqual([...values].sort((a, b) => a.exchangeTimeMs - b.exchangeTimeMs).map(asRow));
    await db.exec('TRUNCATE ticks');
  });

  it('whenRoom waits for a batch to commit instead of shedding', async () => {
    const ingestor = new TickIngestor(db, { capacity: 100, batchSize: 50, flushIntervalMs: 0 });
    for (let index = 0; index < 100; index += 1) expect(ingestor.offer(tick({ volume: index }))).toBe(true);
    expect(ingestor.offer(tick({ volume: 100 }))).toBe(false);
    await ingestor.whenRoom(50);
    expect(ingestor.stats().pending).toBeLessThanOrEqual(50);
    for (let index = 0; index < 50; index += 1) expect(ingestor.offer(tick({ volume: 101 + index }))).toBe(true);
    await ingestor.stop();
    expect(ingestor.stats()).toMatchObject({ offered: 151, shed: 1, written: 150, pending: 0, failed: 0 });
    await ingestor.whenRoom(100); // room at once
    await db.exec('TRUNCATE ticks');
  });
});
