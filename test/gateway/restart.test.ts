import { statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { inProcessGateway, startTroupe, type Running } from '../../src/app.js';
import type { GatewayInstance } from '../../src/gateway/gateway.js';
import { loadConfig } from '../../src/config/config.js';
import { base32Decode, totp } from '../../src/gateway/auth/totp.js';
import { secretKeyFile } from '../../src/config/secret-box.js';
import { clientOrderIdFor } from '../../src/model/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { suiteTroupeStore } from '../support/databases.js';

/** `npm start` in process (startTroupe) on real PostgreSQL, stopped and started again on the same database. */
const store = suiteTroupeStore('troupe-restart-');

let running: Running | undefined;
afterEach(async () => {
  await running?.stop('test over');
  running = undefined;
});

const ADMIN = { username: 'ops', password: 'restart-test-password' };

async function start(): Promise<Running> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: store().url,
    TROUPE_DATA_DIR: store().dataDir,
    TROUPE_SYMBOLS: '4',
    TROUPE_MARKET_SPEED: '20',
    TROUPE_RISK_MAX_ORDERS_PER_SECOND: '1000',
    TROUPE_RISK_MAX_ORDERS_PER_SECOND_PER_STRATEGY: '1000',
    ADMIN_USER: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
  });
  running = await startTroupe(config, silentLogger());
  return running;
}

async function stop(): Promise<void> {
  await running?.stop('restart');
  running = undefined;
}

async function login(app: GatewayInstance, totpCode?: string): Promise<{ authorization: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { ...ADMIN, ...(totpCode === undefined ? {} : { totpCode }) } });
  expect(response.statusCode, response.body).toBe(200);
  return { authorization: `Bearer ${response.json<{ accessToken: string }>().accessToken}` };
}

interface StrategyView {
  strategyId: string;
  kind: string;
  paused: boolean;
  state: string;
  config: Record<string, unknown>;
}

