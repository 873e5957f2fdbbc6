process.env.TZ = 'Asia/Kolkata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMarketOpenAt, type Order } from '../../src/model/index.js';
import type { KiteSimulator } from '../../src/sim/index.js';
import { startKiteTrading, type KiteTrading } from '../../src/wiring/kite.wiring.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { API_KEY, API_SECRET, eventually, startSimulator } from '../sim/support.js';

// Troupe's runtime in Kite mode against the simulator, end to end. One ticker per process.
let sim: KiteSimulator;
let trading: KiteTrading;
const alerts: string[] = [];
const expiries: string[] = [];
const metrics = new Metrics({ defaultMetrics: false });

/** Wall time just before Kite trading started (the session expiry gauge counts from it). */
let startedAtMs = 0;
beforeAll(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 50 });
  startedAtMs = Date.now();
  trading = await startKiteTrading({
    apiKey: API_KEY,
    requestToken: sim.admin.createRequestToken(),
    apiSecret: API_SECRET,
    root: sim.url,
    tickerUrl: sim.wsUrl,
    symbols: ['INFY', 'TCS'],
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 3 } }],
    portfolio: { portfolioId: 'kite', initialCashPaise: 10_00_000_00 },
    riskLimits: { maxOrdersPerSecond: 1000, maxOrdersPerSecondPerStrategy: 1000 },
    logger: silentLogger(),
    pollEveryMs: 250, // polls share the client-side 10 req/s with trade fetches
    feed: { staleAfterMs: 2000, backoff: { initialMs: 20, maxMs: 200 } },
    metrics,
    onSessionExpired: (reason) => expiries.push(reason),
  });
  trading.runtime.bus.on('RiskAlert', (alert) => alerts.push(alert.code));
  await eventually(() => expect(trading.feed.connected).toBe(true));
});
afterAll(async () => {
  await trading.stop('test over');
  await sim.close();
});

const troupeOrders = async (): Promise<readonly Order[]> =>
  trading.runtime.system.ask(trading.runtime.kiteExecution!, (replyTo) => ({ type: 'GetOrders', replyTo }), 2000);

/** Steps the simulated market until `check` passes. */
async function tradeUntil(check: () => void | Promise<void>, stepTicks = 20): Promise<void> {
  await eventually(async () => {
    sim.admin.step(stepTicks);
    await trading.runtime.whenIdle();
    await check();
  }, 20_000);
}

/** Kite takes 10 orders a second (the client-side limiter spaces them so): the time one order of a backlog waits. */
const KITE_MS_PER_ORDER = 100;

/**
 * Waits until every Troupe order is final and the tree is idle: 10 s, plus the time Kite's order
 * limit needs for the orders not yet sent (the loop above steps the market as fast as the tree
 * keeps up, so on a busy machine it can leave a backlog of a hundred orders that take 10 s to send).
 */
async function settle(): Promise<readonly Order[]> {
  let orders: readonly Order[] = await troupeOrders();
  const unsent = orders.filter((o) => o.brokerOrderId === undefined && !['COMPLETE', 'REJECTED', 'CANCELLED'].includes(o.status)).length;
  await eventually(
    async () => {
      orders = await troupeOrders();
      expect(orders.filter((o) => !['COMPLETE', 'REJECTED', 'CANCELLED'].includes(o.status))).toEqual([]);
      await trading.runtime.whenIdle();
    },
    10_000 + unsent * KITE_MS_PER_ORDER,
  );
  return orders;
}

/** Troupe and the simulator agree: one Kite order per client order id, same fills, same positions. */
async function expectConsistent(orders: readonly Order[]): Promise<void> {
  const kite = trading.broker.client;
  const simOrders = await kite.getOrders();
  const byTag = new Map<string, number>();
  for (const o of simOrders) byTag.set(String(o.tag), (byTag.get(String(o.tag)) ?? 0) + 1);
  // nothing sent twice
  expect([...byTag.values()].every((n) => n === 1)).toBe(true);
  // nothing lost: every Troupe order that reached Kite is there once, and Kite has nothing else
  const placed = orders.filter((o) => o.brokerOrderId !== undefined);
  expect(new Set(placed.map((o) => o.clientOrderId))).toEqual(new Set(byTag.keys()));
  for (const order of placed) {
    const at = simOrders.find((o) => o.tag === order.clientOrderId)!;
    expect({ id: order.clientOrderId, status: order.status, filled: order.filledQuantity }).toEqual({
      id: order.clientOrderId,
      status: at.status,
      filled: at.filled_quantity,
    });
  }
  const trades = await kite.getTrades();
  const view = await trading.runtime.askPortfolio('kite');
  const positions = await kite.getPositions();
  for (const symbol of ['INFY', 'TCS']) {
    const simNet = positions.net.find((p) => p.tradingsymbol === symbol && p.product === 'MIS')?.quantity ?? 0;
    expect(view.state.positions[`${symbol}:MIS`]?.netQuantity ?? 0).toBe(simNet);
  }
  const filled = orders.reduce((sum, o) => sum + o.filledQuantity, 0);
  expect(filled).toBe(trades.reduce((sum, t) => sum + t.quantity, 0));
}

