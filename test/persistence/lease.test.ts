/**
 * Single-writer leases with fencing tokens on real PostgreSQL and Redis: a second holder is
 * refused with a clear message; a crashed holder's lease frees (Redis: after its TTL; advisory
 * lock: with its connection) and the next one takes over with a greater token; PostgreSQL then
 * refuses the stale holder's journal writes; a Redis that lost its fence counter still hands out
 * tokens above PostgreSQL's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { OrderJournal } from '../../src/persistence/journal-orders.js';
import { AdvisoryLockLeaseBackend, KeyValueLeaseBackend, LeaseHeldError, LeaseKeeper, StaleFenceError, type LeaseBackend } from '../../src/persistence/lease.js';
import { migrate } from '../../src/persistence/migrate.js';
import { RedisKeyValueStore } from '../../src/persistence/redis/redis-key-value.js';
import { fenceKey, leaseKey } from '../../src/persistence/key-value.js';
import { usePostgres, useRedis, type PostgresService, type RedisService } from '../support/services.js';

let pgService: PostgresService;
let redisService: RedisService;
let db: PostgresDatabase;

beforeAll(async () => {
  [pgService, redisService] = await Promise.all([usePostgres(), useRedis()]);
  db = new PostgresDatabase(pgService.url);
  await migrate(db);
}, 60_000);
afterAll(async () => {
  await db?.close();
  await Promise.all([pgService?.stop(), redisService?.stop()]);
});

const entry = (n: number) => ({ stream: 'lease-test', type: 'Note', payload: { n } });
const fenceOf = async (n: number): Promise<number | null> =>
  (await db.query<{ fence: number | null }>("SELECT fence FROM journal WHERE stream = 'lease-test' AND (payload->>'n')::int = $1", [n]))[0]?.fence ?? null;

describe('single-writer leases', () => {
  const redisBackend = async (): Promise<LeaseBackend> => new KeyValueLeaseBackend(await RedisKeyValueStore.connect(redisService.url, { keyPrefix: redisService.keyPrefix }), true);

  it('Redis: the second process is refused; after the holder crashes its lease expires, the next takes over and the stale holder is fenced off', async () => {
    const names = ['portfolio/redis-p', 'strategy/redis-s'];
    const a = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'process-a', ttlMs: 400 });
    const journalA = new OrderJournal(db, { fences: () => a.fences() });
    await journalA.append([entry(1)]);
    const tokenA = a.fences().find((fence) => fence.name === 'portfolio/redis-p')!.token;
    expect(await fenceOf(1)).toBe(tokenA);

    const refused = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'process-b', ttlMs: 400 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LeaseHeldError);
    expect((refused as Error).message).toMatch(/portfolio "redis-p" is already traded by another Troupe process \(owner process-a, fencing token \d+\)/);
    expect((refused as Error).message).toMatch(/TROUPE_LEASE_WAIT_MS/);

    // a renews while alive: still held well past its TTL
    const startedAt = Date.now();
    while (Date.now() - startedAt < 900) {
      await a.renewNow();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expect(LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'process-b', ttlMs: 400 })).rejects.toBeInstanceOf(LeaseHeldError);

    a.abandon(); // crash: no release, no renewal
    const b = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'process-b', ttlMs: 400, waitMs: 10_000 });
    const tokenB = b.fences().find((fence) => fence.name === 'portfolio/redis-p')!.token;
    expect(tokenB).toBeGreaterThan(tokenA);
    const stale = await journalA.append([entry(2)]).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(StaleFenceError);
    expect((stale as Error).message).toMatch(/taken over by another process/);
    expect(await fenceOf(2)).toBeNull(); // nothing written
    await new OrderJournal(db, { fences: () => b.fences() }).append([entry(3)]);
    expect(await fenceOf(3)).toBe(tokenB);
    // a's own renewal now finds the lease gone and someone newer registered: lost
    await a.renewNow();
    expect(a.status().state).toBe('lost');
    await b.release();
    expect(b.fences()).toEqual([]);
  }, 30_000);

  it('Redis that lost its fence counter (came back empty) still hands out tokens above the ones PostgreSQL has seen', async () => {
    const names = ['portfolio/amnesia'];
    const first = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'first', ttlMs: 5000 });
    const firstToken = first.fences()[0]!.token;
    await first.release();
    const raw = await RedisKeyValueStore.connect(redisService.url, { keyPrefix: redisService.keyPrefix });
    await raw.delete(fenceKey('portfolio/amnesia'));
    await raw.delete(leaseKey('portfolio/amnesia'));
    await raw.close();
    const second = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'second', ttlMs: 5000 });
    expect(second.fences()[0]!.token).toBeGreaterThan(firstToken);
    await second.release();
  });

  it('PostgreSQL advisory lock (no Redis): refused while held; the holder dying releases it at once; the stale holder is fenced off', async () => {
    const names = ['portfolio/advisory-p'];
    const backendA = new AdvisoryLockLeaseBackend(pgService.url);
    const a = await LeaseKeeper.acquire({ db, backend: backendA, names, owner: 'advisory-a' });
    const journalA = new OrderJournal(db, { fences: () => a.fences() });
    await journalA.append([entry(10)]);
    await expect(LeaseKeeper.acquire({ db, backend: new AdvisoryLockLeaseBackend(pgService.url), names, owner: 'advisory-b' })).rejects.toThrow(/already traded by another Troupe process/);
    a.abandon();
    await backendA.close(); // the process died: its connection, and the lock with it, are gone
    const b = await LeaseKeeper.acquire({ db, backend: new AdvisoryLockLeaseBackend(pgService.url), names, owner: 'advisory-b', waitMs: 10_000 });
    expect(b.fences()[0]!.token).toBeGreaterThan(a.fences()[0]!.token);
    await expect(journalA.append([entry(11)])).rejects.toBeInstanceOf(StaleFenceError);
    await new OrderJournal(db, { fences: () => b.fences() }).append([entry(12)]);
    expect(await fenceOf(12)).toBe(b.fences()[0]!.token);
    await b.release();
  }, 30_000);

  it('a journal with fencing refuses to write when the process holds no lease', async () => {
    await expect(new OrderJournal(db, { fences: () => [] }).append([entry(20)])).rejects.toThrow(/holds no single-writer lease/);
  });
});
