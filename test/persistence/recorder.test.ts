/**
 * Market data into the time series while trading: the recorder behind bounded buffers (sheds and
 * counts, never blocks), and the app wiring (ticks, 1 m bars and their 1 h roll-up land in the
 * embedded store while the runtime trades; queue depth and shed counts are metrics; orders are
 * journaled whatever the recorder does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { startTroupe } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { Bar, Tick } from '../../src/model/market.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MarketDataRecorder } from '../../src/persistence/timeseries/recorder.js';
import { silentLogger } from '../../src/observability/logger.js';
import { usePostgres, type PostgresService } from '../support/services.js';

let pg: PostgresService;
let db: PostgresDatabase;
beforeAll(async () => {
  pg = await usePostgres();
  db = new PostgresDatabase(pg.url);
  await migrate(db);
}, 60_000);
afterAll(async () => {
  await db?.close();
  await pg?.stop();
});

const T0 = Date.UTC(2026, 0, 5, 3, 45);
const tick = (index: number): Tick => ({
  type: 'tick',
  symbol: `S${index % 5}`,
  token: index % 5,
  ltpPaise: 100_000 + index,
  lastQuantity: 1,
  volume: index,
  exchangeTimeMs: T0 + index,
});
const bar = (symbol: string, minute: number): Bar => ({
  type: 'bar',
  symbol,
  interval: '1m',
  startMs: T0 + minute * 60_000,
  openPaise: 100 + minute,
  highPaise: 200 + minute,
  lowPaise: 50,
  closePaise: 150 + minute,
  volume: 10,
  tickCount: 3,
});

describe('MarketDataRecorder', () => {
  it('sheds ticks beyond its capacity without blocking and counts them; stores 1 m bars and rolls them up to 1 h', async () => {
    const recorder = new MarketDataRecorder(db, { tickCapacity: 1_000, tickBatchSize: 500, flushIntervalMs: 0, retention: false });
    const started = performance.now();
    const shed = recorder.offerTicks(Array.from({ length: 5_000 }, (_, index) => tick(index)));
    expect(performance.now() - started).toBeLessThan(1_000); // synchronous, no I/O awaited
    expect(shed).toBe(4_000);
    recorder.offerBars([bar('S0', 0), bar('S0', 1), bar('S1', 0), { ...bar('S0', 2), interval: '5m' }]);
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ queueDepth: 0, shedTicks: 4_000, writtenTicks: 1_000, failedTicks: 0, writtenBars: 3, shedBars: 0 });
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ticks'))[0]?.n).toBe(1_000);
    expect(await db.query('SELECT symbol, open_paise, high_paise, close_paise, volume, tick_count FROM bars_1h ORDER BY symbol')).toEqual([
      { symbol: 'S0', open_paise: 100, high_paise: 201, close_paise: 151, volume: 20, tick_count: 6 },
      { symbol: 'S1', open_paise: 100, high_paise: 200, close_paise: 150, volume: 10, tick_count: 3 },
    ]);
    await recorder.stop();
  });
});

describe('the app records market data while it trades', () => {
  it('ticks, 1 m and 1 h bars reach the time series; ingest depth and shed counts are metrics; trading carries on', async () => {
    await db.exec('TRUNCATE ticks, bars_1m, bars_1h');
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-recorder-app-'));
    const config = loadConfig({
      DATABASE_URL: pg.url,
      PORT: '0',
      HOST: '127.0.0.1',
      TROUPE_DATA_DIR: dataDir,
      TROUPE_MARKET_SPEED: '300',
      TROUPE_SYMBOLS: '10',
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: 'recorder-password',
    });
    const running = await startTroupe(config, silentLogger());
    const metric = async (name: string): Promise<number> =>
      Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text())?.[1] ?? NaN);
    try {
      await eventually(async () => expect(await metric('troupe_ingest_ticks_written_total')).toBeGreaterThan(1_000), { timeoutMs: 30_000 });
      await eventually(async () => expect(await metric('troupe_ingest_bars_written_total')).toBeGreaterThan(10), { timeoutMs: 30_000 });
      expect(await metric('troupe_ingest_ticks_shed_total')).toBe(0);
      expect(Number.isFinite(await metric('troupe_ingest_queue_depth'))).toBe(true);
      await eventually(() => expect(running.stats.orders).toBeGreaterThan(0), { timeoutMs: 30_000 });
    } finally {
      await running.stop('test over');
    }
    // what was recorded is in PostgreSQL
    try {
      const [ticks] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ticks');
      const [bars] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bars_1m');
      const [hours] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bars_1h');
      expect(ticks?.n).toBeGreaterThan(1_000);
      expect(bars?.n).toBeGreaterThan(10);
      expect(hours?.n).toBeGreaterThan(0);
      expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM journal WHERE type = 'OrderPlaced'"))[0]?.n).toBeGreaterThan(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
