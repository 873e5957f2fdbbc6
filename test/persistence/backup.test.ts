import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbCommand } from '../../src/cli/db.js';
import { MANIFEST } from '../../src/persistence/backup.js';
import { PgliteDatabase, PostgresDatabase, type Queryable } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { usePostgres, type PostgresService } from '../support/services.js';

/** Runs `troupe db …` in-process with this environment; returns the exit code and output. */
async function db(argv: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await dbCommand(argv, { env, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

async function seed(q: Queryable): Promise<void> {
  for (let i = 1; i <= 5; i += 1) {
    await q.query(
      `INSERT INTO orders (client_order_id, broker_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity, quantity, limit_price_paise, status, filled_quantity, filled_value_paise, created_at, updated_at)
       VALUES ($1, $2, $3, 'pf-1', 'st-1', $4, 'BUY', 'LIMIT', 'MIS', 'DAY', $5, 123456, 'COMPLETE', $5, $6, $7, $7)`,
      [`co-${i}`, `bo-${i}`, `in-${i}`, i % 2 === 0 ? 'INFY' : 'TCS', 10 * i, 1_234_560 * i, new Date(Date.UTC(2024, 0, 2, 4, i))],
    );
    await q.query(`INSERT INTO audit_logs (actor, action, subject, details) VALUES ('admin', 'order.place', $1, $2)`, [
      `co-${i}`,
      { quantity: 10 * i, note: 'ünïcode ✓' },
    ]);
  }
  await q.query(`INSERT INTO journal (stream, type, payload) VALUES ('execution', 'OrderPlaced', '{"clientOrderId":"co-1"}')`);
}

interface Contents {
  orders: unknown[];
  audit: unknown[];
  journal: unknown[];
  migrations: unknown[];
}

async function contents(q: Queryable): Promise<Contents> {
  return {
    orders: await q.query('SELECT * FROM orders ORDER BY id'),
    audit: await q.query('SELECT * FROM audit_logs ORDER BY id'),
    journal: await q.query('SELECT * FROM journal ORDER BY sequence'),
    migrations: await q.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version'),
  };
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-backup-test-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('troupe db backup / restore on a PostgreSQL server', () => {
  let service: PostgresService;
  beforeAll(async () => {
    service = await usePostgres();
  }, 60_000);
  afterAll(async () => {
    await service.stop();
  });

  it('round-trips orders, audit and journal rows exactly through pg_dump / pg_restore', async () => {
    const env = { DATABASE_URL: service.url };
    const dir = tempDir();
    const out = join(dir, 'troupe.dump');
    const database = new PostgresDatabase(service.url);
    let before: Contents;
    try {
      await migrate(database);
      await seed(database);
      before = await contents(database);
      expect(before.orders).toHaveLength(5);
      expect(before.audit).toHaveLength(5);
    } finally {
      await database.close();
    }

    const backup = await db(['backup', '--out', out], env);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain('dumped public.orders');
    expect(backup.stdout).toMatch(/db backup: backed up .* to .*troupe\.dump \(postgres, \d+ tables, .*\) in [\d.]+ s/);
    expect(existsSync(out)).toBe(true);
    expect((await db(['backup', '--out', out], env)).stderr).toContain('already exists');

    // Damage: lose rows, change a table, drop one, append to the append-only audit log.
    const damaged = new PostgresDatabase(service.url);
    try {
      await damaged.exec(`DELETE FROM orders WHERE client_order_id IN ('co-2', 'co-4'); UPDATE orders SET status = 'CANCELLED' WHERE client_order_id = 'co-1'`);
      await damaged.exec('ALTER TABLE orders ADD COLUMN junk text; DROP TABLE journal');
      await damaged.query(`INSERT INTO audit_logs (actor, action) VALUES ('intruder', 'tamper')`);
    } finally {
      await damaged.close();
    }

    const refused = await db(['restore', '--in', out], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already holds \d+ tables.*--force/);

    const restored = await db(['restore', '--in', out, '--force'], env);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/db restore: restored .* from .*troupe\.dump/);

    const after = new PostgresDatabase(service.url);
    try {
      expect(await contents(after)).toEqual(before);
      const columns = await after.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'junk'`,
      );
      expect(columns).toEqual([]);
      // The append-only triggers and the sequences came back too.
      await expect(after.query(`DELETE FROM audit_logs`)).rejects.toThrow(/append-only/);
      const [next] = await after.query<{ id: number }>(`INSERT INTO audit_logs (actor, action) VALUES ('admin', 'after.restore') RETURNING id`);
      expect(next?.id).toBe(6);
    } finally {
      await after.close();
    }
  }, 30_000);

  it('says what is wrong with a missing backup file or the wrong kind of backup', async () => {
    const env = { DATABASE_URL: service.url };
    const dir = tempDir();
    const missing = await db(['restore', '--in', join(dir, 'nope.dump'), '--force'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('is not a backup file');
    writeFileSync(join(dir, MANIFEST), '{"format":"troupe-pglite-datadir"}');
    const wrongKind = await db(['restore', '--in', dir, '--force'], env);
    expect(wrongKind.stderr).toContain('embedded-store backup; it cannot be restored into a PostgreSQL server');
  });
});

describe('troupe db backup / restore of the embedded store', () => {
  it('copies the PGlite data directory, refuses while it is open, and restores it only with --force', async () => {
    const dataDir = tempDir();
    const env = { TROUPE_DATA_DIR: dataDir };
    const out = join(tempDir(), 'backup');
    const pgdata = join(dataDir, 'pgdata');

    const live = await PgliteDatabase.open(pgdata);
    let before: Contents;
    try {
      await migrate(live);
      await seed(live);
      before = await contents(live);
      const whileOpen = await db(['backup', '--out', out], env);
      expect(whileOpen.code).toBe(1);
      expect(whileOpen.stderr).toMatch(/is open \(.*postmaster\.pid exists\): stop the running Troupe first/);
      expect(existsSync(out)).toBe(false);
    } finally {
      await live.close();
    }

    const backup = await db(['backup', '--out', out], env);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain('embedded store:');
    expect(backup.stdout).toMatch(/db backup: backed up .*pgdata to .*backup \(pglite, \d+ files, .*\) in [\d.]+ s/);
    expect(existsSync(join(out, MANIFEST))).toBe(true);
    expect(existsSync(join(out, 'postmaster.pid'))).toBe(false);

    const changed = await PgliteDatabase.open(pgdata);
    try {
      await changed.exec(`DELETE FROM orders; DROP TABLE journal`);
      await changed.query(`INSERT INTO audit_logs (actor, action) VALUES ('intruder', 'tamper')`);
    } finally {
      await changed.close();
    }

    const refused = await db(['restore', '--in', out], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds an embedded database');
    expect(refused.stderr).toContain('--force');

    const restored = await db(['restore', '--in', out, '--force'], env);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/db restore: restored .*pgdata from .*backup \(pglite/);

    const after = await PgliteDatabase.open(pgdata);
    try {
      expect(await contents(after)).toEqual(before);
    } finally {
      await after.close();
    }

    // Restoring into an empty place needs no --force.
    const fresh = tempDir();
    const intoEmpty = await db(['restore', '--in', out], { TROUPE_DATA_DIR: fresh });
    expect(intoEmpty.code).toBe(0);
    const copy = await PgliteDatabase.open(join(fresh, 'pgdata'));
    try {
      expect((await contents(copy)).orders).toEqual(before.orders);
    } finally {
      await copy.close();
    }
  }, 120_000); // five CLI processes (tsx start-up each): slow on a loaded machine

  it('explains its options and refuses a server dump as an embedded backup', async () => {
    const help = await db(['backup', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--out <path>');
    expect(help.stdout).toContain('--ignore-lock');
    const usage = await db(['restore'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--in is required');
    expect((await db(['frobnicate'], {})).code).toBe(2);
    const file = join(tempDir(), 'server.dump');
    writeFileSync(file, 'PGDMP');
    const wrongKind = await db(['restore', '--in', file, '--force'], { TROUPE_DATA_DIR: tempDir() });
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toContain('is a file (a server backup?)');
  });
});
