process.env.TZ = 'Asia/Kolkata';
/**
 * One composition root: paper and Kite mode start through the same `startTroupe(config)` and
 * differ only in their broker wiring, so what surrounds the tree is the same in both — the
 * default strategy and its leases, Redis for the gateway's rate limits and the hot snapshots (as
 * health and `troupe_dependency_up` report it), the first admin's generated password handed to
 * the caller, and a failed start that leaves nothing held. Kite mode runs against the simulator.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis } from '../../src/persistence/redis/redis-key-value.js';
import { inProcessGateway, startTroupe, type Running } from '../../src/app.js';
import { loadConfig, type TroupeConfig } from '../../src/config/config.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { KiteSimulator } from '../../src/sim/index.js';
import { API_KEY, API_SECRET, eventually, startSimulator } from '../sim/support.js';
import { usePostgres, useRedis, type PostgresService, type RedisService } from '../support/services.js';

let sim: KiteSimulator;
let redis: RedisService;
let postgres: PostgresService;
const databases: string[] = [];
const dataDirs: string[] = [];
beforeAll(async () => {
  [sim, redis, postgres] = await Promise.all([startSimulator({ heartbeatIntervalMs: 50, ticksPerSecond: 50 }), useRedis(), usePostgres()]);
}, 60_000);
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
  if (postgres) {
    const admin = new PostgresDatabase(postgres.url);
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
    await postgres.stop();
  }
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A database of its own on the file's PostgreSQL server (the service hands one database per file). */
async function freshDatabase(): Promise<string> {
  const name = `troupe_modes_${databases.length}_${Date.now().toString(36)}`;
  const admin = new PostgresDatabase(postgres.url);
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  databases.push(name);
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}

type Mode = 'paper' | 'kite';

/** A fresh database and data directory; Redis under a prefix of the mode's own; no ADMIN_PASSWORD (the admin's is generated). */
async function configFor(mode: Mode, extra: Record<string, string> = {}): Promise<{ config: () => TroupeConfig; database: string; keyPrefix: string }> {
  const database = await freshDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), `troupe-modes-${mode}-`));
  dataDirs.push(dataDir);
  const keyPrefix = `${redis.keyPrefix}${mode}:`;
  const common = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database,
    REDIS_URL: redis.url,
    TROUPE_REDIS_KEY_PREFIX: keyPrefix,
    TROUPE_DATA_DIR: dataDir,
    TROUPE_SYMBOLS: '3',
    TROUPE_BROKER: mode,
  };
  const kite = { KITE_API_KEY: API_KEY, KITE_API_SECRET: API_SECRET, KITE_ROOT: sim.url, KITE_TICKER_URL: sim.wsUrl, KITE_POLL_MS: '500' };
  // a request token is good for one session: a fresh one per start
  return {
    config: () => loadConfig({ ...common, ...(mode === 'kite' ? { ...kite, KITE_REQUEST_TOKEN: sim.admin.createRequestToken() } : {}), ...extra }),
    database,
    keyPrefix,
  };
}

async function leases(url: string): Promise<string[]> {
  const db = new PostgresDatabase(url);
  try {
    return (await db.query<{ name: string }>('SELECT name FROM lease_fences ORDER BY name')).map((row) => row.name);
  } finally {
    await db.close();
  }
}

async function redisKeys(pattern: string): Promise<string[]> {
  const client = await connectRedis(redis.url, { keyPrefix: '' });
  try {
    return await client.keys(pattern);
  } finally {
    client.disconnect();
  }
}

describe.each<Mode>(['paper', 'kite'])('startTroupe in %s mode', (mode) => {
  it('runs the default strategy under leases, with Redis rate limits and hot snapshots, and hands over the generated admin password', async () => {
    const { config, database, keyPrefix } = await configFor(mode);
    const running: Running = await startTroupe(config(), silentLogger());
    try {
      expect(running.mode).toBe(mode);
      // the strategy every start runs, and the single-writer leases of the mode's portfolio and that strategy
      expect(await leases(database)).toEqual([`portfolio/${mode}`, 'strategy/ema-cross-1']);
      // the first admin's password goes to the caller (main.ts shows it once or writes an owner-only file), never to stderr or the log
      expect(running.generatedAdmin?.username).toBe('admin');
      const login = await inProcessGateway(running).inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: running.generatedAdmin!.password },
      });
      expect(login.statusCode, login.body).toBe(200);
      const authorization = `Bearer ${login.json<{ accessToken: string }>().accessToken}`;
      const strategies = await inProcessGateway(running).inject({ url: '/api/v1/strategies', headers: { authorization } });
      expect(strategies.statusCode, strategies.body).toBe(200);
      expect(JSON.stringify(strategies.json())).toContain('"ema-cross-1"');
      // rate-limit counters live in Redis (shared by every gateway), under this run's prefix
      expect(strategies.headers['ratelimit-remaining']).toBeDefined();
      expect((await redisKeys(`${keyPrefix}ratelimit:*`)).length).toBeGreaterThan(0);
      // Redis is the hot tier of snapshots: health and metrics say so in either mode
      expect(running.persistence()).toEqual({ journal: 'ok', redis: 'ok' });
      const health = await inProcessGateway(running).inject({ url: '/api/v1/health' });
      expect(health.json<{ checks: { persistence: unknown } }>().checks.persistence).toMatchObject({ journal: 'ok', redis: 'ok' });
      await eventually(async () => {
        const metrics = (await inProcessGateway(running).inject({ url: '/metrics' })).body;
        expect(metrics).toMatch(/^troupe_dependency_up\{dependency="redis"\} 1$/m);
        expect(metrics).toMatch(/^troupe_dependency_up\{dependency="journal"\} 1$/m);
      }, 10_000);
      // market data reaches the tree from the mode's feed
      await eventually(() => expect(running.stats.ticks).toBeGreaterThan(0), 20_000);
    } finally {
      await running.stop('test over');
    }
    // stopped: the leases are released, a new process takes them
    const again = await startTroupe(config(), silentLogger());
    await again.stop('test over');
  }, 180_000);

  it('a start that fails once the stores are open (the port is taken) closes them and releases the leases', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const { config } = await configFor(mode, { PORT: String(port), ADMIN_USER: 'ops', ADMIN_PASSWORD: 'broker-modes-test-password' });
    try {
      await expect(startTroupe(config(), silentLogger())).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // nothing held: the same database and data directory start at once on a free port
    const running = await startTroupe({ ...config(), port: 0 }, silentLogger());
    await running.stop('test over');
  }, 180_000);
});