describe('Troupe in Kite mode against the simulator', () => {
  it('signal → order (tag = client order id) → fill → position, with the ticker dropped mid-run; nothing lost or sent twice', async () => {
    const fills: string[] = [];
    trading.runtime.bus.on('OrderFilled', (e) => fills.push(e.fill.fillId));
    await tradeUntil(() => expect(fills.length).toBeGreaterThanOrEqual(2));
    const first = await troupeOrders();
    expect(first[0]!.clientOrderId).toMatch(/^T[0-9A-Z]{19}$/);

    // the ticker goes away mid-run
    const gaps = trading.feed.stats.gaps;
    expect(sim.admin.dropWebSockets()).toBe(1);
    const fillsAtDrop = fills.length;
    await tradeUntil(() => {
      expect(trading.feed.stats.gaps).toBe(gaps + 1);
      expect(fills.length).toBeGreaterThan(fillsAtDrop + 1);
    });

    const orders = await settle();
    expect(new Set(fills).size).toBe(fills.length);
    await expectConsistent(orders);
    const view = await trading.runtime.askPortfolio('kite');
    expect(view.summary.chargesPaise).toBeGreaterThan(0);
    expect(view.summary.cashPaise + view.summary.marketValuePaise).toBe(view.summary.equityPaise);
  });

  it('falls back to polling when postbacks stop', async () => {
    sim.admin.setFaults({ stopPostbacks: true });
    const before = trading.feed.stats.orderUpdates;
    const completeBefore = (await troupeOrders()).filter((o) => o.status === 'COMPLETE').length;
    await tradeUntil(async () => expect((await troupeOrders()).filter((o) => o.status === 'COMPLETE').length).toBeGreaterThan(completeBefore + 1));
    const orders = await settle();
    expect(trading.feed.stats.orderUpdates).toBe(before);
    sim.admin.setFaults({ stopPostbacks: false });
    await expectConsistent(orders);
  }, 60_000); // the backlog settle may wait for (see settle)

  it('ignores out-of-order, malformed and foreign postbacks and repeated orders without crashing or double counting', async () => {
    const before = await settle();
    const done = before.find((o) => o.status === 'COMPLETE' && o.brokerOrderId !== undefined)!;
    const execution = trading.runtime.kiteExecution!;
    const tell = (payload: Record<string, unknown>): void => trading.runtime.system.tell(execution, { type: 'OrderPostback', payload });
    tell({ order_id: done.brokerOrderId, tag: done.clientOrderId, status: 'OPEN', filled_quantity: 0, average_price: 0 }); // stale
    tell({ order_id: done.brokerOrderId, tag: done.clientOrderId, status: 'UPDATE', filled_quantity: 1, average_price: 1 }); // fewer fills than known
    tell({ order_id: 'nope', tag: 'SOMEONEELSE', status: 'COMPLETE', filled_quantity: 5, average_price: 10 }); // not ours
    tell({ garbage: true });
    tell({ order_id: done.brokerOrderId, status: null, filled_quantity: 'many', average_price: 'x' });
    trading.runtime.system.tell(execution, {
      type: 'PlaceOrder',
      order: { ...done, status: 'PUT ORDER REQ RECEIVED', filledQuantity: 0, filledValuePaise: 0 },
    });
    trading.runtime.system.tell(execution, { type: 'PollOrders' });
    await trading.runtime.whenIdle();
    const after = await settle();
    expect(after.find((o) => o.clientOrderId === done.clientOrderId)).toEqual(done);
    expect(after.length).toBe(before.length);
    await expectConsistent(after);
    const health = JSON.stringify(trading.runtime.system.health());
    expect(health).not.toMatch(/"restarts":[1-9]/);
  });

  it('modifies a working order (price, lower quantity) at Kite by its tag; refuses a larger quantity; cancels', async () => {
    await settle();
    const tick = sim.admin.instruments.find((i) => i.symbol === 'INFY')!.tickSizePaise;
    const below = (fraction: number): number => Math.floor((sim.admin.lastPricePaise('INFY')! * fraction) / tick) * tick;
    const execution = trading.runtime.kiteExecution!;
    const id = 'TMODIFY0000000000001';
    const now = Date.now();
    trading.runtime.system.tell(execution, {
      type: 'PlaceOrder',
      order: {
        clientOrderId: id,
        intentId: 'manual:m1',
        strategyId: 'manual',
        portfolioId: 'kite',
        symbol: 'INFY',
        side: 'BUY',
        orderType: 'LIMIT',
        limitPricePaise: below(0.95),
        product: 'MIS',
        validity: 'DAY',
        quantity: 4,
        status: 'PUT ORDER REQ RECEIVED',
        filledQuantity: 0,
        cancelledQuantity: 0,
        filledValuePaise: 0,
        createdAtMs: now,
        updatedAtMs: now,
      },
    });
    const mine = async (): Promise<Order | undefined> => (await troupeOrders()).find((o) => o.clientOrderId === id);
    await eventually(async () => expect((await mine())?.status).toBe('OPEN'));
    const price = below(0.9);
    trading.runtime.system.tell(execution, { type: 'ModifyOrder', clientOrderId: id, change: { limitPricePaise: price, quantity: 2 }, requestedBy: 'test' });
    await eventually(async () => expect(await mine()).toMatchObject({ status: 'OPEN', quantity: 2, limitPricePaise: price }));
    const atKite = (await trading.broker.client.getOrders()).filter((o) => o.tag === id);
    expect(atKite).toHaveLength(1);
    expect({ quantity: atKite[0]!.quantity, price: Math.round(atKite[0]!.price * 100) }).toEqual({ quantity: 2, price });
    // a larger quantity needs risk: refused with an alert, nothing sent
    const refusedBefore = alerts.filter((a) => a === 'modify-rejected').length;
    trading.runtime.system.tell(execution, { type: 'ModifyOrder', clientOrderId: id, change: { quantity: 10 }, requestedBy: 'test' });
    trading.runtime.system.tell(execution, {
      type: 'ModifyOrder',
      clientOrderId: id,
      change: { limitPricePaise: price + 1 + (tick === 1 ? 0.5 : 0) },
      requestedBy: 'test',
    });
    await eventually(() => expect(alerts.filter((a) => a === 'modify-rejected').length).toBe(refusedBefore + 2));
    expect((await mine())?.quantity).toBe(2);
    trading.runtime.system.tell(execution, { type: 'CancelOrder', clientOrderId: id, requestedBy: 'test' });
    await eventually(async () => expect((await mine())?.status).toBe('CANCELLED'));
    trading.runtime.system.tell(execution, { type: 'ModifyOrder', clientOrderId: id, change: { quantity: 1 }, requestedBy: 'test' });
    await eventually(() => expect(alerts.filter((a) => a === 'modify-rejected').length).toBe(refusedBefore + 3));
  });

  it('exports feed metrics: ticks in, reconnects, gaps, heartbeat age, postbacks vs polls (bounded labels)', async () => {
    const text = await metrics.text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    expect(value('troupe_feed_ticks_total\\{feed="kite"\\}')).toBeGreaterThan(0);
    expect(value('troupe_feed_gaps_total\\{feed="kite"\\}')).toBe(trading.feed.stats.gaps);
    expect(value('troupe_feed_reconnects_total\\{feed="kite"\\}')).toBe(trading.feed.stats.reconnects);
    expect(value('troupe_feed_connected\\{feed="kite"\\}')).toBe(1);
    const age = value('troupe_feed_heartbeat_age_seconds\\{feed="kite"\\}');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(5);
    expect(value('troupe_broker_order_updates_total\\{source="postback"\\}')).toBeGreaterThan(0);
    expect(value('troupe_broker_order_updates_total\\{source="poll"\\}')).toBeGreaterThan(0);
    // the stalled-feed alerts' series: a last-tick time per traded symbol (wall time, recent for those that ticked),
    // and the market-open gauge on the wall clock (not on the last tick's exchange time, which stops with the feed)
    const lastTicks = trading.instruments.map((instrument) => value(`troupe_symbol_last_tick_timestamp_seconds\\{symbol="${instrument.symbol}"\\}`));
    expect(lastTicks.every((seconds) => Number.isFinite(seconds) && seconds <= Date.now() / 1000)).toBe(true);
    expect(Date.now() / 1000 - Math.max(...lastTicks)).toBeLessThan(30);
    expect(value('troupe_market_open')).toBe(isMarketOpenAt(Date.now()) ? 1 : 0);
    // labels stay bounded: one feed, two sources
    expect(text.match(/^troupe_feed_ticks_total\{/gm)).toHaveLength(1);
    expect(text.match(/^troupe_broker_order_updates_total\{/gm)).toHaveLength(2);
  });

  it('halts order placement on TokenException with one RiskAlert; later orders are refused without calling Kite', async () => {
    const atSim = (): number => sim.admin.exchange.orders('ZS0001').length;
    const placedBefore = atSim();
    const gauge = async (series: string): Promise<number> => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(await metrics.text())?.[1] ?? Number.NaN);
    const halted = (): Promise<number> => gauge('troupe_trading_halted\\{reason="broker-session"\\}');
    // the token's end for alerting: Kite's next 06:00 IST (00:30 UTC) after the start, worked out here from the UTC date
    const startedAt = new Date(startedAtMs);
    let expiry = Date.UTC(startedAt.getUTCFullYear(), startedAt.getUTCMonth(), startedAt.getUTCDate(), 0, 30);
    if (expiry <= startedAtMs) expiry += 86_400_000;
    expect(await gauge('troupe_kite_session_expiry_timestamp_seconds')).toBe(expiry / 1000);
    expect(await halted()).toBe(0);
    sim.admin.expireSessions();
    const order = (n: number): Order => ({
      clientOrderId: `TMANUAL${String(n).padStart(13, '0')}`,
      intentId: `manual:${n}`,
      strategyId: 'manual',
      portfolioId: 'kite',
      symbol: 'INFY',
      side: 'BUY',
      orderType: 'MARKET',
      product: 'MIS',
      validity: 'DAY',
      quantity: 1,
      status: 'PUT ORDER REQ RECEIVED',
      filledQuantity: 0,
      cancelledQuantity: 0,
      filledValuePaise: 0,
      createdAtMs: Date.now(),
      updatedAtMs: Date.now(),
    });
    const execution = trading.runtime.kiteExecution!;
    trading.runtime.system.tell(execution, { type: 'PlaceOrder', order: order(1) });
    await eventually(async () => expect((await troupeOrders()).find((o) => o.clientOrderId === order(1).clientOrderId)?.status).toBe('REJECTED'));
    expect(alerts.filter((a) => a === 'broker-session-expired')).toHaveLength(1);
    trading.runtime.system.tell(execution, { type: 'PlaceOrder', order: order(2) });
    trading.runtime.system.tell(execution, { type: 'PollOrders' });
    await trading.runtime.whenIdle();
    const second = (await troupeOrders()).find((o) => o.clientOrderId === order(2).clientOrderId)!;
    expect(second.status).toBe('REJECTED');
    expect(second.statusMessage).toMatch(/halted.*log in again/i);
    expect(alerts.filter((a) => a === 'broker-session-expired')).toHaveLength(1);
    expect(atSim()).toBe(placedBefore);
    expect(trading.broker.halted).toBeDefined();
    // the ticker was refused as well and stopped retrying
    await eventually(() => expect(trading.feed.connected).toBe(false));
    // told once: trading halted, log in again (no loop)
    expect(expiries).toHaveLength(1);
    expect(await halted()).toBe(1);

    // a new login resumes trading
    const fresh = await trading.broker.createSession(sim.admin.createRequestToken(), API_SECRET);
    trading.resumeWithAccessToken(fresh);
    await eventually(() => expect(trading.feed.connected).toBe(true));
    expect(await halted()).toBe(0);
    trading.runtime.system.tell(execution, { type: 'PlaceOrder', order: order(3) });
    await eventually(async () => expect((await troupeOrders()).find((o) => o.clientOrderId === order(3).clientOrderId)?.status).toBe('COMPLETE'), 10_000);
    expect(atSim()).toBe(placedBefore + 1);
  });
});
