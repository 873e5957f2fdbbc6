/**
 * Low items of issue #15 (item 8), each against the gateway as built: bodies are not coerced
 * (money and quantities are numbers as sent), every response carries the security headers,
 * `/metrics` may ask for a bearer token, and a 403 is labelled `forbidden`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { ADMIN, login, startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('request bodies are not coerced', () => {
  it('a quantity or a price sent as a boolean, an array or a string is refused with the field named; a number is placed; query strings still coerce', async () => {
    harness = await startHarness();
    await harness.feed('INFY', [100_000, 100_100]);
    const { authorization } = await login(harness.app);
    const place = (fields: Record<string, unknown>) =>
      harness!.app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { authorization },
        payload: { symbol: 'INFY', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPricePaise: 95_000, ...fields },
      });
    for (const [field, value] of [
      ['quantity', true],
      ['quantity', [2]],
      ['quantity', '5'],
      ['limitPricePaise', '95000'],
      ['limitPricePaise', [95_000]],
      ['limitPricePaise', false],
    ] as const) {
      const response = await place({ [field]: value });
      expect(response.statusCode, `${field}: ${JSON.stringify(value)}`).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'invalid-request', details: [{ in: 'body', path: `/${field}` }] } });
      expect(response.json<{ error: { message: string } }>().error.message).toContain('must be number');
    }
    // a string field sent as a number is not turned into text either
    expect((await place({ symbol: 5 })).json()).toMatchObject({ error: { code: 'invalid-request', details: [{ path: '/symbol' }] } });
    // nothing was placed by the refused ones
    const placed = await place({ quantity: 2 });
    expect(placed.statusCode).toBe(201);
    const orders = await harness.app.inject({ url: '/api/v1/orders?limit=5', headers: { authorization } });
    expect(orders.statusCode).toBe(200);
    expect(orders.json<{ items: { quantity: number }[] }>().items.map((order) => order.quantity)).toEqual([2]);
    expect((await harness.app.inject({ url: '/api/v1/orders?limit=many', headers: { authorization } })).statusCode).toBe(400);
  });
});

describe('security headers', () => {
  it('every response carries a CSP with frame-ancestors none, nosniff and no-referrer: API, errors, dashboard, docs, metrics', async () => {
    harness = await startHarness();
    const { authorization } = await login(harness.app);
    const index = await harness.app.inject({ url: '/' });
    const asset = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(index.body)?.[1];
    expect(asset).toBeDefined();
    const responses = {
      dashboard: index,
      asset: await harness.app.inject({ url: `/${asset!}` }),
      clientRoute: await harness.app.inject({ url: '/orders' }),
      health: await harness.app.inject({ url: '/api/v1/health' }),
      api: await harness.app.inject({ url: '/api/v1/positions', headers: { authorization } }),
      unauthenticated: await harness.app.inject({ url: '/api/v1/positions' }),
      notFound: await harness.app.inject({ url: '/api/v1/nope' }),
      badUrl: await harness.app.inject({ url: '/api/v1/orders/%E0%A4%A' }),
      invalid: await harness.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 1 } }),
      docs: await harness.app.inject({ url: '/api/v1/docs/static/index.html' }),
      openapi: await harness.app.inject({ url: '/api/v1/docs/json' }),
      metrics: await harness.app.inject({ url: '/metrics' }),
    };
    for (const [name, response] of Object.entries(responses)) {
      const csp = String(response.headers['content-security-policy'] ?? '');
      expect(csp, name).toContain("frame-ancestors 'none'");
      expect(csp, name).toContain("default-src 'self'");
      expect(csp, name).toContain("script-src 'self'");
      expect(response.headers['x-content-type-options'], name).toBe('nosniff');
      expect(response.headers['referrer-policy'], name).toBe('no-referrer');
    }
    expect(responses.dashboard.statusCode).toBe(200);
    expect(responses.docs.statusCode).toBeLessThan(400);
    expect(responses.openapi.statusCode).toBe(200);
  });
});

describe('/metrics bearer token', () => {
  it('with TROUPE_METRICS_TOKEN set, /metrics answers only its bearer (401 otherwise); unset, it stays public', async () => {
    const token = 'metrics-token-0123456789abcdef';
    expect(loadConfig({ TROUPE_METRICS_TOKEN: token }).gateway.metricsToken).toBe(token);
    expect(loadConfig({}).gateway.metricsToken).toBeUndefined();
    expect(() => loadConfig({ TROUPE_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ TROUPE_METRICS_TOKEN: 'short' })).toThrow(/TROUPE_METRICS_TOKEN/);

    harness = await startHarness({ metricsToken: token });
    const { authorization } = await login(harness.app, ADMIN.username, ADMIN.password);
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789abcdef' }, { authorization: `Basic ${token}` }, { authorization }]) {
      const response = await harness.app.inject({ url: '/metrics', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'unauthenticated' } });
      expect(response.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(response.body).not.toContain('troupe_');
    }
    const allowed = await harness.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.body).toContain('troupe_portfolio_equity');
    await harness.close();

    harness = await startHarness();
    const open = await harness.app.inject({ url: '/metrics' });
    expect(open.statusCode).toBe(200);
  });
});

describe('error labels', () => {
  it('a 403 from a plugin (the dashboard files refusing a path) is labelled forbidden, not bad-request', async () => {
    harness = await startHarness();
    const response = await harness.app.inject({ url: '/assets/%00' });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: { code: 'forbidden' } });
  });
});
