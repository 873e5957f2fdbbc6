/**
 * Opens the stores the runtime needs, from the configuration: PostgreSQL when
 * `DATABASE_URL` is set, else the embedded PGlite under the data directory; Redis as the
 * hot tier of snapshots when `REDIS_URL` is set. Migrations run first; a schema newer than
 * the code, or a dead server, stops start-up with a clear message.
 */
import type { SnapshotStore } from '../actors/core/index.js';
import type { TroupeConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { secureDataDirectory } from './data-dir-mode.js';
import { openDatabase, type Database } from './database.js';
import { migrate } from './migrate.js';
import { RedisHealth } from './redis/redis-health.js';
import { connectRedis } from './redis/redis-key-value.js';
import { RedisSnapshotStore } from './redis/redis-snapshot-store.js';
import { PostgresSnapshotStore } from './snapshot-store.js';
import { TieredSnapshotStore } from './tiered-snapshot-store.js';

export interface Stores {
  readonly database: Database;
  readonly snapshots: SnapshotStore;
  /** What backs the stores, for health and logs. */
  readonly describe: { readonly database: string; readonly redis: string | undefined };
  /** Whether Redis answers (with `REDIS_URL`): degraded while it is down, ok when it is back. */
  readonly redisHealth?: RedisHealth;
  close(): Promise<void>;
}

/**
 * The data directory is the owner's only (0700/0600): entries others could read or write are
 * fixed, with a warning; one that cannot be fixed stops start-up (`DataDirectoryPermissionError`).
 */
export function checkDataDirectory(dataDir: string, log: Logger): void {
  const report = secureDataDirectory(dataDir);
  if (report.fixed > 0)
    log.warn(
      { dataDir, fixed: report.fixed, checked: report.checked, examples: report.examples },
      'the data directory was open to other users: made it owner-only (0700 directories, 0600 files)',
    );
}

export async function openStores(config: TroupeConfig, log: Logger): Promise<Stores> {
  checkDataDirectory(config.dataDir, log);
  const database = await openDatabase(config);
  try {
    const report = await migrate(database);
    log.info({ database: database.kind, applied: report.applied, version: report.version }, 'database ready');
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  const durable = new PostgresSnapshotStore(database);
  if (config.redisUrl === undefined) {
    return {
      database,
      snapshots: durable,
      describe: { database: database.kind, redis: undefined },
      close: () => database.close(),
    };
  }
  const redis = await connectRedis(config.redisUrl, { keyPrefix: config.persistence.redisKeyPrefix });
  const redisHealth = new RedisHealth(redis, { log });
  // one line when the hot tier fails and one when it works again, not one per snapshot (50 a second in an outage)
  const snapshots = new TieredSnapshotStore(durable, new RedisSnapshotStore(redis), undefined, (status, event) => {
    if (status.redis === 'degraded')
      log.warn({ operation: event?.operation, key: event?.key, err: event?.error }, 'redis is degraded: snapshots go to PostgreSQL only');
    else log.info({ redisFailures: status.redisFailures }, 'redis takes snapshots again');
  });
  return {
    database,
    snapshots,
    describe: { database: database.kind, redis: config.redisUrl.replace(/\/\/[^@]*@/, '//') },
    redisHealth,
    async close() {
      redisHealth.stop();
      redis.disconnect();
      await database.close();
    },
  };
}
