import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.js';
import { loadMigrations, migrate, migrationFrom, MigrationChecksumError, SchemaTooNewError } from '../../src/persistence/migrate.js';
import { DATABASE_KINDS, suiteDatabase } from '../support/databases.js';

const TABLES = [
  'actor_snapshots',
  'api_keys',
  'audit_logs',
  'bars_1h',
  'bars_1m',
  'gateway_sequences',
  'journal',
  'journal_checkpoints',
  'lease_fences',
  'ml_models',
  'orders',
  'portfolio_members',
  'positions',
  'refresh_tokens',
  'risk_alerts',
  'schema_migrations',
  'strategies',
  'ticks',
  'trades',
  'users',
];

describe.each(DATABASE_KINDS)('migrations on %s', (kind) => {
  const database = suiteDatabase(kind);
  let db: Database;
  beforeAll(() => {
    db = database();
  });

  it('apply on a fresh database, in order, and record version, name and checksum', async () => {
    const shipped = loadMigrations();
    const report = await migrate(db);
    expect(report.applied).toEqual(shipped.map((migration) => migration.version));
    expect(report.version).toBe(shipped.length);
    const rows = await db.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(shipped.map(({ version, name, checksum }) => ({ version, name, checksum })));
    const tables = await db.query<{ name: string }>(
      "SELECT relname AS name FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') ORDER BY relname",
    );
    expect(tables.map((table) => table.name)).toEqual(TABLES);
  });

  it('are idempotent: a second run applies nothing', async () => {
    expect(await migrate(db)).toEqual({ applied: [], version: loadMigrations().length });
  });

  it('refuse a database with a newer version than the code knows, changing nothing', async () => {
    const shipped = loadMigrations();
    const next = migrationFrom(`${String(shipped.length + 1).padStart(3, '0')}_future.sql`, 'CREATE TABLE future_thing (id integer);');
    expect((await migrate(db, [...shipped, next])).applied).toEqual([next.version]);
    const error = await migrate(db, shipped).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect(error).toMatchObject({ databaseVersion: next.version, codeVersion: shipped.length });
    await db.exec('DROP TABLE future_thing');
    await db.query('DELETE FROM schema_migrations WHERE version = $1', [next.version]);
  });

  it('refuse an applied migration whose file changed', async () => {
    const shipped = loadMigrations();
    const changed = shipped.map((migration) => (migration.version === 1 ? migrationFrom('001_initial.sql', `${migration.sql}\n-- edited`) : migration));
    await expect(migrate(db, changed)).rejects.toBeInstanceOf(MigrationChecksumError);
    expect((await migrate(db)).applied).toEqual([]);
  });

  it('roll back everything when a migration fails', async () => {
    const shipped = loadMigrations();
    const good = migrationFrom(`${String(shipped.length + 1).padStart(3, '0')}_good.sql`, 'CREATE TABLE half_done (id integer);');
    const bad = migrationFrom(`${String(shipped.length + 2).padStart(3, '0')}_bad.sql`, 'CREATE TABLE oops (id nosuchtype);');
    await expect(migrate(db, [...shipped, good, bad])).rejects.toThrow(/nosuchtype/);
    expect(await db.query("SELECT 1 FROM pg_class WHERE relname = 'half_done'")).toEqual([]);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations'))[0]?.n).toBe(shipped.length);
  });

  it('make audit_logs append-only: INSERT works, UPDATE, DELETE and TRUNCATE are refused', async () => {
    await db.query('INSERT INTO audit_logs (actor, action, subject, details) VALUES ($1, $2, $3, $4::jsonb)', [
      'admin',
      'login',
      'user/admin',
      JSON.stringify({ ip: '127.0.0.1' }),
    ]);
    await expect(db.query("UPDATE audit_logs SET action = 'tampered'")).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(db.query('DELETE FROM audit_logs')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(db.exec('TRUNCATE audit_logs')).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await db.query<{ action: string }>('SELECT action FROM audit_logs')).toEqual([{ action: 'login' }]);
  });

  it('keep money exact: bigint paise round-trip as numbers; client order ids are unique', async () => {
    const order = ['T1', 'I1', 'paper', 'ema-1', 'INFY', 'BUY', 'LIMIT', 'CNC', 'DAY', 10, 9_007_199_254_740_991, 'OPEN', new Date(0), new Date(0)];
    const insert = `INSERT INTO orders (client_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity, quantity, limit_price_paise, status, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;
    await db.query(insert, order);
    expect(await db.query('SELECT limit_price_paise FROM orders')).toEqual([{ limit_price_paise: 9_007_199_254_740_991 }]);
    await expect(db.query(insert, order)).rejects.toThrow(/duplicate key/);
  });
});
