import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import type { Order, OrderExplanation } from '../../src/model/index.js';
import { acceptsGzip } from '../../src/gateway/routes/trading.routes.js';
import { login, startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const wave = [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000];

describe('gateway REST /api/v1', () => {
  it('serves health and /metrics without auth, and refuses the rest without a token', async () => {
    harness = await startHarness();
    const { app } = harness;
    const health = await app.inject({ url: '/api/v1/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', checks: { actors: { ok: true }, marketData: { ok: true }, authStore: { ok: true } } });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    const names = new Set([...metrics.body.matchAll(/^# TYPE (troupe_\w+)/gm)].map((match) => match[1]));
    expect(names.size).toBeGreaterThanOrEqual(25);
    for (const url of ['/api/v1/positions', '/api/v1/orders', '/api/v1/actors', '/api/v1/audit']) {
      const response = await app.inject({ url });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    }
    expect((await app.inject({ url: '/api/v1/positions', headers: { authorization: 'Bearer nonsense' } })).json()).toMatchObject({
      error: { code: 'invalid-token' },
    });
    expect((await app.inject({ url: '/api/v1/nope' })).json()).toMatchObject({ error: { code: 'not-found' } });
  });

  it('lists positions with live P&L, orders with filters and cursor pagination, trades and strategies', async () => {
    harness = await startHarness();
    const { app } = harness;
    const { authorization } = await login(app);
    await harness.feed('INFY', wave);
    await harness.feed('TCS', wave);

    const positions = (await app.inject({ url: '/api/v1/positions', headers: { authorization } })).json<{
      portfolios: {
        portfolioId: string;
        summary: { equityPaise: number; cashPaise: number; marketValuePaise: number };
        positions: { symbol: string; netQuantity: number; unrealisedPaise: number }[];
      }[];
    }>();
    const paper = positions.portfolios[0]!;
    expect(paper.portfolioId).toBe('paper');
    expect(paper.summary.cashPaise + paper.summary.marketValuePaise).toBe(paper.summary.equityPaise);
    expect(paper.positions.find((p) => p.symbol === 'INFY')).toMatchObject({ netQuantity: 5, unrealisedPaise: expect.any(Number) as number });

    const all = (await app.inject({ url: '/api/v1/orders', headers: { authorization } })).json<{
      items: { symbol: string; clientOrderId: string }[];
      nextCursor: string | null;
    }>();
    expect(all.items.length).toBe(2);
    const infy = (await app.inject({ url: '/api/v1/orders?symbol=INFY&status=COMPLETE&strategy=ema', headers: { authorization } })).json<{
      items: { symbol: string }[];
    }>();
    expect(infy.items.map((order) => order.symbol)).toEqual(['INFY']);
    const first = (await app.inject({ url: '/api/v1/orders?limit=1', headers: { authorization } })).json<{
      items: { clientOrderId: string }[];
      nextCursor: string;
    }>();
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await app.inject({ url: `/api/v1/orders?limit=1&cursor=${first.nextCursor}`, headers: { authorization } })).json<{
      items: { clientOrderId: string }[];
      nextCursor: string | null;
    }>();
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((o) => o.clientOrderId).sort()).toEqual(all.items.map((o) => o.clientOrderId).sort());
    const badCursor = await app.inject({ url: '/api/v1/orders?cursor=zzz', headers: { authorization } });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json()).toMatchObject({ error: { code: 'invalid-cursor' } });

    const trades = (await app.inject({ url: '/api/v1/trades?symbol=TCS', headers: { authorization } })).json<{
      items: { symbol: string; quantity: number }[];
    }>();
    expect(trades.items).toEqual([expect.objectContaining({ symbol: 'TCS', quantity: 5 })]);

    const strategies = (await app.inject({ url: '/api/v1/strategies', headers: { authorization } })).json<{
      items: { strategyId: string; paused: boolean; stats: { fills: number } }[];
    }>();
    expect(strategies.items[0]).toMatchObject({ strategyId: 'ema', paused: false, stats: { fills: 2 } });
    const paused = await app.inject({ method: 'POST', url: '/api/v1/strategies/ema/pause', headers: { authorization } });
    expect(paused.json()).toMatchObject({ paused: true });
    expect((await app.inject({ method: 'POST', url: '/api/v1/strategies/ema/resume', headers: { authorization } })).json()).toMatchObject({ paused: false });
    expect((await app.inject({ method: 'POST', url: '/api/v1/strategies/nope/pause', headers: { authorization } })).statusCode).toBe(404);
    const create = await app.inject({ method: 'POST', url: '/api/v1/strategies', headers: { authorization }, payload: { kind: 'ema-cross' } });
    expect(create.statusCode).toBe(400);
    expect(create.json()).toMatchObject({ error: { code: 'invalid-request', details: [{ in: 'body', path: '/strategyId' }] } });

    const instruments = (await app.inject({ url: '/api/v1/instruments', headers: { authorization } })).json<{
      items: { symbol: string; lastPricePaise: number | null }[];
    }>();
    expect(instruments.items.find((i) => i.symbol === 'INFY')?.lastPricePaise).toBe(112_000);
    expect((await app.inject({ url: '/api/v1/instruments/NOPE', headers: { authorization } })).statusCode).toBe(404);
    const metrics = (await app.inject({ url: '/api/v1/metrics', headers: { authorization } })).json<{ metrics: Record<string, unknown> }>();
    expect(Object.keys(metrics.metrics)).toContain('troupe_fills_total');
    const actors = (await app.inject({ url: '/api/v1/actors', headers: { authorization } })).json<{ tree: { path: string }[] }>();
    expect(actors.tree.map((node) => node.path)).toContain('/market');
    const portfolio = await app.inject({ url: '/api/v1/portfolios/paper', headers: { authorization } });
    expect(portfolio.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/portfolios', headers: { authorization } })).json()).toMatchObject({ items: [{ portfolioId: 'paper' }] });
  });

  it('places a manual order through risk (201, or 422 with the risk code), cancels it, and audits both', async () => {
    harness = await startHarness();
    const { app, runtime } = harness;
    const { authorization } = await login(app);
    await harness.feed('SBIN', [100_000, 100_000]);

    const rejected = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { authorization },
      payload: { symbol: 'SBIN', side: 'BUY', quantity: 50_000 },
    });
    expect(rejected.statusCode).toBe(422);
    expect(rejected.json()).toMatchObject({ error: { code: 'risk-rejected', details: [{ in: 'risk', path: 'max-order-quantity' }] } });

    const invalid = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { authorization },
      payload: { symbol: 'SBIN', side: 'HOLD', quantity: 0 },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ error: { code: 'invalid-request', details: [expect.objectContaining({ in: 'body' })] } });
    const noLimit = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { authorization },
      payload: { symbol: 'SBIN', side: 'BUY', quantity: 1, orderType: 'LIMIT' },
    });
    expect(noLimit.json()).toMatchObject({ error: { code: 'invalid-request', details: [{ path: '/limitPricePaise' }] } });

    const placed = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { authorization },
      payload: { symbol: 'SBIN', side: 'BUY', quantity: 2, orderType: 'LIMIT', limitPricePaise: 90_000 },
    });
    expect(placed.statusCode).toBe(201);
    const { clientOrderId } = placed.json<{ clientOrderId: string }>();
    expect(clientOrderId).toMatch(/^[A-Z0-9]{1,20}$/);
    await runtime.whenIdle();
    const open = (await app.inject({ url: `/api/v1/orders/${clientOrderId}`, headers: { authorization } })).json<{ status: string; strategyId: string }>();
    expect(open).toMatchObject({ status: 'OPEN', strategyId: 'manual' });

    const cancel = await app.inject({ method: 'DELETE', url: `/api/v1/orders/${clientOrderId}`, headers: { authorization } });
    expect(cancel.statusCode).toBe(202);
    await eventually(async () => {
      const order = (await app.inject({ url: `/api/v1/orders/${clientOrderId}`, headers: { authorization } })).json<{ status: string }>();
      expect(order.status).toBe('CANCELLED');
    });
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/orders/${clientOrderId}`, headers: { authorization } })).statusCode).toBe(409);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/orders/NOPE', headers: { authorization } })).statusCode).toBe(404);

    const audit = (await app.inject({ url: '/api/v1/audit?action=order.place', headers: { authorization } })).json<{
      items: { action: string; outcome: string; actor: string; ip: string }[];
    }>();
    expect(audit.items.map((entry) => entry.outcome)).toEqual(['ok', 'denied']);
    expect(audit.items[0]).toMatchObject({ actor: 'user:root', ip: '127.0.0.1' });
    const cancels = (await app.inject({ url: '/api/v1/audit?action=order.cancel&limit=1', headers: { authorization } })).json<{
      items: unknown[];
      nextCursor: string | null;
    }>();
    expect(cancels.items).toHaveLength(1);
    expect(cancels.nextCursor).not.toBeNull();
  });

  it('injects faults only for admins and only when enabled; serves the OpenAPI document and docs page', async () => {
    harness = await startHarness();
    const { app } = harness;
    const { authorization } = await login(app);
    const crash = await app.inject({ method: 'POST', url: '/api/v1/actors/fault?path=/market/INFY', headers: { authorization } });
    expect(crash.statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/api/v1/actors/fault?path=/nope', headers: { authorization } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/v1/actors/fault', headers: { authorization } })).statusCode).toBe(400);

    const openapi = await app.inject({ url: '/api/v1/docs/json' });
    expect(openapi.statusCode).toBe(200);
    const doc = openapi.json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/positions',
      '/api/v1/orders',
      '/api/v1/orders/{id}',
      '/api/v1/auth/login',
      '/api/v1/trades',
      '/api/v1/strategies',
      '/api/v1/audit',
      '/api/v1/health',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/api/v1/orders']?.post?.requestBody).toBeDefined();
    const page = await app.inject({ url: '/api/v1/docs' });
    expect([200, 302]).toContain(page.statusCode);
  });

  it('answers 403 fault-injection-disabled when chaos is off', async () => {
    harness = await startHarness({}, { allowFaultInjection: false });
    const { authorization } = await login(harness.app);
    const crash = await harness.app.inject({ method: 'POST', url: '/api/v1/actors/fault?path=/market/INFY', headers: { authorization } });
    expect(crash.statusCode).toBe(403);
    expect(crash.json()).toMatchObject({ error: { code: 'fault-injection-disabled' } });
  });
  it('serves the positions body from its cache only while nothing changed: a mark or a fill gives a new body; gzip when asked', async () => {
    harness = await startHarness();
    const { app, runtime } = harness;
    const { authorization } = await login(app);
    await harness.feed('INFY', wave);
    type Positions = {
      portfolios: { summary: { equityPaise: number; unrealisedPaise: number }; positions: { symbol: string; lastPricePaise: number; netQuantity: number }[] }[];
    };
    const get = async (headers: Record<string, string> = {}) => app.inject({ url: '/api/v1/positions', headers: { authorization, ...headers } });
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers.vary).toBe('accept-encoding');
    expect((await get()).body).toBe(first.body);
    const infy = (body: string) => (JSON.parse(body) as Positions).portfolios[0]!.positions.find((position) => position.symbol === 'INFY')!;
    expect(infy(first.body).lastPricePaise).toBe(112_000);

    // a mark: same quantity, new last price and P&L
    await harness.feed('INFY', [113_000]);
    const marked = await get();
    expect(infy(marked.body)).toMatchObject({ lastPricePaise: 113_000, netQuantity: infy(first.body).netQuantity });
    expect((JSON.parse(marked.body) as Positions).portfolios[0]!.summary.unrealisedPaise).not.toBe(
      (JSON.parse(first.body) as Positions).portfolios[0]!.summary.unrealisedPaise,
    );
    // what the API serves is exactly the live state, serialised by the route's schema
    const live = runtime.portfolio()!;
    expect(infy(marked.body).lastPricePaise).toBe(live.positions['INFY:MIS']?.lastPricePaise);

    // gzip: the same JSON, compressed (q=0 refuses it)
    const zipped = await get({ 'accept-encoding': 'br, gzip;q=0.8' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString('utf8')).toBe(marked.body);
    expect((await get({ 'accept-encoding': 'gzip;q=0, deflate' })).headers['content-encoding']).toBeUndefined();
    expect((await get({ 'accept-encoding': '*' })).headers['content-encoding']).toBe('gzip');

    // a fill (a falling wave makes the EMA cross back): new quantities
    await harness.feed('INFY', [100_000, 90_000, 80_000, 70_000, 60_000]);
    const after = await get();
    expect(after.body).not.toBe(marked.body);
    expect(infy(after.body).netQuantity).toBe(live.positions['INFY:MIS']?.netQuantity);
  });

  it("shows an order's reason and structured explanation in the orders list and detail (schema and OpenAPI)", async () => {
    harness = await startHarness();
    const { app, runtime } = harness;
    const { authorization } = await login(app);
    const placed = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { authorization },
      payload: { symbol: 'SBIN', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPricePaise: 90_000, reason: 'test: a resting bid' },
    });
    expect(placed.statusCode).toBe(201);
    const manualId = placed.json<{ clientOrderId: string }>().clientOrderId;
    expect((await app.inject({ url: `/api/v1/orders/${manualId}`, headers: { authorization } })).json()).toMatchObject({ reason: 'test: a resting bid' });

    // an order as risk hands it on, with the aggregator's vote as its explanation
    const explanation: OrderExplanation = {
      source: 'signal-aggregator',
      summary: 'BUY: 2 of 2 signals long',
      decision: 'BUY',
      score: 0.75,
      confidence: 0.75,
      atMs: 1_000,
      signals: [{ strategyId: 'ema', direction: 'long', confidence: 0.75, weight: 1, contribution: 0.75, atMs: 900, reason: 'fast EMA above slow' }],
      regime: 'trending',
    };
    const order: Order = {
      clientOrderId: 'TEXPLAINED0000000001',
      intentId: 'ensemble:1',
      strategyId: 'ensemble',
      portfolioId: 'paper',
      symbol: 'TCS',
      side: 'BUY',
      orderType: 'LIMIT',
      product: 'MIS',
      validity: 'DAY',
      quantity: 1,
      limitPricePaise: 90_000,
      status: 'PUT ORDER REQ RECEIVED',
      filledQuantity: 0,
      cancelledQuantity: 0,
      filledValuePaise: 0,
      createdAtMs: 2_000,
      updatedAtMs: 2_000,
      reason: 'the ensemble votes BUY',
      explanation,
    };
    runtime.system.tell(runtime.directory.requireExecution(), { type: 'PlaceOrder', order });
    await runtime.whenIdle();
    const detail = (await app.inject({ url: `/api/v1/orders/${order.clientOrderId}`, headers: { authorization } })).json<Order>();
    expect(detail).toMatchObject({ reason: 'the ensemble votes BUY', explanation });
    const listed = (await app.inject({ url: '/api/v1/orders?strategy=ensemble', headers: { authorization } })).json<{ items: Order[] }>();
    expect(listed.items[0]?.explanation).toEqual(explanation);
    // an order without them has neither field
    const plain = (await app.inject({ url: '/api/v1/orders?strategy=manual', headers: { authorization } })).json<{ items: Order[] }>();
    expect(plain.items[0]).not.toHaveProperty('explanation');

    type Schema = { properties?: Record<string, Schema>; items?: Schema };
    const doc = (await app.inject({ url: '/api/v1/docs/json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>>;
    }>();
    const schema = doc.paths['/api/v1/orders/{id}']!.get!.responses['200']!.content['application/json']!.schema;
    expect(schema.properties).toHaveProperty('reason');
    expect(Object.keys(schema.properties!.explanation!.properties!)).toEqual([
      'source',
      'summary',
      'decision',
      'score',
      'confidence',
      'atMs',
      'signals',
      'regime',
    ]);
  });
});

describe('acceptsGzip (Accept-Encoding, gzip against identity)', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZip', true],
    ['br, gzip;q=0.8', true],
    ['deflate, br', false],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['gzip;q=abc', false],
    ['*', true],
    ['br, *;q=0.1', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['*, gzip;q=0', false],
    ['identity', false],
  ])('%j: %s', (header, accepted) => {
    expect(acceptsGzip(header)).toBe(accepted);
  });
});
