import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../../src/gateway/gateway.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { promtool } from '../support/prometheus-tools.js';
import { instrument } from '../support/builders.js';
import { gatewayConfig, login, startHarness, type Harness } from './harness.js';

let harness: Harness;
let bin: string;
beforeAll(async () => {
  bin = promtool();
  harness = await startHarness();
}, 900_000);
afterAll(async () => {
  await harness.close();
});

describe('/metrics', () => {
  it('passes `promtool check metrics` (format and lint) with traffic in every family', async () => {
    const { app } = harness;
    // make the metrics carry values: ticks, fills, an order, requests of several statuses, a failed login
    await harness.feed('INFY', [1000, 990, 980, 970, 1000, 1040, 1080, 1120]);
    const { authorization } = await login(app);
    await app.inject({ method: 'POST', url: '/api/v1/orders', headers: { authorization }, payload: { symbol: 'TCS', side: 'BUY', quantity: 1 } });
    await app.inject({ url: '/api/v1/positions', headers: { authorization } });
    await app.inject({ url: '/api/v1/nothing' });
    await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'ghost', password: 'x' } });
    const response = await app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(text).toContain('troupe_');
    const check = spawnSync(bin, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const problems = `${check.stdout}${check.stderr}`.trim();
    expect(problems, `promtool check metrics said:\n${problems}`).toBe('');
    expect(check.status).toBe(0);
  });

  it('passes with the process and Node.js default metrics that `npm start` adds', async () => {
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
    const text = (await app.inject({ url: '/metrics' })).body;
    await app.close();
    await runtime.stop();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(/^troupe_process_nodejs_active_handles\{/m);
    const check = spawnSync(bin, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const problems = `${check.stdout}${check.stderr}`.trim();
    expect(problems, `promtool check metrics said:\n${problems}`).toBe('');
    expect(check.status).toBe(0);
  });
});
