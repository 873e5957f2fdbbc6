process.env.TZ = 'Asia/Kolkata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNewerView } from '../../../src/brokers/kite/kite-adapter.js';
import {
  KiteBroker,
  KiteInputError,
  KiteNetworkError,
  KiteSessionExpiredError,
  mapKiteError,
  orderUpdatesFromKite,
  QueueingRateLimiter,
} from '../../../src/brokers/kite/index.js';
import type { KiteSimulator } from '../../../src/sim/index.js';
import { API_KEY, API_SECRET, startSimulator } from '../../sim/support.js';

let sim: KiteSimulator;
let broker: KiteBroker;

beforeAll(async () => {
  sim = await startSimulator();
  broker = new KiteBroker({ apiKey: API_KEY, root: sim.url, retryBaseMs: 1 });
  await broker.createSession(sim.admin.createRequestToken(), API_SECRET);
});
afterAll(async () => {
  await sim.close();
});

describe('KiteBroker against the simulator', () => {
  it('maps the instrument dump into model instruments (empty row dropped, tick/lot sizes kept)', async () => {
    const instruments = await broker.instruments();
    expect(instruments.map((i) => i.symbol)).toEqual(sim.admin.instruments.map((i) => i.symbol));
    for (const instrument of instruments) {
      const expected = sim.admin.instruments.find((i) => i.symbol === instrument.symbol)!;
      expect(instrument).toMatchObject({ token: expected.token, tickSizePaise: expected.tickSizePaise, lotSize: expected.lotSize, exchange: 'NSE' });
    }
  });

  it('places with the client order id as tag and maps Kite errors to domain errors', async () => {
    const id = await broker.placeOrder({
      clientOrderId: 'TROUPE1',
      symbol: 'TCS',
      side: 'BUY',
      quantity: 1,
      orderType: 'LIMIT',
      product: 'MIS',
      validity: 'DAY',
      limitPricePaise: 3000_00,
    });
    expect((await broker.findByTag('TROUPE1'))?.brokerOrderId).toBe(id);
    await expect(
      broker.placeOrder({
        clientOrderId: 'TROUPE2',
        symbol: 'NOSUCH',
        side: 'BUY',
        quantity: 1,
        orderType: 'LIMIT',
        product: 'MIS',
        validity: 'DAY',
        limitPricePaise: 100,
      }),
    ).rejects.toBeInstanceOf(KiteInputError);
    await broker.modifyOrder(id, { limitPricePaise: 2990_00 });
    await broker.cancelOrder(id);
    expect((await broker.findByTag('TROUPE1'))?.status).toBe('CANCELLED');
  });

  it('resolves a placeOrder with an unknown outcome (5xx after processing) by its tag, sending it once', async () => {
    sim.admin.setFaults({ serverErrors: 1 });
    const id = await broker.placeOrder({
      clientOrderId: 'TROUPE3',
      symbol: 'TCS',
      side: 'BUY',
      quantity: 1,
      orderType: 'MARKET',
      product: 'MIS',
      validity: 'DAY',
    });
    const tagged = (await broker.orders()).filter((o) => o.clientOrderId === 'TROUPE3');
    expect(tagged).toHaveLength(1);
    expect(tagged[0]).toMatchObject({ brokerOrderId: id, status: 'COMPLETE', filledQuantity: 1 });
  });

  it('retries idempotent reads on 5xx', async () => {
    sim.admin.setFaults({ serverErrors: 2 });
    expect((await broker.orders()).length).toBeGreaterThan(0);
  });

  it('halts cleanly on TokenException and fails fast afterwards (no loop)', async () => {
    const other = await startSimulator();
    try {
      const local = new KiteBroker({ apiKey: API_KEY, root: other.url, retryBaseMs: 1 });
      await local.createSession(other.admin.createRequestToken(), API_SECRET);
      other.admin.expireSessions();
      await expect(local.orders()).rejects.toBeInstanceOf(KiteSessionExpiredError);
      expect(local.halted?.message).toMatch(/log in again/);
      await expect(
        local.placeOrder({
          clientOrderId: 'X1',
          symbol: 'TCS',
          side: 'BUY',
          quantity: 1,
          orderType: 'LIMIT',
          product: 'MIS',
          validity: 'DAY',
          limitPricePaise: 3000_00,
        }),
      ).rejects.toBeInstanceOf(KiteSessionExpiredError);
      await local.createSession(other.admin.createRequestToken(), API_SECRET);
      expect(local.halted).toBeUndefined();
      expect(await local.orders()).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('pure parts', () => {
  it('maps every Kite error type; unknown bodies become general errors', () => {
    expect(mapKiteError({ error_type: 'NetworkException', message: 'Too many requests' })).toBeInstanceOf(KiteNetworkError);
    expect(mapKiteError({ error_type: 'InputException', message: 'x' }).retryable).toBe(false);
    for (const type of [
      'TokenException',
      'PermissionException',
      'OrderException',
      'MarginException',
      'HoldingException',
      'UserException',
      'DataException',
      'GeneralException',
      'Weird',
    ]) {
      expect(mapKiteError({ error_type: type, message: 'm' }).kiteErrorType).toBe(type === 'Weird' ? 'Weird' : type);
    }
    expect(mapKiteError('garbage').kiteErrorType).toBe('GeneralException');
  });

  it('turns Kite snapshots into order updates and ignores out-of-order ones', () => {
    const view = { brokerOrderId: '1', clientOrderId: 'T', status: 'OPEN', filledQuantity: 4, averagePricePaise: 100_00, statusMessage: null };
    expect(orderUpdatesFromKite(view, 0, 0, 5)).toEqual([
      { kind: 'accepted', brokerOrderId: '1', status: 'OPEN', atMs: 5 },
      { kind: 'filled', quantity: 4, pricePaise: 100_00, atMs: 5 },
    ]);
    expect(orderUpdatesFromKite({ ...view, filledQuantity: 2 }, 4, 400_00, 6)).toEqual([]);
    expect(orderUpdatesFromKite({ ...view, status: 'REJECTED', statusMessage: 'no' }, 0, 0, 7)).toEqual([{ kind: 'rejected', reason: 'no', atMs: 7 }]);
  });

  it('orders Kite snapshots: fills never go back, a final status is never undone', () => {
    const v = (status: string, filledQuantity: number) => ({
      brokerOrderId: '1',
      clientOrderId: 'T',
      status,
      filledQuantity,
      averagePricePaise: 100,
      statusMessage: null,
    });
    expect(isNewerView(undefined, v('OPEN', 0))).toBe(true);
    expect(isNewerView(v('OPEN', 0), v('UPDATE', 2))).toBe(true);
    expect(isNewerView(v('UPDATE', 2), v('OPEN', 0))).toBe(false);
    expect(isNewerView(v('COMPLETE', 5), v('OPEN', 5))).toBe(false);
    expect(isNewerView(v('OPEN', 5), v('CANCELLED', 5))).toBe(true);
    expect(isNewerView(v('CANCELLED', 2), v('COMPLETE', 5))).toBe(true);
  });

  it('queues order calls beyond the per-second limit instead of dropping them', async () => {
    let now = 0;
    const slept: number[] = [];
    const limiter = new QueueingRateLimiter(
      { perSecond: 2, perMinute: 100 },
      () => now,
      (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    );
    const started: Array<[number, number]> = [];
    await Promise.all([1, 2, 3].map((n) => limiter.run(() => Promise.resolve(started.push([n, now])))));
    expect(started).toEqual([
      [1, 0],
      [2, 0],
      [3, 1000],
    ]);
    expect(slept).toEqual([1000]);
  });
});