describe('what the API changes survives a restart (same database)', () => {
  it('strategies created, changed, paused and stopped through the API come back with their config and state; manual order ids never repeat', async () => {
    let app = inProcessGateway(await start());
    let headers = await login(app);
    const symbols = [...running!.runtime.instruments.keys()];
    const post = (url: string, payload?: Record<string, unknown>) => app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

    expect(
      (await post('/api/v1/strategies', { strategyId: 'ema-api', kind: 'ema-cross', config: { symbols: [symbols[0]], fastPeriod: 3, slowPeriod: 9 } }))
        .statusCode,
    ).toBe(201);
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/strategies/ema-api', headers, payload: { config: { quantity: 7 } } })).statusCode).toBe(200);
    expect((await post('/api/v1/strategies', { strategyId: 'rsi-api', kind: 'rsi-reversion', config: { symbols: [symbols[1]] } })).statusCode).toBe(201);
    expect((await post('/api/v1/strategies/rsi-api/pause')).json()).toMatchObject({ paused: true, state: 'paused' });
    expect((await post('/api/v1/strategies', { strategyId: 'brk-api', kind: 'breakout' })).statusCode).toBe(201);
    expect((await post('/api/v1/strategies/brk-api/stop')).json()).toMatchObject({ paused: true, state: 'stopped' });
    // the start-up strategy changed through the API: its row overrides the start-up config
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/strategies/ema-cross-1', headers, payload: { config: { quantity: 3 } } })).statusCode).toBe(200);

    // manual orders: numbered 1, 2 … from the database
    await eventually(() => expect(running!.runtime.cache.lastPrice(symbols[2]!)).toBeDefined(), { timeoutMs: 10_000 });
    const placed: string[] = [];
    for (let n = 0; n < 2; n += 1) {
      const order = await post('/api/v1/orders', { symbol: symbols[2], side: 'BUY', quantity: 1 });
      expect(order.statusCode, order.body).toBe(201);
      placed.push(order.json<{ clientOrderId: string }>().clientOrderId);
    }
    expect(placed).toEqual([clientOrderIdFor('manual', 1), clientOrderIdFor('manual', 2)]);
    // journaled before they reach the broker
    await eventually(async () => {
      const rows = await store().database.query<{ client_order_id: string }>("SELECT client_order_id FROM orders WHERE strategy_id = 'manual' ORDER BY id");
      expect(rows.map((row) => row.client_order_id)).toEqual(placed);
    });
    const before = (await app.inject({ url: '/api/v1/strategies', headers })).json<{ items: StrategyView[] }>().items;
    await stop();

    app = inProcessGateway(await start());
    headers = await login(app);
    const after = (await app.inject({ url: '/api/v1/strategies', headers })).json<{ items: StrategyView[] }>().items;
    const pick = (items: StrategyView[]) =>
      items
        .map(({ strategyId, kind, paused, state, config }) => ({ strategyId, kind, paused, state, config }))
        .sort((a, b) => a.strategyId.localeCompare(b.strategyId));
    expect(pick(after)).toEqual(pick(before));
    expect(pick(after).map(({ strategyId, state }) => `${strategyId}:${state}`)).toEqual([
      'brk-api:stopped',
      'ema-api:started',
      'ema-cross-1:started',
      'rsi-api:paused',
    ]);
    expect(after.find((strategy) => strategy.strategyId === 'ema-api')!.config).toMatchObject({
      symbols: [symbols[0]],
      fastPeriod: 3,
      slowPeriod: 9,
      quantity: 7,
    });
    expect(after.find((strategy) => strategy.strategyId === 'ema-cross-1')!.config).toMatchObject({ quantity: 3 });
    // a stopped strategy starts again on request, and that too is kept
    expect((await app.inject({ method: 'POST', url: '/api/v1/strategies/brk-api/start', headers })).json()).toMatchObject({ paused: false, state: 'started' });

    await eventually(() => expect(running!.runtime.cache.lastPrice(symbols[2]!)).toBeDefined(), { timeoutMs: 10_000 });
    const third = await app.inject({ method: 'POST', url: '/api/v1/orders', headers, payload: { symbol: symbols[2], side: 'SELL', quantity: 1 } });
    expect(third.statusCode, third.body).toBe(201);
    expect(third.json()).toMatchObject({ clientOrderId: clientOrderIdFor('manual', 3), intentId: 'manual:3' });
    await eventually(async () => {
      const rows = await store().database.query<{ client_order_id: string }>("SELECT client_order_id FROM orders WHERE strategy_id = 'manual' ORDER BY id");
      expect(rows.map((row) => row.client_order_id)).toEqual([...placed, clientOrderIdFor('manual', 3)]);
    });
    const stored = await store().database.query<{ id: string; state: string }>('SELECT id, state FROM strategies ORDER BY id');
    expect(stored).toEqual([
      { id: 'brk-api', state: 'started' },
      { id: 'ema-api', state: 'started' },
      { id: 'ema-cross-1', state: 'started' },
      { id: 'rsi-api', state: 'paused' },
    ]);
  });

  it('TOTP secrets are encrypted at rest (AES-256-GCM, key file 0600 in the data directory) and two-factor login works across a restart', async () => {
    let app = inProcessGateway(await start());
    let headers = await login(app);
    const { secret } = (await app.inject({ method: 'POST', url: '/api/v1/auth/totp/enroll', headers })).json<{ secret: string }>();
    const key = base32Decode(secret);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/totp/confirm', headers, payload: { code: totp(key, Date.now()) } })).json()).toEqual({
      totpEnabled: true,
    });

    const [row] = await store().database.query<{ totp_secret: string }>('SELECT totp_secret FROM users WHERE username = $1', [ADMIN.username]);
    expect(row!.totp_secret).toMatch(/^v1\./);
    expect(row!.totp_secret).not.toContain(secret);
    expect(Buffer.from(row!.totp_secret.split('.')[2]!, 'base64url').toString('latin1')).not.toContain(secret);
    expect(statSync(secretKeyFile(store().dataDir)).mode & 0o777).toBe(0o600);
    await stop();

    app = inProcessGateway(await start());
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN })).json()).toMatchObject({ error: { code: 'totp-required' } });
    headers = await login(app, totp(key, Date.now() + 30_000));
    expect((await app.inject({ url: '/api/v1/auth/me', headers })).json()).toMatchObject({ name: `user:${ADMIN.username}` });
    // a secret stored in clear by an earlier version is sealed at the next start, and still works
    await store().database.query('UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE username = $2', [secret, ADMIN.username]);
    await stop();
    app = inProcessGateway(await start());
    const [resealed] = await store().database.query<{ totp_secret: string }>('SELECT totp_secret FROM users WHERE username = $1', [ADMIN.username]);
    expect(resealed!.totp_secret).toMatch(/^v1\./);
    await login(app, totp(key, Date.now()));
  });
});
