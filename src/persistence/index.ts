/** Persistence: ports and their PostgreSQL/PGlite, Redis and in-process implementations. */
export * from './database.js';
export * from './migrate.js';
export * from './snapshot-store.js';
export * from './journal.js';
export * from './key-value.js';
export * from './tiered-snapshot-store.js';
export * from './redis/redis-key-value.js';
export * from './redis/redis-snapshot-store.js';
export * from './timeseries/partitions.js';
export * from './timeseries/tick-ingestor.js';
export * from './timeseries/bars.js';
export * from './timeseries/retention.js';
export * from './lease.js';
export * from './redis/redis-health.js';
export * from './timeseries/recorder.js';
export * from './timeseries/timescale.js';
