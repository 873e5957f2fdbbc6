process.env.TZ = 'Asia/Kolkata';
/**
 * `npm start -- --broker kite` in process (startTroupe with TROUPE_BROKER=kite) against the simulator, on real
 * PostgreSQL, stopped and started again: what paper mode does around the tree, Kite mode does
 * too — single-writer leases with fencing tokens on every journal write (a second process is
 * refused), the journal watermark, and strategies made through the API restored at start.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inProcessGateway, startTroupe, type Running } from '../../src/app.js';
import type { GatewayInstance } from '../../src/gateway/gateway.js';
import { loadConfig } from '../../src/config/config.js';
import { LeaseHeldError } from '../../src/persistence/lease.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { KiteSimulator } from '../../src/sim/index.js';
import { API_KEY, API_SECRET, eventually, login as simLogin, startSimulator } from '../sim/support.js';
import { suiteTroupeStore } from '../support/databases.js';

const store = suiteTroupeStore('troupe-kite-parity-');
let sim: KiteSimulator;
let accessToken: string;
beforeAll(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 50, ticksPerSecond: 200, rateLimits: {} });
  accessToken = (await simLogin(sim)).accessToken;
}, 60_000);
afterAll(async () => {
  await sim?.close();
});

let running: Running | undefined;
afterEach(async () => {
  await running?.stop('test over');
  running = undefined;
});

const ADMIN = { username: 'ops', password: 'kite-parity-test-password' };
const config = () =>
  loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: store().url,
    TROUPE_DATA_DIR: store().dataDir,
    TROUPE_BROKER: 'kite',
    TROUPE_SYMBOLS: '3',
    TROUPE_RISK_MAX_ORDERS_PER_SECOND: '1000',
    TROUPE_RISK_MAX_ORDERS_PER_SECOND_PER_STRATEGY: '1000',
    // the default strategy trades the simulated market all along: a daily-loss kill switch would pause it
    TROUPE_RISK_MAX_DAILY_LOSS_RUPEES: '100000000',
    KITE_API_KEY: API_KEY,
    KITE_API_SECRET: API_SECRET,
    KITE_ACCESS_TOKEN: accessToken,
    KITE_ROOT: sim.url,
    KITE_TICKER_URL: sim.wsUrl,
    KITE_POLL_MS: '200',
    ADMIN_USER: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
  });

async function start(): Promise<Running> {
  running = await startTroupe(config(), silentLogger());
  return running;
}

async function login(app: GatewayInstance): Promise<{ authorization: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN });
  expect(response.statusCode, response.body).toBe(200);
  return { authorization: `Bearer ${response.json<{ accessToken: string }>().accessToken}` };
}

const fences = async (): Promise<Map<string, number>> =>
  new Map(
    (await store().database.query<{ name: string; token: string }>('SELECT name, token::text AS token FROM lease_fences')).map((row) => [
      row.name,
      Number(row.token),
    ]),
  );

describe('Kite mode does what paper mode does around the tree', () => {
  it('takes the portfolio and strategy leases before recovery, fences every journal write, refuses a second process, moves the journal watermark', async () => {
    const first = await start();
    const leased = await fences();
    expect([...leased.keys()].sort()).toEqual(['portfolio/kite', 'strategy/ema-cross-1']);

    // a second process on the same database is refused before it recovers or trades anything
    await expect(startTroupe(config(), silentLogger())).rejects.toBeInstanceOf(LeaseHeldError);

    // an order through the API: journaled with this process's fencing token
    const headers = await login(inProcessGateway(first));
    const symbol = [...first.runtime.instruments.keys()][0]!;
    await eventually(() => expect(first.runtime.cache.lastPrice(symbol)).toBeDefined(), 10_000);
    const order = await inProcessGateway(first).inject({ method: 'POST', url: '/api/v1/orders', headers, payload: { symbol, side: 'BUY', quantity: 1 } });
    expect(order.statusCode, order.body).toBe(201);
    await eventually(async () => {
      const rows = await store().database.query<{ fence: string | null }>("SELECT fence::text AS fence FROM journal WHERE stream = 'execution/kite'");
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.fence !== null && Number(row.fence) === leased.get('portfolio/kite'))).toBe(true);
    }, 10_000);
    await running!.stop('restart');
    running = undefined;

    // stop moved the watermark of the Kite execution stream (never past a fill the portfolio's
    // durable snapshot lacks, so it may stay a little behind the end) and released the leases
    const [mark] = await store().database.query<{ sequence: string }>(
      "SELECT sequence::text AS sequence FROM journal_checkpoints WHERE stream = 'execution/kite'",
    );
    const [last] = await store().database.query<{ sequence: string }>("SELECT max(sequence)::text AS sequence FROM journal WHERE stream = 'execution/kite'");
    expect(mark?.sequence).toBeDefined();
    expect(Number(mark!.sequence)).toBeGreaterThan(0);
    expect(Number(mark!.sequence)).toBeLessThanOrEqual(Number(last!.sequence));

    // the next process takes the leases with higher tokens and recovers from the watermark
    await start();
    const again = await fences();
    expect(again.get('portfolio/kite')).toBeGreaterThan(leased.get('portfolio/kite')!);
    expect(again.get('strategy/ema-cross-1')).toBeGreaterThan(leased.get('strategy/ema-cross-1')!);
  }, 90_000);

  it('re-creates the strategies made through the API at start, with their config, pause state and a lease each', async () => {
    let app = inProcessGateway(await start());
    let headers = await login(app);
    const symbols = [...running!.runtime.instruments.keys()];
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/strategies',
      headers,
      payload: { strategyId: 'ema-api', kind: 'ema-cross', config: { symbols: [symbols[0]], fastPeriod: 3, slowPeriod: 9 } },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/strategies',
          headers,
          payload: { strategyId: 'rsi-api', kind: 'rsi-reversion', config: { symbols: [symbols[1]] } },
        })
      ).statusCode,
    ).toBe(201);
    expect((await app.inject({ method: 'POST', url: '/api/v1/strategies/rsi-api/pause', headers })).json()).toMatchObject({ paused: true, state: 'paused' });
    await running!.stop('restart');
    running = undefined;

    app = inProcessGateway(await start());
    headers = await login(app);
    const items = (await app.inject({ url: '/api/v1/strategies', headers })).json<{
      items: { strategyId: string; state: string; config: Record<string, unknown> }[];
    }>().items;
    expect(items.map(({ strategyId }) => strategyId).sort()).toEqual(['ema-api', 'ema-cross-1', 'rsi-api']);
    expect(
      items
        .filter(({ strategyId }) => strategyId !== 'ema-cross-1')
        .map(({ strategyId, state }) => `${strategyId}:${state}`)
        .sort(),
    ).toEqual(['ema-api:started', 'rsi-api:paused']);
    expect(items.find((strategy) => strategy.strategyId === 'ema-api')!.config).toMatchObject({ symbols: [symbols[0]], fastPeriod: 3, slowPeriod: 9 });
    expect([...(await fences()).keys()].sort()).toEqual(['portfolio/kite', 'strategy/ema-api', 'strategy/ema-cross-1', 'strategy/rsi-api']);
  }, 90_000);
});
