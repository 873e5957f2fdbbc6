import { afterEach, describe, expect, it } from 'vitest';
import { login, startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface StrategyView {
  strategyId: string;
  kind: string;
  paused: boolean;
  positions: Record<string, number>;
  stats: { ticks: number; fills: number; intents: number };
  config: Record<string, unknown>;
  configFields: { name: string; type: string }[];
}

describe('strategies through the API', () => {
  it('lists registered kinds with their form fields, and strategies with settings and fields', async () => {
    harness = await startHarness();
    const { app } = harness;
    const { authorization } = await login(app);
    const kinds = (await app.inject({ url: '/api/v1/strategy-kinds', headers: { authorization } })).json<{
      items: { kind: string; configFields: { name: string }[] }[];
    }>();
    expect(kinds.items.map((kind) => kind.kind)).toEqual(expect.arrayContaining(['ema-cross', 'rsi-reversion', 'breakout', 'tutorial-sma']));
    expect(kinds.items.find((kind) => kind.kind === 'ema-cross')?.configFields.map((field) => field.name)).toEqual([
      'symbols',
      'fastPeriod',
      'slowPeriod',
      'quantity',
      'product',
      'allowShort',
      'source',
    ]);
    const listed = (await app.inject({ url: '/api/v1/strategies', headers: { authorization } })).json<{ items: StrategyView[] }>();
    expect(listed.items[0]).toMatchObject({
      strategyId: 'ema',
      kind: 'ema-cross',
      config: { fastPeriod: 2, slowPeriod: 4, quantity: 5, symbols: ['INFY', 'TCS', 'SBIN'] },
    });
    expect(listed.items[0]!.configFields).toHaveLength(7);
  });

  it('creates a strategy from a kind (it trades), with clear 400s per field, 409 for a taken id, 403 for a viewer', async () => {
    harness = await startHarness();
    const { app } = harness;
    const { authorization } = await login(app);
    const post = (payload: unknown, auth = authorization) =>
      app.inject({ method: 'POST', url: '/api/v1/strategies', headers: { authorization: auth }, payload: payload as Record<string, unknown> });

    const cases: [unknown, string, RegExp][] = [
      [{ strategyId: 'x1', kind: 'nope' }, '/kind', /registered kind.*ema-cross/],
      [{ strategyId: 'x1', kind: 'ema-cross', config: { fastPeriod: 0 } }, '/config/fastPeriod', /at least 1/],
      [{ strategyId: 'x1', kind: 'ema-cross', config: { fastPeriod: 30, slowPeriod: 10 } }, '/config/fastPeriod', /shorter than slowPeriod/],
      [{ strategyId: 'x1', kind: 'ema-cross', config: { colour: 'red' } }, '/config/colour', /not a setting/],
      [{ strategyId: 'x1', kind: 'ema-cross', config: { symbols: ['NOPE'] } }, '/config/symbols', /unknown instruments: NOPE/],
      [{ strategyId: 'x1', kind: 'ema-cross', config: { quantity: 'ten' } }, '/config/quantity', /must be a number/],
      [{ strategyId: 'x1', kind: 'ema-cross', portfolioId: 'other' }, '/portfolioId', /unknown portfolio/],
      [{ strategyId: 'bad id!', kind: 'ema-cross' }, '/strategyId', /expected format \(\^\[A-Za-z0-9\]/],
      [{ kind: 'ema-cross' }, '/strategyId', /required/],
    ];
    for (const [payload, path, message] of cases) {
      const response = await post(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      const body = response.json<{ error: { code: string; message: string; details: { in: string; path: string; message: string }[] } }>();
      expect(body.error.code).toBe('invalid-request');
      expect(body.error.details[0]).toMatchObject({ in: 'body', path });
      expect(body.error.details[0]!.message).toMatch(message);
    }
    expect((await post({ strategyId: 'ema', kind: 'ema-cross' })).statusCode).toBe(409);

    const created = await post({ strategyId: 'fast-tcs', kind: 'ema-cross', config: { symbols: ['TCS'], fastPeriod: 2, slowPeriod: 3, quantity: 7 } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      strategyId: 'fast-tcs',
      kind: 'ema-cross',
      paused: false,
      config: { symbols: ['TCS'], slowPeriod: 3, quantity: 7 },
    });
    expect((await app.inject({ url: '/api/v1/actors', headers: { authorization } })).body).toContain('/strategies/fast-tcs');

    await harness.feed('TCS', [1000, 990, 980, 970, 1000, 1040, 1080, 1120]);
    const view = (await app.inject({ url: '/api/v1/strategies/fast-tcs', headers: { authorization } })).json<StrategyView>();
    expect(view.stats.ticks).toBe(8);
    expect(view.stats.intents).toBeGreaterThan(0);
    expect(view.positions.TCS).toBe(7);

    await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization },
      payload: { username: 'vera', password: 'long-enough-pass-123', role: 'viewer' },
    });
    const viewer = await login(app, 'vera', 'long-enough-pass-123');
    expect((await post({ strategyId: 'v1', kind: 'ema-cross' }, viewer.authorization)).statusCode).toBe(403);

    const audit = (await app.inject({ url: '/api/v1/audit?action=strategy.create&limit=100', headers: { authorization } })).json<{
      items: { outcome: string; target?: string }[];
    }>();
    expect(audit.items.filter((entry) => entry.outcome === 'failed').length).toBeGreaterThanOrEqual(7);
    expect(audit.items).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'ok', target: 'fast-tcs' })]));
  });

  it('updates parameters: merged, validated (400 names the field, nothing changes), restarts keeping positions, numbering and pause', async () => {
    harness = await startHarness();
    const { app } = harness;
    const { authorization } = await login(app);
    const patch = (id: string, config: Record<string, unknown>) =>
      app.inject({ method: 'PATCH', url: `/api/v1/strategies/${id}`, headers: { authorization }, payload: { config } });

    await harness.feed('INFY', [1000, 990, 980, 970, 1000, 1040, 1080, 1120]);
    const before = (await app.inject({ url: '/api/v1/strategies/ema', headers: { authorization } })).json<StrategyView>();
    expect(before.positions.INFY).toBe(5);
    await app.inject({ method: 'POST', url: '/api/v1/strategies/ema/pause', headers: { authorization } });

    const bad = await patch('ema', { slowPeriod: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { details: [{ path: '/config/slowPeriod' }] } });
    expect((await patch('nope', { quantity: 1 })).statusCode).toBe(404);
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/strategies/ema', headers: { authorization }, payload: { quantity: 1 } })).statusCode).toBe(400);

    const updated = await patch('ema', { quantity: 9 });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ strategyId: 'ema', paused: true, positions: { INFY: 5 }, config: { quantity: 9, fastPeriod: 2, slowPeriod: 4 } });
    expect(updated.json<StrategyView>().stats.intents).toBe(before.stats.intents);

    await app.inject({ method: 'POST', url: '/api/v1/strategies/ema/resume', headers: { authorization } });
    await harness.feed('INFY', [1100, 1050, 1000, 950, 900, 1000, 1100, 1200, 1300]);
    const after = (await app.inject({ url: '/api/v1/strategies/ema', headers: { authorization } })).json<StrategyView>();
    expect(after.stats.intents).toBeGreaterThan(before.stats.intents);
    expect(after.positions.INFY).toBe(9);
    // intent numbering continued: no client order id was reused
    const orders = (await app.inject({ url: '/api/v1/orders?strategy=ema&limit=500', headers: { authorization } })).json<{
      items: { clientOrderId: string }[];
    }>();
    expect(new Set(orders.items.map((order) => order.clientOrderId)).size).toBe(orders.items.length);
    const audit = (await app.inject({ url: '/api/v1/audit?action=strategy.update', headers: { authorization } })).json<{ items: { outcome: string }[] }>();
    expect(audit.items.map((entry) => entry.outcome)).toEqual(['ok', 'failed']);
  });
  it('exposes the figures the strategy host reports: regime-gated intents, signals sent to the aggregator, regimes (schema and OpenAPI)', async () => {
    harness = await startHarness();
    const { app, runtime } = harness;
    const { authorization } = await login(app);
    await harness.feed('INFY', [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000, 113_000]);
    const status = await runtime.strategyStatus('ema', 2_000);
    expect(status.stats.signals).toBeGreaterThan(0);
    const view = (await app.inject({ url: '/api/v1/strategies/ema', headers: { authorization } })).json<
      StrategyView & { stats: Record<string, number>; regimes: Record<string, string> }
    >();
    expect(view.stats).toEqual(status.stats);
    expect(view.stats).toMatchObject({ gated: expect.any(Number) as number, signals: status.stats.signals });
    expect(view.regimes).toEqual(status.regimes);
    const listed = (await app.inject({ url: '/api/v1/strategies', headers: { authorization } })).json<{ items: { stats: Record<string, number> }[] }>();
    expect(Object.keys(listed.items[0]!.stats)).toEqual(expect.arrayContaining(['gated', 'signals']));

    type Schema = { properties?: Record<string, Schema>; items?: Schema };
    const doc = (await app.inject({ url: '/api/v1/docs/json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>>;
    }>();
    const one = doc.paths['/api/v1/strategies/{id}']!.get!.responses['200']!.content['application/json']!.schema;
    expect(Object.keys(one.properties!.stats!.properties!)).toEqual(['ticks', 'bars', 'intents', 'rejected', 'fills', 'gated', 'signals', 'paced']);
    expect(one.properties).toHaveProperty('pendingIntents');
    expect(one.properties).toHaveProperty('refusedIntents');
    expect(view).toMatchObject({ pendingIntents: [], refusedIntents: expect.any(Array) as unknown[] });
    expect(one.properties).toHaveProperty('regimes');
    expect(one.properties).toHaveProperty('tradesIn');
  });
});
