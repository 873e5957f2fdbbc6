/**
 * PostgreSQL down mid-run, on a dedicated throwaway server this test stops and starts: new
 * orders are refused (fail closed) with a RiskAlert, market data keeps flowing to the actors,
 * nothing already journaled is lost, and orders are accepted again by themselves once it is back.
 *
 * Redis down mid-run (the whole app, in process, on a dedicated throwaway Redis this test kills
 * and restarts empty): trading carries on along the durable path (journal and snapshots in
 * PostgreSQL), the health endpoint, a log line and `troupe_dependency_up{dependency="redis"}`
 * say what is degraded, and when Redis is back the hot tier and the single-writer lease (with a
 * new, greater fencing token) recover by themselves.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTroupe } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { eventually } from '../../src/actors/core/index.js';
import { clientOrderIdFor, newOrder, type OrderIntent, type RiskAlert } from '../../src/model/index.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { OrderJournal } from '../../src/persistence/journal-orders.js';
import { migrate } from '../../src/persistence/migrate.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { createSyntheticMarket } from '../../src/streams/index.js';
import { usePostgres, useRedis, type DedicatedPostgresService } from '../support/services.js';

let server: DedicatedPostgresService;
let database: PostgresDatabase;

beforeAll(async () => {
  server = await usePostgres({ dedicated: true });
  database = new PostgresDatabase(server.url, { poolMin: 0, poolMax: 4, statementTimeoutMs: 5000, connectTimeoutMs: 1000 });
  await migrate(database);
}, 60_000);

afterAll(async () => {
  await database?.close();
  await server?.stop();
});

describe('PostgreSQL down mid-run (dedicated server)', () => {
  it('refuses new orders with a RiskAlert, keeps market data flowing, loses nothing journaled, and resumes by itself', async () => {
    const market = createSyntheticMarket({ symbols: 3, seed: 7, ticksPerSymbolPerSecond: 5 });
    const symbol = market.instruments[0]!.symbol;
    const runtime = new Runtime({
      instruments: market.instruments,
      strategies: [],
      portfolio: { portfolioId: 'paper', initialCashPaise: 10_000_000 * 100 },
      clock: { nowMs: () => market.simulatedTimeMs },
      journal: new OrderJournal(database),
    });
    const alerts: RiskAlert[] = [];
    runtime.bus.on('RiskAlert', (alert) => alerts.push(alert));
    runtime.start();
    const feed = (): void => {
      const bySymbol = new Map<string, ReturnType<typeof market.nextBatch>>();
      for (const tick of market.nextBatch(300)) bySymbol.set(tick.symbol, [...(bySymbol.get(tick.symbol) ?? []), tick]);
      for (const [name, ticks] of bySymbol) runtime.offerTicks(name, ticks);
    };
    let sequence = 0;
    const place = (): string => {
      const intent: OrderIntent = {
        type: 'order-intent',
        intentId: `manual:${sequence}`,
        strategyId: 'manual',
        portfolioId: 'paper',
        symbol,
        side: 'BUY',
        quantity: 1,
        orderType: 'MARKET',
        product: 'MIS',
        validity: 'DAY',
        createdAtMs: market.simulatedTimeMs,
      };
      const id = clientOrderIdFor('manual', sequence);
      sequence += 1;
      runtime.system.tell(runtime.directory.requireExecution(), { type: 'PlaceOrder', order: newOrder(intent, id, market.simulatedTimeMs) });
      return id;
    };
    const journaled = async (id: string): Promise<string[]> =>
      (await database.query<{ type: string }>("SELECT type FROM journal WHERE payload->'order'->>'clientOrderId' = $1 ORDER BY sequence", [id])).map(
        (row) => row.type,
      );

    const series = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await runtime.metrics.text())?.[1] ?? Number.NaN);
    const failClosed = (): Promise<number> => series('troupe_trading_halted\\{reason="journal"\\}');
    expect(await failClosed()).toBe(0);

    // 1. normal: placed, journaled before acting, filled
    const first = place();
    await eventually(
      async () => {
        feed();
        expect(await journaled(first)).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderUpdated', 'Fill']));
      },
      { timeoutMs: 10_000 },
    );
    await eventually(() => expect(runtime.portfolio()?.fillCount).toBe(1));

    // 2. the server dies: the next order is refused, fail closed, with a RiskAlert
    await server.kill();
    const refused = place();
    await eventually(() => expect(alerts.some((alert) => alert.code === 'journal-unavailable')).toBe(true), { timeoutMs: 10_000 });
    const markBefore = runtime.cache.lastPrice(symbol);
    for (let i = 0; i < 20; i += 1) feed();
    await runtime.whenIdle();
    // market data still reaches the actors
    expect(runtime.cache.lastPrice(symbol)).not.toBe(markBefore);
    const another = place(); // while down: refused at once
    await runtime.whenIdle();
    expect(runtime.portfolio()?.fillCount).toBe(1);
    // for alerting: fail closed, failed appends counted, every journal request timed
    expect(await failClosed()).toBe(1);
    expect(await series('troupe_journal_append_failures_total')).toBeGreaterThan(0);

    // 3. back: it resumes by itself, and what was journaled before is all there
    await server.restart();
    await eventually(() => expect(alerts.some((alert) => alert.code === 'journal-recovered')).toBe(true), { timeoutMs: 15_000 });
    const after = place();
    await eventually(
      async () => {
        feed();
        expect(await journaled(after)).toEqual(expect.arrayContaining(['OrderPlaced', 'Fill']));
      },
      { timeoutMs: 10_000 },
    );
    expect(await journaled(first)).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderUpdated', 'Fill']));
    expect(await journaled(refused)).toEqual([]);
    expect(await journaled(another)).toEqual([]);
    await eventually(() => expect(runtime.portfolio()?.fillCount).toBe(2));
    expect(await failClosed()).toBe(0);
    const failures = await series('troupe_journal_append_failures_total');
    // appends that worked (3 of them at least) and the failures: all timed
    expect(await series('troupe_dependency_latency_seconds_count\\{dependency="journal"\\}')).toBeGreaterThanOrEqual(failures + 3);
    await runtime.stop();
  }, 60_000);
});

describe('Redis down mid-run (the app, dedicated Redis)', () => {
  it('keeps trading on the durable path, says what is degraded (health, log, metric), and recovers when Redis is back', async () => {
    const [pg, redis] = await Promise.all([usePostgres(), useRedis({ dedicated: true })]);
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-redis-outage-'));
    const logs: { msg?: string; dependency?: string }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as { msg?: string });
          done();
        },
      }),
    );
    const config = loadConfig({
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      TROUPE_REDIS_KEY_PREFIX: redis.keyPrefix,
      PORT: '0',
      HOST: '127.0.0.1',
      TROUPE_DATA_DIR: dataDir,
      TROUPE_MARKET_SPEED: '300',
      // at 300x the churny demo strategy can lose its day's ₹50,000 and (rightly) trip the kill switch, which
      // would stop the trading this test waits for: risk limits are test/risk's subject
      TROUPE_RISK_MAX_DAILY_LOSS_RUPEES: '100000000',
      TROUPE_SYMBOLS: '20',
      TROUPE_LEASE_TTL_MS: '5000',
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: 'redis-outage-password',
    });
    const running = await startTroupe(config, log);
    const db = new PostgresDatabase(pg.url, { poolMin: 0, poolMax: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000 });
    const health = async (): Promise<{
      status: number;
      body: { status: string; checks: { persistence: { ok: boolean; journal: string; redis: string } } };
    }> => {
      const response = await fetch(`http://127.0.0.1:${running.port}/api/v1/health`);
      return { status: response.status, body: (await response.json()) as never };
    };
    const metric = async (pattern: RegExp): Promise<number> =>
      Number(pattern.exec(await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text())?.[1] ?? NaN);
    const placed = async (): Promise<{ count: number; maxFence: number }> => {
      const [row] = await db.query<{ count: number; max_fence: number | null }>(
        "SELECT count(*)::int AS count, max(fence) AS max_fence FROM journal WHERE type = 'OrderPlaced'",
      );
      return { count: row?.count ?? 0, maxFence: Number(row?.max_fence ?? 0) };
    };
    try {
      // 1. all up: trading, journal fenced with the lease token, Redis ok
      await eventually(async () => expect((await placed()).count).toBeGreaterThan(0), { timeoutMs: 15_000 });
      expect(await health()).toMatchObject({ status: 200, body: { checks: { persistence: { ok: true, journal: 'ok', redis: 'ok' } } } });
      expect(await metric(/^troupe_dependency_up\{dependency="redis"\} (\d+)/m)).toBe(1);
      // for alerting: Redis PINGs timed, the lease held (not a halt reason), the data directory's disk measured
      await eventually(async () => expect(await metric(/^troupe_dependency_latency_seconds_count\{dependency="redis"\} (\d+)/m)).toBeGreaterThan(0));
      expect(await metric(/^troupe_trading_halted\{reason="lease"\} (\d+)/m)).toBe(0);
      const [dfAvail, dfSize] = execFileSync('df', ['-B1', '--output=avail,size', dataDir], { encoding: 'utf8' })
        .trim()
        .split('\n')[1]!
        .trim()
        .split(/\s+/)
        .map(Number);
      const avail = await metric(/^troupe_data_dir_available_bytes\{path="[^"]+"\} (\d+)/m);
      expect(await metric(/^troupe_data_dir_size_bytes\{path="[^"]+"\} (\d+)/m)).toBe(dfSize);
      expect(Math.abs(avail - dfAvail!)).toBeLessThan(256 * 1024 * 1024); // other tests write meanwhile
      const tokenBefore = await metric(/^troupe_lease_fencing_token\{lease="portfolio\/paper"\} (\d+)/m);
      expect(tokenBefore).toBeGreaterThan(0);
      const fenceBefore = (await placed()).maxFence;
      expect(fenceBefore).toBeGreaterThan(0);
      expect(fenceBefore).toBeLessThanOrEqual(tokenBefore);

      // 2. Redis dies: degraded and said so, still ready, still trading through PostgreSQL
      await redis.kill();
      await eventually(async () => expect((await health()).body.checks.persistence.redis).toBe('degraded'), { timeoutMs: 10_000 });
      const down = await health();
      expect(down.status).toBe(200); // Redis is not needed to trade
      expect(down.body.checks.persistence).toMatchObject({ ok: true, journal: 'ok', redis: 'degraded' });
      expect(await metric(/^troupe_dependency_up\{dependency="redis"\} (\d+)/m)).toBe(0);
      expect(logs.some((entry) => entry.dependency === 'redis' && /redis is unreachable: trading continues on the durable path/.test(entry.msg ?? ''))).toBe(
        true,
      );
      const whileDown = (await placed()).count;
      const snapshotsAt = (await db.query<{ at: Date }>("SELECT at FROM actor_snapshots WHERE key = '/portfolios/paper'"))[0]?.at.getTime() ?? 0;
      await eventually(async () => expect((await placed()).count).toBeGreaterThan(whileDown + 2), { timeoutMs: 15_000 });
      await eventually(
        async () =>
          expect((await db.query<{ at: Date }>("SELECT at FROM actor_snapshots WHERE key = '/portfolios/paper'"))[0]?.at.getTime()).toBeGreaterThan(
            snapshotsAt,
          ),
        {
          timeoutMs: 15_000,
        },
      );
      expect(running.stats.fills).toBeGreaterThan(0);

      // 3. Redis is back (empty): ok again by itself; the lease is taken again with a greater token and orders carry it
      await redis.restart();
      await eventually(async () => expect(await health()).toMatchObject({ status: 200, body: { checks: { persistence: { ok: true, redis: 'ok' } } } }), {
        timeoutMs: 15_000,
      });
      await eventually(async () => expect(await metric(/^troupe_lease_fencing_token\{lease="portfolio\/paper"\} (\d+)/m)).toBeGreaterThan(tokenBefore), {
        timeoutMs: 15_000,
      });
      await eventually(async () => expect((await placed()).maxFence).toBe(await metric(/^troupe_lease_fencing_token\{lease="portfolio\/paper"\} (\d+)/m)), {
        timeoutMs: 15_000,
      });
      expect((await placed()).maxFence).toBeGreaterThan(fenceBefore);
      expect(await metric(/^troupe_dependency_up\{dependency="redis"\} (\d+)/m)).toBe(1);
      expect(await metric(/^troupe_lease_held\{lease="portfolio\/paper"\} (\d+)/m)).toBe(1);
      expect(logs.some((entry) => /redis is back/.test(entry.msg ?? ''))).toBe(true);
    } finally {
      await running.stop('test over');
      await db.close();
      await Promise.all([pg.stop(), redis.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
