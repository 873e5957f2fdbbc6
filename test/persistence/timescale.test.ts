/**
 * The TimescaleDB path. TimescaleDB cannot be installed on this machine, so: the decision is
 * tested on real PostgreSQL without it (partitions, nothing changed), the conversion is tested
 * against a recording fake that reports the extension as available, and the generated SQL is
 * checked as text (hypertables, continuous aggregate, retention policies with the seed's figures).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable, SqlParams } from '../../src/persistence/database.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { listPartitions } from '../../src/persistence/timeseries/partitions.js';
import { prepareTimeSeries, timescaleSetupSql } from '../../src/persistence/timeseries/timescale.js';
import { TickIngestor } from '../../src/persistence/timeseries/tick-ingestor.js';
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

/** A Database that answers the detection queries as a TimescaleDB server would and records what runs. */
function fakeTimescale(options: { installed: string | undefined; hypertable: boolean }): { db: Database; ran: string[]; transactions: number } {
  const record = { ran: [] as string[], transactions: 0 };
  const query = <T>(sql: string, _params?: SqlParams): Promise<T[]> => {
    if (sql.includes('pg_available_extensions'))
      return Promise.resolve([{ installed_version: record.ran.length > 0 ? '2.17.2' : (options.installed ?? null) }] as T[]);
    if (sql.includes('timescaledb_information.hypertables')) return Promise.resolve([{ n: options.hypertable ? 1 : 0 }] as T[]);
    record.ran.push(sql);
    return Promise.resolve([]);
  };
  const exec = (sql: string): Promise<void> => {
    record.ran.push(sql);
    return Promise.resolve();
  };
  const tx: Queryable = { query, exec };
  const fake: Database = {
    kind: 'postgres',
    target: 'fake',
    query,
    exec,
    transaction: async <T>(fn: (inner: Queryable) => Promise<T>): Promise<T> => {
      record.transactions += 1;
      return fn(tx);
    },
    close: () => Promise.resolve(),
  };
  return {
    db: fake,
    get ran() {
      return record.ran;
    },
    get transactions() {
      return record.transactions;
    },
  };
}

describe('TimescaleDB detection and set-up', () => {
  it('plain PostgreSQL (the tested path): partitions, app roll-up and retention job, nothing changed', async () => {
    const layout = await prepareTimeSeries(db);
    expect(layout).toMatchObject({ mode: 'partitions', timescale: { available: false, installedVersion: undefined }, appRollUp: true, appRetention: true });
    const ingestor = new TickIngestor(db, { capacity: 10, batchSize: 10, flushIntervalMs: 0 });
    ingestor.offer({ type: 'tick', symbol: 'INFY', token: 1, ltpPaise: 150_000, lastQuantity: 1, volume: 1, exchangeTimeMs: Date.UTC(2026, 0, 5, 4) });
    await ingestor.stop();
    expect((await listPartitions(db, 'ticks')).map((partition) => partition.name)).toEqual(['ticks_p20260105']);
  });

  it('with the extension available: converts once, in one transaction, to exactly the generated statements', async () => {
    const fresh = fakeTimescale({ installed: undefined, hypertable: false });
    const layout = await prepareTimeSeries(fresh.db);
    expect(layout).toMatchObject({ mode: 'timescale', timescale: { available: true, installedVersion: '2.17.2' }, appRollUp: false, appRetention: false });
    expect(fresh.transactions).toBe(1);
    expect(fresh.ran).toEqual(timescaleSetupSql());

    const done = fakeTimescale({ installed: '2.17.2', hypertable: true });
    expect((await prepareTimeSeries(done.db)).mode).toBe('timescale');
    expect(done.ran).toEqual([]); // already converted: left alone

    const off = fakeTimescale({ installed: undefined, hypertable: false });
    expect((await prepareTimeSeries(off.db, { use: 'off' })).mode).toBe('partitions');
    expect(off.ran).toEqual([]);
  });

  it('generates hypertables, a continuous aggregate for 1 h bars and retention policies with the seed figures', () => {
    const sql = timescaleSetupSql();
    const text = sql.join(';\n');
    expect(sql[0]).toBe('CREATE EXTENSION IF NOT EXISTS timescaledb');
    expect(text).toContain("create_hypertable('ticks', by_range('exchange_time', INTERVAL '1 day'))");
    expect(text).toContain("create_hypertable('bars_1m', by_range('start_time', INTERVAL '7 days'))");
    expect(text).toMatch(
      /CREATE MATERIALIZED VIEW bars_1h WITH \(timescaledb\.continuous\) AS[\s\S]*time_bucket\(INTERVAL '1 hour', start_time\)[\s\S]*first\(open_paise, start_time\)[\s\S]*last\(close_paise, start_time\)[\s\S]*FROM bars_1m/,
    );
    expect(text).toContain("add_continuous_aggregate_policy('bars_1h'");
    expect(text).toContain("add_retention_policy('ticks', INTERVAL '7 days')");
    expect(text).toContain("add_retention_policy('bars_1m', INTERVAL '365 days')");
    expect(text).toContain("add_retention_policy('bars_1h', INTERVAL '1826 days')");
    // rows already in the partitioned tables are carried over before they are dropped
    expect(sql.indexOf('INSERT INTO ticks SELECT * FROM ticks_partitioned')).toBeLessThan(sql.indexOf('DROP TABLE ticks_partitioned CASCADE'));
    expect(sql.indexOf('INSERT INTO bars_1m SELECT * FROM bars_1m_partitioned')).toBeLessThan(sql.indexOf('DROP TABLE bars_1m_partitioned CASCADE'));
    // a custom policy flows through
    expect(timescaleSetupSql({ ticks: 2 * 86_400_000, bars_1m: 30 * 86_400_000, bars_1h: 60 * 86_400_000 }).join('\n')).toContain(
      "add_retention_policy('ticks', INTERVAL '2 days')",
    );
  });
});
