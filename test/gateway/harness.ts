import type { GatewayConfig } from '../../src/config/config.js';
import { buildGateway, type GatewayDeps, type GatewayInstance } from '../../src/gateway/gateway.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { instrument, ticksFromPrices } from '../support/builders.js';
import { gatewayFacade } from './port-mode.js';

export const ADMIN = { username: 'root', password: 'correct horse battery' };

export const gatewayConfig = (overrides: Partial<GatewayConfig> = {}): GatewayConfig => ({
  adminUser: ADMIN.username,
  adminPassword: ADMIN.password,
  jwtSecret: 'a-test-secret-that-is-long-enough-123456',
  accessTokenTtlSec: 900,
  refreshTokenTtlSec: 3600,
  rateLimitPerMinute: 100_000,
  rateLimitPerRole: {},
  wsHeartbeatMs: 30_000,
  credentialRateLimit: { perIpPerMinute: 100_000, perUserPerMinute: 100_000 },
  ...overrides,
});

export interface Harness {
  readonly app: GatewayInstance;
  readonly runtime: Runtime;
  readonly clock: ManualClock;
  /** Feeds prices for a symbol and waits for the tree to settle. */
  feed(symbol: string, prices: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

/** A runtime (3 symbols, EMA cross) and a gateway over it; not listening. `runtimeOptions` override the runtime's (e.g. its logger). */
export async function startHarness(
  config: Partial<GatewayConfig> = {},
  extra: Partial<GatewayDeps> = {},
  runtimeOptions: Partial<RuntimeOptions> = {},
): Promise<Harness> {
  const clock = new ManualClock(Date.parse('2026-05-20T04:00:00Z'));
  const instruments = ['INFY', 'TCS', 'SBIN'].map((symbol, index) => instrument(symbol, 100_000, (index + 1) * 256 + 1));
  const runtime = new Runtime({
    instruments,
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 5 } }],
    portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
    clock,
    // a resting limit far below the market is what the tests want: lift the fat-finger check
    riskLimits: { maxOrdersPerSecond: 1000, maxOrdersPerSecondPerStrategy: 1000, fatFingerBps: 5000 },
    ...runtimeOptions,
  });
  runtime.start();
  runtime.metrics.attachBus(runtime.bus);
  const facade = await gatewayFacade(runtime);
  const app = await buildGateway({
    runtime: facade.facade,
    config: gatewayConfig(config),
    startedAtMs: Date.now(),
    feedState: () => ({ connected: true, lastTickAgeMs: 5 }),
    allowFaultInjection: true,
    ...extra,
  });
  let lastMs = clock.nowMs();
  return {
    app,
    runtime,
    clock,
    async feed(symbol, prices) {
      for (const tick of ticksFromPrices(symbol, prices, lastMs + 1000)) {
        clock.advanceTo(tick.exchangeTimeMs);
        lastMs = tick.exchangeTimeMs;
        runtime.offerTicks(tick.symbol, [tick]);
        await runtime.whenIdle();
      }
      await facade.sync();
    },
    async close() {
      await app.close();
      facade.close();
      await runtime.stop();
    },
  };
}

/** Logs in and returns the bearer header. */
export async function login(
  app: GatewayInstance,
  username = ADMIN.username,
  password = ADMIN.password,
): Promise<{ authorization: string; refreshToken: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  const body = response.json<{ accessToken: string; refreshToken: string }>();
  return { authorization: `Bearer ${body.accessToken}`, refreshToken: body.refreshToken };
}

/** An admin makes a user a member of a portfolio (traders act, viewers read only there). */
export async function addMember(
  app: GatewayInstance,
  adminAuthorization: string,
  portfolioId: string,
  userId: string,
  role: 'owner' | 'trader' | 'viewer',
): Promise<void> {
  const response = await app.inject({
    method: 'PUT',
    url: `/api/v1/portfolios/${portfolioId}/members/${userId}`,
    headers: { authorization: adminAuthorization },
    payload: { role },
  });
  if (response.statusCode !== 200) throw new Error(`adding a member failed: ${response.statusCode} ${response.body}`);
}

/** The `/metrics` text of a gateway over a fresh runtime with the process and Node.js default metrics, as `npm start` builds them. */
export async function startupExposition(): Promise<string> {
  const runtime = new Runtime({
    instruments: [instrument('INFY', 100_000, 257)],
    strategies: [],
    portfolio: { portfolioId: 'paper', initialCashPaise: 1_000_000 },
    clock: new ManualClock(0),
    metrics: new Metrics(),
  });
  runtime.start();
  const app = await buildGateway({
    runtime: runtime.facade,
    config: gatewayConfig(),
    startedAtMs: Date.now(),
    feedState: () => ({ connected: true, lastTickAgeMs: 1 }),
  });
  try {
    return (await app.inject({ url: '/metrics' })).body;
  } finally {
    await app.close();
    await runtime.stop();
  }
}
