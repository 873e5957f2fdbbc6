/**
 * The server of `test/e2e/ws-flood.test.ts`, run as a child process so that its memory (RSS)
 * and its event loop are its own: a runtime (3 instruments, no strategies) and the real
 * gateway listening on loopback with the production stream defaults. It rests 500 LIMIT
 * orders first (so a snapshot of every topic is some 350 KB, as in issue #15), prints
 * `{"port":…}` on stdout, and answers `rss` on its IPC channel with its resident set size.
 */
import { buildGateway, listenGateway } from '../../../src/gateway/gateway.js';
import { ManualClock } from '../../../src/runtime/clock.js';
import { Runtime } from '../../../src/runtime/runtime.js';
import { instrument, ticksFromPrices } from '../../support/builders.js';

const ADMIN = { username: 'root', password: 'correct horse battery staple' };
const RESTING_ORDERS = 500;

const clock = new ManualClock(Date.parse('2026-05-20T04:00:00Z'));
const instruments = ['INFY', 'TCS', 'SBIN'].map((symbol, index) => instrument(symbol, 100_000, (index + 1) * 256 + 1));
const runtime = new Runtime({
  instruments,
  strategies: [],
  portfolio: { portfolioId: 'paper', initialCashPaise: 1_000_000_000_00 },
  clock,
  riskLimits: {
    maxOrdersPerSecond: 100_000,
    maxOrdersPerSecondPerStrategy: 100_000,
    fatFingerBps: 9000,
    maxGrossExposurePaise: 1e15,
    maxNetExposurePaise: 1e15,
    maxPositionQuantity: 10_000_000,
  },
});
runtime.start();
for (const tick of ticksFromPrices('INFY', [100_000, 100_100, 100_000], clock.nowMs() + 1000)) {
  clock.advanceTo(tick.exchangeTimeMs);
  runtime.offerTicks(tick.symbol, [tick]);
  await runtime.whenIdle();
}
const app = await buildGateway({
  runtime: runtime.facade,
  config: {
    adminUser: ADMIN.username,
    adminPassword: ADMIN.password,
    jwtSecret: 'a-test-secret-that-is-long-enough-123456',
    accessTokenTtlSec: 900,
    refreshTokenTtlSec: 3600,
    rateLimitPerMinute: 1_000_000,
    rateLimitPerRole: {},
    wsHeartbeatMs: 30_000,
  },
  startedAtMs: Date.now(),
  feedState: () => ({ connected: true, lastTickAgeMs: 5 }),
});
const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN });
const authorization = `Bearer ${login.json<{ accessToken: string }>().accessToken}`;
for (let i = 0; i < RESTING_ORDERS; i += 1) {
  const placed = await app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: { authorization },
    payload: {
      symbol: 'INFY',
      side: 'BUY',
      quantity: 1 + (i % 7),
      orderType: 'LIMIT',
      limitPricePaise: 90_000 + (i % 50) * 5,
      product: 'CNC',
      reason:
        `resting order ${i} of the flood test: a long reason so that a snapshot of every topic weighs what it did in the report of issue #15, about 350 KB`.padEnd(
          190,
          '.',
        ),
    },
  });
  if (placed.statusCode !== 201) throw new Error(`resting order ${i}: ${placed.statusCode} ${placed.body}`);
}
await runtime.whenIdle();
const port = await listenGateway(app, 0, '127.0.0.1');
process.on('message', (message) => {
  if (message === 'rss') process.send?.({ rss: process.memoryUsage().rss });
});
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => runtime.stop())
    .finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ port, username: ADMIN.username, password: ADMIN.password })}\n`);
