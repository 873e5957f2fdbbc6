import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/actors/core/types.js';
import { openDatabase, PostgresDatabase, type Database } from '../../src/persistence/database.js';
import { SqlJournal } from '../../src/persistence/journal.js';
import { InProcessKeyValueStore, type KeyValueStore } from '../../src/persistence/key-value.js';
import { migrate } from '../../src/persistence/migrate.js';
import { connectRedis, RedisKeyValueStore } from '../../src/persistence/redis/redis-key-value.js';
import { RedisSnapshotStore } from '../../src/persistence/redis/redis-snapshot-store.js';
import { PostgresSnapshotStore } from '../../src/persistence/snapshot-store.js';
import { TieredSnapshotStore, type DegradedEvent } from '../../src/persistence/tiered-snapshot-store.js';
import { eventually } from '../../src/actors/core/testkit.js';
import { usePostgres, useRedis, type PostgresService, type RedisService } from '../support/services.js';

const snapshot = (key: string, sequence: number, state: Snapshot['state'] = { sequence }): Snapshot => ({
  key,
  version: 2,
  sequence,
  state,
  atMs: 1_700_000_000_000 + sequence,
});

let pgService: PostgresService;
let redisService: RedisService;
const dataDir = mkdtempSync(join(tmpdir(), 'troupe-pglite-'));

