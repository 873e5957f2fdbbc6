/**
 * TimescaleDB, when the server has it. Detected at start-up ({@link prepareTimeSeries}):
 *
 * - **without** it (the tested path, PGlite and plain PostgreSQL 15): `ticks`, `bars_1m` and
 *   `bars_1h` stay declaratively partitioned (day / month / year partitions made on demand), the
 *   app rolls 1 m bars up into 1 h bars, and the retention job drops whole partitions;
 * - **with** it (`pg_available_extensions` lists `timescaledb`, and `TROUPE_TIMESCALE` is not
 *   `off`): the extension is created, the partitioned tables are swapped for hypertables
 *   (`ticks` in 1-day chunks, `bars_1m` in 7-day chunks; rows copied over), `bars_1h` becomes a
 *   continuous aggregate over `bars_1m` refreshed every 5 minutes, and retention policies
 *   replace the job (ticks 7 days, 1 m bars 365 days, 1 h bars 1 826 days). The swap runs once,
 *   in one transaction; a database that already has the hypertables is left alone.
 *
 * TimescaleDB cannot be installed on this project's machine, so the SQL below is unit-tested as
 * text and the decision is tested on plain PostgreSQL; `docker-compose.yml` names the
 * `timescale/timescaledb:2.x-pg15` image as the drop-in for users who want it.
 */
import type { Logger } from '../../observability/logger.js';
import type { Queryable } from '../database.js';
import type { Database } from '../database.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from './retention.js';

/** Whether TimescaleDB is available on the server and installed in this database. */
export interface TimescaleStatus {
  readonly available: boolean;
  readonly installedVersion: string | undefined;
}

/** Detects TimescaleDB (available on the server; installed in this database). */
export async function detectTimescale(db: Queryable): Promise<TimescaleStatus> {
  const rows = await db.query<{ installed_version: string | null }>("SELECT installed_version FROM pg_available_extensions WHERE name = 'timescaledb'");
  const row = rows[0];
  return { available: row !== undefined, installedVersion: row?.installed_version ?? undefined };
}

const DAY_MS = 86_400_000;
const days = (ms: number): string => `INTERVAL '${Math.ceil(ms / DAY_MS)} days'`;

const BAR_COLUMNS = `symbol text NOT NULL, start_time timestamptz NOT NULL, open_paise bigint NOT NULL, high_paise bigint NOT NULL, low_paise bigint NOT NULL,
  close_paise bigint NOT NULL, volume bigint NOT NULL, tick_count integer NOT NULL`;

/**
 * The statements that turn the partitioned series tables into TimescaleDB objects (run in one
 * transaction, in order). Pure: tested as text.
 */
export function timescaleSetupSql(policy: RetentionPolicy = DEFAULT_RETENTION): string[] {
  return [
    'CREATE EXTENSION IF NOT EXISTS timescaledb',
    // ticks: a hypertable in 1-day chunks with the same columns and index
    'ALTER TABLE ticks RENAME TO ticks_partitioned',
    `CREATE TABLE ticks (
  symbol text NOT NULL, token integer NOT NULL, exchange_time timestamptz NOT NULL, ltp_paise bigint NOT NULL, last_quantity integer NOT NULL,
  volume bigint NOT NULL, bid_paise bigint, ask_paise bigint, bid_quantity integer, ask_quantity integer)`,
    "SELECT create_hypertable('ticks', by_range('exchange_time', INTERVAL '1 day'))",
    'CREATE INDEX ticks_symbol_time_ht ON ticks (symbol, exchange_time)',
    'INSERT INTO ticks SELECT * FROM ticks_partitioned',
    'DROP TABLE ticks_partitioned CASCADE',
    "ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'exchange_time')",
    "SELECT add_compression_policy('ticks', INTERVAL '1 day')",
    `SELECT add_retention_policy('ticks', ${days(policy.ticks)})`,
    // 1 m bars: a hypertable in 7-day chunks (the app upserts closed bars into it)
    'ALTER TABLE bars_1m RENAME TO bars_1m_partitioned',
    `CREATE TABLE bars_1m (${BAR_COLUMNS}, PRIMARY KEY (symbol, start_time))`,
    "SELECT create_hypertable('bars_1m', by_range('start_time', INTERVAL '7 days'))",
    'INSERT INTO bars_1m SELECT * FROM bars_1m_partitioned',
    'DROP TABLE bars_1m_partitioned CASCADE',
    `SELECT add_retention_policy('bars_1m', ${days(policy.bars_1m)})`,
    // 1 h bars: a continuous aggregate over the 1 m bars, refreshed by a policy
    'DROP TABLE bars_1h CASCADE',
    `CREATE MATERIALIZED VIEW bars_1h WITH (timescaledb.continuous) AS
SELECT symbol, time_bucket(INTERVAL '1 hour', start_time) AS start_time,
       first(open_paise, start_time) AS open_paise, max(high_paise) AS high_paise, min(low_paise) AS low_paise,
       last(close_paise, start_time) AS close_paise, sum(volume)::bigint AS volume, sum(tick_count)::integer AS tick_count
  FROM bars_1m
 GROUP BY symbol, time_bucket(INTERVAL '1 hour', start_time)
WITH NO DATA`,
    "SELECT add_continuous_aggregate_policy('bars_1h', start_offset => INTERVAL '3 hours', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '5 minutes')",
    `SELECT add_retention_policy('bars_1h', ${days(policy.bars_1h)})`,
  ];
}

/** How the series are stored in this database. */
export interface TimeSeriesLayout {
  readonly mode: 'partitions' | 'timescale';
  readonly timescale: TimescaleStatus;
  /** The app rolls 1 m bars up into `bars_1h` itself (partitions); a continuous aggregate does it otherwise. */
  readonly appRollUp: boolean;
  /** The app's retention job drops partitions (partitions); retention policies do it otherwise. */
  readonly appRetention: boolean;
}

/**
 * Detects TimescaleDB and sets the series up for it once (see the module comment). `use`:
 * `auto` (default) uses it when available, `off` never does. PGlite never has it.
 */
export async function prepareTimeSeries(
  db: Database,
  options: { readonly use?: 'auto' | 'off'; readonly policy?: RetentionPolicy; readonly log?: Logger } = {},
): Promise<TimeSeriesLayout> {
  const partitions = (timescale: TimescaleStatus): TimeSeriesLayout => ({ mode: 'partitions', timescale, appRollUp: true, appRetention: true });
  if (db.kind !== 'postgres') return partitions({ available: false, installedVersion: undefined });
  const timescale = await detectTimescale(db);
  if (!timescale.available || options.use === 'off') {
    options.log?.info(
      { timescale: timescale.available ? 'available, turned off' : 'not available' },
      'time series: day/month/year partitions, retention job drops whole partitions',
    );
    return partitions(timescale);
  }
  const done = timescale.installedVersion !== undefined && (await isHypertable(db, 'ticks'));
  if (!done) {
    const statements = timescaleSetupSql(options.policy);
    await db.transaction(async (tx) => {
      for (const statement of statements) await tx.exec(statement);
    });
  }
  const after = await detectTimescale(db);
  options.log?.info(
    { timescale: after.installedVersion, converted: !done },
    'time series: TimescaleDB hypertables, continuous aggregate bars_1h, retention policies',
  );
  return { mode: 'timescale', timescale: after, appRollUp: false, appRetention: false };
}

async function isHypertable(db: Queryable, table: string): Promise<boolean> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM timescaledb_information.hypertables WHERE hypertable_name = $1', [table]);
  return (rows[0]?.n ?? 0) > 0;
}
