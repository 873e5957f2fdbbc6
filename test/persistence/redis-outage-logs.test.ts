/**
 * A Redis outage is logged as state changes, not per attempt (issue #15, item 8: it gave some
 * 50 lines a second): the snapshot tier says once that it is degraded and once that it works
 * again, however many snapshots are written meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/testkit.js';
import { loadConfig } from '../../src/config/config.js';
import { openStores } from '../../src/persistence/stores.js';
import { usePostgres, useRedis, type DedicatedRedisService, type PostgresService } from '../support/services.js';

let pgService: PostgresService;
let redis: DedicatedRedisService;
const dataDir = mkdtempSync(join(tmpdir(), 'troupe-redis-logs-'));
beforeAll(async () => {
  [pgService, redis] = await Promise.all([usePostgres(), useRedis({ dedicated: true })]);
}, 60_000);
afterAll(async () => {
  await Promise.all([pgService?.stop(), redis?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Redis outage logs', () => {
  it('200 snapshot writes while Redis is down give one "degraded" line, and one line when it works again', async () => {
    const lines: { level: number; msg: string }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write: (chunk: Buffer, _encoding, done) => (
          lines.push(
            ...chunk
              .toString()
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as { level: number; msg: string }),
          ),
          done()
        ),
      }),
    );
    const stores = await openStores(
      loadConfig({ DATABASE_URL: pgService.url, REDIS_URL: redis.url, TROUPE_REDIS_KEY_PREFIX: redis.keyPrefix, TROUPE_DATA_DIR: dataDir }),
      log,
    );
    const save = (sequence: number): Promise<void> =>
      stores.snapshots.save({ key: `/market/S${sequence % 50}`, version: 1, sequence, state: { sequence }, atMs: 1_700_000_000_000 + sequence });
    const degraded = (): number => lines.filter((line) => line.msg.startsWith('redis is degraded: snapshots go to PostgreSQL only')).length;
    const back = (): number => lines.filter((line) => line.msg.startsWith('redis takes snapshots again')).length;
    try {
      await save(0);
      await redis.kill();
      for (let sequence = 1; sequence <= 200; sequence += 1) await save(sequence); // PostgreSQL takes them all
      expect(degraded()).toBe(1);
      expect(back()).toBe(0);
      await redis.restart();
      let sequence = 1_000;
      await eventually(
        async () => {
          await save((sequence += 1));
          expect(back()).toBe(1);
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      expect(degraded()).toBe(1);
      const warnings = lines.filter((line) => line.level >= 40);
      expect(warnings.length).toBeLessThanOrEqual(3); // the tier's, Redis health's: once each per outage
    } finally {
      await stores.close();
    }
  }, 60_000);
});