beforeAll(async () => {
  [pgService, redisService] = await Promise.all([usePostgres(), useRedis()]);
});
afterAll(async () => {
  await Promise.all([pgService.stop(), redisService.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe.each(['postgres', 'pglite'] as const)('durable stores on %s', (kind) => {
  let db: Database;
  const settings = { dataDir, persistence: { poolMin: 2, poolMax: 10, statementTimeoutMs: 30_000, connectTimeoutMs: 5000 } };
  /** `openDatabase` picks pg when a URL is configured, else PGlite in `<dataDir>/pgdata`. */
  const open = (): Promise<Database> => openDatabase({ ...settings, databaseUrl: kind === 'postgres' ? pgService.url : undefined });

  beforeAll(async () => {
    db = await open();
    expect(db.kind).toBe(kind);
    if (kind === 'pglite') expect(db.target).toBe(join(dataDir, 'pgdata'));
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it('PostgresSnapshotStore round-trips the latest snapshot per key and ignores an older save', async () => {
    const store = new PostgresSnapshotStore(db);
    expect(await store.load('/strategies/a')).toBeUndefined();
    await store.save(snapshot('/strategies/a', 5, { cash: 1_000_000_07, positions: [{ symbol: 'INFY', quantity: -3 }], note: null }));
    await store.save(snapshot('/strategies/b', 1));
    await store.save(snapshot('/strategies/a', 7));
    await store.save(snapshot('/strategies/a', 6));
    expect(await store.load('/strategies/a')).toEqual(snapshot('/strategies/a', 7));
    expect(await store.load('/strategies/b')).toEqual(snapshot('/strategies/b', 1));
    expect(await store.sequenceOf('/strategies/a')).toBe(7);
  });

  it('the journal numbers entries in append order, filters by stream, and survives reopening the database', async () => {
    const journal = new SqlJournal(db);
    const before = (await journal.readAfter(0)).at(-1)?.sequence ?? 0;
    const first = await journal.append([
      { stream: 'strategy/s1', type: 'OrderIntent', payload: { intentId: 's1:1', quantity: 10 } },
      { stream: 'portfolio/p1', type: 'Fill', payload: { fillId: 'F1', pricePaise: 123_45 } },
      { stream: 'strategy/s1', type: 'OrderUpdated', payload: { status: 'OPEN' } },
    ]);
    const second = await journal.append([{ stream: 'strategy/s1', type: 'Fill', payload: { fillId: 'F2' } }]);
    expect(first).toHaveLength(3);
    expect([...first, ...second]).toEqual([...first, ...second].sort((a, b) => a - b));
    expect(new Set([...first, ...second]).size).toBe(4);
    expect(first[0]).toBeGreaterThan(before);
    expect(await journal.append([])).toEqual([]);

    await db.close();
    db = await open();
    const reopened = new SqlJournal(db);
    const all = await reopened.readAfter(before);
    expect(all.map((entry) => [entry.sequence, entry.stream, entry.type])).toEqual([
      [first[0], 'strategy/s1', 'OrderIntent'],
      [first[1], 'portfolio/p1', 'Fill'],
      [first[2], 'strategy/s1', 'OrderUpdated'],
      [second[0], 'strategy/s1', 'Fill'],
    ]);
    expect(all[1]?.payload).toEqual({ fillId: 'F1', pricePaise: 123_45 });
    expect((await reopened.readAfter(before, { stream: 'strategy/s1' })).map((entry) => entry.type)).toEqual(['OrderIntent', 'OrderUpdated', 'Fill']);
    expect((await reopened.readAfter(first[1]!)).map((entry) => entry.sequence)).toEqual([first[2], second[0]]);
    expect(await reopened.readAfter(before, { limit: 2 })).toHaveLength(2);
    // Snapshots written before the reopen are still there too.
    expect((await new PostgresSnapshotStore(db).load('/strategies/a'))?.sequence).toBe(7);
  });
});

describe.each(['redis', 'in-process'] as const)('KeyValueStore (%s)', (kind) => {
  let store: KeyValueStore;
  let nowMs = 1_000_000;
  beforeAll(async () => {
    store =
      kind === 'redis' ? await RedisKeyValueStore.connect(redisService.url, { keyPrefix: redisService.keyPrefix }) : new InProcessKeyValueStore(() => nowMs);
  });
  afterAll(async () => {
    await store.close();
  });
  /** Lets time pass: by hand in process, by waiting for Redis to expire the key. */
  const expireWait = async (key: string, ttlMs: number): Promise<void> => {
    if (kind === 'in-process') nowMs += ttlMs;
    else await eventually(async () => expect(await store.get(key)).toBeUndefined(), { timeoutMs: 5000, intervalMs: 10 });
  };

  it('gets, sets with a TTL, deletes and scans by prefix', async () => {
    await store.set('quote:INFY', '{"ltpPaise":150000}');
    await store.set('quote:TCS', '1', { ttlMs: 60_000 });
    await store.set('session:abc', 'user-1');
    await store.set('short', 'x', { ttlMs: 50 });
    expect(await store.get('quote:INFY')).toBe('{"ltpPaise":150000}');
    expect(await store.scan('quote:')).toEqual(['quote:INFY', 'quote:TCS']);
    expect(await store.delete('quote:INFY')).toBe(true);
    expect(await store.delete('quote:INFY')).toBe(false);
    expect(await store.get('quote:INFY')).toBeUndefined();
    await expireWait('short', 50);
    expect(await store.get('short')).toBeUndefined();
  });

  it('counts with incr; the window expires after its TTL', async () => {
    expect(await store.incr('rate:client-1', 80)).toBe(1);
    expect(await store.incr('rate:client-1', 80)).toBe(2);
    expect(await store.incr('rate:client-1', 80)).toBe(3);
    await expireWait('rate:client-1', 80);
    expect(await store.incr('rate:client-1', 80)).toBe(1);
  });

  it('leases: a second owner cannot acquire; tokens grow; expiry frees it; a stale token is refused', async () => {
    const first = await store.acquireLease('portfolio/p1', 'process-a', 100);
    expect(first).toMatchObject({ name: 'portfolio/p1', owner: 'process-a' });
    expect(await store.acquireLease('portfolio/p1', 'process-b', 100)).toBeUndefined();
    expect(await store.acquireLease('portfolio/p1', 'process-a', 100)).toBeUndefined();
    expect(await store.renewLease(first!, 100)).toBe(true);

    await expireWait('lease:portfolio/p1', 100);
    const second = await store.acquireLease('portfolio/p1', 'process-b', 60_000);
    expect(second?.token).toBeGreaterThan(first!.token);
    expect(await store.renewLease(first!, 60_000)).toBe(false);
    expect(await store.releaseLease(first!)).toBe(false);
    expect(await store.acquireLease('portfolio/p1', 'process-a', 60_000)).toBeUndefined();

    expect(await store.releaseLease(second!)).toBe(true);
    const third = await store.acquireLease('portfolio/p1', 'process-a', 60_000);
    expect(third?.token).toBeGreaterThan(second!.token);
    expect(await store.releaseLease(third!)).toBe(true);
  });
});

describe('snapshots in Redis and tiered', () => {
  let db: PostgresDatabase;
  beforeAll(async () => {
    db = new PostgresDatabase(pgService.url);
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it('RedisSnapshotStore round-trips and ignores an older save', async () => {
    const client = await connectRedis(redisService.url, { keyPrefix: redisService.keyPrefix });
    try {
      const store = new RedisSnapshotStore(client);
      expect(await store.load('/a')).toBeUndefined();
      await store.save(snapshot('/a', 3, { nested: { list: [1, 'two', true, null] } }));
      await store.save(snapshot('/a', 2));
      expect(await store.load('/a')).toEqual(snapshot('/a', 3, { nested: { list: [1, 'two', true, null] } }));
    } finally {
      client.disconnect();
    }
  });

  it('TieredSnapshotStore writes both; reads Redis first but never an older copy than Postgres', async () => {
    const client = await connectRedis(redisService.url, { keyPrefix: `${redisService.keyPrefix}tiered:` });
    try {
      const durable = new PostgresSnapshotStore(db);
      const hot = new RedisSnapshotStore(client);
      const tiered = new TieredSnapshotStore(durable, hot);
      await tiered.save(snapshot('/tiered/x', 4));
      expect(await durable.load('/tiered/x')).toEqual(snapshot('/tiered/x', 4));
      expect(await hot.load('/tiered/x')).toEqual(snapshot('/tiered/x', 4));
      expect(await tiered.load('/tiered/x')).toEqual(snapshot('/tiered/x', 4));
      // Redis missed a newer write (e.g. it was down): Postgres's newer copy wins.
      await durable.save(snapshot('/tiered/x', 9));
      expect(await tiered.load('/tiered/x')).toEqual(snapshot('/tiered/x', 9));
      // Only in Redis (Postgres has none): the hot copy is used.
      await hot.save(snapshot('/tiered/hot-only', 1));
      expect(await tiered.load('/tiered/hot-only')).toEqual(snapshot('/tiered/hot-only', 1));
      expect(tiered.status()).toEqual({ redis: 'ok', redisFailures: 0 });
    } finally {
      client.disconnect();
    }
  });

  it('TieredSnapshotStore with Redis stopped degrades to Postgres: saves and loads work, the outage is reported', async () => {
    const redis = await useRedis({ dedicated: true });
    const client = await connectRedis(redis.url, { keyPrefix: redis.keyPrefix, commandTimeoutMs: 500 });
    try {
      const events: DegradedEvent[] = [];
      const tiered = new TieredSnapshotStore(new PostgresSnapshotStore(db), new RedisSnapshotStore(client), (event) => events.push(event));
      await tiered.save(snapshot('/outage/a', 1));
      await redis.kill();
      await tiered.save(snapshot('/outage/a', 2));
      expect(await tiered.load('/outage/a')).toEqual(snapshot('/outage/a', 2));
      expect(events.map((event) => [event.operation, event.key])).toEqual([
        ['save', '/outage/a'],
        ['load', '/outage/a'],
      ]);
      expect(tiered.status()).toMatchObject({ redis: 'degraded', redisFailures: 2 });

      await redis.restart();
      await eventually(() => tiered.save(snapshot('/outage/a', 3)).then(() => expect(tiered.status().redis).toBe('ok')), { timeoutMs: 10_000, intervalMs: 20 });
      expect(await tiered.load('/outage/a')).toEqual(snapshot('/outage/a', 3));
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});
