/**
 * Sustained tick ingest into real PostgreSQL 15 (a throwaway server from test/support/services.ts,
 * or a fresh database on DATABASE_URL). A producer offers ticks as fast as the ingestor drains
 * them (it yields to the event loop every 10 000 ticks and never lets more than `capacity` wait),
 * for `TROUPE_BENCH_TICKS` ticks (default 3 000 000) over 50 symbols and 2 trading days.
 * Prints ticks/s and writes bench/results/ingest.json.
 *
 *   npx tsx bench/ingest.bench.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Tick } from '../src/model/market.js';
import { PostgresDatabase } from '../src/persistence/database.js';
import { migrate } from '../src/persistence/migrate.js';
import { TickIngestor } from '../src/persistence/timeseries/tick-ingestor.js';
import { usePostgres } from '../test/support/services.js';

const TOTAL = Number(process.env.TROUPE_BENCH_TICKS ?? 3_000_000);
const BATCH = Number(process.env.TROUPE_BENCH_BATCH ?? 20_000);
const CONCURRENCY = Number(process.env.TROUPE_BENCH_CONCURRENCY ?? 2);
const CAPACITY = 500_000;
const SYMBOLS = Array.from({ length: 50 }, (_, index) => `SYM${String(index).padStart(3, '0')}`);
const START_MS = Date.UTC(2024, 0, 2, 3, 45);
const DAY_MS = 86_400_000;

function tickAt(index: number): Tick {
  const price = 100_000 + (index % 5000);
  return {
    type: 'tick',
    symbol: SYMBOLS[index % SYMBOLS.length]!,
    token: 1000 + (index % SYMBOLS.length),
    ltpPaise: price,
    lastQuantity: 1 + (index % 100),
    volume: index,
    bidPaise: price - 5,
    askPaise: price + 5,
    bidQuantity: 10,
    askQuantity: 12,
    exchangeTimeMs: START_MS + (index % 2) * DAY_MS + Math.floor(index / 2),
  };
}

const service = await usePostgres();
const db = new PostgresDatabase(service.url, { poolMin: 2, poolMax: 10, statementTimeoutMs: 30_000, connectTimeoutMs: 5000 });
try {
  await migrate(db);
  const errors: unknown[] = [];
  const ingestor = new TickIngestor(db, { capacity: CAPACITY, batchSize: BATCH, concurrency: CONCURRENCY, flushIntervalMs: 100, onError: (error) => errors.push(error) });
  // Warm-up: create the partitions and JIT the paths.
  for (let index = 0; index < 2 * BATCH; index += 1) ingestor.offer(tickAt(index));
  await ingestor.flush();
  await db.exec('TRUNCATE ticks');
  const base = ingestor.stats();

  const startedAt = performance.now();
  let offered = 0;
  let maxPending = 0;
  while (offered < TOTAL) {
    const room = CAPACITY - ingestor.stats().pending;
    const chunk = Math.min(10_000, TOTAL - offered, room);
    for (let index = 0; index < chunk; index += 1) ingestor.offer(tickAt(offered + index));
    offered += chunk;
    maxPending = Math.max(maxPending, ingestor.stats().pending);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await ingestor.flush();
  const elapsedSec = (performance.now() - startedAt) / 1000;
  const stats = ingestor.stats();
  const written = stats.written - base.written;
  const [{ n } = { n: 0 }] = await db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM ticks');
  const result = {
    benchmark: 'tick ingest (COPY into day-partitioned ticks, btree (symbol, exchange_time))',
    database: `${service.source} PostgreSQL`,
    ticks: written,
    rowsInTable: n,
    seconds: Number(elapsedSec.toFixed(3)),
    ticksPerSecond: Math.round(written / elapsedSec),
    batchSize: BATCH,
    concurrency: CONCURRENCY,
    shed: stats.shed - base.shed,
    failed: stats.failed - base.failed,
    maxPending,
    errors: errors.map((error) => (error instanceof Error ? error.message : String(error))).slice(0, 3),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    at: new Date().toISOString(),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/ingest.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`ingest: ${written} ticks in ${elapsedSec.toFixed(2)} s = ${result.ticksPerSecond} ticks/s (batch ${BATCH}, concurrency ${CONCURRENCY}, shed ${result.shed}, failed ${result.failed}, rows ${n})`);
  if (n !== written || result.failed > 0) process.exitCode = 1;
} finally {
  await db.close();
  await service.stop();
}
