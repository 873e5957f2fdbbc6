/**
 * Sustained tick ingest into real PostgreSQL 15 **while the runtime trades in the same process**.
 *
 * The server is a throwaway one this bench starts from the local binaries with PostgreSQL's
 * default durability (fsync on, full_page_writes on, synchronous_commit on) — not the test
 * harness's fsync=off server — or a fresh database on DATABASE_URL. In the same process, a
 * Troupe runtime trades the synthetic market (ema-cross on 20 symbols, journal before acting on
 * the same server: every order and fill committed synchronously) while a producer offers ticks to
 * the `TickIngestor` as fast as it drains them (never more than `capacity` waiting; it waits for
 * room with `whenRoom` instead of spinning). Tick batches commit asynchronously (`SET LOCAL
 * synchronous_commit = off`, ticks only) into the live day's partition, which has no index; after
 * the run the closed days are indexed as the retention job does (timed separately). Prints
 * ticks/s, CPU ms per 1000 ticks of this process and of the server (its processes' /proc times:
 * steadier than ticks/s on a shared machine), the orders and fills made meanwhile, and the
 * machine's load (`uptime`: the 2 cores are shared), and writes bench/results/ingest.json.
 *
 *   npx tsx bench/ingest.bench.ts            # TROUPE_BENCH_TICKS (3 000 000), _BATCH, _CONCURRENCY, _SYNC=1 for synchronous tick commits, _TRADING=0 without the runtime's trading
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { eventually } from '../src/actors/core/index.js';
import type { Tick } from '../src/model/market.js';
import { PostgresDatabase } from '../src/persistence/database.js';
import { OrderJournal } from '../src/persistence/journal-orders.js';
import { migrate } from '../src/persistence/migrate.js';
import { indexClosedTickPartitions } from '../src/persistence/timeseries/partitions.js';
import { TickIngestor } from '../src/persistence/timeseries/tick-ingestor.js';
import { Runtime } from '../src/runtime/runtime.js';
import { createSyntheticMarket } from '../src/streams/index.js';
import { freePort } from '../test/support/services.js';

const TOTAL = Number(process.env.TROUPE_BENCH_TICKS ?? 3_000_000);
const BATCH = Number(process.env.TROUPE_BENCH_BATCH ?? 20_000);
const CONCURRENCY = Number(process.env.TROUPE_BENCH_CONCURRENCY ?? 3);
const SYNC = process.env.TROUPE_BENCH_SYNC === '1';
const CAPACITY = 500_000;
const SYMBOLS = Array.from({ length: 50 }, (_, index) => `SYM${String(index).padStart(3, '0')}`);
const START_MS = Date.UTC(2024, 0, 2, 3, 45);
const DAY_MS = 86_400_000;
const PG_BIN = process.env.TROUPE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

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

const CLOCK_TICKS_PER_SEC = 100;

/** CPU time (ms) of a process and its direct children (the postmaster and its backends), from /proc. */
function processTreeCpuMs(rootPid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      if (pid === rootPid || ppid === rootPid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SEC;
}

/** A throwaway PostgreSQL 15 with the server's default durability settings. */
async function defaultServer(): Promise<{ url: string; settings: Record<string, string>; cpuMs(): number | undefined; stop(): Promise<void> }> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const db = new PostgresDatabase(external);
    const name = `troupe_bench_${Date.now()}`;
    await db.exec(`CREATE DATABASE ${name}`);
    await db.close();
    const url = new URL(external);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      settings: {},
      cpuMs: () => undefined,
      stop: async () => {
        const admin = new PostgresDatabase(external);
        await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.close();
      },
    };
  }
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(os.tmpdir(), 'troupe-bench-pg-'));
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('postgres:'))
    ?.split(':');
  if (root && passwd) chownSync(dir, Number(passwd[2]), Number(passwd[3]));
  const as = (binary: string, args: string[]): [string, string[]] =>
    root ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args]] : [join(PG_BIN, binary), args];
  const [initdb, initArgs] = as('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C']);
  execFileSync(initdb, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const [postgres, args] = as('postgres', ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1']);
  const child = spawn(postgres, args, { stdio: 'ignore' });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  await eventually(
    async () => {
      const probe = new PostgresDatabase(url, { poolMin: 0, poolMax: 1, statementTimeoutMs: 2000, connectTimeoutMs: 1000 });
      try {
        await probe.query('SELECT 1');
      } finally {
        await probe.close();
      }
    },
    { timeoutMs: 30_000 },
  );
  const postmasterPid = (): number => Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url,
    settings: {},
    cpuMs: () => processTreeCpuMs(postmasterPid()),
    stop: async () => {
      // immediate shutdown of the postmaster itself (runuser does not forward signals; the data dir is thrown away)
      const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(Number.isInteger(postmaster) ? postmaster : child.pid!, 'SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const server = await defaultServer();
const db = new PostgresDatabase(server.url, { poolMin: 2, poolMax: 12, statementTimeoutMs: 60_000, connectTimeoutMs: 5000 });
try {
  await migrate(db);
  const settings = Object.fromEntries(
    (
      await db.query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'max_wal_size')",
      )
    ).map((row) => [row.name, row.setting]),
  );

  // the runtime, trading in this process with the journal on the same server
  const market = createSyntheticMarket({ symbols: 20, seed: 11, ticksPerSymbolPerSecond: 5 });
  const runtime = new Runtime({
    instruments: market.instruments,
    strategies: [{ strategyId: 'ema-cross-1', kind: 'ema-cross', config: { quantity: 1, fastPeriod: 3, slowPeriod: 8 } }],
    portfolio: { portfolioId: 'paper', initialCashPaise: 10_000_000 * 100 },
    clock: { nowMs: () => market.simulatedTimeMs },
    riskLimits: { maxOrdersPerSecond: 1_000_000, maxOrdersPerSecondPerStrategy: 1_000_000 },
    journal: new OrderJournal(db),
  });
  let orders = 0;
  let fills = 0;
  let marketTicks = 0;
  runtime.bus.on('OrderSubmitted', () => (orders += 1));
  runtime.bus.on('OrderFilled', () => (fills += 1));
  runtime.start();
  let trading = process.env.TROUPE_BENCH_TRADING !== '0'; // 0: no market feed, to tell the ingest's cost from the trading's
  const feed = (async () => {
    while (trading) {
      const bySymbol = new Map<string, Tick[]>();
      for (const tick of market.nextBatch(200)) bySymbol.set(tick.symbol, [...(bySymbol.get(tick.symbol) ?? []), tick]);
      for (const [symbol, ticks] of bySymbol) {
        runtime.offerTicks(symbol, ticks);
        marketTicks += ticks.length;
      }
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
  })();

  const errors: unknown[] = [];
  const ingestor = new TickIngestor(db, {
    capacity: CAPACITY,
    batchSize: BATCH,
    concurrency: CONCURRENCY,
    flushIntervalMs: 100,
    asynchronousCommit: !SYNC,
    onError: (error) => errors.push(error),
  });
  // warm-up: create the partitions and JIT the paths
  for (let index = 0; index < 2 * BATCH; index += 1) ingestor.offer(tickAt(index));
  await ingestor.flush();
  await db.exec('TRUNCATE ticks');
  const base = ingestor.stats();
  const before = { orders, fills, marketTicks };
  const loadBefore = os.loadavg();
  const serverCpuBefore = server.cpuMs();
  const nodeCpuBefore = process.cpuUsage();

  const startedAt = performance.now();
  let offered = 0;
  let maxPending = 0;
  while (offered < TOTAL) {
    const chunk = Math.min(10_000, TOTAL - offered);
    await ingestor.whenRoom(chunk); // waits for a batch to commit rather than spinning (a spinning producer takes CPU from the server)
    for (let index = 0; index < chunk; index += 1) ingestor.offer(tickAt(offered + index));
    offered += chunk;
    maxPending = Math.max(maxPending, ingestor.stats().pending);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await ingestor.flush();
  const elapsedSec = (performance.now() - startedAt) / 1000;
  const nodeCpu = process.cpuUsage(nodeCpuBefore);
  const serverCpuAfter = server.cpuMs();
  const loadAfter = os.loadavg();
  const uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  trading = false;
  await feed;
  await runtime.stop();
  const stats = ingestor.stats();
  const written = stats.written - base.written;
  const [{ n } = { n: 0 }] = await db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM ticks');
  // the days are over: index their partitions as the retention job does after the session (timed, not part of ticks/s)
  const indexStartedAt = performance.now();
  const indexed = await indexClosedTickPartitions(db, Number.MAX_SAFE_INTEGER);
  const closedDayIndexSec = (performance.now() - indexStartedAt) / 1000;
  const result = {
    benchmark: 'tick ingest (COPY binary into day-partitioned ticks, unindexed while the day is live) while the runtime trades in the same process',
    database: `${process.env.DATABASE_URL ? 'DATABASE_URL' : 'throwaway'} PostgreSQL, default durability`,
    serverSettings: settings,
    tickCommits: SYNC ? 'synchronous' : 'asynchronous (SET LOCAL synchronous_commit = off, tick transactions only)',
    ticks: written,
    rowsInTable: n,
    seconds: Number(elapsedSec.toFixed(3)),
    ticksPerSecond: Math.round(written / elapsedSec),
    batchSize: BATCH,
    concurrency: CONCURRENCY,
    shed: stats.shed - base.shed,
    failed: stats.failed - base.failed,
    maxPending,
    closedDayIndex: { partitions: indexed.length, seconds: Number(closedDayIndexSec.toFixed(3)) },
    // CPU time per 1 000 ticks, less sensitive to the machine's load than ticks/s (node: this whole process, producer and trading included)
    cpuMsPer1000Ticks: {
      node: Number((((nodeCpu.user + nodeCpu.system) / 1000 / written) * 1000).toFixed(3)),
      server: serverCpuBefore === undefined || serverCpuAfter === undefined ? null : Number((((serverCpuAfter - serverCpuBefore) / written) * 1000).toFixed(3)),
    },
    tradingMeanwhile: { marketTicks: marketTicks - before.marketTicks, orders: orders - before.orders, fills: fills - before.fills },
    load: { before: loadBefore.map((value) => Number(value.toFixed(2))), after: loadAfter.map((value) => Number(value.toFixed(2))), uptime },
    errors: errors.map((error) => (error instanceof Error ? error.message : String(error))).slice(0, 3),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    at: new Date().toISOString(),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/ingest.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `ingest: ${written} ticks in ${elapsedSec.toFixed(2)} s = ${result.ticksPerSecond} ticks/s (batch ${BATCH}, concurrency ${CONCURRENCY}, ${result.tickCommits}, shed ${result.shed}, failed ${result.failed}, rows ${n})\n` +
      `meanwhile the runtime traded: ${result.tradingMeanwhile.marketTicks} market ticks, ${result.tradingMeanwhile.orders} orders, ${result.tradingMeanwhile.fills} fills (journaled synchronously)\n` +
      `after the session: (symbol, exchange_time) index on ${indexed.length} closed-day partitions in ${closedDayIndexSec.toFixed(2)} s\n` +
      `cpu per 1000 ticks: node ${result.cpuMsPer1000Ticks.node} ms, server ${result.cpuMsPer1000Ticks.server ?? '?'} ms\n` +
      `server: ${JSON.stringify(settings)}\nload: ${uptime}`,
  );
  if (n !== written || result.failed > 0 || (process.env.TROUPE_BENCH_TRADING !== '0' && result.tradingMeanwhile.orders === 0)) process.exitCode = 1;
} finally {
  await db.close();
  await server.stop();
}
