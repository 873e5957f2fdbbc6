import { afterAll, describe, expect, it } from 'vitest';
import { PostgresDatabase, DatabaseUnavailableError, openDatabase } from '../../src/persistence/database.js';
import { RedisKeyValueStore, RedisUnavailableError } from '../../src/persistence/redis/redis-key-value.js';
import { freePort, usePostgres, useRedis } from '../support/services.js';

describe('test services harness', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('gives a PostgreSQL 15 database and reuses the server for a second call in the same file', async () => {
    const first = await usePostgres();
    const second = await usePostgres();
    closers.push(first.stop, second.stop);
    expect(second.url).toBe(first.url);
    expect(first.database).toMatch(/^troupe_test_[0-9a-f]+$/);
    const db = new PostgresDatabase(first.url);
    closers.push(() => db.close());
    const [row] = await db.query<{ version: string; database: string }>('SELECT current_setting($1) AS version, current_database() AS database', [
      'server_version',
    ]);
    expect(row?.version).toMatch(/^15\./);
    expect(row?.database).toBe(first.database);
  });

  it('gives a Redis 7 namespace with a random key prefix', async () => {
    const redis = await useRedis();
    closers.push(redis.stop);
    expect(redis.keyPrefix).toMatch(/^troupe-test-[0-9a-f]+:$/);
    const store = await RedisKeyValueStore.connect(redis.url, { keyPrefix: redis.keyPrefix });
    closers.push(() => store.close());
    expect(await store.client.info('server')).toMatch(/redis_version:7\./);
    await store.set('hello', 'world');
    expect(await store.get('hello')).toBe('world');
  });

  it('a dead database gives DatabaseUnavailableError naming host and port; a restarted one answers again', async () => {
    const server = await usePostgres({ dedicated: true });
    closers.push(server.stop);
    const port = new URL(server.url).port;
    const db = new PostgresDatabase(server.url, { poolMin: 0, poolMax: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000 });
    closers.push(() => db.close());
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);

    await server.kill();
    const failure = await db.query('SELECT 1').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DatabaseUnavailableError);
    expect((failure as DatabaseUnavailableError).message).toContain(`127.0.0.1:${port}`);
    await expect(db.transaction((tx) => tx.query('SELECT 1'))).rejects.toBeInstanceOf(DatabaseUnavailableError);

    await server.restart();
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('openDatabase against a port where nothing listens fails with DatabaseUnavailableError', async () => {
    const port = await freePort();
    await expect(
      openDatabase({
        databaseUrl: `postgresql://postgres@127.0.0.1:${port}/x`,
        dataDir: '.',
        persistence: { poolMin: 0, poolMax: 1, statementTimeoutMs: 1000, connectTimeoutMs: 1000 },
      }),
    ).rejects.toThrow(new RegExp(`database at 127\\.0\\.0\\.1:${port}/x is unavailable`));
  });

  it('a stopped Redis gives RedisUnavailableError, and the client reconnects when it is back', async () => {
    const redis = await useRedis({ dedicated: true });
    closers.push(redis.stop);
    const store = await RedisKeyValueStore.connect(redis.url, { keyPrefix: redis.keyPrefix });
    closers.push(() => store.close());
    await store.set('k', 'v');
    await redis.kill();
    await expect(store.get('k')).rejects.toBeInstanceOf(RedisUnavailableError);
    await redis.restart();
    await expect
      .poll(
        () =>
          store.set('k', 'again').then(
            () => store.get('k'),
            () => undefined,
          ),
        { timeout: 10_000 },
      )
      .toBe('again');
  });
});
