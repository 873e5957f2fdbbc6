import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../src/gateway/audit-log.js';
import type { AuditRecord, AuditStore } from '../../src/persistence/audit-store.types.js';
import { PostgresAuditStore } from '../../src/persistence/audit-store.js';
import { PgliteDatabase, PostgresDatabase, type Database } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { usePostgres, type PostgresService } from '../support/services.js';

let pgService: PostgresService;
beforeAll(async () => {
  pgService = await usePostgres();
});
afterAll(async () => {
  await pgService.stop();
});

const T0 = 1_760_000_000_000;
const record = (index: number, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  atMs: T0 + index,
  actor: index % 2 === 0 ? 'user:ana' : 'key:ci',
  action: index % 3 === 0 ? 'auth.login' : 'order.place',
  target: `t${index}`,
  outcome: index % 5 === 0 ? 'failed' : 'ok',
  ip: `10.0.0.${index % 250}`,
  details: { index },
  ...overrides,
});

describe.each(['postgres', 'pglite', 'in-memory'] as const)('AuditStore contract on %s', (kind) => {
  let db: Database | undefined;
  let store: AuditStore;

  beforeAll(async () => {
    if (kind === 'in-memory') {
      store = new InMemoryAuditStore();
      return;
    }
    db = kind === 'postgres' ? new PostgresDatabase(pgService.url) : await PgliteDatabase.open('memory://audit-store');
    await migrate(db);
    store = new PostgresAuditStore(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('appends in order (who, what, when, from where, outcome) and queries newest first with filters and a cursor', async () => {
    await store.append(Array.from({ length: 30 }, (_, index) => record(index)));
    const { target: _target, details: _details, ...bare } = record(30);
    await store.append([bare]);
    const all = await store.query({ limit: 100 });
    expect(all).toHaveLength(31);
    expect(all.map((entry) => entry.atMs)).toEqual(Array.from({ length: 31 }, (_, index) => T0 + 30 - index));
    const seqs = all.map((entry) => entry.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(all[0]).toEqual({ seq: all[0]!.seq, atMs: T0 + 30, actor: 'user:ana', action: 'auth.login', outcome: 'failed', ip: '10.0.0.30' });
    const { seq: _seq, ...rest } = all[1]!;
    expect(rest).toEqual(record(29));

    const logins = await store.query({ action: 'auth.login', limit: 100 });
    expect(logins.map((entry) => entry.target)).toEqual([undefined, 't27', 't24', 't21', 't18', 't15', 't12', 't9', 't6', 't3', 't0']);
    expect((await store.query({ actor: 'key:ci', action: 'auth.login', limit: 2 })).map((entry) => entry.target)).toEqual(['t27', 't21']);
    const page = await store.query({ beforeSeq: all[4]!.seq, limit: 3 });
    expect(page.map((entry) => entry.seq)).toEqual([all[5]!.seq, all[6]!.seq, all[7]!.seq]);
  });

  if (kind !== 'in-memory') {
    it('audit_logs is append-only: UPDATE and DELETE are refused by the trigger', async () => {
      await expect(db!.query("UPDATE audit_logs SET actor = 'someone else'")).rejects.toThrow(/append-only/);
      await expect(db!.query('DELETE FROM audit_logs')).rejects.toThrow(/append-only/);
      expect((await store.query({ limit: 1000 })).length).toBeGreaterThanOrEqual(31);
    });

    it('writes a large batch in several statements', async () => {
      const before = (await store.query({ limit: 10_000 })).length;
      await store.append(Array.from({ length: 1_234 }, (_, index) => record(index, { action: 'bulk' })));
      expect((await store.query({ action: 'bulk', limit: 10_000 })).length).toBe(1_234);
      expect((await store.query({ limit: 10_000 })).length).toBe(before + 1_234);
    });
  }
});

describe('AuditLog (the gateway front)', () => {
  it('appends synchronously, writes in order in the background, and keeps entries through a store failure', async () => {
    const inner = new InMemoryAuditStore();
    let failing = true;
    const flaky: AuditStore = {
      append: (records) => (failing ? Promise.reject(new Error('database down')) : inner.append(records)),
      query: (filter) => inner.query(filter),
    };
    const errors: number[] = [];
    const log = new AuditLog(flaky, { onError: (_error, pending) => errors.push(pending), nowMs: () => T0 });
    log.append({ actor: 'user:ana', action: 'a1', outcome: 'ok', ip: '1.1.1.1' });
    log.append({ actor: 'user:ana', action: 'a2', outcome: 'ok', ip: '1.1.1.1' });
    await log.flush();
    expect(errors).toEqual([2]);
    expect(log.backlog).toBe(2);
    failing = false;
    log.append({ actor: 'user:ana', action: 'a3', outcome: 'ok', ip: '1.1.1.1' });
    const entries = await log.query({ limit: 10 });
    expect(entries.map((entry) => entry.action)).toEqual(['a3', 'a2', 'a1']);
    expect(log.backlog).toBe(0);
  });

  it('bounds the backlog, dropping the oldest and saying so', async () => {
    const dropped: number[] = [];
    const log = new AuditLog(
      { append: () => Promise.reject(new Error('down')), query: () => Promise.resolve([]) },
      { maxPending: 3, onDropped: (count) => dropped.push(count) },
    );
    for (let i = 0; i < 5; i += 1) log.append({ actor: 'system', action: `a${i}`, outcome: 'ok', ip: 'local' });
    await log.flush();
    expect(log.backlog).toBe(3);
    expect(dropped.reduce((sum, count) => sum + count, 0)).toBe(2);
  });
});
