/**
 * The gateway in a worker thread (`TROUPE_GATEWAY_THREAD=worker`, #19): the same API over HTTP
 * and WebSocket as on the trading thread, served by a worker that reaches the runtime only
 * through the facade across a message port and opens its own PostgreSQL pool and Redis client.
 * Checked against the runtime on the host thread: a manual order answered once journaled is in
 * the runtime's book and in the database, events reach a WebSocket client, the kill switch and
 * the feed's pause act on the host, the ML routes reach the host's ML service, `/metrics` merges
 * both threads' registries family by family, the worker's log lines land in the host's log, and
 * `stop` closes the API before the tree.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTroupe, type Running } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { eventually } from '../../src/actors/core/index.js';
import { usePostgres, useRedis, type PostgresService, type RedisService } from '../support/services.js';

let postgres: PostgresService;
let redis: RedisService;
let running: Running;
let base: string;
let token: string;
const logLines: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'troupe-gateway-worker-'));

beforeAll(async () => {
  [postgres, redis] = await Promise.all([usePostgres(), useRedis()]);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    TROUPE_REDIS_KEY_PREFIX: `${redis.keyPrefix}worker:`,
    TROUPE_DATA_DIR: dataDir,
    TROUPE_SYMBOLS: '3',
    TROUPE_GATEWAY_THREAD: 'worker',
    TROUPE_RATE_LIMIT_ROLES: 'admin=5000',
  });
  // no ADMIN_PASSWORD: the worker creates the first admin and the host hands its password over
  running = await startTroupe(config, createLogger('info', { write: (line: string) => logLines.push(line) }));
  base = `http://127.0.0.1:${running.port}`;
  const admin = running.generatedAdmin;
  if (admin === undefined) throw new Error('no generated admin handed over by the worker');
  const login = await api<{ accessToken: string }>('POST', '/api/v1/auth/login', { username: admin.username, password: admin.password });
  expect(login.status).toBe(200);
  token = login.body.accessToken;
}, 120_000);

afterAll(async () => {
  await running?.stop('test over');
  await redis?.stop();
  await postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text) as T };
}

describe('the gateway in a worker thread', () => {
  it('runs the API off the trading thread: no gateway on this thread, health from the host readings', async () => {
    expect(running.gateway).toBeUndefined();
    const health = await api<{ status: string; checks: { persistence: { journal: string; redis: string }; marketData: { ok: boolean } } }>(
      'GET',
      '/api/v1/health',
    );
    expect(health.status).toBe(200);
    expect(health.body.checks.persistence).toMatchObject({ journal: 'ok', redis: 'ok' });
    expect(health.body.checks.marketData.ok).toBe(true);
  });

  it('answers a manual order once journaled: the runtime has it and so does the database', async () => {
    const symbol = running.runtime.facade.description.instruments[0]!.symbol;
    const placed = await api<{ clientOrderId: string; status: string }>('POST', '/api/v1/orders', { symbol, side: 'BUY', quantity: 1 });
    expect(placed.status).toBe(201);
    const { clientOrderId } = placed.body;
    expect((await running.runtime.facade.orders()).map((order) => order.clientOrderId)).toContain(clientOrderId);
    const db = new PostgresDatabase(postgres.url);
    try {
      const rows = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM journal WHERE payload::text LIKE $1`, [`%${clientOrderId}%`]);
      expect(Number(rows[0]!.n)).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
    const listed = await api<{ items: { clientOrderId: string }[] }>('GET', '/api/v1/orders');
    expect(listed.body.items.map((order) => order.clientOrderId)).toContain(clientOrderId);
  });

  it('streams the runtime events to a WebSocket client and counts it in the merged metrics', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${running.port}/api/v1/stream`);
    const messages: { type: string; topic?: string }[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as { type: string }));
    try {
      await once(socket, 'open');
      socket.send(JSON.stringify({ type: 'auth', token }));
      socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders'] }));
      await eventually(() => expect(messages.some((message) => message.type === 'subscribed')).toBe(true), { timeoutMs: 10_000 });
      const symbol = running.runtime.facade.description.instruments[1]!.symbol;
      const placed = await api<{ clientOrderId: string }>('POST', '/api/v1/orders', { symbol, side: 'BUY', quantity: 2 });
      expect(placed.status).toBe(201);
      await eventually(() => expect(JSON.stringify(messages)).toContain(placed.body.clientOrderId), { timeoutMs: 10_000 });
      const metrics = await api<string>('GET', '/metrics');
      expect(metrics.body).toMatch(/^troupe_ws_clients 1$/m);
    } finally {
      socket.terminate();
    }
  });

  it('merges /metrics family by family: requests from the worker, ticks and the process from the host, each family once', async () => {
    const text = (await api<string>('GET', '/metrics')).body;
    const helps = text.split('\n').filter((line) => line.startsWith('# HELP '));
    const names = helps.map((line) => line.split(' ')[2]);
    expect(new Set(names).size).toBe(names.length);
    expect(text).toMatch(/^troupe_http_requests_total\{method="POST",route="\/api\/v1\/auth\/login",status="200"\} [1-9]/m);
    expect(text).toMatch(/^troupe_auth_logins_total\{outcome="ok"\} 1$/m);
    const ticks = Number(/^troupe_ticks_total\{source="synthetic"\} (\d+)$/m.exec(text)?.[1]);
    expect(ticks).toBeGreaterThan(0);
    expect(text).toMatch(/^troupe_process_process_resident_memory_bytes [1-9]/m);
    const json = await api<{ metrics: Record<string, { values: { labels: Record<string, string>; value: number }[] }> }>('GET', '/api/v1/metrics');
    expect(json.status, JSON.stringify(json.body).slice(0, 500)).toBe(200);
    expect(json.body.metrics.troupe_auth_logins_total?.values).toEqual([{ labels: { outcome: 'ok' }, value: 1 }]);
    expect(json.body.metrics.troupe_ticks_total?.values[0]?.value).toBeGreaterThan(0);
  });

  it('acts on the host: the kill switch halts the runtime, the feed pause stops its ticks', async () => {
    const engaged = await api<{ engaged: boolean }>('POST', '/api/v1/kill-switch', { reason: 'worker drill' });
    expect(engaged.body.engaged).toBe(true);
    expect((await running.runtime.facade.riskReport()).killSwitch).not.toBeNull();
    const reset = await api<{ reset: boolean }>('POST', '/api/v1/risk/kill-switch/reset');
    expect(reset.body.reset).toBe(true);
    expect((await running.runtime.facade.riskReport()).killSwitch).toBeNull();
    const paused = await api<{ paused: boolean }>('PUT', '/api/v1/market/feed', { paused: true });
    expect(paused.body.paused).toBe(true);
    // the host's feed stops: its last tick ages (read through the worker's mirror of the host readings)
    await eventually(
      async () => expect((await api<{ lastTickAgeMs: number | null }>('GET', '/api/v1/market/feed')).body.lastTickAgeMs).toBeGreaterThanOrEqual(500),
      { timeoutMs: 10_000 },
    );
    const ticks = running.stats.ticks;
    expect((await api<{ paused: boolean }>('PUT', '/api/v1/market/feed', { paused: false })).body.paused).toBe(false);
    await eventually(() => expect(running.stats.ticks).toBeGreaterThan(ticks), { timeoutMs: 10_000 });
  });

  it("reaches the host's ML service: the registry, the status, a refusal with its status code", async () => {
    const models = await api<{ items: unknown[] }>('GET', '/api/v1/ml/models');
    expect(models.status).toBe(200);
    expect(models.body.items).toEqual([]);
    const status = await api<{ mode: string; retraining: { running: boolean } }>('GET', '/api/v1/ml/status');
    expect(status.body).toMatchObject({ mode: 'auto', retraining: { running: false } });
    expect((await api('POST', '/api/v1/ml/models/no-such-model/promote')).status).toBe(404);
    expect((await api('POST', '/api/v1/ml/rollback')).status).toBe(409);
  });

  it("writes the worker's log lines to the host's log, marked as the gateway thread's", () => {
    const gatewayLines = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['troupe.context.thread'] === 'gateway');
    expect(gatewayLines.some((line) => String(line.message).includes('TROUPE_JWT_SECRET is not set'))).toBe(true);
  });
});

describe('TROUPE_GATEWAY_THREAD', () => {
  it('is main by default; worker needs PostgreSQL; anything else is refused', () => {
    expect(loadConfig({}).gateway.thread).toBe('main');
    expect(() => loadConfig({ TROUPE_GATEWAY_THREAD: 'worker' })).toThrow(ConfigError);
    expect(() => loadConfig({ TROUPE_GATEWAY_THREAD: 'worker' })).toThrow(/needs PostgreSQL \(DATABASE_URL\)/);
    expect(() => loadConfig({ TROUPE_GATEWAY_THREAD: 'process', DATABASE_URL: 'postgres://x@127.0.0.1/y' })).toThrow(/must be main or worker/);
  });
});

describe('stopping', () => {
  it('closes the API before the tree: the port refuses connections once stop resolves', async () => {
    const port = running.port;
    await running.stop('stop test');
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });
});
