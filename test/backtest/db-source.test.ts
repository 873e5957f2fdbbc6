/**
 * `--source db`: bars ingested from a CSV slice into a real PostgreSQL (`bars_1m`, through
 * the store's own `upsertBars`) backtest to the same result as the CSV files themselves.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsvData, runBacktest, type BacktestResult } from '../../src/backtest/backtest.js';
import { loadDbData } from '../../src/backtest/db-source.js';
import { stableJson } from '../../src/backtest/stable-json.js';
import { backtestCommand } from '../../src/cli/backtest.js';
import { PostgresDatabase, type Database } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { upsertBars } from '../../src/persistence/timeseries/bars.js';
import { usePostgres, type PostgresService } from '../support/services.js';

const CSV = resolve(process.cwd(), '../shared/data/nse-1min-2016-09-30');
const SYMBOLS = ['INFY', 'SBIN', 'TCS'];
const STRATEGY = { strategyKind: 'rsi-reversion', strategyConfig: { interval: '1m', period: 10, lowerBand: 35, upperBand: 65, exitLevel: 50 } } as const;

/** The result without where the bars came from. */
const comparable = (result: BacktestResult): string => stableJson({ ...result, meta: { ...result.meta, dataDir: '', rejectedRows: [] } });

describe('backtest from the time-series store', () => {
  let service: PostgresService;
  let db: Database;
  const out = mkdtempSync(join(tmpdir(), 'troupe-db-backtest-'));
  beforeAll(async () => {
    service = await usePostgres();
    db = new PostgresDatabase(service.url);
    await migrate(db);
    const csv = await loadCsvData(CSV, { symbols: SYMBOLS });
    await upsertBars(db, [...csv.bars.values()].flat());
  });
  afterAll(async () => {
    await db.close();
    await service.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it('reads back the very bars and instruments, and replays to the same result as the CSV files', async () => {
    const csv = await loadCsvData(CSV, { symbols: SYMBOLS });
    const stored = await loadDbData(db, { interval: '1m' });
    expect(stored.instruments).toEqual(csv.instruments);
    expect(stored.interval).toBe('1m');
    for (const symbol of SYMBOLS) expect(stored.bars.get(symbol)).toEqual(csv.bars.get(symbol));

    const fromCsv = await runBacktest({ dataDir: CSV, symbols: SYMBOLS, ...STRATEGY, strategyConfig: { ...STRATEGY.strategyConfig } });
    const fromDb = await runBacktest({ dataDir: 'db:bars_1m', data: stored, ...STRATEGY, strategyConfig: { ...STRATEGY.strategyConfig } });
    expect(fromCsv.summary.fills).toBeGreaterThan(0);
    expect(fromDb.meta.bars).toBe(3 * 375);
    expect(comparable(fromDb)).toBe(comparable(fromCsv));
  }, 60_000);

  it('the command line reads the store with --source db and writes the same result', async () => {
    const args = ['--strategy', STRATEGY.strategyKind, '--config', JSON.stringify(STRATEGY.strategyConfig), '--symbols', 'INFY,TCS', '--quiet'];
    expect(await backtestCommand([...args, '--data', CSV, '--out', join(out, 'csv')])).toBe(0);
    expect(await backtestCommand([...args, '--source', 'db', '--database-url', service.url, '--interval', '1m', '--out', join(out, 'db')])).toBe(0);
    const read = (dir: string): BacktestResult => JSON.parse(readFileSync(join(out, dir, 'result.json'), 'utf8')) as BacktestResult;
    expect(read('db').meta.dataDir).toBe('db:bars_1m');
    expect(comparable(read('db'))).toBe(comparable(read('csv')));
  }, 60_000);

  it('says clearly what is wrong with the input', async () => {
    await expect(loadDbData(db, { interval: '1h' })).rejects.toThrow(/no bars in bars_1h/);
    const partly = await loadDbData(db, { interval: '1m', symbols: ['INFY', 'NOPE'] });
    expect(partly.instruments.map((i) => i.symbol)).toEqual(['INFY']);
    expect(partly.rejected).toEqual([{ file: 'bars_1m:NOPE', line: 0, reason: 'no bars stored for this symbol in the range' }]);
    expect(await backtestCommand(['--source', 'db', '--interval', '5m', '--strategy', 'ema-cross', '--database-url', service.url, '--quiet'])).toBe(2);
    expect(await backtestCommand(['--source', 'db', '--data', CSV, '--strategy', 'ema-cross', '--database-url', service.url, '--quiet'])).toBe(2);
  });
});
