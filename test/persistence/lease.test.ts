/**
 * Single-writer leases with fencing tokens on real PostgreSQL and Redis: a second holder is
 * refused with a clear message; a crashed holder's lease frees (Redis: after its TTL; advisory
 * lock: with its connection) and the next one takes over with a greater token; PostgreSQL then
 * refuses the stale holder's journal writes; a Redis that lost its fence counter still hands out
 * tokens above PostgreSQL's. Renewal from a worker thread keeps a lease through a main-thread
 * stall (a busy loop) several times longer than the TTL, up to `maxStallMs`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { OrderJournal } from '../../src/persistence/journal-orders.js';
import {
  AdvisoryLockLeaseBackend,
  KeyValueLeaseBackend,
  LeaseHeldError,
  LeaseKeeper,
  StaleFenceError,
  type LeaseBackend,
} from '../../src/persistence/lease.js';
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

/** Blocks the main thread: no timer, no I/O callback, no message runs meanwhile (only other threads do). */
function blockMainThread(ms: number): number {
  const until = performance.now() + ms;
  let spins = 0;
  while (performance.now() < until) spins += 1;
  return spins;
}

describe('single-writer leases', () => {
  /** A Redis backend as `openLeaseBackend` makes it: renewal from a worker thread with its own connection (unless `offThread` is false). */
  const redisBackend = async (offThread = true): Promise<LeaseBackend> => {
    const target = { url: redisService.url, keyPrefix: redisService.keyPrefix };
    return new KeyValueLeaseBackend(await RedisKeyValueStore.connect(target.url, { keyPrefix: target.keyPrefix }), true, offThread ? target : undefined);
  };
  const rawRedis = (): Promise<RedisKeyValueStore> => RedisKeyValueStore.connect(redisService.url, { keyPrefix: redisService.keyPrefix });

  it('Redis, renewed from a worker thread: a main thread blocked for 3.5 × the TTL keeps its lease and its journal writes', async () => {
    const names = ['portfolio/stall-p'];
    const a = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'stalled-a', ttlMs: 1000 });
    const token = a.fences()[0]!.token;
    const raw = await rawRedis();
    try {
      blockMainThread(3500);
      // the first thing after the stall: the lease is still ours (it would have expired 2.5 s ago without renewal)
      expect(await raw.get(leaseKey('portfolio/stall-p'))).toBe(`${token}:stalled-a`);
      await expect(LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'process-b', ttlMs: 1000 })).rejects.toBeInstanceOf(LeaseHeldError);
      await new OrderJournal(db, { fences: () => a.fences() }).append([entry(30)]);
      expect(await fenceOf(30)).toBe(token);
      expect(a.status()).toMatchObject({ state: 'held', leases: [{ name: 'portfolio/stall-p', token }] });
      await a.release();
      expect(await raw.get(leaseKey('portfolio/stall-p'))).toBeUndefined(); // released, and no renewal after it
    } finally {
      await raw.close();
    }
  }, 30_000);

  it('Redis, renewed on the main thread (the control): the same stall lets the lease expire, free for any other process to take', async () => {
    const names = ['portfolio/stall-main'];
    const a = await LeaseKeeper.acquire({ db, backend: await redisBackend(false), names, owner: 'stalled-main', ttlMs: 1000 });
    const token = a.fences()[0]!.token;
    const raw = await rawRedis();
    try {
      blockMainThread(3500);
      // sent before any timer of this thread runs: the lease expired during the stall
      expect(await raw.get(leaseKey('portfolio/stall-main'))).toBeUndefined();
      // nobody took it meanwhile, so the keeper takes it again when it wakes, with a new token
      await a.renewNow();
      expect(a.status().state).toBe('held');
      expect(a.fences()[0]!.token).toBeGreaterThan(token);
      await a.release();
    } finally {
      await raw.close();
    }
  }, 30_000);

  it('Redis, renewed from a worker thread: a main thread stuck beyond maxStallMs lets its lease expire; it finds itself lost when it wakes', async () => {
    const names = ['portfolio/stuck-p', 'strategy/stuck-s'];
    const a = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names, owner: 'stuck-a', ttlMs: 500, maxStallMs: 1000 });
    const journalA = new OrderJournal(db, { fences: () => a.fences() });
    blockMainThread(3500); // renewal pauses after 1 s of stall, the leases expire 0.5 s later
    // another process with a different strategy set takes only the portfolio's lease
    const b = await LeaseKeeper.acquire({ db, backend: await redisBackend(), names: ['portfolio/stuck-p'], owner: 'process-b', ttlMs: 1000 });
    await eventually(() => expect(a.status().state).toBe('lost'), { timeoutMs: 10_000 });
    // every write of the stalled process is refused, not only those under the lease it lost
    expect(a.fences()).toEqual([]);
    await expect(journalA.append([entry(32)])).rejects.toThrow(/holds no single-writer lease/);
    await a.release();
    await b.release();
  }, 30_000);

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
    await expect(LeaseKeeper.acquire({ db, backend: new AdvisoryLockLeaseBackend(pgService.url), names, owner: 'advisory-b' })).rejects.toThrow(
      /already traded by another Troupe process/,
    );
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
